"""The reference convolutional network of notebook 6, and what the notebook does with it.

``ThreeLayerConvNet`` (the course's copy of the class notebook 6 asks you to
write) follows the model protocol of ``assignments.solver``::

    conv (F filters, size-preserving padding) - ReLU - 2x2 max pool
        - affine (hidden_dim) - ReLU - affine (num_classes) - softmax loss

It uses the fast layers of ``assignments.convolution``.  Beyond the
notebook's version it can drop units of the pooled feature maps
(``feature_drop="dropout"`` or ``"dropblock"``), for the DropBlock
experiment.

Also here:

* ``FrozenLayers(model, frozen)``: the same model with some parameters
  held fixed, so the ``Solver`` trains only the others (transfer learning:
  a frozen feature extractor with a new classifier on top);
* ``input_gradient(params, X, dscores)``: the gradient of
  ``sum(scores * dscores)`` with respect to the input images, for any
  parameters shaped like a ``ThreeLayerConvNet``'s (saliency maps).
"""

from __future__ import annotations

import numpy as np

from .convolution import (conv_backward_fast, conv_forward_fast, dropblock_backward,
                          dropblock_forward, max_pool_backward_fast, max_pool_forward_fast)
from .blocks import block
from .models import resolve_mode

__all__ = ["ThreeLayerConvNet", "FrozenLayers", "input_gradient", "FEATURE_DROPS"]

FEATURE_DROPS = (None, "dropout", "dropblock")


def _forward(params, X, mode="test", rng=None, feature_drop=None, keep_prob=1.0, block_size=3):
    """Scores and the caches of every layer, for parameters W1, b1, W2, b2, W3, b3."""
    affine_forward, relu_forward = block("affine_forward"), block("relu_forward")
    W1, b1 = params["W1"], params["b1"]
    pad = (W1.shape[2] - 1) // 2
    a1, conv_cache = conv_forward_fast(X, W1, b1, 1, pad)
    h1, relu1_cache = relu_forward(a1)
    p1, pool_cache = max_pool_forward_fast(h1, 2, 2, 2)
    drop_cache = None
    if feature_drop == "dropout" and keep_prob < 1.0:
        p1, drop_cache = block("dropout_forward")(p1, keep_prob, mode, rng)
    elif feature_drop == "dropblock" and keep_prob < 1.0:
        p1, drop_cache = dropblock_forward(p1, keep_prob, block_size, mode, rng)
    a2, affine2_cache = affine_forward(p1, params["W2"], params["b2"])
    h2, relu2_cache = relu_forward(a2)
    scores, affine3_cache = affine_forward(h2, params["W3"], params["b3"])
    caches = (conv_cache, relu1_cache, pool_cache, drop_cache, affine2_cache, relu2_cache,
              affine3_cache)
    return scores, caches


def _backward(dscores, caches, feature_drop=None):
    """(dX, grads) from the caches of ``_forward``."""
    (conv_cache, relu1_cache, pool_cache, drop_cache, affine2_cache, relu2_cache,
     affine3_cache) = caches
    # one name for the flowing gradient, so each map is freed as soon as the next exists
    affine_backward, relu_backward = block("affine_backward"), block("relu_backward")
    grads = {}
    d, grads["W3"], grads["b3"] = affine_backward(dscores, affine3_cache)
    d = relu_backward(d, relu2_cache)
    d, grads["W2"], grads["b2"] = affine_backward(d, affine2_cache)
    if drop_cache is not None:
        drop_backward = (dropblock_backward if feature_drop == "dropblock"
                         else block("dropout_backward"))
        d = drop_backward(d, drop_cache)
    d = max_pool_backward_fast(d, pool_cache)
    d = relu_backward(d, relu1_cache)
    dX, grads["W1"], grads["b1"] = conv_backward_fast(d, conv_cache)
    return dX, grads


class ThreeLayerConvNet:
    """conv - ReLU - 2x2 max pool - affine - ReLU - affine - softmax.

    Inputs:
    - input_dim: (C, H, W) of one image; H and W must be even (for the pool).
    - num_filters: F, filters of the convolution layer.
    - filter_size: their height and width, odd; the layer pads by
      (filter_size - 1) / 2 with stride 1, so it keeps the image size.
    - hidden_dim: units of the hidden affine layer.
    - num_classes: C of the scores.
    - weight_scale: standard deviation of the normal initial weights; None: He
      initialisation, std sqrt(2 / fan_in) with fan_in = C * fs * fs for the
      filters and the number of inputs of each affine layer.  Biases start at 0.
    - reg: L2 strength; the loss gains reg * (sum W1^2 + sum W2^2 + sum W3^2).
    - dtype: of the parameters and of the computation (np.float32 trains
      about twice as fast; np.float64 for gradient checks).
    - feature_drop: None, "dropout" or "dropblock" on the pooled feature maps,
      with keep_prob and (for DropBlock) block_size.
    - rng: numpy.random.Generator that draws the weights (required).

    params: "W1" (F, C, fs, fs), "b1" (F,), "W2" (F * H/2 * W/2, hidden_dim),
    "b2" (hidden_dim,), "W3" (hidden_dim, num_classes), "b3" (num_classes,).
    """

    def __init__(self, input_dim=(1, 28, 28), num_filters=32, filter_size=5, hidden_dim=100,
                 num_classes=10, weight_scale=None, reg=0.0, dtype=np.float64, feature_drop=None,
                 keep_prob=1.0, block_size=3, rng=None):
        if rng is None:
            raise TypeError("ThreeLayerConvNet needs rng=np.random.default_rng(seed)")
        C, H, W = input_dim
        if filter_size % 2 != 1:
            raise ValueError(f"filter_size must be odd to keep the image size, got {filter_size}")
        if H % 2 or W % 2:
            raise ValueError(f"the 2x2 pool needs an even height and width, got {H} x {W}")
        if feature_drop not in FEATURE_DROPS:
            raise ValueError(f"feature_drop must be one of {FEATURE_DROPS}, got {feature_drop!r}")
        self.reg = reg
        self.dtype = dtype
        self.feature_drop, self.keep_prob, self.block_size = feature_drop, keep_prob, block_size
        F = num_filters
        fan_in = {"W1": C * filter_size * filter_size, "W2": F * (H // 2) * (W // 2),
                  "W3": hidden_dim}
        shapes = {"W1": (F, C, filter_size, filter_size), "W2": (fan_in["W2"], hidden_dim),
                  "W3": (hidden_dim, num_classes)}
        self.params = {}
        for i, name in enumerate(("W1", "W2", "W3"), start=1):
            std = np.sqrt(2.0 / fan_in[name]) if weight_scale is None else weight_scale
            self.params[name] = (std * rng.standard_normal(shapes[name])).astype(dtype)
            self.params[f"b{i}"] = np.zeros(shapes[name][0] if i == 1 else shapes[name][1],
                                            dtype=dtype)

    def loss(self, X, y=None, mode=None, rng=None):
        """Scores (N, num_classes) when y is None, else (loss, grads)."""
        mode = resolve_mode(y, mode)
        X = X.astype(self.dtype, copy=False)
        scores, caches = _forward(self.params, X, mode, rng, self.feature_drop, self.keep_prob,
                                  self.block_size)
        if y is None:
            return scores
        loss, dscores = block("softmax_loss")(scores, y)
        _, grads = _backward(dscores, caches, self.feature_drop)
        for name in ("W1", "W2", "W3"):
            W = self.params[name]
            loss += self.reg * float(np.sum(W * W))
            grads[name] = grads[name] + 2 * self.reg * W
        return loss, grads


def input_gradient(params, X, dscores):
    """d sum(scores * dscores) / dX for a network with ThreeLayerConvNet's parameters.

    With ``dscores`` one-hot at class c this is the gradient of class c's
    score with respect to every input pixel: a saliency map.
    Inputs: params (W1 ... b3), X (N, C, H, W), dscores (N, num_classes).
    Returns dX shaped like X.
    """
    X = X.astype(params["W1"].dtype, copy=False)
    _, caches = _forward(params, X)
    dX, _ = _backward(dscores.astype(X.dtype, copy=False), caches)
    return dX


class FrozenLayers:
    """A model whose parameters named in ``frozen`` are held fixed while training.

    ``params`` holds only the trainable parameters (what the ``Solver``
    updates); ``loss`` calls the wrapped model with all of them and returns
    the gradients of the trainable ones.  The wrapped ``model`` receives the
    current values at every ``loss`` call and whenever ``params`` is replaced
    (the ``Solver`` does that at the end of training), so it can be used on
    its own afterwards.
    """

    def __init__(self, model, frozen):
        missing = [k for k in frozen if k not in model.params]
        if missing:
            raise KeyError(f"the model has no parameters {missing}")
        self.model = model
        self.frozen = {k: model.params[k] for k in frozen}
        self.params = {k: v for k, v in model.params.items() if k not in self.frozen}

    @property
    def params(self):
        return self._params

    @params.setter
    def params(self, value):
        self._params = value
        self.model.params = {**value, **self.frozen}

    def loss(self, X, y=None, mode=None, rng=None):
        self.model.params = {**self.params, **self.frozen}
        out = self.model.loss(X, y, mode=mode, rng=rng)
        if y is None:
            return out
        loss, grads = out
        return loss, {k: grads[k] for k in self.params}
