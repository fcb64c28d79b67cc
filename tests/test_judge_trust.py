"""The judge believes values, never verdicts.

Everything the sandbox sends about an attempt is forged here, field by
field, and the trusted judge (``autograder.judging.judge_outcome``) must never
turn any of it into points: only a returned value equal to the expected
one, with the arguments unchanged, passes.  Hidden-case messages carry
nothing the sandbox sent.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from assignments.cases import ATTEMPT_KINDS, Case
from autograder.replay import Outcome
from autograder.tasks import Task
from autograder.judging import Sources, judge_outcome

X = np.arange(6.0).reshape(2, 3)
EXPECTED = X * 2
TASK = Task("double", "double")
VISIBLE = Case("visible", args=(X,), expected=EXPECTED)
HIDDEN = Case("hidden", args=(X + 1,), expected=(X + 1) * 2, hidden=True)
SECRET = "SECRET-7f3a"

KINDS = list(ATTEMPT_KINDS) + ["passed", "PASSED", "ok", "", " returned", "returned ",
                               "wrong", "delegated", "timeout", "static", "not-run",
                               "(not text)", SECRET, "passed\x00", "Returned"]


def _attempt(kind, **extra):
    return {"kind": kind, "detail": extra.get("detail", SECRET),
            "exception": extra.get("exception", SECRET),
            "frames": extra.get("frames", [["<cell x>", 3, SECRET]])}


def _data(case, output):
    return {"output": output, "args": tuple(case.args), "kwargs": dict(case.kwargs)}


def _judge(cases, results, outputs, ran=None):
    outcome = Outcome("ok", results=results, outputs=outputs, ran=ran)
    return judge_outcome(TASK, cases, outcome, None, Sources([]))


def test_only_a_returned_value_equal_to_the_expected_one_passes():
    good = _judge([VISIBLE], [_attempt("returned")], [_data(VISIBLE, EXPECTED)])
    assert good.passed and not good.forged
    # a "mutated-input" claim is the sandbox's word: ignored, the arguments decide
    claim = _judge([VISIBLE], [_attempt("mutated-input")], [_data(VISIBLE, EXPECTED)])
    assert claim.passed


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("output", ["right", "wrong", "none", "malformed", "missing-args"])
def test_no_kind_and_no_field_turns_a_wrong_or_missing_value_into_points(kind, output):
    data = {"right": _data(VISIBLE, EXPECTED), "wrong": _data(VISIBLE, EXPECTED + 1),
            "none": None, "malformed": {"output": EXPECTED},
            "missing-args": {"output": EXPECTED, "args": None, "kwargs": {}}}[output]
    verdict = _judge([VISIBLE], [_attempt(kind)], [data])
    should_pass = kind in ("returned", "mutated-input") and output == "right"
    assert verdict.passed == should_pass, (kind, output, verdict)
    if kind not in ATTEMPT_KINDS:
        assert verdict.forged, f"an unknown kind {kind!r} must be reported"
    if kind in ("returned", "mutated-input") and output in ("none", "malformed",
                                                           "missing-args"):
        assert verdict.forged


def test_arguments_changed_in_place_fail_whatever_the_sandbox_says():
    changed = {"output": EXPECTED, "args": (X * 0,), "kwargs": {}}
    for kind in ("returned", "mutated-input"):
        verdict = _judge([VISIBLE], [_attempt(kind)], [changed])
        assert not verdict.passed and "changed its argument 1 in place" in verdict.message
    extra = {"output": EXPECTED, "args": (X, X), "kwargs": {}}
    assert not _judge([VISIBLE], [_attempt("returned")], [extra]).passed


def test_a_report_of_what_ran_cannot_pass_a_failing_case():
    ran = {"student": [], "course": [], "intact": True}
    assert not _judge([VISIBLE], [_attempt("returned")], [_data(VISIBLE, EXPECTED + 1)],
                      ran).passed


def test_fewer_answers_than_cases_fail():
    verdict = _judge([VISIBLE, HIDDEN], [_attempt("returned")], [_data(VISIBLE, EXPECTED)])
    assert not verdict.passed


@pytest.mark.parametrize("kind,output", list(itertools.product(
    ATTEMPT_KINDS + ("passed", SECRET), ["wrong", "shape", "type", "nan", "none"])))
def test_hidden_messages_hold_nothing_the_sandbox_sent(kind, output):
    hidden_out = {"wrong": (X + 1) * 2 + 0.5, "shape": np.zeros((77, 3)), "type": [SECRET],
                  "nan": np.full((2, 3), np.nan), "none": None}[output]
    results = [_attempt("returned"), _attempt(kind, detail=SECRET + " 77",
                                              exception=f"{SECRET}Error",
                                              frames=[["<cell answer>", 77, SECRET]])]
    outputs = [_data(VISIBLE, EXPECTED), _data(HIDDEN, hidden_out)]
    verdict = _judge([VISIBLE, HIDDEN], results, outputs)
    assert not verdict.passed
    assert "hidden case 'hidden'" in verdict.message
    # (the finding's own words, such as "not finite (nan or inf)", are trusted vocabulary)
    for leak in (SECRET, "77", "0.5", "list", "line", "index"):
        assert leak not in verdict.message, verdict.message


def test_only_the_blocks_own_code_runs_under_their_name():
    """The grader reads the building blocks from its own copy: their module, classes and
    functions pass (their loops count), any other code under their name cannot be read."""
    from autograder.rules import loops_in_ran_code
    from autograder.sandbox.kernel import BLOCKS_NAME

    text = ("def relu(x):\n    return x * (x > 0)\n\n\nclass Net:\n    def loss(self):\n"
            "        for _ in range(3):\n            pass\n")
    theirs = lambda f: text if f == BLOCKS_NAME else None  # noqa: E731
    ran = [[BLOCKS_NAME, 1, "<module>"], [BLOCKS_NAME, 1, "relu"], [BLOCKS_NAME, 5, "Net"]]
    assert loops_in_ran_code(ran, theirs) == []
    assert "for loop" in " ".join(loops_in_ran_code([[BLOCKS_NAME, 6, "Net.loss"]], theirs))
    for forged in ([BLOCKS_NAME, 1, "_squared_norms"], [BLOCKS_NAME, 2, "relu"]):
        assert loops_in_ran_code([forged], theirs) == \
            [f"code the grader cannot read ({BLOCKS_NAME}, {forged[2]})"]
    assert loops_in_ran_code([[BLOCKS_NAME, 1, "<module>"]], lambda f: None) == \
        [f"code the grader cannot read ({BLOCKS_NAME}, <module>)"]
