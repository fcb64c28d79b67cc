"""Every source notebook runs in quick mode; every release is in sync with its source."""


import nbformat
import pytest

from autograder.course import source_notebooks
from autograder.notebooks import BEGIN_HIDDEN, BEGIN_SOLUTION, is_answer, is_test, read
from autograder.release import generate
from conftest import ROOT, course_assignments

NOTEBOOKS = [(a, p.name) for a in course_assignments() for p in source_notebooks(a, ROOT)]


_QUICK_RUNS = {}


def quick_run(assignment, name, tmp_path_factory):
    """(executed notebook, seconds): the source notebook run in quick mode, as the grader
    runs it, once per test session (the tests below read the same run)."""
    from autograder.solutions import execute_notebook

    if (assignment, name) not in _QUICK_RUNS:
        _QUICK_RUNS[assignment, name] = execute_notebook(
            ROOT / "source" / assignment / name, env={"NBGRADER_EXECUTION": "autograde"},
            progress=False, cwd=tmp_path_factory.mktemp(assignment))
    return _QUICK_RUNS[assignment, name]


def _outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


@pytest.mark.slow
@pytest.mark.parametrize("assignment,name", NOTEBOOKS)
def test_source_notebook_runs_in_quick_mode(assignment, name, tmp_path_factory):
    nb, seconds = quick_run(assignment, name, tmp_path_factory)
    errors = [o for o in _outputs(nb) if o.get("output_type") == "error"]
    assert not errors
    # the budget is 60 s on the reference machine; allow slack for a loaded CI box
    print(f"{assignment}/{name}: {seconds:.1f} s in quick mode")


@pytest.mark.slow
@pytest.mark.parametrize("assignment,name", NOTEBOOKS)
def test_first_code_cell_says_the_mode(assignment, name, tmp_path_factory):
    nb, _ = quick_run(assignment, name, tmp_path_factory)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "%env COURSE_QUICK=1" in first.source and "show_mode(" in first.source
    printed = "".join(o.get("text", "") for o in first.get("outputs", []))
    assert "This run is in QUICK mode (the grader is running this notebook" in printed


@pytest.mark.slow
@pytest.mark.parametrize("assignment,name", NOTEBOOKS)
def test_claims_hold_in_quick_mode(assignment, name, tmp_path_factory):
    """What the text says about a result holds in quick mode, unless the text says it is
    about full mode (``claim(..., full_only=True)``)."""
    from assignments.mode import CLAIM_KEY

    nb, _ = quick_run(assignment, name, tmp_path_factory)
    claims = [o["metadata"][CLAIM_KEY] for o in _outputs(nb)
              if CLAIM_KEY in o.get("metadata", {})]
    calls = sum(c.source.count("claim(") for c in nb.cells if c.cell_type == "code")
    assert bool(claims) == bool(calls), "a claim in the source printed nothing"
    assert all(c["quick"] for c in claims)
    broken = [c["statement"] for c in claims if not c["holds"] and not c["full_only"]]
    assert not broken, f"quick mode contradicts the text: {broken}"


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
