"""The scan of submitted code flags what a person should look at, and nothing the course
itself wrote: the reference answers of every notebook raise no flag."""

import pytest
from conftest import ROOT, graded_assignments

from autograder.course import source_notebooks
from autograder.notebooks import read, reference_submission
from autograder.scan import scan_cell


@pytest.mark.parametrize("assignment", graded_assignments())
def test_the_reference_answers_raise_no_flag(assignment):
    for path in source_notebooks(assignment, ROOT):
        release = ROOT / "release" / assignment / path.name
        nb = reference_submission(read(path), read(release))
        flags = [f for c in nb.cells if c.cell_type == "code" for f in scan_cell(c.source, "x")]
        assert flags == [], f"{path.name}: {flags}"


@pytest.mark.parametrize("line", ["import os; os.environ['COURSE_DIR']",
                                  "if 'NBGRADER_EXECUTION' in os.environ: pass",
                                  "import nbgrader", "open('gradebook.db')",
                                  "x = 'autograded'"])
def test_looking_for_the_grader_is_flagged(line):
    assert "detects-grader" in [f.kind for f in scan_cell(line, "x")]


def test_the_course_blocks_module_is_not_the_grader():
    assert scan_cell("from course_blocks import FullyConnectedNet, adam\n", "x") == []
