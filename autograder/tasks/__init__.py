"""Graded tasks: one per autograded test cell, keyed by its grade id.

A task names the student function it tests, its visible cases (public, from
``assignments``), a generator of hidden cases (here, never released) and
optional static checks of the answer's source.  Hidden cases are drawn from
a generator seeded by (grading seed, task id), so the same seed always
gives the same cases, and expected values come from the reference solution
in ``source/`` (see ``autograder.notebooks.reference_namespace``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import zlib
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from assignments.checks import Case, CheckFailed

DEFAULT_SEED = 20261123



def _extend_path() -> None:
    """Also search COURSE_TASK_MODULES=/path/a:/path/b (e.g. a test fixture course).

    Read at every lookup, not at import, so the variable may be set later.
    """
    for extra in filter(None, os.environ.get("COURSE_TASK_MODULES", "").split(os.pathsep)):
        if extra not in __path__:  # noqa: F821  (package __path__)
            __path__.append(extra)  # noqa: F821



def module_name(assignment: str) -> str:
    """The module of this package holding an assignment's TASKS and MUTANTS.

    "01_knn" -> "knn", "03_two_layer_net" -> "two_layer_net".
    """
    return assignment.split("_", 1)[1]


def has_tasks(assignment: str) -> bool:
    _extend_path()
    return importlib.util.find_spec(f"{__name__}.{module_name(assignment)}") is not None


@dataclass(frozen=True)
class Task:
    """One graded test cell.

    ``function`` names what the cell tests in the student's namespace: a
    function, a class, or a variable (such as chosen hyperparameters) when
    every case brings its own ``call``.
    """

    task_id: str
    function: str
    visible: Callable[[], list] = lambda: []
    hidden: Callable[[np.random.Generator, dict], list] = lambda rng, ref: []
    static: Callable[[str, str], list] | None = None
    answer_cell: str | None = None


@dataclass(frozen=True)
class Mutant:
    """A plausible bug: replace ``old`` by ``new`` once in answer cell ``cell``.

    ``task`` is the grade id of the one test cell that must catch it.
    """

    name: str
    task: str
    cell: str
    old: str
    new: str
    description: str = ""


@dataclass
class TaskModule:
    assignment: str
    tasks: dict = field(default_factory=dict)
    mutants: list = field(default_factory=list)
    demo_bug: Mutant | None = None


def grading_seed(seed=None) -> int:
    if seed is not None:
        return int(seed)
    return int(os.environ.get("COURSE_GRADING_SEED", DEFAULT_SEED))


def task_rng(seed: int, task_id: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(task_id.encode())])


def module_file(assignment: str) -> str | None:
    """Path of the task module's source (part of what a grade depends on)."""
    _extend_path()
    spec = importlib.util.find_spec(f"{__name__}.{module_name(assignment)}")
    return spec.origin if spec else None


def load(assignment: str) -> TaskModule:
    if not has_tasks(assignment):
        raise KeyError(f"no graded tasks for {assignment!r}: create autograder/tasks/"
                       f"{module_name(assignment)}.py")
    mod = importlib.import_module(f"{__name__}.{module_name(assignment)}")
    return TaskModule(assignment, {t.task_id: t for t in mod.TASKS}, list(mod.MUTANTS),
                      getattr(mod, "DEMO_BUG", None))


def hidden_cases(task: Task, ref: dict, seed: int) -> list:
    return [replace(c, hidden=True) for c in task.hidden(task_rng(seed, task.task_id), ref)]


def all_cases(task: Task, ref: dict, seed: int) -> list:
    return list(task.visible()) + hidden_cases(task, ref, seed)


def check_static_of(task: Task, fn) -> None:
    """``check_static`` on the source of a live function (as IPython keeps it)."""
    if task.static is None:
        return
    import inspect

    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        source = ""
    check_static(task, source)


def check_static(task: Task, source: str) -> None:
    """Raise CheckFailed if the task's static checks object to ``source``."""
    if task.static is None:
        return
    findings = task.static(source, task.function)
    if findings:
        raise CheckFailed(f"{task.function} " + "; ".join(findings))


__all__ = ["Task", "Mutant", "TaskModule", "load", "grading_seed", "task_rng",
           "hidden_cases", "all_cases", "check_static", "Case", "DEFAULT_SEED"]
