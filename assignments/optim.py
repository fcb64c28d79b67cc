"""Update rules: how a parameter moves, given its gradient.

The contract (every rule of the course follows it)::

    next_w, next_config = rule(w, dw, config)

- ``w``: the current parameter array; ``dw``: the gradient of the loss with
  respect to ``w``, same shape.
- ``config``: a dict of hyperparameters (``learning_rate`` ...) and of the
  rule's state (``velocity``, ``cache``, ``m``, ``v``, ``t``).  ``None``
  means "all defaults"; missing keys get their defaults.  The keys are the
  field's standard ones, so outside tests written for them apply unchanged.
- The rule is *pure*: it returns a new array ``next_w`` (of ``w``'s dtype)
  and a new dict ``next_config`` and changes nothing it was given, neither
  ``w``, ``dw`` nor ``config`` nor the arrays inside ``config``.  State
  lives in the returned config, so a step is easy to test, to repeat and to
  checkpoint.

The ``Solver`` keeps one config per parameter and feeds each step's returned
config into the next step.  Notebook 3 uses plain SGD (here); notebook 4 asks
you to write the rules with state, and later notebooks import the course's
answers to them from their ``course_blocks`` module.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sgd", "with_defaults", "RULES"]


def with_defaults(config, **defaults) -> dict:
    """A new dict: ``defaults`` overridden by ``config`` (which may be None)."""
    if config is not None and not isinstance(config, dict):
        raise TypeError(f"config must be a dict or None, got {type(config).__name__}")
    return {**defaults, **(config or {})}


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: w - learning_rate * dw.

    config: learning_rate (default 1e-2).
    """
    config = with_defaults(config, learning_rate=1e-2)
    w, dw = np.asarray(w), np.asarray(dw)
    if w.shape != dw.shape:
        raise ValueError(f"w and dw must have the same shape, got {w.shape} and {dw.shape}")
    next_w = np.multiply(dw, -config["learning_rate"], dtype=np.result_type(w, dw))
    next_w += w
    return next_w, config


# name -> rule, for the Solver's update_rule="name" (the rules of notebook 4 are yours to
# write: pass them as functions)
RULES = {"sgd": sgd}
