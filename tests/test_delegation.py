"""An answer that hands its task to the course's own answer earns nothing.

Notebooks 2, 3 and 6 list ``DELEGATION_MUTANTS``: answer cells whose body calls what
used to be the library's copy of the answer (``from assignments.layers import
affine_forward as _reference``, ``from assignments.convolution import im2col as
_reference``).  The package holds no answer of any graded function any more (their one
home is the source notebook), so such an answer cannot run: it fails its own cell, and
no other.  Notebook 4's faster update rules
(``assignments.fast.optim``, out of the student edition) are still answers a full
install holds: handing a rule to them is caught by the grader's trace (``own=``).
"""

import importlib

import pytest

from autograder import tasks
from autograder.mutants import apply, evaluate, reference_sources
from autograder.tasks import Mutant

CASES = [(assignment, mutant)
         for assignment in ("02_linear_classifiers", "03_two_layer_net", "06_cnn")
         for mutant in importlib.import_module(
             f"autograder.tasks.{tasks.module_name(assignment)}").DELEGATION_MUTANTS]


@pytest.mark.parametrize("assignment,mutant", CASES, ids=[m.name for _, m in CASES])
def test_delegating_to_the_course_reference_earns_nothing(assignment, mutant):
    module, _, reference = mutant.name.rsplit(" delegated to ", 1)[1].rpartition(".")
    assert not hasattr(importlib.import_module(module), reference)
    sources = apply(reference_sources(assignment), mutant)
    failed = {t for t, msg in evaluate(assignment, sources, tasks.grading_seed()).items() if msg}
    assert failed == {mutant.task}


def test_handing_an_update_rule_to_the_fast_copy_is_caught():
    assignment = "04_optimizers_init"
    module = tasks.load(assignment)
    assert module.tasks["adam"].own == ("assignments.fast.optim:adam",)
    cell = next(m.cell for m in module.mutants if m.task == "adam")
    sources = reference_sources(assignment)
    body = sources[cell]
    start = body.index("def adam(")
    header_end = body.index('"""', body.index('"""', start) + 3) + 3
    delegate = ("\n    from assignments.fast.optim import adam as _fast\n"
                "    return _fast(w, dw, config)\n")
    mutant = Mutant("adam-delegates-to-fast", "adam", cell, body[header_end:], delegate)
    failed = {t: msg for t, msg in evaluate(assignment, apply(sources, mutant),
                                            tasks.grading_seed()).items() if msg}
    assert set(failed) == {"adam"}
    assert "assignments.fast.optim" in failed["adam"]
