"""The normalization layers' contract (notebook 5), and what the course provides beside them.

Notebook 5 asks you to write batch norm, layer norm, dropout and the hidden
block; later notebooks import the course's answers from their
``course_blocks`` module.  This module holds the contract they follow, the
checks every layer makes of its arguments, and DropConnect, which no
notebook asks for (it runs on an affine layer you pass in).

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

__all__ = ["dropconnect_forward", "dropconnect_backward", "activation_pair", "check_mode",
           "check_keep_prob", "check_features", "MODES", "NORMALIZATIONS"]

MODES = ("train", "test")
NORMALIZATIONS = (None, "batchnorm", "layernorm")


def check_mode(mode):
    """A clear error for a mode that is neither "train" nor "test"."""
    if mode not in MODES:
        raise ValueError(f"mode must be 'train' or 'test', got {mode!r}")


def check_keep_prob(keep_prob):
    """A clear error for a keep_prob outside (0, 1]."""
    if not 0.0 < keep_prob <= 1.0:
        raise ValueError(f"keep_prob (the probability of keeping a unit) must be in (0, 1], "
                         f"got {keep_prob}")


def check_features(x, named):
    """x must be (N, D) and every named vector (D,)."""
    if np.ndim(x) != 2:
        raise ValueError(f"x must be a batch of rows (N, D), got shape {np.shape(x)}")
    d = x.shape[1]
    for name, v in named.items():
        if np.shape(v) != (d,):
            raise ValueError(f"{name} must have shape ({d},) for x of shape {x.shape}, "
                             f"got {np.shape(v)}")


# --------------------------------------------------------------------------
# DropConnect
# --------------------------------------------------------------------------

def dropconnect_forward(x, w, b, keep_prob, mode="train", rng=None, *, affine_forward):
    """An affine layer whose *weights* are dropped (DropConnect), inverted like dropout.

    train: mask = (rng.random(w.shape) < keep_prob) / keep_prob, one mask for
           the whole minibatch;  out = affine_forward(x, w * mask, b).
    test:  out = affine_forward(x, w, b) (each weight's mean is kept, as with dropout).
    ``affine_forward`` is notebook 3's layer (yours, or the course's from course_blocks).
    Returns (out (N, M), cache = (x, w, b, mask)), mask None in test mode.
    """
    check_mode(mode)
    check_keep_prob(keep_prob)
    mask = None
    if mode == "train" and keep_prob < 1.0:
        if rng is None or not hasattr(rng, "random"):
            raise TypeError("DropConnect in train mode needs rng=np.random.default_rng(seed)")
        mask = (rng.random(w.shape) < keep_prob).astype(w.dtype) / w.dtype.type(keep_prob)
    out, _ = affine_forward(x, w if mask is None else w * mask, b)
    return out, (x, w, b, mask)


def dropconnect_backward(dout, cache, *, affine_backward):
    """Gradients (dx, dw, db) of DropConnect: ``affine_backward``'s, through the mask."""
    x, w, b, mask = cache
    if mask is None:
        return affine_backward(dout, (x, w, b))
    dx, dw, db = affine_backward(dout, (x, w * mask, b))
    return dx, dw * mask, db


def activation_pair(activation, table):
    """(forward, backward) of an activation given by name (a key of ``table``, see
    ``assignments.layers.activations``) or as a pair."""
    if isinstance(activation, str):
        if activation not in table:
            raise ValueError(f"unknown activation {activation!r}; choose from {sorted(table)}")
        return table[activation]
    forward, backward = activation
    return forward, backward
