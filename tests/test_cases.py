"""Unit tests for assignments/cases.py and assignments/static.py."""

import re

import numpy as np
import pytest

from assignments.cases import (Case, CheckFailed, NotDefined, Ref, compare,
                               library, resolve_refs, run_cases, student, value_of)
from assignments.static import check_no_loops, loop_findings


def run_case(fn, case, name=None, namespace=None):
    run_cases(fn, [case], name=name, namespace=namespace, quiet=True)


def fails(got, expected, **kw):
    """The message of the CheckFailed that compare raises."""
    with pytest.raises(CheckFailed) as info:
        compare(got, expected, **kw)
    return str(info.value)


# --------------------------------------------------------------------------
# compare: type, then shape, then dtype kind, then values
# --------------------------------------------------------------------------

def test_equal_values_pass():
    compare(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    compare(np.array([1, 2]), np.array([1, 2]))
    compare(3.0, 3.0)
    compare(np.float64(3.0), 3)
    compare(np.array([[0.5]]), 0.5)  # a single-entry array for a number is accepted


def test_type_is_checked_first():
    msg = fails([1.0, 2.0, 3.0], np.array([1.0, 2.0, 3.0]), name="dists")
    assert msg == "dists: expected a numpy array of shape (3,), got a list"
    # a wrong type is reported as such even when the shape is also wrong
    assert "got a list" in fails([1.0], np.zeros((2, 2)))
    assert fails("3", 3.0) == "output: expected a number, got a str"
    assert fails(None, 3.0) == "output: expected a number, got None"


def test_shape_is_checked_before_dtype_and_values():
    msg = fails(np.zeros(2), np.array([1, 2, 3]))
    assert msg == "output: expected shape (3,), got shape (2,)"
    assert fails(np.zeros((3, 1)), np.zeros(3)) == "output: expected shape (3,), got shape (3, 1)"
    assert "expected shape ()" in fails(np.zeros(2), 1.0)


def test_integer_expected_float_given_fails_with_message():
    msg = fails(np.array([1.0, 2.0]), np.array([1, 2]), name="labels")
    assert msg.startswith("labels: expected integers (e.g. labels), got dtype float64")
    assert ".astype(int)" in msg
    # bool is not an integer answer either
    assert "got dtype bool" in fails(np.array([True, False]), np.array([1, 0]))


def test_integer_mismatch_names_count_and_first_index():
    msg = fails(np.array([0, 5, 2, 7]), np.array([0, 1, 2, 3]), name="y_pred")
    assert msg == "y_pred: 2 of 4 entries are wrong; first at index (1,): got 5, expected 1"
    msg = fails(np.array([[1, 2], [3, 9]]), np.array([[1, 2], [3, 4]]))
    assert "first at index (1, 1): got 9, expected 4" in msg


def test_non_numeric_arrays_refused():
    assert "expected numbers, got dtype <U1" in fails(np.array(["a", "b"]), np.array([1.0, 2.0]))
    assert "expected numbers, got dtype object" in fails(np.array([1.0, None]), np.zeros(2))


def test_float_mismatch_names_the_worst_index():
    expected = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    got = expected.copy()
    got[0, 0] += 1e-3       # small relative error
    got[1, 2] = -6.0        # the worst one
    msg = fails(got, expected, name="scores")
    assert msg.startswith("scores: values differ; worst entry at index (1, 2): got -6, "
                          "expected 6 (relative error 1)")


def test_tolerances():
    compare(1.0 + 1e-7, 1.0)                      # within rtol=1e-6
    fails(1.0 + 1e-5, 1.0)
    compare(1e-9, 0.0)                            # within atol=1e-8
    fails(1e-7, 0.0)
    compare(1.05, 1.0, rtol=0.1)
    fails(np.array([1.2]), np.array([1.0]), rtol=0.1)


def test_scalar_mismatch_says_value():
    assert fails(2.5, 2.0) == ("output: values differ; got 2.5, expected 2 "
                               "(relative error 0.11)")


# --------------------------------------------------------------------------
# nan / inf
# --------------------------------------------------------------------------

def test_nan_where_finite_expected():
    msg = fails(np.array([1.0, np.nan, 3.0]), np.array([1.0, 2.0, 3.0]), name="loss")
    assert msg == "loss: got nan at index (1,) where a finite number was expected"
    assert fails(np.inf, 2.0) == "output: got inf where a finite number was expected"


def test_nan_and_inf_expected():
    compare(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]))
    compare(np.array([np.inf, -np.inf]), np.array([np.inf, -np.inf]))
    fails(np.array([1.0]), np.array([np.nan]))


@pytest.mark.parametrize("got", [-np.inf, 5.0, 1e308, np.nan])
def test_inf_expected_accepts_only_the_same_inf(got):
    msg = fails(np.array([0.0, got]), np.array([0.0, np.inf]))
    assert "index (1,)" in msg


# --------------------------------------------------------------------------
# containers, strings, None
# --------------------------------------------------------------------------

def test_tuples_entry_by_entry():
    compare((np.array([1, 2]), 0.5), (np.array([1, 2]), 0.5))
    compare([1.0, 2.0], (1.0, 2.0))  # a list is accepted for a tuple
    msg = fails((np.array([1, 2]), 0.7), (np.array([1, 2]), 0.5), name="out")
    assert msg.startswith("out[1]: values differ; got 0.7, expected 0.5")
    assert fails((1.0,), (1.0, 2.0)) == "output: expected a tuple of 2 values, got a tuple of length 1"
    assert fails(np.zeros(2), (1.0, 2.0)).startswith("output: expected a tuple of 2 values, "
                                                     "got a numpy array")


def test_lists_entry_by_entry():
    compare([1.0, np.array([2, 3])], [1.0, np.array([2, 3])])
    assert fails([1.0, 3.0], [1.0, 2.0]).startswith("output[1]: values differ")
    assert fails([1.0], [1.0, 2.0]) == "output: expected a list of 2 values, got a list of length 1"


def test_dicts_with_int_keys():
    expected = {1: 0.5, 3: np.array([1, 2])}
    compare({1: 0.5, 3: np.array([1, 2]), 7: "extra keys are fine"}, expected)
    assert fails({1: 0.5}, expected, name="acc") == "acc: missing key 3"
    assert fails({1: 0.5, 3: np.array([1, 5])}, expected, name="acc").startswith(
        "acc[3]: 1 of 2 entries are wrong")
    assert fails([0.5], expected) == "output: expected a dict, got a list"
    assert fails({"k": 2.0}, {"k": 1.0}).startswith("output['k']: values differ")


def test_strings_and_none():
    compare("relu", "relu")
    assert fails("tanh", "relu") == "output: expected 'relu', got 'tanh'"
    compare(None, None)
    assert fails(0.0, None) == "output: expected None, got a float"
    assert fails(np.zeros(2), None) == ("output: expected None, got a numpy array of dtype "
                                        "float64 and shape (2,)")


# --------------------------------------------------------------------------
# hidden cases never reveal the expected value
# --------------------------------------------------------------------------

SECRET_F = 8765.4321
SECRET_I = 97531


@pytest.mark.parametrize("got, expected", [
    (np.array([1.0, 2.0]), np.array([1.0, SECRET_F])),
    (1.0, SECRET_F),
    (np.array([0, 1]), np.array([0, SECRET_I])),
    (np.array(3), np.array(SECRET_I)),
    ("guess", f"secret-{SECRET_I}"),
    ((1.0, (2.0, 3.0)), (1.0, (2.0, SECRET_F))),
    ({0: 1.0}, {0: SECRET_F}),
    ([np.array([np.nan])], [np.array([SECRET_F])]),
    (SECRET_I + 1.0, float(SECRET_I)),
])
def test_hidden_messages_never_contain_the_expected_value(got, expected):
    revealed = fails(got, expected, reveal=True)
    hidden = fails(got, expected, reveal=False)
    assert str(SECRET_I) in revealed or "8765" in revealed or "nan" in revealed
    for secret in (str(SECRET_I), "8765", "8.765"):
        assert secret not in hidden, hidden
    assert not re.search(r"expected '?-?\d", hidden), hidden


def test_hidden_message_still_says_where_and_how_badly():
    msg = fails(np.array([1.0, 3.0]), np.array([1.0, 2.0]), reveal=False)
    assert msg == "output: values differ; worst entry at index (1,): your value 3 is wrong " \
                  "(relative error 0.2)"
    msg = fails(np.array([4, 1]), np.array([0, 1]), reveal=False)
    assert msg == "output: 1 of 2 entries are wrong; first at index (0,) (your value 4)"


# --------------------------------------------------------------------------
# run_case / run_cases
# --------------------------------------------------------------------------

def double(x):
    return 2 * x


def test_run_cases_passes_and_prints(capsys):
    cases = [Case("two numbers", (np.array([1.0, 2.0]),), expected=np.array([2.0, 4.0])),
             Case("kwargs", kwargs={"x": np.array([3])}, expected=np.array([6]))]
    run_cases(double, cases)
    assert capsys.readouterr().out == "ok: double passed 2 checks\n"
    run_cases(double, cases[:1], name="my_double")
    assert capsys.readouterr().out == "ok: my_double passed 1 check\n"
    run_cases(double, cases, quiet=True)
    assert capsys.readouterr().out == ""


def test_run_case_names_the_case():
    case = Case("3 test x 5 train points", (np.array([1.0]),), expected=np.array([3.0]))
    with pytest.raises(CheckFailed) as info:
        run_case(double, case)
    assert str(info.value).startswith("double, case '3 test x 5 train points': output: values differ")
    hidden = Case("big", (np.array([1.0]),), expected=np.array([3.0]), hidden=True,
                  output="dists")
    with pytest.raises(CheckFailed) as info:
        run_case(double, hidden, name="compute")
    msg = str(info.value)
    assert msg.startswith("compute, hidden case 'big': dists: values differ")
    assert msg.endswith("your value 2 is wrong (relative error 0.2)")
    assert "3" not in msg  # the expected value


def test_run_cases_stops_at_first_failure():
    calls = []

    def fn(x):
        calls.append(x)
        return x

    cases = [Case("a", (1.0,), expected=1.0), Case("b", (2.0,), expected=5.0),
             Case("c", (3.0,), expected=3.0)]
    with pytest.raises(CheckFailed, match="case 'b'"):
        run_cases(fn, cases)
    assert calls == [1.0, 2.0]


def test_run_cases_refuses_non_callable():
    with pytest.raises(CheckFailed, match="expected a function, got an int"):
        run_cases(3, [])


def test_in_place_modification_is_detected_and_case_left_intact():
    def normalize_in_place(X):
        X /= X.sum()
        return X

    X = np.array([1.0, 3.0])
    case = Case("row", (X,), expected=np.array([0.25, 0.75]))
    with pytest.raises(CheckFailed) as info:
        run_case(normalize_in_place, case)
    assert "case 'row'" in str(info.value)
    assert "changed its argument 1 in place" in str(info.value)
    assert np.array_equal(case.args[0], [1.0, 3.0])  # the function got a copy


@pytest.mark.parametrize("where", ["kwargs", "nested list", "dict"])
def test_in_place_modification_inside_containers(where):
    def fn(data=None, *args):
        target = data if data is not None else args[0]
        if isinstance(target, dict):
            target["W"][0] = 99.0
        elif isinstance(target, list):
            target[1][0] = 99.0
        else:
            target[0] = 99.0
        return 0.0

    if where == "kwargs":
        case = Case("kw", kwargs={"data": np.zeros(2)}, expected=0.0)
    elif where == "nested list":
        case = Case("lst", args=([np.zeros(1), np.zeros(2)],), expected=0.0)
    else:
        case = Case("dct", args=({"W": np.zeros(2)},), expected=0.0)
    with pytest.raises(CheckFailed, match="in place"):
        run_case(fn, case)


def test_exceptions_from_the_function_propagate_unchanged():
    original = IndexError("index 7 is out of bounds")

    def broken(x):
        raise original

    with pytest.raises(IndexError) as info:
        run_cases(broken, [Case("a", (1.0,), expected=1.0)])
    assert info.value is original
    # the traceback says which case raised it (a note, shown under the message)
    assert info.value.__notes__ == ["(raised by broken, case 'a')"]

    def student_assert(x):
        assert x > 5, "my own assertion"

    with pytest.raises(AssertionError) as info:
        run_cases(student_assert, [Case("a", (1.0,), expected=1.0)])
    assert not isinstance(info.value, CheckFailed)
    assert str(info.value).startswith("my own assertion")


def test_case_check_callable_is_used():
    seen = []

    def at_least_half(out, case):
        seen.append((out, case.label))
        if out < 0.5:
            raise CheckFailed(f"accuracy {out} is below 0.5")

    run_cases(value_of, [Case("good", (0.7,), verify=at_least_half)], quiet=True)
    with pytest.raises(CheckFailed, match="value_of, case 'bad': accuracy 0.2 is below 0.5"):
        run_cases(value_of, [Case("bad", (0.2,), verify=at_least_half)])
    assert seen == [(0.7, "good"), (0.2, "bad")]


# --------------------------------------------------------------------------
# Ref
# --------------------------------------------------------------------------

def test_ref_student_resolves_from_namespace():
    ns = {"predict": double}
    assert student("predict").resolve(ns) is double
    with pytest.raises(NotDefined, match="`train` is not defined; run the cell that defines it"):
        student("train").resolve(ns)
    with pytest.raises(NotDefined, match="`predict` is not defined"):
        student("predict").resolve(None)


def test_ref_public_only_inside_assignments():
    assert library("assignments.cases:value_of").resolve() is value_of
    for name in ("os:system", "autograder.wire:pack", "assignmentsx:thing",
                 "assignments_evil:run", "builtins:eval"):
        with pytest.raises(ValueError, match="library references must point into assignments/"):
            library(name).resolve()
    with pytest.raises(ValueError, match="unknown reference kind 'builtin'"):
        Ref("builtin", "eval").resolve()


def test_resolve_refs_nested_and_case_call():
    ns = {"best_params": {"lr": 0.1}, "f": double}
    resolved = resolve_refs({"a": [student("f"), (student("best_params"), 3)]}, ns)
    assert resolved == {"a": [double, ({"lr": 0.1}, 3)]}
    # a case that hands a student's variable to the grader as data
    case = Case("params", args=(student("best_params"),), expected={"lr": 0.1},
                call=library("assignments.cases:value_of"))
    run_case(None, case, name="best_params", namespace=ns)
    wrong = Case("params", args=(student("best_params"),), expected={"lr": 0.5},
                 call=library("assignments.cases:value_of"))
    with pytest.raises(CheckFailed, match=r"best_params, case 'params': output\['lr'\]"):
        run_case(None, wrong, name="best_params", namespace=ns)


def test_value_of_is_identity():
    obj = {"x": [1, 2]}
    assert value_of(obj) is obj


# --------------------------------------------------------------------------
# find_loops / check_no_loops
# --------------------------------------------------------------------------

LOOPY = '''
def target(X, Y):
    for i in range(3):
        pass
    while False:
        pass
    a = [x for x in X]
    b = {x for x in X}
    c = {x: 1 for x in X}
    d = sum(x for x in X)
    e = np.linalg.norm(X - Y)
    f = numpy.linalg.norm(X)
    import scipy.spatial
    from scipy.spatial import distance
    return np.sqrt(X)

def other(X):
    for x in X:
        pass
'''


def test_loop_findings_finds_every_kind():
    found = loop_findings(LOOPY, "target")
    assert sorted(found) == sorted([
        "a for loop on line 3",
        "a while loop on line 5",
        "a list comprehension on line 7",
        "a set comprehension on line 8",
        "a dict comprehension on line 9",
        "a generator expression on line 10",
        "a call to np.linalg.norm on line 11",
        "a call to numpy.linalg.norm on line 12",
        "an import of scipy.spatial on line 13",
        "an import of scipy.spatial on line 14",
    ])
    # each finding once, even when two banned names match the same call
    assert found.count("a call to np.linalg.norm on line 11") == 1


def test_loop_findings_only_looks_at_the_named_function():
    assert loop_findings(LOOPY, "other") == ["a for loop on line 18"]
    assert loop_findings(LOOPY, "missing") == ["no definition of missing in its cell"]
    # without banned calls, norm is allowed
    assert not any("norm" in f for f in loop_findings(LOOPY, "target", banned=()))


@pytest.mark.parametrize("source", ["%time x = 1\ndef f(x):\n    return x\n", "def f(:\n",
                                    "x = " + "+".join(["1"] * 300_000)])
def test_loop_findings_never_raises_on_odd_cells(source):
    found = loop_findings(source, "f")
    assert isinstance(found, list)


def test_loop_findings_accepts_loop_free_code():
    src = '''
    def compute(X, Y):
        d = np.sum(X ** 2, axis=1)[:, None] - 2 * X @ Y.T + np.sum(Y ** 2, axis=1)
        return np.sqrt(np.maximum(d, 0))
    '''
    assert loop_findings(src, "compute") == []


def _loop_free(X):
    return np.sqrt(np.sum(X ** 2, axis=1))


def _with_norm(X):
    return np.linalg.norm(X, axis=1)


def _with_genexp(X):
    return np.array(list(np.sum(x) for x in X))


def test_check_no_loops_on_real_functions():
    check_no_loops(_loop_free)
    with pytest.raises(CheckFailed) as info:
        check_no_loops(_with_norm)
    assert str(info.value) == ("_with_norm must be fully vectorized; found "
                               "a call to np.linalg.norm on line 2")
    with pytest.raises(CheckFailed, match="_with_genexp must be fully vectorized.*generator "
                                          "expression on line 2"):
        check_no_loops(_with_genexp)

    def nested(X):
        out = []
        for row in X:
            out.append(row)
        return out

    with pytest.raises(CheckFailed, match="a for loop on line 3"):
        check_no_loops(nested)


def test_check_no_loops_without_source():
    with pytest.raises(CheckFailed, match="cannot read the source of"):
        check_no_loops(len)
