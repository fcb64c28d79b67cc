"""Notebook 5 (batch norm, layer norm, dropout): visible checks and the grader's recipe.

Every backward function is checked on caches built here with the library's
reference forward pass (the caches are fixed by the contract in
``assignments.normalization``), never on the student's forward: one broken
function costs the points of one cell.  For the same reason the hidden
block and the network run with the library's layers swapped in
(``assignments.adapters.library_building_blocks``).

Randomness: a Generator cannot travel to the grader's sandbox, so cases
that need one pass a seed to an adapter here (``dropout_call``,
``block_forward_call``), which makes ``np.random.default_rng(seed)`` on
the spot.  Dropout's own task never compares masks with a reference; it
checks properties whose false-failure probability is bounded (see
``verify_dropout``), so any way of drawing the mask passes.
"""

from __future__ import annotations

import numpy as np

from .. import normalization as norm
from ..adapters import library_building_blocks
from ..cases import Case, CheckFailed, compare, library, run_cases, student
from ..gradcheck import assert_gradients_close, eval_numerical_gradient_array, gradients_match
from ..recipes import Param, Recipe, grader_split
from ..stat_checks import verify_fraction

__all__ = [
    "batchnorm_forward_cases", "batchnorm_backward_cases", "batchnorm_backward_alt_cases",
    "layernorm_forward_cases", "layernorm_backward_cases", "dropout_forward_cases",
    "dropout_backward_cases", "block_forward_cases", "block_backward_cases", "net_init_cases",
    "net_loss_cases", "hyperparameter_cases",
    "check_batchnorm_forward", "check_batchnorm_backward", "check_batchnorm_backward_alt",
    "check_layernorm_forward", "check_layernorm_backward", "check_dropout_forward",
    "check_dropout_backward", "check_block_forward", "check_block_backward",
    "check_net_init", "check_net_loss", "check_hyperparameters",
    "dropout_call", "dropout_seeds", "DROPOUT_CALL", "verify_identity", "verify_dropout",
    "random_net", "block_inputs", "floor_case", "block_forward_call", "block_backward_call",
    "BN_OUTPUT", "LN_OUTPUT", "BLOCK_OUTPUT", "NORM_GRADS", "bn_forward_case",
    "ln_forward_case", "norm_backward_case", "dropout_cases", "block_forward_case",
    "block_backward_case", "block_gradcheck_case", "init_case", "loss_case", "scores_case",
    "gradcheck_case", "net_kwargs", "RECIPE", "TRAINING_DEFAULTS", "train_fc_net",
]

# output names, so that messages say "cache x_hat" or "next running_var"
_NORM_CACHE = ("cache", ("x", "x_hat", "mean", "var", "gamma", "eps"))
BN_OUTPUT = ("out", _NORM_CACHE, ("next", ("running_mean", "running_var")))
LN_OUTPUT = ("out", _NORM_CACHE)
NORM_GRADS = ("dx", "dgamma", "dbeta")
BLOCK_OUTPUT = ("out", ("cache", ("normalization", "activation", "affine_cache", "norm_cache",
                                  "activation_cache", "dropout_cache")), "next_state")


# --------------------------------------------------------------------------
# batch normalization
# --------------------------------------------------------------------------

def bn_forward_case(label, x, gamma, beta, running_mean, running_var, mode="train", rtol=1e-6,
                    expected=None, **kwargs):
    """A batchnorm_forward case; expected from the library unless given."""
    args = (x, gamma, beta, running_mean, running_var, mode)
    if expected is None:
        expected = norm.batchnorm_forward(*args, **kwargs)
    return Case(label, args, kwargs, expected=expected, output=BN_OUTPUT, rtol=rtol,
                atol=1e-8 if x.dtype == np.float64 else 1e-5)


def batchnorm_forward_cases():
    """Visible cases for ``batchnorm_forward``: worked out by hand, then against the library."""
    # feature 0 = (0, 0, 2, 2): mean 1, variance 1, x_hat = (-1, -1, 1, 1)
    # feature 1 = (1, 5, 1, 5): mean 3, variance 4 (std 2), x_hat = (-1, 1, -1, 1)
    # gamma = (2, 0.5), beta = (1, -1): out = gamma * x_hat + beta
    # running averages, momentum 0.9: mean 0.9 * 0 + 0.1 * (1, 3) = (0.1, 0.3),
    #                                var  0.9 * 1 + 0.1 * (1, 4) = (1.0, 1.3)
    x = np.array([[0.0, 1.0], [0.0, 5.0], [2.0, 1.0], [2.0, 5.0]])
    gamma, beta = np.array([2.0, 0.5]), np.array([1.0, -1.0])
    x_hat = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    hand = (gamma * x_hat + beta,
            (x, x_hat, np.array([1.0, 3.0]), np.array([1.0, 4.0]), gamma, 0.0),
            (np.array([0.1, 0.3]), np.array([1.0, 1.3])))
    # test mode: normalized with running mean (1, -1) and running var (4, 0.25), std (2, 0.5)
    rm, rv = np.array([1.0, -1.0]), np.array([4.0, 0.25])
    xt = np.array([[3.0, -1.5], [-1.0, 0.0]])
    xt_hat = np.array([[1.0, -1.0], [-1.0, 2.0]])
    test_hand = (gamma * xt_hat + beta, (xt, xt_hat, rm, rv, gamma, 0.0), (rm, rv))
    rng = np.random.default_rng(50)
    xr = rng.normal(size=(7, 4)) * np.array([0.01, 1.0, 3.0, 10.0]) + np.array([5, -2, 0, 1.0])
    g, b = rng.normal(size=4), rng.normal(size=4)
    m0, v0 = rng.normal(size=4), rng.uniform(0.5, 2, size=4)
    return [
        Case("4 examples x 2 features worked out by hand (eps = 0), train mode",
             (x, gamma, beta, np.zeros(2), np.ones(2), "train"), {"eps": 0.0}, expected=hand,
             output=BN_OUTPUT),
        Case("test mode, worked out by hand (eps = 0): running averages in, unchanged out",
             (xt, gamma, beta, rm, rv, "test"), {"eps": 0.0}, expected=test_hand,
             output=BN_OUTPUT),
        bn_forward_case("7 x 4 random, features of std 0.01 to 10, eps = 1e-5, train mode",
                        xr, g, b, m0, v0, "train"),
        bn_forward_case("the same batch with momentum = 0.5", xr, g, b, m0, v0, "train",
                        momentum=0.5),
        bn_forward_case("the same batch in test mode", xr, g, b, m0, v0, "test"),
    ]


def check_batchnorm_forward(fn):
    """Check ``batchnorm_forward(x, gamma, beta, running_mean, running_var, mode, eps,
    momentum) -> (out, cache, (running_mean, running_var))``."""
    run_cases(fn, batchnorm_forward_cases())


def _norm_forward(kind):
    def forward(x, gamma, beta, eps):
        if kind == "batchnorm":
            return norm.batchnorm_forward(x, gamma, beta, np.zeros_like(gamma),
                                          np.ones_like(gamma), "train", eps)[0]
        return norm.layernorm_forward(x, gamma, beta, eps)[0]
    return forward


def _verify_norm_gradients(kind, expected=None, tol=1e-7):
    """Check (dx, dgamma, dbeta) against numerical gradients of the library's forward
    (and, if given, against ``expected``, e.g. the graph version)."""
    forward = _norm_forward(kind)

    def verify(out, case):
        dout, cache = case.args
        x, _, _, _, gamma, eps = cache
        beta = np.zeros_like(gamma)     # beta does not enter the gradients
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            raise CheckFailed("expected a tuple (dx, dgamma, dbeta)")
        if expected is not None:
            compare(out, expected, NORM_GRADS, rtol=1e-6, atol=1e-9, reveal=not case.hidden)
        numeric = (
            eval_numerical_gradient_array(lambda v: forward(v, gamma, beta, eps), x.copy(), dout),
            eval_numerical_gradient_array(lambda v: forward(x, v, beta, eps), gamma.copy(), dout),
            eval_numerical_gradient_array(lambda v: forward(x, gamma, v, eps), beta.copy(), dout))
        for name, got, num in zip(NORM_GRADS, out, numeric):
            assert_gradients_close(got, num, name, tol)
    return verify


def norm_backward_case(kind, label, dout, x, gamma, expected=None, numeric=False, eps=1e-5,
                       rtol=1e-6):
    """A case for a batch / layer norm backward pass on the library's cache of x."""
    zeros = np.zeros_like(gamma)
    if kind == "batchnorm":
        _, cache, _ = norm.batchnorm_forward(x, gamma, zeros, zeros, np.ones_like(gamma),
                                             "train", eps)
        reference = norm.batchnorm_backward
    else:
        _, cache = norm.layernorm_forward(x, gamma, zeros, eps)
        reference = norm.layernorm_backward
    if numeric:
        return Case(label, (dout, cache), verify=_verify_norm_gradients(kind, expected))
    if expected is None:
        expected = reference(dout, cache)
    atol = 1e-9 if x.dtype == np.float64 else 1e-4
    return Case(label, (dout, cache), expected=expected, output=NORM_GRADS, rtol=rtol, atol=atol)


def _invariance_cases(kind):
    """dout constant along the normalized axis, or dout = x_hat: dx = 0 exactly (by hand)."""
    rng = np.random.default_rng(51 if kind == "batchnorm" else 52)
    x = rng.normal(size=(5, 3)) * 2 + 1
    # batch norm: any gamma (one per feature, constant over the batch); layer norm needs
    # the same gamma for every feature, or dout * gamma is no longer constant along a row
    gamma = np.array([1.5, -0.5, 2.0]) if kind == "batchnorm" else np.full(3, 1.5)
    if kind == "batchnorm":
        _, (_, x_hat, *_), _ = norm.batchnorm_forward(x, gamma, 0 * gamma, 0 * gamma,
                                                      1 + 0 * gamma, eps=0.0)
        dconst = np.tile(np.array([2.0, -1.0, 0.5]), (5, 1))
        what = "dout the same for every example"
    else:
        _, (_, x_hat, *_) = norm.layernorm_forward(x, gamma, 0 * gamma, eps=0.0)
        dconst = np.tile(np.array([[2.0], [-1.0], [0.5], [1.0], [3.0]]), (1, 3))
        what = "gamma = 1.5 and dout the same for every feature of an example"
    # shifting all inputs of a group by one number, or scaling them, leaves x_hat
    # unchanged: no gradient reaches x.  dgamma = sum(dout * x_hat) over the batch,
    # dbeta = sum(dout); with dout = x_hat, dgamma is the sum of x_hat ** 2.  (eps = 0
    # here: with eps > 0 scaling changes x_hat a little, and dx is tiny but not 0.)
    return [
        norm_backward_case(kind, f"{what}: dx = 0 (eps = 0)", dconst, x, gamma,
                           expected=(np.zeros_like(x), np.sum(dconst * x_hat, axis=0),
                                     np.sum(dconst, axis=0)), eps=0.0),
        norm_backward_case(kind, "dout = x_hat: dx = 0, dgamma = sum of x_hat squared (eps = 0)",
                           x_hat, x, gamma,
                           expected=(np.zeros_like(x), np.sum(x_hat * x_hat, axis=0),
                                     np.sum(x_hat, axis=0)), eps=0.0),
    ]


def batchnorm_backward_cases():
    """Visible cases for ``batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)``."""
    rng = np.random.default_rng(53)
    x = rng.normal(size=(6, 4)) * np.array([1.0, 5.0, 0.2, 2.0]) + 3.0
    gamma = rng.normal(size=4)
    dout = rng.normal(size=(6, 4))
    return _invariance_cases("batchnorm") + [
        norm_backward_case("batchnorm", "6 x 4 random: against numerical gradients", dout, x,
                           gamma, numeric=True),
    ]


def batchnorm_backward_alt_cases():
    """Visible cases for ``batchnorm_backward_alt``: the same as the graph version, plus
    agreement with the library's graph version."""
    rng = np.random.default_rng(54)
    x = rng.normal(size=(5, 7)) * 3 - 1
    gamma = rng.normal(size=7)
    dout = rng.normal(size=(5, 7))
    _, cache, _ = norm.batchnorm_forward(x, gamma, 0 * gamma, 0 * gamma, 1 + 0 * gamma)
    graph = norm.batchnorm_backward(dout, cache)
    return batchnorm_backward_cases() + [
        norm_backward_case("batchnorm", "5 x 7 random: equal to the graph version and to "
                           "numerical gradients", dout, x, gamma, expected=graph, numeric=True),
    ]


def check_batchnorm_backward(fn):
    """Check ``batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)``."""
    run_cases(fn, batchnorm_backward_cases())


def check_batchnorm_backward_alt(fn):
    """Check ``batchnorm_backward_alt(dout, cache) -> (dx, dgamma, dbeta)``."""
    run_cases(fn, batchnorm_backward_alt_cases())


# --------------------------------------------------------------------------
# layer normalization
# --------------------------------------------------------------------------

def ln_forward_case(label, x, gamma, beta, expected=None, rtol=1e-6, **kwargs):
    if expected is None:
        expected = norm.layernorm_forward(x, gamma, beta, **kwargs)
    return Case(label, (x, gamma, beta), kwargs, expected=expected, output=LN_OUTPUT, rtol=rtol,
                atol=1e-8 if x.dtype == np.float64 else 1e-5)


def layernorm_forward_cases():
    """Visible cases for ``layernorm_forward(x, gamma, beta, eps) -> (out, cache)``."""
    # row 0 = (0, 0, 2, 2): mean 1, variance 1, x_hat = (-1, -1, 1, 1)
    # row 1 = (1, 5, 1, 5): mean 3, variance 4, x_hat = (-1, 1, -1, 1)
    x = np.array([[0.0, 0.0, 2.0, 2.0], [1.0, 5.0, 1.0, 5.0]])
    x_hat = np.array([[-1.0, -1.0, 1.0, 1.0], [-1.0, 1.0, -1.0, 1.0]])
    gamma, beta = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 0.0, 1.0, -1.0])
    hand = (gamma * x_hat + beta,
            (x, x_hat, np.array([[1.0], [3.0]]), np.array([[1.0], [4.0]]), gamma, 0.0))
    rng = np.random.default_rng(55)
    xr = rng.normal(size=(3, 5)) * np.array([[0.01], [1.0], [20.0]]) + 4.0
    g, b = rng.normal(size=5), rng.normal(size=5)
    one = rng.normal(size=(1, 6))
    return [
        Case("2 examples x 4 features worked out by hand (eps = 0)", (x, gamma, beta),
             {"eps": 0.0}, expected=hand, output=LN_OUTPUT),
        ln_forward_case("3 x 5 random, rows of std 0.01 to 20, eps = 1e-5", xr, g, b),
        ln_forward_case("a batch of one example", one, rng.normal(size=6), rng.normal(size=6)),
    ]


def layernorm_backward_cases():
    """Visible cases for ``layernorm_backward(dout, cache) -> (dx, dgamma, dbeta)``."""
    rng = np.random.default_rng(56)
    x = rng.normal(size=(4, 6)) * 2 + 1
    gamma = rng.normal(size=6)
    dout = rng.normal(size=(4, 6))
    x1 = rng.normal(size=(1, 5))
    return _invariance_cases("layernorm") + [
        norm_backward_case("layernorm", "4 x 6 random: against numerical gradients", dout, x,
                           gamma, numeric=True),
        norm_backward_case("layernorm", "a batch of one: against numerical gradients",
                           rng.normal(size=(1, 5)), x1, rng.normal(size=5), numeric=True),
    ]


def check_layernorm_forward(fn):
    """Check ``layernorm_forward(x, gamma, beta, eps) -> (out, cache)``."""
    run_cases(fn, layernorm_forward_cases())


def check_layernorm_backward(fn):
    """Check ``layernorm_backward(dout, cache) -> (dx, dgamma, dbeta)``."""
    run_cases(fn, layernorm_backward_cases())


# --------------------------------------------------------------------------
# dropout
# --------------------------------------------------------------------------

def dropout_call(fn, x, keep_prob, mode, seed):
    """``fn(x, keep_prob, mode, rng)`` with rng = default_rng(seed) (None if seed is None)."""
    rng = None if seed is None else np.random.default_rng(seed)
    return fn(x, keep_prob, mode, rng)


def dropout_seeds(fn, x, keep_prob, seeds):
    """[fn(x, keep_prob, "train", default_rng(s)) for s in seeds]: is the mask the rng's?"""
    return [fn(x, keep_prob, "train", np.random.default_rng(s)) for s in seeds]


def _pair(out, what="dropout_forward"):
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise CheckFailed(f"{what} must return a tuple (out, cache)")
    return out


def verify_dropout(x, keep_prob, eps):
    """Verify one train-mode call: shape, every unit 0 or x / keep_prob, cache the mask,
    and the fraction of kept units within ``eps`` of keep_prob.

    The fraction is judged on units with x != 0 (n Bernoulli(keep_prob) trials);
    ``verify_fraction`` refuses to run unless 2 exp(-2 n eps^2) < 1e-9, the
    probability that a correct implementation fails (Hoeffding).
    """
    live = x != 0
    n = int(np.sum(live))

    def verify(output, case):
        out, mask = _pair(output)
        if not isinstance(out, np.ndarray) or out.shape != x.shape:
            raise CheckFailed(f"out: expected an array of shape {x.shape}, got "
                              f"{getattr(out, 'shape', type(out).__name__)}")
        if not isinstance(mask, np.ndarray) or mask.shape != x.shape:
            raise CheckFailed(f"cache: expected the mask, an array of shape {x.shape}, got "
                              f"{getattr(mask, 'shape', type(mask).__name__)}")
        kept = out != 0
        scaled = np.isclose(out, x / keep_prob, rtol=1e-5, atol=0)
        if not np.all(scaled | ~kept):
            ix = tuple(int(i) for i in np.argwhere(kept & ~scaled)[0])
            raise CheckFailed(f"out: a kept unit must be x / keep_prob, so that its mean stays x; "
                              f"at index {ix} got {out[ix]:.6g} for x = {x[ix]:.6g} and "
                              f"keep_prob = {keep_prob:g}")
        if not np.allclose(out, x * mask, rtol=1e-5, atol=1e-7):
            raise CheckFailed("cache: must be the mask with out = x * mask (kept units "
                              "1 / keep_prob, dropped units 0)")
        verify_fraction(int(np.sum(kept & live)), n, keep_prob, eps,
                        "fraction of units kept")
    return verify


def verify_seeds(x):
    """Outputs for seeds (s, s, t): the same seed must give the same out, another seed
    another one."""
    def verify(output, case):
        first, again, other = (_pair(o)[0] for o in output)
        if not (isinstance(first, np.ndarray) and isinstance(again, np.ndarray)
                and np.array_equal(first, again)):
            raise CheckFailed("two calls with Generators of the same seed dropped different "
                              "units: draw the mask from `rng`")
        if np.array_equal(first, other):
            raise CheckFailed("Generators of different seeds dropped the same units: draw the "
                              "mask from `rng`")
    return verify


def verify_identity(x, allow_mask=False):
    """out is x; the cache is None (or, with keep_prob = 1, possibly a mask of ones)."""
    def verify(output, case):
        out, cache = _pair(output)
        compare(out, x, "out", rtol=0, atol=0)
        if cache is None:
            return
        if allow_mask and isinstance(cache, np.ndarray) and cache.shape == x.shape \
                and np.all(cache == 1):
            return
        raise CheckFailed("cache: expected None (nothing is dropped)"
                          + (" or a mask of ones" if allow_mask else ""))
    return verify


DROPOUT_CALL = library("assignments.notebooks.batchnorm_dropout:dropout_call")
_SEEDS = library("assignments.notebooks.batchnorm_dropout:dropout_seeds")


def dropout_cases(fn_name, x, keep_prob, seed, eps, label):
    """Train-mode properties of one input, plus determinism for the rng."""
    fn = student(fn_name)
    return [
        Case(f"{label}: kept units scaled by 1 / keep_prob, fraction kept about keep_prob",
             (fn, x, keep_prob, "train", seed), call=DROPOUT_CALL, verify=verify_dropout(x, keep_prob, eps)),
        Case(f"{label}: the same Generator state gives the same mask, another seed another",
             (fn, x, keep_prob, (seed, seed, seed + 1)), call=_SEEDS, verify=verify_seeds(x)),
    ]


def dropout_forward_cases():
    """Visible cases for ``dropout_forward(x, keep_prob, mode, rng) -> (out, mask)``."""
    fn = student("dropout_forward")
    rng = np.random.default_rng(57)
    small = rng.normal(size=(3, 4))
    # 400 x 250 = 100,000 units; |fraction - p| >= 0.02 has probability below
    # 2 exp(-2 * 1e5 * 0.02^2) = 2 exp(-80) for a correct mask
    ones = np.ones((400, 250))
    wide = rng.uniform(0.5, 2.0, size=(200, 500))
    return [
        Case("test mode: out = x, cache None (rng is None)", (fn, small, 0.5, "test", None),
             call=DROPOUT_CALL, verify=verify_identity(small)),
        Case("keep_prob = 1 keeps every unit: out = x", (fn, small, 1.0, "train", 1),
             call=DROPOUT_CALL, verify=verify_identity(small, allow_mask=True)),
        *dropout_cases("dropout_forward", ones, 0.3, 58, 0.02, "x = ones (400, 250), keep_prob 0.3"),
        *dropout_cases("dropout_forward", wide, 0.8, 59, 0.02,
                       "x random (200, 500), keep_prob 0.8"),
    ]


def dropout_backward_cases():
    """Visible cases for ``dropout_backward(dout, cache) -> dx``."""
    # keep_prob 0.5: kept units have mask 2
    mask = np.array([[2.0, 0.0, 2.0], [0.0, 0.0, 2.0]])
    dout = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    dimg = np.arange(12.0).reshape(2, 3, 2) - 5
    return [
        Case("mask [[2, 0, 2], [0, 0, 2]] (keep_prob 0.5): dx = dout * mask", (dout, mask),
             expected=np.array([[2.0, 0.0, 6.0], [0.0, 0.0, 12.0]]), output="dx"),
        Case("test mode (cache None): dx = dout", (dout, None), expected=dout, output="dx"),
        Case("inputs of shape (2, 3, 2), keep_prob 0.25", (dimg, (dimg > 0) * 4.0),
             expected=dimg * (dimg > 0) * 4.0, output="dx"),
    ]


def check_dropout_forward(fn):
    """Check ``dropout_forward(x, keep_prob, mode, rng) -> (out, cache)``."""
    run_cases(fn, dropout_forward_cases(), name="dropout_forward",
              namespace={"dropout_forward": fn})


def check_dropout_backward(fn):
    """Check ``dropout_backward(dout, cache) -> dx``."""
    run_cases(fn, dropout_backward_cases())


# --------------------------------------------------------------------------
# the hidden block: run with the library's layers
# --------------------------------------------------------------------------

def _rng(seed):
    return None if seed is None else np.random.default_rng(seed)


def block_forward_call(fn, x, params, state, normalization, keep_prob, mode, seed,
                       activation="relu"):
    """``fn(...)`` with rng = default_rng(seed), the library's layers swapped in."""
    with library_building_blocks(fn):
        return fn(x, params, state, normalization, keep_prob, mode, _rng(seed), activation)


def block_backward_call(fn, dout, cache):
    """``fn(dout, cache)`` with the library's layers swapped in."""
    with library_building_blocks(fn):
        return fn(dout, cache)


_BLOCK_FWD = library("assignments.notebooks.batchnorm_dropout:block_forward_call")
_BLOCK_BWD = library("assignments.notebooks.batchnorm_dropout:block_backward_call")


def block_inputs(rng, shape, hidden, normalization, scale=1.0, dtype=np.float64):
    """Random (x, params, state) for one hidden block."""
    D = int(np.prod(shape[1:]))
    x = (rng.normal(size=shape) * scale).astype(dtype)
    params = {"W": rng.normal(size=(D, hidden)).astype(dtype) / np.sqrt(D),
              "b": rng.normal(size=hidden).astype(dtype) * 0.1}
    state = {}
    if normalization is not None:
        params["gamma"] = rng.uniform(0.5, 1.5, size=hidden).astype(dtype)
        params["beta"] = rng.normal(size=hidden).astype(dtype) * 0.1
    if normalization == "batchnorm":
        state = {"running_mean": rng.normal(size=hidden).astype(dtype) * 0.1,
                 "running_var": rng.uniform(0.5, 2.0, size=hidden).astype(dtype)}
    return x, params, state


def block_forward_case(label, x, params, state, normalization, keep_prob, mode, seed,
                       activation="relu", forward=None):
    """A hidden_block_forward case; expected from ``forward`` (default: the library's)."""
    args = (x, params, state, normalization, keep_prob, mode, seed, activation)
    if forward is None:   # the library's own function needs no swapping
        expected = norm.hidden_block_forward(*args[:6], _rng(seed), activation)
    else:
        expected = block_forward_call(forward, *args)
    return Case(label, (student("hidden_block_forward"), *args), call=_BLOCK_FWD,
                expected=expected, output=BLOCK_OUTPUT)


def block_backward_case(label, x, params, state, normalization, keep_prob, seed, dout_seed,
                        activation="relu", backward=None):
    """A hidden_block_backward case on the library's cache of a train-mode forward pass."""
    out, cache, _ = norm.hidden_block_forward(x, params, state, normalization, keep_prob,
                                              "train", _rng(seed), activation)
    dout = np.random.default_rng(dout_seed).normal(size=out.shape)
    expected = (norm.hidden_block_backward(dout, cache) if backward is None
                else block_backward_call(backward, dout, cache))
    return Case(label, (student("hidden_block_backward"), dout, cache), call=_BLOCK_BWD,
                expected=expected, output=("dx", "grads"))


def block_gradcheck_case(label, x, params, state, normalization, keep_prob, seed):
    """hidden_block_backward against numerical gradients of the library's forward pass
    (dropout's mask fixed by the seed)."""
    out, cache, _ = norm.hidden_block_forward(x, params, state, normalization, keep_prob,
                                              "train", _rng(seed))
    dout = np.random.default_rng(seed + 1).normal(size=out.shape)

    def f(**changed):
        p = {**params, **{k: v for k, v in changed.items() if k != "x"}}
        return norm.hidden_block_forward(changed.get("x", x), p, state, normalization,
                                         keep_prob, "train", _rng(seed))[0]

    def verify(output, case):
        if not isinstance(output, (tuple, list)) or len(output) != 2:
            raise CheckFailed("expected a tuple (dx, grads)")
        dx, grads = output
        assert_gradients_close(dx, eval_numerical_gradient_array(lambda v: f(x=v), x.copy(),
                                                                 dout), "dx", 1e-6)
        if not isinstance(grads, dict):
            raise CheckFailed(f"grads must be a dict, got {type(grads).__name__}")
        for name in params:
            if name not in grads:
                raise CheckFailed(f"grads has no entry {name!r}; its keys must match params")
            num = eval_numerical_gradient_array(lambda v: f(**{name: v}), params[name].copy(),
                                                dout)
            assert_gradients_close(grads[name], num, f"grads[{name!r}]", 1e-6)

    return Case(label, (student("hidden_block_backward"), dout, cache), call=_BLOCK_BWD,
                verify=verify)


def block_forward_cases():
    """Visible cases for ``hidden_block_forward``."""
    rng = np.random.default_rng(60)
    cases = []
    for label, norm_kind, keep, mode in (
            ("no normalization, no dropout", None, 1.0, "train"),
            ("batch norm and dropout (keep_prob 0.6), train mode", "batchnorm", 0.6, "train"),
            ("batch norm and dropout, test mode", "batchnorm", 0.6, "test"),
            ("layer norm and dropout (keep_prob 0.75), train mode", "layernorm", 0.75, "train")):
        x, params, state = block_inputs(rng, (6, 5), 4, norm_kind, scale=2.0)
        cases.append(block_forward_case(f"x (6, 5), 4 units, {label}", x, params, state,
                                        norm_kind, keep, mode, 61))
    return cases


def block_backward_cases():
    """Visible cases for ``hidden_block_backward``."""
    rng = np.random.default_rng(62)
    cases = []
    for label, norm_kind, keep in (("no normalization, no dropout", None, 1.0),
                                   ("batch norm, dropout (keep_prob 0.6)", "batchnorm", 0.6),
                                   ("layer norm, dropout (keep_prob 0.75)", "layernorm", 0.75)):
        x, params, state = block_inputs(rng, (5, 2, 3), 4, norm_kind, scale=2.0)
        cases.append(block_gradcheck_case(f"x (5, 2, 3), 4 units, {label}: numerical gradients",
                                          x, params, state, norm_kind, keep, 63))
    return cases


def check_block_forward(fn):
    """Check ``hidden_block_forward`` (run with the library's layers)."""
    run_cases(None, block_forward_cases(), name="hidden_block_forward",
              namespace={"hidden_block_forward": fn})


def check_block_backward(fn):
    """Check ``hidden_block_backward`` (run with the library's layers)."""
    run_cases(None, block_backward_cases(), name="hidden_block_backward",
              namespace={"hidden_block_backward": fn})


# --------------------------------------------------------------------------
# the network (run through assignments.adapters, with the library's blocks)
# --------------------------------------------------------------------------

NET = student("FullyConnectedNet")
_INIT = library("assignments.adapters:model_init")


def net_kwargs(input_dim, num_classes, normalization=None, keep_prob=1.0, reg=0.0, init="he",
               weight_scale=None):
    return {"input_dim": input_dim, "num_classes": num_classes, "init": init,
            "weight_scale": weight_scale, "reg": reg, "normalization": normalization,
            "keep_prob": keep_prob}


def init_case(label, hidden_dims, kwargs, seeds=(0,), reference=None):
    """params and state of the network as built with the given seeds, exactly."""
    from ..adapters import model_init
    from ..models import FullyConnectedNet

    args = (list(hidden_dims),)
    expected = model_init(reference or FullyConnectedNet, args, kwargs, seeds)

    def verify(out, case):
        if not isinstance(out, (list, tuple)) or len(out) != len(expected):
            raise CheckFailed("expected one (params, state) pair per seed")
        for (params, state), (want_params, want_state) in zip(out, expected):
            for what, got, want in (("params", params, want_params),
                                    ("state", state, want_state)):
                extra = sorted(set(got) - set(want))
                if extra:
                    raise CheckFailed(f"{what} has entries it should not have: {extra}")
                compare(got, want, what, rtol=1e-6, atol=0, reveal=not case.hidden)

    return Case(label, (NET, args, kwargs, seeds), call=_INIT, verify=verify)


def net_init_cases():
    """Visible cases for ``FullyConnectedNet.__init__``: parameters and state."""
    return [
        init_case("hidden_dims [4, 3], input_dim 5, 2 classes, no normalization", [4, 3],
                  net_kwargs(5, 2)),
        init_case("hidden_dims [4, 3], batch norm", [4, 3], net_kwargs(5, 2, "batchnorm")),
        init_case("hidden_dims [6], layer norm", [6], net_kwargs(3, 4, "layernorm")),
    ]


def _reference_run(adapter, reference, *args, **kwargs):
    from .. import adapters
    from ..models import FullyConnectedNet

    return getattr(adapters, adapter)(reference or FullyConnectedNet, *args, **kwargs)


def gradcheck_case(label, hidden_dims, kwargs, params, state, X, y, seed, reference=None):
    args = (list(hidden_dims),)
    loss = _reference_run("model_loss", reference, args, kwargs, params, X, y, state, seed)[0]
    return Case(label, (NET, args, kwargs, params, X, y, state, seed),
                call=library("assignments.adapters:model_gradcheck"),
                verify=gradients_match(loss))


def loss_case(label, hidden_dims, kwargs, params, state, X, y, seed, reference=None):
    """(loss, grads, next state) in train mode, exactly as the reference network gives them."""
    args = (list(hidden_dims),)
    expected = _reference_run("model_loss", reference, args, kwargs, params, X, y, state, seed)
    return Case(label, (NET, args, kwargs, params, X, y, state, seed),
                call=library("assignments.adapters:model_loss"), expected=expected,
                output=("loss", "grads", "state"))


def scores_case(label, hidden_dims, kwargs, params, state, X, mode, seed, reference=None):
    args = (list(hidden_dims),)
    expected = _reference_run("model_scores", reference, args, kwargs, params, X, state, mode,
                              seed)
    return Case(label, (NET, args, kwargs, params, X, state, mode, seed),
                call=library("assignments.adapters:model_scores"), expected=expected,
                output="scores")


def random_net(rng, hidden_dims, input_shape, num_classes, normalization, scale=1.0):
    """(params, state) of a random network (BN's running averages away from 0 and 1)."""
    dims = [int(np.prod(input_shape))] + list(hidden_dims) + [num_classes]
    params, state = {}, {}
    for i in range(1, len(dims)):
        params[f"W{i}"] = rng.normal(size=(dims[i - 1], dims[i])) * scale / np.sqrt(dims[i - 1])
        params[f"b{i}"] = rng.normal(size=dims[i]) * 0.1
        if normalization is not None and i < len(dims) - 1:
            params[f"gamma{i}"] = rng.uniform(0.5, 1.5, size=dims[i])
            params[f"beta{i}"] = rng.normal(size=dims[i]) * 0.2
            if normalization == "batchnorm":
                state[f"running_mean{i}"] = rng.normal(size=dims[i]) * 0.2
                state[f"running_var{i}"] = rng.uniform(0.5, 2.0, size=dims[i])
    return params, state


def net_loss_cases():
    """Visible cases for ``FullyConnectedNet.loss``: gradients, state, test-mode scores."""
    rng = np.random.default_rng(64)
    cases = []
    X = rng.normal(size=(6, 2, 3))
    y = np.array([0, 2, 1, 2, 0, 1])
    for norm_kind, keep, reg in ((None, 0.7, 0.1), ("batchnorm", 0.6, 0.05),
                                 ("layernorm", 0.8, 0.1)):
        kw = net_kwargs(6, 3, norm_kind, keep, reg)
        params, state = random_net(rng, [5, 4], (2, 3), 3, norm_kind)
        cases.append(gradcheck_case(
            f"hidden_dims [5, 4], normalization {norm_kind}, keep_prob {keep}, reg {reg}: "
            "numerical gradients (dropout masks fixed by a seed)", [5, 4], kw, params, state,
            X, y, 65))
    kw = net_kwargs(6, 3, "batchnorm", 0.6, 0.0)
    params, state = random_net(rng, [5, 4], (2, 3), 3, "batchnorm")
    cases.append(loss_case("batch norm and dropout: loss, grads and the updated running "
                           "averages", [5, 4], kw, params, state, X, y, 66))
    cases.append(scores_case("batch norm and dropout, scores in test mode (running averages, "
                             "no dropout)", [5, 4], kw, params, state, X, "test", 67))
    return cases


def check_net_init(cls):
    """Check ``FullyConnectedNet.__init__`` (params and state, with the library's init)."""
    run_cases(None, net_init_cases(), name="FullyConnectedNet.__init__",
              namespace={"FullyConnectedNet": cls})


def check_net_loss(cls):
    """Check ``FullyConnectedNet.loss`` with every normalization and dropout."""
    run_cases(None, net_loss_cases(), name="FullyConnectedNet.loss",
              namespace={"FullyConnectedNet": cls})


# --------------------------------------------------------------------------
# the chosen hyperparameters
# --------------------------------------------------------------------------

# What the notebook's search keeps fixed, and the grader too.
TRAINING_DEFAULTS = {"num_hidden_layers": 2, "batch_size": 100, "lr_decay": 0.95}



# How the grader judges the chosen hyperparameters: it trains the library's
# FullyConnectedNet (Adam, He init, float32) with them on a fixed split of
# the bundled data, width and epochs capped to keep it fast, and requires
# this validation accuracy.
RECIPE = Recipe(
    name="regularized fully connected net",
    space={"hidden_dim": Param("int", low=1),
           "learning_rate": Param("float", low=0.0, open_low=True),
           "reg": Param("float", low=0.0),
           "keep_prob": Param("float", low=0.0, high=1.0, open_low=True),
           "normalization": Param("choice", choices=(None, "batchnorm", "layernorm")),
           "num_epochs": Param("int", low=1)},
    prepare=grader_split(4000, 1000), min_val_acc=0.8, caps={"hidden_dim": 100, "num_epochs": 6},
    fixed=TRAINING_DEFAULTS, seed=2027)


def train_fc_net(settings, data, seed=0, net_cls=None, progress=False):
    """Train a FullyConnectedNet with a recipe's settings; returns (solver, net).

    Adam, He initialization, ``num_hidden_layers`` hidden layers of
    ``hidden_dim`` units, float32.  ``net_cls`` defaults to the library's.
    """
    from ..models import FullyConnectedNet
    from ..solver import Solver

    net_cls = net_cls or FullyConnectedNet
    D = int(np.prod(data["X_train"].shape[1:]))
    C = int(max(np.max(data["y_train"]), np.max(data["y_val"]))) + 1
    net = net_cls([int(settings["hidden_dim"])] * int(settings["num_hidden_layers"]),
                  input_dim=D, num_classes=C, reg=float(settings["reg"]),
                  normalization=settings["normalization"],
                  keep_prob=float(settings["keep_prob"]), dtype=np.float32,
                  rng=np.random.default_rng(seed))
    solver = Solver(net, data, rng=np.random.default_rng(seed + 1), update_rule="adam",
                    optim_config={"learning_rate": float(settings["learning_rate"])},
                    lr_decay=settings["lr_decay"], batch_size=int(settings["batch_size"]),
                    num_epochs=int(settings["num_epochs"]), progress=progress).train()
    return solver, net


def _recipe_accuracy(settings, data) -> float:
    return train_fc_net(settings, data)[0].best_val_acc


def hyperparameter_cases():
    """Visible case for ``chosen_hyperparameters()``: the format of the dict."""
    return [RECIPE.format_case(label="the dict of chosen hyperparameters")]


def floor_case():
    """Hidden case: the library's network trained with the chosen values clears the floor."""
    return RECIPE.floor_case(_recipe_accuracy)


def check_hyperparameters(fn):
    """Check that ``fn()`` returns a dict with every key of ``RECIPE.space``."""
    run_cases(fn, hyperparameter_cases())
