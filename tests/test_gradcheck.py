"""Unit tests for assignments/gradcheck.py."""

import numpy as np
import pytest

from assignments.cases import CheckFailed
from assignments.gradcheck import (SparseCheck, assert_gradients_close, eval_numerical_gradient,
                                   eval_numerical_gradient_array, grad_check_sparse, rel_error)


# --------------------------------------------------------------------------
# eval_numerical_gradient
# --------------------------------------------------------------------------

def test_numerical_gradient_of_sum_of_cubes():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    grad = eval_numerical_gradient(lambda x: np.sum(x ** 3), x)
    assert grad.shape == x.shape
    assert grad.dtype == np.float64
    # centered differences: absolute error h**2 * f'''/6 = 1e-10, i.e. ~1e-8
    # relative to the smallest entry here (0.005); a wrong gradient is off by >= 1e-1
    assert rel_error(grad, 3 * x ** 2) < 1e-7


def test_numerical_gradient_is_centered_not_one_sided():
    # f = x**2 at x = 1: centered gives exactly 2 (up to rounding), the
    # forward difference gives 2 + h; with h = 1e-3 the two are far apart.
    x = np.array([1.0])
    grad = eval_numerical_gradient(lambda x: float(x[0] ** 2), x, h=1e-3)
    assert grad[0] == pytest.approx(2.0, abs=1e-9)


def test_numerical_gradient_of_quadratic_form():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(5, 5))
    x = rng.normal(size=5)
    grad = eval_numerical_gradient(lambda x: x @ A @ x, x)
    assert rel_error(grad, (A + A.T) @ x) < 1e-8


def test_numerical_gradient_of_0d_array():
    x = np.array(2.0)
    grad = eval_numerical_gradient(lambda x: float(x) ** 3, x)
    assert grad.shape == ()
    assert grad == pytest.approx(12.0, rel=1e-8)


def test_numerical_gradient_array_of_matrix_product():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 3))
    W = rng.normal(size=(3, 5))
    dout = rng.normal(size=(4, 5))
    dx = eval_numerical_gradient_array(lambda x: x @ W, x, dout)
    assert dx.shape == x.shape
    assert rel_error(dx, dout @ W.T) < 1e-8
    dW = eval_numerical_gradient_array(lambda W: x @ W, W, dout)
    assert rel_error(dW, x.T @ dout) < 1e-8


def test_numerical_gradient_array_uses_dout():
    # with dout = 0 everywhere except one output, only that output's
    # derivative appears; a wrong implementation that ignores dout fails here.
    x = np.array([1.0, 2.0, 3.0])
    dout = np.array([0.0, 2.0, 0.0])
    dx = eval_numerical_gradient_array(lambda x: x ** 2, x, dout)
    assert np.allclose(dx, [0.0, 2.0 * 2 * 2.0, 0.0], atol=1e-8)


def test_numerical_gradient_array_copes_with_f_returning_a_view():
    # f(x) = x returns the very array that is being perturbed; the result
    # must be copied before x changes again, else the gradient is 0.
    x = np.array([1.0, -2.0])
    dout = np.array([3.0, 5.0])
    dx = eval_numerical_gradient_array(lambda x: x, x, dout)
    assert np.allclose(dx, dout)


def test_numerical_gradient_array_shape_mismatch_with_dout():
    x = np.array([1.0, 2.0])
    before = x.copy()
    with pytest.raises(ValueError, match=r"f\(x\) has shape \(2,\) but dout has shape \(3,\)"):
        eval_numerical_gradient_array(lambda x: x * 2, x, np.ones(3))
    assert np.array_equal(x, before)


# --------------------------------------------------------------------------
# x is restored, bit for bit
# --------------------------------------------------------------------------

def _awkward_values(rng, shape, h=1e-5):
    """Values for which restoring x by arithmetic is not exact.

    Both ``(x + h) - h`` and ``((x + h) - 2h) + h`` differ from ``x`` in the
    last bit for each of them, so only putting the saved value back passes.
    """
    x = rng.uniform(1e-4, 1e-3, size=20000) * rng.choice([-1, 1], size=20000)
    bad = (((x + h) - h) != x) & ((((x + h) - 2 * h) + h) != x)
    picked = x[bad][: int(np.prod(shape))]
    assert picked.size == int(np.prod(shape))
    return picked.reshape(shape)


def test_values_chosen_do_expose_arithmetic_restoration():
    # sanity check of the test itself
    x = _awkward_values(np.random.default_rng(3), (20,))
    assert np.all((x + 1e-5) - 1e-5 != x)
    assert np.all(((x + 1e-5) - 2e-5) + 1e-5 != x)


@pytest.mark.parametrize("which", ["scalar", "array", "sparse"])
def test_input_is_bit_identical_afterwards(which):
    rng = np.random.default_rng(3)
    x = _awkward_values(rng, (4, 5))
    before = x.tobytes()
    if which == "scalar":
        eval_numerical_gradient(lambda x: np.sum(np.sin(x)), x)
    elif which == "array":
        eval_numerical_gradient_array(lambda x: np.sin(x), x, np.ones_like(x))
    else:
        grad_check_sparse(lambda x: np.sum(np.sin(x)), x, np.cos(x), num_checks=15,
                          rng=np.random.default_rng(0))
    assert x.tobytes() == before


@pytest.mark.parametrize("which", ["scalar", "array", "sparse"])
@pytest.mark.parametrize("fail_on", ["plus", "minus"])
def test_input_is_restored_when_f_raises_partway(which, fail_on):
    rng = np.random.default_rng(4)
    x = _awkward_values(rng, (3, 3))
    before = x.copy()
    calls = []

    def f(z):
        calls.append(z.copy())
        # raise on the 5th call (3rd coordinate, "+h" side) or the 6th ("-h" side)
        if len(calls) == (5 if fail_on == "plus" else 6):
            # prove the array really was perturbed when f raised
            assert not np.array_equal(z, before)
            raise RuntimeError("boom")
        return np.sum(z ** 2) if which != "array" else z ** 2

    with pytest.raises(RuntimeError, match="boom"):
        if which == "scalar":
            eval_numerical_gradient(f, x)
        elif which == "array":
            eval_numerical_gradient_array(f, x, np.ones_like(x))
        else:
            grad_check_sparse(f, x, 2 * x, num_checks=5, rng=np.random.default_rng(0))
    assert x.tobytes() == before.tobytes()
    # exactly one entry differed from x in the call that raised
    assert np.count_nonzero(calls[-1] != before) == 1


def test_float32_input_restored_and_gradient_float64():
    x = np.array([0.1, 0.7, 3.3], dtype=np.float32)
    before = x.tobytes()
    grad = eval_numerical_gradient(lambda x: float(np.sum(x.astype(np.float64) * 2)), x, h=1e-2)
    assert x.tobytes() == before
    assert x.dtype == np.float32
    assert grad.dtype == np.float64
    assert np.allclose(grad, 2.0, rtol=1e-4)


@pytest.mark.parametrize("fn", [
    lambda x: eval_numerical_gradient(lambda z: 0.0, x),
    lambda x: eval_numerical_gradient_array(lambda z: z, x, np.ones(3)),
    lambda x: grad_check_sparse(lambda z: 0.0, x, np.zeros(3), rng=np.random.default_rng(0)),
])
def test_integer_input_is_refused_clearly(fn):
    x = np.array([1, 2, 3])
    with pytest.raises(TypeError, match=r"must hold floats.*int64.*astype\(np\.float64\)"):
        fn(x)
    assert np.array_equal(x, [1, 2, 3])


def test_non_array_input_is_refused():
    with pytest.raises(TypeError, match="x must be a numpy array, got list"):
        eval_numerical_gradient(lambda z: 0.0, [1.0, 2.0])


# --------------------------------------------------------------------------
# grad_check_sparse
# --------------------------------------------------------------------------

def _cubic_problem():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 7))
    return (lambda x: np.sum(x ** 3)), x, 3 * x ** 2


def test_sparse_check_right_gradient_has_tiny_errors():
    f, x, grad = _cubic_problem()
    result = grad_check_sparse(f, x, grad, num_checks=12, rng=np.random.default_rng(0))
    assert isinstance(result, SparseCheck)
    assert len(result.indices) == 12
    assert result.rel_errors.shape == (12,)
    assert result.max_rel_error < 1e-7
    for ix, num, ana in zip(result.indices, result.numeric, result.analytic):
        assert ana == grad[ix]
        assert num == pytest.approx(grad[ix], rel=1e-6)


def test_sparse_check_wrong_gradient_has_large_errors():
    f, x, grad = _cubic_problem()
    wrong = 2 * x ** 2  # a classic bug: forgot a factor
    result = grad_check_sparse(f, x, wrong, num_checks=8, rng=np.random.default_rng(0))
    # |3 - 2| / (3 + 2) = 0.2 at every entry
    assert np.allclose(result.rel_errors, 0.2, rtol=1e-6)
    assert result.max_rel_error == pytest.approx(0.2, rel=1e-6)


def test_sparse_check_coordinates_come_from_the_rng():
    f, x, grad = _cubic_problem()
    a = grad_check_sparse(f, x, grad, num_checks=10, rng=np.random.default_rng(42))
    b = grad_check_sparse(f, x, grad, num_checks=10, rng=np.random.default_rng(42))
    c = grad_check_sparse(f, x, grad, num_checks=10, rng=np.random.default_rng(43))
    assert a.indices == b.indices
    assert a.indices != c.indices
    assert all(isinstance(ix, tuple) and len(ix) == 2 for ix in a.indices)
    assert all(0 <= i < 6 and 0 <= j < 7 for i, j in a.indices)
    # the coordinates vary (not one fixed entry checked ten times)
    assert len(set(a.indices)) > 5
    # the passed generator is the one consumed
    rng = np.random.default_rng(42)
    state = rng.bit_generator.state
    grad_check_sparse(f, x, grad, num_checks=3, rng=rng)
    assert rng.bit_generator.state != state


def test_sparse_check_needs_an_rng_and_matching_shapes():
    f, x, grad = _cubic_problem()
    with pytest.raises(TypeError, match="default_rng"):
        grad_check_sparse(f, x, grad)
    with pytest.raises(ValueError, match=r"analytic_grad has shape \(7, 6\), expected \(6, 7\)"):
        grad_check_sparse(f, x, grad.T, rng=np.random.default_rng(0))


def test_sparse_check_table_lists_every_row():
    f, x, grad = _cubic_problem()
    result = grad_check_sparse(f, x, grad, num_checks=4, rng=np.random.default_rng(0))
    text = str(result)
    lines = text.splitlines()
    assert len(lines) == 1 + 4 + 1
    assert str(result.indices[0]) in lines[1]
    assert lines[-1].startswith("max relative error:")


# --------------------------------------------------------------------------
# rel_error
# --------------------------------------------------------------------------

def test_rel_error_zero_over_zero_is_zero():
    assert rel_error(0.0, 0.0) == 0.0
    assert rel_error(np.zeros((2, 3)), np.zeros((2, 3))) == 0.0


def test_rel_error_exact_values():
    assert rel_error(1.0, 3.0) == pytest.approx(0.5)
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.2])) == pytest.approx(0.2 / 4.2)
    # the worst entry wins, not the mean
    assert rel_error([1.0, 1.0, 1.0], [1.0, 1.0, -1.0]) == pytest.approx(1.0)
    # symmetric
    assert rel_error(2.0, 5.0) == rel_error(5.0, 2.0)


def test_rel_error_eps_matches_the_documented_formula():
    # |x - y| / max(eps, |x| + |y|) with eps = 1e-8
    assert rel_error(1e-9, 0.0) == pytest.approx(1e-9 / 1e-8)
    assert rel_error(3e-9, 1e-9) == pytest.approx(2e-9 / 1e-8)
    assert rel_error(1e-9, 0.0, eps=1e-6) == pytest.approx(1e-3)


def test_rel_error_huge_values_do_not_overflow():
    assert rel_error(1e308, 1e308) == 0.0
    assert rel_error(1e308, -1e308) == 1.0
    assert rel_error(1.7e308, 0.0) == 1.0
    err = rel_error(np.array([1e308, 1.0]), np.array([5e307, 1.0]))
    assert np.isfinite(err)
    assert err == pytest.approx(0.5e308 / 1.5e308)


def test_rel_error_shape_mismatch_and_empty():
    with pytest.raises(ValueError, match=r"equal shapes.*\(3,\).*\(2,\)"):
        rel_error(np.zeros(3), np.zeros(2))
    assert rel_error(np.zeros(0), np.zeros(0)) == 0.0


# --------------------------------------------------------------------------
# assert_gradients_close
# --------------------------------------------------------------------------

def test_assert_gradients_close_passes_and_returns_error():
    a = np.array([1.0, 2.0])
    assert assert_gradients_close(a, a * (1 + 1e-9), "dW") < 1e-8


def test_assert_gradients_close_message_names_everything():
    analytic = np.zeros((4, 2))
    numeric = np.zeros((4, 2))
    analytic[3, 1], numeric[3, 1] = 0.25, -0.25
    analytic[0, 0], numeric[0, 0] = 1.0, 1.1  # a smaller error elsewhere
    with pytest.raises(CheckFailed) as info:
        assert_gradients_close(analytic, numeric, name="dW", tol=1e-7)
    msg = str(info.value)
    assert msg.startswith("dW disagrees with the numerical gradient; ")
    assert "(3, 1)" in msg
    assert "analytic 0.25" in msg
    assert "numeric -0.25" in msg
    assert "relative error 1 > tolerance 1e-07" in msg


def test_assert_gradients_close_reports_shape_and_non_finite():
    with pytest.raises(CheckFailed, match=r"db: expected shape \(1, 3\) \(the shape of the "
                                          r"numerical gradient\), got shape \(3,\)"):
        assert_gradients_close(np.zeros(3), np.zeros((1, 3)), name="db")
    bad = np.array([[0.0, 1.0], [np.nan, 2.0]])
    with pytest.raises(CheckFailed, match=r"dx: the analytic gradient is nan at index \(1, 0\)"):
        assert_gradients_close(bad, np.zeros((2, 2)), name="dx")


def test_tiny_entries_are_judged_on_absolute_error():
    """A correct gradient whose small entries carry numerical noise passes (issue: nb3 2.5)."""
    numeric = np.array([0.5, 2.9e-6, -1.2])
    analytic = numeric + np.array([0.0, 2e-11, 0.0])   # noise-sized error on the tiny entry
    assert_gradients_close(analytic, numeric, "dscores", tol=1e-7)
    with pytest.raises(CheckFailed, match="relative error"):   # a real error of a tiny entry
        assert_gradients_close(numeric + np.array([0.0, 2.9e-6, 0.0]), numeric, "dscores",
                               tol=1e-7)


def test_correct_softmax_gradient_passes_for_many_seeds():
    from course_answers import answers

    softmax_loss = answers("03_two_layer_net").softmax_loss

    for seed in range(30):
        rng = np.random.default_rng(seed)
        scores = rng.normal(size=(8, 5)) * 2
        y = rng.integers(0, 5, size=8)
        _, dscores = softmax_loss(scores, y)
        num = eval_numerical_gradient(lambda s: softmax_loss(s, y)[0], scores.copy())
        assert_gradients_close(dscores, num, "dscores", tol=1e-7)
