"""Reference normalization and dropout layers (notebook 5 asks you to write them).

Layer contract as in ``assignments.layers``: ``forward -> (out, cache)``,
``backward(dout, cache) -> gradients in the order of forward's inputs``.
Two additions, both part of the course's model protocol (see
``assignments.solver``):

* **Mode is an argument.** ``mode="train"`` or ``"test"``.
* **Non-learned state goes in and comes out.**  Batch norm takes the
  running averages and returns the next ones instead of changing them in
  place; the model owns them (``model.state``)::

      out, cache, (running_mean, running_var) = batchnorm_forward(
          x, gamma, beta, running_mean, running_var, mode="train")

* **Randomness comes from a Generator passed in.**  ``dropout_forward``
  draws its mask as ``rng.random(x.shape) < keep_prob``; the same Generator
  state gives the same mask.

Caches (fixed, so that a backward pass can be tested on its own):

    batchnorm, layernorm   (x, x_hat, mean, var, gamma, eps)
    dropout                the mask, already divided by keep_prob (None in test mode)

Shapes: x is (N, D); gamma, beta, the batch-norm statistics and the running
averages are (D,); layer norm's mean and var are (N, 1).
"""

from __future__ import annotations

import numpy as np

__all__ = ["batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
           "layernorm_forward", "layernorm_backward", "dropout_forward", "dropout_backward",
           "MODES"]

MODES = ("train", "test")


def _check_mode(mode):
    if mode not in MODES:
        raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")


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
    if mode == "train":
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean) / np.sqrt(var + eps)
    out = gamma * x_hat + beta
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
    dgamma = (dout * x_hat).sum(axis=0)
    dx = (gamma / (n * np.sqrt(var + eps))) * (n * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer normalization: each example normalized over its own D features.

    The same in train and test mode (no running averages).
    Returns (out (N, D), cache) with mean and var of shape (N, 1).
    """
    mean = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x, x_hat, mean, var, gamma, eps)


def layernorm_backward(dout, cache):
    """Backward pass of layer norm: batch norm's closed form along the other axis.

    Returns (dx (N, D), dgamma (D,), dbeta (D,)).
    """
    _, x_hat, _, var, gamma, eps = cache
    d = x_hat.shape[1]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = (d * dx_hat - dx_hat.sum(axis=1, keepdims=True)
          - x_hat * (dx_hat * x_hat).sum(axis=1, keepdims=True)) / (d * np.sqrt(var + eps))
    return dx, dgamma, dbeta


def dropout_forward(x, keep_prob, mode="train", rng=None):
    """Inverted dropout: keep each unit with probability keep_prob, scale by 1 / keep_prob.

    train: mask = (rng.random(x.shape) < keep_prob) / keep_prob;  out = x * mask.
    test:  out = x (the scaling in training keeps each unit's mean the same).
    Returns (out, cache = mask, or None in test mode).
    """
    _check_mode(mode)
    if not 0.0 < keep_prob <= 1.0:
        raise ValueError(f"keep_prob must be in (0, 1], got {keep_prob}")
    if mode == "test":
        return x, None
    if rng is None:
        raise TypeError("dropout in train mode needs rng=np.random.default_rng(seed)")
    mask = (rng.random(x.shape) < keep_prob).astype(x.dtype) / x.dtype.type(keep_prob)
    return x * mask, mask


def dropout_backward(dout, cache):
    """dx = dout * mask (the identity when the forward pass ran in test mode)."""
    mask = cache
    return dout if mask is None else dout * mask
