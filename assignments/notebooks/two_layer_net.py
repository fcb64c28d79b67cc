"""Notebook 3 (a two-layer network): visible checks, the grader's recipe, pictures.

Check functions take the student's function and run it on small cases whose
answers were worked out by hand (the comments show the arithmetic) or come
from a centred-difference numerical gradient.  The grader runs the same
visible cases plus hidden ones.

The layer contract fixes each cache (see ``assignments.layers``), so every
backward function is checked on caches built here, never on the output of
the student's forward: one broken function costs the points of one cell.
For the same reason the network's cases run the student's ``TwoLayerNet``
through ``assignments.adapters``, with the course's reference layers.
"""

from __future__ import annotations

import numpy as np

from .. import layers
from ..cases import Case, CheckFailed, compare, library, run_cases, student
from ..gradcheck import (assert_gradients_close, eval_numerical_gradient,
                         eval_numerical_gradient_array)
from ..recipes import Param, Recipe
from ..stat_checks import verify_gaussian

__all__ = [
    "affine_forward_cases", "affine_backward_cases", "relu_forward_cases",
    "relu_backward_cases", "sigmoid_forward_cases", "sigmoid_backward_cases",
    "softmax_loss_cases", "svm_loss_cases", "two_layer_init_cases", "two_layer_loss_cases",
    "hyperparameter_cases",
    "check_affine_forward", "check_affine_backward", "check_relu_forward",
    "check_relu_backward", "check_sigmoid_forward", "check_sigmoid_backward",
    "check_softmax_loss", "check_svm_loss", "check_two_layer_init", "check_two_layer_loss",
    "check_hyperparameters",
    "net_args", "init_case", "scores_case", "gradcheck_case", "loss_case", "toy_net",
    "TOY_SCORES", "TOY_LOSS", "RECIPE", "TRAINING_DEFAULTS", "train_two_layer",
    "hidden_local_gradients",
]


# --------------------------------------------------------------------------
# affine layer
# --------------------------------------------------------------------------

# affine_forward returns (out, cache) with cache = (x, w, b): messages name "cache w"
AFFINE_OUTPUT = ("out", ("cache", ("x", "w", "b")))

# x: 2 examples of 3 features; w: 3 -> 2; b: (2,)
#   out[0] = [1*1 + 2*0 + 3*1, 1*0 + 2*1 + 3*(-1)] + b = [4, -1] + [1, -1] = [5, -2]
#   out[1] = [0*1 + (-1)*0 + 1*1, 0*0 + (-1)*1 + 1*(-1)] + b = [1, -2] + [1, -1] = [2, -3]
_AX = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]])
_AW = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]])
_AB = np.array([1.0, -1.0])
_AOUT = np.array([[5.0, -2.0], [2.0, -3.0]])

# images (2, 2, 3) flatten to rows of 6 numbers 0..5 and 6..11;
#   column 0 of w sums a row (15 and 51), column 1 alternates +1, -1 (-3 and -3)
_IX = np.arange(12.0).reshape(2, 2, 3)
_IW = np.column_stack([np.ones(6), np.tile([1.0, -1.0], 3)])
_IB = np.array([0.5, 0.0])
_IOUT = np.array([[15.5, -3.0], [51.5, -3.0]])


def _gradients_match_numeric(forward_of, names, tol=1e-7):
    """Check backward output against numerical gradients of a reference forward.

    ``forward_of(i, value)`` evaluates the reference forward with argument i
    replaced by ``value``.  The case's args are (dout, cache).
    """
    def check(out, case):
        dout, cache = case.args
        inputs = list(cache) if isinstance(cache, tuple) else [cache]
        got = out if isinstance(out, (tuple, list)) else (out,)
        if len(got) != len(names):
            raise CheckFailed(f"expected {len(names)} gradients ({', '.join(names)}), "
                              f"got {len(got)}")
        for i, name in enumerate(names):
            x = np.array(inputs[i], dtype=np.float64, copy=True)
            numeric = eval_numerical_gradient_array(lambda v: forward_of(i, v, inputs), x, dout)
            g = got[i]
            if isinstance(g, np.ndarray) and g.shape != numeric.shape:
                raise CheckFailed(f"{name}: expected shape {numeric.shape} (the shape of the "
                                  f"forward input), got shape {g.shape}")
            assert_gradients_close(g, numeric, name, tol)
    return check


def _affine_forward_of(i, value, inputs):
    args = list(inputs)
    args[i] = value
    return layers.affine_forward(*args)[0]


def affine_forward_cases():
    """Visible cases for ``affine_forward(x, w, b) -> (out, cache)``."""
    one = np.array([[[[2.0]], [[-1.0]]]])  # (1, 2, 1, 1): one example, D = 2
    w1 = np.array([[3.0, 0.5, -1.0], [1.0, 2.0, 0.0]])
    b1 = np.array([0.0, 0.0, 4.0])
    # 2*3 + (-1)*1 = 5; 2*0.5 + (-1)*2 = -1; 2*(-1) + 0 + 4 = 2
    return [
        Case("2 examples x 3 features, worked out by hand", (_AX, _AW, _AB),
             expected=(_AOUT, (_AX, _AW, _AB)), output=AFFINE_OUTPUT),
        Case("inputs of shape (2, 2, 3) flattened to rows of 6", (_IX, _IW, _IB),
             expected=(_IOUT, (_IX, _IW, _IB)), output=AFFINE_OUTPUT),
        Case("a single example of shape (1, 2, 1, 1)", (one, w1, b1),
             expected=(np.array([[5.0, -1.0, 2.0]]), (one, w1, b1)),
             output=AFFINE_OUTPUT),
    ]


def affine_backward_cases():
    """Visible cases for ``affine_backward(dout, cache) -> (dx, dw, db)``."""
    dout = np.array([[1.0, -1.0], [2.0, 0.0]])
    # dx = dout @ w.T: row 0: [1, -1, 1*1 + (-1)*(-1)] = [1, -1, 2]; row 1: [2, 0, 2]
    # dw = x.T @ dout: [[1*1 + 0*2, -1], [2 - 2, -2], [3 + 2, -3]] = [[1, -1], [0, -2], [5, -3]]
    # db = column sums of dout = [3, -1]
    hand = (np.array([[1.0, -1.0, 2.0], [2.0, 0.0, 2.0]]),
            np.array([[1.0, -1.0], [0.0, -2.0], [5.0, -3.0]]), np.array([3.0, -1.0]))
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 3, 2, 2))
    w = rng.normal(size=(12, 5))
    b = rng.normal(size=5)
    d = rng.normal(size=(4, 5))
    return [
        Case("2 examples x 3 features, worked out by hand", (dout, (_AX, _AW, _AB)),
             expected=hand, output=("dx", "dw", "db")),
        Case("inputs of shape (4, 3, 2, 2): dx must have that shape too", (d, (x, w, b)),
             verify=_gradients_match_numeric(_affine_forward_of, ("dx", "dw", "db"))),
    ]


def check_affine_forward(fn):
    """Check ``affine_forward(x, w, b) -> (out, cache)`` with cache = (x, w, b)."""
    run_cases(fn, affine_forward_cases())


def check_affine_backward(fn):
    """Check ``affine_backward(dout, cache) -> (dx, dw, db)`` with cache = (x, w, b)."""
    run_cases(fn, affine_backward_cases())


# --------------------------------------------------------------------------
# ReLU and sigmoid
# --------------------------------------------------------------------------

_RX = np.array([[-2.0, 0.0, 3.0], [1.5, -0.5, 0.0]])


def relu_forward_cases():
    """Visible cases for ``relu_forward(x) -> (out, cache)`` with cache = x."""
    img = np.array([[[[-1.0, 2.0], [0.5, -3.0]]]])  # (1, 1, 2, 2)
    neg = -np.arange(1.0, 7.0).reshape(3, 2)
    return [
        Case("2 x 3 inputs, negatives and zeros become 0", (_RX,),
             expected=(np.array([[0.0, 0.0, 3.0], [1.5, 0.0, 0.0]]), _RX),
             output=("out", "cache")),
        Case("an input of shape (1, 1, 2, 2) keeps its shape", (img,),
             expected=(np.array([[[[0.0, 2.0], [0.5, 0.0]]]]), img), output=("out", "cache")),
        Case("all inputs negative", (neg,), expected=(np.zeros((3, 2)), neg),
             output=("out", "cache")),
    ]


def relu_backward_cases():
    """Visible cases for ``relu_backward(dout, cache) -> dx`` with cache = x."""
    dout = np.array([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])
    neg = -np.arange(1.0, 7.0).reshape(2, 3)
    img = np.array([[[[0.3, -0.2], [0.0, 4.0]]], [[[-1.0, 1.0], [2.0, -2.0]]]])  # (2, 1, 2, 2)
    dimg = np.arange(1.0, 9.0).reshape(2, 1, 2, 2)
    return [
        Case("x = [[-2, 0, 3], [1.5, -0.5, 0]]: gradient only where x > 0 (0 at x == 0)",
             (dout, _RX), expected=np.array([[0.0, 0.0, 30.0], [40.0, 0.0, 0.0]]),
             output="dx"),
        Case("all inputs negative: no gradient passes", (dout, neg), expected=np.zeros((2, 3)),
             output="dx"),
        Case("inputs of shape (2, 1, 2, 2)", (dimg, img),
             expected=np.array([[[[1.0, 0.0], [0.0, 4.0]]], [[[0.0, 6.0], [7.0, 0.0]]]]),
             output="dx"),
    ]


def check_relu_forward(fn):
    """Check ``relu_forward(x) -> (out, cache)``."""
    run_cases(fn, relu_forward_cases())


def check_relu_backward(fn):
    """Check ``relu_backward(dout, cache) -> dx``."""
    run_cases(fn, relu_backward_cases())


def sigmoid_forward_cases():
    """Visible cases for ``sigmoid_forward(x) -> (out, cache)`` with cache = out."""
    # sigma(0) = 1/2; sigma(ln 3) = 1 / (1 + 1/3) = 3/4; sigma(-ln 3) = 1 / (1 + 3) = 1/4
    x = np.array([[0.0, np.log(3.0), -np.log(3.0)]])
    s = np.array([[0.5, 0.75, 0.25]])
    # far from 0: exp(1000) overflows a float64, so 1 / (1 + exp(-x)) needs care for x < 0
    big = np.array([-1000.0, -40.0, 40.0, 1000.0])
    s_big = np.array([0.0, np.exp(-40.0), 1.0, 1.0])
    img = np.zeros((2, 1, 1, 3))
    return [
        Case("x = [0, ln 3, -ln 3] gives [1/2, 3/4, 1/4]", (x,), expected=(s, s),
             output=("out", "cache")),
        Case("very large |x| must give finite values without nan", (big,),
             expected=(s_big, s_big), atol=1e-12, output=("out", "cache")),
        Case("zeros of shape (2, 1, 1, 3)", (img,), expected=(img + 0.5, img + 0.5),
             output=("out", "cache")),
    ]


def sigmoid_backward_cases():
    """Visible cases for ``sigmoid_backward(dout, cache) -> dx`` with cache = sigmoid(x)."""
    s = np.array([0.5, 0.75, 0.25, 1.0, 0.0])
    dout = np.array([1.0, 2.0, -4.0, 5.0, 3.0])
    # s (1 - s) = [1/4, 3/16, 3/16, 0, 0]; times dout
    dx = np.array([0.25, 0.375, -0.75, 0.0, 0.0])
    s2 = np.full((2, 1, 2), 0.5)
    return [
        Case("s = [1/2, 3/4, 1/4, 1, 0]: dx = dout * s * (1 - s)", (dout, s), expected=dx,
             output="dx"),
        Case("cache of shape (2, 1, 2)", (np.ones((2, 1, 2)), s2), expected=np.full((2, 1, 2), 0.25),
             output="dx"),
    ]


def check_sigmoid_forward(fn):
    """Check ``sigmoid_forward(x) -> (out, cache)``."""
    run_cases(fn, sigmoid_forward_cases())


def check_sigmoid_backward(fn):
    """Check ``sigmoid_backward(dout, cache) -> dx``."""
    run_cases(fn, sigmoid_backward_cases())


# --------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------

def _loss_gradient_matches_numeric(loss_fn, tol=1e-7):
    """Check (loss, dscores) against the given loss and its numerical gradient."""
    def check(out, case):
        scores, y = case.args
        expected_loss = loss_fn(scores, y)[0]
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise CheckFailed("expected a tuple (loss, dscores)")
        compare(out[0], expected_loss, "loss", rtol=1e-7)
        numeric = eval_numerical_gradient(lambda s: loss_fn(s, y)[0], scores.copy())
        compare(out[1], numeric, "dscores", rtol=1e-5, atol=1e-9)
    return check


def softmax_loss_cases():
    """Visible cases for ``softmax_loss(scores, y) -> (loss, dscores)``."""
    # equal scores: every probability is 1/4, loss ln 4; dscores = (1/4 - onehot) / 2
    eq = np.zeros((2, 4))
    y_eq = np.array([1, 3])
    d_eq = np.full((2, 4), 0.25)
    d_eq[0, 1] -= 1.0
    d_eq[1, 3] -= 1.0
    # scores [0, ln 3]: probabilities [1/4, 3/4]; with label 1 the loss is ln(4/3)
    two = np.array([[0.0, np.log(3.0)]])
    d_two = np.array([[0.25, -0.25]])
    rng = np.random.default_rng(4)
    scores = rng.normal(size=(5, 3)) * 3
    y = np.array([0, 2, 1, 2, 0])
    return [
        Case("2 examples, 4 equal scores: loss ln 4", (eq, y_eq),
             expected=(np.log(4.0), d_eq / 2), output=("loss", "dscores")),
        Case("scores [0, ln 3], label 1: loss ln(4/3)", (two, np.array([1])),
             expected=(np.log(4.0 / 3.0), d_two), output=("loss", "dscores")),
        Case("the same scores shifted by 1000 (no overflow allowed)",
             (two + 1000.0, np.array([1])), expected=(np.log(4.0 / 3.0), d_two), rtol=1e-6,
             output=("loss", "dscores")),
        Case("5 examples x 3 classes: dscores against the numerical gradient", (scores, y),
             verify=_loss_gradient_matches_numeric(layers.softmax_loss)),
    ]


def svm_loss_cases():
    """Visible cases for ``svm_loss(scores, y) -> (loss, dscores)``."""
    # row 0: label 0 (score 1); margins: class 1: 2 - 1 + 1 = 2, class 2: 0 - 1 + 1 = 0 (no loss)
    # row 1: label 1 (score 3); margins: class 0: 3 - 3 + 1 = 1, class 2: 1 - 3 + 1 = -1 -> 0
    # loss = (2 + 1) / 2 = 1.5
    # dscores row 0: +1 at class 1, -1 at the label (one positive margin); row 1: +1 at class 0,
    # -1 at the label; all divided by N = 2.  The margin of exactly 0 gets no gradient.
    scores = np.array([[1.0, 2.0, 0.0], [3.0, 3.0, 1.0]])
    y = np.array([0, 1])
    d = np.array([[-0.5, 0.5, 0.0], [0.5, -0.5, 0.0]])
    # all scores 0: every wrong class has margin 1, so the loss is C - 1 = 3
    zeros = np.zeros((3, 4))
    yz = np.array([0, 3, 2])
    dz = np.full((3, 4), 1.0)
    dz[np.arange(3), yz] = -3.0
    rng = np.random.default_rng(5)
    s = rng.normal(size=(6, 4)) * 2
    ys = np.array([3, 0, 1, 1, 2, 0])
    return [
        Case("2 examples x 3 classes, worked out by hand", (scores, y), expected=(1.5, d),
             output=("loss", "dscores")),
        Case("all scores 0: loss C - 1", (zeros, yz), expected=(3.0, dz / 3),
             output=("loss", "dscores")),
        Case("6 examples x 4 classes: dscores against the numerical gradient", (s, ys),
             verify=_loss_gradient_matches_numeric(layers.svm_loss)),
    ]


def check_softmax_loss(fn):
    """Check ``softmax_loss(scores, y) -> (loss, dscores)``."""
    run_cases(fn, softmax_loss_cases())


def check_svm_loss(fn):
    """Check ``svm_loss(scores, y) -> (loss, dscores)``."""
    run_cases(fn, svm_loss_cases())


# --------------------------------------------------------------------------
# the two-layer network (run through the generic adapters of assignments.adapters)
# --------------------------------------------------------------------------

NET = student("TwoLayerNet")


def net_args(params, reg=0.0, activation=None):
    """(args, kwargs) that build a TwoLayerNet shaped like ``params``.

    ``activation`` names one of the library's pairs ("sigmoid", "tanh" ...); it
    travels as two library references, so the case stays plain data.
    """
    D, H = np.shape(params["W1"])
    C = np.shape(params["W2"])[1]
    kwargs = {"weight_scale": 1e-3, "reg": reg}
    if activation is not None:
        forward, backward = layers.ACTIVATIONS[activation]
        kwargs["activation"] = (library(f"assignments.layers:{forward.__name__}"),
                                library(f"assignments.layers:{backward.__name__}"))
    return (D, H, C), kwargs


# The toy network of the notebook, worked out by hand there:
#   hidden pre-activations  X @ W1 + b1 = [[1, 1, -3], [3, -4, 3]]
#   after ReLU              h           = [[1, 1, 0], [3, 0, 3]]
#   scores                  h @ W2 + b2 = [[1, 3], [0, 1]]
#   with labels y = [1, 0]: loss = (ln(1 + e^-2) + ln(1 + e^1)) / 2
#   sum of squared weights: 7 (W1) + 6 (W2) = 13, so reg = 0.1 adds 1.3
def toy_net():
    """(params, X, y) of the notebook's hand-worked toy network."""
    params = {
        "W1": np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -2.0]]),
        "b1": np.array([0.0, 0.0, 1.0]),
        "W2": np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, 0.0]]),
        "b2": np.array([0.0, 1.0]),
    }
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    y = np.array([1, 0])
    return params, X, y


TOY_SCORES = np.array([[1.0, 3.0], [0.0, 1.0]])
TOY_LOSS = (np.log1p(np.exp(-2.0)) + np.log1p(np.exp(1.0))) / 2


def init_case(input_dim, hidden_dim, num_classes, weight_scale, seed, label=None):
    """A case for TwoLayerNet.__init__: shapes, zero biases, the scale of the weights, the rng.

    The network is built with seeds (seed, seed, seed + 1).  The weights' draw
    order is not part of the task, so their scale is judged statistically; every
    weight matrix has at least 1,000 entries, which bounds the chance that a
    correct implementation fails below 1e-9 (see ``verify_gaussian``).
    """
    shapes = {"W1": (input_dim, hidden_dim), "b1": (hidden_dim,),
              "W2": (hidden_dim, num_classes), "b2": (num_classes,)}
    for name in ("W1", "W2"):
        assert np.prod(shapes[name]) >= 1000, "too few weights for a seed-proof check"

    def verify(out, case):
        (first, _), (again, _), (other, _) = out
        missing = sorted(set(shapes) - set(first))
        if missing:
            raise CheckFailed(f"params has no entr{'y' if len(missing) == 1 else 'ies'} "
                              f"{missing}; it must hold W1, b1, W2, b2")
        for name, shape in shapes.items():
            p = first[name]
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise CheckFailed(f"params[{name!r}] must be a float array, got "
                                  f"{type(p).__name__} {getattr(p, 'dtype', '')}")
            if p.shape != shape:
                raise CheckFailed(f"params[{name!r}] must have shape {shape}, got {p.shape}")
        for name in ("b1", "b2"):
            if np.any(first[name] != 0):
                raise CheckFailed(f"params[{name!r}] must start at zero")
        for name in ("W1", "W2"):
            verify_gaussian(first[name], weight_scale, f"params[{name!r}]",
                            f"weight_scale={weight_scale:g}")
            if not np.array_equal(first[name], again[name]):
                raise CheckFailed(f"two networks built with generators of the same seed have "
                                  f"different {name}: draw every random number from `rng`")
            if np.array_equal(first[name], other[name]):
                raise CheckFailed(f"networks built with different seeds have the same {name}: "
                                  "draw the weights from `rng`")

    return Case(label or f"TwoLayerNet({input_dim}, {hidden_dim}, {num_classes}, "
                         f"weight_scale={weight_scale:g})",
                (NET, (input_dim, hidden_dim, num_classes), {"weight_scale": weight_scale},
                 (seed, seed, seed + 1)),
                call=library("assignments.adapters:model_init"), verify=verify)


def two_layer_init_cases():
    """Visible cases for ``TwoLayerNet.__init__``: shapes, scale, zero biases, rng."""
    return [init_case(64, 40, 25, 1e-2, 0), init_case(100, 100, 10, 0.5, 11)]


def gradients_match(expected_loss, tol=1e-6):
    """Verify (loss, grads, numeric) from ``model_gradcheck``: loss value and every gradient."""
    def verify(out, case):
        loss, grads, numeric = out
        if expected_loss is not None:
            compare(loss, expected_loss, "loss", rtol=1e-7)
        for name, num in numeric.items():
            if name not in grads:
                raise CheckFailed(f"grads has no entry {name!r}; its keys must match params")
            assert_gradients_close(grads[name], num, f"grads[{name!r}]", tol)
    return verify


def scores_case(label, params, X, expected, activation=None):
    args, kwargs = net_args(params, 0.0, activation)
    return Case(label, (NET, args, kwargs, params, X), expected=expected, output="scores",
                call=library("assignments.adapters:model_scores"))


def gradcheck_case(label, params, X, y, reg, expected_loss=None, activation=None):
    args, kwargs = net_args(params, reg, activation)
    return Case(label, (NET, args, kwargs, params, X, y),
                call=library("assignments.adapters:model_gradcheck"),
                verify=gradients_match(expected_loss))


def loss_case(label, params, X, y, reg, expected, activation=None):
    """A case comparing (loss, grads) exactly with ``expected`` from the reference network."""
    args, kwargs = net_args(params, reg, activation)
    return Case(label, (NET, args, kwargs, params, X, y),
                call=library("assignments.adapters:model_loss"), expected=expected,
                output=("loss", "grads", "state"))


def two_layer_loss_cases():
    """Visible cases for ``TwoLayerNet.loss``: the toy net and numerical gradients."""
    params, X, y = toy_net()
    rng = np.random.default_rng(6)
    D, H, C, N = 6, 5, 3, 4
    rand = {"W1": rng.normal(size=(D, H)), "b1": rng.normal(size=H),
            "W2": rng.normal(size=(H, C)), "b2": rng.normal(size=C)}
    Xr = rng.normal(size=(N, 2, 3))
    yr = np.array([0, 2, 1, 2])
    return [
        scores_case("toy net: scores (y=None)", params, X, TOY_SCORES),
        gradcheck_case("toy net: loss and gradients, reg = 0", params, X, y, 0.0, TOY_LOSS),
        gradcheck_case("toy net: loss and gradients, reg = 0.1", params, X, y, 0.1,
                       TOY_LOSS + 0.1 * 13),
        gradcheck_case("random net, inputs (4, 2, 3), reg = 0.3: numerical gradients",
                       rand, Xr, yr, 0.3),
    ]


def check_two_layer_init(cls):
    """Check ``TwoLayerNet.__init__`` (params, shapes, scale, use of rng)."""
    run_cases(None, two_layer_init_cases(), name="TwoLayerNet.__init__",
              namespace={"TwoLayerNet": cls})


def check_two_layer_loss(cls):
    """Check ``TwoLayerNet.loss`` (scores, loss, gradients), with the library's layers."""
    run_cases(None, two_layer_loss_cases(), name="TwoLayerNet.loss",
              namespace={"TwoLayerNet": cls})


# --------------------------------------------------------------------------
# the chosen hyperparameters
# --------------------------------------------------------------------------

# Settings the notebook keeps fixed while it searches the others.
TRAINING_DEFAULTS = {"weight_scale": 1e-2, "batch_size": 100, "lr_decay": 0.95}


def _grader_split(data, rng):
    from ..data import prepare_data

    return prepare_data(data, 4000, 1000, rng, num_test=10)


# How the grader judges the chosen hyperparameters: it trains a fresh network
# (the course's reference implementation) with them on a fixed split of the
# bundled data, with hidden_dim and num_epochs capped to keep it fast, and
# requires this validation accuracy.
RECIPE = Recipe(
    name="two-layer net",
    space={"hidden_dim": Param("int", low=1), "learning_rate": Param("float", low=0.0,
                                                                      open_low=True),
           "reg": Param("float", low=0.0), "num_epochs": Param("int", low=1)},
    prepare=_grader_split, min_val_acc=0.75, caps={"hidden_dim": 64, "num_epochs": 8},
    fixed=TRAINING_DEFAULTS, seed=2026)


def train_two_layer(net_cls, settings, data) -> float:
    """Best validation accuracy of ``net_cls`` trained with a recipe's settings."""
    from ..adapters import library_building_blocks
    from ..solver import Solver

    D = int(np.prod(data["X_train"].shape[1:]))
    with library_building_blocks(net_cls):
        net = net_cls(D, int(settings["hidden_dim"]), 10, weight_scale=settings["weight_scale"],
                      reg=float(settings["reg"]), rng=np.random.default_rng(0))
        solver = Solver(net, data, rng=np.random.default_rng(1),
                        optim_config={"learning_rate": float(settings["learning_rate"])},
                        lr_decay=settings["lr_decay"], batch_size=settings["batch_size"],
                        num_epochs=int(settings["num_epochs"]), progress=False).train()
    return solver.best_val_acc


def hyperparameter_cases():
    """Visible case for ``chosen_hyperparameters()``: the format of the dict."""
    return [RECIPE.format_case(label="the dict of chosen hyperparameters")]


def check_hyperparameters(fn):
    """Check that ``fn()`` returns a dict with hidden_dim, learning_rate, reg, num_epochs."""
    run_cases(fn, hyperparameter_cases())


# --------------------------------------------------------------------------
# pictures
# --------------------------------------------------------------------------

def hidden_local_gradients(params, X, activation):
    """Local derivative of the hidden non-linearity at every hidden unit.

    Runs X through the first affine layer of a two-layer net with ``params``
    (W1, b1) and returns d activation / d input for each of the (N, H)
    hidden pre-activations, obtained as ``backward(ones, cache)`` of the
    (forward, backward) pair ``activation``.  Values near 0 mean the unit
    passes almost no gradient back (saturated or dead).
    """
    forward, backward = activation
    a, _ = layers.affine_forward(X, params["W1"], params["b1"])
    out, cache = forward(a)
    return backward(np.ones_like(out), cache)
