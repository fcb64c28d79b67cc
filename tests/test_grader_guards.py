"""The grader's own guards: one student's failure stays theirs, Ctrl-C leaves nothing
behind, paths and seeds are the course's, and the grade table reads as it should."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder import course as course_mod
from autograder import jobs
from autograder.grade import grade
from autograder.release import generate
from autograder.table import Row, clean, summary, write_table
from conftest import started_by_this_test
from corpus import FIXTURE_ROOT, FIXTURE_TASKS, write_corpus

pytestmark = pytest.mark.slow
LIMITS = {"cell_seconds": 10, "probe_seconds": 10, "notebook_seconds": 60, "memory_mb": 1024}


@pytest.fixture
def fixture_course(tmp_path, monkeypatch):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(FIXTURE_ROOT / "nbgrader_config.py", course)
    shutil.copytree(FIXTURE_ROOT / "source", course / "source")
    generate(["00_fixture"], FIXTURE_ROOT, course / "release")
    monkeypatch.setenv("COURSE_TASK_MODULES", str(FIXTURE_TASKS))
    monkeypatch.setenv("COURSE_DIR", str(course))
    everything = tmp_path / "all"
    write_corpus(everything, {"00_fixture": course})
    return course, everything


def _pick(everything: Path, dest: Path, names) -> Path:
    for name in names:
        shutil.copytree(everything / name, dest / name)
    return dest


def test_a_crash_in_trusted_code_costs_only_that_student(fixture_course, tmp_path, monkeypatch):
    course, everything = fixture_course
    real = jobs.make_plan

    def exploding(source_nb, student_nb, *rest):
        if any("return a * 0" in c.get("source", "") for c in student_nb.cells):
            raise TypeError("unhashable type: 'list' (planted)")
        return real(source_nb, student_nb, *rest)

    monkeypatch.setattr(jobs, "make_plan", exploding)
    subs = _pick(everything, tmp_path / "subs", ["correct", "input-transformer"])
    rows = grade(subs, course_dir=course, limits=LIMITS, progress=False, seed=7)
    crashed = [r for r in rows if r.student == "input-transformer"]
    assert crashed and all(r.status == "grader-error" for r in crashed)
    assert all("input-transformer" in r.message and "planted" in r.message for r in crashed)
    assert (course / "course_grades.csv").exists()
    alone = grade(_pick(everything, tmp_path / "alone", ["correct"]), course_dir=course,
                  limits=LIMITS, progress=False, seed=7, force=True)
    honest = [dataclasses.astuple(r) for r in rows if r.student == "correct"]
    assert honest == [dataclasses.astuple(r) for r in alone]


@pytest.fixture
def own_tmp():
    """A temporary directory of this test's own: every process the grader starts names its
    job folder, inside this one, on its command line (traversable: sandboxes may run as
    another user)."""
    path = Path(tempfile.mkdtemp(prefix="course-guards-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_ctrl_c_leaves_no_process_behind(fixture_course, tmp_path, own_tmp):
    course, everything = fixture_course
    subs = _pick(everything, tmp_path / "subs", ["infinite-loop", "fork-bomb", "correct"])
    proc = subprocess.Popen([sys.executable, "-m", "autograder.cli", "--course-dir", str(course),
                             "grade", str(subs), "--jobs", "2"],
                            env={**os.environ, "TMPDIR": str(own_tmp)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    while not started_by_this_test(own_tmp) and proc.poll() is None:  # until a sandbox runs
        time.sleep(0.05)
    assert started_by_this_test(own_tmp), "the grader finished before any sandbox was seen"
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=600)
    for _ in range(1200):  # killed processes take a moment to go, longer on a busy machine
        if not started_by_this_test(own_tmp):
            break
        time.sleep(0.1)
    assert not started_by_this_test(own_tmp)


def _unset_course_dir(monkeypatch):
    """Unset what --course-dir sets, so that monkeypatch restores it after main() wrote it."""
    for name in ("COURSE_DIR", "COURSE_DIR_FROM_OPTION"):
        monkeypatch.setenv(name, "")   # recorded even when it was not set
        monkeypatch.delenv(name)


def test_relative_course_dir_works(fixture_course, tmp_path, monkeypatch, capsys):
    from autograder.cli import main

    course, everything = fixture_course
    subs = _pick(everything, tmp_path / "subs", ["correct"])
    _unset_course_dir(monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert main(["grade", str(subs), "--course-dir", "course"]) == 0
    assert "correct" in capsys.readouterr().out
    assert (course / "course_grades.csv").exists() and (course / "gradebook.db").exists()


def test_the_course_directory_is_where_you_are(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="no course directory here"):
        course_mod.course_root()
    (tmp_path / "nbgrader_config.py").write_text("")
    assert course_mod.course_root() == tmp_path.resolve()
    # from anywhere inside the course, as git finds .git
    deep = tmp_path / "autograded" / "alice" / "01_knn"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert course_mod.course_root() == tmp_path.resolve()
    # $COURSE_DIR overrides, and a wrong one is named as such
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("COURSE_DIR", str(other))
    with pytest.raises(SystemExit, match=r"^\$COURSE_DIR .* is not a course directory"):
        course_mod.course_root()


def test_a_wrong_course_dir_option_is_named_as_the_option(tmp_path, monkeypatch, capsys):
    from autograder.cli import main

    _unset_course_dir(monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert main(["--course-dir", str(tmp_path / "nope"), "release"]) == 2
    err = capsys.readouterr().err
    assert "--course-dir" in err and "$COURSE_DIR" not in err


def test_each_course_gets_its_own_secret_seed(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    seed_a = course_mod.course_seed(a)
    assert course_mod.course_seed(a) == seed_a != course_mod.course_seed(b)
    assert (a / course_mod.SECRET_FILE).stat().st_mode & 0o077 == 0


def test_table_cells_are_clean_and_bounded(tmp_path):
    row = Row("=cmd", "a", "nb", "c", 0, 1, "failed", message="\x1b[2J" + "x" * 5000)
    assert "\x1b" not in row.message and len(row.message) <= 500
    write_table([row], tmp_path / "t.csv")
    assert "'=cmd" in (tmp_path / "t.csv").read_text()
    assert "to grade" in summary([row])
    assert clean("a\u202eb") == "a\\u202eb"


@pytest.mark.parametrize("command", [["release", "nope"], ["demo", "nope"], ["mutants", "nope"],
                                     ["solutions", "nope"], ["grade", "x", "--assignment", "nope"]])
def test_a_wrong_assignment_name_is_one_line_naming_the_valid_ones(command, capsys,
                                                                  monkeypatch):
    from autograder.cli import main

    from conftest import ROOT

    monkeypatch.setenv("COURSE_DIR", str(ROOT))
    assert main(command) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert "unknown assignment 'nope'" in err and "01_knn" in err and "06_cnn" in err


def test_the_course_dir_option_works_anywhere_before_nbtext():
    from autograder.cli import _take_course_dir

    assert _take_course_dir(["solutions", "--full", "--course-dir", "X", "01_knn"]) == \
        (["solutions", "--full", "01_knn"], "X")
    assert _take_course_dir(["--course-dir=Y", "grade", "subs"]) == (["grade", "subs"], "Y")
    assert _take_course_dir(["nbtext", "to-text", "--course-dir", "Z"]) == \
        (["nbtext", "to-text", "--course-dir", "Z"], None)
