"""Measures of a classifier's predictions (one home, used by every notebook)."""

from __future__ import annotations

import numpy as np

__all__ = ["accuracy", "confusion_matrix"]


def accuracy(y_pred, y_true) -> float:
    """Fraction of predictions equal to the true labels."""
    y_pred, y_true = np.asarray(y_pred), np.asarray(y_true)
    if y_pred.shape != y_true.shape:
        raise ValueError(f"y_pred has shape {y_pred.shape} but y_true has shape {y_true.shape}")
    return float(np.mean(y_pred == y_true))


def confusion_matrix(y_true, y_pred, num_classes):
    """counts[i, j] = number of examples of class i predicted as class j."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    for which, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            # a negative label would silently be counted in the last row / column
            raise ValueError(f"{which} holds labels from {labels.min()} to {labels.max()}; "
                             f"they must lie in 0..{num_classes - 1}")
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts
