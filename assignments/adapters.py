"""Adapters: run a student's model class on plain data, with the course's building blocks.

A check of a model must not fail because of a bug in a layer the student
wrote elsewhere (that bug costs the layer's own cell).  So while an adapter
runs, every name in the model's module (or notebook) that is also one of the
current *building blocks* points at the block; afterwards the names are put
back.  The blocks are the course's answers to the layers a model is made of:
the grader hands them to the graded call that checks a model (and nowhere
else), and `course release` uses them to compute the stored expected values
of the visible cases.  This package holds none: in a student's own notebook
there are no blocks, and a model runs with the student's own layers.

The adapters take and return plain data (arrays, numbers, dicts), so the
grader can call them in its sandbox and judge the result elsewhere:

    model_init(cls, args, kwargs, seeds)          -> one params dict (and state) per seed
    model_scores(cls, args, kwargs, params, X)    -> scores in test mode
    model_loss(cls, args, kwargs, params, X, y)   -> (loss, grads)
    model_gradcheck(cls, args, kwargs, params, X, y) -> (loss, grads, numerical grads)

``args`` and ``kwargs`` build the model (``cls(*args, rng=..., **kwargs)``);
``params`` then replaces its parameters.
"""

from __future__ import annotations

import contextlib

import numpy as np

from .blocks import building_blocks, current_blocks
from .cases import CheckFailed
from .gradcheck import model_gradients
from .solver import call_loss

__all__ = ["building_blocks", "current_blocks", "library_building_blocks", "names_replaced",
           "looked_up", "model_init", "model_scores", "model_loss", "model_gradcheck",
           "plain_arrays"]


def _functions(obj) -> list:
    """The plain functions that make up a class (its methods, inherited ones too) or a function."""
    if isinstance(obj, type):
        out = []
        for klass in obj.__mro__:
            if klass is object:
                continue
            for value in vars(klass).values():
                value = getattr(value, "__func__", value)
                if callable(value) and hasattr(value, "__code__"):
                    out.append(value)
        return out
    return [obj] if hasattr(obj, "__code__") else []


def _names_used(code) -> set:
    """Global names a code object (and the code nested in it) may look up."""
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _names_used(const)
    return names


@contextlib.contextmanager
def names_replaced(obj, replacements: dict):
    """Within the block, every name of ``replacements`` that ``obj``'s code may look up (the
    methods of a class, or a function) points at its replacement, in the module or notebook
    that defines the code; afterwards every name is as it was."""
    targets = {}
    for f in _functions(obj):
        g = getattr(f, "__globals__", None)
        if isinstance(g, dict):
            entry = targets.setdefault(id(g), (g, set()))
            entry[1].update(n for n in _names_used(f.__code__) | set(g) if n in replacements)
    missing = object()
    saved = [(g, {k: g.get(k, missing) for k in names}) for g, names in targets.values()]
    try:
        for g, old in saved:
            g.update({k: replacements[k] for k in old})
        yield
    finally:
        for g, old in saved:
            for k, v in old.items():
                if v is missing:
                    g.pop(k, None)
                else:
                    g[k] = v


def looked_up(obj, name: str):
    """What ``name`` is where ``obj``'s code looks it up (the first of its functions whose
    module or notebook defines it), or None."""
    for f in _functions(obj):
        g = getattr(f, "__globals__", None)
        if isinstance(g, dict) and name in g:
            return g[name]
    return None


@contextlib.contextmanager
def library_building_blocks(obj, keep=()):
    """Within the block, the names that ``obj``'s code looks up and that are current building
    blocks (except the names in ``keep``, and ``obj`` itself) are the blocks, even where the
    student's notebook never defined them; afterwards every name is as it was."""
    keep = set(keep) | {getattr(obj, "__name__", "")}
    with names_replaced(obj, {k: v for k, v in current_blocks().items() if k not in keep}):
        yield


def plain_arrays(d, what="params") -> dict:
    """A copy of a dict of arrays, refusing anything else (so it can travel as data)."""
    if not isinstance(d, dict):
        raise CheckFailed(f"{what} must be a dict, got {type(d).__name__}")
    return {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v) for k, v in d.items()}


def _build(cls, args, kwargs, params=None, state=None, seed=0):
    model = cls(*args, rng=np.random.default_rng(seed), **kwargs)
    if params is not None:
        model.params = {k: np.array(v, copy=True) for k, v in params.items()}
    if state is not None:
        model.state = {k: np.array(v, copy=True) for k, v in state.items()}
    return model


def model_init(cls, args, kwargs, seeds):
    """Build ``cls`` once per seed; return [(params, state)] as plain data."""
    out = []
    with library_building_blocks(cls):
        for seed in seeds:
            model = _build(cls, args, kwargs, seed=seed)
            out.append((plain_arrays(model.params),
                        plain_arrays(getattr(model, "state", {}) or {}, "state")))
    return out


def model_scores(cls, args, kwargs, params, X, state=None, mode="test", seed=0):
    """Class scores of ``cls`` with the given params (and state) on X."""
    with library_building_blocks(cls):
        model = _build(cls, args, kwargs, params, state)
        scores = call_loss(model, X, mode=mode, rng=np.random.default_rng(seed))
    return scores


def model_loss(cls, args, kwargs, params, X, y, state=None, seed=0):
    """(loss, grads, next state) of ``cls`` in train mode, random layers seeded by ``seed``."""
    with library_building_blocks(cls):
        model = _build(cls, args, kwargs, params, state)
        out = call_loss(model, X, y, mode="train", rng=np.random.default_rng(seed))
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise CheckFailed("loss(X, y) must return a tuple (loss, grads)")
        loss, grads = out
        next_state = plain_arrays(getattr(model, "state", {}) or {}, "state")
    return loss, plain_arrays(grads, "grads"), next_state


def model_gradcheck(cls, args, kwargs, params, X, y, state=None, seed=0):
    """(loss, grads, numerical grads) of ``cls``: every gradient checked numerically."""
    with library_building_blocks(cls):
        model = _build(cls, args, kwargs, params, state)
        loss, grads, numeric = model_gradients(model, X, y, seed=seed)
    if not isinstance(grads, dict):
        raise CheckFailed(f"grads must be a dict keyed like params, got {type(grads).__name__}")
    return loss, plain_arrays(grads, "grads"), numeric
