"""The layer contract of notebooks 3-6, and the layers the course provides.

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
yourself; later notebooks import the course's answers to them from their
``course_blocks`` module (released with the notebook, after notebook 3's
deadline).  This module provides only what no notebook asks for: tanh and
leaky ReLU, and ``activations``, which builds the table of (forward,
backward) pairs from yours.  Nothing here mutates its inputs.
"""

from __future__ import annotations

import numpy as np

__all__ = ["leaky_relu_forward", "leaky_relu_backward", "tanh_forward", "tanh_backward",
           "activations", "check_scores_labels"]


# --------------------------------------------------------------------------
# activation functions no notebook asks for
# --------------------------------------------------------------------------

def leaky_relu_forward(x, alpha=0.01):
    """out = x where x > 0, alpha * x elsewhere.  Returns (out, cache = (x, alpha))."""
    return np.where(x > 0, x, alpha * x), (x, alpha)


def leaky_relu_backward(dout, cache):
    """dx = dout where x > 0, alpha * dout elsewhere (alpha also at x == 0)."""
    x, alpha = cache
    return dout * np.where(x > 0, 1.0, alpha)


def tanh_forward(x):
    """out = tanh(x).  Returns (out, cache = out)."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """dx = dout * (1 - tanh(x)**2), from the cached output."""
    t = cache
    return dout * (1.0 - t * t)


def activations(relu, sigmoid) -> dict:
    """name -> (forward, backward): the hidden non-linearities of notebook 3's experiment.

    ``relu`` and ``sigmoid`` are (forward, backward) pairs (yours in notebook 3,
    the course's from ``course_blocks`` later); tanh and leaky ReLU are this
    module's.
    """
    return {"sigmoid": tuple(sigmoid), "tanh": (tanh_forward, tanh_backward),
            "relu": tuple(relu), "leaky relu": (leaky_relu_forward, leaky_relu_backward)}


def check_scores_labels(scores, y):
    """A clear error for losses given scores that are not (N, C) or labels that are not (N,)."""
    if np.ndim(scores) != 2 or np.shape(y) != (np.shape(scores)[0],):
        raise ValueError(f"scores must be (N, C) and y (N,); got {np.shape(scores)} and "
                         f"{np.shape(y)}")
