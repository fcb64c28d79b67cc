"""Notebook 3 (a two-layer network): the layers' visible checks and the open gradient checks.

Check functions take the student's function and run it on small cases whose
answers were worked out by hand (the comments show the arithmetic), or, for
the larger random cases, are the course's answers on those inputs, stored
as data by `course release` (``assignments.expected``).  The grader runs the
same visible cases plus hidden ones.

The layer contract fixes each cache (see ``assignments.layers``), so every
backward function is checked on caches built here, never on the output of
the student's forward: one broken function costs the points of one cell.
``check_layer_gradients`` and ``check_loss_gradient`` are the gradient checks
the notebook runs in the open, on the student's own forward and backward.
The network's checks, the grader's recipe and the experiment runner are in
``two_layer_net_model``, the pictures in ``two_layer_net_plots``.
"""

from __future__ import annotations

import numpy as np

from ..cases import Case, CheckFailed, run_cases
from ..expected import Computed, Stored
from ..gradcheck import (assert_gradients_close, eval_numerical_gradient,
                         eval_numerical_gradient_array)

__all__ = [
    "affine_forward_cases", "affine_backward_cases", "relu_forward_cases",
    "relu_backward_cases", "sigmoid_forward_cases", "sigmoid_backward_cases",
    "softmax_loss_cases", "svm_loss_cases",
    "check_affine_forward", "check_affine_backward", "check_relu_forward",
    "check_relu_backward", "check_sigmoid_forward", "check_sigmoid_backward",
    "check_softmax_loss", "check_svm_loss", "AFFINE_OUTPUT",
    "numerical_layer_gradients", "check_layer_gradients", "check_loss_gradient",
]


# --------------------------------------------------------------------------
# gradient checks of a layer and of a loss
# --------------------------------------------------------------------------

def numerical_layer_gradients(forward, inputs, dout) -> list:
    """Centred-difference gradients of sum(forward(*inputs)[0] * dout), one per input."""
    grads = []
    for i in range(len(inputs)):
        def output_of(value, i=i):
            args = list(inputs)
            args[i] = value
            return forward(*args)[0]
        x = np.array(inputs[i], dtype=np.float64, copy=True)
        grads.append(eval_numerical_gradient_array(output_of, x, dout))
    return grads


def _judge_gradients(got, numeric, names, tol) -> dict:
    """name -> relative error of each gradient (floored, see ``assert_gradients_close``)."""
    got = got if isinstance(got, (tuple, list)) else (got,)
    if len(got) != len(names):
        raise CheckFailed(f"expected {len(names)} gradients ({', '.join(names)}), got {len(got)}")
    errors = {}
    for name, g, n in zip(names, got, numeric):
        if isinstance(g, np.ndarray) and g.shape != n.shape:
            raise CheckFailed(f"{name}: expected shape {n.shape} (the shape of the forward "
                              f"input), got shape {g.shape}")
        errors[name] = assert_gradients_close(g, n, name, tol)
    return errors


def check_layer_gradients(forward, backward, inputs, dout, names, tol=1e-8) -> None:
    """A layer's gradient check in the open: ``backward(dout, cache)`` against the numerical
    gradients of ``forward`` (both yours), for every input in ``inputs``.

    Prints each relative error; raises ``CheckFailed`` naming the gradient, the worst
    entry and both values if one disagrees.
    """
    __tracebackhide__ = True
    _, cache = forward(*inputs)
    errors = _judge_gradients(backward(dout, cache),
                              numerical_layer_gradients(forward, inputs, dout), names, tol)
    for name, err in errors.items():
        print(f"{name}: relative error {err:.1e}")


def check_loss_gradient(loss_fn, scores, y, tol=1e-7, name="dscores") -> None:
    """A loss's gradient check in the open: ``loss_fn(scores, y) -> (loss, dscores)`` against
    the numerical gradient of its own loss.

    Judged with the floor of ``assert_gradients_close``: an entry of dscores far below 0.01
    (a class with probability 1e-6) is judged on its absolute error, because the rounding
    noise of its numerical estimate (about 1e-11) is a large share of so small a number.
    Prints the loss and the relative error.
    """
    __tracebackhide__ = True
    loss, dscores = loss_fn(scores, y)
    numeric = eval_numerical_gradient(lambda s: loss_fn(s, y)[0],
                                      np.array(scores, dtype=np.float64, copy=True))
    err = assert_gradients_close(dscores, numeric, name, tol)
    print(f"loss {loss:.4f}, {name} relative error {err:.1e}")


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


# random cases: inputs drawn here, outputs of the course's answers stored by `course release`
_rng = np.random.default_rng(3)
_BX, _BW, _BB = _rng.normal(size=(4, 3, 2, 2)), _rng.normal(size=(12, 5)), _rng.normal(size=5)
_BD = _rng.normal(size=(4, 5))
_rng = np.random.default_rng(4)
_SM_SCORES, _SM_Y = _rng.normal(size=(5, 3)) * 3, np.array([0, 2, 1, 2, 0])
_rng = np.random.default_rng(5)
_SV_SCORES, _SV_Y = _rng.normal(size=(6, 4)) * 2, np.array([3, 0, 1, 1, 2, 0])
STORED = Stored("03_two_layer_net", {
    "affine_backward (4, 3, 2, 2)": Computed("affine_backward", (_BD, (_BX, _BW, _BB))),
    "softmax_loss 5 x 3": Computed("softmax_loss", (_SM_SCORES, _SM_Y)),
    "svm_loss 6 x 4": Computed("svm_loss", (_SV_SCORES, _SV_Y)),
})


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
    return [
        Case("2 examples x 3 features, worked out by hand", (dout, (_AX, _AW, _AB)),
             expected=hand, output=("dx", "dw", "db")),
        Case("inputs of shape (4, 3, 2, 2): dx must have that shape too",
             (_BD, (_BX, _BW, _BB)), expected=STORED["affine_backward (4, 3, 2, 2)"],
             output=("dx", "dw", "db")),
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
    return [
        Case("2 examples, 4 equal scores: loss ln 4", (eq, y_eq),
             expected=(np.log(4.0), d_eq / 2), output=("loss", "dscores")),
        Case("scores [0, ln 3], label 1: loss ln(4/3)", (two, np.array([1])),
             expected=(np.log(4.0 / 3.0), d_two), output=("loss", "dscores")),
        Case("the same scores shifted by 1000 (no overflow allowed)",
             (two + 1000.0, np.array([1])), expected=(np.log(4.0 / 3.0), d_two), rtol=1e-6,
             output=("loss", "dscores")),
        Case("5 examples x 3 classes of random scores", (_SM_SCORES, _SM_Y),
             expected=STORED["softmax_loss 5 x 3"], output=("loss", "dscores")),
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
    return [
        Case("2 examples x 3 classes, worked out by hand", (scores, y), expected=(1.5, d),
             output=("loss", "dscores")),
        Case("all scores 0: loss C - 1", (zeros, yz), expected=(3.0, dz / 3),
             output=("loss", "dscores")),
        Case("6 examples x 4 classes of random scores", (_SV_SCORES, _SV_Y),
             expected=STORED["svm_loss 6 x 4"], output=("loss", "dscores")),
    ]


def check_softmax_loss(fn):
    """Check ``softmax_loss(scores, y) -> (loss, dscores)``."""
    run_cases(fn, softmax_loss_cases())


def check_svm_loss(fn):
    """Check ``svm_loss(scores, y) -> (loss, dscores)``."""
    run_cases(fn, svm_loss_cases())


