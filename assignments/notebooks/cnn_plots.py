"""Notebook 6's own tables and pictures: sizes, parameter counts, memory, timings, maps.

Every function that draws also returns (or prints) the numbers it shows.
"""

from __future__ import annotations

import numpy as np

from ..convolution import conv_output_size
from ..monitor import line_style
from ..vis import legend_below, to_displayable

__all__ = ["output_size_rows", "plot_window_positions", "parameter_counts",
           "plot_parameter_counts", "layer_table", "format_layer_table", "plot_layer_memory",
           "plot_filter_responses", "plot_timings", "plot_normalization_groups",
           "plot_feature_maps", "plot_saliency", "plot_accuracy_curves"]


# --------------------------------------------------------------------------
# output sizes
# --------------------------------------------------------------------------

def output_size_rows(cases: dict) -> list:
    """(name, W, F, S, P, output size or the reason it does not tile) for each case.

    ``cases`` maps a name to (input size W, field F, stride S, padding P).
    """
    rows = []
    for name, (W, F, S, P) in cases.items():
        try:
            out = conv_output_size(W, F, S, P)
        except ValueError:
            out = f"({W} - {F} + 2*{P}) / {S} + 1 = {(W - F + 2 * P) / S + 1:g}: does not tile"
        rows.append((name, W, F, S, P, out))
    return rows


def plot_window_positions(cases: dict, max_cases=4):
    """One row per case: the padded 1-D input and every window position the layer visits."""
    import matplotlib.pyplot as plt

    items = list(cases.items())[:max_cases]
    fig, axes = plt.subplots(len(items), 1, figsize=(9, 1.25 * len(items)), squeeze=False)
    for ax, (name, (W, F, S, P)) in zip(axes[:, 0], items):
        total = W + 2 * P
        for k in range(total):
            pad = k < P or k >= P + W
            ax.add_patch(plt.Rectangle((k, 0), 0.95, 0.95, color="0.85" if pad else "C0",
                                       alpha=0.5 if pad else 0.8))
        start, row = 0, 0
        while start + F <= total:
            ax.add_patch(plt.Rectangle((start, 1.2 + 0.35 * row), F - 0.05, 0.25,
                                       color="C1", alpha=0.8))
            start, row = start + S, row + 1
        left = total - (start - S + F) if row else total
        title = f"{name}: W={W}, F={F}, S={S}, P={P}: {row} positions"
        if left:
            title += f", {left} input cell{'s' if left > 1 else ''} never covered"
        ax.set_title(title, fontsize=9, loc="left")
        ax.set_xlim(-0.5, total + 0.5)
        ax.set_ylim(-0.2, 1.4 + 0.35 * max(row, 1))
        ax.axis("off")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------
# parameter counts and memory
# --------------------------------------------------------------------------

def parameter_counts(input_shape, num_filters, filter_size, stride=1, pad=None):
    """Learnable numbers of three layers mapping the same input to the same output volume.

    input_shape (C, H, W); the output is (num_filters, H', W') for windows of
    filter_size with ``stride`` and ``pad`` (default: size-preserving).
    Returns {"fully connected": ..., "locally connected": ..., "convolution": ...}:
    a fully connected layer links every output number to every input number;
    a locally connected one only to its filter_size x filter_size x C window,
    with weights of its own at every position; a convolution shares one set of
    weights (and one bias) per filter among all positions.
    """
    C, H, W = input_shape
    pad = (filter_size - 1) // 2 if pad is None else pad
    outputs = (num_filters * conv_output_size(H, filter_size, stride, pad)
               * conv_output_size(W, filter_size, stride, pad))
    window = C * filter_size * filter_size
    return {"fully connected": outputs * (C * H * W + 1),
            "locally connected": outputs * (window + 1),
            "convolution": num_filters * (window + 1)}


def plot_parameter_counts(counts: dict, title=""):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 2.6))
    names = list(counts)
    ax.barh(names, [counts[k] for k in names], color=["C3", "C1", "C0"][:len(names)])
    ax.set_xscale("log")
    for i, k in enumerate(names):
        ax.text(counts[k], i, f" {counts[k]:,}", va="center", fontsize=9)
    ax.set_xlabel("learnable numbers (log scale)")
    ax.set_title(title)
    ax.set_xlim(right=max(counts.values()) * 30)
    fig.tight_layout()
    return fig


def layer_table(input_shape, layers):
    """Shapes, activations and parameters of a stack of layers, layer by layer.

    ``layers`` is a list of ("conv", F, size, stride, pad), ("pool", size, stride),
    ("fc", units).  Returns rows (name, output shape, activations, parameters),
    the input first.
    """
    shape = tuple(input_shape)
    rows = [("input", shape, int(np.prod(shape)), 0)]
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            _, F, size, stride, pad = layer
            C, H, W = shape
            shape = (F, conv_output_size(H, size, stride, pad),
                     conv_output_size(W, size, stride, pad))
            params = F * (C * size * size + 1)
            name = f"conv{size}-{F}"
        elif kind == "pool":
            _, size, stride = layer
            C, H, W = shape
            shape = (C, conv_output_size(H, size, stride), conv_output_size(W, size, stride))
            params = 0
            name = f"pool{size}"
        elif kind == "fc":
            units = layer[1]
            params = (int(np.prod(shape)) + 1) * units
            shape = (units,)
            name = f"fc-{units}"
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
        rows.append((name, shape, int(np.prod(shape)), params))
    return rows


def format_layer_table(rows, bytes_per_number=4, batch=1) -> str:
    """The table of ``layer_table`` as text, with totals and memory in MB."""
    lines = [f"{'layer':<10} {'output shape':<16} {'activations':>12} {'parameters':>12}"]
    for name, shape, acts, params in rows:
        lines.append(f"{name:<10} {str(shape):<16} {acts:>12,} {params:>12,}")
    acts = sum(r[2] for r in rows)
    params = sum(r[3] for r in rows)
    mb = 1024 * 1024
    lines.append(f"{'total':<10} {'':<16} {acts:>12,} {params:>12,}")
    lines.append(f"per image: activations {acts * bytes_per_number / mb:.2f} MB forward, about "
                 f"twice that with their gradients; parameters {params * bytes_per_number / mb:.2f}"
                 f" MB (x3 with Adam's two moments)")
    lines.append(f"batch of {batch}: activations and their gradients "
                 f"{2 * batch * acts * bytes_per_number / mb:.0f} MB")
    return "\n".join(lines)


def plot_layer_memory(rows, title=""):
    """Activations and parameters per layer, side by side (log scale)."""
    import matplotlib.pyplot as plt

    names = [r[0] for r in rows]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(rows) + 2), 3.2))
    ax.bar(x - 0.2, [max(r[2], 1) for r in rows], 0.4, label="activations (numbers per image)")
    ax.bar(x + 0.2, [max(r[3], 1) for r in rows], 0.4, label="parameters")
    ax.set_yscale("log")
    ax.set_xticks(x, names, rotation=45, ha="right", fontsize=8)
    ax.legend(fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------
# filters, maps, saliency
# --------------------------------------------------------------------------

def plot_filter_responses(images, responses: dict, filters: dict):
    """Rows: images; columns: the image, then its response to each named filter.

    ``responses[name]`` is (N, H', W') for the N images; ``filters[name]`` the
    2-D filter, drawn in the column header.
    """
    import matplotlib.pyplot as plt

    imgs = to_displayable(images)
    n, k = len(imgs), len(responses)
    fig, axes = plt.subplots(n + 1, k + 1, figsize=(1.7 * (k + 1), 1.7 * (n + 1)),
                             squeeze=False)
    axes[0, 0].axis("off")
    for j, name in enumerate(responses, start=1):
        f = np.asarray(filters[name])
        lim = np.abs(f).max() or 1.0
        axes[0, j].imshow(f, cmap="RdBu_r", vmin=-lim, vmax=lim)
        axes[0, j].set_title(name, fontsize=9)
        for (a, b), v in np.ndenumerate(f):
            if f.size <= 25:   # white on the dark cells, black on the light ones
                axes[0, j].text(b, a, f"{v:.2g}", ha="center", va="center", fontsize=8,
                                color="white" if abs(v) > 0.5 * lim else "black")
    for i in range(n):
        axes[i + 1, 0].imshow(imgs[i], cmap="gray")
        for j, name in enumerate(responses, start=1):
            r = responses[name][i]
            lim = np.abs(r).max() or 1.0
            axes[i + 1, j].imshow(r, cmap="RdBu_r", vmin=-lim, vmax=lim)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[1, 0].set_ylabel("image")
    fig.tight_layout()
    return fig


def plot_timings(rows, title="naive vs fast"):
    """rows: (name, naive seconds, fast seconds).  Bars of the speed-up, on a log scale."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 0.5 * len(rows) + 1.2))
    names = [r[0] for r in rows]
    speedups = [r[1] / r[2] for r in rows]
    ax.barh(names, speedups, color="C0")
    ax.set_xscale("log")
    for i, s in enumerate(speedups):
        ax.text(s, i, f" {s:,.0f}x", va="center", fontsize=9)
    ax.set_xlabel("speed-up of the fast layer over the naive one (log scale)")
    ax.set_xlim(right=max(speedups) * 10)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_normalization_groups(N=3, C=6, G=2):
    """Which numbers each normalization averages over, drawn as an (N, C) grid of feature maps.

    Each cell stands for one feature map (all H x W pixels of one channel of one
    image); cells of one colour are normalized together.
    """
    import matplotlib.pyplot as plt

    schemes = {
        "batch norm: one channel,\nevery image": lambda n, c: c,
        "layer norm: one image,\nevery channel": lambda n, c: n,
        f"group norm (G = {G}): one image,\n{C // G} channels": lambda n, c: n * G + c // (C // G),
        "instance norm: one image,\none channel": lambda n, c: n * C + c,
    }
    fig, axes = plt.subplots(1, len(schemes), figsize=(3.2 * len(schemes), 2.6))
    for ax, (title, group) in zip(axes, schemes.items()):
        grid = np.array([[group(n, c) for c in range(C)] for n in range(N)], dtype=float)
        ax.imshow(grid % 10, cmap="tab10", vmin=0, vmax=9)
        ax.set_xticks(range(C), [f"c{c}" for c in range(C)], fontsize=8)
        ax.set_yticks(range(N), [f"image {n}" for n in range(N)], fontsize=8)
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_feature_maps(images, maps, titles=None, max_maps=16):
    """For each image: the image, then its first ``max_maps`` feature maps (N, F, H, W)."""
    import matplotlib.pyplot as plt

    imgs = to_displayable(images)
    maps = np.asarray(maps)
    k = min(max_maps, maps.shape[1])
    fig, axes = plt.subplots(len(imgs), k + 1, figsize=(0.95 * (k + 1), 1.05 * len(imgs)),
                             squeeze=False)
    for i in range(len(imgs)):
        axes[i, 0].imshow(imgs[i], cmap="gray")
        if titles is not None:
            axes[i, 0].set_title(str(titles[i]), fontsize=7)
        for f in range(k):
            axes[i, f + 1].imshow(maps[i, f], cmap="viridis")
            if i == 0:
                axes[i, f + 1].set_title(f"filter {f}", fontsize=7)
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_saliency(images, saliency, titles):
    """Two rows: the images (with their titles) and |d score / d pixel| of each."""
    import matplotlib.pyplot as plt

    imgs = to_displayable(images)
    n = len(imgs)
    fig, axes = plt.subplots(2, n, figsize=(1.5 * n, 3.4), squeeze=False)
    for i in range(n):
        axes[0, i].imshow(imgs[i], cmap="gray")
        axes[0, i].set_title(titles[i], fontsize=7)
        axes[1, i].imshow(saliency[i], cmap="hot")
    for ax in axes.flat:
        ax.axis("off")
    axes[1, 0].set_title("saliency", fontsize=8, loc="left")
    fig.tight_layout()
    return fig


def plot_accuracy_curves(panels: dict, ylabel="validation accuracy", updates_per_point=None):
    """One panel per key; each panel maps a run's name to its per-epoch accuracies.

    With ``updates_per_point`` (panel -> updates per epoch) the x axis counts
    updates instead of epochs, so panels with different epoch sizes compare.
    The runs keep one colour, dash and width each (``line_style``) across the
    panels, named once in a legend below them.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.4), squeeze=False)
    for ax, (title, runs) in zip(axes[0], panels.items()):
        step = (updates_per_point or {}).get(title, 1)
        for i, (name, accs) in enumerate(runs.items()):
            ax.plot(np.arange(len(accs)) * step, accs, marker="o", ms=3, label=name,
                    **line_style(i))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("updates" if updates_per_point else "epoch")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    legend_below(fig, [axes[0][0]], ncol=4)
    return fig
