"""Job folders (``course-grader-*`` in the temporary directory): made locked, and what a
dead run left behind removed.

Each folder holds a lock file that the grading process keeps locked
(``flock``) for as long as the folder exists; the file is locked before it
gets its name, so no folder ever shows an unlocked lock while its grader
lives.  A grader killed by SIGKILL leaves its folder but not its lock, so
the next ``job_folder()`` removes every folder whose lock it can take, and
nothing else: a live run's folder, a folder without a lock file (an older
grader's, or one being made) and other users' folders are left alone.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "course-grader-"
LOCK = "grader.lock"
_held: dict = {}   # folder -> descriptor of its lock file, held by this process


def job_folder() -> Path:
    """A new, locked job folder; folders of dead runs are removed first."""
    for path in [p for p in _held if not p.exists()]:  # removed by their job: let go
        os.close(_held.pop(path))
    remove_stale()
    path = Path(tempfile.mkdtemp(prefix=PREFIX))
    fresh = path / f".{LOCK}.new"
    fd = os.open(fresh, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.rename(fresh, path / LOCK)
    _held[path] = fd
    return path


def remove_stale(parent: Path | None = None) -> list[Path]:
    """Remove the job folders below ``parent`` (the temporary directory) whose lock is free."""
    parent = Path(parent or tempfile.gettempdir())
    removed = []
    for folder in sorted(parent.glob(PREFIX + "*")):
        if folder in _held or folder.is_symlink() or not folder.is_dir():
            continue
        try:
            fd = os.open(folder / LOCK, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:  # no lock file (not ours to judge), or another user's
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a live run holds it
            os.close(fd)
            continue
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(fd)
    return removed
