"""Notebook 2 (linear classifiers): the pictures only this notebook draws.

- ``plot_linear_scores``: a linear classifier's regions on 2-D toy data, with each
  class's zero line and weight vector.
- ``plot_correct_score_sweep``: SVM and softmax loss (and slope) as the correct score rises.
- ``plot_ce_vs_mse``: cross-entropy vs squared error for two classes.
- ``templates``: the columns of a trained W as images (for ``assignments.vis.image_grid``).

Loss curves are drawn by ``assignments.monitor.plot_losses``, decision regions by
``assignments.vis.plot_decision_regions``.
"""

from __future__ import annotations

import numpy as np

from .linear_classifiers import scores_loss

__all__ = ["plot_linear_scores", "plot_correct_score_sweep", "plot_ce_vs_mse", "templates"]


def plot_linear_scores(W, X, y, ax=None, title="regions of a linear classifier"):
    """Toy data, the argmax regions of scores [x, 1] @ W, and each class's zero line.

    W has shape (3, 3): rows are (x1, x2, bias), columns are classes.  For
    every class the dashed line is where its score is 0 and the arrow (the
    weight vector) points to where the score grows.
    """
    import matplotlib.pyplot as plt

    from ..vis import draw_decision_regions

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    draw_decision_regions(lambda P: np.argmax(np.column_stack([P, np.ones(len(P))]) @ W, axis=1),
                          X, y, ax=ax, resolution=300, pad=1.0, legend=False)
    ax.set_aspect("equal")
    ax.set_title(title)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    t = np.linspace(x0, x1, 2)
    for c in range(W.shape[1]):
        w1, w2, b = W[:, c]
        colour = f"C{c}"
        if abs(w2) > 1e-12:
            ax.plot(t, -(w1 * t + b) / w2, ls="--", color=colour, lw=1.5)
        else:
            ax.axvline(-b / w1, ls="--", color=colour, lw=1.5)
        # the point of the zero line nearest the origin, and the weight direction
        base = -b * np.array([w1, w2]) / (w1 * w1 + w2 * w2)
        step = np.array([w1, w2]) / np.hypot(w1, w2)
        ax.annotate("", xy=base + step, xytext=base,
                    arrowprops=dict(arrowstyle="->", color=colour, lw=2))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_correct_score_sweep(losses: dict, other_scores, correct_range=(-4.0, 6.0)):
    """Loss and its slope as the correct class's score rises, other scores fixed.

    ``losses`` maps a name to ``loss_fn(W, X, y, reg)``; class 0 is correct,
    ``other_scores`` are the scores of the other classes.
    """
    import matplotlib.pyplot as plt

    other = np.asarray(other_scores, dtype=np.float64)
    shown = ", ".join(f"{v:g}" for v in other)
    grid = np.linspace(*correct_range, 201)
    S = np.column_stack([grid, np.tile(other, (len(grid), 1))])
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for i, (name, fn) in enumerate(losses.items()):
        values, slopes = [], []
        for row in S:
            loss, dscores = scores_loss(fn, row, [0])
            values.append(loss)
            slopes.append(dscores[0, 0])
        axes[0].plot(grid, values, lw=2, color=f"C{i}", label=name)
        axes[1].plot(grid, slopes, lw=2, color=f"C{i}", label=name)
    for ax in axes:
        ax.axvline(other.max(), color="gray", ls=":", lw=1)
        ax.axvline(other.max() + 1, color="gray", ls="--", lw=1)
        ax.set_xlabel("score of the correct class")
        ax.legend()
    axes[0].set_ylabel("loss")
    axes[0].set_title(f"loss, the other scores fixed at ({shown})")
    axes[1].set_ylabel("d loss / d correct score")
    axes[1].set_title("slope: how hard training pushes the correct score up")
    fig.text(0.5, -0.02, "dotted: the best wrong score;  dashed: best wrong score + margin 1",
             ha="center", fontsize=9)
    fig.tight_layout()
    return fig


def plot_ce_vs_mse(gap_range=(-6.0, 6.0)):
    """Two classes: cross-entropy vs squared error of the probabilities, and their slopes.

    The x axis is the gap z = s_correct - s_other; the correct probability is
    p = 1 / (1 + exp(-z)).  Cross-entropy is -ln p, with slope -(1 - p);
    squared error is (1 - p)^2 + (1 - p)^2 = 2 (1 - p)^2, with slope
    -4 p (1 - p)^2, which vanishes when p -> 0: a confidently wrong
    classifier barely learns.
    """
    import matplotlib.pyplot as plt

    z = np.linspace(*gap_range, 241)
    p = 1.0 / (1.0 + np.exp(-z))
    ce, ce_slope = np.logaddexp(0.0, -z), -(1.0 - p)
    mse, mse_slope = 2.0 * (1.0 - p) ** 2, -4.0 * p * (1.0 - p) ** 2
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    axes[0].plot(z, ce, lw=2, label="cross-entropy  -ln p")
    axes[0].plot(z, mse, lw=2, label="squared error  2 (1 - p)^2")
    axes[1].plot(z, ce_slope, lw=2, label="cross-entropy")
    axes[1].plot(z, mse_slope, lw=2, label="squared error")
    for ax in axes:
        ax.axvline(0, color="gray", lw=0.8, ls=":")
        ax.set_xlabel("score gap  s_correct - s_other")
        ax.legend()
    axes[0].set_ylabel("loss")
    axes[0].set_title("loss of one example, two classes")
    axes[1].set_ylabel("d loss / d gap")
    axes[1].set_title("slope (what gradient descent sees)")
    axes[1].annotate("confidently wrong:\nsquared error barely pushes", xy=(-5, -4 * p[20] *
                     (1 - p[20]) ** 2), xytext=(-5.9, -0.5), fontsize=8,
                     arrowprops=dict(arrowstyle="->", lw=0.8))
    fig.tight_layout()
    return fig


def templates(W, image_shape, clip_percentile=99.0):
    """Weights (D + 1, C) with the bias in the last row -> images (C, *image_shape).

    Each template is clipped symmetrically at the given percentile of its
    absolute values, so that a few extreme pixels do not wash out the
    picture and a zero weight shows as mid-grey in ``image_grid``.
    """
    W = np.asarray(W, dtype=np.float64)
    D = int(np.prod(image_shape))
    if W.shape[0] != D + 1:
        raise ValueError(f"W has {W.shape[0]} rows; expected {D} pixels plus one bias row")
    T = W[:-1].T.reshape(W.shape[1], *image_shape)
    if clip_percentile is None:
        return T
    axes = tuple(range(1, T.ndim))
    q = np.percentile(np.abs(T), clip_percentile, axis=axes, keepdims=True)
    return np.clip(T, -q, q)
