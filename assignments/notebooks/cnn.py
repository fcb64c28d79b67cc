"""Notebook 6 (convolutional networks): visible checks and the grader's recipe.

The layer contract fixes every cache (see ``assignments.convolution``), so
each backward function is checked on caches built here, never on the output
of the student's forward.  Two more rules keep one bug from costing the
points of another cell:

* the fast layers run with the course's reference building blocks in place
  of the notebook's own (``with_library_layers``): a broken ``im2col`` costs
  the ``im2col`` cell, not the fast convolution's;
* the network's cases run the student's ``ThreeLayerConvNet`` through
  ``assignments.adapters`` with the reference layers.

Expected values were worked out by hand (comments show the arithmetic),
come from the library's reference layers, or are numerical gradients.  The
pictures of the notebook live in ``assignments.notebooks.cnn_plots``.
"""

from __future__ import annotations

import numpy as np

from .. import convolution as conv
from ..adapters import library_building_blocks
from ..cases import Case, CheckFailed, compare, library, run_cases, student
from ..gradcheck import assert_gradients_close, eval_numerical_gradient_array, gradients_match
from ..recipes import Param, Recipe, grader_split
from ..stat_checks import verify_model_init

__all__ = [
    "with_library_layers", "loop_iterations", "error_raised", "loop_budget",
    "CONV_OUTPUT", "POOL_OUTPUT", "SBN_OUTPUT", "SGN_OUTPUT", "float32_case",
    "conv_forward_naive_cases", "conv_backward_naive_cases", "max_pool_forward_naive_cases",
    "max_pool_backward_naive_cases", "im2col_cases", "col2im_cases",
    "conv_forward_fast_cases", "conv_backward_fast_cases", "max_pool_forward_fast_cases",
    "max_pool_backward_fast_cases", "spatial_batchnorm_forward_cases",
    "spatial_batchnorm_backward_cases", "spatial_groupnorm_forward_cases",
    "spatial_groupnorm_backward_cases", "convnet_init_cases", "convnet_loss_cases",
    "hyperparameter_cases",
    "check_conv_forward_naive", "check_conv_backward_naive", "check_max_pool_forward_naive",
    "check_max_pool_backward_naive", "check_im2col", "check_col2im", "check_conv_forward_fast",
    "check_conv_backward_fast", "check_max_pool_forward_fast", "check_max_pool_backward_fast",
    "check_spatial_batchnorm_forward", "check_spatial_batchnorm_backward",
    "check_spatial_groupnorm_forward", "check_spatial_groupnorm_backward",
    "check_convnet_init", "check_convnet_loss", "check_hyperparameters",
    "fast_case", "loop_budget_case", "error_case",
    "convnet_kwargs", "convnet_init_case", "convnet_scores_case", "convnet_loss_case",
    "convnet_gradcheck_case", "toy_convnet", "TOY_SCORES", "TOY_LOSS", "RECIPE",
    "TRAINING_DEFAULTS", "train_convnet", "class_subset",
]

CONV_OUTPUT = ("out", ("cache", ("x", "w", "b", "stride", "pad")))
POOL_OUTPUT = ("out", ("cache", ("x", "pool_height", "pool_width", "stride")))
SBN_OUTPUT = ("out", ("cache", ("x shape", ("batch norm cache", ("x rows", "x_hat", "mean",
                                                                  "var", "gamma", "eps")))),
              ("running", ("running_mean", "running_var")))
SGN_OUTPUT = ("out", ("cache", ("x", "x_hat", "mean", "var", "gamma", "G", "eps")))


# --------------------------------------------------------------------------
# calling a student's layer: library blocks, loop budget, expected errors
# --------------------------------------------------------------------------

def with_library_layers(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with the course's reference layers in place of the notebook's.

    While it runs, ``im2col``, ``col2im`` and every other reference building
    block that ``fn`` looks up by name is the library's version, so a bug in
    one of them costs only its own cell.
    """
    with library_building_blocks(fn, keep=(getattr(fn, "__name__", ""),)):
        return fn(*args, **kwargs)


class _CountedRange:
    """A range that adds every value it hands out to a shared counter."""

    def __init__(self, r, counter):
        self._range, self._counter = r, counter

    def __iter__(self):
        for value in self._range:
            self._counter[0] += 1
            yield value

    def __reversed__(self):
        return iter(_CountedRange(self._range[::-1], self._counter))

    def __len__(self):
        return len(self._range)

    def __getitem__(self, i):
        return self._range[i]

    def __contains__(self, value):
        return value in self._range

    def __getattr__(self, name):     # start, stop, step, count, index
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._range, name)


def loop_iterations(fn, *args, **kwargs) -> int:
    """How many values ``range(...)`` handed to ``fn``'s own loops in one call.

    ``fn`` runs as in ``with_library_layers``, with ``range`` in its module
    replaced by a counting one for the duration of the call.  Loops over
    ``np.ndindex``, ``itertools`` or ``while`` are not counted.
    """
    counter = [0]
    g = getattr(fn, "__globals__", {})
    missing = object()
    saved = g.get("range", missing)
    g["range"] = lambda *a: _CountedRange(range(*a), counter)
    try:
        with_library_layers(fn, *args, **kwargs)
    finally:
        if saved is missing:
            g.pop("range", None)
        else:
            g["range"] = saved
    return counter[0]


def loop_budget(field_height, field_width) -> int:
    """The most loop steps a fast layer may take: two loop nests over a window's offsets."""
    return 2 * (field_height * field_width + field_height)


def error_raised(fn, *args, **kwargs) -> str:
    """The name of the exception ``fn(*args, **kwargs)`` raises, or "no error"."""
    try:
        fn(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - the kind of error is the answer
        return "ValueError" if isinstance(err, ValueError) else type(err).__name__
    return "no error"


# --------------------------------------------------------------------------
# case builders (also used by the grader's hidden cases)
# --------------------------------------------------------------------------

def fast_case(target, label, args, expected, output, **kw):
    """A fast layer called with the library's building blocks in place of the notebook's."""
    return Case(label, (student(target),) + tuple(args), expected=expected, output=output,
                call=library("assignments.notebooks.cnn:with_library_layers"), **kw)


def loop_budget_case(target, label, args, field_height, field_width, positions):
    """The layer may loop over a window's offsets, never over the output positions."""
    budget = loop_budget(field_height, field_width)

    def verify(count, case):
        if not isinstance(count, (int, np.integer)) or count > budget:
            raise CheckFailed(
                f"{target} ran {count} loop steps for {positions} output positions; loop at "
                f"most over the {field_height} x {field_width} offsets inside a window "
                f"(at most {budget} steps here), never over output positions")
    return Case(label, (student(target),) + tuple(args), verify=verify,
                call=library("assignments.notebooks.cnn:loop_iterations"))


def error_case(target, label, args):
    """The layer must raise ValueError for a window, stride and padding that do not tile."""
    return Case(label, (student(target),) + tuple(args), expected="ValueError",
                output="the error raised",
                call=library("assignments.notebooks.cnn:error_raised"))


def float32_case(target, label, args, names):
    """float32 inputs give float32 outputs (the network trains in float32)."""
    def verify(out, case):
        outs = out if isinstance(out, tuple) else (out,)
        for name, value in zip(names, outs):
            dtype = getattr(value, "dtype", type(value).__name__)
            if dtype != np.float32:
                raise CheckFailed(f"{name} has dtype {dtype} for float32 inputs; keep the "
                                  "dtype of the inputs (e.g. np.zeros(shape, dtype=x.dtype))")
    return Case(label, (student(target),) + tuple(args), verify=verify,
                call=library("assignments.notebooks.cnn:with_library_layers"))


def _matches_numeric(forward, inputs, names, tol=1e-7):
    """Verify a backward layer's gradients against numerical ones of ``forward(*inputs)``.

    The case's first argument is dout; ``forward`` is the reference layer's
    forward pass as a function of the inputs named ``names``.
    """
    def verify(out, case):
        dout = case.args[0]
        got = out if isinstance(out, (tuple, list)) else (out,)
        if len(got) != len(names):
            raise CheckFailed(f"expected {len(names)} gradient{'s' if len(names) > 1 else ''} "
                              f"({', '.join(names)}), got {len(got)}")
        for i, name in enumerate(names):
            def f(v, i=i):
                args = list(inputs)
                args[i] = v
                return forward(*args)
            numeric = eval_numerical_gradient_array(f, np.array(inputs[i], dtype=np.float64),
                                                    dout)
            g = got[i]
            if isinstance(g, np.ndarray) and g.shape != numeric.shape:
                raise CheckFailed(f"{name}: expected shape {numeric.shape} (the shape of the "
                                  f"forward input), got shape {g.shape}")
            assert_gradients_close(g, numeric, name, tol)
    return verify


def _conv_numeric(cache):
    x, w, b, stride, pad = cache
    return _matches_numeric(lambda *a: conv.conv_forward_fast(*a, stride, pad)[0], (x, w, b),
                            ("dx", "dw", "db"))


def _conv_cache(rng, shape, filters, stride, pad, scale=1.0):
    x = rng.normal(size=shape) * scale
    w = rng.normal(size=filters)
    b = rng.normal(size=filters[0])
    return x, w, b, stride, pad


# --------------------------------------------------------------------------
# naive convolution
# --------------------------------------------------------------------------

# The 3 x 3 image used by the hand-worked cases:
#   1 2 3
#   4 5 6
#   7 8 9
_X33 = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
# filter [[1, 0], [0, -1]]: out[i, j] = x[i, j] - x[i + 1, j + 1] + b = -4 + 0.5 everywhere
_W_DIAG = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
_B_HALF = np.array([0.5])
_OUT_DIAG = np.full((1, 1, 2, 2), -3.5)
# 3 x 3 filter of ones, pad 1, stride 2: windows of the padded image start at rows / columns
# -1 and 1 of the original, so they sum x[0:2, 0:2] = 12, x[0:2, 1:3] = 16, x[1:3, 0:2] = 24,
# x[1:3, 1:3] = 28
_W_ONES = np.ones((1, 1, 3, 3))
_OUT_ONES = np.array([[[[12.0, 16.0], [24.0, 28.0]]]])


def conv_forward_naive_cases(target="conv_forward_naive"):
    """Visible cases for ``conv_forward_naive(x, w, b, stride, pad) -> (out, cache)``."""
    rng = np.random.default_rng(60)
    x, w, b, _, _ = _conv_cache(rng, (2, 3, 5, 4), (2, 3, 3, 2), 1, 1)
    out, _ = conv.conv_forward_fast(x, w, b, 2, 1)
    zero_b = np.zeros(1)
    return [
        Case("3 x 3 image, filter [[1, 0], [0, -1]], b = 0.5: x[i, j] - x[i+1, j+1] + 0.5",
             (_X33, _W_DIAG, _B_HALF), expected=(_OUT_DIAG, (_X33, _W_DIAG, _B_HALF, 1, 0)),
             output=CONV_OUTPUT),
        Case("3 x 3 image, 3 x 3 filter of ones, stride 2, pad 1: sums of 2 x 2 corners",
             (_X33, _W_ONES, zero_b), {"stride": 2, "pad": 1},
             expected=(_OUT_ONES, (_X33, _W_ONES, zero_b, 2, 1)), output=CONV_OUTPUT),
        Case("2 images of 3 channels (5 x 4), 2 filters of 3 x 2, stride 2, pad 1",
             (x, w, b), {"stride": 2, "pad": 1}, expected=(out, (x, w, b, 2, 1)),
             output=CONV_OUTPUT),
        error_case(target, "6 x 6 image, 3 x 3 filter, stride 2, pad 0 does not tile: ValueError",
                   (np.zeros((1, 1, 6, 6)), np.zeros((1, 1, 3, 3)), np.zeros(1), 2, 0)),
    ]


def conv_backward_naive_cases():
    """Visible cases for ``conv_backward_naive(dout, cache) -> (dx, dw, db)``."""
    # dout = ones: db = 4 (four outputs); dw[p, q] = sum of x over the four windows' (p, q)
    # entries = [[1+2+4+5, 2+3+5+6], [4+5+7+8, 5+6+8+9]]; dx[a, b] = sum of the filter entries
    # that touch pixel (a, b): +1 from w[0, 0] where a, b <= 1, -1 from w[1, 1] where a, b >= 1
    cache = (_X33, _W_DIAG, _B_HALF, 1, 0)
    dx = np.array([[[[1.0, 1.0, 0.0], [1.0, 0.0, -1.0], [0.0, -1.0, -1.0]]]])
    dw = np.array([[[[12.0, 16.0], [24.0, 28.0]]]])
    rng = np.random.default_rng(61)
    c2 = _conv_cache(rng, (2, 2, 5, 3), (2, 2, 3, 3), 2, 1)
    d2 = rng.normal(size=(2, 2, 3, 2))
    c3 = _conv_cache(rng, (1, 1, 3, 4), (2, 1, 3, 1), 1, 2)
    d3 = rng.normal(size=(1, 2, 5, 8))
    return [
        Case("3 x 3 image, filter [[1, 0], [0, -1]], dout = ones, worked out by hand",
             (np.ones((1, 1, 2, 2)), cache), expected=(dx, dw, np.array([4.0])),
             output=("dx", "dw", "db")),
        Case("2 images, 2 channels (5 x 3), 2 filters, stride 2, pad 1: numerical gradients",
             (d2, c2),
             verify=_conv_numeric(c2)),
        Case("1 image, 1 channel (3 x 4), 2 filters of 3 x 1, pad 2: numerical gradients",
             (d3, c3),
             verify=_conv_numeric(c3)),
    ]


def check_conv_forward_naive(fn):
    """Check ``conv_forward_naive(x, w, b, stride=1, pad=0) -> (out, cache)``."""
    run_cases(fn, conv_forward_naive_cases(fn.__name__), namespace={fn.__name__: fn})


def check_conv_backward_naive(fn):
    """Check ``conv_backward_naive(dout, cache) -> (dx, dw, db)``."""
    run_cases(fn, conv_backward_naive_cases())


# --------------------------------------------------------------------------
# naive max pooling
# --------------------------------------------------------------------------

# x = [[1, 3, 2, 2], [3, 0, 2, 2]]: window 1 has a tie between 3 at (0, 1) and 3 at (1, 0);
# window 2 is all 2s.  The first maximum in row-major order gets the gradient: x[0, 1] and
# x[0, 2].
_X_TIES = np.array([[[[1.0, 3.0, 2.0, 2.0], [3.0, 0.0, 2.0, 2.0]]]])
_DX_TIES = np.array([[[[0.0, 10.0, 20.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])


def max_pool_forward_naive_cases(target="max_pool_forward_naive"):
    """Visible cases for ``max_pool_forward_naive(x, pool_height, pool_width, stride)``."""
    x16 = np.arange(16.0).reshape(1, 1, 4, 4)
    # 2 x 2 windows with stride 2 over 0..15: maxima 5, 7, 13, 15
    out16 = np.array([[[[5.0, 7.0], [13.0, 15.0]]]])
    # 2 x 3 windows with stride 1 over the 4 x 4 image: the bottom-right of each window,
    # x[i + 1, j + 2] = 4 (i + 1) + j + 2
    out23 = np.array([[[[6.0, 7.0], [10.0, 11.0], [14.0, 15.0]]]])
    rng = np.random.default_rng(62)
    x = rng.normal(size=(2, 3, 5, 7))
    out, _ = conv.max_pool_forward_fast(x, 3, 3, 2)
    return [
        Case("0..15 in a 4 x 4 image, 2 x 2 windows, stride 2", (x16,),
             expected=(out16, (x16, 2, 2, 2)), output=POOL_OUTPUT),
        Case("the same image, 2 x 3 windows, stride 1 (overlapping)", (x16,),
             {"pool_height": 2, "pool_width": 3, "stride": 1},
             expected=(out23, (x16, 2, 3, 1)), output=POOL_OUTPUT),
        Case("2 images, 3 channels (5 x 7), 3 x 3 windows, stride 2", (x, 3, 3, 2),
             expected=(out, (x, 3, 3, 2)), output=POOL_OUTPUT),
        error_case(target, "a 5 x 5 image with 2 x 2 windows, stride 2 does not tile: ValueError",
                   (np.zeros((1, 1, 5, 5)), 2, 2, 2)),
    ]


def max_pool_backward_naive_cases():
    """Visible cases for ``max_pool_backward_naive(dout, cache) -> dx``."""
    # a 3 x 3 image with its maximum in the middle: all four 2 x 2 windows (stride 1) pick it,
    # so it collects 1 + 2 + 3 + 4 = 10
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 9.0
    dx_mid = np.zeros((1, 1, 3, 3))
    dx_mid[0, 0, 1, 1] = 10.0
    rng = np.random.default_rng(63)
    xr = rng.normal(size=(1, 2, 5, 7))
    dr = rng.normal(size=(1, 2, 2, 3))
    return [
        Case("ties: [[1, 3, 2, 2], [3, 0, 2, 2]], 2 x 2 windows, dout [[10, 20]]",
             (np.array([[[[10.0, 20.0]]]]), (_X_TIES, 2, 2, 2)), expected=_DX_TIES,
             output="dx"),
        Case("overlapping 2 x 2 windows (stride 1) that share their maximum add up",
             (np.arange(1.0, 5.0).reshape(1, 1, 2, 2), (x, 2, 2, 1)), expected=dx_mid,
             output="dx"),
        Case("1 image, 2 channels (5 x 7), 3 x 3 windows, stride 2: numerical gradient",
             (dr, (xr, 3, 3, 2)),
             verify=_matches_numeric(lambda v: conv.max_pool_forward_fast(v, 3, 3, 2)[0], (xr,),
                                     ("dx",))),
    ]


def check_max_pool_forward_naive(fn):
    """Check ``max_pool_forward_naive(x, pool_height=2, pool_width=2, stride=2)``."""
    run_cases(fn, max_pool_forward_naive_cases(fn.__name__), namespace={fn.__name__: fn})


def check_max_pool_backward_naive(fn):
    """Check ``max_pool_backward_naive(dout, cache) -> dx``."""
    run_cases(fn, max_pool_backward_naive_cases())


# --------------------------------------------------------------------------
# im2col and col2im
# --------------------------------------------------------------------------

# im2col of the 3 x 3 image with 2 x 2 windows: rows are the offsets (0,0), (0,1), (1,0), (1,1),
# columns the windows (0,0), (0,1), (1,0), (1,1); entry = x[i + p, j + q]
_COLS33 = np.array([[1.0, 2.0, 4.0, 5.0], [2.0, 3.0, 5.0, 6.0],
                    [4.0, 5.0, 7.0, 8.0], [5.0, 6.0, 8.0, 9.0]])


def _im2col_loops(x, fh, fw, stride, pad):
    """im2col written out with loops: an oracle independent of the reference."""
    N, C, H, W = x.shape
    H_out = (H + 2 * pad - fh) // stride + 1
    W_out = (W + 2 * pad - fw) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.zeros((C * fh * fw, N * H_out * W_out), dtype=x.dtype)
    for c in range(C):
        for p in range(fh):
            for q in range(fw):
                for n in range(N):
                    for i in range(H_out):
                        for j in range(W_out):
                            cols[(c * fh + p) * fw + q, (n * H_out + i) * W_out + j] = \
                                xp[n, c, i * stride + p, j * stride + q]
    return cols


def im2col_cases():
    """Visible cases for ``im2col(x, field_height, field_width, stride=1, pad=0) -> cols``."""
    rng = np.random.default_rng(64)
    x = rng.normal(size=(2, 2, 5, 4))
    return [
        Case("3 x 3 image, 2 x 2 windows, stride 1", (_X33, 2, 2), expected=_COLS33,
             output="cols"),
        Case("2 images, 2 channels (5 x 4), 3 x 2 windows, stride 2, pad 1",
             (x, 3, 2), {"stride": 2, "pad": 1}, expected=_im2col_loops(x, 3, 2, 2, 1),
             output="cols"),
        Case("a single 1 x 1 window per image: one column per image", (x, 5, 4),
             expected=_im2col_loops(x, 5, 4, 1, 0), output="cols"),
    ]


def _adjoint_of_im2col(x_shape, fh, fw, stride, pad, seed):
    """col2im must satisfy <im2col(x), cols> = <x, col2im(cols)> for every x and cols."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=x_shape)
    cols = rng.normal(size=conv.im2col(x, fh, fw, stride, pad).shape)

    def verify(dx, case):
        compare(dx, conv.col2im(cols, x_shape, fh, fw, stride, pad), "dx", rtol=1e-7,
                atol=1e-10, reveal=False)
        lhs = float(np.sum(conv.im2col(x, fh, fw, stride, pad) * cols))
        compare(float(np.sum(x * dx)), lhs, "sum(x * col2im(cols)) (it must equal "
                "sum(im2col(x) * cols))", rtol=1e-8)
    return Case(f"random cols of images {x_shape}, {fh} x {fw} windows, stride {stride}, "
                f"pad {pad}: the adjoint of im2col", (cols, x_shape, fh, fw),
                {"stride": stride, "pad": pad}, verify=verify)


def col2im_cases(target="col2im"):
    """Visible cases for ``col2im(cols, x_shape, field_height, field_width, stride, pad)``."""
    # all-ones columns: each pixel receives the number of 2 x 2 windows that cover it
    counts = np.array([[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]])
    big = np.zeros((9, 2 * 40 * 40))
    return [
        Case("ones for a 3 x 3 image, 2 x 2 windows: how many windows cover each pixel",
             (np.ones((4, 4)), (1, 1, 3, 3), 2, 2), expected=counts, output="dx"),
        Case("the 3 x 3 image's columns back: each pixel times its count",
             (_COLS33, (1, 1, 3, 3), 2, 2), expected=counts * _X33, output="dx"),
        _adjoint_of_im2col((2, 2, 5, 7), 3, 3, 2, 1, 65),
        loop_budget_case(target, "3 x 3 windows on 2 images of 40 x 40 (pad 1): no loop over "
                         "the 3,200 output positions", (big, (2, 1, 40, 40), 3, 3, 1, 1), 3, 3,
                         3200),
    ]


def check_im2col(fn):
    """Check ``im2col(x, field_height, field_width, stride=1, pad=0) -> cols``."""
    run_cases(fn, im2col_cases())


def check_col2im(fn):
    """Check ``col2im(cols, x_shape, field_height, field_width, stride=1, pad=0) -> dx``."""
    run_cases(fn, col2im_cases(fn.__name__), namespace={fn.__name__: fn})


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
        out, _ = conv.conv_forward_naive(x, w, b, stride, pad)
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
        out, _ = conv.conv_forward_naive(*cache)
        dout = rng.normal(size=out.shape)
        cases.append(fast_case(target, label, (dout, cache),
                               conv.conv_backward_naive(dout, cache), ("dx", "dw", "db")))
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
        out, cache = conv.max_pool_forward_naive(x, ph, pw, stride)
        cases.append(fast_case(target, f"{label}, images {shape[2]} x {shape[3]}",
                               (x, ph, pw, stride), (out, cache), POOL_OUTPUT))
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
        dout = rng.normal(size=conv.max_pool_forward_naive(*cache)[0].shape)
        cases.append(fast_case(target, label, (dout, cache),
                               conv.max_pool_backward_naive(dout, cache), "dx"))
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
    return [
        Case("2 images, 2 channels of 1 x 2 pixels, worked out by hand (train mode)",
             (x, gamma, beta, rm, rv), expected=(out, cache, running), output=SBN_OUTPUT),
        Case("the same in test mode, with running mean [1, 3] and variance [1, 4]",
             (x, gamma, beta) + test_running, {"mode": "test"},
             expected=(out, (x.shape, (_sbn_rows(x), _sbn_rows(x_hat)) + test_running
                             + (gamma, eps)), test_running), output=SBN_OUTPUT),
        Case("3 images, 4 channels of 2 x 5 pixels, momentum 0.5",
             (xr, g, bt, m0, v0), {"momentum": 0.5},
             expected=conv.spatial_batchnorm_forward(xr, g, bt, m0, v0, momentum=0.5),
             output=SBN_OUTPUT),
    ]


def spatial_batchnorm_backward_cases():
    """Visible cases for ``spatial_batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)``."""
    rng = np.random.default_rng(71)
    cases = []
    for shape in ((2, 3, 2, 3), (3, 2, 1, 2)):
        C = shape[1]
        x = rng.normal(size=shape) * 3 + 2
        gamma, beta = rng.normal(size=C), rng.normal(size=C)
        _, cache, _ = conv.spatial_batchnorm_forward(x, gamma, beta, np.zeros(C), np.ones(C))
        forward = lambda *a, C=C: conv.spatial_batchnorm_forward(*a, np.zeros(C), np.ones(C))[0]
        cases.append(Case(f"images {shape}: numerical gradients", (rng.normal(size=shape), cache),
                          verify=_matches_numeric(forward, (x, gamma, beta),
                                                  ("dx", "dgamma", "dbeta"), 1e-6)))
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
    return [
        Case("1 image, 4 one-pixel channels [0, 2, 3, 7], G = 2, worked out by hand",
             (x, gamma, beta, 2), expected=(out, (x, x_hat, mean, var, gamma, 2, eps)),
             output=SGN_OUTPUT),
        Case("2 images, 6 channels of 3 x 4 pixels, G = 3", (xr, g, bt, 3),
             expected=conv.spatial_groupnorm_forward(xr, g, bt, 3), output=SGN_OUTPUT),
        Case("the same with G = 1 (layer norm over C, H, W)", (xr, g, bt, 1),
             expected=conv.spatial_groupnorm_forward(xr, g, bt, 1), output=SGN_OUTPUT),
    ]


def spatial_groupnorm_backward_cases():
    """Visible cases for ``spatial_groupnorm_backward(dout, cache) -> (dx, dgamma, dbeta)``."""
    rng = np.random.default_rng(73)
    cases = []
    for shape, G in (((2, 6, 2, 2), 3), ((1, 4, 2, 3), 2)):
        C = shape[1]
        x = rng.normal(size=shape) * 2 + 1
        gamma, beta = rng.normal(size=C), rng.normal(size=C)
        _, cache = conv.spatial_groupnorm_forward(x, gamma, beta, G)
        forward = lambda *a, G=G: conv.spatial_groupnorm_forward(*a, G)[0]
        cases.append(Case(f"images {shape}, G = {G}: numerical gradients",
                          (rng.normal(size=shape), cache),
                          verify=_matches_numeric(forward, (x, gamma, beta),
                                                  ("dx", "dgamma", "dbeta"), 1e-6)))
    return cases


def check_spatial_groupnorm_forward(fn):
    """Check ``spatial_groupnorm_forward(x, gamma, beta, G, eps=1e-5) -> (out, cache)``."""
    run_cases(fn, spatial_groupnorm_forward_cases())


def check_spatial_groupnorm_backward(fn):
    """Check ``spatial_groupnorm_backward(dout, cache) -> (dx, dgamma, dbeta)``."""
    run_cases(fn, spatial_groupnorm_backward_cases())


# --------------------------------------------------------------------------
# the network (run through the generic adapters of assignments.adapters)
# --------------------------------------------------------------------------

NET = student("ThreeLayerConvNet")


def convnet_kwargs(params, X, reg=0.0):
    """The keyword arguments that build a ThreeLayerConvNet for ``params`` and images ``X``."""
    F, _, fs, _ = np.shape(params["W1"])
    hidden, classes = np.shape(params["W3"])
    return {"input_dim": tuple(int(d) for d in np.shape(X)[1:]), "num_filters": int(F),
            "filter_size": int(fs), "hidden_dim": int(hidden), "num_classes": int(classes),
            "reg": reg}


def convnet_init_case(kwargs, seed, label=None):
    """A case for ThreeLayerConvNet.__init__: names, shapes, zero biases, weight scale, rng.

    The draw order is not part of the task, so the weights' scale is judged
    statistically (every weight array has >= 1,000 entries: a correct draw
    fails with probability below 1e-9, see ``verify_gaussian``).
    """
    C, H, W = kwargs["input_dim"]
    F, fs, hidden, classes = (kwargs["num_filters"], kwargs["filter_size"], kwargs["hidden_dim"],
                              kwargs["num_classes"])
    shapes = {"W1": (F, C, fs, fs), "b1": (F,), "W2": (F * (H // 2) * (W // 2), hidden),
              "b2": (hidden,), "W3": (hidden, classes), "b3": (classes,)}
    for name in ("W1", "W2", "W3"):
        assert np.prod(shapes[name]) >= 1000, "too few weights for a seed-proof check"
    scale = kwargs.get("weight_scale")
    fan_in = {"W1": C * fs * fs, "W2": shapes["W2"][0], "W3": hidden}
    std = {k: (np.sqrt(2.0 / n) if scale is None else scale) for k, n in fan_in.items()}
    setting = ("weight_scale=None (He: std sqrt(2 / fan_in), fan_in {fan})" if scale is None
               else f"weight_scale={scale:g}")

    def verify(out, case):
        verify_model_init(out, shapes, std, {k: setting.format(fan=n) for k, n in fan_in.items()})

    desc = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "reg")
    return Case(label or f"ThreeLayerConvNet({desc})", (NET, (), kwargs, (seed, seed, seed + 1)),
                call=library("assignments.adapters:model_init"), verify=verify)


def convnet_init_cases():
    """Visible cases for ``ThreeLayerConvNet.__init__``: a given scale, then He."""
    return [
        convnet_init_case({"input_dim": (1, 8, 8), "num_filters": 40, "filter_size": 5,
                           "hidden_dim": 50, "num_classes": 20, "weight_scale": 0.1}, 0),
        convnet_init_case({"input_dim": (3, 6, 6), "num_filters": 40, "filter_size": 3,
                           "hidden_dim": 100, "num_classes": 10, "weight_scale": None}, 7),
    ]




def convnet_scores_case(label, params, X, expected):
    return Case(label, (NET, (), convnet_kwargs(params, X), params, X), expected=expected,
                output="scores", call=library("assignments.adapters:model_scores"))


def convnet_gradcheck_case(label, params, X, y, reg, expected_loss=None):
    return Case(label, (NET, (), convnet_kwargs(params, X, reg), params, X, y),
                call=library("assignments.adapters:model_gradcheck"),
                verify=gradients_match(expected_loss))


def convnet_loss_case(label, params, X, y, reg, expected):
    """(loss, grads, state) compared exactly with ``expected`` from the reference network."""
    return Case(label, (NET, (), convnet_kwargs(params, X, reg), params, X, y),
                call=library("assignments.adapters:model_loss"), expected=expected,
                output=("loss", "grads", "state"))


def toy_convnet():
    """A network small enough to work out: one 4 x 4 image, one 3 x 3 filter, 2 classes.

    The filter is all zeros but for a 1 in the middle, b1 = 0: the conv layer
    copies the image (pad 1); ReLU keeps the positive pixels; the 2 x 2 pool
    keeps each quadrant's maximum.  W2 (4, 2) and W3 (2, 2) are chosen by hand.
    """
    X = np.array([[[[1.0, -2.0, 0.5, 3.0], [0.5, -1.0, -1.0, 2.0],
                    [-3.0, 4.0, 1.0, 1.5], [2.0, -0.5, -1.0, 0.5]]]])
    W1 = np.zeros((1, 1, 3, 3))
    W1[0, 0, 1, 1] = 1.0
    params = {"W1": W1, "b1": np.zeros(1),
              "W2": np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0], [-1.0, 1.0]]),
              "b2": np.array([0.0, -1.0]),
              "W3": np.array([[1.0, -1.0], [0.5, 2.0]]), "b3": np.array([0.0, 0.5])}
    return params, X, np.array([1])


# Pooled maxima of the toy image after ReLU: quadrants [[1, 0], [0.5, 0]] -> 1,
# [[0.5, 3], [0, 2]] -> 3, [[0, 4], [2, 0]] -> 4, [[1, 1.5], [0, 0.5]] -> 1.5: p = [1, 3, 4, 1.5].
# hidden: p @ W2 + b2 = [1 + 4 - 1.5, 3 - 4 + 1.5] + [0, -1] = [3.5, -0.5] -> ReLU [3.5, 0]
# scores: [3.5, 0] @ W3 + b3 = [3.5, -3.5] + [0, 0.5] = [3.5, -3]; label 1: loss log(1 + e^6.5).
# No pixel, conv output or hidden input is near 0 and no pool window has two maxima, so the
# numerical gradients are exact up to rounding.
TOY_SCORES = np.array([[3.5, -3.0]])
TOY_LOSS = float(np.log1p(np.exp(6.5)))


def convnet_loss_cases():
    """Visible cases for ``ThreeLayerConvNet.loss``: the toy net, then numerical gradients."""
    params, X, y = toy_convnet()
    rng = np.random.default_rng(74)
    rand = {"W1": rng.normal(size=(2, 1, 3, 3)), "b1": rng.normal(size=2) * 0.1,
            "W2": rng.normal(size=(8, 4)) * 0.5, "b2": rng.normal(size=4) * 0.1,
            "W3": rng.normal(size=(4, 3)), "b3": rng.normal(size=3) * 0.1}
    Xr = rng.normal(size=(3, 1, 4, 4))
    return [
        convnet_scores_case("toy net, one 4 x 4 image: scores (y=None)", params, X, TOY_SCORES),
        convnet_gradcheck_case("toy net: loss log(1 + e^6.5) and numerical gradients, reg = 0",
                               params, X, y, 0.0, TOY_LOSS),
        convnet_gradcheck_case("random net, 3 images of 4 x 4, reg = 0.1: numerical gradients",
                               rand, Xr, np.array([0, 2, 1]), 0.1),
    ]


def check_convnet_init(cls):
    """Check ``ThreeLayerConvNet.__init__`` (params, shapes, scale, use of rng)."""
    run_cases(None, convnet_init_cases(), name="ThreeLayerConvNet.__init__",
              namespace={"ThreeLayerConvNet": cls})


def check_convnet_loss(cls):
    """Check ``ThreeLayerConvNet.loss`` (scores, loss, gradients), with the library's layers."""
    run_cases(None, convnet_loss_cases(), name="ThreeLayerConvNet.loss",
              namespace={"ThreeLayerConvNet": cls})


# --------------------------------------------------------------------------
# the chosen hyperparameters
# --------------------------------------------------------------------------

# Settings the notebook keeps fixed (Adam, He initialisation, and these).
TRAINING_DEFAULTS = {"batch_size": 50, "lr_decay": 0.95}



RECIPE = Recipe(
    name="convnet (He initialisation, Adam)",
    space={"num_filters": Param("int", low=1), "filter_size": Param("choice", choices=(3, 5, 7)),
           "hidden_dim": Param("int", low=1),
           "learning_rate": Param("float", low=0.0, open_low=True),
           "reg": Param("float", low=0.0), "num_epochs": Param("int", low=1)},
    prepare=grader_split(2000, 1000), min_val_acc=0.72,
    caps={"num_filters": 8, "hidden_dim": 64, "num_epochs": 2},
    fixed=TRAINING_DEFAULTS, seed=2026)


def train_convnet(settings, data) -> float:
    """Best validation accuracy of the library's ThreeLayerConvNet trained with ``settings``."""
    from ..convnet import ThreeLayerConvNet
    from ..solver import Solver

    data = {k: (v.astype(np.float32) if k.startswith("X_") else v) for k, v in data.items()}
    net = ThreeLayerConvNet(data["X_train"].shape[1:], num_filters=int(settings["num_filters"]),
                            filter_size=int(settings["filter_size"]),
                            hidden_dim=int(settings["hidden_dim"]),
                            reg=float(settings["reg"]),
                            dtype=np.float32, rng=np.random.default_rng(0))
    solver = Solver(net, data, rng=np.random.default_rng(1), update_rule="adam",
                    optim_config={"learning_rate": float(settings["learning_rate"])},
                    lr_decay=settings["lr_decay"], batch_size=settings["batch_size"],
                    num_epochs=int(settings["num_epochs"]), progress=False).train()
    return solver.best_val_acc


def hyperparameter_cases():
    """Visible case for ``chosen_hyperparameters()``: the format of the dict."""
    return [RECIPE.format_case(label="the dict of chosen hyperparameters")]


def check_hyperparameters(fn):
    """Check that ``fn()`` returns a dict with every key of the recipe, each in range."""
    run_cases(fn, hyperparameter_cases())


# --------------------------------------------------------------------------
# data for the transfer-learning experiment
# --------------------------------------------------------------------------

def class_subset(X, y, classes, per_class=None, rng=None):
    """The examples of ``classes`` (at most ``per_class`` of each, drawn by ``rng``), with
    their labels renumbered 0, 1, ... in the order of ``classes``."""
    classes = np.asarray(classes)
    keep = []
    for c in classes:
        idx = np.flatnonzero(y == c)
        if per_class is not None:
            if per_class > len(idx):
                raise ValueError(f"class {c} has only {len(idx)} examples, {per_class} requested")
            idx = rng.choice(idx, per_class, replace=False)
        keep.append(idx)
    keep = np.concatenate(keep)
    relabel = np.full(int(max(classes.max(), y.max())) + 1, -1)
    relabel[classes] = np.arange(len(classes))
    return X[keep], relabel[y[keep]]
