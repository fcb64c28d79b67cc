"""What notebook 6 does with its ThreeLayerConvNet (the network itself is the notebook's task).

``ThreeLayerConvNet`` (conv - ReLU - 2x2 max pool - affine - ReLU - affine -
softmax, on the fast layers) is written in notebook 6's answer cells; this
package holds no copy of it.  What the notebook's experiments do with it:

* ``FeatureDrop(model, feature_drop, keep_prob, block_size)``: the same
  network, with units of its pooled feature maps dropped while training
  (``"dropout"``: single units; ``"dropblock"``: square blocks), for the
  DropBlock experiment;
* ``FrozenLayers(model, frozen)``: the same network with some parameters
  held fixed, so the ``Solver`` trains only the others (transfer learning:
  a frozen feature extractor with a new classifier on top);
* ``input_gradient(model, X, dscores)``: the gradient of
  ``sum(scores * dscores)`` with respect to the input images (saliency maps).

``FeatureDrop`` and ``input_gradient`` run the network's own ``loss``, with
one or two of the layers it looks up by name wrapped for the duration of the
call (``assignments.adapters.names_replaced``, as the adapters swap building
blocks in): the max pool is followed by the drop, the convolution's backward
pass hands over the dx that the network drops.  So they work on any network
whose ``loss`` calls ``max_pool_forward_fast`` / ``conv_backward_fast`` and
``softmax_loss`` by those names, as the notebook's does; they say so when a
network does not.
"""

from __future__ import annotations

import numpy as np

from .adapters import looked_up, names_replaced
from .blocks import block
from .convolution import dropblock_forward
from .models import ModelWrapper, resolve_mode
from .solver import call_loss

__all__ = ["FeatureDrop", "FrozenLayers", "input_gradient", "FEATURE_DROPS"]

FEATURE_DROPS = (None, "dropout", "dropblock")


def _layer_of(model, name):
    """The function ``name`` as ``model``'s loss looks it up; a clear error when it does not."""
    found = looked_up(type(model), name)
    if not callable(found):
        raise RuntimeError(f"{type(model).__name__}.loss must call {name} (by that name) for "
                           "this to work on it")
    return found


class FeatureDrop(ModelWrapper):
    """``model`` (a ThreeLayerConvNet) with units of its pooled feature maps dropped in training.

    Inputs:
    - model: the network; its parameters, reg and dtype are used as they are.
    - feature_drop: None (no drop), "dropout" (inverted dropout of single
      units, notebook 5's dropout_forward) or "dropblock" (square blocks of
      block_size x block_size units of each map, ``assignments.convolution``);
      the backward pass of either is notebook 5's dropout_backward (the
      earlier answers, from the notebook's course_blocks).
    - keep_prob: the probability of keeping a unit.
    - block_size: the side of DropBlock's blocks.

    ``params`` are the model's (the ``Solver`` trains them in place);
    ``loss(X, y=None, mode=None, rng=None)`` follows the model protocol of
    ``assignments.solver``: in train mode the model's own loss runs with its
    ``max_pool_forward_fast`` followed by the drop (drawn from ``rng``) and
    its ``max_pool_backward_fast`` preceded by the drop's backward pass; in
    test mode nothing is dropped.
    """

    def __init__(self, model, feature_drop=None, keep_prob=1.0, block_size=3):
        if feature_drop not in FEATURE_DROPS:
            raise ValueError(f"feature_drop must be one of {FEATURE_DROPS}, got {feature_drop!r}")
        if not 0.0 < keep_prob <= 1.0:
            raise ValueError(f"keep_prob must be in (0, 1], got {keep_prob}")
        self.model = model
        self.feature_drop, self.keep_prob, self.block_size = feature_drop, keep_prob, block_size

    def _drop(self, mode, rng):
        """(forward, backward) of the drop on the pooled maps; both drops keep a scaled mask,
        so dropout's backward pass serves both."""
        if self.feature_drop == "dropblock":
            forward = lambda p: dropblock_forward(p, self.keep_prob, self.block_size, mode, rng)
        else:
            forward = lambda p: block("dropout_forward")(p, self.keep_prob, mode, rng)
        return forward, block("dropout_backward")

    def loss(self, X, y=None, mode=None, rng=None):
        mode = resolve_mode(y, mode)
        if mode == "test" or self.feature_drop is None or self.keep_prob == 1.0:
            return call_loss(self.model, X, y, mode, rng)
        if rng is None:
            raise TypeError("FeatureDrop in train mode needs rng=np.random.default_rng(seed)")
        pool_forward = _layer_of(self.model, "max_pool_forward_fast")
        pool_backward = _layer_of(self.model, "max_pool_backward_fast")
        drop_forward, drop_backward = self._drop(mode, rng)
        pooled = []

        def pool_then_drop(x, *args, **kwargs):
            out, pool_cache = pool_forward(x, *args, **kwargs)
            out, drop_cache = drop_forward(out)
            pooled.append(out.shape)
            return out, (pool_cache, drop_cache)

        def undrop_then_unpool(dout, cache):
            pool_cache, drop_cache = cache
            return pool_backward(drop_backward(dout, drop_cache), pool_cache)

        with names_replaced(type(self.model), {"max_pool_forward_fast": pool_then_drop,
                                               "max_pool_backward_fast": undrop_then_unpool}):
            out = call_loss(self.model, X, y, mode, rng)
        if not pooled:
            raise RuntimeError(f"{type(self.model).__name__}.loss never called "
                               "max_pool_forward_fast: nothing to drop units from")
        return out


def input_gradient(model, X, dscores):
    """d sum(scores * dscores) / dX of ``model`` (a ThreeLayerConvNet), one pass of its loss.

    With ``dscores`` one-hot at class c this is the gradient of class c's
    score with respect to every input pixel: a saliency map.  The model's
    loss runs once on X, with ``softmax_loss`` handing back ``dscores`` as
    the gradient of the scores and ``conv_backward_fast`` keeping the dx it
    computes (the network itself drops it: no parameter depends on it).
    Inputs: X (N, C, H, W), dscores (N, num_classes).  Returns dX (N, C, H, W).
    """
    conv_backward = _layer_of(model, "conv_backward_fast")
    _layer_of(model, "softmax_loss")
    dscores = np.asarray(dscores)
    kept = []

    def given_dscores(scores, y):
        if np.shape(scores) != dscores.shape:
            raise ValueError(f"dscores has shape {dscores.shape}, the scores {np.shape(scores)}")
        return 0.0, dscores.astype(scores.dtype, copy=False)

    def keep_dx(dout, cache):
        dx, dw, db = conv_backward(dout, cache)
        kept.append(dx)
        return dx, dw, db

    with names_replaced(type(model), {"softmax_loss": given_dscores,
                                      "conv_backward_fast": keep_dx}):
        call_loss(model, X, np.zeros(len(X), dtype=np.int64), mode="test")
    if len(kept) != 1:
        raise RuntimeError(f"{type(model).__name__}.loss called conv_backward_fast {len(kept)} "
                           "times; input_gradient needs exactly one convolution layer")
    return kept[0]


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
        out = call_loss(self.model, X, y, mode=mode, rng=rng)
        if y is None:
            return out
        loss, grads = out
        return loss, {k: grads[k] for k in self.params}
