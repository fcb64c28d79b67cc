"""Grading never writes, moves or deletes anything in its input.

Every folder an instructor might pass to `course grade` in an nbgrader course:
nbgrader's own `submitted/` (graded in place, byte for byte untouched, the
same grades as a copy elsewhere), the same through a symbolic link or a path
with `..`; and the folders grading writes (`autograded/`, `feedback/`, a
student's folder inside `submitted/`, the course directory itself), which are
refused before anything is touched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.grade import InputOverlap, check_input, grade
from autograder.notebooks import read, reference_submission
from autograder.release import generate
from corpus import FIXTURE_ROOT, FIXTURE_TASKS

LIMITS = {"cell_seconds": 20, "probe_seconds": 20, "notebook_seconds": 120, "memory_mb": 1024}


@pytest.fixture
def fixture_course(tmp_path, monkeypatch):
    """A fixture course whose submitted/ holds three students in nbgrader's layout."""
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(FIXTURE_ROOT / "nbgrader_config.py", course)
    shutil.copytree(FIXTURE_ROOT / "source", course / "source")
    generate(["00_fixture"], FIXTURE_ROOT, course / "release")
    monkeypatch.setenv("COURSE_TASK_MODULES", str(FIXTURE_TASKS))
    monkeypatch.setenv("COURSE_DIR", str(course))
    release = read(course / "release" / "00_fixture" / "fixture.ipynb")
    good = reference_submission(read(course / "source" / "00_fixture" / "fixture.ipynb"), release)
    for student, nb in (("alice", good), ("bob", release), ("carol", good)):
        folder = course / "submitted" / student / "00_fixture"
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / "fixture.ipynb"))
        (folder / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC\n")
    return course


def _snapshot(folder: Path) -> dict:
    """Every path below ``folder`` with its content hash (folders: None)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), folder)] = None
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, folder)] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return out


def _points(rows) -> dict:
    out = {}
    for r in rows:
        out[r.student] = out.get(r.student, 0) + r.points
    return out


@pytest.mark.slow
def test_grading_submitted_in_place_changes_nothing_in_it(fixture_course):
    before = _snapshot(fixture_course / "submitted")
    rows = grade(fixture_course / "submitted", course_dir=fixture_course, limits=LIMITS,
                 progress=False, seed=7)
    assert _snapshot(fixture_course / "submitted") == before
    assert _points(rows) == {"alice": 6, "bob": 0, "carol": 6}
    assert (fixture_course / "autograded" / "alice" / "00_fixture" / "fixture.ipynb").exists()
    # the same again through a symbolic link and through a path with ..
    link = fixture_course.parent / "link-to-submitted"
    link.symlink_to(fixture_course / "submitted")
    dotted = fixture_course / "source" / ".." / "submitted"
    for path in (link, dotted):
        rows = grade(path, course_dir=fixture_course, limits=LIMITS, progress=False, seed=7,
                     force=True)
        assert _snapshot(fixture_course / "submitted") == before
        assert _points(rows) == {"alice": 6, "bob": 0, "carol": 6}


@pytest.mark.parametrize("where", ["autograded", "feedback", "submitted/alice", ".",
                                   "source/../autograded", "grading", "release"])
def test_folders_that_grading_writes_are_refused_before_anything_is_touched(fixture_course,
                                                                            where):
    # an earlier run's outputs, as an instructor would have them
    for name in ("autograded", "feedback", "grading", "logs"):
        (fixture_course / name / "alice" / "00_fixture").mkdir(parents=True, exist_ok=True)
        (fixture_course / name / "alice" / "00_fixture" / "kept.txt").write_text("earlier")
    before = _snapshot(fixture_course)
    with pytest.raises(InputOverlap, match="grading writes|course directory"):
        grade(fixture_course / where, course_dir=fixture_course, progress=False, seed=7)
    assert _snapshot(fixture_course) == before


def test_a_symlink_to_the_course_directory_is_refused(fixture_course, tmp_path):
    link = tmp_path / "looks-harmless"
    link.symlink_to(fixture_course)
    with pytest.raises(InputOverlap, match="is the course directory"):
        check_input(link, fixture_course, fixture_course / "grades.csv")


def test_a_grade_table_inside_the_input_is_refused(fixture_course, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    with pytest.raises(InputOverlap, match="grade table"):
        check_input(subs, fixture_course, subs / "grades.csv")
    with pytest.raises(InputOverlap, match="grade table"):
        check_input(fixture_course / "submitted", fixture_course,
                    fixture_course / "submitted" / "t.csv")


def test_other_folders_are_copied_not_graded_in_place(fixture_course, tmp_path):
    assert check_input(fixture_course / "submitted", fixture_course,
                       fixture_course / "grades.csv") is True
    assert check_input(tmp_path / "elsewhere", fixture_course,
                       fixture_course / "grades.csv") is False
    assert check_input(fixture_course / "inbox", fixture_course,
                       fixture_course / "grades.csv") is False


@pytest.mark.slow
def test_every_student_folder_gets_rows_with_the_reason(fixture_course, tmp_path, capsys):
    """A class of 200: a wrong layout, nothing handed in, a stray file: one clear line each."""
    subs = tmp_path / "subs"
    shutil.copytree(fixture_course / "submitted" / "alice", subs / "alice")
    (subs / "zz_wronglayout").mkdir()
    shutil.copy(fixture_course / "submitted" / "alice" / "00_fixture" / "fixture.ipynb",
                subs / "zz_wronglayout" / "fixture.ipynb")
    (subs / "bob" / "00-fixture-final").mkdir(parents=True)
    (subs / "carol").mkdir()
    (subs / "notes.txt").write_text("not a student")
    rows = grade(subs, course_dir=fixture_course, limits=LIMITS, progress=False, seed=7)
    by = {}
    for r in rows:
        by.setdefault(r.student, []).append(r)
    assert set(by) == {"alice", "zz_wronglayout", "bob", "carol"}
    assert _points(rows)["alice"] == 6
    wrong = by["zz_wronglayout"]
    assert {r.status for r in wrong} == {"refused"}
    assert all("found fixture.ipynb directly in the student folder" in r.message for r in wrong)
    assert {r.status for r in by["bob"]} == {"refused"}
    assert all("the student folder holds 00-fixture-final" in r.message for r in by["bob"])
    assert {r.status for r in by["carol"]} == {"missing"}
    assert all("00_fixture was not submitted" in r.message for r in by["carol"])
    assert "ignored 'notes.txt'" in capsys.readouterr().out


@pytest.mark.slow
def test_a_rerun_remakes_only_the_feedback_that_changed(fixture_course):
    """A re-run regrades a changed submission and remakes its feedback, and the feedback of a
    submission whose time changed (its late penalty may); every other page stays as it was."""
    subs = fixture_course / "submitted"
    grade(subs, course_dir=fixture_course, limits=LIMITS, progress=False, seed=7)
    pages = {s: fixture_course / "feedback" / s / "00_fixture" / "fixture.html"
             for s in ("alice", "bob", "carol")}
    before = {s: p.stat().st_mtime_ns for s, p in pages.items()}
    shutil.copy(subs / "alice" / "00_fixture" / "fixture.ipynb",
                subs / "bob" / "00_fixture" / "fixture.ipynb")
    (subs / "carol" / "00_fixture" / "timestamp.txt").write_text(
        "2026-12-02 10:00:00.000000 UTC\n")
    rows = grade(subs, course_dir=fixture_course, limits=LIMITS, progress=False, seed=7)
    after = {s: p.stat().st_mtime_ns for s, p in pages.items()}
    assert _points(rows) == {"alice": 6, "bob": 6, "carol": 6}
    assert after["alice"] == before["alice"]
    assert after["bob"] != before["bob"] and after["carol"] != before["carol"]
