"""`course release`: regenerate release/ from source/ with nbgrader.

nbgrader's generate_assignment runs in a scratch course directory and only
the student notebooks are copied back, rewritten by nbformat, so the output
depends on source/ alone (no timestamps, outputs or execution counts).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nbformat

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
    return written


def release(assignments=None, root: Path | None = None) -> list[Path]:
    root = root or course_root()
    assignments = assignments or existing_assignments(root)
    return generate(assignments, root, root / "release")
