"""Seed sweeps: a grade must not depend on the grading seed.

``sweep_reference`` runs the reference solution against the hidden cases of
many seeds; ``sweep_mutants`` checks that every mutant is caught by its own
cell, and by no other, for every seed.  Both are in-process, like
``course mutants``.  A case identical for every seed (an accuracy floor on
fixed data) gives the same verdict every time, so it is judged once per
solution and only the cases that change with the seed are judged per seed.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import pickle
import sys

from assignments.blocks import building_blocks

from . import tasks as _tasks
from .judging import TaskVerdict, evaluate_in_process, passed_message
from .mutants import apply, reference_sources
from .notebooks import ANSWER_PREFIX, blocks_text, exec_answers, reference_namespace

__all__ = ["sweep_reference", "sweep_mutants"]


def _light(value):
    """A cheap stand-in for a big array in a fingerprint: shape, dtype, a strided sample."""
    import numpy as np

    if isinstance(value, np.ndarray) and value.size > 10_000:
        flat = value.ravel()
        return ("array", value.shape, str(value.dtype), flat[::97].tobytes())
    if isinstance(value, (tuple, list)):
        return type(value)(_light(v) for v in value)
    if isinstance(value, dict):
        return {k: _light(v) for k, v in value.items()}
    return value


def _fingerprint(case) -> str:
    h = hashlib.sha256(case.label.encode())
    try:
        h.update(pickle.dumps(_light((case.args, case.kwargs, case.call)), protocol=4))
    except Exception:  # noqa: BLE001 - unpicklable arguments: treat the case as new
        h.update(str(id(case)).encode())
    return h.hexdigest()


def _seed_cases(assignment: str, seeds) -> dict:
    """task id -> (cases common to every seed, {seed: the cases that change})."""
    module = _tasks.load(assignment)
    solution = reference_namespace(assignment)
    out = {}
    for tid, task in module.tasks.items():
        per_seed = {s: _tasks.hidden_cases(task, solution, s) for s in seeds}
        counts: dict = {}
        for cases in per_seed.values():
            for fp in {_fingerprint(c) for c in cases}:
                counts[fp] = counts.get(fp, 0) + 1
        common_fp = {fp for fp, n in counts.items() if n == len(per_seed)}
        first = per_seed[seeds[0]]
        common = [c for c in first if _fingerprint(c) in common_fp]
        changing = {s: [c for c in cases if _fingerprint(c) not in common_fp]
                    for s, cases in per_seed.items()}
        out[tid] = (common, changing)
    return out


def _verdicts(assignment, namespace, cases_by_task, seeds, only=None) -> dict:
    """task id -> {seed: TaskVerdict} for one solution (the reference or a mutant), for every
    task or the tasks ``only``."""
    with building_blocks(reference_namespace(assignment)):   # as the grader hands them
        return _verdicts_with_blocks(assignment, namespace, cases_by_task, seeds, only)


def _verdicts_with_blocks(assignment, namespace, cases_by_task, seeds, only=None) -> dict:
    module = _tasks.load(assignment)
    out = {}
    for tid, task in module.tasks.items():
        if only is not None and tid not in only:
            continue
        common, changing = cases_by_task[tid]
        base = evaluate_in_process(task, namespace, common)
        if not base.passed:
            out[tid] = {s: base for s in seeds}
            continue
        out[tid] = {}
        for s in seeds:
            v = evaluate_in_process(task, namespace, changing[s]) if changing[s] else base
            out[tid][s] = v if not v.passed else TaskVerdict(
                True, "passed", passed_message(common + changing[s]))
    return out


def sweep_reference(assignment: str, seeds) -> dict:
    """(task id, seed) -> failure message, for every hidden case the reference fails."""
    seeds = list(seeds)
    cases = _seed_cases(assignment, seeds)
    ns = exec_answers(reference_sources(assignment).items(), blocks=blocks_text(assignment))
    found = _verdicts(assignment, ns, cases, seeds)
    return {(tid, s): v.message for tid, by_seed in found.items() for s, v in by_seed.items()
            if not v.passed}


class _CellsThatRun:
    """``with _CellsThatRun() as r: ...`` then ``r.cells``: the answer cells (grade ids) whose
    functions ran.  A profile function, so the judge's own trace (``sys.settrace``) runs as
    usual beside it."""

    def __init__(self):
        self.cells: set = set()

    def _profile(self, frame, event, arg):
        if event == "call":
            code = frame.f_code
            # functions only (a cell's own code and its class bodies run when it is executed)
            if code.co_flags & inspect.CO_OPTIMIZED and \
                    code.co_filename.startswith(ANSWER_PREFIX):
                self.cells.add(code.co_filename[len(ANSWER_PREFIX):-1])

    def __enter__(self):
        self._previous = sys.getprofile()
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc):
        sys.setprofile(self._previous)
        return False


def _bodies_blanked(code: str) -> str:
    """``code`` with the body of every function replaced by ``pass``: what runs when the cell
    is executed, and not when its functions are called."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.body = [ast.Pass()]
    return ast.dump(tree)


def _only_in_function_bodies(before: str, after: str) -> bool:
    try:
        return _bodies_blanked(before) == _bodies_blanked(after)
    except (SyntaxError, ValueError, RecursionError):
        return False


def sweep_mutants(assignment: str, seeds) -> dict:
    """mutant name -> list of (seed, tasks that failed) where it was not caught cleanly.

    A task is judged again under a mutant only when it can see the mutant: a mutant that
    changes only the bodies of functions changes nothing until one of them runs, so a task
    during whose reference run (every seed) no function of the mutated cell ran, and whose
    inputs no function of that cell computed when the answers were executed, gets the
    reference's verdicts.  Any other mutant is judged on every task.
    """
    seeds = list(seeds)
    cases = _seed_cases(assignment, seeds)
    base = reference_sources(assignment)
    blocks = blocks_text(assignment)
    with _CellsThatRun() as at_exec:
        ref_ns = exec_answers(base.items(), blocks=blocks)
    reference, touched = {}, {}
    for tid in cases:
        with _CellsThatRun() as ran:
            reference.update(_verdicts(assignment, ref_ns, {tid: cases[tid]}, seeds, [tid]))
        touched[tid] = ran.cells
    problems = {}
    for m in _tasks.load(assignment).mutants:
        mutated = apply(base, m)
        ns = exec_answers(mutated.items(), blocks=blocks)
        if m.cell in at_exec.cells or not _only_in_function_bodies(base[m.cell], mutated[m.cell]):
            found = _verdicts(assignment, ns, cases, seeds)
        else:
            judged = [t for t in cases if t == m.task or m.cell in touched[t]]
            found = {**reference, **_verdicts(assignment, ns, cases, seeds, judged)}
        for s in seeds:
            failed = sorted(tid for tid, by_seed in found.items() if not by_seed[s].passed)
            if failed != [m.task]:
                problems.setdefault(m.name, []).append((s, failed))
    return problems
