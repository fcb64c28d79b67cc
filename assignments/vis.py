"""Pictures every notebook uses: image grids and confusion matrices.

Images are always (N, C, H, W), grayscale (C = 1) or colour (C = 3), of any
dtype; float images (weights, mean-subtracted data) are rescaled to [0, 1]
one image at a time so each shows its full contrast.
"""

from __future__ import annotations

import numpy as np

from .metrics import confusion_matrix

__all__ = ["to_displayable", "image_grid", "class_samples", "plot_confusion_matrix",
           "draw_decision_regions", "plot_decision_regions", "readable_log_axis",
           "legend_below"]


def to_displayable(X):
    """(N, C, H, W) -> (N, H, W) or (N, H, W, 3) floats in [0, 1]."""
    X = np.asarray(X)
    if X.ndim != 4 or X.shape[1] not in (1, 3):
        raise ValueError(f"images must have shape (N, C, H, W) with C = 1 or 3, got {X.shape}")
    X = X.astype(np.float64)
    lo = X.min(axis=(1, 2, 3), keepdims=True)
    hi = X.max(axis=(1, 2, 3), keepdims=True)
    X = (X - lo) / np.maximum(hi - lo, 1e-12)
    X = np.transpose(X, (0, 2, 3, 1))
    return X[..., 0] if X.shape[-1] == 1 else X


def legend_below(fig, axes=None, ncol=None, fontsize=8):
    """One legend for the whole figure, below its panels, where it covers no data.

    Collects the labelled lines, bars and markers of ``axes`` (default: every
    panel of ``fig``; a label seen twice is kept once) and removes every
    panel's own legend.  Call it after ``fig.tight_layout()``; the notebooks' inline
    figures are saved with a tight bounding box, which keeps the legend.
    """
    handles, labels = [], []
    for ax in (fig.axes if axes is None else axes):
        for h, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    for ax in fig.axes:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    if not handles:
        return None
    ncol = ncol or min(len(labels), 6)
    return fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                      ncol=ncol, fontsize=fontsize, frameon=False)


def image_grid(X, titles=None, ncols=10, ax_size=1.2, suptitle=None):
    """Show a batch of images on a grid; returns the matplotlib figure.

    Each row gets room for its titles' lines, so a title of two lines does not
    run into the images of the row above.
    """
    import matplotlib.pyplot as plt

    imgs = to_displayable(X)
    n = len(imgs)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    title_lines = 0 if titles is None else max((str(t).count("\n") + 1 for t in titles), default=0)
    row_height = ax_size * 1.05 + 0.16 * title_lines
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * ax_size, nrows * row_height),
                             squeeze=False, layout="constrained")
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(imgs[i], cmap="gray" if imgs.ndim == 3 else None, interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def class_samples(X, y, classes, per_class, rng, ax_size=1.0):
    """A grid with one row per class holding ``per_class`` random examples."""
    import matplotlib.pyplot as plt

    X, y = np.asarray(X), np.asarray(y)
    fig, axes = plt.subplots(len(classes), per_class, squeeze=False,
                             figsize=(per_class * ax_size + 1.5, len(classes) * ax_size))
    for c, row in enumerate(axes):
        idx = np.flatnonzero(y == c)
        chosen = rng.choice(idx, size=min(per_class, len(idx)), replace=False) if len(idx) else []
        imgs = to_displayable(X[chosen]) if len(chosen) else []
        for j, ax in enumerate(row):
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j < len(imgs):
                ax.imshow(imgs[j], cmap="gray" if np.ndim(imgs[j]) == 2 else None)
        row[0].set_ylabel(classes[c], rotation=0, ha="right", va="center", fontsize=9)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(y_true, y_pred, classes, ax=None, normalize=True):
    """Heat map of the confusion matrix, rows = true class, each cell annotated.

    The numbers are sized to the cells (up to 10 points), so they stay legible
    at the notebooks' 80 dpi in a figure of its own or in a panel of two.
    """
    import matplotlib.pyplot as plt

    n = len(classes)
    counts = confusion_matrix(y_true, y_pred, n)
    shown = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    if ax is None:
        _, ax = plt.subplots(figsize=(0.75 * n + 2.5, 0.75 * n + 1.8))
    im = ax.imshow(shown, cmap="Blues", vmin=0)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n), classes, rotation=45, ha="right", fontsize=9)
    ax.set_yticks(range(n), classes, fontsize=9)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    cell_points = 72 * ax.get_position().width * ax.figure.get_figwidth() / max(n, 1)
    size = float(np.clip(0.3 * cell_points, 6, 10))
    top = shown.max() if shown.size else 1
    for i in range(n):
        for j in range(n):
            text = f"{shown[i, j]:.2f}" if normalize else str(shown[i, j])
            zero = shown[i, j] == 0
            ax.text(j, i, text, ha="center", va="center", fontsize=size,
                    color="white" if shown[i, j] > 0.6 * top else ("0.6" if zero else "black"))
    acc = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"confusion matrix (accuracy {acc:.3f})")
    return ax


def draw_decision_regions(predict, X, y, ax=None, resolution=200, pad=0.5, legend=True):
    """2-D points coloured by class over the regions ``predict(points) -> labels`` assigns.

    Class c is drawn in matplotlib's colour "C{c}" everywhere (regions, their
    boundaries in black, the points), so several panels compare directly.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision regions need 2-D points of shape (N, 2), got {X.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.6))
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    regions = np.asarray(predict(np.column_stack([gx.ravel(), gy.ravel()]))).reshape(gx.shape)
    num_classes = int(max(y.max(), regions.max())) + 1
    colours = [f"C{c}" for c in range(num_classes)]
    levels = np.arange(num_classes + 1) - 0.5
    ax.contourf(gx, gy, regions, levels=levels, cmap=ListedColormap(colours), alpha=0.2)
    ax.contour(gx, gy, regions, levels=levels[1:-1], colors="k", linewidths=0.8)
    for c in range(num_classes):
        if np.any(y == c):
            ax.scatter(*X[y == c].T, s=14, color=colours[c], edgecolors="k", linewidths=0.3,
                       label=f"class {c}")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    if legend:
        ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_decision_regions(predictors: dict, X, y, suptitle=None, resolution=200, pad=0.5,
                          ncols=4, panel_size=(4.2, 4.0)):
    """One panel per classifier over the same 2-D points, titled with its accuracy on them.

    ``predictors`` maps a title to ``predict(points (M, 2)) -> labels (M,)``; for a
    model of the course use ``lambda P: predict(model, P)`` (``assignments.solver``).
    Returns the figure.
    """
    import matplotlib.pyplot as plt

    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    n = len(predictors)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols,
                                                    panel_size[1] * nrows), squeeze=False)
    for ax, (title, predict) in zip(axes.ravel(), predictors.items()):
        draw_decision_regions(predict, X, y, ax=ax, resolution=resolution, pad=pad, legend=False)
        acc = float(np.mean(np.asarray(predict(X)) == y))
        ax.set_title(f"{title}\naccuracy {acc:.2f} on these points", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    axes[0][0].legend(*axes[0][0].get_legend_handles_labels(), loc="lower right", fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def readable_log_axis(ax, which="x"):
    """Tick labels that never overlap on a log axis of ``ax`` (``which`` is "x" or "y").

    Over two decades or more only the powers of ten are labelled; over less, the
    steps 1, 2, 5 (or every digit over less than half a decade), written as plain
    numbers.  Minor ticks stay, unlabelled.
    """
    from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, LogLocator, NullFormatter

    lo, hi = ax.get_xlim() if which == "x" else ax.get_ylim()
    axis = ax.xaxis if which == "x" else ax.yaxis
    if not (0 < lo < hi):
        return
    decades = np.log10(hi / lo)
    if decades >= 2:
        axis.set_major_locator(LogLocator(base=10.0, numticks=8))
        axis.set_major_formatter(LogFormatterSciNotation())
    else:
        subs = (1.0, 2.0, 5.0) if decades >= 0.5 else tuple(float(d) for d in range(1, 10))
        axis.set_major_locator(LogLocator(base=10.0, subs=subs, numticks=12))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())
