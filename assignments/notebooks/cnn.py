"""Notebook 6 (convolutional networks): visible checks of the naive layers and im2col.

The layer contract fixes every cache (see ``assignments.convolution``), so
each backward function is checked on caches built here, never on the output
of the student's forward.  Two more rules keep one bug from costing the
points of another cell:

* when graded, the fast layers run with the course's answers in place of the
  notebook's own helpers (``with_library_layers``): a broken ``im2col`` costs
  the ``im2col`` cell, not the fast convolution's;
* the network's cases run the student's ``ThreeLayerConvNet`` through
  ``assignments.adapters`` (with the course's layers, when graded).

Expected values were worked out by hand (comments show the arithmetic), or
are the course's answers on the visible inputs, stored as data by `course
release` (``STORED``, see ``assignments.expected``): this package computes
none of them.  The checks of the fast layers and spatial normalizations live
in ``assignments.notebooks.cnn_fast``, those of the network and the grader's
recipe in ``cnn_model``, the pictures in ``cnn_plots``.
"""

from __future__ import annotations

import numpy as np

from ..adapters import library_building_blocks
from ..cases import Case, CheckFailed, compare, library, run_cases, student
from ..convolution import conv_output_shape
from ..expected import Computed, Stored

__all__ = [
    "with_library_layers", "loop_iterations", "error_raised", "loop_budget", "CONV_OUTPUT",
    "POOL_OUTPUT", "SBN_OUTPUT", "SGN_OUTPUT", "float32_case", "conv_forward_naive_cases",
    "conv_backward_naive_cases", "max_pool_forward_naive_cases",
    "max_pool_backward_naive_cases", "im2col_cases", "col2im_cases",
    "check_conv_forward_naive", "check_conv_backward_naive", "check_max_pool_forward_naive",
    "check_max_pool_backward_naive", "check_im2col", "check_col2im", "fast_case",
    "loop_budget_case", "error_case", "STORED", "stored_output", "stored_backward",
]

CONV_OUTPUT = ("out", ("cache", ("x", "w", "b", "stride", "pad")))
POOL_OUTPUT = ("out", ("cache", ("x", "pool_height", "pool_width", "stride")))
SBN_OUTPUT = ("out", ("cache", ("x shape", ("batch norm cache", ("x rows", "x_hat", "mean",
                                                                  "var", "gamma", "eps")))),
              ("running", ("running_mean", "running_var")))
SGN_OUTPUT = ("out", ("cache", ("x", "x_hat", "mean", "var", "gamma", "G", "eps")))

STORED = Stored("06_cnn", {})


def stored_output(function, label, args, kwargs=None):
    """The course's ``function(*args, **kwargs)[0]`` (a forward pass's out), stored."""
    return STORED.value(f"{function}: {label}",
                        Computed(function, tuple(args), dict(kwargs or {}))[0])


def stored_backward(function, label, dout, cache):
    """The course's ``function(dout, cache)`` (a backward pass's gradients), stored."""
    return STORED.value(f"{function}: {label}", Computed(function, (dout, cache)))


# --------------------------------------------------------------------------
# calling a student's layer: library blocks, loop budget, expected errors
# --------------------------------------------------------------------------

def with_library_layers(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with the building blocks in place of the notebook's layers.

    When graded, the grader hands the call the course's answers that ``fn``'s
    answer uses (``im2col``, ``col2im``, ...) as the building blocks: while it
    runs, every such name ``fn`` looks up is the course's, so a bug in one of
    them costs only its own cell.  In a student's notebook there are none, and
    ``fn`` runs with the notebook's own layers.
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
    """A fast layer called with the building blocks in place of the notebook's layers."""
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
    label = "2 images of 3 channels (5 x 4), 2 filters of 3 x 2, stride 2, pad 1"
    out = stored_output("conv_forward_naive", label, (x, w, b), {"stride": 2, "pad": 1})
    zero_b = np.zeros(1)
    return [
        Case("3 x 3 image, filter [[1, 0], [0, -1]], b = 0.5: x[i, j] - x[i+1, j+1] + 0.5",
             (_X33, _W_DIAG, _B_HALF), expected=(_OUT_DIAG, (_X33, _W_DIAG, _B_HALF, 1, 0)),
             output=CONV_OUTPUT),
        Case("3 x 3 image, 3 x 3 filter of ones, stride 2, pad 1: sums of 2 x 2 corners",
             (_X33, _W_ONES, zero_b), {"stride": 2, "pad": 1},
             expected=(_OUT_ONES, (_X33, _W_ONES, zero_b, 2, 1)), output=CONV_OUTPUT),
        Case(label, (x, w, b), {"stride": 2, "pad": 1}, expected=(out, (x, w, b, 2, 1)),
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
    l2 = "2 images, 2 channels (5 x 3), 2 filters, stride 2, pad 1"
    l3 = "1 image, 1 channel (3 x 4), 2 filters of 3 x 1, pad 2"
    return [
        Case("3 x 3 image, filter [[1, 0], [0, -1]], dout = ones, worked out by hand",
             (np.ones((1, 1, 2, 2)), cache), expected=(dx, dw, np.array([4.0])),
             output=("dx", "dw", "db")),
        Case(l2, (d2, c2), expected=stored_backward("conv_backward_naive", l2, d2, c2),
             output=("dx", "dw", "db")),
        Case(l3, (d3, c3), expected=stored_backward("conv_backward_naive", l3, d3, c3),
             output=("dx", "dw", "db")),
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
    label = "2 images, 3 channels (5 x 7), 3 x 3 windows, stride 2"
    out = stored_output("max_pool_forward_naive", label, (x, 3, 3, 2))
    return [
        Case("0..15 in a 4 x 4 image, 2 x 2 windows, stride 2", (x16,),
             expected=(out16, (x16, 2, 2, 2)), output=POOL_OUTPUT),
        Case("the same image, 2 x 3 windows, stride 1 (overlapping)", (x16,),
             {"pool_height": 2, "pool_width": 3, "stride": 1},
             expected=(out23, (x16, 2, 3, 1)), output=POOL_OUTPUT),
        Case(label, (x, 3, 3, 2), expected=(out, (x, 3, 3, 2)), output=POOL_OUTPUT),
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
    label = "1 image, 2 channels (5 x 7), 3 x 3 windows, stride 2"
    return [
        Case("ties: [[1, 3, 2, 2], [3, 0, 2, 2]], 2 x 2 windows, dout [[10, 20]]",
             (np.array([[[[10.0, 20.0]]]]), (_X_TIES, 2, 2, 2)), expected=_DX_TIES,
             output="dx"),
        Case("overlapping 2 x 2 windows (stride 1) that share their maximum add up",
             (np.arange(1.0, 5.0).reshape(1, 1, 2, 2), (x, 2, 2, 1)), expected=dx_mid,
             output="dx"),
        Case(label, (dr, (xr, 3, 3, 2)),
             expected=stored_backward("max_pool_backward_naive", label, dr, (xr, 3, 3, 2)),
             output="dx"),
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


def im2col_cases():
    """Visible cases for ``im2col(x, field_height, field_width, stride=1, pad=0) -> cols``."""
    rng = np.random.default_rng(64)
    x = rng.normal(size=(2, 2, 5, 4))
    padded = "2 images, 2 channels (5 x 4), 3 x 2 windows, stride 2, pad 1"
    single = "a single window per image (5 x 4 windows): one column per image"
    return [
        Case("3 x 3 image, 2 x 2 windows, stride 1", (_X33, 2, 2), expected=_COLS33,
             output="cols"),
        Case(padded, (x, 3, 2), {"stride": 2, "pad": 1},
             expected=STORED.value(f"im2col: {padded}",
                                   Computed("im2col", (x, 3, 2), {"stride": 2, "pad": 1})),
             output="cols"),
        Case(single, (x, 5, 4), expected=STORED.value(f"im2col: {single}",
                                                      Computed("im2col", (x, 5, 4))),
             output="cols"),
    ]


def _adjoint_of_im2col(x_shape, fh, fw, stride, pad, seed):
    """col2im must satisfy <im2col(x), cols> = <x, col2im(cols)> for every x and cols."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=x_shape)
    _, _, H_out, W_out = conv_output_shape(x_shape, (1, x_shape[1], fh, fw), stride, pad)
    cols = rng.normal(size=(x_shape[1] * fh * fw, x_shape[0] * H_out * W_out))
    label = (f"random cols of images {x_shape}, {fh} x {fw} windows, stride {stride}, "
             f"pad {pad}: the adjoint of im2col")
    kwargs = {"stride": stride, "pad": pad}
    expected = STORED.value(f"col2im: {label}",
                            Computed("col2im", (cols, x_shape, fh, fw), kwargs))
    x_cols = STORED.value(f"im2col of x: {label}", Computed("im2col", (x, fh, fw), kwargs))

    def verify(dx, case):
        compare(dx, expected, "dx", rtol=1e-7, atol=1e-10, reveal=False)
        compare(float(np.sum(x * dx)), float(np.sum(x_cols * cols)), "sum(x * col2im(cols)) "
                "(it must equal sum(im2col(x) * cols))", rtol=1e-8)
    return Case(label, (cols, x_shape, fh, fw), kwargs, verify=verify)


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
