"""Notebook 6: visible checks of the fast layers (equal to the naive ones, no loop over
output positions) and of spatial batch norm and group norm.  The shared case builders
and the stored expected values (the course's answers on these inputs, ``STORED``) live
in ``assignments.notebooks.cnn``."""

from __future__ import annotations

import numpy as np

from ..cases import Case, run_cases
from ..convolution import conv_output_shape, pool_output_shape
from ..expected import Computed
from .cnn import (_DX_TIES, _X_TIES, CONV_OUTPUT, POOL_OUTPUT, SBN_OUTPUT, SGN_OUTPUT, STORED,
                  _conv_cache, fast_case, float32_case, loop_budget_case, stored_backward,
                  stored_output)

__all__ = [
    "conv_forward_fast_cases", "conv_backward_fast_cases", "max_pool_forward_fast_cases",
    "max_pool_backward_fast_cases", "spatial_batchnorm_forward_cases",
    "spatial_batchnorm_backward_cases", "spatial_groupnorm_forward_cases",
    "spatial_groupnorm_backward_cases", "check_conv_forward_fast", "check_conv_backward_fast",
    "check_max_pool_forward_fast", "check_max_pool_backward_fast",
    "check_spatial_batchnorm_forward", "check_spatial_batchnorm_backward",
    "check_spatial_groupnorm_forward", "check_spatial_groupnorm_backward",
]


# --------------------------------------------------------------------------
# fast layers: equal to the naive ones
# --------------------------------------------------------------------------

# (label, input shape, filter shape, stride, pad) on which the fast layers must equal the naive
FAST_SETTINGS = (
    ("2 images, 3 channels (6 x 5), 4 filters 3 x 3, stride 1, pad 1",
     (2, 3, 6, 5), (4, 3, 3, 3), 1, 1),
    ("1 image, 2 channels (7 x 9), 3 filters 3 x 5, stride 2, pad 1",
     (1, 2, 7, 9), (3, 2, 3, 5), 2, 1),
)


def conv_forward_fast_cases(target="conv_forward_fast"):
    """Visible cases for ``conv_forward_fast``: equal to the naive layer; float32 stays."""
    rng = np.random.default_rng(66)
    cases = []
    for label, shape, filters, stride, pad in FAST_SETTINGS:
        x, w, b, _, _ = _conv_cache(rng, shape, filters, stride, pad)
        out = stored_output("conv_forward_naive", f"{label} (conv_forward_fast)",
                            (x, w, b, stride, pad))
        cases.append(fast_case(target, label, (x, w, b, stride, pad),
                               (out, (x, w, b, stride, pad)), CONV_OUTPUT))
    x32, w32, b32, _, _ = _conv_cache(rng, (2, 2, 4, 4), (3, 2, 3, 3), 1, 1)
    cases.append(float32_case(target, "float32 inputs give a float32 output",
                               (x32.astype(np.float32), w32.astype(np.float32),
                                b32.astype(np.float32), 1, 1), ("out",)))
    return cases


def conv_backward_fast_cases(target="conv_backward_fast"):
    """Visible cases for ``conv_backward_fast``: equal to the naive layer on the same caches."""
    rng = np.random.default_rng(67)
    cases = []
    for label, shape, filters, stride, pad in FAST_SETTINGS:
        cache = _conv_cache(rng, shape, filters, stride, pad)
        dout = rng.normal(size=conv_output_shape(shape, filters, stride, pad))
        expected = stored_backward("conv_backward_naive", f"{label} (conv_backward_fast)",
                                   dout, cache)
        cases.append(fast_case(target, label, (dout, cache), expected, ("dx", "dw", "db")))
    c32 = tuple(a.astype(np.float32)
                for a in _conv_cache(rng, (2, 2, 4, 4), (3, 2, 3, 3), 1, 1)[:3])
    d32 = rng.normal(size=(2, 3, 4, 4)).astype(np.float32)
    cases.append(float32_case(target, "float32 inputs give float32 gradients",
                               (d32, c32 + (1, 1)), ("dx", "dw", "db")))
    return cases


def max_pool_forward_fast_cases(target="max_pool_forward_fast"):
    """Visible cases for ``max_pool_forward_fast``: tiling and overlapping windows."""
    rng = np.random.default_rng(68)
    cases = []
    for label, shape, ph, pw, stride in (
            ("2 x 2 windows, stride 2 (they tile: reshape)", (2, 3, 6, 8), 2, 2, 2),
            ("3 x 2 windows, stride 1 (they overlap: im2col)", (2, 2, 5, 4), 3, 2, 1)):
        x = rng.normal(size=shape)
        label = f"{label}, images {shape[2]} x {shape[3]}"
        out = stored_output("max_pool_forward_naive", f"{label} (max_pool_forward_fast)",
                            (x, ph, pw, stride))
        cases.append(fast_case(target, label, (x, ph, pw, stride), (out, (x, ph, pw, stride)),
                               POOL_OUTPUT))
    cases.append(float32_case(target, "float32 inputs give a float32 output",
                               (rng.normal(size=(1, 2, 4, 4)).astype(np.float32), 2, 2, 2),
                               ("out",)))
    cases.append(loop_budget_case(
        target, "2 x 2 windows on 2 x 2 images of 60 x 60: no loop over the 3,600 output "
        "positions", (rng.normal(size=(2, 2, 60, 60)), 2, 2, 2), 2, 2, 3600))
    return cases


def max_pool_backward_fast_cases(target="max_pool_backward_fast"):
    """Visible cases for ``max_pool_backward_fast``: the naive layer's tie rule too."""
    rng = np.random.default_rng(69)
    cases = [fast_case(target, "ties: [[1, 3, 2, 2], [3, 0, 2, 2]], 2 x 2 windows, "
                       "dout [[10, 20]]", (np.array([[[[10.0, 20.0]]]]), (_X_TIES, 2, 2, 2)),
                       _DX_TIES, "dx")]
    for label, shape, ph, pw, stride in (
            ("2 x 2 windows, stride 2, values in {0, 1, 2} (many ties)", (2, 3, 6, 8), 2, 2, 2),
            ("3 x 2 windows, stride 1, values in {0, 1, 2} (overlaps and ties)", (2, 2, 5, 4),
             3, 2, 1)):
        x = rng.integers(0, 3, size=shape).astype(np.float64)
        cache = (x, ph, pw, stride)
        dout = rng.normal(size=pool_output_shape(x.shape, ph, pw, stride))
        cases.append(fast_case(target, label, (dout, cache),
                               stored_backward("max_pool_backward_naive",
                                               f"{label} (max_pool_backward_fast)", dout, cache),
                               "dx"))
    x32 = rng.normal(size=(1, 2, 4, 4)).astype(np.float32)
    cases.append(float32_case(target, "float32 inputs give a float32 dx",
                               (rng.normal(size=(1, 2, 2, 2)).astype(np.float32),
                                (x32, 2, 2, 2)), ("dx",)))
    x = rng.normal(size=(2, 2, 60, 60))
    cases.append(loop_budget_case(
        target, "2 x 2 windows on 2 x 2 images of 60 x 60: no loop over the 3,600 output "
        "positions", (rng.normal(size=(2, 2, 30, 30)), (x, 2, 2, 2)), 2, 2, 3600))
    return cases


def _check_fast(fn, cases):
    """Run a fast layer's cases (they name the function, so it travels as a student ref)."""
    run_cases(None, cases(fn.__name__), name=fn.__name__, namespace={fn.__name__: fn})


def check_conv_forward_fast(fn):
    """Check ``conv_forward_fast`` against the naive layer (with the library's im2col)."""
    _check_fast(fn, conv_forward_fast_cases)


def check_conv_backward_fast(fn):
    """Check ``conv_backward_fast`` against the naive layer (with the library's im2col, col2im)."""
    _check_fast(fn, conv_backward_fast_cases)


def check_max_pool_forward_fast(fn):
    """Check ``max_pool_forward_fast`` against the naive layer."""
    _check_fast(fn, max_pool_forward_fast_cases)


def check_max_pool_backward_fast(fn):
    """Check ``max_pool_backward_fast`` against the naive layer, ties included."""
    _check_fast(fn, max_pool_backward_fast_cases)


# --------------------------------------------------------------------------
# spatial batch norm and group norm
# --------------------------------------------------------------------------

def _sbn_rows(x):
    return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])


def spatial_batchnorm_forward_cases():
    """Visible cases for ``spatial_batchnorm_forward``."""
    # channel 0 holds 0, 2, 0, 2 (mean 1, variance 1); channel 1 holds 1, 1, 5, 5 (mean 3,
    # variance 4).  x_hat = (x - mean) / sqrt(var + eps); out = gamma * x_hat + beta with
    # gamma = [1, 2], beta = [0, 1]; running = 0.9 * running + 0.1 * batch statistics.
    x = np.array([[[[0.0, 2.0]], [[1.0, 1.0]]], [[[0.0, 2.0]], [[5.0, 5.0]]]])   # (2, 2, 1, 2)
    eps = 1e-5
    gamma, beta = np.array([1.0, 2.0]), np.array([0.0, 1.0])
    x_hat = np.empty_like(x)
    x_hat[:, 0] = (x[:, 0] - 1.0) / np.sqrt(1.0 + eps)
    x_hat[:, 1] = (x[:, 1] - 3.0) / np.sqrt(4.0 + eps)
    out = x_hat * gamma.reshape(1, 2, 1, 1) + beta.reshape(1, 2, 1, 1)
    rm, rv = np.zeros(2), np.ones(2)
    cache = (x.shape, (_sbn_rows(x), _sbn_rows(x_hat), np.array([1.0, 3.0]),
                       np.array([1.0, 4.0]), gamma, eps))
    running = (np.array([0.1, 0.3]), np.array([1.0, 1.3]))
    # test mode: the running averages [1, 3] and [1, 4] are used, and come back unchanged
    test_running = (np.array([1.0, 3.0]), np.array([1.0, 4.0]))
    rng = np.random.default_rng(70)
    xr = rng.normal(size=(3, 4, 2, 5)) * 2 + 1
    g, bt, m0, v0 = rng.normal(size=4), rng.normal(size=4), rng.normal(size=4), rng.uniform(1, 2, 4)
    label = "3 images, 4 channels of 2 x 5 pixels, momentum 0.5"
    return [
        Case("2 images, 2 channels of 1 x 2 pixels, worked out by hand (train mode)",
             (x, gamma, beta, rm, rv), expected=(out, cache, running), output=SBN_OUTPUT),
        Case("the same in test mode, with running mean [1, 3] and variance [1, 4]",
             (x, gamma, beta) + test_running, {"mode": "test"},
             expected=(out, (x.shape, (_sbn_rows(x), _sbn_rows(x_hat)) + test_running
                             + (gamma, eps)), test_running), output=SBN_OUTPUT),
        Case(label, (xr, g, bt, m0, v0), {"momentum": 0.5},
             expected=STORED.value(f"spatial_batchnorm_forward: {label}", Computed(
                 "spatial_batchnorm_forward", (xr, g, bt, m0, v0), {"momentum": 0.5})),
             output=SBN_OUTPUT),
    ]


def _norm_backward_case(kind, label, dout, made):
    """A spatial norm's backward case on the course's cache (``made``: how its forward pass
    makes it), the expected gradients the course's backward pass on that cache; both stored."""
    cache = STORED.value(f"spatial_{kind}_forward cache: {label}", made)
    expected = STORED.value(f"spatial_{kind}_backward: {label}",
                            Computed(f"spatial_{kind}_backward", (dout, made)))
    return Case(label, (dout, cache), expected=expected, output=("dx", "dgamma", "dbeta"),
                rtol=1e-6, atol=1e-9)


def spatial_batchnorm_backward_cases():
    """Visible cases for ``spatial_batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)``, on
    the caches of the course's train-mode forward pass (running averages 0 and 1)."""
    rng = np.random.default_rng(71)
    cases = []
    for shape in ((2, 3, 2, 3), (3, 2, 1, 2)):
        C = shape[1]
        x = rng.normal(size=shape) * 3 + 2
        gamma, beta = rng.normal(size=C), rng.normal(size=C)
        made = Computed("spatial_batchnorm_forward", (x, gamma, beta, np.zeros(C), np.ones(C)))[1]
        cases.append(_norm_backward_case("batchnorm", f"images {shape}",
                                         rng.normal(size=shape), made))
    return cases


def check_spatial_batchnorm_forward(fn):
    """Check ``spatial_batchnorm_forward(x, gamma, beta, running_mean, running_var, mode, eps,
    momentum) -> (out, cache, (running_mean, running_var))``."""
    run_cases(fn, spatial_batchnorm_forward_cases())


def check_spatial_batchnorm_backward(fn):
    """Check ``spatial_batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)``."""
    run_cases(fn, spatial_batchnorm_backward_cases())


def spatial_groupnorm_forward_cases():
    """Visible cases for ``spatial_groupnorm_forward(x, gamma, beta, G, eps) -> (out, cache)``."""
    # one image, 4 channels of one pixel: [0, 2, 3, 7], G = 2 groups of 2 channels.
    # group 0: {0, 2}, mean 1, variance 1; group 1: {3, 7}, mean 5, variance 4.
    eps = 1e-5
    x = np.array([0.0, 2.0, 3.0, 7.0]).reshape(1, 4, 1, 1)
    mean, var = np.array([[1.0, 5.0]]), np.array([[1.0, 4.0]])
    x_hat = np.array([-1.0 / np.sqrt(1 + eps), 1.0 / np.sqrt(1 + eps),
                      -2.0 / np.sqrt(4 + eps), 2.0 / np.sqrt(4 + eps)]).reshape(1, 4, 1, 1)
    gamma, beta = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 0.0, 1.0, 1.0])
    out = x_hat * gamma.reshape(1, 4, 1, 1) + beta.reshape(1, 4, 1, 1)
    rng = np.random.default_rng(72)
    xr = rng.normal(size=(2, 6, 3, 4)) * 2 + 1
    g, bt = rng.normal(size=6), rng.normal(size=6)
    def stored(label, G):
        return STORED.value(f"spatial_groupnorm_forward: {label}",
                            Computed("spatial_groupnorm_forward", (xr, g, bt, G)))
    g3, g1 = "2 images, 6 channels of 3 x 4 pixels, G = 3", "the same with G = 1 (layer norm " \
        "over C, H, W)"
    return [
        Case("1 image, 4 one-pixel channels [0, 2, 3, 7], G = 2, worked out by hand",
             (x, gamma, beta, 2), expected=(out, (x, x_hat, mean, var, gamma, 2, eps)),
             output=SGN_OUTPUT),
        Case(g3, (xr, g, bt, 3), expected=stored(g3, 3), output=SGN_OUTPUT),
        Case(g1, (xr, g, bt, 1), expected=stored(g1, 1), output=SGN_OUTPUT),
    ]


def spatial_groupnorm_backward_cases():
    """Visible cases for ``spatial_groupnorm_backward(dout, cache) -> (dx, dgamma, dbeta)``."""
    rng = np.random.default_rng(73)
    cases = []
    for shape, G in (((2, 6, 2, 2), 3), ((1, 4, 2, 3), 2)):
        C = shape[1]
        x = rng.normal(size=shape) * 2 + 1
        gamma, beta = rng.normal(size=C), rng.normal(size=C)
        made = Computed("spatial_groupnorm_forward", (x, gamma, beta, G))[1]
        cases.append(_norm_backward_case("groupnorm", f"images {shape}, G = {G}",
                                         rng.normal(size=shape), made))
    return cases


def check_spatial_groupnorm_forward(fn):
    """Check ``spatial_groupnorm_forward(x, gamma, beta, G, eps=1e-5) -> (out, cache)``."""
    run_cases(fn, spatial_groupnorm_forward_cases())


def check_spatial_groupnorm_backward(fn):
    """Check ``spatial_groupnorm_backward(dout, cache) -> (dx, dgamma, dbeta)``."""
    run_cases(fn, spatial_groupnorm_backward_cases())
