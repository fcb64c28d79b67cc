"""The one home of every answer, and what is generated from it.

Every graded function or class is written once, by hand, in its source
notebook's answer cell (between ``### BEGIN SOLUTION`` and ``### END
SOLUTION``: nbgrader's convention, where the instructor edits, tests and
releases it).  Everything else that needs an answer gets it from there:

* the grader's expected values, recipes, mutants and benchmarks execute the
  answer cells (``autograder.notebooks.reference_namespace``);
* a notebook that builds on earlier notebooks' answers imports them from
  ``course_blocks``, a module generated here into ``source/<id>/`` (and so
  released with that notebook by nbgrader): the answer cells of earlier
  notebooks that define the names the notebook imports from it, with
  everything those cells use, in course order.  Releasing a notebook thus
  reveals exactly those earlier answers (``revealed``), which `course
  release` prints, so an instructor releases it after their deadlines.

``course release`` writes the modules; ``tests/test_answers.py`` fails when a
generated copy is stale.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import nbformat
from assignments.static import python_source

from assignments.blocks import GENERATED_MODULE

from .cells import grade_id, is_answer, source
from .course import course_root, existing_assignments, source_notebooks
from .notebooks import BLOCKS_FILE, strip_solution_markers

BLOCKS = GENERATED_MODULE          # the module a notebook imports earlier answers from


@dataclass(frozen=True)
class Answer:
    assignment: str
    grade_id: str
    names: tuple        # the top-level names the cell defines
    source: str         # the cell's code, markers stripped
    uses: frozenset     # the global names its code looks up


def defined_and_used(code: str) -> tuple[tuple, frozenset]:
    """(the top-level names ``code`` defines, the global names it looks up)."""
    tree = ast.parse(code)
    defined = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.append(node.name)
        elif isinstance(node, ast.Assign):
            defined += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined += [(a.asname or a.name).split(".")[0] for a in node.names]
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return tuple(defined), frozenset(used - set(defined))


def answers_of(nb, assignment: str) -> list[Answer]:
    """The answer cells of one source notebook, in order."""
    out = []
    for cell in nb.cells:
        if is_answer(cell):
            code = strip_solution_markers(source(cell))
            names, uses = defined_and_used(code)
            out.append(Answer(assignment, grade_id(cell), names, code, uses))
    return out


def notebook_answers(assignment: str, root: Path | None = None) -> list[Answer]:
    """The answer cells of an assignment's source notebooks, in order."""
    out = []
    for path in source_notebooks(assignment, root or course_root()):
        out += answers_of(nbformat.read(str(path), as_version=4), assignment)
    return out


def blocks_for(target: str, answers: list[Answer], earlier: str = "", also=()) -> str:
    """Python source of the building blocks a check of ``target`` runs on: the notebook's
    ``course_blocks`` text (``earlier``) and the notebook's own answers that ``target``'s
    answer uses (directly or not) and the names in ``also`` (the blocks its cases name),
    but never ``target``'s own.  The grader hands them only
    to the graded call that checks ``target`` (``assignments.adapters``)."""
    own = [a for a in answers if target in a.names]
    others = [a for a in answers if target not in a.names]
    uses = set(also).union(*(a.uses for a in own)) if own else set(also)
    defined = {n for a in others for n in a.names}
    wanted = closure(sorted(uses & defined), others) if uses & defined else []
    if not wanted:
        return earlier   # often "": nothing to compile in the graded call's process
    parts = [earlier] if earlier else ["import numpy as np\n"]
    parts += [a.source for a in wanted]
    return "\n\n".join(parts)


def imported_blocks(assignment: str, root: Path | None = None) -> list[str]:
    """The names an assignment's source notebooks import from ``course_blocks``."""
    names = []
    for path in source_notebooks(assignment, root or course_root()):
        for cell in nbformat.read(str(path), as_version=4).cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(python_source(strip_solution_markers(source(cell))))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module == BLOCKS:
                    names += [a.name for a in node.names if a.name not in names]
    return names


def earlier_answers(assignment: str, root: Path | None = None) -> list[Answer]:
    """Every answer of the notebooks before ``assignment``, in course order."""
    root = root or course_root()
    out = []
    for a in existing_assignments(root):
        if a >= assignment:
            break
        out += notebook_answers(a, root)
    return out


def closure(names, available: list[Answer]) -> list[Answer]:
    """The answers that define ``names`` and everything they use, in course order.

    A name defined twice (notebook 5 extends notebook 4's network) comes from
    the latest notebook that defines it.
    """
    by_name = {}
    for ans in available:
        for n in ans.names:
            by_name[n] = ans
    missing = [n for n in names if n not in by_name]
    if missing:
        raise KeyError(f"no earlier answer defines {', '.join(missing)}")
    wanted, todo = set(), list(names)
    while todo:
        ans = by_name[todo.pop()]
        if ans in wanted:
            continue
        wanted.add(ans)
        todo += [n for n in ans.uses if n in by_name and by_name[n] not in wanted]
    return [a for a in available if a in wanted]


def revealed(assignment: str, root: Path | None = None) -> list[Answer]:
    """The earlier answers that releasing ``assignment`` hands to students."""
    names = imported_blocks(assignment, root)
    return closure(names, earlier_answers(assignment, root)) if names else []


def blocks_module(assignment: str, root: Path | None = None) -> str | None:
    """The text of ``source/<assignment>/course_blocks.py`` (None: the notebook needs none)."""
    answers = revealed(assignment, root)
    if not answers:
        return None
    parts = [f'"""Earlier notebooks\' answers that {assignment} builds on.\n\n'
             "Generated by `course release` from the answer cells of the source notebooks\n"
             "(their one home): do not edit.  Releasing this notebook hands these answers to\n"
             'students, so release it after the deadlines of the notebooks they come from.\n"""',
             "import numpy as np"]
    for ans in answers:
        parts.append(f"# --- {ans.assignment}, answer cell {ans.grade_id} ---\n"
                     f"{ans.source.strip()}")
    return "\n\n\n".join(parts) + "\n"


def write_blocks(assignment: str, root: Path | None = None) -> Path | None:
    """Write (or remove) the assignment's ``course_blocks.py`` in source/; returns its path."""
    root = root or course_root()
    path = root / "source" / assignment / BLOCKS_FILE
    text = blocks_module(assignment, root)
    if text is None:
        path.unlink(missing_ok=True)
        return None
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def describe_revealed(assignment: str, root: Path | None = None) -> str | None:
    """One line for `course release`: which earlier answers releasing this notebook reveals."""
    answers = revealed(assignment, root)
    if not answers:
        return None
    by = {}
    for ans in answers:
        by.setdefault(ans.assignment, []).extend(ans.names)
    listed = "; ".join(f"{a}: {', '.join(n)}" for a, n in by.items())
    return (f"releasing {assignment} reveals earlier answers ({listed}): release it after "
            f"the deadline{'s' if len(by) > 1 else ''} of {', '.join(by)}")


# --------------------------------------------------------------------------
# the visible cases' stored expected values (assignments.expected)
# --------------------------------------------------------------------------

def expected_values(assignment: str, root: Path | None = None) -> dict:
    """key -> value of every stored expected value of ``assignment``, computed afresh from
    the answers: the values declared when the check modules are imported and those the
    visible cases of its tasks declare when they are built."""
    import importlib
    import pkgutil

    import assignments.notebooks as helpers
    from assignments.expected import Stored, collecting

    from . import tasks as _tasks
    from .notebooks import reference_namespace

    prefix = _tasks.module_name(assignment)
    for info in pkgutil.iter_modules(helpers.__path__):
        if info.name == prefix or info.name.startswith(prefix + "_"):
            importlib.import_module(f"{helpers.__name__}.{info.name}")
    namespace, values = {}, {}

    def resolve(owner, key, computed):
        if owner != assignment:
            raise KeyError(f"{assignment}'s cases use a stored value of {owner}")
        if key not in values:
            values[key] = compute(computed, namespace)
        return values[key]

    from assignments.blocks import building_blocks

    namespace.update(reference_namespace(assignment, root))
    # the visible cases of a notebook not yet converted still compute with library code that
    # is made of earlier notebooks' answers: those come from the same reference namespace
    with collecting(resolve), building_blocks(namespace):
        for stored in Stored.registry:
            if stored.assignment == assignment:
                for key in list(stored.computations):
                    stored[key]
        if _tasks.has_tasks(assignment):
            for task in _tasks.load(assignment).tasks.values():
                task.visible()
    return dict(sorted(values.items()))


def compute(computed, namespace: dict):
    """A stored value from the reference: ``Computed.function`` called on its arguments,
    with the reference's functions as the building blocks (``assignments.adapters``)."""
    import importlib

    from assignments.adapters import building_blocks
    from assignments.cases import resolve_refs

    from assignments.expected import Computed

    def inner(value):
        if isinstance(value, Computed):
            return compute(value, namespace)
        if isinstance(value, (tuple, list)):
            return type(value)(inner(v) for v in value)
        if isinstance(value, dict):
            return {k: inner(v) for k, v in value.items()}
        return value

    name = computed.function
    if ":" in name:
        module, _, attr = name.partition(":")
        fn = getattr(importlib.import_module(module), attr)
    else:
        fn = namespace[name]
    args = resolve_refs(inner(computed.args), namespace)
    kwargs = resolve_refs(inner(dict(computed.kwargs)), namespace)
    with building_blocks(namespace):
        out = fn(*args, **kwargs)
    for item in computed.items:
        out = out[item]
    return out


def _same(a, b) -> bool:
    import numpy as np

    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and \
            all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (np.ndarray, np.generic)) or isinstance(b, (np.ndarray, np.generic)):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and \
            np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    return type(a) is type(b) and (a == b or (a != a and b != b))


def stale_expected(assignment: str, root: Path | None = None) -> list[str]:
    """The stored values of ``assignment`` that differ from what the answers give now."""
    from assignments.expected import load_stored

    return _stale(expected_values(assignment, root), load_stored(assignment))


def _stale(fresh: dict, stored: dict) -> list[str]:
    return sorted(k for k in set(fresh) | set(stored)
                  if k not in fresh or k not in stored or not _same(fresh[k], stored[k]))


def write_expected(assignment: str, root: Path | None = None) -> Path | None:
    """Recompute the stored expected values of ``assignment``; write the file if they changed."""
    from assignments.expected import stored_path, write

    fresh = expected_values(assignment, root)
    path = stored_path(assignment)
    if not fresh:
        if path.exists():
            path.unlink()
        return None
    from assignments.expected import load_stored

    if _stale(fresh, load_stored(assignment)):
        write(path, fresh)
    return path
