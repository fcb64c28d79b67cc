"""Statistical checks whose false-failure probability is computed, never hoped for.

The course's rule for every randomized check (README, "Adding a notebook"):
a correct implementation must fail it with probability below
``MAX_FALSE_FAILURE`` = 1e-9, on any seed.  Where the task fixes the draw
order (``init_weights`` draws ``rng.standard_normal((fan_in, fan_out))``),
compare exactly with the reference drawn from the same Generator state
instead.  Where it does not, use the checks below: each one computes a
rigorous upper bound of its false-failure probability from the sample size
and refuses (``ValueError``, a bug of the test, not of the student) to run
with a sample too small for the bound.

Bounds used (Chernoff bounds, valid for every n):

- sample standard deviation of n i.i.d. normals with std sigma, mean removed:
  n s^2 / sigma^2 ~ chi^2 with k = n - 1 degrees of freedom, and
  P(chi^2_k >= (1 + d) k) <= exp(-k/2 (d - ln(1 + d))),
  P(chi^2_k <= (1 - d) k) <= exp(-k/2 (-d - ln(1 - d)));
- sample mean of n normals: P(|mean| >= t sigma) <= 2 exp(-n t^2 / 2);
- a binomial count of n trials with probability p (e.g. dropout's kept
  units): P(|X/n - p| >= e) <= 2 exp(-2 n e^2) (Hoeffding).
"""

from __future__ import annotations

import math

import numpy as np

from .cases import CheckFailed

__all__ = ["MAX_FALSE_FAILURE", "std_bound", "mean_bound", "binomial_bound", "verify_gaussian",
           "verify_model_init",
           "verify_fraction"]

MAX_FALSE_FAILURE = 1e-9


def std_bound(n: int, rel: float) -> float:
    """Upper bound of P(sample std outside [(1 - rel) sigma, (1 + rel) sigma]), n normals."""
    k = n - 1
    if k < 1:
        return 1.0
    # s >= (1 + rel) sigma  <=>  chi2_k >= n (1 + rel)^2 >= k (1 + hi) with hi below;
    # s <= (1 - rel) sigma  <=>  chi2_k <= n (1 - rel)^2 = k (1 - lo) with lo below.
    hi = (1 + rel) ** 2 - 1
    lo = 1 - n / k * (1 - rel) ** 2
    p_hi = math.exp(-k / 2 * (hi - math.log1p(hi)))
    p_lo = math.exp(-k / 2 * (-lo - math.log1p(-lo))) if 0 < lo < 1 else 1.0
    return min(1.0, p_hi + p_lo)


def mean_bound(n: int, t: float) -> float:
    """Upper bound of P(|sample mean| >= t sigma) for n normals of mean 0."""
    return min(1.0, 2 * math.exp(-n * t * t / 2))


def binomial_bound(n: int, eps: float) -> float:
    """Upper bound of P(|fraction - p| >= eps) for n independent trials (Hoeffding)."""
    return min(1.0, 2 * math.exp(-2 * n * eps * eps))


def _require(bound: float, what: str) -> None:
    if bound > MAX_FALSE_FAILURE:
        raise ValueError(f"{what}: a correct answer would fail with probability up to "
                         f"{bound:.1e} > {MAX_FALSE_FAILURE:g}; use a larger sample")


def verify_gaussian(w, std, name="weights", setting="", rel=0.2, mean_tol=0.35) -> float:
    """Check that ``w`` looks like i.i.d. normal draws of mean 0 and standard deviation ``std``.

    Fails (CheckFailed) if the sample std is off by more than ``rel`` or the
    mean exceeds ``mean_tol * std``.  Returns the bound of the false-failure
    probability (std and mean together), after making sure it is below
    ``MAX_FALSE_FAILURE`` for this size.
    """
    w = np.asarray(w, dtype=np.float64)
    n = w.size
    bound = std_bound(n, rel) + mean_bound(n, mean_tol)
    _require(bound, f"verify_gaussian on {n} numbers")
    where = f" with {setting}" if setting else ""
    s = float(np.std(w))
    if not (1 - rel) * std <= s <= (1 + rel) * std:
        raise CheckFailed(f"{name} has standard deviation {s:.3g}; {where.strip() or 'it'} "
                          f"should give about {std:.3g} (drawn from a normal distribution)")
    m = float(np.mean(w))
    if abs(m) > mean_tol * std:
        raise CheckFailed(f"{name} has mean {m:.3g}; draw it from a normal distribution "
                          "centred at 0")
    return bound


def verify_fraction(count: int, n: int, p: float, eps: float, what: str) -> float:
    """Check that ``count`` successes of ``n`` trials fit the probability ``p`` within eps."""
    bound = binomial_bound(n, eps)
    _require(bound, f"verify_fraction on {n} trials")
    if abs(count / n - p) >= eps:
        raise CheckFailed(f"{what}: {count} of {n} ({count / n:.3f}), expected about {p:.3g}")
    return bound


def verify_model_init(out, shapes: dict, stds: dict, settings: dict) -> None:
    """Judge a model's initial parameters from three constructions, the output of
    ``assignments.adapters.model_init`` with seeds (s, s, s + 1): ``(first, again, other)``,
    each ``(params, ...)``.

    Every name of ``shapes`` must be a float array of that shape; the names of ``stds``
    (the weights) must look like Gaussian draws of that std (``settings[name]`` says where
    the std comes from, for the message), the same seed must give the same weights and
    another seed others; every other name (a bias) must start at zero.
    """
    (first, _), (again, _), (other, _) = out
    missing = sorted(set(shapes) - set(first))
    if missing:
        raise CheckFailed(f"params has no entr{'y' if len(missing) == 1 else 'ies'} "
                          f"{missing}; it must hold {', '.join(shapes)}")
    for name, shape in shapes.items():
        p = first[name]
        if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
            raise CheckFailed(f"params[{name!r}] must be a float array, got "
                              f"{type(p).__name__} {getattr(p, 'dtype', '')}")
        if p.shape != shape:
            raise CheckFailed(f"params[{name!r}] must have shape {shape}, got {p.shape}")
    for name in shapes:
        if name not in stds and np.any(first[name] != 0):
            raise CheckFailed(f"params[{name!r}] must start at zero")
    for name, std in stds.items():
        verify_gaussian(first[name], std, f"params[{name!r}]", settings[name])
        if not np.array_equal(first[name], again[name]):
            raise CheckFailed(f"two networks built with generators of the same seed have "
                              f"different {name}: draw every random number from `rng`")
        if np.array_equal(first[name], other[name]):
            raise CheckFailed(f"networks built with different seeds have the same {name}: "
                              "draw the weights from `rng`")
