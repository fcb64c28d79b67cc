"""What the formgrader shows after `course grade`: nbgrader's gradebook as nbgrader fills it.

Read back from gradebook.db and the autograded notebooks: autograded cells
need no manual grade (only written answers do, and a blank one scores 0
with "No response."), submission times come from timestamp.txt, late
penalties follow the course's nbgrader_config.py, flagged submissions are
flagged, the student's own prints and plots are kept, every feedback page
names the task each check tests and shows written answers as still to grade.
"""

from __future__ import annotations

import shutil
from datetime import datetime

import nbformat
import pytest

from autograder.grade import grade
from autograder.notebooks import read, reference_submission
from autograder.release import generate
from corpus import FIXTURE_ROOT, FIXTURE_TASKS, insert_after, set_answer

pytestmark = pytest.mark.slow

LIMITS = {"cell_seconds": 30, "probe_seconds": 30, "notebook_seconds": 150, "memory_mb": 1024}
PLOT = """import matplotlib.pyplot as plt
%matplotlib inline
print("hello from alice")
plt.plot([1, 2, 3], [1, 4, 9])
plt.show()
"""
PATCH = "np.allclose = lambda *a, **k: True\n"
DUE = datetime(2026, 12, 1, 12, 0, 0)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    import os

    from nbgrader.api import Gradebook

    tmp = tmp_path_factory.mktemp("formgrader")
    course = tmp / "course"
    course.mkdir()
    shutil.copytree(FIXTURE_ROOT / "source", course / "source")
    config = (FIXTURE_ROOT / "nbgrader_config.py").read_text()
    (course / "nbgrader_config.py").write_text(
        config + '\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    generate(["00_fixture"], FIXTURE_ROOT, course / "release")
    saved = dict(os.environ)
    os.environ["COURSE_TASK_MODULES"] = str(FIXTURE_TASKS)
    os.environ["COURSE_DIR"] = str(course)
    release = read(course / "release" / "00_fixture" / "fixture.ipynb")
    good = reference_submission(read(course / "source" / "00_fixture" / "fixture.ipynb"), release)
    students = {
        "alice": (insert_after(good, "scale_to_unit", PLOT), "2026-12-01 10:00:00 UTC"),
        "bob": (set_answer(set_answer(good, "add_arrays_code",
                                      "def add_arrays(a, b):\n    return a - b\n"),
                           "q_zero", "YOUR ANSWER HERE"), "2026-12-02 09:30:00 UTC"),
        "carol": (insert_after(good, "add_arrays_code", PATCH), "2026-11-30 08:00:00 UTC"),
    }
    subs = tmp / "subs"
    for name, (nb, stamp) in students.items():
        folder = subs / name / "00_fixture"
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / "fixture.ipynb"))
        (folder / "timestamp.txt").write_text(stamp + "\n")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        gb.update_or_create_assignment("00_fixture", duedate=DUE)
    try:
        rows = grade(subs, course_dir=course, limits=LIMITS, progress=False, seed=3)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return course, rows


def _grades(course, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission("00_fixture", student)
        nb = sub.notebooks[0]
        grades = {g.name: (g.auto_score, g.needs_manual_grade, g.max_score) for g in nb.grades}
        comments = {c.name: c.auto_comment for c in nb.comments}
        return {"timestamp": sub.timestamp, "grades": grades, "comments": comments,
                "flagged": nb.flagged, "penalty": nb.late_submission_penalty,
                "score": nb.score, "duedate": sub.duedate}


def test_autograded_cells_need_no_manual_grade_and_written_answers_do(graded):
    course, _ = graded
    alice = _grades(course, "alice")
    for name, (auto, needs, top) in alice["grades"].items():
        if name == "q_zero":
            assert auto is None and needs, "an answered written question waits for a person"
        else:
            assert auto == top and not needs, (name, auto, needs)
    bob = _grades(course, "bob")
    assert bob["grades"]["q_zero"][:2] == (0, False), "a blank written answer scores 0"
    assert bob["comments"]["q_zero"] == "No response."
    assert bob["grades"]["add_arrays"][:2] == (0, False)


def test_submission_times_and_late_penalties_are_recorded(graded):
    course, _ = graded
    alice, bob = _grades(course, "alice"), _grades(course, "bob")
    assert alice["duedate"] == DUE
    assert alice["timestamp"] == datetime(2026, 12, 1, 10, 0, 0) and not alice["penalty"]
    assert bob["timestamp"] == datetime(2026, 12, 2, 9, 30, 0)
    assert bob["score"] > 0 and bob["penalty"] == bob["score"]  # "zero": late work scores 0


def test_flagged_submissions_are_flagged_in_the_formgrader(graded):
    course, rows = graded
    assert _grades(course, "carol")["flagged"]
    assert "patches-library" in {f for r in rows if r.student == "carol"
                                 for f in r.flags.split(";")}
    assert not _grades(course, "alice")["flagged"]


def test_the_students_prints_and_plots_are_kept(graded):
    course, _ = graded
    nb = read(course / "autograded" / "alice" / "00_fixture" / "fixture.ipynb")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any("hello from alice" in o.get("text", "") for o in outputs)
    assert any("image/png" in o.get("data", {}) for o in outputs)


def test_feedback_names_each_check_and_leaves_written_answers_to_grade(graded):
    course, _ = graded
    page = (course / "feedback" / "alice" / "00_fixture" / "fixture.html").read_text()
    assert "Test cell" not in page
    assert "Check of <code>add_arrays</code>" in page
    assert "to be graded by your instructor" in page
    assert "Score: 0.0 / 1.0" not in page
    late = (course / "feedback" / "bob" / "00_fixture" / "fixture.html").read_text()
    assert "Late submission penalty" in late
