"""Watching a network train: curves, weights, gradients, update sizes.

Every function here draws a picture *and* prints the numbers it shows, so
a notebook's text can refer to them and a reader without the picture loses
nothing.  The inputs are ``Solver`` objects (their ``loss_history``,
``train_acc_history``, ``val_acc_history``, ``grad_magnitudes`` and
``update_ratios``) or plain arrays.

- ``plot_training``: loss per iteration and accuracy per epoch of one run.
- ``plot_losses``: smoothed loss curves of several named runs (Solvers, or plain
  lists of minibatch losses such as notebook 2's ``train`` returns).
- ``compare_runs``: the same for several named runs in one figure, plus the
  update-to-weight ratio of the first weight matrix.
- ``plot_update_ratios``: ||w_next - w|| / ||w|| per weight matrix with the
  rule-of-thumb line at 1e-3.
- ``plot_gradient_magnitudes``: mean |gradient| per layer for named runs.
- ``plot_local_gradients``: how much gradient each unit lets through.
- ``plot_activation_functions``: activation functions and their slopes.
- ``show_weights``: columns of a first-layer weight matrix as images.
"""

from __future__ import annotations

import numpy as np

from .vis import legend_below

__all__ = ["smooth", "plot_training", "plot_losses", "compare_runs", "plot_update_ratios",
           "plot_gradient_magnitudes", "plot_local_gradients", "plot_activation_functions",
           "show_weights", "UPDATE_RATIO_TARGET", "line_style"]

UPDATE_RATIO_TARGET = 1e-3

# Runs drawn in one panel may coincide (ReLU and leaky ReLU often do): every run gets its
# own colour, and each run is drawn thinner than the one before, every second one dashed,
# so a curve drawn on top of another leaves it visible.
_LINE_STYLES = ("-", "--", "-", "--", "-.")


def line_style(i: int) -> dict:
    """Colour, line style and width of the i-th run or curve in a panel."""
    return {"color": f"C{i}", "ls": _LINE_STYLES[i % len(_LINE_STYLES)],
            "lw": max(1.2, 2.8 - 0.4 * i)}


def smooth(values, window):
    """Centred moving average over ``window`` points; same length.

    Near either end the window shrinks symmetrically (point i averages i points on each
    side at the start), so a curve that falls steeply at the start is followed, not
    dragged up for a whole window with a false kink where its first points drop out.
    Non-finite values are left out of the averages.
    """
    v = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(v) == 0:
        return v
    finite = np.isfinite(v)
    csum = np.concatenate([[0.0], np.cumsum(np.where(finite, v, 0.0))])
    count = np.concatenate([[0], np.cumsum(finite)])
    idx = np.arange(len(v))
    half = np.minimum(np.minimum(window // 2, idx), len(v) - 1 - idx)
    lo, hi = idx - half, idx + half + 1
    n = count[hi] - count[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (csum[hi] - csum[lo]) / np.maximum(n, 1), np.nan)


def _epochs_axis(solver, n):
    """x positions, in epochs, of the first n iterations."""
    return (np.arange(n) + 1) / solver.iterations_per_epoch


def _weight_names(solver):
    return [k for k, v in solver.model.params.items() if np.ndim(v) >= 2]


def _summary_line(name, solver, width=22, extra=""):
    with np.errstate(all="ignore"):
        last = np.asarray(solver.loss_history[-solver.iterations_per_epoch:], dtype=np.float64)
        final_loss = float(np.mean(last)) if len(last) else np.nan
    train = solver.train_acc_history[-1] if solver.train_acc_history else np.nan
    val = solver.val_acc_history[-1] if solver.val_acc_history else np.nan
    note = "  DIVERGED" if solver.diverged else ""
    return (f"{name:<{width}} {final_loss:>10.4g} {train:>10.3f} {val:>10.3f} "
            f"{solver.best_val_acc:>9.3f} {solver.best_epoch:>6d} {train - val:>+8.3f}{extra}{note}")


def _summary_header(width=22):
    return (f"{'run':<{width}} {'last loss':>10} {'train acc':>10} {'val acc':>10} "
            f"{'best val':>9} {'epoch':>6} {'gap':>8}")


def plot_training(solver, title=None):
    """Loss per iteration (raw and smoothed) and train / val accuracy per epoch.

    Prints the mean loss of the last epoch, the last accuracies, the best
    validation accuracy with its epoch, and the train - val gap.
    """
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.8))
    loss = np.asarray(solver.loss_history, dtype=np.float64)
    x = _epochs_axis(solver, len(loss))
    ax_loss.plot(x, loss, color="C0", alpha=0.25, lw=0.8, label="minibatch loss")
    ax_loss.plot(x, smooth(loss, max(1, solver.iterations_per_epoch // 2)), color="C0", lw=2,
                 label="moving average")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss")
    ax_loss.set_title("loss")
    ax_loss.legend()
    epochs = np.arange(len(solver.val_acc_history))
    ax_acc.plot(epochs, solver.train_acc_history, "o-", label="train (subsample)")
    ax_acc.plot(epochs, solver.val_acc_history, "s-", label="validation")
    ax_acc.axvline(solver.best_epoch, color="gray", ls=":", lw=1,
                   label=f"best val {solver.best_val_acc:.3f} (epoch {solver.best_epoch})")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_title("accuracy")
    ax_acc.legend(loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    name = title or "run"
    print(_summary_header(len(name)))
    print(_summary_line(name, solver, len(name)))
    return fig


def _loss_curve(run):
    """(x values, losses, default smoothing window, x label) of a Solver or a list of losses."""
    if hasattr(run, "loss_history"):
        loss = np.asarray(run.loss_history, dtype=np.float64)
        return _epochs_axis(run, len(loss)), loss, max(1, run.iterations_per_epoch // 2), "epoch"
    loss = np.asarray(run, dtype=np.float64).ravel()
    return np.arange(len(loss)), loss, 25, "iteration"


def plot_losses(runs, ax=None, title="training loss", window=None, logy=False, events=None,
                verbose=True):
    """Training loss of several named runs: raw minibatch losses faintly, a moving average
    on top.

    ``runs`` maps a name to a trained Solver (x axis in epochs, smoothed over half an
    epoch) or to a list of minibatch losses (x axis in iterations, smoothed over
    ``window``, default 25).  With a linear y axis it is cut at 2.5 times the typical
    starting loss, so one exploding run does not flatten the others.  ``events`` maps an
    x position to a note drawn as a dashed vertical line (e.g. a learning-rate change).
    Prints the first loss and the mean of the last ``window`` losses of every run
    (unless ``verbose`` is False).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    highest, starts, xlabel = 0.0, [], "iteration"
    width = max(len(name) for name in runs) if runs else 3
    if verbose:
        print(f"{'run':<{width}} {'first loss':>11} {'mean of the last losses':>24}")
    for i, (name, run) in enumerate(runs.items()):
        x, loss, default_window, xlabel = _loss_curve(run)
        w = window or default_window
        smoothed = smooth(loss, w)
        style = line_style(i)
        ax.plot(x, loss, color=style["color"], alpha=0.2, lw=0.7)
        ax.plot(x, smoothed, label=name if window is None else f"{name} (moving average of {w})",
                **style)
        if np.isfinite(smoothed).any():
            highest = max(highest, float(np.nanmax(np.where(np.isfinite(smoothed), smoothed,
                                                            np.nan))))
        if len(loss) and np.isfinite(loss[0]):
            starts.append(loss[0])
        with np.errstate(all="ignore"):
            last = float(np.mean(loss[-w:])) if len(loss) else np.nan
        if verbose:
            print(f"{name:<{width}} {loss[0] if len(loss) else np.nan:>11.4g} {last:>24.4g}")
    if logy:
        ax.set_yscale("log")
    elif starts:
        ax.set_ylim(0, min(2.5 * float(np.median(starts)), 1.1 * highest))
    for position, note in (events or {}).items():
        ax.axvline(position, color="gray", ls="--", lw=1)
        ax.text(position, 0.97, f" {note}", va="top", fontsize=8,
                transform=ax.get_xaxis_transform())
    ax.set_xlabel(xlabel)
    ax.set_ylabel("training loss" + (" (log scale)" if logy else ""))
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def compare_runs(runs, title=None, ratio_param=None):
    """Several named runs side by side: loss, accuracy and update-to-weight ratio.

    ``runs`` maps a name to a trained Solver; one legend below the panels
    names them.  The third panel shows the
    update ratio of ``ratio_param`` (default: the first weight matrix).
    Prints one summary row per run plus its median update ratio.
    """
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc, ax_ratio) = plt.subplots(1, 3, figsize=(15, 4))
    width = max(len(name) for name in runs)
    print(_summary_header(width) + f" {'median update ratio':>20}")
    plot_losses(runs, ax=ax_loss, title="loss (moving average)", verbose=False)
    for i, (name, solver) in enumerate(runs.items()):
        style = line_style(i)
        color = style["color"]
        epochs = np.arange(len(solver.val_acc_history))
        ax_acc.plot(epochs, solver.val_acc_history, "o-", color=color)
        ax_acc.plot(epochs, solver.train_acc_history, "--", color=color, alpha=0.7)
        param = ratio_param or _weight_names(solver)[0]
        ratios = np.asarray(solver.update_ratios[param], dtype=np.float64)
        ax_ratio.plot(_epochs_axis(solver, len(ratios)), smooth(ratios, 5), label=name,
                      **style)
        median = float(np.median(ratios)) if len(ratios) else np.nan
        print(_summary_line(name, solver, width, extra=f" {median:>20.2e}"))
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_title("validation (solid) and train (dashed) accuracy")
    ax_acc.set_ylim(0, 1)
    ax_ratio.axhline(UPDATE_RATIO_TARGET, color="k", ls="--", lw=1, label="1e-3 rule of thumb")
    ax_ratio.set_yscale("log")
    ax_ratio.set_xlabel("epoch")
    ax_ratio.set_ylabel("||update|| / ||W||")
    ax_ratio.set_title(f"update-to-weight ratio of {ratio_param or 'the first weights'}")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    legend_below(fig, [ax_ratio])
    return fig


def plot_update_ratios(solver, ax=None):
    """Update-to-weight ratio per iteration of every weight matrix, log scale.

    A ratio far below 1e-3 means the weights hardly move (learning rate too
    low); far above means every step rewrites them (too high).  Prints the
    median ratio of each weight matrix over the first and the last epoch.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.8))
    per_epoch = solver.iterations_per_epoch
    print(f"{'weights':<8} {'median ratio, first epoch':>26} {'median ratio, last epoch':>25}")
    for i, name in enumerate(_weight_names(solver)):
        r = np.asarray(solver.update_ratios[name], dtype=np.float64)
        ax.plot(_epochs_axis(solver, len(r)), r, color=f"C{i}", alpha=0.25, lw=0.7)
        ax.plot(_epochs_axis(solver, len(r)), smooth(r, max(1, per_epoch // 2)), color=f"C{i}",
                lw=2, label=name)
        first = np.median(r[:per_epoch]) if len(r) else np.nan
        last = np.median(r[-per_epoch:]) if len(r) else np.nan
        print(f"{name:<8} {first:>26.2e} {last:>25.2e}")
    ax.axhline(UPDATE_RATIO_TARGET, color="k", ls="--", lw=1, label="1e-3 rule of thumb")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("||update|| / ||W||")
    ax.set_title("update-to-weight ratio")
    ax.legend()
    return ax


def plot_gradient_magnitudes(runs, params=None, iterations=None, ax=None):
    """Mean |gradient| of each parameter, one group of bars per parameter.

    ``runs`` maps a name to a trained Solver; the magnitude is averaged over
    the first ``iterations`` steps (None: all).  Log scale, so a layer whose
    gradient is 10x smaller shows one decade lower.  Prints the numbers and
    the ratio of the first to the last weight matrix.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.8))
    first = next(iter(runs.values()))
    params = list(params or _weight_names(first))
    width = 0.8 / max(1, len(runs))
    name_width = max(len(name) for name in runs)
    header = f"{'run':<{name_width}}" + "".join(f" {'mean |d' + p + '|':>14}" for p in params)
    if len(params) >= 2:
        header += f" {params[0] + ' / ' + params[-1]:>12}"
    print(header)
    for i, (name, solver) in enumerate(runs.items()):
        values = []
        for p in params:
            g = np.asarray(solver.grad_magnitudes[p][:iterations], dtype=np.float64)
            values.append(float(np.mean(g)) if len(g) else np.nan)
        ax.bar(np.arange(len(params)) + (i - (len(runs) - 1) / 2) * width, values, width,
               label=name, color=f"C{i}")
        row = f"{name:<{name_width}}" + "".join(f" {v:>14.2e}" for v in values)
        if len(params) >= 2:
            row += f" {values[0] / values[-1]:>12.3f}"
        print(row)
    ax.set_xticks(range(len(params)), [f"d{p}" for p in params])
    ax.set_yscale("log")
    ax.set_ylabel("mean |gradient|")
    span = "all iterations" if iterations is None else f"first {iterations} iterations"
    ax.set_title(f"gradient magnitude per layer ({span})")
    ax.legend(fontsize=8)
    return ax


def plot_local_gradients(local, ax=None, threshold=0.05):
    """Histogram of the local derivative of each hidden unit, per activation.

    ``local`` maps a name to an (N, H) array of d activation / d input at
    every (example, unit).  Prints the mean local derivative, the share of
    (example, unit) pairs passing back less than ``threshold`` of the
    gradient, and the share of units that pass nothing for any example
    (dead units).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.8))
    bins = np.linspace(0, 1, 41)
    width = max(len(name) for name in local)
    print(f"{'activation':<{width}} {'mean slope':>11} {'% below ' + str(threshold):>13} "
          f"{'% dead units':>13}")
    for i, (name, g) in enumerate(local.items()):
        g = np.asarray(g, dtype=np.float64)
        ax.hist(np.clip(g.ravel(), 0, 1), bins=bins, histtype="step", label=name,
                weights=np.full(g.size, 1.0 / g.size), **line_style(i))
        small = 100 * float(np.mean(g < threshold))
        dead = 100 * float(np.mean(np.all(g == 0, axis=0))) if g.ndim == 2 else np.nan
        print(f"{name:<{width}} {float(np.mean(g)):>11.3f} {small:>12.1f}% {dead:>12.1f}%")
    ax.axvline(threshold, color="gray", ls=":", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("local derivative of the activation (0 = passes no gradient)")
    ax.set_ylabel("share of (example, unit) pairs")
    ax.set_title("how much gradient each hidden unit lets through")
    ax.legend(fontsize=8)
    return ax


def plot_activation_functions(activations, lo=-6.0, hi=6.0):
    """Each activation and its derivative on [lo, hi].

    ``activations`` maps a name to a (forward, backward) pair following the
    layer contract; the derivative is ``backward(ones, cache)``.  Prints the
    largest slope and the slope at x = lo, 0 and hi of each.
    """
    import matplotlib.pyplot as plt

    x = np.linspace(lo, hi, 601)
    fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(11, 3.6))
    print(f"{'activation':<14} {'max slope':>10} {f'slope at {lo:g}':>13} {'slope at 0':>11} "
          f"{f'slope at {hi:g}':>12}")
    for i, (name, (forward, backward)) in enumerate(activations.items()):
        out, cache = forward(x)
        slope = backward(np.ones_like(out), cache)
        ax_f.plot(x, out, label=name, **line_style(i))
        ax_d.plot(x, slope, label=name, **line_style(i))
        at0 = backward(np.ones(1), forward(np.zeros(1))[1])[0]
        print(f"{name:<14} {slope.max():>10.3f} {slope[0]:>13.4f} {at0:>11.3f} "
              f"{slope[-1]:>12.4f}")
    for ax, what in ((ax_f, "f(x)"), (ax_d, "f'(x), the local gradient")):
        ax.axhline(0, color="gray", lw=0.5)
        ax.axvline(0, color="gray", lw=0.5)
        ax.set_xlabel("x")
        ax.set_title(what)
        ax.legend(fontsize=8)
    ax_f.set_ylim(-1.5, 3)
    fig.tight_layout()
    return fig


def show_weights(W, image_shape, num=None, ncols=10, title=None, rng=None):
    """The columns of a first-layer weight matrix W (D, H) as images.

    ``image_shape`` is (C, H, W) of one input image, with C * H * W = D.
    Each column is what one hidden unit "looks for"; it is rescaled to its
    own range, so read the pattern, not the brightness.  With ``num`` and
    ``rng`` a random subset of the columns is shown.
    """
    from .vis import image_grid

    W = np.asarray(W)
    if W.shape[0] != int(np.prod(image_shape)):
        raise ValueError(f"W has {W.shape[0]} rows but images of shape {image_shape} have "
                         f"{int(np.prod(image_shape))} numbers")
    cols = np.arange(W.shape[1])
    if num is not None and num < len(cols):
        cols = np.sort(rng.choice(cols, size=num, replace=False)) if rng is not None \
            else cols[:num]
    images = W[:, cols].T.reshape(len(cols), *image_shape)
    return image_grid(images, titles=[f"unit {c}" for c in cols], ncols=ncols, ax_size=1.1,
                      suptitle=title)
