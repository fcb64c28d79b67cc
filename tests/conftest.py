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
