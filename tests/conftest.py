import os
import shutil
from pathlib import Path

# Tests run two at a time on two cores: one BLAS thread each (before numpy loads).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import matplotlib  # noqa: E402
import pytest  # noqa: E402

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PYTHONHASHSEED", "0")


def remove_tree(top) -> None:
    """Remove a folder tree of any depth without recursion (shutil.rmtree and os.walk recurse,
    and the hostile corpus makes 1,200 nested folders)."""
    order, stack = [], [str(top)]
    while stack:
        path = stack.pop()
        order.append(path)
        try:
            stack += [e.path for e in os.scandir(path) if e.is_dir(follow_symlinks=False)]
        except OSError:
            pass
    for path in reversed(order):
        try:
            for entry in os.scandir(path):
                if not entry.is_dir(follow_symlinks=False):
                    os.unlink(entry.path)
            os.rmdir(path)
        except OSError:
            pass


def pytest_sessionstart(session):
    """Earlier sessions killed before their clean-up may have left the corpus's deep folder
    chains in pytest's temporary folders, which pytest's own (recursive) clean-up of old
    sessions cannot remove: remove every such chain first (controller process only)."""
    if hasattr(session.config, "workerinput"):
        return
    base = session.config._tmp_path_factory.getbasetemp().parent
    for old in base.iterdir():
        if old.is_symlink() or not old.is_dir():
            continue
        if old.name.startswith("garbage-"):
            remove_tree(old)
            continue
        stack = [(str(old), 0)]
        while stack:
            path, depth = stack.pop()
            if os.path.basename(path) == "d" and depth > 50:
                remove_tree(path)
                continue
            try:
                stack += [(e.path, depth + 1) for e in os.scandir(path)
                          if e.is_dir(follow_symlinks=False)]
            except OSError:
                pass


def course_assignments():
    from autograder.course import existing_assignments

    return existing_assignments(ROOT)


def graded_assignments():
    from autograder import tasks

    return [a for a in course_assignments() if tasks.has_tasks(a)]


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture
def course_copy(tmp_path):
    """A scratch course directory with source/ and nbgrader_config.py."""
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    shutil.copytree(ROOT / "source", tmp_path / "source")
    return tmp_path


def started_by_this_test(marker: Path) -> list:
    """Live processes whose command line names ``marker`` (only this test's sandboxes and
    their helpers do; other users' and other tests' grading on the machine does not count)."""
    found, needle = [], os.fsencode(str(marker))
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes():
                    found.append(entry.name)
            except OSError:
                pass
    return found
