"""Seed sweeps: a grade must not depend on the grading seed.

``sweep_reference`` runs the reference solution against the hidden cases of
many seeds; ``sweep_mutants`` checks that every mutant is caught by its own
cell, and by no other, for every seed.  Both are in-process, like
``course mutants``.  A case identical for every seed (an accuracy floor on
fixed data) gives the same verdict every time, so it is judged once per
solution and only the cases that change with the seed are judged per seed.
"""

from __future__ import annotations

import hashlib
import pickle

from assignments.blocks import building_blocks

from . import tasks as _tasks
from .judging import TaskVerdict, evaluate_in_process, passed_message
from .mutants import apply, reference_sources
from .notebooks import blocks_text, exec_answers, reference_namespace

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


def _verdicts(assignment, namespace, cases_by_task, seeds) -> dict:
    """task id -> {seed: TaskVerdict} for one solution (the reference or a mutant)."""
    with building_blocks(reference_namespace(assignment)):   # as the grader hands them
        return _verdicts_with_blocks(assignment, namespace, cases_by_task, seeds)


def _verdicts_with_blocks(assignment, namespace, cases_by_task, seeds) -> dict:
    module = _tasks.load(assignment)
    out = {}
    for tid, task in module.tasks.items():
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


def sweep_mutants(assignment: str, seeds) -> dict:
    """mutant name -> list of (seed, tasks that failed) where it was not caught cleanly."""
    seeds = list(seeds)
    cases = _seed_cases(assignment, seeds)
    base = reference_sources(assignment)
    problems = {}
    for m in _tasks.load(assignment).mutants:
        ns = exec_answers(apply(base, m).items(), blocks=blocks_text(assignment))
        found = _verdicts(assignment, ns, cases, seeds)
        for s in seeds:
            failed = sorted(tid for tid, by_seed in found.items() if not by_seed[s].passed)
            if failed != [m.task]:
                problems.setdefault(m.name, []).append((s, failed))
    return problems
