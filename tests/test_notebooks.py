"""Every source notebook runs in quick mode; every release is in sync with its source."""


import nbformat
import pytest

from autograder.course import source_notebooks
from autograder.notebooks import BEGIN_HIDDEN, BEGIN_SOLUTION, is_answer, is_test, read
from autograder.release import generate
from conftest import ROOT, course_assignments

NOTEBOOKS = [(a, p.name) for a in course_assignments() for p in source_notebooks(a, ROOT)]


@pytest.mark.slow
@pytest.mark.parametrize("assignment,name", NOTEBOOKS)
def test_source_notebook_runs_in_quick_mode(assignment, name, tmp_path):
    from autograder.solutions import execute_notebook

    nb, seconds = execute_notebook(ROOT / "source" / assignment / name,
                                   env={"NBGRADER_EXECUTION": "autograde"}, progress=False,
                                   cwd=tmp_path)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    # the budget is 60 s on the reference machine; allow slack for a loaded CI box
    print(f"{assignment}/{name}: {seconds:.1f} s in quick mode")


@pytest.mark.slow
def test_release_is_in_sync_with_source(tmp_path):
    assignments = course_assignments()
    generate(assignments, ROOT, tmp_path)
    for a in assignments:
        for src in source_notebooks(a, ROOT):
            fresh = (tmp_path / a / src.name).read_text()
            committed = (ROOT / "release" / a / src.name)
            assert committed.exists(), f"release/{a}/{src.name} is missing: run `course release {a}`"
            assert committed.read_text() == fresh, (
                f"release/{a}/{src.name} is out of date: run `course release {a}`")


@pytest.mark.parametrize("assignment,name", NOTEBOOKS)
def test_release_hides_solutions_and_hidden_tests(assignment, name):
    text = (ROOT / "release" / assignment / name).read_text()
    assert BEGIN_SOLUTION not in text and BEGIN_HIDDEN not in text
    assert "run_hidden" not in text
    nb = read(ROOT / "release" / assignment / name)
    answers = [c for c in nb.cells if is_answer(c)]
    assert answers, "a notebook without answer cells?"
    for c in answers:
        assert "raise NotImplementedError" in c.source, c.metadata["nbgrader"]["grade_id"]


@pytest.mark.parametrize("assignment,name", NOTEBOOKS)
def test_source_cells_follow_the_convention(assignment, name):
    nb = read(ROOT / "source" / assignment / name)
    nbformat.validate(nb)
    for c in nb.cells:
        assert not c.get("outputs"), "source notebooks are stored without outputs"
        if is_answer(c):
            assert BEGIN_SOLUTION in c.source
        if is_test(c):
            assert BEGIN_HIDDEN in c.source, f"{c.metadata['nbgrader']['grade_id']} has no hidden tests"
            assert c.metadata["nbgrader"]["points"] > 0
