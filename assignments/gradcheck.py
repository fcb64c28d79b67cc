"""Numerical gradients and how to compare them with analytic ones.

All numerical gradients use the centered difference

    df/dx_i  ~=  (f(x + h e_i) - f(x - h e_i)) / (2 h)

whose error shrinks like h**2 (the one-sided formula's shrinks like h).
Every function perturbs ``x`` in place, one entry at a time, and puts the
original value back before moving on, so ``x`` is unchanged afterwards even
when ``f`` raises.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cases import CheckFailed, compare, describe_worst

__all__ = [
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "grad_check_sparse",
    "rel_error",
    "assert_gradients_close",
    "model_gradients",
    "check_model_gradients",
    "SparseCheck",
    "GRADIENT_FLOOR",
]

# Entries whose |analytic| + |numeric| is below the floor are judged on their
# absolute error (at most tol * floor) instead of their relative error.  Why:
# a centred difference with h = 1e-5 of a loss |f| <= 10 carries a rounding
# error of about 2 * 2.2e-16 * |f| / (2 h) ~ 2e-10 plus a truncation error of
# h**2 / 6 times the third derivative, so the relative error of an entry of
# 1e-6 is mostly noise.  With the floor 1e-2 and tol >= 1e-7 the absolute
# allowance is at least 1e-9, several times that noise; a wrong entry smaller
# than that cannot matter.
GRADIENT_FLOOR = 1e-2


def _require_float_array(x, name="x"):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{name} must hold floats to be perturbed by h, got dtype {x.dtype}; "
            f"convert it first, e.g. {name}.astype(np.float64)"
        )


def _centered_difference(f, x, ix, h):
    """(f(x + h e_ix) - f(x - h e_ix)) / 2h for scalar f, restoring x[ix] even if f raises."""
    old = x[ix]
    try:
        x[ix] = old + h
        f_plus = float(f(x))
        x[ix] = old - h
        f_minus = float(f(x))
    finally:
        x[ix] = old
    return (f_plus - f_minus) / (2 * h)


def eval_numerical_gradient(f, x, h=1e-5):
    """Centered-difference gradient of a scalar function.

    Inputs:
    - f: callable taking ``x`` and returning a scalar (it is called with the
      very array ``x``, perturbed in place).
    - x: float array of any shape, the point to differentiate at.
    - h: step size.

    Returns:
    - grad: array of the same shape as ``x``, grad[i] ~= df/dx[i].
    """
    _require_float_array(x)
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        grad[it.multi_index] = _centered_difference(f, x, it.multi_index, h)
        it.iternext()
    return grad


def eval_numerical_gradient_array(f, x, dout, h=1e-5):
    """Centered-difference gradient of sum(f(x) * dout) with respect to x.

    This is how a layer's backward pass is checked: ``dout`` plays the
    upstream gradient dL/d(out), and the result approximates dL/dx.

    Inputs:
    - f: callable taking ``x`` and returning an array shaped like ``dout``.
    - x: float array of any shape.
    - dout: array with the shape of ``f(x)``.
    - h: step size.

    Returns:
    - dx: array shaped like ``x``.
    """
    _require_float_array(x)
    dout = np.asarray(dout)
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        try:
            x[ix] = old + h
            pos = np.array(f(x), dtype=np.float64, copy=True)
            x[ix] = old - h
            neg = np.array(f(x), dtype=np.float64, copy=True)
        finally:
            x[ix] = old
        if pos.shape != dout.shape:
            raise ValueError(
                f"f(x) has shape {pos.shape} but dout has shape {dout.shape}; "
                "dout must have the shape of the function's output"
            )
        grad[ix] = np.sum((pos - neg) * dout) / (2 * h)
        it.iternext()
    return grad


@dataclass
class SparseCheck:
    """Result of ``grad_check_sparse``: one row per checked coordinate."""

    indices: list
    numeric: np.ndarray
    analytic: np.ndarray
    rel_errors: np.ndarray

    @property
    def max_rel_error(self) -> float:
        return float(np.max(self.rel_errors)) if len(self.rel_errors) else 0.0

    def __str__(self) -> str:
        rows = [f"{'index':>16} {'numeric':>14} {'analytic':>14} {'rel. error':>11}"]
        for ix, n, a, r in zip(self.indices, self.numeric, self.analytic, self.rel_errors):
            rows.append(f"{str(ix):>16} {n:14.6e} {a:14.6e} {r:11.2e}")
        rows.append(f"max relative error: {self.max_rel_error:.2e}")
        return "\n".join(rows)


def grad_check_sparse(f, x, analytic_grad, num_checks=10, rng=None, h=1e-5):
    """Compare an analytic gradient with the numerical one at random entries.

    Checking every entry of a large weight matrix is slow; a handful of
    random coordinates catches almost every bug.

    Inputs:
    - f: scalar function of ``x``.
    - x: float array, the point of evaluation (restored afterwards).
    - analytic_grad: array shaped like ``x``.
    - num_checks: how many coordinates to test.
    - rng: numpy.random.Generator that picks the coordinates.

    Returns a ``SparseCheck`` (print it for a table).
    """
    if rng is None:
        raise TypeError("grad_check_sparse needs rng=np.random.default_rng(seed)")
    _require_float_array(x)
    analytic_grad = np.asarray(analytic_grad)
    if analytic_grad.shape != x.shape:
        raise ValueError(
            f"analytic_grad has shape {analytic_grad.shape}, expected {x.shape} (the shape of x)"
        )
    indices, numeric, analytic, errors = [], [], [], []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        num = _centered_difference(f, x, ix, h)
        ana = float(analytic_grad[ix])
        indices.append(ix)
        numeric.append(num)
        analytic.append(ana)
        errors.append(rel_error(np.float64(num), np.float64(ana)))
    return SparseCheck(indices, np.array(numeric), np.array(analytic), np.array(errors))


def rel_error(x, y, eps=1e-8):
    """Largest relative error between two arrays.

    max_i |x_i - y_i| / max(eps, |x_i| + |y_i|)

    Two zeros give 0 (not nan); ``eps`` only matters when both entries are
    tiny, so huge values do not overflow into inf.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error needs equal shapes, got {x.shape} and {y.shape}")
    if x.size == 0:
        return 0.0
    # |x| + |y| computed as two halves so 1e308 + 1e308 does not overflow.
    # eps is halved too, so the result is exactly |x - y| / max(eps, |x| + |y|).
    scale = np.maximum(eps / 2, np.abs(x) / 2 + np.abs(y) / 2)
    diff = np.abs(x / 2 - y / 2)
    return float(np.max(diff / scale))


def assert_gradients_close(analytic, numeric, name="gradient", tol=1e-7, floor=GRADIENT_FLOOR):
    """Raise ``CheckFailed`` unless rel_error(analytic, numeric, floor) <= tol.

    The message names the parameter, the worst index, both values there and
    the relative error, e.g. ``dW disagrees with the numerical gradient; worst
    entry at index (3, 1): analytic 0.25, numeric -0.25 (relative error 1)``.
    See ``GRADIENT_FLOOR`` for why tiny entries are judged on absolute error.
    Returns the relative error.
    """
    __tracebackhide__ = True
    if not isinstance(analytic, (np.ndarray, np.generic, float, int)):
        raise CheckFailed(f"{name}: expected a numpy array of shape {np.shape(numeric)}, got "
                          f"{type(analytic).__name__}")
    analytic = np.asarray(analytic)
    numeric = np.asarray(numeric)
    if analytic.shape != numeric.shape:
        raise CheckFailed(
            f"{name}: expected shape {numeric.shape} (the shape of the numerical gradient), "
            f"got shape {analytic.shape}"
        )
    if not np.all(np.isfinite(analytic)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(analytic))[0])
        where = f" at index {bad}" if bad else ""
        raise CheckFailed(f"{name}: the analytic gradient is {analytic[bad]}{where}")
    err = rel_error(analytic, numeric, floor)
    if err > tol:
        raise CheckFailed(
            f"{name} disagrees with the numerical gradient; "
            f"{describe_worst(analytic, numeric, 'analytic', 'numeric')}; "
            f"relative error {err:.3g} > tolerance {tol:.0e}"
        ).with_traceback(None) from None
    return err


def model_gradients(model, X, y, names=None, seed=0, h=1e-5):
    """Analytic and numerical gradients of a model's loss at its current parameters.

    Every call of ``model.loss`` (train mode) gets a fresh
    ``np.random.default_rng(seed)``, so random layers draw the same masks
    each time and the loss is a fixed function of the parameters.  The
    model's ``state`` is put back afterwards.

    Returns (loss, grads, numeric): ``grads`` as the model returned them,
    ``numeric`` name -> centred-difference gradient, for ``names`` (default:
    every parameter).
    """
    from .solver import call_loss

    saved_state = dict(getattr(model, "state", {}) or {})

    def loss_at(_):
        return call_loss(model, X, y, mode="train", rng=np.random.default_rng(seed))[0]

    try:
        loss, grads = call_loss(model, X, y, mode="train", rng=np.random.default_rng(seed))
        numeric = {name: eval_numerical_gradient(loss_at, model.params[name], h)
                   for name in (names or list(model.params))}
    finally:
        if hasattr(model, "state"):
            model.state = saved_state
    return loss, grads, numeric


def check_model_gradients(model, X, y, tol=1e-6, names=None, seed=0, verbose=True) -> dict:
    """Gradient-check every parameter of a model; print the errors; raise on a bad one.

    Returns name -> relative error.
    """
    __tracebackhide__ = True
    _, grads, numeric = model_gradients(model, X, y, names, seed)
    errors = {}
    for name, num in numeric.items():
        if not isinstance(grads, dict) or name not in grads:
            raise CheckFailed(f"grads has no entry {name!r}; its keys must match params")
        errors[name] = assert_gradients_close(grads[name], num, f"grads[{name!r}]", tol)
    if verbose:
        print("relative errors: " + ", ".join(f"{k} {v:.1e}" for k, v in errors.items()))
    return errors


def gradients_match(expected_loss=None, tol=1e-6):
    """A ``Case.verify`` for a model's ``(loss, grads, numeric)`` (the output of
    ``assignments.adapters.model_gradcheck`` and its kin): the loss, when
    ``expected_loss`` is given, and every analytic gradient against its numerical one."""
    def verify(out, case):
        loss, grads, numeric = out
        if expected_loss is not None:
            compare(loss, expected_loss, "loss", rtol=1e-7, reveal=not case.hidden)
        for name, num in numeric.items():
            if name not in grads:
                raise CheckFailed(f"grads has no entry {name!r}; its keys must match params")
            assert_gradients_close(grads[name], num, f"grads[{name!r}]", tol)
    return verify
