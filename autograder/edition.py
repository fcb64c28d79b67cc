"""`course student-edition OUT`: what students get, with no answer in it.

OUT receives::

    notebooks/<assignment>/      the release notebooks (and the course_blocks.py of
                                 the earlier answers a notebook builds on)
    numpy_deep_learning_course_student-<version>-py3-none-any.whl
                                 the package the notebooks import: checks, data loaders,
                                 the bundled dataset, Solver, plots, stored expected values
    README.txt                   how to install it, and what is inside

The wheel is the ``assignments`` package without the modules that hold
answers (``EXCLUDED``), and without ``autograder`` (hidden cases, mutants,
the grader).  Before anything is written, every file that goes out is
scanned: a definition of any graded name with a real body, outside the
``course_blocks.py`` of a notebook whose earlier answers it is, stops the
build (``Leak``).  Notebooks whose answers still live in the package
(``NOT_YET``) cannot be part of an edition yet.
"""

from __future__ import annotations

import ast
import base64
import fnmatch
import hashlib
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .answers import BLOCKS_FILE, notebook_answers
from .course import CourseError, course_root, existing_assignments

DIST = "numpy_deep_learning_course_student"
# package paths (relative to assignments/) that hold answers, and why
EXCLUDED = {
    "fast/*": "notebook 4's faster update rules (answers of notebook 4)",
}
# notebooks whose answers the package still holds (name -> where): no edition can include
# them until their answers live only in their source notebook; none left
NOT_YET: dict = {}
REQUIRES = ["numpy>=1.24", "matplotlib>=3.7", "tqdm>=4.60", "jupyterlab>=4", "ipykernel>=6"]


class Leak(CourseError):
    """A file of the student edition defines a graded function."""


@dataclass(frozen=True)
class Edition:
    out: Path
    wheel: Path
    notebooks: list
    assignments: list


def graded_definitions(root: Path) -> dict:
    """name -> assignment, for every function and class an answer cell defines."""
    out = {}
    for a in existing_assignments(root):
        for ans in notebook_answers(a, root):
            tree = ast.parse(ans.source)
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    out.setdefault(node.name, a)
    return out


def _trivial(node) -> bool:
    """A body that implements nothing: a docstring, pass, ``...`` or a raise."""
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return all(isinstance(s, (ast.Pass, ast.Raise)) or
               (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)) for s in body)


def definitions(text: str, names) -> list[str]:
    """The graded ``names`` that ``text`` defines with a real body (at any depth)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    return sorted({n.name for n in ast.walk(tree)
                   if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                   and n.name in names and not _trivial(n)})


def _excluded(rel: str) -> str | None:
    for pattern, why in EXCLUDED.items():
        if fnmatch.fnmatch(rel, pattern):
            return why
    return None


def package_files(package: Path) -> dict:
    """relative path (from the package's parent) -> path, of what the wheel holds."""
    out = {}
    for path in sorted(package.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        rel = path.relative_to(package).as_posix()
        if _excluded(rel):
            continue
        out[f"{package.name}/{rel}"] = path
    return out


def scan(files: dict, graded: dict, allowed=()) -> list[str]:
    """'file: name (assignment)' for every graded definition in ``files`` (rel -> path),
    except those of the assignments in ``allowed`` (rel -> set of assignments)."""
    found = []
    for rel, path in files.items():
        if not rel.endswith(".py"):
            continue
        ok = dict(allowed).get(rel, set())
        for name in definitions(path.read_text(encoding="utf-8"), graded):
            if graded[name] not in ok:
                found.append(f"{rel}: {name} ({graded[name]})")
    return found


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def write_wheel(files: dict, out: Path) -> Path:
    """A pure-Python wheel of ``files`` (rel -> path), written without any build tool."""
    info = f"{DIST}-{__version__}.dist-info"
    meta = "\n".join(["Metadata-Version: 2.1", f"Name: {DIST}", f"Version: {__version__}",
                      "Summary: The student edition of the numpy deep-learning course "
                      "(no answers)", "Requires-Python: >=3.10",
                      *[f"Requires-Dist: {r}" for r in REQUIRES]]) + "\n"
    wheel_meta = ("Wheel-Version: 1.0\nGenerator: course student-edition\n"
                  "Root-Is-Purelib: true\nTag: py3-none-any\n")
    path = out / f"{DIST}-{__version__}-py3-none-any.whl"
    records = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        def add(name, data: bytes):
            info_ = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info_.compress_type = zipfile.ZIP_DEFLATED
            info_.external_attr = 0o644 << 16
            zf.writestr(info_, data)
            records.append(f"{name},{_record_hash(data)},{len(data)}")

        for rel, src in sorted(files.items()):
            add(rel, src.read_bytes())
        add(f"{info}/METADATA", meta.encode())
        add(f"{info}/WHEEL", wheel_meta.encode())
        records.append(f"{info}/RECORD,,")
        zf.writestr(zipfile.ZipInfo(f"{info}/RECORD", date_time=(2020, 1, 1, 0, 0, 0)),
                    "\n".join(records) + "\n")
    return path


README = """The student edition of the numpy deep-learning course
===================================================

Install the package (into a virtual environment, or on a JupyterHub image):

    pip install {wheel}

Then open the notebooks in JupyterLab, one folder per assignment:

    jupyter lab notebooks/

Inside: the notebooks {assignments}, and the package they import (checks,
data loaders, the bundled dataset, the Solver, plots).  It holds no answer of
any graded function.  A notebook that builds on earlier notebooks' answers
carries them in its own folder (course_blocks.py): your instructor releases it
after the deadlines of the notebooks it builds on.
"""


def student_edition(out: Path, assignments=None, root: Path | None = None,
                    announce=print) -> Edition:
    """Build the student edition of ``assignments`` (default: every one that can be) in
    ``out``; refuses, before writing anything, when a file would hold an answer."""
    import assignments as package

    from .release import release

    root = root or course_root()
    wanted = list(assignments or [a for a in existing_assignments(root) if a not in NOT_YET])
    blocked = [a for a in wanted if a in NOT_YET]
    if blocked:
        raise CourseError("; ".join(f"{a} cannot be in a student edition yet: {NOT_YET[a]}"
                                    for a in blocked))
    out = Path(out).expanduser().resolve()
    package_dir = Path(package.__file__).resolve().parent
    for own in (root.resolve(), root.resolve() / "source", root.resolve() / "release",
                package_dir):
        if out == own or own in out.parents and own != root.resolve():
            raise CourseError(f"OUT {out} would overwrite {own}; choose a folder of its own")
    release(wanted, root, announce)
    graded = graded_definitions(root)
    files = package_files(package_dir)
    notebook_files, allowed = {}, {}
    for a in wanted:
        for path in sorted((root / "release" / a).iterdir()):
            if path.is_file():
                rel = f"notebooks/{a}/{path.name}"
                notebook_files[rel] = path
                if path.name == BLOCKS_FILE:   # earlier notebooks' answers, by design
                    allowed[rel] = {b for b in existing_assignments(root) if b < a}
    leaks = scan(files, graded) + scan(notebook_files, graded, allowed)
    if leaks:
        raise Leak("the student edition would hold answers: " + "; ".join(leaks[:20]))
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for rel, src in notebook_files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, out / rel)
    wheel = write_wheel(files, out)
    (out / "README.txt").write_text(README.format(wheel=wheel.name,
                                                  assignments=", ".join(wanted)))
    announce(f"student edition of {', '.join(wanted)} in {out}: {wheel.name} "
             f"({len(files)} files; left out: {', '.join(sorted(set(EXCLUDED.values())))})")
    return Edition(out, wheel, sorted(out / rel for rel in notebook_files), wanted)
