"""Update rules: how a parameter moves, given its gradient.

The contract (every rule in this module follows it)::

    next_w, next_config = rule(w, dw, config)

- ``w``: the current parameter array; ``dw``: the gradient of the loss with
  respect to ``w``, same shape.
- ``config``: a dict of hyperparameters (``learning_rate`` ...) and of the
  rule's state (a velocity, running averages, a step counter).  ``None``
  means "all defaults".  Missing keys get their defaults.
- The rule is *pure*: it returns a new array ``next_w`` and a new dict
  ``next_config`` and changes nothing it was given, neither ``w``, ``dw``
  nor ``config`` nor the arrays inside ``config``.  Keeping state in the
  returned config (instead of in the optimizer object or in place) makes a
  step easy to test, to repeat and to checkpoint.

The ``Solver`` keeps one config per parameter and feeds each step's
returned config into the next step.  Notebook 3 uses plain SGD; notebook 4
adds rules with state (momentum, RMSprop, Adam) under the same contract.
"""

from __future__ import annotations

__all__ = ["sgd", "with_defaults"]


def with_defaults(config, **defaults) -> dict:
    """A new dict: ``defaults`` overridden by ``config`` (which may be None)."""
    return {**defaults, **(config or {})}


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: w - learning_rate * dw.

    config keys:
    - learning_rate: step size (default 1e-2).
    """
    config = with_defaults(config, learning_rate=1e-2)
    next_w = w - config["learning_rate"] * dw
    return next_w, config
