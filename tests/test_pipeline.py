"""End to end: the demo, real nbgrader with several mutants in one submission, the CLI."""

from __future__ import annotations

import os
import shutil

import nbformat
import pytest

from autograder import tasks as T
from autograder.cli import main as course
from autograder.grade import grade
from autograder.mutants import apply, reference_sources
from autograder.cells import grade_id, is_answer
from autograder.notebooks import read, reference_submission
from autograder.release import generate
from conftest import ROOT

PLANTED = {  # task -> mutant name, several bugs in different functions of one notebook
    "distances_two_loops": "two loops: missing square root",
    "predict_labels": "predict: ties broken toward the largest label",
    "cross_validate_k": "cross-validation: folds overlap (fold i+1 left out of training)",
}


def _mutated_submission(workdir):
    generate(["01_knn"], ROOT, workdir / "release")
    src = read(ROOT / "source" / "01_knn" / "knn.ipynb")
    nb = reference_submission(src, read(workdir / "release" / "01_knn" / "knn.ipynb"))
    sources = reference_sources("01_knn")
    mutants = {m.name: m for m in T.load("01_knn").mutants}
    for name in PLANTED.values():
        sources = apply(sources, mutants[name])
    for cell in nb.cells:
        if is_answer(cell):
            cell.source = sources[grade_id(cell)]
    subs = workdir / "subs"
    (subs / "several_bugs" / "01_knn").mkdir(parents=True)
    nbformat.write(nb, str(subs / "several_bugs" / "01_knn" / "knn.ipynb"))
    return subs


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["nbgrader", "sandbox"])
def test_several_mutants_in_one_submission_lose_exactly_their_cells(engine, tmp_path):
    subs = _mutated_submission(tmp_path)
    rows = grade(subs, course_dir=tmp_path / "course", engine=engine, progress=False)
    auto = {r.cell: r for r in rows if r.kind == "auto"}
    assert set(auto) == set(T.load("01_knn").tasks)
    for cell, r in auto.items():
        if cell in PLANTED:
            assert r.points == 0, f"{cell} should have caught its mutant ({engine})"
        else:
            assert r.points == r.max_points, f"{cell} lost points: {r.message} ({engine})"


@pytest.mark.slow
def test_demo_runs_on_a_fresh_copy(tmp_path, capsys):
    assert course(["demo", "--workdir", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "as expected" in out and "reference" in out and "buggy" in out
    assert (tmp_path / "demo" / "course_grades.csv").exists()
    pages = list((tmp_path / "demo" / "feedback").glob("*/*/*.html"))
    assert pages
    assert not list((tmp_path / "demo" / "feedback").glob("*/*/*.json"))


def test_grade_names_a_missing_submissions_folder(tmp_path):
    with pytest.raises(SystemExit, match="not a folder"):
        grade(tmp_path / "nope", course_dir=tmp_path / "c")


def test_grade_says_when_nothing_matches(tmp_path):
    (tmp_path / "subs" / "alice" / "99_unknown").mkdir(parents=True)
    with pytest.raises(SystemExit, match="no submissions found"):
        grade(tmp_path / "subs", course_dir=tmp_path / "c")


def test_mutants_command_reports_every_mutant_caught(capsys):
    assert course(["mutants", "01_knn"]) == 0
    out = capsys.readouterr().out
    n = len(T.load("01_knn").mutants)
    assert f"{n}/{n} mutants caught by their own cell only" in out


def test_isolation_is_reported():
    from autograder.isolation import capabilities, describe_isolation

    caps = capabilities()
    text = describe_isolation(caps)
    assert "landlock" in text and "namespaces" in text and "seccomp" in text
    assert set(caps) >= {"landlock", "namespaces", "root", "cgroups", "seccomp", "own_user"}


def test_reference_submission_keeps_release_test_cells(tmp_path):
    generate(["01_knn"], ROOT, tmp_path)
    release = read(tmp_path / "01_knn" / "knn.ipynb")
    nb = reference_submission(read(ROOT / "source" / "01_knn" / "knn.ipynb"), release)
    text = nbformat.writes(nb)
    assert "BEGIN SOLUTION" not in text and "HIDDEN" not in text
    assert "NotImplementedError" not in "".join(c.source for c in nb.cells if is_answer(c))
    shutil.rmtree(tmp_path / "01_knn")


@pytest.mark.slow
def test_stock_nbgrader_autograde_from_the_course_directory(course_copy, monkeypatch):
    """Plain `nbgrader autograde` (no $COURSE_DIR): hidden tests find the course upwards."""
    import subprocess
    import sys

    from nbgrader.api import Gradebook

    monkeypatch.delenv("COURSE_DIR", raising=False)
    course = course_copy
    generate(["01_knn"], course, course / "release")
    src = read(course / "source" / "01_knn" / "knn.ipynb")
    nb = reference_submission(src, read(course / "release" / "01_knn" / "knn.ipynb"))
    (course / "submitted" / "reference" / "01_knn").mkdir(parents=True)
    nbformat.write(nb, str(course / "submitted" / "reference" / "01_knn" / "knn.ipynb"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_DIR")}
    for args in (["generate_assignment", "01_knn", "--force"], ["autograde", "01_knn"]):
        proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_submission("01_knn", "reference").code_score == 15


@pytest.mark.slow
def test_a_source_notebook_runs_in_its_own_folder(course_copy, monkeypatch):
    """How an instructor validates a source notebook: opened in source/<assignment>/."""
    from nbclient import NotebookClient

    monkeypatch.delenv("COURSE_DIR", raising=False)
    folder = course_copy / "source" / "01_knn"
    nb = read(folder / "knn.ipynb")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")   # quick mode
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors[0]
