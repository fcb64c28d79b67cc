"""Small 2-D (and low-dimensional) toy datasets, generated from a passed Generator."""

from __future__ import annotations

import numpy as np

__all__ = ["make_spiral", "make_clusters", "make_gaussian_mixture"]


def make_clusters(num_per_class, rng, spread=0.8):
    """Three Gaussian clusters in the plane: X (3 * num_per_class, 2), y in {0, 1, 2}."""
    angles = np.deg2rad([90.0, 210.0, 330.0])
    centres = 2.0 * np.column_stack([np.cos(angles), np.sin(angles)]) + np.array([1.0, 0.5])
    X = np.concatenate([c + spread * rng.standard_normal((num_per_class, 2)) for c in centres])
    y = np.repeat(np.arange(3), num_per_class)
    order = rng.permutation(len(y))
    return X[order], y[order]


def make_spiral(num_per_class, num_classes, rng, noise=0.2):
    """A 2-D toy dataset of interleaved spiral arms, one arm per class.

    Returns X (num_per_class * num_classes, 2) and integer labels y.  No
    straight line separates two arms, so a linear classifier fails on it.
    """
    X, y = [], []
    for c in range(num_classes):
        r = np.linspace(0.05, 1.0, num_per_class)
        theta = np.linspace(c * 2 * np.pi / num_classes, c * 2 * np.pi / num_classes + 4.0,
                            num_per_class) + noise * rng.standard_normal(num_per_class)
        X.append(np.column_stack([r * np.sin(theta), r * np.cos(theta)]))
        y.append(np.full(num_per_class, c))
    return np.concatenate(X), np.concatenate(y)


def make_gaussian_mixture(num, dim, rng, separation=1.0, cov=None):
    """Two Gaussian classes in ``dim`` dimensions with one shared covariance.

    Class 0 is centred at the origin and class 1 at ``separation`` in every
    coordinate, so the means are ``separation`` apart along each axis (and
    ``separation * sqrt(dim)`` apart in all).  ``cov`` is the shared
    covariance matrix (dim, dim), default the identity.  Half of the points
    (rounded down) belong to class 0.  The points come in a random order.

    Returns X (num, dim) float64 and integer labels y (num,) in {0, 1}.
    """
    num, dim = int(num), int(dim)
    if num < 2 or dim < 1:
        raise ValueError(f"make_gaussian_mixture needs num >= 2 and dim >= 1, got {num}, {dim}")
    factor = np.eye(dim) if cov is None else np.linalg.cholesky(np.asarray(cov, dtype=float))
    if factor.shape != (dim, dim):
        raise ValueError(f"cov must have shape ({dim}, {dim}), got {np.shape(cov)}")
    y = np.repeat([0, 1], [num // 2, num - num // 2])
    X = rng.standard_normal((num, dim)) @ factor.T + separation * y[:, None]
    order = rng.permutation(num)
    return X[order], y[order]
