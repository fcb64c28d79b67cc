"""Hidden cases and mutants of notebook 06_cnn.  Instructor-only.

Expected values come from the source notebook's answers (``solution``, the
reference namespace); the fast layers and the network run with the course's
layers swapped in (the building blocks).  Every task has fixed hidden cases,
the same for every grading seed (the shapes that target the known bugs:
padding > 0, stride > 1, non-square windows and images, N != C, ties), plus
one small case drawn from the grading seed.  So every mutant below is caught
by its own cell for every seed, and the seed sweeps stay fast: only the drawn
case changes.  Every case is small (at most a few hundred steps of the naive
reference's loops).
"""

from __future__ import annotations

import zlib

import numpy as np

from assignments.adapters import model_loss, model_scores
from assignments.cases import Case, resolve_refs
from assignments.notebooks import cnn as public
from assignments.notebooks import cnn_fast, cnn_model

from . import Task
from .cnn_mutants import (  # the plausible bugs, kept apart (data)
    DELEGATION_MUTANTS, DEMO_BUG, MUTANTS)

__all__ = ["TASKS", "MUTANTS", "DEMO_BUG", "DELEGATION_MUTANTS"]

A = "06_cnn"


# --------------------------------------------------------------------------
# shapes
# --------------------------------------------------------------------------

def _size(out, field, stride, pad):
    """The input size for which ``out`` windows of ``field`` tile exactly."""
    return (out - 1) * stride + field - 2 * pad


def _conv_problem(rng, stride, pad, field, out, n=None, c=None, f=None):
    """Random (x, w, b, stride, pad) whose windows tile: field and out are (height, width)."""
    n = int(rng.integers(2, 4)) if n is None else n
    c = int(rng.integers(2, 4)) if c is None else c
    f = int(rng.integers(2, 4)) if f is None else f
    H, W = (_size(o, k, stride, pad) for o, k in zip(out, field))
    x = rng.normal(size=(n, c, H, W))
    w = rng.normal(size=(f, c) + tuple(field))
    b = rng.normal(size=f)
    return x, w, b, stride, pad


def _two(rng, lo, hi):
    """Two different integers in [lo, hi]."""
    a, b = rng.choice(np.arange(lo, hi + 1), size=2, replace=False)
    return int(a), int(b)


def _conv_problems(rng):
    """The shapes every convolution task is tested on (the issue's list)."""
    return [
        ("stride 2, pad 1, non-square filters and images",
         _conv_problem(rng, 2, 1, (3, 5), _two(rng, 2, 4))),
        ("stride 2, pad 0, non-square filters (2 x 3)",
         _conv_problem(rng, 2, 0, (2, 3), _two(rng, 2, 3))),
        ("stride 1, pad 2, a single channel and a single example",
         _conv_problem(rng, 1, 2, (3, 3), _two(rng, 2, 5), n=1, c=1)),
        ("stride 3, pad 0, 3 x 3 filters",
         _conv_problem(rng, 3, 0, (3, 3), _two(rng, 1, 3))),
    ]


def _not_tiling(rng):
    """(x, w, b, stride, pad) whose windows leave a remainder along one axis."""
    stride = int(rng.integers(2, 4))
    field, pad = 3, int(rng.integers(0, 2))
    good = _size(int(rng.integers(2, 4)), field, stride, pad)
    H, W = (good + 1, good) if rng.random() < 0.5 else (good, good + 1)
    return (np.zeros((1, 2, H, W)), np.zeros((2, 2, field, field)), np.zeros(2), stride, pad)


def _pool_problems(rng, values="normal"):
    """(label, (x, pool_height, pool_width, stride)) for the pooling tasks."""
    def draw(shape):
        if values == "ties":
            return rng.integers(0, 3, size=shape).astype(np.float64)
        return rng.normal(size=shape)
    h2, w2 = _two(rng, 2, 4)
    h3, w3 = _two(rng, 2, 3)
    return [
        ("2 x 2 windows, stride 2, non-square images",
         (draw((2, 3, 2 * h2, 2 * w2)), 2, 2, 2)),
        ("3 x 3 windows, stride 3 (they tile)",
         (draw((2, 2, 3 * h3, 3 * w3)), 3, 3, 3)),
        ("3 x 3 windows, stride 2 (they overlap)",
         (draw((3, 2, _size(h3, 3, 2, 0), _size(w3, 3, 2, 0))), 3, 3, 2)),
        ("2 x 3 windows, stride 1 (non-square, overlapping)",
         (draw((2, 2, _size(h2, 2, 1, 0), _size(w2, 3, 1, 0))), 2, 3, 1)),
        ("3 x 2 windows, stride 2 (non-square)",
         (draw((2, 1, _size(h3, 3, 2, 0), _size(w3, 2, 2, 0))), 3, 2, 2)),
    ]


def _dout(rng, forward, *args):
    return rng.normal(size=forward(*args)[0].shape)


def _fixed(task_id):
    """A Generator that is the same for every grading seed: the task's fixed cases."""
    return np.random.default_rng(zlib.crc32(f"06_cnn fixed {task_id}".encode()))


def _drawn_conv(rng):
    """One small convolution problem drawn from the grading seed."""
    stride, pad = int(rng.integers(1, 3)), int(rng.integers(0, 3))
    field = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    out = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    if any(_size(o, k, stride, pad) < 1 for o, k in zip(out, field)):
        pad = 0
    return (f"drawn: stride {stride}, pad {pad}, {field[0]} x {field[1]} filters",
            _conv_problem(rng, stride, pad, field, out, n=int(rng.integers(1, 3)),
                          c=int(rng.integers(1, 3)), f=int(rng.integers(1, 3))))


def _drawn_pool(rng, values="normal"):
    """One small pooling problem drawn from the grading seed."""
    ph, pw, stride = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
    H, W = (_size(int(rng.integers(1, 4)), k, stride, 0) for k in (ph, pw))
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 3)), H, W)
    x = (rng.integers(0, 3, size=shape).astype(np.float64) if values == "ties"
         else rng.normal(size=shape))
    return f"drawn: {ph} x {pw} windows, stride {stride}", (x, ph, pw, stride)


# --------------------------------------------------------------------------
# naive layers
# --------------------------------------------------------------------------

def hidden_conv_forward_naive(rng, solution):
    fwd = solution["conv_forward_naive"]
    fixed = _fixed("conv_forward_naive")
    cases = [Case(label, problem, expected=fwd(*problem), output=public.CONV_OUTPUT)
             for label, problem in _conv_problems(fixed) + [_drawn_conv(rng)]]
    cases.append(public.error_case("conv_forward_naive", "windows that do not tile: ValueError",
                                   _not_tiling(fixed)))
    return cases


def hidden_conv_backward_naive(rng, solution):
    bwd, fwd = solution["conv_backward_naive"], solution["conv_forward_naive"]
    cases = []
    fixed = _fixed("conv_backward_naive")
    problems = _conv_problems(fixed) + [_drawn_conv(rng)]
    for i, (label, cache) in enumerate(problems):
        dout = _dout(rng if i == len(problems) - 1 else fixed, fwd, *cache)
        cases.append(Case(label, (dout, cache), expected=bwd(dout, cache),
                          output=("dx", "dw", "db")))
    return cases


def hidden_max_pool_forward_naive(rng, solution):
    fwd = solution["max_pool_forward_naive"]
    cases = [Case(label, args, expected=fwd(*args), output=public.POOL_OUTPUT)
             for label, args in _pool_problems(_fixed("max_pool_forward_naive"))
             + [_drawn_pool(rng)]]
    H = _size(2, 3, 2, 0) + 1
    cases.append(public.error_case("max_pool_forward_naive",
                                   "windows that do not tile: ValueError",
                                   (np.zeros((1, 1, H, H - 1)), 3, 3, 2)))
    return cases


def hidden_max_pool_backward_naive(rng, solution):
    bwd, fwd = solution["max_pool_backward_naive"], solution["max_pool_forward_naive"]
    fixed = _fixed("max_pool_backward_naive")
    problems = [(f"{label}, values in {{0, 1, 2}}", cache)
                for label, cache in _pool_problems(fixed, "ties")]
    problems += [(f"{label}, random values", cache) for label, cache in _pool_problems(fixed)]
    problems.append(_drawn_pool(rng, "ties"))
    cases = []
    for i, (label, cache) in enumerate(problems):
        dout = _dout(rng if i == len(problems) - 1 else fixed, fwd, *cache)
        cases.append(Case(label, (dout, cache), expected=bwd(dout, cache), output="dx"))
    return cases


# --------------------------------------------------------------------------
# im2col and col2im
# --------------------------------------------------------------------------

def hidden_im2col(rng, solution):
    fn = solution["im2col"]
    cases = []
    for label, (x, w, _, stride, pad) in _conv_problems(_fixed("im2col")) + [_drawn_conv(rng)]:
        args = (x, w.shape[2], w.shape[3], stride, pad)
        cases.append(Case(label, args, expected=fn(*args), output="cols"))
    return cases


def hidden_col2im(rng, solution):
    fn, to_cols = solution["col2im"], solution["im2col"]
    fixed = _fixed("col2im")
    problems = _conv_problems(fixed) + [_drawn_conv(rng)]
    cases = []
    for i, (label, (x, w, _, stride, pad)) in enumerate(problems):
        draw = rng if i == len(problems) - 1 else fixed
        cols = draw.normal(size=to_cols(x, w.shape[2], w.shape[3], stride, pad).shape)
        args = (cols, x.shape, w.shape[2], w.shape[3], stride, pad)
        cases.append(Case(label, args, expected=fn(*args), output="dx"))
    x = fixed.normal(size=(2, 2, 5, 7))     # 3 x 3 windows with stride 2 overlap by one row
    cols = fixed.normal(size=to_cols(x, 3, 3, 2, 0).shape)
    args = (cols, x.shape, 3, 3, 2, 0)
    cases.append(Case("3 x 3 windows, stride 2, pad 0 (overlapping)", args, expected=fn(*args),
                      output="dx"))
    cases.append(public.loop_budget_case(
        "col2im", "3 x 2 windows on 2 images of 42 x 42: no loop over the 3,280 output positions",
        (np.zeros((6, 2 * 40 * 41)), (2, 1, 42, 42), 3, 2, 1, 0), 3, 2, 3280))
    return cases


# --------------------------------------------------------------------------
# fast layers
# --------------------------------------------------------------------------

def hidden_conv_forward_fast(rng, solution):
    fwd = solution["conv_forward_naive"]
    fixed = _fixed("conv_forward_fast")
    cases = [public.fast_case("conv_forward_fast", label, problem, fwd(*problem),
                              public.CONV_OUTPUT)
             for label, problem in _conv_problems(fixed) + [_drawn_conv(rng)]]
    x, w, b, stride, pad = _conv_problem(fixed, 2, 1, (3, 3), (2, 3))
    cases.append(public.float32_case("conv_forward_fast", "float32 inputs, stride 2, pad 1",
                                     (x.astype(np.float32), w.astype(np.float32),
                                      b.astype(np.float32), stride, pad), ("out",)))
    return cases


def hidden_conv_backward_fast(rng, solution):
    bwd, fwd = solution["conv_backward_naive"], solution["conv_forward_naive"]
    fixed = _fixed("conv_backward_fast")
    problems = _conv_problems(fixed) + [_drawn_conv(rng)]
    cases = []
    for i, (label, cache) in enumerate(problems):
        dout = _dout(rng if i == len(problems) - 1 else fixed, fwd, *cache)
        cases.append(public.fast_case("conv_backward_fast", label, (dout, cache),
                                      bwd(dout, cache), ("dx", "dw", "db")))
    x, w, b, stride, pad = _conv_problem(fixed, 1, 2, (3, 3), (3, 2))
    cache = tuple(a.astype(np.float32) for a in (x, w, b)) + (stride, pad)
    dout = _dout(fixed, fwd, *cache).astype(np.float32)
    cases.append(public.float32_case("conv_backward_fast", "float32 inputs, stride 1, pad 2",
                                     (dout, cache), ("dx", "dw", "db")))
    return cases


def hidden_max_pool_forward_fast(rng, solution):
    fwd = solution["max_pool_forward_naive"]
    fixed = _fixed("max_pool_forward_fast")
    cases = [public.fast_case("max_pool_forward_fast", label, args, fwd(*args),
                              public.POOL_OUTPUT)
             for label, args in _pool_problems(fixed) + [_drawn_pool(rng)]]
    cases.append(public.float32_case("max_pool_forward_fast", "float32 inputs, 3 x 3 windows, "
                                     "stride 2", (fixed.normal(size=(2, 2, 5, 7)).astype(
                                         np.float32), 3, 3, 2), ("out",)))
    cases.append(public.loop_budget_case(
        "max_pool_forward_fast", "2 x 2 windows on images of 64 x 64: no loop over the 4,096 "
        "output positions", (fixed.normal(size=(2, 2, 64, 64)), 2, 2, 2), 2, 2, 4096))
    return cases


def hidden_max_pool_backward_fast(rng, solution):
    bwd, fwd = solution["max_pool_backward_naive"], solution["max_pool_forward_naive"]
    fixed = _fixed("max_pool_backward_fast")
    problems = _pool_problems(fixed, "ties") + [_drawn_pool(rng, "ties")]
    cases = []
    for i, (label, cache) in enumerate(problems):
        dout = _dout(rng if i == len(problems) - 1 else fixed, fwd, *cache)
        cases.append(public.fast_case("max_pool_backward_fast", f"{label}, with ties",
                                      (dout, cache), bwd(dout, cache), "dx"))
    x = fixed.normal(size=(2, 2, 64, 64))
    cases.append(public.loop_budget_case(
        "max_pool_backward_fast", "2 x 2 windows on images of 64 x 64: no loop over the 4,096 "
        "output positions", (fixed.normal(size=(2, 2, 32, 32)), (x, 2, 2, 2)), 2, 2, 4096))
    return cases


# --------------------------------------------------------------------------
# spatial normalization
# --------------------------------------------------------------------------

def _feature_maps(rng, n=None, c=None):
    n = int(rng.integers(2, 5)) if n is None else n
    c = int(rng.integers(2, 5)) if c is None else c
    h, w = _two(rng, 2, 5)
    scale = rng.uniform(0.5, 3.0, size=(1, c, 1, 1))
    shift = rng.uniform(-2.0, 2.0, size=(1, c, 1, 1))
    return rng.normal(size=(n, c, h, w)) * scale + shift


def hidden_sbn_forward(rng, solution):
    fwd = solution["spatial_batchnorm_forward"]
    fixed = _fixed("spatial_batchnorm_forward")
    cases = []
    for draw, label, x, kwargs in (
            (fixed, "train mode, non-square maps", _feature_maps(fixed), {}),
            (fixed, "test mode", _feature_maps(fixed), {"mode": "test"}),
            (fixed, "train mode, momentum 0.7, eps 1e-3", _feature_maps(fixed),
             {"momentum": 0.7, "eps": 1e-3}),
            (fixed, "a single image", _feature_maps(fixed, n=1), {}),
            (rng, "drawn, train mode", _feature_maps(rng), {})):
        C = x.shape[1]
        args = (x, draw.normal(size=C), draw.normal(size=C), draw.normal(size=C),
                draw.uniform(0.5, 2.0, size=C))
        cases.append(Case(f"{label}: x {x.shape}", args, kwargs, expected=fwd(*args, **kwargs),
                          output=public.SBN_OUTPUT))
    return cases


def hidden_sbn_backward(rng, solution):
    bwd, fwd = solution["spatial_batchnorm_backward"], solution["spatial_batchnorm_forward"]
    fixed = _fixed("spatial_batchnorm_backward")
    cases = []
    for draw, label, x in ((fixed, "non-square maps", _feature_maps(fixed)),
                           (fixed, "a single image", _feature_maps(fixed, n=1)),
                           (rng, "drawn", _feature_maps(rng))):
        C = x.shape[1]
        _, cache, _ = fwd(x, draw.normal(size=C), draw.normal(size=C), np.zeros(C), np.ones(C))
        dout = draw.normal(size=x.shape)
        cases.append(Case(f"{label}: x {x.shape}", (dout, cache), expected=bwd(dout, cache),
                          output=("dx", "dgamma", "dbeta")))
    return cases


def _groups(fixed, rng):
    """(draw, label, x, G): 1 < G < C on the fixed maps, then a drawn case."""
    x6 = _feature_maps(fixed, c=6)
    x4 = _feature_maps(fixed, n=1, c=4)
    G = int(rng.choice([1, 2, 3, 6]))
    return [(fixed, "6 channels, G = 2", x6, 2), (fixed, "6 channels, G = 3", x6, 3),
            (fixed, "a single image, 4 channels, G = 2", x4, 2),
            (rng, f"drawn, 6 channels, G = {G}", _feature_maps(rng, c=6), G)]


def hidden_sgn_forward(rng, solution):
    fwd = solution["spatial_groupnorm_forward"]
    cases = []
    for draw, label, x, G in _groups(_fixed("spatial_groupnorm_forward"), rng):
        C = x.shape[1]
        args = (x, draw.normal(size=C), draw.normal(size=C), G)
        cases.append(Case(f"{label}: x {x.shape}", args, expected=fwd(*args),
                          output=public.SGN_OUTPUT))
    return cases


def hidden_sgn_backward(rng, solution):
    bwd, fwd = solution["spatial_groupnorm_backward"], solution["spatial_groupnorm_forward"]
    cases = []
    for draw, label, x, G in _groups(_fixed("spatial_groupnorm_backward"), rng):
        C = x.shape[1]
        _, cache = fwd(x, draw.normal(size=C), draw.normal(size=C), G)
        dout = draw.normal(size=x.shape)
        cases.append(Case(f"{label}: x {x.shape}", (dout, cache), expected=bwd(dout, cache),
                          output=("dx", "dgamma", "dbeta")))
    return cases


# --------------------------------------------------------------------------
# the network
# --------------------------------------------------------------------------

def hidden_convnet_init(rng, solution):
    # every weight array has >= 1,000 entries: a correct draw fails with probability below
    # 1e-16 (assignments.stat_checks.verify_gaussian computes and enforces the bound)
    fixed = _fixed("convnet_init")
    cases = []
    for draw, (input_dim, F, fs, hidden, classes, scale) in (
            (fixed, ((1, 8, 12), 40, 5, 50, 20, 0.05)),
            (fixed, ((2, 6, 10), 56, 3, 40, 25, None)),
            (fixed, ((3, 10, 10), 12, 7, 100, 10, None)),
            (rng, ((1, 8, 8), 40, 5, 25, 40, [None, 0.3][int(rng.integers(0, 2))]))):
        kwargs = {"input_dim": input_dim, "num_filters": F, "filter_size": fs,
                  "hidden_dim": hidden, "num_classes": classes, "weight_scale": scale}
        cases.append(cnn_model.convnet_init_case(kwargs, int(draw.integers(0, 2**31))))
    return cases


def _convnet_params(rng, C, H, W, F, fs, hidden, classes):
    return {"W1": rng.normal(size=(F, C, fs, fs)), "b1": rng.normal(size=F) * 0.1,
            "W2": rng.normal(size=(F * (H // 2) * (W // 2), hidden)) * 0.3,
            "b2": rng.normal(size=hidden) * 0.1,
            "W3": rng.normal(size=(hidden, classes)), "b3": rng.normal(size=classes) * 0.1}


def hidden_convnet_loss(rng, solution):
    cls = solution["ThreeLayerConvNet"]
    fixed = _fixed("convnet_loss")
    cases = []

    def loss_case(label, params, X, y, reg):
        kwargs = resolve_refs(cnn_model.convnet_kwargs(params, X, reg))
        expected = model_loss(cls, (), kwargs, params, X, y)
        cases.append(cnn_model.convnet_loss_case(label, params, X, y, reg, expected))

    p = _convnet_params(fixed, 2, 4, 6, 3, 3, 5, 4)
    X = fixed.normal(size=(3, 2, 4, 6))
    y = fixed.integers(0, 4, size=3)
    cases.append(cnn_model.convnet_scores_case(
        "scores (y=None), images (2, 4, 6)", p, X,
        model_scores(cls, (), resolve_refs(cnn_model.convnet_kwargs(p, X)), p, X)))
    loss_case("images (2, 4, 6), 3 x 3 filters, reg = 0", p, X, y, 0.0)
    loss_case("images (2, 4, 6), 3 x 3 filters, reg = 0.05", p, X, y, 0.05)
    p5 = _convnet_params(fixed, 1, 6, 6, 2, 5, 4, 3)
    loss_case("a single image (1, 6, 6), 5 x 5 filters (pad 2), reg = 0.1", p5,
              fixed.normal(size=(1, 1, 6, 6)), fixed.integers(0, 3, size=1), 0.1)
    h, w = _two(rng, 2, 3)                 # images at least as large as the filters
    pd = _convnet_params(rng, 1, 2 * h, 2 * w, 2, 3, 3, 3)
    loss_case(f"drawn: images (1, {2 * h}, {2 * w}), reg = 0.02", pd,
              rng.normal(size=(2, 1, 2 * h, 2 * w)), rng.integers(0, 3, size=2), 0.02)
    return cases


# --------------------------------------------------------------------------
# the tuned model: the library's recipe, trained with the course's network
# --------------------------------------------------------------------------

def hidden_tuned(rng, solution):
    return [cnn_model.floor_case(solution)]


TASKS = [
    Task("conv_forward_naive", "conv_forward_naive", visible=public.conv_forward_naive_cases,
         hidden=hidden_conv_forward_naive),
    Task("conv_backward_naive", "conv_backward_naive", visible=public.conv_backward_naive_cases,
         hidden=hidden_conv_backward_naive),
    Task("max_pool_forward_naive", "max_pool_forward_naive",
         visible=public.max_pool_forward_naive_cases, hidden=hidden_max_pool_forward_naive),
    Task("max_pool_backward_naive", "max_pool_backward_naive",
         visible=public.max_pool_backward_naive_cases, hidden=hidden_max_pool_backward_naive),
    Task("im2col", "im2col", visible=public.im2col_cases, hidden=hidden_im2col,
         vectorized=True),
    Task("col2im", "col2im", visible=public.col2im_cases, hidden=hidden_col2im),
    Task("conv_forward_fast", "conv_forward_fast", visible=cnn_fast.conv_forward_fast_cases,
         hidden=hidden_conv_forward_fast, vectorized=True),
    Task("conv_backward_fast", "conv_backward_fast", visible=cnn_fast.conv_backward_fast_cases,
         hidden=hidden_conv_backward_fast, vectorized=True, loops_allowed_in=("col2im",)),
    Task("max_pool_forward_fast", "max_pool_forward_fast",
         visible=cnn_fast.max_pool_forward_fast_cases, hidden=hidden_max_pool_forward_fast),
    Task("max_pool_backward_fast", "max_pool_backward_fast",
         visible=cnn_fast.max_pool_backward_fast_cases, hidden=hidden_max_pool_backward_fast),
    Task("spatial_batchnorm_forward", "spatial_batchnorm_forward",
         visible=cnn_fast.spatial_batchnorm_forward_cases, hidden=hidden_sbn_forward),
    Task("spatial_batchnorm_backward", "spatial_batchnorm_backward",
         visible=cnn_fast.spatial_batchnorm_backward_cases, hidden=hidden_sbn_backward),
    Task("spatial_groupnorm_forward", "spatial_groupnorm_forward",
         visible=cnn_fast.spatial_groupnorm_forward_cases, hidden=hidden_sgn_forward),
    Task("spatial_groupnorm_backward", "spatial_groupnorm_backward",
         visible=cnn_fast.spatial_groupnorm_backward_cases, hidden=hidden_sgn_backward),
    Task("convnet_init", "ThreeLayerConvNet", visible=cnn_model.convnet_init_cases,
         hidden=hidden_convnet_init),
    Task("convnet_loss", "ThreeLayerConvNet", visible=cnn_model.convnet_loss_cases,
         hidden=hidden_convnet_loss),
    Task("tuned_model", "chosen_hyperparameters", visible=cnn_model.hyperparameter_cases,
         hidden=hidden_tuned),
]
