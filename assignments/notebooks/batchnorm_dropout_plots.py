"""Notebook 5's experiments: the measurements they need and the pictures they draw.

Every plotting function here also prints the numbers its picture shows.
The measurements work on any model that follows the model protocol and
names its parameters as notebook 5's FullyConnectedNet does
(``W1``, ``b1``, ``gamma1``, ``beta1``, ... and ``running_mean1``, ...).

- ``WeightRecorder``: a model wrapper that records chosen weights at every step.
- ``normalization_inputs`` / ``recalibrate_batchnorm``: what batch norm sees at test
  time, and its running averages re-estimated without dropout (the variance shift).
- ``ensemble_accuracy``: dropout's masks averaged, against the test-mode pass.
"""

from __future__ import annotations

import numpy as np

from ..models import BLOCK_PARAMS, BLOCK_STATE, ModelWrapper, layer_entries
from ..solver import call_loss
from ..vis import legend_below

__all__ = ["first_images", "skewed_features", "WeightRecorder", "near_zero_fraction",
           "normalization_inputs", "recalibrate_batchnorm", "softmax", "accuracy_and_loss",
           "ensemble_accuracy", "feature_statistics",
           "plot_feature_statistics", "plot_backward_timing", "plot_scale_sweep",
           "trains_range", "plot_accuracy_bars", "plot_dropout_moments", "plot_variance_shift",
           "plot_ensemble", "plot_weight_paths", "plot_weight_histograms", "plot_reg_sweep"]


# --------------------------------------------------------------------------
# data and measurements
# --------------------------------------------------------------------------

def first_images(data, num_train, num_val=None):
    """The first num_train training images (and num_val validation images) of a data dict."""
    num_val = len(data["y_val"]) if num_val is None else num_val
    return {"X_train": data["X_train"][:num_train], "y_train": data["y_train"][:num_train],
            "X_val": data["X_val"][:num_val], "y_val": data["y_val"][:num_val]}


def skewed_features(num, rng, dim=8):
    """num examples of dim skewed features, feature j with mean about 5 j and spread j + 1.

    Every call draws a new batch from the same distribution (z + z^2 / 2 for a
    standard normal z, shifted and scaled per feature).
    """
    z = rng.standard_normal((num, dim))
    return 5.0 * np.arange(dim) + (np.arange(dim) + 1.0) * (z + 0.5 * z * z)


class WeightRecorder(ModelWrapper):
    """A model that behaves exactly like ``model`` and records some of its weights.

    At every train-mode loss computation (one per Solver step, before the
    update) it appends ``params[name].ravel()[indices]`` to ``history[name]``
    and keeps a reference to the parameters of that moment in ``last``
    (updates make new arrays, so nothing is copied): after training, ``last``
    holds the weights of the final step, while the Solver puts the best
    epoch's weights back into the model.  ``params`` and ``state`` are the
    wrapped model's, so the Solver trains it.
    """

    def __init__(self, model, picks: dict):
        self.model = model
        self.picks = {name: np.asarray(ix) for name, ix in picks.items()}
        self.history = {name: [] for name in picks}
        self.last = dict(model.params)

    def loss(self, X, y=None, mode=None, rng=None):
        if y is not None and mode in (None, "train"):
            self.last = dict(self.model.params)
            for name, ix in self.picks.items():
                self.history[name].append(self.model.params[name].ravel()[ix].copy())
        return call_loss(self.model, X, y, mode=mode, rng=rng)

    def paths(self, name) -> np.ndarray:
        """(steps, k): the recorded values of the k picked weights at each step."""
        return np.array(self.history[name])


def near_zero_fraction(params, threshold=1e-3, names=None) -> float:
    """Fraction of the weights (matrices named W...) with |w| below ``threshold``."""
    names = names or [k for k in params if k.startswith("W")]
    w = np.concatenate([np.ravel(params[k]) for k in names])
    return float(np.mean(np.abs(w) < threshold))


def _num_layers(model) -> int:
    return sum(1 for k in model.params if k.startswith("W"))


def normalization_inputs(model, X, affine_forward, hidden_block_forward, mode="test", rng=None,
                         state=None):
    """The normalization layers' inputs: the affine output of every hidden block.

    Runs the model's hidden blocks (``hidden_block_forward``: yours) in ``mode``;
    returns a list of arrays (N, H_i), one per hidden block.  ``state``
    overrides the model's running averages.
    """
    state = model.state if state is None else state
    h, out = X, []
    for i in range(1, _num_layers(model)):
        params = layer_entries(model.params, i, BLOCK_PARAMS)
        out.append(affine_forward(h, params["W"], params["b"])[0])
        h, _, _ = hidden_block_forward(h, params, layer_entries(state, i, BLOCK_STATE),
                                       model.normalization, model.keep_prob, mode, rng)
    return out


def recalibrate_batchnorm(model, X, affine_forward, hidden_block_forward, batch_size=1000):
    """Batch norm's running averages re-estimated with dropout switched off (the layers
    given: yours).

    Layer by layer, the exact mean and (biased) variance over all of X of
    what each batch-norm layer receives when the layers below it run in
    test mode (dropout off, batch norm with the statistics already
    re-estimated).  Returns a new state dict; the model is not changed.
    """
    state = dict(model.state)
    L = _num_layers(model)
    h = X.reshape(len(X), -1)
    for i in range(1, L):
        params = layer_entries(model.params, i, BLOCK_PARAMS)
        a = np.concatenate([affine_forward(h[j:j + batch_size], params["W"], params["b"])[0]
                            for j in range(0, len(h), batch_size)])
        if f"running_mean{i}" in state:
            state[f"running_mean{i}"] = a.mean(axis=0).astype(a.dtype)
            state[f"running_var{i}"] = a.var(axis=0).astype(a.dtype)
        h, _, _ = hidden_block_forward(h, params, layer_entries(state, i, BLOCK_STATE),
                                       model.normalization, model.keep_prob, "test")
    return state


def softmax(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    return p / p.sum(axis=1, keepdims=True)


def accuracy_and_loss(model, X, y, softmax_loss, state=None):
    """(accuracy, ``softmax_loss``) of the model's test-mode scores on X, optionally with
    another ``state`` (e.g. re-estimated running averages); the model is left as it was."""
    saved = model.state
    if state is not None:
        model.state = state
    try:
        scores = np.asarray(call_loss(model, X, mode="test"), dtype=np.float64)
    finally:
        model.state = saved
    return float(np.mean(np.argmax(scores, axis=1) == y)), softmax_loss(scores, np.asarray(y))[0]


def ensemble_accuracy(model, X, y, num_masks, rng):
    """Accuracy of the average of ``num_masks`` dropout networks' probabilities, after
    each mask: an array of length num_masks.  The model must have no batch norm
    (a train-mode pass would change its running averages)."""
    if getattr(model, "state", None):
        raise ValueError("ensemble_accuracy needs a model without batch norm state")
    total = np.zeros((len(X), int(np.max(y)) + 1))
    acc = []
    for _ in range(num_masks):
        total += softmax(call_loss(model, X, mode="train", rng=rng))
        acc.append(float(np.mean(np.argmax(total, axis=1) == y)))
    return np.array(acc)


def feature_statistics(x):
    """(mean, std) of every column of x: what batch norm makes of each feature."""
    return x.mean(axis=0), x.std(axis=0)


# --------------------------------------------------------------------------
# pictures (each prints what it shows)
# --------------------------------------------------------------------------

def _plt():
    import matplotlib.pyplot as plt

    return plt


def plot_feature_statistics(panels: dict, targets: dict | None = None):
    """One panel per named array: each feature's mean and std as points.

    ``targets`` maps a panel name to (mean target, std target) arrays drawn as
    crosses.  Prints the largest distance to the target of each panel.  An
    axis is never narrower than 0.2, so points that agree to 1e-6 show as
    one point instead of as differences on an offset scale.
    """
    plt = _plt()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for ax, (name, x) in zip(axes[0], panels.items()):
        mean, std = feature_statistics(x)
        ax.scatter(mean, std, s=18, label="features")
        line = f"{name:<44} means in [{mean.min():+.3f}, {mean.max():+.3f}], stds in " \
               f"[{std.min():.3f}, {std.max():.3f}]"
        if targets and name in targets:
            t_mean, t_std = targets[name]
            ax.scatter(t_mean, t_std, marker="x", color="C3", s=30, label="target")
            line += (f"; largest |mean - target| {np.max(np.abs(mean - t_mean)):.2e}, "
                     f"|std - target| {np.max(np.abs(std - t_std)):.2e}")
        for axis, values in (("x", [mean] + ([t_mean] if targets and name in targets else [])),
                             ("y", [std] + ([t_std] if targets and name in targets else []))):
            lo, hi = float(np.min(np.concatenate(values))), float(np.max(np.concatenate(values)))
            if hi - lo < 0.2:
                getattr(ax, f"set_{axis}lim")((lo + hi) / 2 - 0.1, (lo + hi) / 2 + 0.1)
        ax.ticklabel_format(useOffset=False)
        ax.locator_params(nbins=5)
        ax.set_xlabel("mean of the feature over the batch")
        ax.set_ylabel("std of the feature")
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=8)
        print(line)
    fig.tight_layout()
    return fig


def plot_backward_timing(times: dict, ax=None):
    """Bar chart of seconds per call; prints each and its speed-up over the first."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    names, secs = list(times), [times[k] for k in times]
    ax.bar(names, [1e3 * s for s in secs], color=[f"C{i}" for i in range(len(names))])
    ax.set_ylabel("milliseconds per call")
    for name, s in times.items():
        print(f"{name:<28} {1e3 * s:8.3f} ms   speed-up over {names[0]}: {secs[0] / s:4.2f}x")
    return ax


def trains_range(scales, accuracies, threshold):
    """The smallest and largest scale whose accuracy reaches ``threshold`` (None if none)."""
    ok = [s for s, a in zip(scales, accuracies) if a >= threshold]
    return (min(ok), max(ok)) if ok else None


def plot_scale_sweep(scales, results: dict, threshold):
    """Best val and train accuracy and final loss against the weight scale, per variant.

    ``results`` maps a variant name to a list of dicts (one per scale) with
    keys best_val_acc, best_train_acc, final_loss.  Prints a table and, per
    variant, the range of scales whose best validation accuracy reaches
    ``threshold``.
    """
    plt = _plt()
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(12, 3.8))
    print(f"{'weight scale':>12} " + " ".join(f"{n + ' val':>18} {n + ' train':>18} "
                                               f"{n + ' loss':>16}" for n in results))
    for j, s in enumerate(scales):
        cells = []
        for rows in results.values():
            r = rows[j]
            cells.append(f"{r['best_val_acc']:>18.3f} {r['best_train_acc']:>18.3f} "
                         f"{r['final_loss']:>16.3g}")
        print(f"{s:>12.0e} " + " ".join(cells))
    for i, (name, rows) in enumerate(results.items()):
        val = [r["best_val_acc"] for r in rows]
        ax_acc.plot(scales, val, "o-", color=f"C{i}", label=f"{name}: best val")
        ax_acc.plot(scales, [r["best_train_acc"] for r in rows], "--", color=f"C{i}",
                    alpha=0.7, label=f"{name}: best train")
        with np.errstate(all="ignore"):
            ax_loss.plot(scales, [r["final_loss"] for r in rows], "o-", color=f"C{i}", label=name)
        span = trains_range(scales, val, threshold)
        print(f"{name}: best validation accuracy >= {threshold:g} for "
              + ("no weight scale" if span is None else
                 f"weight scales {span[0]:.0e} to {span[1]:.0e} "
                 f"({sum(v >= threshold for v in val)} of {len(scales)} scales)"))
    ax_acc.axhline(threshold, color="gray", ls=":", lw=1)
    for ax in (ax_acc, ax_loss):
        ax.set_xscale("log")
        ax.set_xlabel("std of the initial weights")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_title("best accuracy during training")
    ax_loss.set_yscale("log")
    ax_loss.set_ylabel("mean loss of the last epoch")
    ax_loss.set_title("final training loss (missing: infinite)")
    fig.tight_layout()
    legend_below(fig, [ax_acc], ncol=4)
    return fig


def plot_accuracy_bars(table: dict, title, ylabel="accuracy", keys=("train", "val")):
    """Grouped bars: table maps a variant name to {key: value}; prints the table."""
    plt = _plt()
    names = list(table)
    fig, ax = plt.subplots(figsize=(max(5, 1.3 * len(names)), 3.6))
    width = 0.8 / len(keys)
    print(f"{'variant':<26} " + " ".join(f"{k:>10}" for k in keys)
          + (f" {'gap':>8}" if set(keys) >= {"train", "val"} else ""))
    for j, key in enumerate(keys):
        ax.bar(np.arange(len(names)) + (j - (len(keys) - 1) / 2) * width,
               [table[n][key] for n in names], width, label=key)
    for n in names:
        row = f"{n:<26} " + " ".join(f"{table[n][k]:>10.3f}" for k in keys)
        if set(keys) >= {"train", "val"}:
            row += f" {table[n]['train'] - table[n]['val']:>+8.3f}"
        print(row)
    lo = min(table[n][k] for n in names for k in keys)
    ax.set_ylim(max(0.0, lo - 0.1), 1.0)
    ax.set_xticks(np.arange(len(names)), names, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def plot_dropout_moments(x, samples, keep_prob):
    """A unit's value under many dropout masks: histogram, mean and variance vs test mode.

    ``x`` is the unit's (test-mode) value per example (n,), ``samples`` its
    train-mode values (num_masks, n).  Prints mean and variance of both.
    """
    plt = _plt()
    fig, (ax_mean, ax_var) = plt.subplots(1, 2, figsize=(11, 3.6))
    m_train, v_train = samples.mean(axis=0), samples.var(axis=0)
    ax_mean.scatter(x, m_train, s=12)
    ax_mean.plot([x.min(), x.max()], [x.min(), x.max()], "k--", lw=1, label="equal")
    ax_mean.set_xlabel("value in test mode")
    ax_mean.set_ylabel("mean over training masks")
    ax_mean.set_title(f"means agree (keep_prob {keep_prob:g})")
    ax_mean.legend(fontsize=8)
    predicted = x ** 2 * (1 - keep_prob) / keep_prob
    ax_var.scatter(x ** 2, v_train, s=12, label="measured")
    grid = np.linspace(0, (x ** 2).max(), 50)
    ax_var.plot(grid, grid * (1 - keep_prob) / keep_prob, "C3-", lw=1,
                label="x² (1 - p) / p")
    ax_var.set_xlabel("x² (test-mode value squared)")
    ax_var.set_ylabel("variance over training masks")
    ax_var.set_title("test mode has variance 0, training does not")
    ax_var.legend(fontsize=8)
    fig.tight_layout()
    print(f"largest |mean over masks - test value|: {np.max(np.abs(m_train - x)):.3g} "
          f"(values up to {np.max(np.abs(x)):.3g})")
    print(f"variance over masks / (x² (1 - p) / p): median "
          f"{np.median(v_train[predicted > 0] / predicted[predicted > 0]):.3f}; test mode: 0")
    return fig


def plot_variance_shift(running_var, test_var, layer_names, accuracies: dict):
    """Ratio of the variance batch norm meets at test time to its running variance,
    per layer (box plot), and the accuracies of ``accuracies`` (name -> value)."""
    plt = _plt()
    fig, (ax_ratio, ax_acc) = plt.subplots(1, 2, figsize=(12, 3.8))
    ratios = [t / r for t, r in zip(test_var, running_var)]
    ax_ratio.boxplot(ratios, showfliers=False)
    ax_ratio.set_xticks(np.arange(1, len(ratios) + 1), layer_names)
    ax_ratio.axhline(1.0, color="k", ls="--", lw=1)
    ax_ratio.set_ylabel("test-time variance / running variance")
    ax_ratio.set_title("what each batch-norm layer meets at test time")
    for name, r in zip(layer_names, ratios):
        print(f"{name}: test-time variance / running variance, median {np.median(r):.3f} "
              f"(quartiles {np.quantile(r, 0.25):.3f} .. {np.quantile(r, 0.75):.3f})")
    names = list(accuracies)
    ax_acc.bar(names, [accuracies[n] for n in names], color=[f"C{i}" for i in range(len(names))])
    lo = min(accuracies.values())
    ax_acc.set_ylim(max(0.0, lo - 0.05), min(1.0, max(accuracies.values()) + 0.02))
    ax_acc.set_ylabel("validation accuracy")
    ax_acc.set_title("the same trained network, two sets of running averages")
    ax_acc.tick_params(axis="x", labelsize=8)
    for n in names:
        print(f"{n:<44} validation accuracy {accuracies[n]:.3f}")
    fig.tight_layout()
    return fig


def plot_ensemble(ensemble_acc: dict, test_mode_acc: dict):
    """Accuracy of averaged dropout masks against their number, with the test-mode line."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for i, (name, acc) in enumerate(ensemble_acc.items()):
        k = np.arange(1, len(acc) + 1)
        ax.plot(k, acc, "-", color=f"C{i}", label=f"{name}: average of k masks")
        ax.axhline(test_mode_acc[name], color=f"C{i}", ls="--", lw=1,
                   label=f"{name}: test mode (one pass)")
        marks = [m for m in (1, 2, 5, 10, 20, 50, 100) if m <= len(acc)]
        print(f"{name}: " + ", ".join(f"{m} masks {acc[m - 1]:.3f}" for m in marks)
              + f"; test mode {test_mode_acc[name]:.3f}")
    ax.set_xscale("log")
    ax.set_xlabel("number of dropout masks averaged (k)")
    ax.set_ylabel("validation accuracy")
    ax.set_title("dropout as an ensemble")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_weight_paths(recorders: dict, name, steps_per_epoch):
    """The recorded weights of ``name`` over training, one panel per variant."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(recorders), figsize=(4.2 * len(recorders), 3.4),
                             sharey=True, squeeze=False)
    for ax, (variant, rec) in zip(axes[0], recorders.items()):
        paths = rec.paths(name)
        epochs = np.arange(len(paths)) / steps_per_epoch
        ax.plot(epochs, paths, lw=0.8)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlabel("epoch")
        ax.set_title(f"{variant}: {paths.shape[1]} weights of {name}", fontsize=9)
        print(f"{variant:<12} {name}: mean |w| at the start {np.mean(np.abs(paths[0])):.3f}, "
              f"at the end {np.mean(np.abs(paths[-1])):.3f}")
    axes[0][0].set_ylabel("weight value")
    fig.tight_layout()
    return fig


def plot_weight_histograms(weights: dict, threshold, title):
    """Histograms of final weights per variant (log-spaced |w|), near-zero fraction printed."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    everything = np.concatenate([np.abs(w) for w in weights.values()])
    lo = max(1e-8, float(np.min(everything[everything > 0])))
    bins = np.logspace(np.log10(lo), np.log10(float(everything.max()) * 1.01), 50)
    for i, (variant, w) in enumerate(weights.items()):
        a = np.abs(w)
        ax.hist(np.maximum(a, lo), bins=bins, histtype="step", lw=1.5, color=f"C{i}",
                label=variant)
        print(f"{variant:<12} {len(a)} weights: |w| < {threshold:g} for "
              f"{np.mean(a < threshold):6.1%}, median |w| {np.median(a):.2e}, "
              f"largest {a.max():.2f}")
    ax.axvline(threshold, color="k", ls=":", lw=1, label=f"|w| = {threshold:g}")
    ax.set_xscale("log")
    ax.set_xlabel("|w| (log scale)")
    ax.set_ylabel("number of weights")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_reg_sweep(runs: dict, title=None):
    """Train (dashed) and validation (solid) accuracy per epoch for each named run;
    prints the final gap of each.  ``title`` goes above the panel's own caption."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.8))
    print(f"{'run':<18} {'train':>7} {'val':>7} {'gap':>7}  best val")
    for i, (name, s) in enumerate(runs.items()):
        epochs = np.arange(len(s.val_acc_history))
        ax.plot(epochs, s.val_acc_history, "-", color=f"C{i}", label=name)
        ax.plot(epochs, s.train_acc_history, "--", color=f"C{i}", alpha=0.7)
        tr, va = s.train_acc_history[-1], s.val_acc_history[-1]
        print(f"{name:<18} {tr:>7.3f} {va:>7.3f} {tr - va:>+7.3f}  {s.best_val_acc:.3f}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    caption = "train (dashed) and validation (solid) accuracy"
    ax.set_title(f"{title}\n{caption}" if title else caption, fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig
