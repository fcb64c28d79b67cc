"""Notebook 3 (a two-layer network): the pictures only this notebook draws.

Each function draws a figure and prints the numbers it shows.

- ``hidden_layer``: outputs and local slopes of the hidden units of a trained net.
- ``plot_activation_experiment``: how each activation trained (loss, gradient per
  layer, the slopes its units pass back) and how far the first layer moved.
- ``plot_capacity``: training and validation accuracy against the hidden size.

Training curves, update ratios and weight pictures come from ``assignments.monitor``.
"""

from __future__ import annotations

import numpy as np

from ..monitor import line_style, plot_gradient_magnitudes, plot_local_gradients, plot_losses

__all__ = ["hidden_layer", "plot_activation_experiment", "plot_capacity"]


def hidden_layer(params, X, activation, affine_forward):
    """(outputs, local slopes) of the hidden units, each of shape (N, H).

    Runs X through the first affine layer (``affine_forward``: yours) of a two-layer
    net with ``params`` (W1, b1) and the (forward, backward) pair ``activation``; the
    local slope is ``backward(ones, cache)``, d activation / d input.  A slope near 0
    means the unit passes almost no gradient back (saturated or off).
    """
    forward, backward = activation
    a, _ = affine_forward(X, params["W1"], params["b1"])
    out, cache = forward(a)
    return out, backward(np.ones_like(out), cache)


def plot_activation_experiment(runs, activations, X, affine_forward,
                               title="training loss (no regularization)"):
    """Compare runs that differ in the hidden activation (and the first layer's start).

    ``runs`` maps a name to a trained Solver returned by ``train_net`` (it knows
    ``initial_params``); ``activations`` maps the same names to their (forward, backward)
    pair; ``affine_forward`` is the affine layer (yours).  Prints, per run, the best validation accuracy, how far W1 moved
    (||W1_end - W1_start|| / ||W1_start||) and how much the hidden outputs vary between
    the images of ``X`` (their standard deviation per unit, averaged over the units, at
    the start and at the end); then draws the loss curves, the mean gradient of each
    layer and the histogram of local slopes at the end (each with its own table).
    """
    import matplotlib.pyplot as plt

    width = max(len(name) for name in runs)
    print(f"{'variant':<{width}} {'val acc':>8} {'W1 moved by':>12} "
          f"{'hidden std, start -> end':>25}")
    slopes = {}
    for name, solver in runs.items():
        start, end = solver.initial_params, solver.model.params
        moved = np.linalg.norm(end["W1"] - start["W1"]) / np.linalg.norm(start["W1"])
        out_start, _ = hidden_layer(start, X, activations[name], affine_forward)
        out_end, slopes[name] = hidden_layer(end, X, activations[name], affine_forward)
        std_start = float(np.mean(np.std(out_start, axis=0)))
        std_end = float(np.mean(np.std(out_end, axis=0)))
        print(f"{name:<{width}} {solver.best_val_acc:>8.3f} {moved:>12.3f} "
              f"{std_start:>13.3f} -> {std_end:<8.3f}")
    print()
    fig, (ax_loss, ax_grad, ax_local) = plt.subplots(1, 3, figsize=(16, 4.2))
    plot_losses(runs, ax=ax_loss, title=title, verbose=False)
    plot_gradient_magnitudes(runs, params=("W1", "W2"), ax=ax_grad)
    print()
    plot_local_gradients(slopes, ax=ax_local)
    fig.tight_layout()
    return fig


def plot_capacity(capacity, num_train, ax=None):
    """Training and validation accuracy against the number of hidden units.

    ``capacity`` maps a hidden size H to (training accuracy, validation accuracy);
    ``num_train`` is the number of training images.  Prints the two and their gap.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    hs = sorted(capacity)
    train = [capacity[h][0] for h in hs]
    val = [capacity[h][1] for h in hs]
    print(f"{'H':>5} {'train acc':>10} {'val acc':>8} {'gap':>7}")
    for h, t, v in zip(hs, train, val):
        print(f"{h:>5} {t:>10.3f} {v:>8.3f} {t - v:>+7.3f}")
    ax.plot(hs, train, marker="o", label="training images", **line_style(0))
    ax.plot(hs, val, marker="s", label="validation images", **line_style(1))
    ax.set_xscale("log", base=2)
    ax.set_xticks(hs, [str(h) for h in hs])
    ax.set_xlabel("hidden units H")
    ax.set_ylabel("accuracy after training")
    ax.set_title(f"capacity: {num_train} training images, no regularization")
    ax.legend()
    return ax
