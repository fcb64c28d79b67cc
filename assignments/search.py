"""Random hyperparameter search on the validation set.

    space = {"learning_rate": LogUniform(1e-4, 1e-1), "reg": LogUniform(1e-5, 1e-1)}
    result = random_search(evaluate, space, num_trials=20, rng=np.random.default_rng(0))
    result.best.params, result.best.score

``evaluate(**params)`` trains a model and returns its validation score (a
number) or a dict holding it under ``metric`` plus anything else worth
keeping.  It must never look at the test set: the search only sees what
``evaluate`` returns.  Random search beats a grid when only some of the
hyperparameters matter (each trial tries a new value of every one), and
scale-like hyperparameters are searched on a log scale.

When the best value of a parameter lies near the edge of its range, the
optimum may be outside the range; ``random_search`` then warns, so widen the
range and search again.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["LogUniform", "Uniform", "Choice", "IntUniform", "Trial", "SearchResult",
           "random_search", "plot_search", "EdgeWarning"]


class EdgeWarning(UserWarning):
    """The best trial sits at the edge of a searched range."""


@dataclass(frozen=True)
class LogUniform:
    """A value whose logarithm is uniform in [log low, log high]."""

    low: float
    high: float

    def __post_init__(self):
        if not 0 < self.low < self.high:
            raise ValueError(f"LogUniform needs 0 < low < high, got {self.low}, {self.high}")

    def sample(self, rng):
        return float(10 ** rng.uniform(math.log10(self.low), math.log10(self.high)))

    def position(self, value) -> float:
        """Where value lies in the range, 0 = low end, 1 = high end (log scale)."""
        return (math.log10(value) - math.log10(self.low)) / (
            math.log10(self.high) - math.log10(self.low))


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def sample(self, rng):
        return float(rng.uniform(self.low, self.high))

    def position(self, value) -> float:
        return (value - self.low) / (self.high - self.low)


@dataclass(frozen=True)
class IntUniform:
    """An integer uniform in [low, high] (both included)."""

    low: int
    high: int

    def sample(self, rng):
        return int(rng.integers(self.low, self.high + 1))

    def position(self, value) -> float:
        return (value - self.low) / max(1, self.high - self.low)


@dataclass(frozen=True)
class Choice:
    values: tuple

    def sample(self, rng):
        return self.values[int(rng.integers(len(self.values)))]

    def position(self, value):
        return None  # no notion of an edge


@dataclass
class Trial:
    params: dict
    score: float
    extra: dict = field(default_factory=dict)


@dataclass
class SearchResult:
    trials: list
    space: dict
    metric: str = "val_acc"

    @property
    def best(self) -> Trial:
        finite = [t for t in self.trials if np.isfinite(t.score)]
        if not finite:
            raise ValueError("no trial produced a finite score")
        return max(finite, key=lambda t: t.score)

    def edge_warnings(self, margin=0.1) -> list[str]:
        """Parameters whose best value lies within ``margin`` of an end of the range."""
        out = []
        best = self.best
        for name, dist in self.space.items():
            pos = dist.position(best.params[name])
            if pos is None:
                continue
            if pos <= margin or pos >= 1 - margin:
                end = "low" if pos <= margin else "high"
                out.append(f"best {name} = {best.params[name]:.3g} is at the {end} end of the "
                           f"searched range [{dist.low:.3g}, {dist.high:.3g}]; widen the range")
        return out

    def table(self, top=10) -> str:
        names = list(self.space)
        head = " ".join(f"{n:>14}" for n in names) + f" {self.metric:>10}"
        rows = [head]
        for t in sorted(self.trials, key=lambda t: -t.score if np.isfinite(t.score) else np.inf)[:top]:
            vals = " ".join(f"{t.params[n]:>14.3g}" if isinstance(t.params[n], float)
                            else f"{t.params[n]!s:>14}" for n in names)
            rows.append(f"{vals} {t.score:>10.4f}")
        return "\n".join(rows)


def random_search(evaluate: Callable, space: dict, num_trials: int, rng, metric="val_acc",
                  progress=True, warn=True) -> SearchResult:
    """Try ``num_trials`` random settings from ``space``; returns every trial.

    A trial whose evaluation diverges (nan or inf score) is kept with score
    -inf rather than stopping the search.
    """
    if rng is None or not hasattr(rng, "uniform"):
        raise TypeError("random_search needs rng=np.random.default_rng(seed)")
    from tqdm.auto import tqdm

    trials = []
    bar = tqdm(range(num_trials), desc="search", disable=not progress, leave=False)
    for _ in bar:
        params = {name: dist.sample(rng) for name, dist in space.items()}
        result = evaluate(**params)
        if isinstance(result, dict):
            if metric not in result:
                raise KeyError(f"evaluate returned a dict without {metric!r}: {sorted(result)}")
            score, extra = float(result[metric]), {k: v for k, v in result.items() if k != metric}
        else:
            score, extra = float(result), {}
        if not np.isfinite(score):
            score = -np.inf
        trials.append(Trial(params, score, extra))
        bar.set_postfix(best=max(t.score for t in trials))
    found = SearchResult(trials, dict(space), metric)
    if warn and any(np.isfinite(t.score) for t in trials):  # all diverged: still return them
        for message in found.edge_warnings():
            warnings.warn(message, EdgeWarning, stacklevel=2)
    return found


def plot_search(result: SearchResult, x: str, y: str, ax=None):
    """Scatter of two searched parameters (log axes when log-uniform), coloured by score."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    xs = np.array([t.params[x] for t in result.trials], dtype=float)
    ys = np.array([t.params[y] for t in result.trials], dtype=float)
    scores = np.array([t.score for t in result.trials], dtype=float)
    ok = np.isfinite(scores)
    # colour the better three quarters of the trials; a few terrible (or
    # diverged) runs would otherwise squash every good one into one colour
    vmin = float(np.percentile(scores[ok], 25)) if ok.sum() > 3 else None
    sc = ax.scatter(xs[ok], ys[ok], c=scores[ok], cmap="viridis", s=60, edgecolors="k",
                    vmin=vmin)
    if (~ok).any():
        ax.scatter(xs[~ok], ys[~ok], marker="x", color="red", label="diverged")
        ax.legend()
    best = result.best
    ax.scatter([best.params[x]], [best.params[y]], marker="*", s=300, color="red",
               edgecolors="k", label="best", zorder=3)
    from .vis import readable_log_axis

    for which, name, values in (("x", x, xs), ("y", y, ys)):
        log = isinstance(result.space.get(name), LogUniform)
        # a margin of 10 % on each side, so no marker (the best trial's star often sits
        # at the edge of the sampled values) is cut by the frame
        v = np.log10(values) if log else values
        lo, hi = float(v.min()), float(v.max())
        pad = 0.1 * (hi - lo) if hi > lo else 0.5
        lo, hi = lo - pad, hi + pad
        if log:
            getattr(ax, f"set_{which}scale")("log")
            lo, hi = 10 ** lo, 10 ** hi
        getattr(ax, f"set_{which}lim")(lo, hi)
        if log:
            readable_log_axis(ax, which)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.figure.colorbar(sc, ax=ax, label=result.metric, extend="min" if vmin is not None else "neither")
    ax.set_title(f"random search: {len(result.trials)} trials, best {result.metric} "
                 f"{best.score:.3f}")
    return ax
