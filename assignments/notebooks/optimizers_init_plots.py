"""Notebook 4's experiments and pictures: 2-D surfaces, learning-rate sweeps,
activation statistics, gradient norms per layer, weights over epochs.

Every plotting function draws one figure and prints the numbers it shows.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .. import layers
from ..models import FullyConnectedNet
from ..monitor import line_style
from ..vis import legend_below
from ..weight_init import init_weights

__all__ = ["Surface", "SURFACES", "descend", "plot_trajectories", "lr_sweep",
           "best_learning_rates",
           "plot_lr_heatmaps", "layer_activations", "plot_activation_grid",
           "gradient_norms_at_init", "plot_gradient_norms", "column_spread",
           "train_with_snapshots", "plot_weight_convergence", "plot_schedules",
           "relative_changes"]


# --------------------------------------------------------------------------
# 2-D surfaces
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Surface:
    """A function of two variables to minimise, its gradient, a start and a view."""

    name: str
    f: Callable
    grad: Callable
    start: tuple
    xlim: tuple
    ylim: tuple
    minimum: tuple | None = None
    f_min: float = 0.0          # the lowest value of f (the saddle's valleys: -1/4)


def _bowl(p):
    return p[0] ** 2 / 20.0 + p[1] ** 2


def _bowl_grad(p):
    return np.array([p[0] / 10.0, 2.0 * p[1]])


def _saddle(p):  # a saddle at the origin, two valleys at y = +-1
    return 0.5 * p[0] ** 2 + 0.25 * p[1] ** 4 - 0.5 * p[1] ** 2


def _saddle_grad(p):
    return np.array([p[0], p[1] ** 3 - p[1]])


def _rosenbrock(p):
    return (1.0 - p[0]) ** 2 + 100.0 * (p[1] - p[0] ** 2) ** 2


def _rosenbrock_grad(p):
    return np.array([-2.0 * (1.0 - p[0]) - 400.0 * p[0] * (p[1] - p[0] ** 2),
                     200.0 * (p[1] - p[0] ** 2)])


SURFACES = {
    "bowl": Surface("ill-conditioned bowl x²/20 + y²", _bowl, _bowl_grad, (-7.0, 2.0),
                    (-8.0, 8.0), (-3.0, 3.0), (0.0, 0.0)),
    "saddle": Surface("saddle x²/2 + y⁴/4 - y²/2", _saddle, _saddle_grad, (-1.5, 1e-4),
                      (-2.0, 2.0), (-1.6, 1.6), None, -0.25),
    "rosenbrock": Surface("Rosenbrock (1-x)² + 100 (y-x²)²", _rosenbrock, _rosenbrock_grad,
                          (-1.2, 1.0), (-2.0, 2.0), (-1.0, 3.0), (1.0, 1.0)),
}


def descend(rule, surface, config, steps):
    """Positions (steps + 1, 2) of ``rule`` started at ``surface.start``.

    Stops early (the rest repeats the last finite point, marked by the
    returned flag) if the position leaves the float range.
    """
    w = np.array(surface.start, dtype=np.float64)
    path = [w]
    config = dict(config)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            w, config = rule(w, surface.grad(w), config)
            if not np.all(np.isfinite(w)) or np.max(np.abs(w)) > 1e6:
                return np.array(path), True
            path.append(w)
    return np.array(path), False


def _final_gap(surface, path, diverged):
    """f at the end of the path minus the lowest value of f (inf if it diverged)."""
    return np.inf if diverged else max(0.0, float(surface.f(path[-1])) - surface.f_min)


def best_learning_rates(tables, rule_names, learning_rates, good=None):
    """(surface, rule) -> a learning rate from the sweep of ``lr_sweep``.

    With ``good``: the smallest learning rate that ended within ``good`` of the
    minimum (the most careful one that works, whose path is easiest to
    follow), else the one that ended lowest.  Without: the one that ended lowest.
    """
    out = {}
    for k, table in tables.items():
        for rule, row in zip(rule_names, table):
            ok = np.nonzero(row < good)[0] if good is not None else []
            finite = np.where(np.isfinite(row), row, np.inf)
            out[(k, rule)] = float(learning_rates[int(ok[0]) if len(ok) else int(np.argmin(finite))])
    return out


def plot_trajectories(rules, surfaces, steps, learning_rates, configs=None):
    """Paths of several rules over the contours of several surfaces, one panel each.

    ``rules`` maps a name to a rule; ``learning_rates[(surface key, name)]``
    is the learning rate each rule uses on each surface (``configs`` may add
    other settings per rule).  Prints f - min f after ``steps`` steps and the
    learning rate used, for every rule and surface.  Rules whose paths coincide
    stay visible: each rule has its own colour, dash and width (``line_style``),
    and the legend sits below the panels.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(surfaces), figsize=(5.2 * len(surfaces), 4.4))
    axes = np.atleast_1d(axes)
    finals = {}
    for ax, (key, surface) in zip(axes, surfaces.items()):
        xs = np.linspace(*surface.xlim, 300)
        ys = np.linspace(*surface.ylim, 300)
        gx, gy = np.meshgrid(xs, ys)
        z = surface.f(np.array([gx, gy]))
        ax.contour(gx, gy, np.log1p(z - z.min()), levels=25, cmap="Greys", linewidths=0.6)
        for i, (name, rule) in enumerate(rules.items()):
            config = {**(configs or {}).get(name, {}),
                      "learning_rate": learning_rates[(key, name)]}
            path, diverged = descend(rule, surface, config, steps)
            finals[(key, name)] = _final_gap(surface, path, diverged)
            ax.plot(path[:, 0], path[:, 1], label=name, **line_style(i))
            ax.plot(*path[-1], "o", color=f"C{i}", ms=4)
            if diverged:
                ax.annotate(f"{name} diverged", path[-1], fontsize=7, color=f"C{i}")
        ax.plot(*surface.start, "k^", ms=7)
        if surface.minimum is not None:
            ax.plot(*surface.minimum, "k*", ms=12)
        ax.set_xlim(surface.xlim)
        ax.set_ylim(surface.ylim)
        ax.set_title(surface.name, fontsize=10)
    fig.suptitle(f"{steps} steps of each rule (triangle: start, star: minimum)")
    fig.tight_layout()
    legend_below(fig, [axes[0]])
    width = max(len(n) for n in rules)
    print(f"f - min f after {steps} steps (learning rate used)")
    print(f"{'rule':<{width}}" + "".join(f" {k:>22}" for k in surfaces))
    for name in rules:
        print(f"{name:<{width}}" + "".join(
            f" {finals[(k, name)]:>11.2g} ({learning_rates[(k, name)]:>7.2g})" for k in surfaces))
    return fig


def lr_sweep(rules, surface, learning_rates, steps, configs=None):
    """f - min f after ``steps`` steps, every rule (rows) x learning rate (columns); inf: diverged."""
    configs = configs or {}
    table = np.empty((len(rules), len(learning_rates)))
    for i, (name, rule) in enumerate(rules.items()):
        for j, lr in enumerate(learning_rates):
            config = {**configs.get(name, {}), "learning_rate": float(lr)}
            path, diverged = descend(rule, surface, config, steps)
            table[i, j] = _final_gap(surface, path, diverged)
    return table


def plot_lr_heatmaps(tables, rule_names, learning_rates, steps, good=1e-3):
    """One heat map per surface: log10 (f - min f) after ``steps`` steps, rule x learning rate.

    ``tables`` maps a surface name to ``lr_sweep``'s table.  Diverged runs
    are drawn in black.  Prints, per surface and rule, the range of learning
    rates that reach f < ``good`` (how forgiving the rule is).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(tables), figsize=(5.4 * len(tables), 0.5 * len(rule_names) + 2))
    axes = np.atleast_1d(axes)
    for ax, (name, table) in zip(axes, tables.items()):
        with np.errstate(divide="ignore"):
            shown = np.log10(np.clip(table, 1e-12, None))
        shown = np.ma.masked_invalid(shown)
        cmap = plt.get_cmap("viridis").with_extremes(bad="black")
        im = ax.imshow(shown, cmap=cmap, aspect="auto", vmin=-12, vmax=2)
        ax.set_yticks(range(len(rule_names)), rule_names)
        ticks = list(range(0, len(learning_rates), max(1, len(learning_rates) // 6)))
        ax.set_xticks(ticks, [f"{learning_rates[t]:.0e}" for t in ticks], fontsize=8)
        ax.set_xlabel("learning rate")
        ax.set_title(f"{name}: log10(f - min f) after {steps} steps", fontsize=10)
        fig.colorbar(im, ax=ax, fraction=0.04)
    fig.suptitle("which learning rates work? (black: diverged)")
    fig.tight_layout()
    width = max(len(n) for n in rule_names)
    print(f"learning rates that reach f - min f < {good:g} after {steps} steps (how many)")
    print(f"{'rule':<{width}}" + "".join(f" {k:>22}" for k in tables))
    for i, rule in enumerate(rule_names):
        cells = []
        for table in tables.values():
            ok = [lr for lr, v in zip(learning_rates, table[i]) if v < good]
            cells.append(f"{min(ok):.0e} .. {max(ok):.0e} ({len(ok):2d})" if ok else "none")
        print(f"{rule:<{width}}" + "".join(f" {c:>22}" for c in cells))
    return fig


# --------------------------------------------------------------------------
# activations and gradients of deep nets at initialization
# --------------------------------------------------------------------------

def layer_activations(X, activation, init, num_layers, hidden_dim, rng, weight_scale=None):
    """Outputs of each of ``num_layers`` {affine - activation} layers at initialization.

    Biases are 0; weights come from ``init_weights(fan_in, hidden_dim, init,
    rng, weight_scale)``.  Returns a list of (N, hidden_dim) arrays.
    """
    forward, _ = layers.ACTIVATIONS[activation]
    h, out = X.reshape(len(X), -1), []
    for _ in range(num_layers):
        W = init_weights(h.shape[1], hidden_dim, init, rng, weight_scale)
        h, _ = forward(h @ W)
        out.append(h)
    return out


def _saturation(activation, a):
    """Share of outputs in the flat part of the activation (ReLU: exactly 0)."""
    if activation == "sigmoid":
        return float(np.mean((a < 0.02) | (a > 0.98)))
    if activation == "tanh":
        return float(np.mean(np.abs(a) > 0.96))
    return float(np.mean(a <= 0))


def plot_activation_grid(X, activations, inits, num_layers, hidden_dim, seed=0):
    """Histograms of every layer's outputs, one panel per (activation, init).

    ``inits`` maps a column title to (init scheme, weight_scale).  ReLU panels
    leave out the outputs that are exactly 0 (about half of them, a spike that
    would flatten everything else) and show the positive ones up to the 99th
    percentile; the printed table gives the share at 0.  Prints per panel the standard deviation of
    each layer's outputs and the share of saturated outputs (sigmoid below
    0.02 or above 0.98, |tanh| above 0.96, ReLU at 0).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(activations), len(inits),
                             figsize=(3.2 * len(inits), 2.4 * len(activations)), squeeze=False)
    print(f"{'activation':<8} {'init':<10} " + " ".join(f"{'layer ' + str(i + 1):>16}"
                                                       for i in range(num_layers)))
    print(f"{'':<19} " + " ".join(f"{'std / %sat':>16}" for _ in range(num_layers)))
    for r, activation in enumerate(activations):
        for c, (title, (scheme, scale)) in enumerate(inits.items()):
            outs = layer_activations(X, activation, scheme, num_layers, hidden_dim,
                                     np.random.default_rng(seed), scale)
            ax = axes[r, c]
            relu = activation not in ("sigmoid", "tanh")
            shown = [o.ravel()[o.ravel() > 0] if relu else o.ravel() for o in outs]
            lo, hi = {"sigmoid": (0, 1), "tanh": (-1, 1)}.get(activation, (0, None))
            if hi is None:
                hi = max([1e-12] + [float(np.percentile(v, 99)) for v in shown if v.size])
            bins = np.linspace(lo, hi, 31)
            cells = []
            for i, (o, v) in enumerate(zip(outs, shown)):
                # sigmoid and tanh are bounded; ReLU's panel ends at the 99th percentile, and
                # the top 1 % is left out rather than piled into the last bin
                ax.hist(v if relu else np.clip(v, lo, hi), bins=bins, histtype="step", lw=1.3,
                        color=plt.get_cmap("viridis")(i / max(1, num_layers - 1)),
                        label=f"layer {i + 1}", weights=np.full(v.size, 1.0 / o.size))
                cells.append(f"{float(np.std(o)):>9.2g} / {100 * _saturation(activation, o):3.0f}%")
            ax.set_title(f"{activation}, {title}" + (" (outputs > 0)" if relu else ""),
                         fontsize=9)
            ax.set_yticks([])
            ax.tick_params(labelsize=7)
            ax.locator_params(axis="x", nbins=4)
            print(f"{activation:<8} {title:<10} " + " ".join(f"{c:>16}" for c in cells))
    fig.suptitle(f"outputs of {num_layers} layers of {hidden_dim} units at initialization "
                 "(dark: first layer, light: last)")
    fig.tight_layout()
    legend_below(fig, [axes[0, 0]], ncol=num_layers)
    return fig


def gradient_norms_at_init(variants, X, y, seed=0):
    """name -> per-layer Frobenius norm of dL/dW_l of a freshly built reference network.

    ``variants`` maps a name to FullyConnectedNet keyword arguments.
    """
    out = {}
    for name, kwargs in variants.items():
        net = FullyConnectedNet(rng=np.random.default_rng(seed), **kwargs)
        with np.errstate(over="ignore"):
            _, grads = net.loss(X, y)
        out[name] = np.array([np.linalg.norm(grads[f"W{i}"])
                              for i in range(1, net.num_layers + 1)])
    return out


def plot_gradient_norms(norms, ax=None):
    """Per-layer gradient norms (log scale) of several networks; prints them and the
    ratio of the first layer's to the last layer's."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    width = max(len(n) for n in norms)
    depth = max(len(v) for v in norms.values())
    print(f"{'network':<{width}} " + " ".join(f"{'dW' + str(i + 1):>8}" for i in range(depth))
          + f" {'first/last':>11}")
    for i, (name, v) in enumerate(norms.items()):
        ax.plot(np.arange(1, len(v) + 1), v, "o-", color=f"C{i}", label=name)
        print(f"{name:<{width}} " + " ".join(f"{x:>8.1e}" for x in v)
              + f" {v[0] / v[-1]:>11.1e}")
    ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel("||dL/dW|| at initialization")
    ax.set_title("gradient size per layer")
    ax.figure.tight_layout()
    legend_below(ax.figure, [ax], ncol=3)
    return ax


def column_spread(W) -> float:
    """How different the columns (units) of W are: the mean over rows of the range
    (largest minus smallest entry) across columns.

    Exactly 0 when every unit has the same incoming weights.
    """
    W = np.asarray(W, dtype=np.float64)
    return float(np.mean(np.max(W, axis=1) - np.min(W, axis=1)))


# --------------------------------------------------------------------------
# weights over epochs
# --------------------------------------------------------------------------

def train_with_snapshots(model, data, **solver_kwargs):
    """Train with the Solver and return (solver, [params before training, after epoch 1, ...]).

    The parameters of each epoch come from the Solver's checkpoints (written
    to a temporary folder and read back).
    """
    from ..solver import Solver, load_checkpoint

    start = {k: v.copy() for k, v in model.params.items()}
    with tempfile.TemporaryDirectory() as folder:
        solver = Solver(model, data, checkpoint_name=str(Path(folder) / "run"), **solver_kwargs)
        solver.train()
        snaps = [start] + [load_checkpoint(Path(folder) / f"run_epoch_{e}.npz")["params"]
                           for e in range(1, solver.epoch + 1)]
    return solver, snaps


def relative_changes(snapshots, names):
    """(epochs, layers) array: ||W_e - W_(e-1)|| / ||W_(e-1)|| for every named weight."""
    return np.array([[np.linalg.norm(b[n] - a[n]) / max(1e-12, np.linalg.norm(a[n]))
                      for n in names] for a, b in zip(snapshots, snapshots[1:])])


def plot_weight_convergence(snapshots, num=50, seed=0, report_epochs=(1, 2, 5, 10, 20, 50)):
    """``num`` weights of every layer over the epochs, and each layer's change per epoch.

    Prints the relative change of every layer at some epochs and the epoch
    after which each layer's change stays below 10 % of its own first change.
    """
    import matplotlib.pyplot as plt

    names = sorted((k for k in snapshots[0] if k.startswith("W")), key=lambda k: int(k[1:]))
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(1, len(names) + 1, figsize=(3.3 * (len(names) + 1), 3.4))
    epochs = np.arange(len(snapshots))
    for ax, name in zip(axes, names):
        flat = np.array([s[name].ravel() for s in snapshots])
        pick = rng.choice(flat.shape[1], size=min(num, flat.shape[1]), replace=False)
        ax.plot(epochs, flat[:, pick], lw=0.8)
        ax.set_title(f"{name}: {len(pick)} of its {flat.shape[1]} weights", fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel("weight value")
    changes = relative_changes(snapshots, names)
    for i, name in enumerate(names):
        axes[-1].plot(epochs[1:], changes[:, i], "-", color=f"C{i}", label=name)
    axes[-1].set_yscale("log")
    axes[-1].set_xlabel("epoch")
    axes[-1].set_ylabel("relative change in epoch e")
    axes[-1].set_title("||W_e - W_(e-1)|| / ||W_(e-1)||", fontsize=9)
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    shown = [e for e in report_epochs if e <= len(changes)]
    print(f"{'layer':<6}" + "".join(f" {'epoch ' + str(e):>10}" for e in shown)
          + f" {'settled after':>14}")
    for i, name in enumerate(names):
        c = changes[:, i]
        above = np.nonzero(c >= 0.1 * c[0])[0]
        settled = int(above[-1]) + 2 if len(above) else 1
        settled_text = f"epoch {settled}" if settled <= len(c) else "not yet"
        print(f"{name:<6}" + "".join(f" {c[e - 1]:>10.2e}" for e in shown)
              + f" {settled_text:>14}")
    return fig


# --------------------------------------------------------------------------
# schedules
# --------------------------------------------------------------------------

def plot_schedules(schedules, num_iterations, base_lr, ax=None):
    """The learning rate of each named schedule over ``num_iterations``; prints a few values."""
    import matplotlib.pyplot as plt

    from ..schedules import factors

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8))
    marks = [0, num_iterations // 4, num_iterations // 2, num_iterations - 1]
    width = max(len(n) for n in schedules)
    print(f"{'schedule':<{width}}" + "".join(f" {'it ' + str(m):>10}" for m in marks))
    for i, (name, schedule) in enumerate(schedules.items()):
        lr = base_lr * factors(schedule, num_iterations)
        ax.plot(lr, color=f"C{i}", lw=2, label=name)
        print(f"{name:<{width}}" + "".join(f" {lr[m]:>10.2e}" for m in marks))
    ax.set_xlabel("iteration")
    ax.set_ylabel("learning rate")
    ax.set_title("learning-rate schedules")
    ax.legend(fontsize=8)
    return ax
