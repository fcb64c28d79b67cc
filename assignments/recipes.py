"""Grader recipes: how a student's chosen hyperparameters are judged, written once.

A "tuned model" task asks for hyperparameters (a dict the student fills in
after a search).  The grader does not trust accuracies printed in the
notebook: it trains the course's *reference* model with those values on a
fixed split of the bundled data, under caps that keep grading fast, and
requires a validation-accuracy floor.  The notebook prints the same recipe,
so the student knows exactly what will be run; both import it from here.

    RECIPE = Recipe(
        name="two-layer net",
        space={"hidden_dim": Param("int", low=1), "learning_rate": Param("float", low=0,
               open_low=True), ...},
        prepare=grader_split(4000, 1000),
        caps={"hidden_dim": 64, "num_epochs": 8}, fixed={"batch_size": 100},
        min_val_acc=0.75, seed=2026)
    acc = RECIPE.validation_accuracy(hp, train)   # train(settings, data) -> val accuracy

Training is deterministic, so each (recipe, settings) is trained once per
process and remembered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .cases import Case, CheckFailed

__all__ = ["Param", "Recipe", "grader_split", "hyperparameter_problems"]


def grader_split(num_train, num_val, num_test=10):
    """A Recipe's ``prepare``: ``assignments.data.prepare_data`` with these sizes, a
    fixed split of the bundled data small enough to train on while grading."""
    def prepare(data, rng):
        from .data import prepare_data

        return prepare_data(data, num_train, num_val, rng, num_test=num_test)
    return prepare


@dataclass(frozen=True)
class Param:
    """One hyperparameter: "int", "float" or "choice", with optional bounds (inclusive
    unless open_low) or choices."""

    kind: str
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    choices: tuple = ()

    def problem(self, key, value) -> str | None:
        if self.kind == "choice":
            return None if value in self.choices else (
                f"{key} must be one of {list(self.choices)}, got {value!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            return f"{key} must be a number, got {value!r}"
        if not np.isfinite(value):
            return f"{key} must be finite, got {value!r}"
        if self.kind == "int" and int(value) != value:
            return f"{key} must be a whole number, got {value!r}"
        if self.low is not None and (value <= self.low if self.open_low else value < self.low):
            return f"{key} must be {'>' if self.open_low else '>='} {self.low:g}, got {value!r}"
        if self.high is not None and value > self.high:
            return f"{key} must be <= {self.high:g}, got {value!r}"
        return None


def hyperparameter_problems(hp, space: dict) -> list[str]:
    """What is wrong with a dict of hyperparameters (empty when it is usable)."""
    if not isinstance(hp, dict):
        return [f"expected a dict of hyperparameters, got {type(hp).__name__}"]
    missing = [k for k in space if k not in hp]
    if missing:
        return [f"the dict has no entr{'y' if len(missing) == 1 else 'ies'} "
                f"{', '.join(repr(k) for k in missing)}"]
    return [p for k, spec in space.items() if (p := spec.problem(k, hp[k]))]


def _callable_key(fn):
    """A stable identity for a trainer, also for functools.partial(train, cls)."""
    if hasattr(fn, "func"):
        return (_callable_key(fn.func), tuple(id(a) for a in fn.args),
                tuple(sorted((k, id(v)) for k, v in fn.keywords.items())))
    return (getattr(fn, "__module__", ""), getattr(fn, "__qualname__", ""), id(fn))


_SPLITS: dict = {}
_TRAINED: dict = {}


@dataclass(frozen=True)
class Recipe:
    name: str
    space: dict
    prepare: Callable          # (dataset, rng) -> data dict with X_train, y_train, X_val, y_val
    min_val_acc: float
    caps: dict = field(default_factory=dict)    # key -> largest value the grader trains with
    fixed: dict = field(default_factory=dict)   # settings the notebook keeps fixed
    seed: int = 2026
    dataset: str = "fashion_mnist_small"

    def settings(self, hp: dict) -> dict:
        """The student's values, capped, plus the fixed settings: what the grader trains."""
        out = {k: hp[k] for k in self.space}
        for k, cap in self.caps.items():
            out[k] = type(cap)(min(out[k], cap))
        return {**out, **self.fixed}

    def data(self) -> dict:
        if self.name not in _SPLITS:
            from .data import load_dataset

            _SPLITS[self.name] = self.prepare(load_dataset(self.dataset),
                                              np.random.default_rng(self.seed))
        return _SPLITS[self.name]

    def validation_accuracy(self, hp: dict, train: Callable) -> float:
        settings = self.settings(hp)
        key = (self.name, _callable_key(train),
               tuple(sorted((k, repr(v)) for k, v in settings.items())))
        if key not in _TRAINED:
            with np.errstate(all="ignore"):
                _TRAINED[key] = float(train(settings, self.data()))
        return _TRAINED[key]

    def describe(self) -> str:
        caps = ", ".join(f"{k} at most {v:g}" for k, v in self.caps.items())
        fixed = ", ".join(f"{k} = {v:g}" for k, v in self.fixed.items())
        return (f"{self.name}: the reference model is trained with your values"
                + (f" ({caps})" if caps else "") + (f", {fixed}" if fixed else "")
                + f" on a fixed split of {self.dataset}; it must reach validation accuracy "
                f">= {self.min_val_acc:g}")

    # ---- cases -----------------------------------------------------------
    def verify_format(self, out, case=None) -> None:
        problems = hyperparameter_problems(out, self.space)
        if problems:
            raise CheckFailed("; ".join(problems))

    def format_case(self, args=(), call=None, label=None) -> Case:
        """The visible case: the dict has every key, of the right kind and range."""
        return Case(label or f"the chosen hyperparameters ({', '.join(self.space)})", args,
                    call=call, verify=self.verify_format)

    def floor_case(self, train: Callable, args=(), call=None) -> Case:
        """The hidden case: format, then the reference model trained with them clears the floor."""
        def verify(out, case):
            self.verify_format(out)
            acc = self.validation_accuracy(out, train)
            if not acc >= self.min_val_acc:
                raise CheckFailed(
                    f"the reference model trained with these hyperparameters (as the recipe "
                    f"says: {self.describe()}) reached validation accuracy {acc:.3f}, below "
                    f"the floor {self.min_val_acc:g}")
        return Case(f"accuracy floor: the reference model trained with your hyperparameters "
                    f"on {self.dataset}", args, call=call, verify=verify)
