"""Reference normalization and dropout layers, and the hidden block built from them.

Notebook 5 asks you to write these; this module holds the course's reference
copies, which later notebooks use (and which the grader swaps in, so that a
bug in one function costs only that function's points).

Layer contract as in ``assignments.layers``: ``forward -> (out, cache)``,
``backward(dout, cache) -> gradients in the order of forward's inputs``.
Three additions, all part of the course's model protocol (see
``assignments.solver``):

* **Mode is an argument.** ``mode="train"`` or ``"test"``.
* **Non-learned state goes in and comes out.**  Batch norm takes the
  running averages and returns the next ones instead of changing them in
  place; the model owns them (``model.state``)::

      out, cache, (running_mean, running_var) = batchnorm_forward(
          x, gamma, beta, running_mean, running_var, mode="train")

* **Randomness comes from a Generator passed in.**  ``dropout_forward``
  draws its mask as ``rng.random(x.shape) < keep_prob``; the same Generator
  state gives the same mask.  With ``keep_prob == 1`` nothing is drawn.

Caches (fixed, so that a backward pass can be tested on its own):

    batchnorm, layernorm   (x, x_hat, mean, var, gamma, eps)
    dropout                the mask, already divided by keep_prob (None in test mode
                           and when keep_prob == 1)
    dropconnect            (x, w, b, mask), mask over w divided by keep_prob (None in test mode)
    hidden block           (normalization, activation, affine_cache, norm_cache,
                            activation_cache, dropout_cache)

Shapes: x is (N, D); gamma, beta, the batch-norm statistics and the running
averages are (D,); layer norm's mean and var are (N, 1).
"""

from __future__ import annotations

import numpy as np

from .layers import ACTIVATIONS, affine_backward, affine_forward

__all__ = ["batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
           "layernorm_forward", "layernorm_backward", "dropout_forward", "dropout_backward",
           "dropconnect_forward", "dropconnect_backward",
           "hidden_block_forward", "hidden_block_backward", "MODES", "NORMALIZATIONS"]

MODES = ("train", "test")
NORMALIZATIONS = (None, "batchnorm", "layernorm")


def _check_mode(mode):
    if mode not in MODES:
        raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")


def _check_keep_prob(keep_prob):
    if not 0.0 < keep_prob <= 1.0:
        raise ValueError(f"keep_prob (the probability of keeping a unit) must be in (0, 1], "
                         f"got {keep_prob}")


def _check_features(x, named):
    """x must be (N, D) and every named vector (D,)."""
    if np.ndim(x) != 2:
        raise ValueError(f"x must be a batch of rows (N, D), got shape {np.shape(x)}")
    d = x.shape[1]
    for name, v in named.items():
        if np.shape(v) != (d,):
            raise ValueError(f"{name} must have shape ({d},) for x of shape {x.shape}, "
                             f"got {np.shape(v)}")


# --------------------------------------------------------------------------
# batch normalization
# --------------------------------------------------------------------------

def batchnorm_forward(x, gamma, beta, running_mean, running_var, mode="train", eps=1e-5,
                      momentum=0.9):
    """Batch normalization of each feature over the batch.

    train: mean and (biased) variance of the batch, per feature;
           x_hat = (x - mean) / sqrt(var + eps);  out = gamma * x_hat + beta;
           running = momentum * running + (1 - momentum) * batch statistic.
    test:  the same with the running averages instead of the batch's; the
           running averages come back unchanged.

    Returns (out (N, D), cache, (next_running_mean, next_running_var)).
    """
    _check_mode(mode)
    _check_features(x, {"gamma": gamma, "beta": beta, "running_mean": running_mean,
                        "running_var": running_var})
    if mode == "train":
        mean = x.mean(axis=0)
        xmu = x - mean
        var = np.einsum("ij,ij->j", xmu, xmu) / x.shape[0]   # no (N, D) temporary
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
        xmu = x - mean
    xmu *= 1.0 / np.sqrt(var + eps)          # xmu is a fresh array: now it holds x_hat
    x_hat = xmu
    out = x_hat * gamma
    out += beta
    return out, (x, x_hat, mean, var, gamma, eps), (running_mean, running_var)


def batchnorm_backward(dout, cache):
    """Backward pass of batch norm (train mode), one node of the graph at a time.

    Returns (dx (N, D), dgamma (D,), dbeta (D,)).
    """
    x, x_hat, mean, var, gamma, eps = cache
    n = x.shape[0]
    std = np.sqrt(var + eps)
    xmu = x - mean
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma                          # out = gamma * x_hat + beta
    dinv_std = (dx_hat * xmu).sum(axis=0)          # x_hat = xmu * inv_std
    dxmu = dx_hat / std
    dstd = -dinv_std / std ** 2                    # inv_std = 1 / std
    dvar = 0.5 * dstd / std                        # std = sqrt(var + eps)
    dxmu += 2.0 * xmu * dvar / n                   # var = mean(xmu ** 2)
    dmean = -dxmu.sum(axis=0)                      # xmu = x - mean
    dx = dxmu + dmean / n                          # mean = mean(x)
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Backward pass of batch norm from the simplified closed form.

    dx = gamma / (N * std) * (N * dout - sum(dout) - x_hat * sum(dout * x_hat))
    """
    _, x_hat, _, var, gamma, eps = cache
    n = x_hat.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.einsum("ij,ij->j", dout, x_hat)
    dx = x_hat * (dgamma / -n)                     # the variance path
    dx += dout
    dx -= dbeta / n                                # the mean path
    dx *= gamma / np.sqrt(var + eps)
    return dx, dgamma, dbeta


# --------------------------------------------------------------------------
# layer normalization
# --------------------------------------------------------------------------

def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer normalization: each example normalized over its own D features.

    The same in train and test mode (no running averages).
    Returns (out (N, D), cache) with mean and var of shape (N, 1).
    """
    _check_features(x, {"gamma": gamma, "beta": beta})
    mean = x.mean(axis=1, keepdims=True)
    xmu = x - mean
    var = np.einsum("ij,ij->i", xmu, xmu)[:, None] / x.shape[1]
    xmu *= 1.0 / np.sqrt(var + eps)
    x_hat = xmu
    out = x_hat * gamma
    out += beta
    return out, (x, x_hat, mean, var, gamma, eps)


def layernorm_backward(dout, cache):
    """Backward pass of layer norm: batch norm's closed form along the other axis.

    Returns (dx (N, D), dgamma (D,), dbeta (D,)).
    """
    _, x_hat, _, var, gamma, eps = cache
    d = x_hat.shape[1]
    dbeta = dout.sum(axis=0)
    dgamma = np.einsum("ij,ij->j", dout, x_hat)
    dx_hat = dout * gamma
    dx = x_hat * np.einsum("ij,ij->i", dx_hat, x_hat)[:, None]
    dx += dx_hat.sum(axis=1, keepdims=True)
    np.subtract(d * dx_hat, dx, out=dx)
    dx *= 1.0 / (d * np.sqrt(var + eps))
    return dx, dgamma, dbeta


# --------------------------------------------------------------------------
# dropout and DropConnect
# --------------------------------------------------------------------------

def _keep_mask(shape, keep_prob, rng, dtype):
    """(rng.random(shape) < keep_prob) / keep_prob in ``dtype``."""
    if rng is None or not hasattr(rng, "random"):
        raise TypeError("dropout in train mode needs rng=np.random.default_rng(seed)")
    mask = (rng.random(shape) < keep_prob).astype(dtype)
    mask *= dtype.type(1.0 / keep_prob)
    return mask


def dropout_forward(x, keep_prob, mode="train", rng=None):
    """Inverted dropout: keep each unit with probability keep_prob, scale by 1 / keep_prob.

    train: mask = (rng.random(x.shape) < keep_prob) / keep_prob;  out = x * mask.
    test:  out = x (the scaling in training keeps each unit's mean the same).
    keep_prob == 1 keeps every unit: out = x, nothing is drawn.
    Returns (out, cache = mask, or None in test mode and when keep_prob == 1).
    """
    _check_mode(mode)
    _check_keep_prob(keep_prob)
    if mode == "test" or keep_prob == 1.0:
        return x, None
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)
    mask = _keep_mask(x.shape, keep_prob, rng, dtype)
    return x * mask, mask


def dropout_backward(dout, cache):
    """dx = dout * mask (the identity when the forward pass dropped nothing)."""
    mask = cache
    return dout if mask is None else dout * mask


def dropconnect_forward(x, w, b, keep_prob, mode="train", rng=None):
    """An affine layer whose *weights* are dropped (DropConnect), inverted like dropout.

    train: mask = (rng.random(w.shape) < keep_prob) / keep_prob, one mask for
           the whole minibatch;  out = x_rows @ (w * mask) + b.
    test:  out = x_rows @ w + b (each weight's mean is kept, as with dropout).
    Returns (out (N, M), cache = (x, w, b, mask)), mask None in test mode.
    """
    _check_mode(mode)
    _check_keep_prob(keep_prob)
    mask = None
    if mode == "train" and keep_prob < 1.0:
        mask = _keep_mask(w.shape, keep_prob, rng, w.dtype)
    out, _ = affine_forward(x, w if mask is None else w * mask, b)
    return out, (x, w, b, mask)


def dropconnect_backward(dout, cache):
    """Gradients (dx, dw, db) of DropConnect: the affine layer's, through the mask."""
    x, w, b, mask = cache
    if mask is None:
        return affine_backward(dout, (x, w, b))
    dx, dw, db = affine_backward(dout, (x, w * mask, b))
    return dx, dw * mask, db


# --------------------------------------------------------------------------
# one hidden block of a fully connected network
# --------------------------------------------------------------------------

def activation_pair(activation):
    """(forward, backward) of an activation given by name (see layers.ACTIVATIONS) or as a pair."""
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from "
                             f"{sorted(ACTIVATIONS)}")
        return ACTIVATIONS[activation]
    forward, backward = activation
    return forward, backward


def hidden_block_forward(x, params, state, normalization=None, keep_prob=1.0, mode="train",
                         rng=None, activation="relu"):
    """One hidden block: affine - [batch norm | layer norm] - activation - [dropout].

    Inputs:
    - x: (N, d1, ..., dk) inputs (flattened to D numbers by the affine layer).
    - params: {"W": (D, H), "b": (H,)}, plus "gamma", "beta" (H,) when normalized.
    - state: {"running_mean", "running_var"} (H,) for batch norm, else {}.
    - normalization: None, "batchnorm" or "layernorm".
    - keep_prob: dropout after the activation unless it is 1.
    - mode: "train" or "test"; rng: the Generator dropout draws from.
    - activation: a name of ``layers.ACTIVATIONS`` (or a (forward, backward) pair).

    Returns (out (N, H), cache, next_state): next_state is a new dict with the
    keys of ``state`` (batch norm's updated running averages in train mode).
    """
    _check_mode(mode)
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
    h, affine_cache = affine_forward(x, params["W"], params["b"])
    norm_cache, next_state = None, dict(state)
    if normalization == "batchnorm":
        h, norm_cache, (next_state["running_mean"], next_state["running_var"]) = \
            batchnorm_forward(h, params["gamma"], params["beta"], state["running_mean"],
                              state["running_var"], mode)
    elif normalization == "layernorm":
        h, norm_cache = layernorm_forward(h, params["gamma"], params["beta"])
    act_forward, _ = activation_pair(activation)
    h, act_cache = act_forward(h)
    dropout_cache = None
    if keep_prob < 1.0:
        h, dropout_cache = dropout_forward(h, keep_prob, mode, rng)
    cache = (normalization, activation, affine_cache, norm_cache, act_cache, dropout_cache)
    return h, cache, next_state


def hidden_block_backward(dout, cache):
    """Backward pass of ``hidden_block_forward`` (train mode).

    Returns (dx, grads): dx shaped like the block's input x, grads a dict
    keyed like the block's params ("W", "b", and "gamma", "beta" when normalized).
    """
    normalization, activation, affine_cache, norm_cache, act_cache, dropout_cache = cache
    grads = {}
    dh = dropout_backward(dout, dropout_cache)
    _, act_backward = activation_pair(activation)
    dh = act_backward(dh, act_cache)
    if normalization == "batchnorm":
        dh, grads["gamma"], grads["beta"] = batchnorm_backward_alt(dh, norm_cache)
    elif normalization == "layernorm":
        dh, grads["gamma"], grads["beta"] = layernorm_backward(dh, norm_cache)
    dx, grads["W"], grads["b"] = affine_backward(dh, affine_cache)
    return dx, grads
