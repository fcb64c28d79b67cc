"""The reference passes every task; every mutant fails its own task and no other."""

import pytest

from autograder import tasks as T
from autograder.mutants import (apply, evaluate, format_report, reference_sources,
                                run_mutants)
from conftest import graded_assignments

ASSIGNMENTS = graded_assignments()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_solution_passes_every_task(assignment):
    outcome = evaluate(assignment, reference_sources(assignment), T.grading_seed())
    assert {t: m for t, m in outcome.items() if m} == {}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_cases_alone_catch_every_mutant_in_its_own_cell(assignment):
    """Hidden cases test the same requirements on other inputs.  (All cases together, for 20
    grading seeds: tests/test_seed_sweep.py.)"""
    results = run_mutants(assignment, which="hidden")
    assert all(r.killed_cleanly for r in results), format_report(results)


# Mutants no visible case can catch, and why.  A tuned model's accuracy floor needs a
# training run at grading (the visible check verifies the recipe's format and ranges); the
# others are open (issue 20.1): their requirement must get a visible case.
TRAINING_ONLY = "the accuracy floor is reached by training at grading"
OPEN = "open: the requirement has no visible case yet (issue 20.1)"
NOT_VISIBLE = {
    "pool backward: the maximum of a different window (shape swapped)": OPEN,
    "col2im: field height and width swapped": OPEN,
    "pool fast forward: reshape used for overlapping windows": OPEN,
    "pool fast backward: overlapping windows added back with stride 1": OPEN,
    "spatial bn forward: always train mode": OPEN,
}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_hidden_case_is_never_the_first_to_ask(assignment):
    """Every mutant is caught by a visible case of its own cell (a student meets the
    requirement before grading), except the listed ones; a listed one that is caught now
    must leave the list."""
    module = T.load(assignment)
    tuned = {t for t in module.tasks if "tuned" in t}   # TRAINING_ONLY
    results = run_mutants(assignment, which="visible")
    missed = {r.mutant.name for r in results if r.mutant.task not in r.failed
              and r.mutant.task not in tuned}
    listed = {r.mutant.name for r in results} & set(NOT_VISIBLE)
    assert missed == listed, {"newly missed": sorted(missed - listed),
                              "caught now, unlist": sorted(listed - missed)}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_at_least_three_mutants_per_graded_function(assignment):
    module = T.load(assignment)
    for task_id in module.tasks:
        n = sum(m.task == task_id for m in module.mutants)
        assert n >= 3, f"{assignment}/{task_id} has only {n} mutants"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_mutant_still_applies_to_the_solution(assignment):
    base = reference_sources(assignment)
    for m in T.load(assignment).mutants:
        assert apply(base, m)[m.cell] != base[m.cell]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_cases_are_deterministic_for_a_seed(assignment):
    from autograder.notebooks import reference_namespace
    import numpy as np

    ref = reference_namespace(assignment)
    for task in T.load(assignment).tasks.values():
        a = T.hidden_cases(task, ref, 7)
        b = T.hidden_cases(task, ref, 7)
        c = T.hidden_cases(task, ref, 8)
        assert [x.label for x in a] == [x.label for x in b]
        for x, y in zip(a, b):
            for u, v in zip(x.args, y.args):
                if isinstance(u, np.ndarray):
                    assert np.array_equal(u, v)
        assert all(x.hidden for x in a)
        del c
