"""Preprocessing helpers shared by every notebook.

All random choices come from a ``numpy.random.Generator`` passed as ``rng``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "flatten",
    "subsample",
    "train_val_split",
    "subtract_mean",
    "append_bias",
    "prepare_data",
]


def _check_xy(X, y):
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim < 1 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must hold the same number of examples: X has shape {X.shape}, "
            f"y has shape {y.shape} (y must be 1-D)"
        )
    return X, y


def flatten(X, dtype=np.float64):
    """Reshape images (N, C, H, W) to rows (N, C*H*W) of the given dtype."""
    X = np.asarray(X)
    return X.reshape(X.shape[0], -1).astype(dtype)


def subsample(X, y, num, rng, stratified=True):
    """Pick ``num`` examples without replacement.

    With ``stratified=True`` every class keeps (as nearly as possible) its
    share of the data, so a small subset is not missing a class.  The order
    of the result is shuffled.
    """
    X, y = _check_xy(X, y)
    if not 0 < num <= len(y):
        raise ValueError(f"cannot pick {num} examples out of {len(y)}")
    if not stratified:
        idx = rng.permutation(len(y))[:num]
        return X[idx], y[idx]
    classes, counts = np.unique(y, return_counts=True)
    share = counts / counts.sum() * num
    take = np.floor(share).astype(int)
    # hand out the remaining examples to the classes with the largest remainders
    for i in np.argsort(-(share - take), kind="stable")[: num - take.sum()]:
        take[i] += 1
    idx = np.concatenate([
        rng.permutation(np.flatnonzero(y == c))[:t] for c, t in zip(classes, take)
    ])
    idx = rng.permutation(idx)
    return X[idx], y[idx]


def train_val_split(X, y, num_val, rng):
    """Split off ``num_val`` random examples as a validation set.

    Returns ``X_train, y_train, X_val, y_val``.
    """
    X, y = _check_xy(X, y)
    if not 0 < num_val < len(y):
        raise ValueError(f"num_val must lie between 1 and {len(y) - 1}, got {num_val}")
    perm = rng.permutation(len(y))
    val, train = perm[:num_val], perm[num_val:]
    return X[train], y[train], X[val], y[val]


def subtract_mean(X_train, *others):
    """Center data by the mean image of the training set.

    Returns ``mean_image, X_train_centered, *others_centered``; the mean is
    always taken over the training set only, never over validation or test.
    """
    X_train = np.asarray(X_train, dtype=np.float64)
    mean_image = X_train.mean(axis=0)
    centered = [X_train - mean_image]
    for X in others:
        X = np.asarray(X, dtype=np.float64)
        if X.shape[1:] != mean_image.shape:
            raise ValueError(f"cannot subtract a mean of shape {mean_image.shape} from "
                             f"examples of shape {X.shape[1:]}")
        centered.append(X - mean_image)
    return (mean_image, *centered)


def append_bias(X):
    """The bias trick: add a constant-1 feature so that W x + b becomes W' x'.

    (N, D) -> (N, D + 1), the ones in the last column.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"append_bias expects rows of features (N, D), got shape {X.shape}")
    return np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])


def prepare_data(data, num_train, num_val, rng, num_test=None):
    """Split off a validation set, subsample, scale to [0, 1] and centre.

    Inputs:
    - data: an ``assignments.data.Dataset`` (images (N, C, H, W) uint8).
    - num_train: training images to keep (at most what is left after the split).
    - num_val: images held out of the training set for validation.
    - rng: numpy.random.Generator for the split and the subsample.
    - num_test: test images to keep (None: all), a stratified subsample.

    Returns a dict with X_train, y_train, X_val, y_val, X_test, y_test
    (images as float64 of shape (N, C, H, W), pixel / 255 minus the mean
    training image) and mean_image (C, H, W).  The mean comes from the
    training images only.
    """
    X_tr, y_tr, X_val, y_val = train_val_split(data.X_train, data.y_train, num_val, rng)
    if num_train < len(y_tr):
        X_tr, y_tr = subsample(X_tr, y_tr, num_train, rng)
    X_te, y_te = data.X_test, data.y_test
    if num_test is not None and num_test < len(y_te):
        X_te, y_te = subsample(X_te, y_te, num_test, rng)
    X_tr = X_tr.astype(np.float64) / 255.0
    mean_image = X_tr.mean(axis=0)
    return {
        "X_train": X_tr - mean_image, "y_train": y_tr,
        "X_val": X_val.astype(np.float64) / 255.0 - mean_image, "y_val": y_val,
        "X_test": X_te.astype(np.float64) / 255.0 - mean_image, "y_test": y_te,
        "mean_image": mean_image,
    }
