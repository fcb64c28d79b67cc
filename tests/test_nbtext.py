"""Unit tests for autograder/nbtext.py."""

import nbformat
import pytest

from conftest import ROOT

from autograder.nbtext import main, notebook_to_text, text_to_notebook, write_notebook

NOTEBOOKS = sorted((ROOT / "source").glob("*/*.ipynb"))

SAMPLE = """\
# %% [markdown]
# # Title
#
# Some *text*.

# %%
import numpy as np

# %% answer: cell-knn-distances
def f(x):
    ### BEGIN SOLUTION
    return x
    ### END SOLUTION

# %% test: test-knn-distances points=2
assert f(1) == 1

# %% manual: explain-k points=1.5
# YOUR ANSWER HERE

# %% readonly: setup-cell
SEED = 0

# %% [markdown] readonly: intro-locked
# Do not edit.
"""


def cells_of(nb):
    return [(c.cell_type, c.source, c.metadata.get("nbgrader")) for c in nb.cells]


def test_sample_parses_into_the_right_cells():
    nb = text_to_notebook(SAMPLE)
    kinds = [(c.cell_type, c.get("id")) for c in nb.cells]
    assert kinds == [("markdown", "cell-000"), ("code", "cell-001"),
                     ("code", "cell-knn-distances"), ("code", "test-knn-distances"),
                     ("markdown", "explain-k"), ("code", "setup-cell"),
                     ("markdown", "intro-locked")]
    assert nb.cells[0].source == "# Title\n\nSome *text*."
    assert nb.cells[1].source == "import numpy as np"
    assert nb.cells[3].source == "assert f(1) == 1"
    assert nb.cells[4].source == "YOUR ANSWER HERE"
    answer, test, manual, ro, ro_md = (c.metadata["nbgrader"] for c in nb.cells[2:])
    assert answer == {"grade": False, "grade_id": "cell-knn-distances", "locked": False,
                      "schema_version": 3, "solution": True, "task": False}
    assert test == {"grade": True, "grade_id": "test-knn-distances", "locked": True,
                    "points": 2, "schema_version": 3, "solution": False, "task": False}
    assert type(test["points"]) is int
    assert manual["grade"] and manual["solution"] and not manual["locked"]
    assert manual["points"] == 1.5
    assert ro["locked"] and not ro["grade"] and not ro["solution"]
    assert ro_md["locked"] and nb.cells[6].source == "Do not edit."
    assert nb.cells[0].metadata == {} and nb.cells[1].outputs == []
    assert nb.metadata["kernelspec"]["name"] == "python3"
    nbformat.validate(nb)


def test_sample_roundtrip_is_exact():
    nb = text_to_notebook(SAMPLE)
    text = notebook_to_text(nb)
    assert cells_of(text_to_notebook(text)) == cells_of(nb)
    assert notebook_to_text(text_to_notebook(text)) == text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_every_source_notebook_roundtrips(path):
    nb = nbformat.read(path, as_version=4)
    back = text_to_notebook(notebook_to_text(nb))
    assert len(back.cells) == len(nb.cells)
    for i, (old, new) in enumerate(zip(nb.cells, back.cells)):
        assert new.cell_type == old.cell_type, i
        assert new.source == old.source, i
        assert new.metadata.get("nbgrader") == old.metadata.get("nbgrader"), i
        if "nbgrader" in old.metadata:
            assert new["id"] == old.metadata["nbgrader"]["grade_id"]


def test_source_notebooks_found():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("text, fragment", [
    ("# %% [markdown]\n# hi\n\n# %% quiz: q1\nx = 1\n",
     "line 4: cannot parse cell marker '# %% quiz: q1'"),
    ("# %%\nx = 1\n# %% answer:\n",
     "line 3: cannot parse cell marker '# %% answer:'"),
    ("# %%\nx = 1\n\n# %% test: t1\nassert x\n",
     "line 4: test cell t1 needs points=N"),
    ("# %% manual: m1\n# why?\n",
     "line 1: manual cell m1 needs points=N"),
    ("# %% answer: a1\nx = 1\n# %%\ny = 2\n# %% test: a1 points=1\nassert x\n",
     "line 5: duplicate grade id a1"),
    ("\n\nimport numpy\n# %%\nx = 1\n",
     "line 3: text before the first '# %%' marker"),
])
def test_marker_errors_name_the_line(text, fragment):
    with pytest.raises(ValueError) as info:
        text_to_notebook(text)
    assert str(info.value) == fragment


def test_blank_lines_before_the_first_marker_are_fine():
    nb = text_to_notebook("\n\n# %%\nx = 1\n\n\n")
    assert cells_of(nb) == [("code", "x = 1", None)]


def test_cli_roundtrip(tmp_path, capsys):
    text_file = tmp_path / "nb.py"
    text_file.write_text(SAMPLE, encoding="utf-8")
    out = tmp_path / "out" / "nb.ipynb"
    assert main(["from-text", str(text_file), str(out)]) == 0
    nb = nbformat.read(out, as_version=4)
    assert cells_of(nb) == cells_of(text_to_notebook(SAMPLE))
    assert main(["to-text", str(out)]) == 0
    assert capsys.readouterr().out == notebook_to_text(text_to_notebook(SAMPLE))
    # writing is deterministic: the same text gives the same bytes
    first = out.read_bytes()
    write_notebook(text_to_notebook(SAMPLE), out)
    assert out.read_bytes() == first
