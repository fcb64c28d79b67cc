"""`course release`: regenerate release/ (and what else is made from the answers) from source/.

nbgrader's generate_assignment runs in a scratch course directory and only
the student notebooks are copied back, rewritten by nbformat, so the output
depends on source/ alone (no timestamps, outputs or execution counts).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nbformat

from .answers import BLOCKS_FILE, describe_revealed, write_blocks, write_expected
from .course import course_root, existing_assignments
from .nbgrader_run import run_nbgrader


def generate(assignments, source_root: Path, out_root: Path) -> list[Path]:
    """Generate student notebooks of ``assignments`` from source_root/source into out_root."""
    written = []
    with tempfile.TemporaryDirectory(prefix="course-release-") as tmp:
        tmp = Path(tmp)
        shutil.copy(source_root / "nbgrader_config.py", tmp / "nbgrader_config.py")
        for a in assignments:
            shutil.copytree(source_root / "source" / a, tmp / "source" / a,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
            run_nbgrader(tmp, "generate_assignment", a, "--force", "--no-db")
            out = out_root / a
            if out.exists():
                shutil.rmtree(out)
            out.mkdir(parents=True)
            for nb_path in sorted((tmp / "release" / a).glob("*.ipynb")):
                nb = nbformat.read(str(nb_path), as_version=4)
                target = out / nb_path.name
                target.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
                written.append(target)
            blocks = source_root / "source" / a / BLOCKS_FILE
            if blocks.is_file():   # the earlier answers the notebook builds on
                shutil.copy(blocks, out / BLOCKS_FILE)
                written.append(out / BLOCKS_FILE)
    return written


def release(assignments=None, root: Path | None = None, announce=print) -> list[Path]:
    """Regenerate what is made from the answers' one home, then release/ from source/.

    For each assignment: its ``course_blocks.py`` (the earlier answers it builds
    on), the stored expected values of its visible checks, and its student
    notebooks; says which earlier answers each release reveals.
    """
    root = root or course_root()
    assignments = assignments or existing_assignments(root)
    made = []
    for a in assignments:
        path = write_blocks(a, root)
        made += [path] if path else []
        stored = write_expected(a, root)
        made += [stored] if stored else []
        note = describe_revealed(a, root)
        if note:
            announce(note)
    return made + generate(assignments, root, root / "release")
