"""The student edition holds no answer (issue 19).

Built from a copy of the course: the wheel and the release notebooks are
scanned for graded definitions, and every function and class a student
working on a task can reach (the edition's package, and the course_blocks.py
of every notebook released up to that one) is run as the student's answer
through the task's visible and hidden cases: none may pass.
"""

from __future__ import annotations

import importlib
import inspect
import types
import zipfile

import numpy as np
import pytest

from autograder import edition, tasks
from autograder.course import CourseError
from autograder.judging import evaluate_in_process
from autograder.notebooks import reference_namespace


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    import shutil

    from conftest import ROOT

    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(ROOT / "source", course / "source")
    out = course.parent / "edition"
    return course, edition.student_edition(out, root=course, announce=lambda s: None)


def test_the_edition_has_notebooks_a_wheel_and_no_grader(built):
    course, ed = built
    assert ed.assignments == sorted(p.name for p in (course / "source").iterdir())
    assert "06_cnn" in ed.assignments
    names = zipfile.ZipFile(ed.wheel).namelist()
    for kept in ("solver.py", "notebooks/expected/03_two_layer_net.npz", "convolution.py",
                 "convnet.py", "notebooks/cnn.py", "notebooks/cnn_fast.py",
                 "notebooks/cnn_model.py", "notebooks/cnn_plots.py",
                 "notebooks/expected/06_cnn.npz"):
        assert f"assignments/{kept}" in names, kept
    assert any(n.startswith("assignments/data/bundled/") for n in names)
    assert not [n for n in names if n.startswith(("autograder/", "assignments/fast/"))]
    for a in ed.assignments:
        assert (ed.out / "notebooks" / a).is_dir()
    for a in ("05_batchnorm_dropout", "06_cnn"):
        assert (ed.out / "notebooks" / a / "course_blocks.py").is_file()


def test_no_file_of_the_edition_defines_a_graded_function(built):
    course, ed = built
    graded = edition.graded_definitions(course)
    assert {"compute_distances_no_loops", "affine_backward", "adam", "batchnorm_backward",
            "FullyConnectedNet", "TwoLayerNet", "conv_forward_naive", "im2col", "col2im",
            "max_pool_backward_fast", "spatial_groupnorm_backward",
            "ThreeLayerConvNet"} <= set(graded)
    with zipfile.ZipFile(ed.wheel) as zf:
        for name in zf.namelist():
            if name.endswith(".py"):
                assert not edition.definitions(zf.read(name).decode(), graded), name
    # course_blocks.py holds earlier notebooks' answers only
    for path in (ed.out / "notebooks").glob("*/course_blocks.py"):
        here = path.parent.name
        found = edition.definitions(path.read_text(), graded)
        assert found and all(graded[n] < here for n in found), (here, found)


def test_the_scan_finds_a_copy_and_the_build_refuses_it(tmp_path, built):
    course, _ = built
    graded = edition.graded_definitions(course)
    leaky = tmp_path / "helpers.py"
    leaky.write_text("def affine_backward(dout, cache):\n    x, w, b = cache\n"
                     "    return dout @ w.T, x.T @ dout, dout.sum(0)\n\n"
                     "def svm_loss(scores, y):\n    raise NotImplementedError\n")
    assert edition.scan({"assignments/helpers.py": leaky}, graded) == \
        ["assignments/helpers.py: affine_backward (03_two_layer_net)"]


def test_a_notebook_whose_answers_the_package_holds_cannot_be_in_an_edition(built, tmp_path,
                                                                             monkeypatch):
    course, _ = built
    assert edition.NOT_YET == {}     # notebook 6, the last one, moved its answers out (issue 19)
    monkeypatch.setitem(edition.NOT_YET, "06_cnn", "its answers live in the package")
    with pytest.raises(CourseError, match="06_cnn cannot be in a student edition yet"):
        edition.student_edition(tmp_path / "e", ["06_cnn"], root=course)
    with pytest.raises(CourseError, match="would overwrite"):
        edition.student_edition(course / "release", ["01_knn"], root=course)


def _reachable(ed, upto: str) -> dict:
    """label -> callable: every function and class of the edition's package, and of the
    course_blocks.py of the notebooks released up to ``upto``."""
    found = {}
    with zipfile.ZipFile(ed.wheel) as zf:
        modules = [n[:-3].replace("/", ".").removesuffix(".__init__")
                   for n in zf.namelist() if n.endswith(".py")]
    for name in modules:
        if name.endswith("__main__"):
            continue
        module = importlib.import_module(name)   # the same files as the course's package
        for attr, value in vars(module).items():
            if (inspect.isfunction(value) or inspect.isclass(value)) and \
                    getattr(value, "__module__", None) == name:
                found[f"{name}.{attr}"] = value
    for path in sorted((ed.out / "notebooks").glob("*/course_blocks.py")):
        if path.parent.name > upto:
            continue
        module = types.ModuleType(f"course_blocks_{path.parent.name}")
        exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
        for attr, value in vars(module).items():
            if inspect.isfunction(value) or inspect.isclass(value):
                found[f"{path.parent.name}/course_blocks.{attr}"] = value
    return found


@pytest.mark.slow
def test_nothing_a_student_can_reach_passes_a_graded_task(built):
    course, ed = built
    failures, judged = [], set()
    for assignment in ed.assignments:
        if not tasks.has_tasks(assignment):
            continue
        judged.add(assignment)
        solution = reference_namespace(assignment, course)
        reach = _reachable(ed, assignment)
        for task in tasks.load(assignment).tasks.values():
            cases = list(task.visible()) + tasks.hidden_cases(task, solution, 7)
            if not cases:
                continue
            for label, candidate in reach.items():
                try:
                    verdict = evaluate_in_process(task, {task.target: candidate}, cases)
                except Exception:   # noqa: BLE001 - a crash in the check is not a pass
                    continue
                if verdict.passed:
                    failures.append(f"{assignment}/{task.task_id} passes with {label}")
    assert "06_cnn" in judged
    assert not failures, failures
