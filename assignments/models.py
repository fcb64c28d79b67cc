"""Reference models (notebooks 4 and 5 ask you to write them; notebook 6 builds on them).

``FullyConnectedNet`` follows the model protocol of ``assignments.solver``:
``params`` (learned), ``state`` (not learned: batch norm's running
averages) and ``loss(X, y=None, mode=None, rng=None)``.
"""

from __future__ import annotations

import numpy as np

from .layers import ACTIVATIONS, affine_backward, affine_forward, softmax_loss
from .normalization import (batchnorm_backward_alt, batchnorm_forward, dropout_backward,
                            dropout_forward, layernorm_backward, layernorm_forward)
from .weight_init import init_weights

__all__ = ["FullyConnectedNet", "NORMALIZATIONS", "resolve_mode", "activation_pair"]

NORMALIZATIONS = (None, "batchnorm", "layernorm")


def resolve_mode(y, mode):
    """The protocol's default mode: "test" for scores (y is None), "train" for a loss."""
    mode = mode or ("test" if y is None else "train")
    if mode not in ("train", "test"):
        raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
    return mode


def activation_pair(activation):
    """(forward, backward) of an activation given by name (see layers.ACTIVATIONS) or as a pair."""
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from "
                             f"{sorted(ACTIVATIONS)}")
        return ACTIVATIONS[activation]
    forward, backward = activation
    return forward, backward


class FullyConnectedNet:
    """{affine - [normalization] - activation - [dropout]} x (L - 1) - affine - softmax.

    Inputs:
    - hidden_dims: sizes of the L - 1 hidden layers (any number, 0 included).
    - input_dim: D, numbers per example (inputs (N, d1, ..., dk) are flattened).
    - num_classes: C.
    - activation: "relu", "sigmoid", "tanh", "leaky relu", or a (forward, backward) pair.
    - init: weight scheme of ``init_weights`` ("he", "xavier", "gaussian", "constant");
      weight_scale is the Gaussian's std or the constant.  Biases start at 0.
    - reg: L2 strength; the loss gains reg * sum of every W squared (biases,
      gammas and betas are not regularized).
    - normalization: None, "batchnorm" or "layernorm", between each hidden
      affine layer and its activation (gamma starts at 1, beta at 0).
    - keep_prob: dropout after each hidden activation (1: no dropout).
    - dtype: of the parameters and of the computation (np.float32 to train fast,
      np.float64 for gradient checks).
    - rng: numpy.random.Generator that draws the weights, W1 first.

    params: "W1", "b1", ..., "WL", "bL", and "gamma1", "beta1", ... for normalized
    layers; state: "running_mean1", "running_var1", ... for batch norm.
    """

    def __init__(self, hidden_dims, input_dim=28 * 28, num_classes=10, activation="relu",
                 init="he", weight_scale=None, reg=0.0, normalization=None, keep_prob=1.0,
                 dtype=np.float64, rng=None):
        if rng is None:
            raise TypeError("FullyConnectedNet needs rng=np.random.default_rng(seed)")
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got "
                             f"{normalization!r}")
        if not 0.0 < keep_prob <= 1.0:
            raise ValueError(f"keep_prob must be in (0, 1], got {keep_prob}")
        self.hidden_dims = [int(h) for h in hidden_dims]
        self.num_layers = len(self.hidden_dims) + 1
        self.activation = activation_pair(activation)
        self.reg = reg
        self.normalization = normalization
        self.keep_prob = keep_prob
        self.dtype = dtype
        self.params, self.state = {}, {}
        dims = [int(input_dim)] + self.hidden_dims + [int(num_classes)]
        for i in range(1, self.num_layers + 1):
            self.params[f"W{i}"] = init_weights(dims[i - 1], dims[i], init, rng, weight_scale,
                                                dtype)
            self.params[f"b{i}"] = np.zeros(dims[i], dtype=dtype)
            if normalization is not None and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(dims[i], dtype=dtype)
                self.params[f"beta{i}"] = np.zeros(dims[i], dtype=dtype)
                if normalization == "batchnorm":
                    self.state[f"running_mean{i}"] = np.zeros(dims[i], dtype=dtype)
                    self.state[f"running_var{i}"] = np.ones(dims[i], dtype=dtype)

    def loss(self, X, y=None, mode=None, rng=None):
        """Scores (y is None) or (loss, grads), computed in ``mode``.

        mode defaults to "test" for scores and "train" for a loss.  In train
        mode dropout draws its masks from ``rng`` (required when keep_prob < 1)
        and batch norm's running averages are replaced by the updated ones.
        """
        mode = resolve_mode(y, mode)
        act_forward, act_backward = self.activation
        h = X.astype(self.dtype, copy=False)
        caches, next_state = [], dict(self.state)
        for i in range(1, self.num_layers):
            h, affine_cache = affine_forward(h, self.params[f"W{i}"], self.params[f"b{i}"])
            norm_cache = None
            if self.normalization == "batchnorm":
                h, norm_cache, (mean, var) = batchnorm_forward(
                    h, self.params[f"gamma{i}"], self.params[f"beta{i}"],
                    self.state[f"running_mean{i}"], self.state[f"running_var{i}"], mode)
                next_state[f"running_mean{i}"], next_state[f"running_var{i}"] = mean, var
            elif self.normalization == "layernorm":
                h, norm_cache = layernorm_forward(h, self.params[f"gamma{i}"],
                                                  self.params[f"beta{i}"])
            h, act_cache = act_forward(h)
            drop_cache = None
            if self.keep_prob < 1.0:
                h, drop_cache = dropout_forward(h, self.keep_prob, mode, rng)
            caches.append((affine_cache, norm_cache, act_cache, drop_cache))
        L = self.num_layers
        scores, last_cache = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])
        if mode == "train":
            self.state = next_state
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, last_cache)
        for i in range(L - 1, 0, -1):
            affine_cache, norm_cache, act_cache, drop_cache = caches[i - 1]
            if drop_cache is not None:
                dh = dropout_backward(dh, drop_cache)
            dh = act_backward(dh, act_cache)
            if self.normalization == "batchnorm":
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = batchnorm_backward_alt(dh, norm_cache)
            elif self.normalization == "layernorm":
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = layernorm_backward(dh, norm_cache)
            dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, affine_cache)
        for i in range(1, L + 1):
            W = self.params[f"W{i}"]
            loss += self.reg * float(np.sum(W * W))
            grads[f"W{i}"] = grads[f"W{i}"] + 2 * self.reg * W
        return loss, grads
