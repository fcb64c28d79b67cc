"""Finding submissions and copying them without trusting anything about them.

SUBMISSIONS/<student>/<assignment>/ holds what a student handed in.  A
student id is a folder name that nbgrader will use as a path and as a glob
pattern, so only safe names are accepted (``STUDENT_ID``); others are
refused with a row saying why.  Nothing is followed through a symbolic
link: a linked student or assignment folder is refused, a linked notebook is
not copied (the job reports it), and only regular files and folders are
copied, within ``MAX_FILES`` files and ``MAX_BYTES`` bytes.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")
MAX_FILES = 500
MAX_BYTES = 200 * 2**20


@dataclass
class Found:
    student: str
    assignment: str
    folder: Path


@dataclass
class Refused:
    name: str
    assignment: str
    reason: str


def valid_student_id(name: str) -> bool:
    return bool(STUDENT_ID.match(name)) and name not in (".", "..")


def discover(submissions: Path, assignments: list[str]) -> tuple[list[Found], list[Refused]]:
    """Every usable submission folder, and the ones refused (with the reason)."""
    if not submissions.is_dir():
        raise SystemExit(f"{submissions} is not a folder of <student>/<assignment>/ submissions")
    found, refused = [], []
    for student_dir in sorted(submissions.iterdir()):
        name = student_dir.name
        if student_dir.is_symlink():
            refused += [Refused(name, a, "the student folder is a symbolic link")
                        for a in assignments]
            continue
        if not student_dir.is_dir():
            continue
        for a_dir in sorted(student_dir.iterdir()):
            if a_dir.name not in assignments:
                continue
            if not valid_student_id(name):
                refused.append(Refused(name, a_dir.name, "the folder name is not a usable "
                                       "student id (letters, digits and . _ @ + - only, "
                                       "starting with a letter or digit, at most 64)"))
            elif a_dir.is_symlink() or not a_dir.is_dir():
                refused.append(Refused(name, a_dir.name,
                                       "the assignment folder is a symbolic link"))
            else:
                found.append(Found(name, a_dir.name, a_dir))
    return found, refused


@dataclass
class Copied:
    skipped: list = field(default_factory=list)   # "name (why)" of what was not copied


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def safe_copy(src: Path, dst: Path) -> Copied:
    """Copy regular files and folders of ``src`` into ``dst`` (which must not exist)."""
    result, budget = Copied(), {"files": MAX_FILES, "bytes": MAX_BYTES}
    dst.mkdir(parents=True)
    _copy_tree(src, dst, src, result, budget)
    return result


def _copy_tree(src: Path, dst: Path, top: Path, result: Copied, budget: dict):
    try:
        entries = sorted(os.scandir(src), key=lambda e: e.name)
    except OSError as err:
        result.skipped.append(f"{src.name} ({err.strerror})")
        return
    for entry in entries:
        rel = os.path.relpath(entry.path, top)
        if entry.name in (".ipynb_checkpoints", "__pycache__"):
            continue
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISDIR(mode):
            (dst / entry.name).mkdir()
            _copy_tree(Path(entry.path), dst / entry.name, top, result, budget)
        elif stat.S_ISREG(mode):
            size = entry.stat(follow_symlinks=False).st_size
            if budget["files"] <= 0 or size > budget["bytes"]:
                result.skipped.append(f"{rel} (over the {MAX_FILES} files / "
                                      f"{MAX_BYTES // 2**20} MB limit)")
                continue
            budget["files"] -= 1
            budget["bytes"] -= size
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as fin, open(dst / entry.name, "wb") as fout:
                fout.write(fin.read(size + 1)[:size])
        else:
            result.skipped.append(f"{rel} ({_kind(mode)})")
