"""Notebook 5 (batch norm, layer norm, dropout): visible checks of the layers.

Every backward function is checked on caches of the course's forward pass
(the caches are fixed by the contract in ``assignments.normalization``),
never on the student's forward: one broken function costs the points of one
cell.  Those caches, and the expected outputs of the random cases, are the
course's answers on the visible inputs, stored as data by `course release`
(``assignments.expected``); the small cases are worked out by hand.  When
graded, the hidden block and the network run with the course's layers
swapped in (``assignments.adapters``).

Randomness: a Generator cannot travel to the grader's sandbox, so cases
that need one pass a seed to an adapter (``dropout_call`` here,
``block_forward_call`` in ``batchnorm_dropout_network``), which makes ``np.random.default_rng(seed)`` on
the spot.  Dropout's own task never compares masks with a reference; it
checks properties whose false-failure probability is bounded (see
``verify_dropout``), so any way of drawing the mask passes.
"""

from __future__ import annotations

import numpy as np

from ..cases import Case, CheckFailed, compare, library, run_cases, student
from ..expected import Computed, Stored
from ..stat_checks import verify_fraction

__all__ = [
    "batchnorm_forward_cases", "batchnorm_backward_cases", "batchnorm_backward_alt_cases",
    "layernorm_forward_cases", "layernorm_backward_cases", "dropout_forward_cases",
    "dropout_backward_cases", "check_batchnorm_forward", "check_batchnorm_backward",
    "check_batchnorm_backward_alt", "check_layernorm_forward", "check_layernorm_backward",
    "check_dropout_forward", "check_dropout_backward", "dropout_call", "dropout_seeds",
    "DROPOUT_CALL", "verify_identity", "verify_dropout", "BN_OUTPUT", "LN_OUTPUT",
    "NORM_GRADS", "bn_forward_case", "ln_forward_case", "norm_backward_case",
    "dropout_cases", "norm_cache", "STORED",
]

# output names, so that messages say "cache x_hat" or "next running_var"
_NORM_CACHE = ("cache", ("x", "x_hat", "mean", "var", "gamma", "eps"))
BN_OUTPUT = ("out", _NORM_CACHE, ("next", ("running_mean", "running_var")))
LN_OUTPUT = ("out", _NORM_CACHE)
NORM_GRADS = ("dx", "dgamma", "dbeta")


STORED = Stored("05_batchnorm_dropout", {})


def norm_cache(kind, x, gamma, eps=1e-5):
    """How the course's forward pass makes the cache of x (beta 0; batch norm in train mode
    from running averages 0 and 1)."""
    zeros = np.zeros_like(gamma)
    if kind == "batchnorm":
        return Computed("batchnorm_forward", (x, gamma, zeros, zeros, zeros + 1, "train", eps))[1]
    return Computed("layernorm_forward", (x, gamma, zeros, eps))[1]


# --------------------------------------------------------------------------
# batch normalization
# --------------------------------------------------------------------------

def bn_forward_case(label, x, gamma, beta, running_mean, running_var, mode="train", rtol=1e-6,
                    expected=None, **kwargs):
    """A batchnorm_forward case; expected: the course's answer (stored) unless given."""
    args = (x, gamma, beta, running_mean, running_var, mode)
    if expected is None:
        expected = STORED.value(f"batchnorm_forward: {label}",
                                Computed("batchnorm_forward", args, kwargs))
    return Case(label, args, kwargs, expected=expected, output=BN_OUTPUT, rtol=rtol,
                atol=1e-8 if x.dtype == np.float64 else 1e-5)


def batchnorm_forward_cases():
    """Visible cases for ``batchnorm_forward``: worked out by hand, then the course's answer."""
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


def norm_backward_case(kind, label, dout, x, gamma, expected=None, eps=1e-5, rtol=1e-6,
                       cache=None):
    """A case for a batch / layer norm backward pass on the course's cache of x (stored, as
    is the expected output, unless given: the hidden cases give both)."""
    made = norm_cache(kind, x, gamma, eps)
    if cache is None:
        cache = STORED.value(f"{kind} cache: {label}", made)
    if expected is None:
        expected = STORED.value(f"{kind}_backward: {label}",
                                Computed(f"{kind}_backward", (dout, made)))
    atol = 1e-9 if x.dtype == np.float64 else 1e-4
    return Case(label, (dout, cache), expected=expected, output=NORM_GRADS, rtol=rtol, atol=atol)


def _invariance_cases(kind):
    """dout constant along the normalized axis, or dout = x_hat: dx = 0 exactly (by hand)."""
    rng = np.random.default_rng(51 if kind == "batchnorm" else 52)
    x = rng.normal(size=(5, 3)) * 2 + 1
    # batch norm: any gamma (one per feature, constant over the batch); layer norm needs
    # the same gamma for every feature, or dout * gamma is no longer constant along a row
    gamma = np.array([1.5, -0.5, 2.0]) if kind == "batchnorm" else np.full(3, 1.5)
    x_hat = STORED.value(f"{kind} x_hat of the invariance cases",
                         norm_cache(kind, x, gamma, 0.0)[1])
    if kind == "batchnorm":
        dconst = np.tile(np.array([2.0, -1.0, 0.5]), (5, 1))
        what = "dout the same for every example"
    else:
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
        norm_backward_case("batchnorm", "6 x 4 random", dout, x, gamma),
    ]


def batchnorm_backward_alt_cases():
    """Visible cases for ``batchnorm_backward_alt``: the same as the graph version, plus one
    more random batch (the graph version's answer on it)."""
    rng = np.random.default_rng(54)
    x = rng.normal(size=(5, 7)) * 3 - 1
    gamma = rng.normal(size=7)
    dout = rng.normal(size=(5, 7))
    return batchnorm_backward_cases() + [
        norm_backward_case("batchnorm", "5 x 7 random: equal to the graph version", dout, x,
                           gamma),
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
        expected = STORED.value(f"layernorm_forward: {label}",
                                Computed("layernorm_forward", (x, gamma, beta), kwargs))
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
        norm_backward_case("layernorm", "4 x 6 random", dout, x, gamma),
        norm_backward_case("layernorm", "a batch of one", rng.normal(size=(1, 5)), x1,
                           rng.normal(size=5)),
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
