"""Reference models (notebooks 4 and 5 ask you to write them; notebook 6 builds on them).

``FullyConnectedNet`` follows the model protocol of ``assignments.solver``:
``params`` (learned), ``state`` (not learned: batch norm's running
averages) and ``loss(X, y=None, mode=None, rng=None)``.
"""

from __future__ import annotations

import numpy as np

from .layers import affine_backward, affine_forward, softmax_loss
from .normalization import (NORMALIZATIONS, activation_pair, hidden_block_backward,
                            hidden_block_forward)
from .weight_init import init_weights

__all__ = ["FullyConnectedNet", "NORMALIZATIONS", "resolve_mode", "activation_pair",
           "layer_entries", "BLOCK_PARAMS", "BLOCK_STATE"]

# the names hidden_block_forward gives layer i's parameters and state ("W" is "W{i}" here)
BLOCK_PARAMS = ("W", "b", "gamma", "beta")
BLOCK_STATE = ("running_mean", "running_var")


def layer_entries(arrays, i, names):
    """{name: arrays[f"{name}{i}"]} for the names layer i has (e.g. W3 -> W)."""
    return {name: arrays[f"{name}{i}"] for name in names if f"{name}{i}" in arrays}


def resolve_mode(y, mode):
    """The protocol's default mode: "test" for scores (y is None), "train" for a loss."""
    mode = mode or ("test" if y is None else "train")
    if mode not in ("train", "test"):
        raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")
    return mode


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
        h = X.astype(self.dtype, copy=False)
        caches, next_state = [], dict(self.state)
        for i in range(1, self.num_layers):
            h, cache, block_state = hidden_block_forward(
                h, layer_entries(self.params, i, BLOCK_PARAMS),
                layer_entries(self.state, i, BLOCK_STATE), self.normalization, self.keep_prob,
                mode, rng, self.activation)
            caches.append(cache)
            next_state.update({f"{k}{i}": v for k, v in block_state.items()})
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
            dh, block_grads = hidden_block_backward(dh, caches[i - 1])
            grads.update({f"{k}{i}": v for k, v in block_grads.items()})
        for i in range(1, L + 1):
            W = self.params[f"W{i}"]
            loss += self.reg * float(np.sum(W * W))
            grads[f"W{i}"] = grads[f"W{i}"] + 2 * self.reg * W
        return loss, grads
