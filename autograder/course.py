"""Where the course lives, which assignments it has, and its secret grading seed.

The course directory is, as for nbgrader, the folder holding
``nbgrader_config.py``: ``--course-dir`` (``set_course_dir``), else the
environment variable ``COURSE_DIR``, else the current directory.

Each course has its own grading seed, drawn once from the operating
system's random source the first time the course is graded and kept in
``grading_seed.secret`` in the course directory (readable by the instructor
only, git-ignored, outside every student's and every sandbox's reach).
Hidden cases are drawn from it, so they differ between courses and years.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ENV = "COURSE_DIR"
SECRET_FILE = "grading_seed.secret"


class NotACourse(SystemExit):
    pass


def set_course_dir(path) -> Path:
    """Make ``path`` the course directory of this process (and its children)."""
    resolved = Path(path).expanduser().resolve()
    os.environ[ENV] = str(resolved)
    return resolved


def course_root() -> Path:
    """The course directory: $COURSE_DIR, else the current directory."""
    env = os.environ.get(ENV)
    root = Path(env).expanduser().resolve() if env else Path.cwd().resolve()
    if not (root / "nbgrader_config.py").is_file():
        how = f"${ENV}={env}" if env else f"the current directory ({root})"
        raise NotACourse(f"{how} is not a course directory (it has no nbgrader_config.py); "
                         "run `course` from the course directory or pass --course-dir DIR")
    return root


def existing_assignments(root: Path | None = None) -> list[str]:
    """Assignment ids that have a folder in source/, in course order (ids sort by number)."""
    root = root or course_root()
    source = root / "source"
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))


def source_notebooks(assignment: str, root: Path | None = None) -> list[Path]:
    root = root or course_root()
    return sorted((root / "source" / assignment).glob("*.ipynb"))


def course_seed(course_dir: Path, create: bool = True) -> int | None:
    """The course's secret grading seed (created on first use when ``create``)."""
    path = Path(course_dir) / SECRET_FILE
    if path.is_file():
        text = path.read_text().strip()
        if text.isdigit():
            return int(text)
    if not create:
        return None
    seed = secrets.randbelow(2**63)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"{seed}\n")
    return seed
