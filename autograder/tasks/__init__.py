"""Graded tasks: one per autograded test cell, keyed by its grade id.

A task names what it tests in the student's namespace (its *target*: a
function, a class or a variable), its visible cases (public, from
``assignments``), a generator of hidden cases (here, never released), the
"no loops" rule where it applies, and the library functions that are its
own answer (``own``: calling them earns nothing).  Hidden cases are drawn
from a generator seeded by (grading seed, task id), so the same seed always
gives the same cases, and expected values come from the reference solution
in ``source/`` (see ``autograder.notebooks.reference_namespace``), passed to
the generator as ``solution``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import zlib
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from assignments.cases import Case

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

    - task_id: the test cell's grade id.
    - target: the name the cell tests in the student's namespace: a function,
      a class, or a variable (such as chosen hyperparameters) when every case
      brings its own ``call``.
    - visible: () -> the visible cases (those of the notebook's check).
    - hidden: (rng, solution) -> hidden cases; ``solution`` is the reference
      solution's namespace, the source of expected values.
    - vectorized: the target's own code may contain no Python loop.
    - own: "module:function" paths of the library functions that are this
      task's answer; a submission that hands the task to them scores 0.
    - loops_allowed_in: names of graded helpers the target may call whose
      loops do not count against ``vectorized`` (their own cells bound them:
      col2im may loop over the offsets inside a window).
    """

    task_id: str
    target: str
    visible: Callable[[], list] = lambda: []
    hidden: Callable[[np.random.Generator, dict], list] = lambda rng, solution: []
    vectorized: bool = False
    own: tuple = ()
    loops_allowed_in: tuple = ()


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
    demo_bug: Mutant | None = None   # the mutant named by the module's DEMO_BUG


def grading_seed(seed=None) -> int:
    """An explicit seed, else $COURSE_GRADING_SEED, else ``DEFAULT_SEED``.

    ``course grade`` passes each course's secret seed (``autograder.course.course_seed``);
    the default serves in-process tools (``course mutants``, the seed sweeps).
    """
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
    mutants = list(mod.MUTANTS)
    demo = getattr(mod, "DEMO_BUG", None)
    demo_bug = None
    if demo is not None:
        named = [m for m in mutants if m.name == demo]
        if len(named) != 1:
            raise KeyError(f"{assignment}: DEMO_BUG {demo!r} names no mutant (or several)")
        demo_bug = named[0]
    return TaskModule(assignment, {t.task_id: t for t in mod.TASKS}, mutants, demo_bug)


def hidden_cases(task: Task, solution: dict, seed: int) -> list:
    """The task's hidden cases for ``seed``; the generator runs with the reference's
    functions as the building blocks (``assignments.adapters``), so an expected value
    computed by running a model is the course's model on the course's layers."""
    from assignments.adapters import building_blocks

    with building_blocks(solution):
        cases = task.hidden(task_rng(seed, task.task_id), solution)
    return [replace(c, hidden=True) for c in cases]


def all_cases(task: Task, solution: dict, seed: int) -> list:
    return list(task.visible()) + hidden_cases(task, solution, seed)


__all__ = ["Task", "Mutant", "TaskModule", "load", "grading_seed", "task_rng",
           "hidden_cases", "all_cases", "Case", "DEFAULT_SEED"]
