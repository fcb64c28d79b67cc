"""Reference layers and losses, shared by notebooks 3-6.

Every layer is a pair of plain functions:

    out, cache = layer_forward(x, ...)
    dx, ...    = layer_backward(dout, cache)

``forward`` returns its output and a small ``cache`` (what backward needs,
nothing more); ``backward`` receives the upstream gradient ``dout`` (the
gradient of the loss with respect to ``out``, same shape as ``out``) and
returns the gradients with respect to forward's inputs, in the order of
forward's arguments.  The caches are part of the contract, so a backward
function can be tested without its forward:

    affine   cache = (x, w, b)      the inputs, x in its original shape
    relu     cache = x              the input
    sigmoid  cache = out            the output sigma(x)
    tanh     cache = out            the output tanh(x)
    leaky    cache = (x, alpha)     the input and the negative-side slope

Losses take class scores ``(N, C)`` and integer labels ``(N,)`` and return
``(loss, dscores)``: the loss averaged over the N examples and its gradient.

Notebook 3 asks you to write affine, ReLU, sigmoid, softmax and SVM
yourself; this module holds the course's reference copies, which later
notebooks import (and which the grader uses so that one broken function
never costs the points of another).  Nothing here mutates its inputs.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "affine_forward", "affine_backward",
    "relu_forward", "relu_backward",
    "leaky_relu_forward", "leaky_relu_backward",
    "sigmoid_forward", "sigmoid_backward",
    "tanh_forward", "tanh_backward",
    "softmax_loss", "svm_loss",
    "ACTIVATIONS",
]


# --------------------------------------------------------------------------
# affine (fully connected) layer
# --------------------------------------------------------------------------

def affine_forward(x, w, b):
    """out = x_rows @ w + b, where x_rows flattens every example into one row.

    Inputs:
    - x: (N, d1, ..., dk) array; each example has D = d1 * ... * dk numbers.
    - w: (D, M) weights.
    - b: (M,) biases.

    Returns:
    - out: (N, M).
    - cache: (x, w, b).
    """
    x_rows = x.reshape(x.shape[0], -1)
    out = x_rows @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    """Gradients of the affine layer.

    Inputs:
    - dout: (N, M) upstream gradient.
    - cache: (x, w, b) from affine_forward.

    Returns:
    - dx: (N, d1, ..., dk), shaped like x.
    - dw: (D, M).
    - db: (M,).
    """
    x, w, _ = cache
    x_rows = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x_rows.T @ dout
    db = np.sum(dout, axis=0)
    return dx, dw, db


# --------------------------------------------------------------------------
# activation functions
# --------------------------------------------------------------------------

def relu_forward(x):
    """out = max(0, x) elementwise.  x: any shape.  Returns (out, cache = x)."""
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    """dx = dout where x > 0, else 0.

    At x == 0 exactly ReLU has no derivative; the course uses 0 there (the
    unit counts as off).
    """
    x = cache
    return dout * (x > 0)


def leaky_relu_forward(x, alpha=0.01):
    """out = x where x > 0, alpha * x elsewhere.  Returns (out, cache = (x, alpha))."""
    return np.where(x > 0, x, alpha * x), (x, alpha)


def leaky_relu_backward(dout, cache):
    """dx = dout where x > 0, alpha * dout elsewhere (alpha also at x == 0)."""
    x, alpha = cache
    return dout * np.where(x > 0, 1.0, alpha)


def sigmoid_forward(x):
    """out = 1 / (1 + exp(-x)), computed without overflow for any x.

    Returns (out, cache = out): the derivative is out * (1 - out), so the
    output is all backward needs.
    """
    z = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
    return out, out


def sigmoid_backward(dout, cache):
    """dx = dout * s * (1 - s) with s = sigmoid(x), the cached output."""
    s = cache
    return dout * s * (1.0 - s)


def tanh_forward(x):
    """out = tanh(x).  Returns (out, cache = out)."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """dx = dout * (1 - tanh(x)**2), from the cached output."""
    t = cache
    return dout * (1.0 - t * t)


# name -> (forward, backward): the hidden non-linearities of notebook 3's
# activation experiment.
ACTIVATIONS = {
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "relu": (relu_forward, relu_backward),
    "leaky relu": (leaky_relu_forward, leaky_relu_backward),
}


# --------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------

def _check_scores_labels(scores, y):
    if scores.ndim != 2 or y.shape != (scores.shape[0],):
        raise ValueError(f"scores must be (N, C) and y (N,); got {scores.shape} and {y.shape}")


def softmax_loss(scores, y):
    """Softmax (cross-entropy) loss and its gradient.

    Inputs:
    - scores: (N, C) class scores.
    - y: (N,) integer labels in [0, C).

    Returns:
    - loss: mean over the N examples of -log softmax(scores[i])[y[i]].
    - dscores: (N, C), (softmax(scores) - onehot(y)) / N.
    """
    _check_scores_labels(scores, y)
    n = scores.shape[0]
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    loss = -np.mean(log_probs[np.arange(n), y])
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1.0
    return float(loss), dscores / n


def svm_loss(scores, y):
    """Multiclass SVM (hinge) loss with margin 1, and its gradient.

    Inputs:
    - scores: (N, C) class scores.
    - y: (N,) integer labels in [0, C).

    Returns:
    - loss: mean over examples of sum_{j != y_i} max(0, s_j - s_{y_i} + 1).
    - dscores: (N, C).  A margin of exactly 0 contributes no gradient.
    """
    _check_scores_labels(scores, y)
    n = scores.shape[0]
    rows = np.arange(n)
    margins = scores - scores[rows, y][:, None] + 1.0
    margins[rows, y] = 0.0
    active = margins > 0
    loss = np.sum(np.where(active, margins, 0.0)) / n
    dscores = active * 1.0
    dscores[rows, y] = -np.sum(active, axis=1)
    return float(loss), dscores / n
