"""Where the course lives, which assignments it has, and its secret grading seed.

The course directory is, as for nbgrader, the folder holding
``nbgrader_config.py``: ``--course-dir`` (``set_course_dir``), else the
environment variable ``COURSE_DIR``, else the nearest folder holding
``nbgrader_config.py`` from the current directory upwards (as git finds
``.git``), so that ``course`` works from anywhere inside the course and a
notebook run in ``source/<assignment>/`` or by ``nbgrader autograde`` in
``autograded/<student>/<assignment>/`` finds its course.

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


class CourseError(SystemExit):
    """A mistake in what the instructor asked for: ``course`` prints it as one line."""


class NotACourse(CourseError):
    pass


class UnknownAssignment(CourseError):
    pass


def check_assignments(names, root: Path | None = None) -> list[str]:
    """``names`` if every one is an assignment of the course, else ``UnknownAssignment``."""
    known = existing_assignments(root)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UnknownAssignment(
            f"unknown assignment{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(n) for n in unknown)}; this course has: "
            f"{', '.join(known) or '(none: source/ is empty)'}")
    return list(names)


def set_course_dir(path) -> Path:
    """Make ``path`` the course directory of this process (and its children)."""
    resolved = Path(path).expanduser().resolve()
    os.environ[ENV] = os.environ[_SET_BY_OPTION] = str(resolved)
    return resolved


CONFIG = "nbgrader_config.py"
_SET_BY_OPTION = "COURSE_DIR_FROM_OPTION"   # marks $COURSE_DIR as set by --course-dir


def find_course(start: Path) -> Path | None:
    """The nearest folder from ``start`` upwards that holds ``nbgrader_config.py``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG).is_file():
            return folder
    return None


def course_root() -> Path:
    """The course directory: $COURSE_DIR (or --course-dir), else found upwards from here."""
    env = os.environ.get(ENV)
    if env:
        root = Path(env).expanduser().resolve()
        if not (root / CONFIG).is_file():
            how = "--course-dir" if os.environ.get(_SET_BY_OPTION) == env else f"${ENV}"
            raise NotACourse(f"{how} {env} is not a course directory (it has no {CONFIG})")
        return root
    here = Path.cwd()
    root = find_course(here)
    if root is None:
        raise NotACourse(f"no course directory here: neither {here.resolve()} nor a folder above "
                         f"it holds {CONFIG}; run `course` inside the course directory, pass "
                         f"--course-dir DIR, or set ${ENV}")
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
