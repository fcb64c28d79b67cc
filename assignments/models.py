"""What every model of the course shares (the models themselves are notebooks 3-6's tasks).

A model follows the model protocol of ``assignments.solver``: ``params``
(learned), ``state`` (not learned: batch norm's running averages) and
``loss(X, y=None, mode=None, rng=None)``.  Layer ``i`` of a fully connected
network keeps its parameters as ``W{i}``, ``b{i}``, ``gamma{i}``, ``beta{i}``
and its state as ``running_mean{i}``, ``running_var{i}``; ``layer_entries``
hands them out under the hidden block's short names.
"""

from __future__ import annotations

import numpy as np

__all__ = ["resolve_mode", "layer_entries", "ModelWrapper", "BLOCK_PARAMS", "BLOCK_STATE"]

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


class ModelWrapper:
    """Base of a model that wraps another one (``self.model``) to change what its ``loss``
    does: the parameters and the state are the wrapped model's, so the ``Solver`` trains it."""

    @property
    def params(self):
        return self.model.params

    @params.setter
    def params(self, value):
        self.model.params = value

    @property
    def state(self):
        return getattr(self.model, "state", {})

    @state.setter
    def state(self, value):
        self.model.state = value
