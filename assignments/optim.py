"""Update rules: how a parameter moves, given its gradient.

The contract (every rule in this module follows it)::

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
config into the next step.  Notebook 3 uses plain SGD; notebook 4 asks you
to write the rules with state; these are the course's reference copies,
which later notebooks use.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sgd", "sgd_momentum", "nesterov_momentum", "adagrad", "rmsprop", "adam",
           "with_defaults", "RULES"]


def with_defaults(config, **defaults) -> dict:
    """A new dict: ``defaults`` overridden by ``config`` (which may be None)."""
    return {**defaults, **(config or {})}


def _state(config, key, w):
    """The state array ``config[key]``, or zeros shaped like w when it is missing."""
    value = config.get(key)
    return np.zeros_like(w) if value is None else value


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: w - learning_rate * dw.

    config: learning_rate (default 1e-2).
    """
    config = with_defaults(config, learning_rate=1e-2)
    return w - config["learning_rate"] * dw, config


def sgd_momentum(w, dw, config=None):
    """SGD with momentum: v <- momentum * v - learning_rate * dw;  w <- w + v.

    config: learning_rate (1e-2), momentum (0.9); state velocity (zeros).
    """
    config = with_defaults(config, learning_rate=1e-2, momentum=0.9)
    v = config["momentum"] * _state(config, "velocity", w) - config["learning_rate"] * dw
    return w + v, {**config, "velocity": v}


def nesterov_momentum(w, dw, config=None):
    """Nesterov momentum in its look-ahead form, with dw taken at the stored w.

    v_next = momentum * v - learning_rate * dw
    w_next = w - momentum * v + (1 + momentum) * v_next

    (the parameters stored are the look-ahead point of classic Nesterov).
    config: learning_rate (1e-2), momentum (0.9); state velocity.
    """
    config = with_defaults(config, learning_rate=1e-2, momentum=0.9)
    mu = config["momentum"]
    v = _state(config, "velocity", w)
    v_next = mu * v - config["learning_rate"] * dw
    return w - mu * v + (1 + mu) * v_next, {**config, "velocity": v_next}


def adagrad(w, dw, config=None):
    """AdaGrad: cache <- cache + dw**2;  w <- w - lr * dw / (sqrt(cache) + epsilon).

    config: learning_rate (1e-2), epsilon (1e-8); state cache.
    """
    config = with_defaults(config, learning_rate=1e-2, epsilon=1e-8)
    cache = _state(config, "cache", w) + dw * dw
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    return next_w, {**config, "cache": cache}


def rmsprop(w, dw, config=None):
    """RMSprop: cache <- decay * cache + (1 - decay) * dw**2; step as AdaGrad.

    config: learning_rate (1e-2), decay_rate (0.99), epsilon (1e-8); state cache.
    """
    config = with_defaults(config, learning_rate=1e-2, decay_rate=0.99, epsilon=1e-8)
    decay = config["decay_rate"]
    cache = decay * _state(config, "cache", w) + (1 - decay) * (dw * dw)
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    return next_w, {**config, "cache": cache}


def adam(w, dw, config=None):
    """Adam with bias correction; ``t`` is incremented before it is used.

    t <- t + 1
    m <- beta1 * m + (1 - beta1) * dw          m_hat = m / (1 - beta1**t)
    v <- beta2 * v + (1 - beta2) * dw**2       v_hat = v / (1 - beta2**t)
    w <- w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    config: learning_rate (1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8);
    state m, v (zeros) and t (0).
    """
    config = with_defaults(config, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)
    b1, b2 = config["beta1"], config["beta2"]
    t = int(config.get("t") or 0) + 1
    m = b1 * _state(config, "m", w) + (1 - b1) * dw
    v = b2 * _state(config, "v", w) + (1 - b2) * (dw * dw)
    m_hat = m / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    return next_w, {**config, "m": m, "v": v, "t": t}


# name -> rule, for experiments and for the Solver's update_rule="name"
RULES = {"sgd": sgd, "sgd_momentum": sgd_momentum, "nesterov_momentum": nesterov_momentum,
         "adagrad": adagrad, "rmsprop": rmsprop, "adam": adam}
