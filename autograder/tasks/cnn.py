"""Hidden cases and mutants of notebook 06_cnn.  Instructor-only.

Every task has fixed hidden cases, the same for every grading seed (the
shapes that target the known bugs: padding > 0, stride > 1, non-square
windows and images, N != C, ties), plus one small case drawn from the
grading seed.  So every mutant below is caught by its own cell for every
seed, and the seed sweeps stay fast: only the drawn case changes.  Every
case is small (at most a few hundred steps of the naive reference's loops).
"""

from __future__ import annotations

import zlib

import numpy as np

from assignments.adapters import model_loss, model_scores
from assignments.cases import Case, resolve_refs
from assignments.notebooks import cnn as public
from assignments.notebooks import cnn_fast, cnn_model

from . import Mutant, Task

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
# the tuned model: the library's recipe, trained with the reference network
# --------------------------------------------------------------------------

def hidden_tuned(rng, solution):
    return [cnn_model.RECIPE.floor_case(cnn_model.train_convnet)]


def _own(*names):
    return tuple(f"assignments.convolution:{n}" for n in names)


TASKS = [
    Task("conv_forward_naive", "conv_forward_naive", visible=public.conv_forward_naive_cases,
         hidden=hidden_conv_forward_naive, own=_own("conv_forward_naive", "conv_forward_fast")),
    Task("conv_backward_naive", "conv_backward_naive", visible=public.conv_backward_naive_cases,
         hidden=hidden_conv_backward_naive,
         own=_own("conv_backward_naive", "conv_backward_fast")),
    Task("max_pool_forward_naive", "max_pool_forward_naive",
         visible=public.max_pool_forward_naive_cases, hidden=hidden_max_pool_forward_naive,
         own=_own("max_pool_forward_naive", "max_pool_forward_fast")),
    Task("max_pool_backward_naive", "max_pool_backward_naive",
         visible=public.max_pool_backward_naive_cases, hidden=hidden_max_pool_backward_naive,
         own=_own("max_pool_backward_naive", "max_pool_backward_fast")),
    Task("im2col", "im2col", visible=public.im2col_cases, hidden=hidden_im2col,
         vectorized=True, own=_own("im2col")),
    Task("col2im", "col2im", visible=public.col2im_cases, hidden=hidden_col2im,
         own=_own("col2im")),
    Task("conv_forward_fast", "conv_forward_fast", visible=cnn_fast.conv_forward_fast_cases,
         hidden=hidden_conv_forward_fast, vectorized=True,
         own=_own("conv_forward_fast", "conv_forward_naive")),
    Task("conv_backward_fast", "conv_backward_fast", visible=cnn_fast.conv_backward_fast_cases,
         hidden=hidden_conv_backward_fast, vectorized=True,
         own=_own("conv_backward_fast", "conv_backward_naive")),
    Task("max_pool_forward_fast", "max_pool_forward_fast",
         visible=cnn_fast.max_pool_forward_fast_cases, hidden=hidden_max_pool_forward_fast,
         own=_own("max_pool_forward_fast", "max_pool_forward_naive")),
    Task("max_pool_backward_fast", "max_pool_backward_fast",
         visible=cnn_fast.max_pool_backward_fast_cases, hidden=hidden_max_pool_backward_fast,
         own=_own("max_pool_backward_fast", "max_pool_backward_naive")),
    Task("spatial_batchnorm_forward", "spatial_batchnorm_forward",
         visible=cnn_fast.spatial_batchnorm_forward_cases, hidden=hidden_sbn_forward,
         own=_own("spatial_batchnorm_forward")),
    Task("spatial_batchnorm_backward", "spatial_batchnorm_backward",
         visible=cnn_fast.spatial_batchnorm_backward_cases, hidden=hidden_sbn_backward,
         own=_own("spatial_batchnorm_backward")),
    Task("spatial_groupnorm_forward", "spatial_groupnorm_forward",
         visible=cnn_fast.spatial_groupnorm_forward_cases, hidden=hidden_sgn_forward,
         own=_own("spatial_groupnorm_forward")),
    Task("spatial_groupnorm_backward", "spatial_groupnorm_backward",
         visible=cnn_fast.spatial_groupnorm_backward_cases, hidden=hidden_sgn_backward,
         own=_own("spatial_groupnorm_backward")),
    Task("convnet_init", "ThreeLayerConvNet", visible=cnn_model.convnet_init_cases,
         hidden=hidden_convnet_init, own=("assignments.convnet:ThreeLayerConvNet",)),
    Task("convnet_loss", "ThreeLayerConvNet", visible=cnn_model.convnet_loss_cases,
         hidden=hidden_convnet_loss, own=("assignments.convnet:ThreeLayerConvNet",)),
    Task("tuned_model", "chosen_hyperparameters", visible=cnn_model.hyperparameter_cases,
         hidden=hidden_tuned),
]

# --------------------------------------------------------------------------
# plausible bugs; each must be caught by its own test cell and no other
# --------------------------------------------------------------------------

_CFN, _CBN = "conv_forward_naive_code", "conv_backward_naive_code"
_PFN, _PBN = "max_pool_forward_naive_code", "max_pool_backward_naive_code"
_I2C, _C2I = "im2col_code", "col2im_code"
_CFF, _CBF = "conv_forward_fast_code", "conv_backward_fast_code"
_PFF, _PBF = "max_pool_forward_fast_code", "max_pool_backward_fast_code"
_SBF, _SBB = "spatial_batchnorm_forward_code", "spatial_batchnorm_backward_code"
_SGF, _SGB = "spatial_groupnorm_forward_code", "spatial_groupnorm_backward_code"
_NET, _HP = "convnet_code", "chosen_hyperparameters_code"

MUTANTS = [
    # naive convolution, forward
    Mutant("conv forward: padding on one side only", "conv_forward_naive", _CFN,
           "np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))",
           "np.pad(x, ((0, 0), (0, 0), (pad, 0), (pad, 0)))"),
    Mutant("conv forward: stride ignored", "conv_forward_naive", _CFN,
           "window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]",
           "window = x_pad[n, :, i:i + HH, j:j + WW]"),
    Mutant("conv forward: filter flipped (a true convolution)", "conv_forward_naive", _CFN,
           "np.sum(window * w[f])", "np.sum(window * w[f, :, ::-1, ::-1])"),
    Mutant("conv forward: bias added once per window entry", "conv_forward_naive", _CFN,
           "np.sum(window * w[f]) + b[f]", "np.sum(window * w[f] + b[f])"),
    Mutant("conv forward: no error when the windows do not tile", "conv_forward_naive", _CFN,
           "        raise ValueError(f\"filters of", "        print(f\"filters of"),
    # naive convolution, backward
    Mutant("conv backward: dw not summed over the batch and positions", "conv_backward_naive",
           _CBN, "dw[f] += x_pad[n, :, rows, cols]", "dw[f] = x_pad[n, :, rows, cols]"),
    Mutant("conv backward: dx overwritten where windows overlap", "conv_backward_naive", _CBN,
           "dx_pad[n, :, rows, cols] += w[f]", "dx_pad[n, :, rows, cols] = w[f]"),
    Mutant("conv backward: stride ignored for the rows", "conv_backward_naive", _CBN,
           "rows = slice(i * stride, i * stride + HH)", "rows = slice(i, i + HH)"),
    Mutant("conv backward: padding cropped as pad:-pad", "conv_backward_naive", _CBN,
           "dx = dx_pad[:, :, pad:pad + H, pad:pad + W]", "dx = dx_pad[:, :, pad:-pad, pad:-pad]"),
    Mutant("conv backward: filter flipped in dx", "conv_backward_naive", _CBN,
           "+= w[f] * dout[n, f, i, j]", "+= w[f, :, ::-1, ::-1] * dout[n, f, i, j]"),
    Mutant("conv backward: db averaged", "conv_backward_naive", _CBN,
           "db = np.sum(dout, axis=(0, 2, 3))", "db = np.mean(dout, axis=(0, 2, 3))"),
    # naive pooling, forward
    Mutant("pool forward: average instead of maximum", "max_pool_forward_naive", _PFN,
           "out[n, c, i, j] = np.max(window)", "out[n, c, i, j] = np.mean(window)"),
    Mutant("pool forward: stride ignored", "max_pool_forward_naive", _PFN,
           "window = x[n, c, i * stride:i * stride + pool_height,\n"
           "                               j * stride:j * stride + pool_width]",
           "window = x[n, c, i:i + pool_height, j:j + pool_width]"),
    Mutant("pool forward: window height and width swapped", "max_pool_forward_naive", _PFN,
           "i * stride:i * stride + pool_height,\n"
           "                               j * stride:j * stride + pool_width]",
           "i * stride:i * stride + pool_width,\n"
           "                               j * stride:j * stride + pool_height]"),
    Mutant("pool forward: output height H // pool_height", "max_pool_forward_naive", _PFN,
           "H_out = (H - pool_height) // stride + 1", "H_out = H // pool_height"),
    # naive pooling, backward
    Mutant("pool backward: ties send the gradient to every maximum", "max_pool_backward_naive",
           _PBN, "p, q = np.unravel_index(np.argmax(window), window.shape)\n"
           "                    dx[n, c, i * stride + p, j * stride + q] += dout[n, c, i, j]",
           "dx[n, c, i * stride:i * stride + pool_height, j * stride:j * stride + pool_width] "
           "+= (window == np.max(window)) * dout[n, c, i, j]"),
    Mutant("pool backward: gradient to every element of the window", "max_pool_backward_naive",
           _PBN, "p, q = np.unravel_index(np.argmax(window), window.shape)\n"
           "                    dx[n, c, i * stride + p, j * stride + q] += dout[n, c, i, j]",
           "dx[n, c, i * stride:i * stride + pool_height, j * stride:j * stride + pool_width] "
           "+= dout[n, c, i, j]"),
    Mutant("pool backward: overlapping windows overwrite", "max_pool_backward_naive", _PBN,
           "dx[n, c, i * stride + p, j * stride + q] += dout[n, c, i, j]",
           "dx[n, c, i * stride + p, j * stride + q] = dout[n, c, i, j]"),
    Mutant("pool backward: the maximum of a different window (shape swapped)",
           "max_pool_backward_naive", _PBN, "np.unravel_index(np.argmax(window), window.shape)",
           "np.unravel_index(np.argmax(window), (pool_width, pool_height))"),
    # im2col
    Mutant("im2col: padding on one side only", "im2col", _I2C,
           "np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))",
           "np.pad(x, ((0, 0), (0, 0), (pad, 0), (pad, 0)))"),
    Mutant("im2col: rows ordered (p, q, c)", "im2col", _I2C,
           "windows.transpose(1, 4, 5, 0, 2, 3)", "windows.transpose(4, 5, 1, 0, 2, 3)"),
    Mutant("im2col: columns ordered (i, j, n)", "im2col", _I2C,
           "windows.transpose(1, 4, 5, 0, 2, 3)", "windows.transpose(1, 4, 5, 2, 3, 0)"),
    Mutant("im2col: stride ignored", "im2col", _I2C,
           "windows = windows[:, :, ::stride, ::stride]",
           "windows = windows[:, :, :H_out, :W_out]"),
    # col2im
    Mutant("col2im: overlaps overwritten instead of added", "col2im", _C2I,
           "q:q + stride * W_out:stride] += (", "q:q + stride * W_out:stride] = ("),
    Mutant("col2im: padding cropped as pad:-pad", "col2im", _C2I,
           "dx = dx_pad[:, :, pad:pad + H, pad:pad + W]", "dx = dx_pad[:, :, pad:-pad, pad:-pad]"),
    Mutant("col2im: stride ignored", "col2im", _C2I,
           "dx_pad[:, :, p:p + stride * H_out:stride, q:q + stride * W_out:stride]",
           "dx_pad[:, :, p:p + H_out, q:q + W_out]"),
    Mutant("col2im: field height and width swapped", "col2im", _C2I,
           "cols.reshape(C, field_height, field_width, N, H_out, W_out)",
           "cols.reshape(C, field_width, field_height, N, H_out, W_out)"),
    # fast convolution, forward
    Mutant("conv fast forward: filters flattened in (p, q, c) order", "conv_forward_fast", _CFF,
           "out = w.reshape(F, -1) @ cols", "out = w.transpose(0, 2, 3, 1).reshape(F, -1) @ cols"),
    Mutant("conv fast forward: output reshaped without the transpose", "conv_forward_fast", _CFF,
           "out = out.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3)",
           "out = out.reshape(N, F, H_out, W_out)"),
    Mutant("conv fast forward: bias missing", "conv_forward_fast", _CFF,
           "@ cols + b.reshape(F, 1)", "@ cols"),
    Mutant("conv fast forward: filter flipped", "conv_forward_fast", _CFF,
           "out = w.reshape(F, -1) @ cols", "out = w[:, :, ::-1, ::-1].reshape(F, -1) @ cols"),
    # fast convolution, backward
    Mutant("conv fast backward: stride ignored in col2im", "conv_backward_fast", _CBF,
           "dx = col2im(dcols, x.shape, HH, WW, stride, pad)",
           "dx = col2im(dcols, x.shape, HH, WW, 1, pad)"),
    Mutant("conv fast backward: dout flattened without the transpose", "conv_backward_fast",
           _CBF, "dout_rows = dout.transpose(1, 0, 2, 3).reshape(F, -1)",
           "dout_rows = dout.reshape(F, -1)"),
    Mutant("conv fast backward: db of the first image only", "conv_backward_fast", _CBF,
           "db = np.sum(dout, axis=(0, 2, 3))", "db = np.sum(dout[0], axis=(1, 2))"),
    Mutant("conv fast backward: dw as cols @ dout (transposed)", "conv_backward_fast", _CBF,
           "dw = (dout_rows @ cols.T).reshape(w.shape)",
           "dw = (cols @ dout_rows.T).reshape(w.shape)"),
    # fast pooling, forward
    Mutant("pool fast forward: reshape used for overlapping windows", "max_pool_forward_fast",
           _PFF, "if pool_height == pool_width == stride:", "if pool_height == pool_width:"),
    Mutant("pool fast forward: window and position axes mixed up in the reshape",
           "max_pool_forward_fast", _PFF,
           "x.reshape(N, C, H_out, pool_height, W_out, pool_width)",
           "x.reshape(N, C, pool_height, H_out, pool_width, W_out)"),
    Mutant("pool fast forward: output rows and columns swapped", "max_pool_forward_fast", _PFF,
           ".transpose(3, 5, 0, 1, 2, 4)", ".transpose(3, 5, 0, 1, 4, 2)"),
    Mutant("pool fast forward: sum instead of maximum", "max_pool_forward_fast", _PFF,
           "out = np.maximum(out, windows[p, q])", "out = out + windows[p, q]"),
    # fast pooling, backward
    Mutant("pool fast backward: ties send the gradient to every maximum",
           "max_pool_backward_fast", _PBF, "hit = (windows[p, q] == peak) & ~served",
           "hit = windows[p, q] == peak"),
    Mutant("pool fast backward: gradient to every element of the window",
           "max_pool_backward_fast", _PBF, "dwindows[p, q] = hit * dout",
           "dwindows[p, q] = dout"),
    Mutant("pool fast backward: overlapping windows added back with stride 1",
           "max_pool_backward_fast", _PBF, "pool_height, pool_width, stride).reshape(N, C, H, W)",
           "pool_height, pool_width).reshape(N, C, H, W)"),
    Mutant("pool fast backward: served windows forgotten at the next offset",
           "max_pool_backward_fast", _PBF, "served = served | hit", "served = hit"),
    # spatial batch norm
    Mutant("spatial bn forward: statistics over the wrong axes", "spatial_batchnorm_forward",
           _SBF, "rows = x.transpose(0, 2, 3, 1).reshape(-1, C)", "rows = x.reshape(-1, C)"),
    Mutant("spatial bn forward: always train mode", "spatial_batchnorm_forward", _SBF,
           "running_var, mode, eps, momentum)", "running_var, \"train\", eps, momentum)"),
    Mutant("spatial bn forward: momentum not passed on", "spatial_batchnorm_forward", _SBF,
           "running_var, mode, eps, momentum)", "running_var, mode, eps)"),
    Mutant("spatial bn forward: height and width swapped on the way back",
           "spatial_batchnorm_forward", _SBF,
           "out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)",
           "out = out_rows.reshape(N, W, H, C).transpose(0, 3, 2, 1)"),
    Mutant("spatial bn backward: dout flattened without the transpose",
           "spatial_batchnorm_backward", _SBB, "drows = dout.transpose(0, 2, 3, 1).reshape(-1, C)",
           "drows = dout.reshape(-1, C)"),
    Mutant("spatial bn backward: dx reshaped without the transpose",
           "spatial_batchnorm_backward", _SBB,
           "dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)",
           "dx = dx_rows.reshape(N, C, H, W)"),
    Mutant("spatial bn backward: height and width swapped", "spatial_batchnorm_backward", _SBB,
           "dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)",
           "dx = dx_rows.reshape(N, W, H, C).transpose(0, 3, 2, 1)"),
    # group norm
    Mutant("group norm forward: channels grouped with a stride", "spatial_groupnorm_forward",
           _SGF, "groups = x.reshape(N, G, -1)",
           "groups = x.reshape(N, C // G, G, -1).transpose(0, 2, 1, 3).reshape(N, G, -1)"),
    Mutant("group norm forward: G ignored (layer norm)", "spatial_groupnorm_forward", _SGF,
           "groups = x.reshape(N, G, -1)", "groups = x.reshape(N, 1, -1)"),
    Mutant("group norm forward: unbiased variance", "spatial_groupnorm_forward", _SGF,
           "var = groups.var(axis=2)", "var = groups.var(axis=2, ddof=1)"),
    Mutant("group norm forward: gamma and beta swapped", "spatial_groupnorm_forward", _SGF,
           "out = gamma.reshape(1, C, 1, 1) * x_hat + beta.reshape(1, C, 1, 1)",
           "out = beta.reshape(1, C, 1, 1) * x_hat + gamma.reshape(1, C, 1, 1)"),
    Mutant("group norm backward: the mean of dx_hat not subtracted",
           "spatial_groupnorm_backward", _SGB,
           "dx = (dx_hat - dx_hat.mean(axis=2, keepdims=True)", "dx = (dx_hat"),
    Mutant("group norm backward: dgamma summed over the batch only",
           "spatial_groupnorm_backward", _SGB, "dgamma = np.sum(dout * x_hat, axis=(0, 2, 3))",
           "dgamma = np.sum(dout * x_hat, axis=0)"),
    Mutant("group norm backward: gamma left out of dx", "spatial_groupnorm_backward", _SGB,
           "dx_hat = (dout * gamma.reshape(1, C, 1, 1)).reshape(N, G, -1)",
           "dx_hat = dout.reshape(N, G, -1)"),
    Mutant("group norm backward: the x_hat term missing", "spatial_groupnorm_backward", _SGB,
           "          - x_hat_groups * (dx_hat * x_hat_groups).mean(axis=2, keepdims=True))",
           "          )"),
    # the network: __init__
    Mutant("convnet init: W2 sized for an unpadded convolution", "convnet_init", _NET,
           "\"W2\": F * (H // 2) * (W // 2)",
           "\"W2\": F * ((H - filter_size + 1) // 2) * ((W - filter_size + 1) // 2)"),
    Mutant("convnet init: random biases", "convnet_init", _NET,
           "self.params[\"b2\"] = np.zeros(hidden_dim)",
           "self.params[\"b2\"] = std[\"W2\"] * rng.standard_normal(hidden_dim)"),
    Mutant("convnet init: He fan-in of a filter without its channels", "convnet_init", _NET,
           "\"W1\": C * filter_size * filter_size", "\"W1\": filter_size * filter_size"),
    Mutant("convnet init: global numpy RNG for W1", "convnet_init", _NET,
           "rng.standard_normal((F, C, filter_size, filter_size))",
           "np.random.standard_normal((F, C, filter_size, filter_size))"),
    Mutant("convnet init: He with the fan-out", "convnet_init", _NET,
           "\"W3\": hidden_dim}", "\"W3\": num_classes}"),
    # the network: loss
    Mutant("convnet loss: no ReLU after the convolution", "convnet_loss", _NET,
           "pooled, pool_cache = max_pool_forward_fast(conv_act,",
           "pooled, pool_cache = max_pool_forward_fast(conv_out,"),
    Mutant("convnet loss: hidden ReLU skipped on the way back", "convnet_loss", _NET,
           "dhidden_in = relu_backward(dhidden, relu2_cache)", "dhidden_in = dhidden"),
    Mutant("convnet loss: regularization gradient of the filters without the 2", "convnet_loss",
           _NET, "\"W1\": dW1 + 2 * self.reg * W1", "\"W1\": dW1 + self.reg * W1"),
    Mutant("convnet loss: filters not regularized", "convnet_loss", _NET,
           "self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2)", "self.reg * (np.sum(W2 * W2)"),
    Mutant("convnet loss: no padding", "convnet_loss", _NET,
           "conv_forward_fast(X, W1, b1, stride=1, pad=pad)",
           "conv_forward_fast(X, W1, b1, stride=1, pad=0)"),
    # chosen hyperparameters
    Mutant("hyperparameters: learning rate 100x too small", "tuned_model", _HP,
           "\"learning_rate\": 1e-3", "\"learning_rate\": 1e-5"),
    Mutant("hyperparameters: learning rate 100x too large", "tuned_model", _HP,
           "\"learning_rate\": 1e-3", "\"learning_rate\": 1e-1"),
    Mutant("hyperparameters: regularization far too strong", "tuned_model", _HP,
           "\"reg\": 1e-4", "\"reg\": 1.0"),
    Mutant("hyperparameters: one filter and two hidden units", "tuned_model", _HP,
           "\"num_filters\": 32, \"filter_size\": 5, \"hidden_dim\": 256",
           "\"num_filters\": 1, \"filter_size\": 5, \"hidden_dim\": 2"),
]

DEMO_BUG = "conv backward: dx overwritten where windows overlap"
