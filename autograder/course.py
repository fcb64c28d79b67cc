"""Where the course lives and which assignments it has."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def course_root() -> Path:
    """The course directory: $COURSE_ROOT, else the repository this package is in."""
    env = os.environ.get("COURSE_ROOT")
    return Path(env).resolve() if env else PACKAGE_ROOT


def existing_assignments(root: Path | None = None) -> list[str]:
    """Assignment ids that have a folder in source/, in course order (ids sort by number)."""
    root = root or course_root()
    source = root / "source"
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))


def check_assignment(name: str, root: Path | None = None) -> str:
    available = existing_assignments(root)
    if name not in available:
        raise SystemExit(f"unknown assignment {name!r}; this course has: {', '.join(available)}")
    return name


def source_notebooks(assignment: str, root: Path | None = None) -> list[Path]:
    root = root or course_root()
    return sorted((root / "source" / assignment).glob("*.ipynb"))
