"""Notebook 3 (a two-layer network): data preparation, visible checks, adapters.

Check functions take the student's function and run it on small cases whose
answers were worked out by hand (the comments show the arithmetic) or come
from a centred-difference numerical gradient.  The grader runs the same
visible cases plus hidden ones.

The layer contract fixes each cache (see ``assignments.layers``), so every
backward function is checked on caches built here, never on the output of
the student's forward: one broken function costs the points of one cell.
For the same reason the public adapters below run the student's
``TwoLayerNet`` with the course's reference layers swapped in for the
duration of the call (``reference_layers``).
"""

from __future__ import annotations

import contextlib

import numpy as np

from . import layers
from .checks import Case, CheckFailed, Ref, compare, run_cases
from .gradcheck import (assert_gradients_close, eval_numerical_gradient,
                        eval_numerical_gradient_array)

__all__ = [
    "prepare_data", "make_spiral", "plot_decision_regions", "hidden_local_gradients",
    "affine_forward_cases", "affine_backward_cases", "relu_forward_cases",
    "relu_backward_cases", "sigmoid_forward_cases", "sigmoid_backward_cases",
    "softmax_loss_cases", "svm_loss_cases", "two_layer_init_cases", "two_layer_loss_cases",
    "hyperparameter_cases",
    "check_affine_forward", "check_affine_backward", "check_relu_forward",
    "check_relu_backward", "check_sigmoid_forward", "check_sigmoid_backward",
    "check_softmax_loss", "check_svm_loss", "check_two_layer_init", "check_two_layer_loss",
    "check_hyperparameters",
    "reference_layers", "init_params", "two_layer_scores", "two_layer_loss",
    "two_layer_gradcheck", "toy_net", "HYPERPARAMETER_KEYS", "GRADER_RECIPE",
    "TRAINING_DEFAULTS",
]


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------

def prepare_data(data, num_train, num_val, rng, num_test=None):
    """Split off a validation set, subsample, scale to [0, 1] and centre.

    Inputs:
    - data: an ``assignments.data.Dataset`` (images (N, C, H, W) uint8).
    - num_train: training images to keep (at most what is left after the split).
    - num_val: images held out of the training set for validation.
    - rng: numpy.random.Generator for the split and the subsample.
    - num_test: test images to keep (None: all), a stratified subsample.

    Returns a dict with X_train, y_train, X_val, y_val, X_test, y_test
    (images as float64 of shape (N, C, H, W), pixel / 255 minus the mean
    training image) and mean_image (C, H, W).  The mean comes from the
    training images only.
    """
    from .data import subsample, train_val_split

    X_tr, y_tr, X_val, y_val = train_val_split(data.X_train, data.y_train, num_val, rng)
    if num_train < len(y_tr):
        X_tr, y_tr = subsample(X_tr, y_tr, num_train, rng)
    X_te, y_te = data.X_test, data.y_test
    if num_test is not None and num_test < len(y_te):
        X_te, y_te = subsample(X_te, y_te, num_test, rng)
    X_tr = X_tr.astype(np.float64) / 255.0
    mean_image = X_tr.mean(axis=0)
    return {
        "X_train": X_tr - mean_image, "y_train": y_tr,
        "X_val": X_val.astype(np.float64) / 255.0 - mean_image, "y_val": y_val,
        "X_test": X_te.astype(np.float64) / 255.0 - mean_image, "y_test": y_te,
        "mean_image": mean_image,
    }


def make_spiral(num_per_class, num_classes, rng, noise=0.2):
    """A 2-D toy dataset of interleaved spiral arms, one arm per class.

    Returns X (num_per_class * num_classes, 2) and integer labels y.  No
    straight line separates two arms, so a linear classifier fails on it.
    """
    X, y = [], []
    for c in range(num_classes):
        r = np.linspace(0.05, 1.0, num_per_class)
        theta = np.linspace(c * 2 * np.pi / num_classes, c * 2 * np.pi / num_classes + 4.0,
                            num_per_class) + noise * rng.standard_normal(num_per_class)
        X.append(np.column_stack([r * np.sin(theta), r * np.cos(theta)]))
        y.append(np.full(num_per_class, c))
    return np.concatenate(X), np.concatenate(y)


def plot_decision_regions(model, X, y, ax=None, title=None, resolution=200):
    """Colour the plane by the class ``model.loss`` predicts; draw the points on top."""
    from .vis import draw_decision_regions

    ax = draw_decision_regions(lambda P: np.argmax(model.loss(P), axis=1), X, y, ax=ax,
                               resolution=resolution, pad=0.15, legend=False)
    acc = float(np.mean(np.argmax(model.loss(X), axis=1) == y))
    ax.set_title(f"{title + ': ' if title else ''}train acc {acc:.2f}", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


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


# --------------------------------------------------------------------------
# affine layer
# --------------------------------------------------------------------------

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
             expected=(_AOUT, (_AX, _AW, _AB)), output_name="(out, cache)"),
        Case("inputs of shape (2, 2, 3) flattened to rows of 6", (_IX, _IW, _IB),
             expected=(_IOUT, (_IX, _IW, _IB)), output_name="(out, cache)"),
        Case("a single example of shape (1, 2, 1, 1)", (one, w1, b1),
             expected=(np.array([[5.0, -1.0, 2.0]]), (one, w1, b1)),
             output_name="(out, cache)"),
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
             expected=hand, output_name="(dx, dw, db)"),
        Case("inputs of shape (4, 3, 2, 2): dx must have that shape too", (d, (x, w, b)),
             check=_gradients_match_numeric(_affine_forward_of, ("dx", "dw", "db"))),
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
             output_name="(out, cache)"),
        Case("an input of shape (1, 1, 2, 2) keeps its shape", (img,),
             expected=(np.array([[[[0.0, 2.0], [0.5, 0.0]]]]), img), output_name="(out, cache)"),
        Case("all inputs negative", (neg,), expected=(np.zeros((3, 2)), neg),
             output_name="(out, cache)"),
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
             output_name="dx"),
        Case("all inputs negative: no gradient passes", (dout, neg), expected=np.zeros((2, 3)),
             output_name="dx"),
        Case("inputs of shape (2, 1, 2, 2)", (dimg, img),
             expected=np.array([[[[1.0, 0.0], [0.0, 4.0]]], [[[0.0, 6.0], [7.0, 0.0]]]]),
             output_name="dx"),
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
             output_name="(out, cache)"),
        Case("very large |x| must give finite values without nan", (big,),
             expected=(s_big, s_big), atol=1e-12, output_name="(out, cache)"),
        Case("zeros of shape (2, 1, 1, 3)", (img,), expected=(img + 0.5, img + 0.5),
             output_name="(out, cache)"),
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
             output_name="dx"),
        Case("cache of shape (2, 1, 2)", (np.ones((2, 1, 2)), s2), expected=np.full((2, 1, 2), 0.25),
             output_name="dx"),
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
             expected=(np.log(4.0), d_eq / 2), output_name="(loss, dscores)"),
        Case("scores [0, ln 3], label 1: loss ln(4/3)", (two, np.array([1])),
             expected=(np.log(4.0 / 3.0), d_two), output_name="(loss, dscores)"),
        Case("the same scores shifted by 1000 (no overflow allowed)",
             (two + 1000.0, np.array([1])), expected=(np.log(4.0 / 3.0), d_two), rtol=1e-6,
             output_name="(loss, dscores)"),
        Case("5 examples x 3 classes: dscores against the numerical gradient", (scores, y),
             check=_loss_gradient_matches_numeric(layers.softmax_loss)),
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
             output_name="(loss, dscores)"),
        Case("all scores 0: loss C - 1", (zeros, yz), expected=(3.0, dz / 3),
             output_name="(loss, dscores)"),
        Case("6 examples x 4 classes: dscores against the numerical gradient", (s, ys),
             check=_loss_gradient_matches_numeric(layers.svm_loss)),
    ]


def check_softmax_loss(fn):
    """Check ``softmax_loss(scores, y) -> (loss, dscores)``."""
    run_cases(fn, softmax_loss_cases())


def check_svm_loss(fn):
    """Check ``svm_loss(scores, y) -> (loss, dscores)``."""
    run_cases(fn, svm_loss_cases())


# --------------------------------------------------------------------------
# the two-layer network: adapters (run in the student's process)
# --------------------------------------------------------------------------

LAYER_NAMES = ("affine_forward", "affine_backward", "relu_forward", "relu_backward",
               "sigmoid_forward", "sigmoid_backward", "softmax_loss", "svm_loss")


@contextlib.contextmanager
def reference_layers(cls):
    """Point the layer names seen by ``cls``'s methods at the reference layers.

    While the block runs, the global names ``affine_forward``, ``relu_forward``
    ... of the module (or notebook) that defined ``cls`` are the course's
    reference functions from ``assignments.layers``; afterwards they are
    restored.  So a check of the network cannot fail because of a bug in a
    layer the student wrote (that bug costs the layer's own cell).
    """
    namespaces = []
    for attr in ("loss", "__init__"):
        g = getattr(getattr(cls, attr, None), "__globals__", None)
        if isinstance(g, dict) and all(g is not n for n in namespaces):
            namespaces.append(g)
    saved = [{name: g[name] for name in LAYER_NAMES if name in g} for g in namespaces]
    try:
        for g in namespaces:
            g.update({name: getattr(layers, name) for name in LAYER_NAMES})
        yield
    finally:
        for g, old in zip(namespaces, saved):
            for name in LAYER_NAMES:
                if name in old:
                    g[name] = old[name]
                else:
                    g.pop(name, None)


def _activation_pair(activation):
    if activation is None:
        return None
    if activation not in layers.ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}")
    return layers.ACTIVATIONS[activation]


def _build(cls, params, reg, activation):
    """An instance of cls whose params are copies of ``params``."""
    D, H = np.shape(params["W1"])
    C = np.shape(params["W2"])[1]
    kwargs = dict(weight_scale=1e-3, reg=reg, rng=np.random.default_rng(0))
    pair = _activation_pair(activation)
    if pair is not None:
        kwargs["activation"] = pair
    model = cls(D, H, C, **kwargs)
    model.params = {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}
    return model


def _plain_params(params):
    if not isinstance(params, dict):
        raise CheckFailed(f"model.params must be a dict, got {type(params).__name__}")
    return {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v)
            for k, v in params.items()}


def init_params(cls, input_dim, hidden_dim, num_classes, weight_scale, seed):
    """Build ``cls`` three times; return the three ``params`` dicts.

    The first two use generators with the same ``seed`` (so they must be
    equal), the third ``seed + 1`` (so its weights must differ).
    """
    out = []
    with reference_layers(cls):
        for s in (seed, seed, seed + 1):
            model = cls(input_dim, hidden_dim, num_classes, weight_scale=weight_scale, reg=0.0,
                        rng=np.random.default_rng(s))
            out.append(_plain_params(model.params))
    return tuple(out)


def two_layer_scores(cls, params, X, activation=None):
    """Scores of ``cls`` with the given params on X (test mode, y=None)."""
    with reference_layers(cls):
        return _build(cls, params, 0.0, activation).loss(X)


def two_layer_loss(cls, params, X, y, reg=0.0, activation=None):
    """(loss, grads) of ``cls`` with the given params, as plain data."""
    with reference_layers(cls):
        out = _build(cls, params, reg, activation).loss(X, y)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise CheckFailed("loss(X, y) must return a tuple (loss, grads)")
    loss, grads = out
    if not isinstance(grads, dict):
        raise CheckFailed(f"grads must be a dict keyed like params, got {type(grads).__name__}")
    return loss, {k: np.array(v, copy=True) for k, v in grads.items()}


def two_layer_gradcheck(cls, params, X, y, reg=0.0):
    """(loss, grads, numerical grads) of ``cls``: every gradient checked numerically."""
    with reference_layers(cls):
        model = _build(cls, params, reg, None)
        loss, grads = model.loss(X, y)
        numeric = {}
        for name in params:
            numeric[name] = eval_numerical_gradient(lambda _: model.loss(X, y)[0],
                                                    model.params[name])
    return loss, {k: np.array(v, copy=True) for k, v in grads.items()}, numeric


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


def _init_property(input_dim, hidden_dim, num_classes, weight_scale):
    shapes = {"W1": (input_dim, hidden_dim), "b1": (hidden_dim,),
              "W2": (hidden_dim, num_classes), "b2": (num_classes,)}

    def check(out, case):
        first, again, other = out
        missing = sorted(set(shapes) - set(first))
        if missing:
            raise CheckFailed(f"params has no entries {missing}; it must hold W1, b1, W2, b2")
        for name, shape in shapes.items():
            p = first[name]
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise CheckFailed(f"params[{name!r}] must be a float array, got "
                                  f"{type(p).__name__}{getattr(p, 'dtype', '')}")
            if p.shape != shape:
                raise CheckFailed(f"params[{name!r}] must have shape {shape}, got {p.shape}")
        for name in ("b1", "b2"):
            if np.any(first[name] != 0):
                raise CheckFailed(f"params[{name!r}] must start at zero")
        for name in ("W1", "W2"):
            w = first[name]
            std = float(np.std(w))
            if not 0.8 * weight_scale <= std <= 1.2 * weight_scale:
                raise CheckFailed(f"params[{name!r}] has standard deviation {std:.3g}; with "
                                  f"weight_scale={weight_scale} it should be about {weight_scale}")
            if abs(float(np.mean(w))) > 0.35 * weight_scale:
                raise CheckFailed(f"params[{name!r}] has mean {np.mean(w):.3g}; draw it from a "
                                  "normal distribution centred at 0")
            if not np.array_equal(w, again[name]):
                raise CheckFailed(f"two networks built with generators of the same seed have "
                                  f"different {name}: draw every random number from `rng`")
            if np.array_equal(w, other[name]):
                raise CheckFailed(f"networks built with different seeds have the same {name}: "
                                  "draw the weights from `rng`")
    return check


def two_layer_init_cases():
    """Visible cases for ``TwoLayerNet.__init__``: shapes, scale, zero biases, rng."""
    call = Ref("public", "assignments.two_layer:init_params")
    net = Ref("student", "TwoLayerNet")
    return [
        Case("TwoLayerNet(input_dim=40, hidden_dim=30, num_classes=7, weight_scale=0.01)",
             (net, 40, 30, 7, 1e-2, 0), call=call, check=_init_property(40, 30, 7, 1e-2)),
        Case("TwoLayerNet(input_dim=100, hidden_dim=50, num_classes=10, weight_scale=0.5)",
             (net, 100, 50, 10, 0.5, 11), call=call, check=_init_property(100, 50, 10, 0.5)),
    ]


def _toy_gradients_check(expected_loss, tol=1e-6):
    def check(out, case):
        loss, grads, numeric = out
        if expected_loss is not None:
            compare(loss, expected_loss, "loss", rtol=1e-7)
        for name, num in numeric.items():
            if name not in grads:
                raise CheckFailed(f"grads has no entry {name!r}; keys must match params")
            assert_gradients_close(grads[name], num, f"grads[{name!r}]", tol)
    return check


def two_layer_loss_cases():
    """Visible cases for ``TwoLayerNet.loss``: the toy net and numerical gradients."""
    net = Ref("student", "TwoLayerNet")
    params, X, y = toy_net()
    rng = np.random.default_rng(6)
    D, H, C, N = 6, 5, 3, 4
    rand = {"W1": rng.normal(size=(D, H)), "b1": rng.normal(size=H),
            "W2": rng.normal(size=(H, C)), "b2": rng.normal(size=C)}
    Xr = rng.normal(size=(N, 2, 3))
    yr = np.array([0, 2, 1, 2])
    return [
        Case("toy net: scores (y=None)", (net, params, X),
             call=Ref("public", "assignments.two_layer:two_layer_scores"), expected=TOY_SCORES,
             output_name="scores"),
        Case("toy net: loss and gradients, reg = 0", (net, params, X, y, 0.0),
             call=Ref("public", "assignments.two_layer:two_layer_gradcheck"),
             check=_toy_gradients_check(TOY_LOSS)),
        Case("toy net: loss and gradients, reg = 0.1", (net, params, X, y, 0.1),
             call=Ref("public", "assignments.two_layer:two_layer_gradcheck"),
             check=_toy_gradients_check(TOY_LOSS + 0.1 * 13)),
        Case("random net, inputs (4, 2, 3), reg = 0.3: numerical gradients",
             (net, rand, Xr, yr, 0.3), call=Ref("public", "assignments.two_layer:two_layer_gradcheck"),
             check=_toy_gradients_check(None)),
    ]


def check_two_layer_init(cls):
    """Check ``TwoLayerNet.__init__`` (params, shapes, scale, use of rng)."""
    run_cases(cls, two_layer_init_cases(), name="TwoLayerNet.__init__",
              namespace={"TwoLayerNet": cls})


def check_two_layer_loss(cls):
    """Check ``TwoLayerNet.loss`` (scores, loss, gradients), with reference layers."""
    run_cases(cls, two_layer_loss_cases(), name="TwoLayerNet.loss",
              namespace={"TwoLayerNet": cls})


# --------------------------------------------------------------------------
# the chosen hyperparameters
# --------------------------------------------------------------------------

HYPERPARAMETER_KEYS = {"hidden_dim": int, "learning_rate": float, "reg": float, "num_epochs": int}

# Settings the notebook keeps fixed while it searches the others.
TRAINING_DEFAULTS = {"weight_scale": 1e-2, "batch_size": 100, "lr_decay": 0.95}

# How the grader judges the chosen hyperparameters: it trains a fresh network
# (the course's reference implementation) with them on a fixed split of the
# bundled data, with hidden_dim and num_epochs capped to keep it fast, and
# requires this validation accuracy.
GRADER_RECIPE = {"num_train": 4000, "num_val": 1000, "max_hidden_dim": 64, "max_epochs": 8,
                 "min_val_acc": 0.75, **TRAINING_DEFAULTS}


def _hyperparameter_format(out, case):
    if not isinstance(out, dict):
        raise CheckFailed(f"expected a dict, got {type(out).__name__}")
    missing = [k for k in HYPERPARAMETER_KEYS if k not in out]
    if missing:
        raise CheckFailed(f"the dict has no entries {missing}")
    for key, kind in HYPERPARAMETER_KEYS.items():
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise CheckFailed(f"{key} must be a number, got {value!r}")
        if kind is int and int(value) != value:
            raise CheckFailed(f"{key} must be a whole number, got {value!r}")
        if not np.isfinite(value) or value < 0:
            raise CheckFailed(f"{key} must be a finite number >= 0, got {value!r}")
    if out["hidden_dim"] < 1 or out["num_epochs"] < 1 or out["learning_rate"] <= 0:
        raise CheckFailed("hidden_dim and num_epochs must be at least 1 and learning_rate > 0")


def hyperparameter_cases():
    """Visible case for ``chosen_hyperparameters()``: the format of the dict."""
    return [Case("the dict of chosen hyperparameters", (), check=_hyperparameter_format)]


def check_hyperparameters(fn):
    """Check that ``fn()`` returns a dict with hidden_dim, learning_rate, reg, num_epochs."""
    run_cases(fn, hyperparameter_cases())
