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

How they are computed
---------------------
Each docstring gives the formula; notebook 4 writes it the plain numpy way.
The code here computes the same numbers with less memory traffic, because
an update rule runs on every parameter at every step: it writes every
result into arrays it allocated itself (``out=``), so no temporary array
the size of ``w`` is ever created, and it walks through large parameters in
blocks of ``BLOCK`` numbers, so that the half-dozen elementwise operations
of a rule run on data that is still in the processor's cache and main
memory is read and written about once per array.  ``benchmarks/optim.py``
measures the effect.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sgd", "sgd_momentum", "nesterov_momentum", "adagrad", "rmsprop", "adam",
           "with_defaults", "RULES"]

# numbers per block: about 1 MB of float64 touched per block by Adam (w, dw, m, v, their
# results and one scratch array), which fits the L2 cache of current x86 cores
BLOCK = 1 << 14


def with_defaults(config, **defaults) -> dict:
    """A new dict: ``defaults`` overridden by ``config`` (which may be None)."""
    if config is not None and not isinstance(config, dict):
        raise TypeError(f"config must be a dict or None, got {type(config).__name__}")
    return {**defaults, **(config or {})}


def _check(w, dw):
    w, dw = np.asarray(w), np.asarray(dw)
    if w.shape != dw.shape:
        raise ValueError(f"w and dw must have the same shape, got {w.shape} and {dw.shape}")
    return w, dw


def _state(config, key, w):
    """The state array ``config[key]`` (not copied), or zeros shaped like w when missing."""
    value = config.get(key)
    if value is None:
        return np.zeros_like(w)
    value = np.asarray(value)
    if value.shape != w.shape:
        raise ValueError(f"config[{key!r}] has shape {value.shape}, but w has shape {w.shape}")
    return value


def _flat(a):
    """A 1-D view of ``a`` (a copy only if ``a`` is not contiguous); never written to."""
    return a.reshape(-1)


def _blocks(n):
    """Slices covering range(n) in blocks of BLOCK numbers."""
    return (slice(lo, min(lo + BLOCK, n)) for lo in range(0, n, BLOCK))


def _new(shape, *arrays):
    """A fresh uninitialised array of the common dtype of ``arrays``."""
    return np.empty(shape, dtype=np.result_type(*arrays))


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: w - learning_rate * dw.

    config: learning_rate (default 1e-2).
    """
    config = with_defaults(config, learning_rate=1e-2)
    w, dw = _check(w, dw)
    next_w = np.multiply(dw, -config["learning_rate"], dtype=np.result_type(w, dw))
    next_w += w
    return next_w, config


def sgd_momentum(w, dw, config=None):
    """SGD with momentum: v <- momentum * v - learning_rate * dw;  w <- w + v.

    config: learning_rate (1e-2), momentum (0.9); state velocity (zeros).
    """
    config = with_defaults(config, learning_rate=1e-2, momentum=0.9)
    w, dw = _check(w, dw)
    lr, mu = config["learning_rate"], config["momentum"]
    v = _state(config, "velocity", w)
    next_w, next_v = _new(w.shape, w, dw, v), _new(w.shape, w, dw, v)
    fw, fdw, fv, out_w, out_v = map(_flat, (w, dw, v, next_w, next_v))
    for s in _blocks(w.size):
        np.multiply(fv[s], mu, out=out_v[s])
        np.multiply(fdw[s], lr, out=out_w[s])          # out_w as scratch
        np.subtract(out_v[s], out_w[s], out=out_v[s])
        np.add(fw[s], out_v[s], out=out_w[s])
    return next_w, {**config, "velocity": next_v}


def nesterov_momentum(w, dw, config=None):
    """Nesterov momentum in its look-ahead form, with dw taken at the stored w.

    v_next = momentum * v - learning_rate * dw
    w_next = w - momentum * v + (1 + momentum) * v_next

    (the parameters stored are the look-ahead point of classic Nesterov).
    config: learning_rate (1e-2), momentum (0.9); state velocity.
    """
    config = with_defaults(config, learning_rate=1e-2, momentum=0.9)
    w, dw = _check(w, dw)
    lr, mu = config["learning_rate"], config["momentum"]
    v = _state(config, "velocity", w)
    next_w, next_v = _new(w.shape, w, dw, v), _new(w.shape, w, dw, v)
    fw, fdw, fv, out_w, out_v = map(_flat, (w, dw, v, next_w, next_v))
    scratch = np.empty(min(BLOCK, w.size), dtype=next_w.dtype)
    for s in _blocks(w.size):
        t = scratch[:s.stop - s.start]
        np.multiply(fv[s], mu, out=t)                   # mu * v
        np.multiply(fdw[s], lr, out=out_v[s])
        np.subtract(t, out_v[s], out=out_v[s])          # v_next
        np.subtract(fw[s], t, out=out_w[s])             # w - mu * v
        np.multiply(out_v[s], 1 + mu, out=t)
        np.add(out_w[s], t, out=out_w[s])
    return next_w, {**config, "velocity": next_v}


def adagrad(w, dw, config=None):
    """AdaGrad: cache <- cache + dw**2;  w <- w - lr * dw / (sqrt(cache) + epsilon).

    config: learning_rate (1e-2), epsilon (1e-8); state cache.
    """
    config = with_defaults(config, learning_rate=1e-2, epsilon=1e-8)
    w, dw = _check(w, dw)
    lr, eps = config["learning_rate"], config["epsilon"]
    cache = _state(config, "cache", w)
    next_w, next_cache = _new(w.shape, w, dw, cache), _new(w.shape, w, dw, cache)
    fw, fdw, fc, out_w, out_c = map(_flat, (w, dw, cache, next_w, next_cache))
    for s in _blocks(w.size):
        np.multiply(fdw[s], fdw[s], out=out_c[s])
        np.add(out_c[s], fc[s], out=out_c[s])           # cache + dw**2
        _adaptive_step(fw[s], fdw[s], out_c[s], lr, eps, out_w[s])
    return next_w, {**config, "cache": next_cache}


def _adaptive_step(w, dw, cache, lr, eps, out):
    """out = w - lr * dw / (sqrt(cache) + eps), computed in ``out``."""
    np.sqrt(cache, out=out)
    np.add(out, eps, out=out)
    np.divide(dw, out, out=out)
    np.multiply(out, -lr, out=out)
    np.add(out, w, out=out)


def rmsprop(w, dw, config=None):
    """RMSprop: cache <- decay * cache + (1 - decay) * dw**2; step as AdaGrad.

    config: learning_rate (1e-2), decay_rate (0.99), epsilon (1e-8); state cache.
    """
    config = with_defaults(config, learning_rate=1e-2, decay_rate=0.99, epsilon=1e-8)
    w, dw = _check(w, dw)
    lr, eps, decay = config["learning_rate"], config["epsilon"], config["decay_rate"]
    cache = _state(config, "cache", w)
    next_w, next_cache = _new(w.shape, w, dw, cache), _new(w.shape, w, dw, cache)
    fw, fdw, fc, out_w, out_c = map(_flat, (w, dw, cache, next_w, next_cache))
    for s in _blocks(w.size):
        np.multiply(fdw[s], fdw[s], out=out_c[s])
        np.multiply(out_c[s], 1 - decay, out=out_c[s])
        np.multiply(fc[s], decay, out=out_w[s])         # out_w as scratch
        np.add(out_w[s], out_c[s], out=out_c[s])
        _adaptive_step(fw[s], fdw[s], out_c[s], lr, eps, out_w[s])
    return next_w, {**config, "cache": next_cache}


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
    w, dw = _check(w, dw)
    lr, eps = config["learning_rate"], config["epsilon"]
    b1, b2 = config["beta1"], config["beta2"]
    t = int(config.get("t") or 0) + 1
    m, v = _state(config, "m", w), _state(config, "v", w)
    correction1, correction2 = 1 - b1 ** t, 1 - b2 ** t
    dtype = np.result_type(w, dw, m, v)
    next_w, next_m, next_v = (np.empty(w.shape, dtype) for _ in range(3))
    fw, fdw, fm, fv, out_w, out_m, out_v = map(_flat, (w, dw, m, v, next_w, next_m, next_v))
    for s in _blocks(w.size):
        o = out_w[s]                                    # scratch until the last line
        np.multiply(fm[s], b1, out=out_m[s])
        np.multiply(fdw[s], 1 - b1, out=o)
        np.add(out_m[s], o, out=out_m[s])               # m
        np.multiply(fdw[s], fdw[s], out=o)
        np.multiply(o, 1 - b2, out=o)
        np.multiply(fv[s], b2, out=out_v[s])
        np.add(out_v[s], o, out=out_v[s])               # v
        np.divide(out_v[s], correction2, out=o)
        np.sqrt(o, out=o)
        np.add(o, eps, out=o)                           # sqrt(v_hat) + eps
        np.divide(out_m[s], o, out=o)
        np.multiply(o, -lr / correction1, out=o)
        np.add(o, fw[s], out=o)
    return next_w, {**config, "m": next_m, "v": next_v, "t": t}


# name -> rule, for experiments and for the Solver's update_rule="name"
RULES = {"sgd": sgd, "sgd_momentum": sgd_momentum, "nesterov_momentum": nesterov_momentum,
         "adagrad": adagrad, "rmsprop": rmsprop, "adam": adam}
