"""Learning-rate schedules: the factor applied to the learning rate at iteration t.

    solver = Solver(model, data, rng=rng, update_rule="sgd_momentum",
                    optim_config={"learning_rate": 0.05},
                    lr_schedule=step_decay(every=5 * iterations_per_epoch, factor=0.5))

A schedule is a function of the iteration ``t`` (counted from 0) returning
a positive factor, 1 at t = 0; the ``Solver`` multiplies the configured
learning rate by it.  Each one here is a small frozen dataclass, so it
prints its settings and can be compared, pickled and stored in a dict of
experiments.

| schedule                     | factor at iteration t                                |
|------------------------------|------------------------------------------------------|
| ``constant()``               | 1                                                    |
| ``step_decay(every, factor)``| factor ** (t // every)                               |
| ``exponential_decay(k)``     | exp(-k t)                                            |
| ``inverse_time_decay(k)``    | 1 / (1 + k t)                                        |
| ``cosine_decay(total, floor)``| floor + (1 - floor) (1 + cos(pi min(t, total) / total)) / 2 |

``factors(schedule, num_iterations)`` evaluates one for plotting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["constant", "step_decay", "exponential_decay", "inverse_time_decay", "cosine_decay",
           "factors"]


def _check_t(t):
    if t < 0:
        raise ValueError(f"the iteration t counts from 0, got {t}")
    return t


@dataclass(frozen=True)
class constant:  # noqa: N801 - used like a function: constant()
    """The learning rate as configured, at every iteration."""

    def __call__(self, t) -> float:
        _check_t(t)
        return 1.0


@dataclass(frozen=True)
class step_decay:  # noqa: N801
    """Multiply the learning rate by ``factor`` every ``every`` iterations."""

    every: int
    factor: float = 0.5

    def __post_init__(self):
        if int(self.every) < 1 or not 0 < self.factor <= 1:
            raise ValueError(f"step_decay needs every >= 1 and 0 < factor <= 1, got "
                             f"every={self.every}, factor={self.factor}")

    def __call__(self, t) -> float:
        return float(self.factor ** (_check_t(t) // int(self.every)))


@dataclass(frozen=True)
class exponential_decay:  # noqa: N801
    """exp(-k t): the learning rate shrinks by the same fraction every iteration."""

    k: float

    def __post_init__(self):
        if self.k < 0:
            raise ValueError(f"exponential_decay needs k >= 0, got {self.k}")

    def __call__(self, t) -> float:
        return math.exp(-self.k * _check_t(t))


@dataclass(frozen=True)
class inverse_time_decay:  # noqa: N801
    """1 / (1 + k t): fast at first, then ever slower (the sum of the rates still diverges)."""

    k: float

    def __post_init__(self):
        if self.k < 0:
            raise ValueError(f"inverse_time_decay needs k >= 0, got {self.k}")

    def __call__(self, t) -> float:
        return 1.0 / (1.0 + self.k * _check_t(t))


@dataclass(frozen=True)
class cosine_decay:  # noqa: N801
    """Half a cosine from 1 down to ``floor`` over ``total`` iterations, then ``floor``."""

    total: int
    floor: float = 0.0

    def __post_init__(self):
        if int(self.total) < 1 or not 0 <= self.floor <= 1:
            raise ValueError(f"cosine_decay needs total >= 1 and 0 <= floor <= 1, got "
                             f"total={self.total}, floor={self.floor}")

    def __call__(self, t) -> float:
        x = min(_check_t(t), int(self.total)) / int(self.total)
        return self.floor + (1.0 - self.floor) * 0.5 * (1.0 + math.cos(math.pi * x))


def factors(schedule, num_iterations) -> np.ndarray:
    """The schedule's factor at iterations 0 .. num_iterations - 1."""
    return np.array([schedule(t) for t in range(int(num_iterations))], dtype=np.float64)
