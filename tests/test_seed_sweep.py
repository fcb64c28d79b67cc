"""Grades never depend on luck: the reference passes, and every mutant is caught by its own
cell, for every grading seed we try (200 seeds for the reference, 20 for the mutants)."""

import warnings

import pytest

from autograder.sweep import sweep_mutants, sweep_reference
from conftest import graded_assignments

ASSIGNMENTS = graded_assignments()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_passes_every_hidden_case_for_200_seeds(assignment):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        failures = sweep_reference(assignment, range(1000, 1200))
    assert failures == {}, failures


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_mutant_is_caught_by_its_own_cell_for_20_seeds(assignment):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        problems = sweep_mutants(assignment, range(2000, 2020))
    assert problems == {}, problems
