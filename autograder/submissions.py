"""Finding submissions and reading them without trusting anything about them.

SUBMISSIONS/<student>/<assignment>/ holds what a student handed in.  Every
student folder gets an entry for every assignment graded in the run: one to
grade, or one that says why not (``Reason``: a student id nbgrader cannot
use, a linked folder, a wrong layout such as notebooks directly in the
student folder, or nothing handed in).  A student id is a folder name that
nbgrader will use as a path and as a glob pattern, so only safe names are
accepted (``STUDENT_ID``).

``read_folder`` reads one submission folder: iteratively (no recursion),
never through a symbolic link, regular files only, within limits on depth,
entries, files and bytes; whatever it cannot or may not read is listed as
skipped with the reason, never raised.  It runs inside the student's
boundary (``autograder.coordinator``), so even an unexpected failure costs
that student's rows only.
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
MAX_DEPTH = 16
MAX_ENTRIES = 5_000
MAX_TIMESTAMP = 200


@dataclass(frozen=True)
class Reason:
    """Why a student's assignment is not graded from its code."""

    kind: str    # "bad-id" | "link" | "wrong-layout" | "not-submitted"
    text: str

    @property
    def status(self) -> str:
        return "missing" if self.kind == "not-submitted" else "refused"


@dataclass
class Entry:
    student: str
    assignment: str
    folder: Path | None = None
    reason: Reason | None = None     # None: graded from ``folder``


@dataclass
class Roster:
    entries: list
    notes: list = field(default_factory=list)   # one line each, for the instructor

    @property
    def assignments(self) -> list[str]:
        return sorted({e.assignment for e in self.entries})


def valid_student_id(name: str) -> bool:
    return bool(STUDENT_ID.match(name)) and name not in (".", "..")


BAD_ID = Reason("bad-id", "the folder name is not a usable student id (letters, digits and "
                          ". _ @ + - only, starting with a letter or digit, at most 64)")


def _wrong_layout(student_dir: Path, assignment: str, known) -> Reason:
    """Not handed in, or handed in with the wrong layout (the message says which)."""
    try:
        names = sorted(e.name for e in os.scandir(student_dir))[:50]
    except OSError as err:
        return Reason("wrong-layout", f"the student folder cannot be read ({err.strerror})")
    notebooks = [n for n in names if n.endswith(".ipynb")]
    others = [n for n in names if n not in known and not n.startswith(".") and
              not n.endswith(".ipynb")]
    if notebooks:
        return Reason("wrong-layout", f"expected {student_dir.name}/{assignment}/<notebook>"
                                      f".ipynb; found {', '.join(notebooks[:3])} directly in "
                                      "the student folder")
    if not [n for n in names if n in known] and others:
        return Reason("wrong-layout", f"expected {student_dir.name}/{assignment}/; the student "
                                      f"folder holds {', '.join(others[:3])}")
    return Reason("not-submitted", f"{assignment} was not submitted")


def discover(submissions: Path, assignments: list[str], only: list[str] | None = None) -> Roster:
    """Every student folder's entries for the assignments graded in this run.

    The assignments graded are ``only`` when given, else every assignment of
    ``assignments`` that some student folder holds.
    """
    if not submissions.is_dir():
        raise SystemExit(f"{submissions} is not a folder of <student>/<assignment>/ submissions")
    students, notes = [], []
    with os.scandir(submissions) as it:
        for entry in sorted(it, key=lambda e: e.name)[:MAX_ENTRIES]:
            if entry.is_symlink() or entry.is_dir(follow_symlinks=False):
                students.append(Path(entry.path))
            elif not entry.name.startswith("."):
                notes.append(f"ignored {entry.name!r}: not a student folder")
    handed = {}
    for student_dir in students:
        if student_dir.is_symlink() or not valid_student_id(student_dir.name):
            continue
        try:
            for a_dir in os.scandir(student_dir):
                if a_dir.name in assignments:
                    handed.setdefault(student_dir.name, {})[a_dir.name] = Path(a_dir.path)
        except OSError:
            pass
    graded = list(only) if only else sorted({a for d in handed.values() for a in d})
    entries = []
    for student_dir in students:
        name = student_dir.name
        for a in graded:
            if student_dir.is_symlink():
                entries.append(Entry(name, a, reason=Reason(
                    "link", "the student folder is a symbolic link")))
            elif not valid_student_id(name):
                entries.append(Entry(name, a, reason=BAD_ID))
            elif a not in handed.get(name, {}):
                entries.append(Entry(name, a, reason=_wrong_layout(student_dir, a, assignments)))
            elif handed[name][a].is_symlink() or not handed[name][a].is_dir():
                entries.append(Entry(name, a, reason=Reason(
                    "link", "the assignment folder is a symbolic link")))
            else:
                entries.append(Entry(name, a, handed[name][a]))
    return Roster(entries, notes)


# --------------------------------------------------------------------------
# reading one submission folder
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Skipped:
    path: str
    why: str      # "symbolic link" | "named pipe" | "socket" | "device" | "special file" |
                  # "over the limits" | "unreadable" | "too deep"

    def __str__(self):
        return f"{self.path} ({self.why})"


@dataclass
class Handed:
    """What one folder holds: its top-level notebooks, what was skipped, its timestamp."""

    notebooks: dict = field(default_factory=dict)    # name -> bytes
    skipped: list = field(default_factory=list)      # [Skipped]
    timestamp: str | None = None                     # timestamp.txt, as text
    files: int = 0
    bytes: int = 0


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


def _read_regular(path: str, size: int) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):   # swapped after the listing
            raise OSError("not a regular file")
        return f.read(size + 1)[:size]


def read_folder(folder: Path, copy_to: Path | None = None) -> Handed:
    """Read ``folder`` (see the module docstring); with ``copy_to``, also copy what is read
    there (nbgrader's ``submitted/`` layout).  Never raises for what the folder holds."""
    handed = Handed()
    if copy_to is not None:
        copy_to.mkdir(parents=True, exist_ok=True)
    stack = [("", 0)]
    seen = 0
    while stack:
        rel_dir, depth = stack.pop()
        here = os.path.join(folder, rel_dir)
        try:
            with os.scandir(here) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as err:
            handed.skipped.append(Skipped(rel_dir or ".", f"unreadable: {err.strerror}"))
            continue
        for entry in entries:
            seen += 1
            rel = os.path.join(rel_dir, entry.name)
            if seen > MAX_ENTRIES:
                handed.skipped.append(Skipped(rel, "over the limits"))
                return handed
            if entry.name in (".ipynb_checkpoints", "__pycache__"):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as err:
                handed.skipped.append(Skipped(rel, f"unreadable: {err.strerror}"))
                continue
            if stat.S_ISDIR(info.st_mode):
                if depth + 1 >= MAX_DEPTH:
                    handed.skipped.append(Skipped(rel, "too deep"))
                    continue
                if copy_to is not None:
                    (copy_to / rel).mkdir(exist_ok=True)
                stack.append((rel, depth + 1))
            elif stat.S_ISREG(info.st_mode):
                if handed.files >= MAX_FILES or handed.bytes + info.st_size > MAX_BYTES:
                    handed.skipped.append(Skipped(rel, "over the limits"))
                    continue
                try:
                    data = _read_regular(entry.path, info.st_size)
                except OSError as err:
                    handed.skipped.append(Skipped(rel, f"unreadable: {err.strerror or err}"))
                    continue
                handed.files += 1
                handed.bytes += len(data)
                if copy_to is not None:
                    (copy_to / rel).write_bytes(data)
                if depth == 0 and entry.name.endswith(".ipynb"):
                    handed.notebooks[entry.name] = data
                elif depth == 0 and entry.name == "timestamp.txt":
                    handed.timestamp = data[:MAX_TIMESTAMP].decode("utf-8", "replace").strip()
            else:
                handed.skipped.append(Skipped(rel, _kind(info.st_mode)))
    return handed
