"""Notebook 3 (a two-layer network): the network's checks, the grader's recipe, experiments.

The network's cases run the student's ``TwoLayerNet`` through
``assignments.adapters``: when graded, with the course's layers as building
blocks, so a bug in one of the student's layers costs that layer's cell only;
in the student's own notebook, with the student's layers.  ``train_net`` is the one
place where the notebook's experiments (and the grader's recipe) build a
network and train it with the ``Solver``: an experiment is a dict of named
settings and one loop.
"""

from __future__ import annotations

import numpy as np

from ..cases import Case, block, block_refs, library, run_cases, student
from ..gradcheck import gradients_match
from ..recipes import Param, Recipe, grader_split
from ..stat_checks import verify_model_init

__all__ = [
    "two_layer_init_cases", "two_layer_loss_cases", "hyperparameter_cases",
    "check_two_layer_init", "check_two_layer_loss", "check_hyperparameters",
    "net_args", "init_case", "scores_case", "gradcheck_case", "loss_case", "toy_net",
    "TOY_SCORES", "TOY_LOSS", "RECIPE", "TRAINING_DEFAULTS", "train_net", "train_two_layer",
]


NET = student("TwoLayerNet")


ACTIVATION_REFS = {   # activations by name, as references the case resolves where it runs
    "sigmoid": (block("sigmoid_forward"), block("sigmoid_backward")),
    "tanh": (library("assignments.layers:tanh_forward"),
             library("assignments.layers:tanh_backward")),
    "leaky relu": (library("assignments.layers:leaky_relu_forward"),
                   library("assignments.layers:leaky_relu_backward")),
}


def net_args(params, reg=0.0, activation=None):
    """(args, kwargs) that build a TwoLayerNet shaped like ``params``.

    ``activation`` names a pair ("sigmoid", "tanh" ...); it travels as two
    references (the course's sigmoid is a building block, tanh the library's),
    so the case stays plain data.
    """
    D, H = np.shape(params["W1"])
    C = np.shape(params["W2"])[1]
    kwargs = {"weight_scale": 1e-3, "reg": reg}
    if activation is not None:
        kwargs["activation"] = ACTIVATION_REFS[activation]
    return (D, H, C), kwargs


# The toy network of the notebook, worked out by hand there:
#   hidden pre-activations  X @ W1 + b1 = [[1, 1, -3], [3, -4, 3]]
#   after ReLU              h           = [[1, 1, 0], [3, 0, 3]]
#   scores                  h @ W2 + b2 = [[1, 3], [0, 1]]
#   with labels y = [1, 0]: loss = (ln(1 + e^-2) + ln(1 + e^1)) / 2
#   sum of squared weights: 7 (W1) + 6 (W2) = 13, so reg = 0.1 adds 1.3
def toy_net():
    """(params, X, y) of the notebook's hand-worked toy network."""
    params = {
        "W1": np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -2.0]]),
        "b1": np.array([0.0, 0.0, 1.0]),
        "W2": np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, 0.0]]),
        "b2": np.array([0.0, 1.0]),
    }
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    y = np.array([1, 0])
    return params, X, y


TOY_SCORES = np.array([[1.0, 3.0], [0.0, 1.0]])
# The same network with a sigmoid hidden layer, s(z) = 1 / (1 + e^-z):
#   h = [[s(1), s(1), s(-3)], [s(3), s(-4), s(3)]], scores = [h0 - h2, 2 h1 + 1]
#   s(1) = 0.7310585786300049, s(-3) = 0.04742587317756678, s(-4) = 0.01798620996209156
TOY_SIGMOID_SCORES = np.array([[0.7310585786300049 - 0.04742587317756678,
                                2 * 0.7310585786300049 + 1],
                               [0.0, 2 * 0.01798620996209156 + 1]])
TOY_LOSS = (np.log1p(np.exp(-2.0)) + np.log1p(np.exp(1.0))) / 2


def init_case(input_dim, hidden_dim, num_classes, weight_scale, seed, label=None):
    """A case for TwoLayerNet.__init__: shapes, zero biases, the scale of the weights, the rng.

    The network is built with seeds (seed, seed, seed + 1).  The weights' draw
    order is not part of the task, so their scale is judged statistically; every
    weight matrix has at least 1,000 entries, which bounds the chance that a
    correct implementation fails below 1e-9 (see ``verify_gaussian``).
    """
    shapes = {"W1": (input_dim, hidden_dim), "b1": (hidden_dim,),
              "W2": (hidden_dim, num_classes), "b2": (num_classes,)}
    for name in ("W1", "W2"):
        if np.prod(shapes[name]) < 1000:   # a bug of the case, not of the student
            raise ValueError(f"init_case: {name} has only {np.prod(shapes[name])} entries; the "
                             "statistical check needs >= 1,000 to be seed-proof")

    def verify(out, case):
        weights = {"W1": weight_scale, "W2": weight_scale}
        verify_model_init(out, shapes, weights, dict.fromkeys(weights,
                                                              f"weight_scale={weight_scale:g}"))

    return Case(label or f"TwoLayerNet({input_dim}, {hidden_dim}, {num_classes}, "
                         f"weight_scale={weight_scale:g})",
                (NET, (input_dim, hidden_dim, num_classes), {"weight_scale": weight_scale},
                 (seed, seed, seed + 1)),
                call=library("assignments.adapters:model_init"), verify=verify)


def two_layer_init_cases():
    """Visible cases for ``TwoLayerNet.__init__``: shapes, scale, zero biases, rng.

    False-failure bounds of the statistical scale check (``verify_gaussian``) for a
    correct draw: W1 2,560 entries 1.3e-42, W2 1,000 entries 4.5e-17; W1 10,000 2.4e-164,
    W2 1,000 4.5e-17: below 1e-16 in all.
    """
    return [init_case(64, 40, 25, 1e-2, 0), init_case(100, 100, 10, 0.5, 11)]


def scores_case(label, params, X, expected, activation=None):
    args, kwargs = net_args(params, 0.0, activation)
    return Case(label, (NET, args, kwargs, params, X), expected=expected, output="scores",
                call=library("assignments.adapters:model_scores"))


def gradcheck_case(label, params, X, y, reg, expected_loss=None, activation=None):
    args, kwargs = net_args(params, reg, activation)
    return Case(label, (NET, args, kwargs, params, X, y),
                call=library("assignments.adapters:model_gradcheck"),
                verify=gradients_match(expected_loss))


def loss_case(label, params, X, y, reg, expected, activation=None):
    """A case comparing (loss, grads) exactly with ``expected`` from the reference network."""
    args, kwargs = net_args(params, reg, activation)
    return Case(label, (NET, args, kwargs, params, X, y),
                call=library("assignments.adapters:model_loss"), expected=expected,
                output=("loss", "grads", "state"))


def two_layer_loss_cases():
    """Visible cases for ``TwoLayerNet.loss``: the toy net and numerical gradients."""
    params, X, y = toy_net()
    rng = np.random.default_rng(6)
    D, H, C, N = 6, 5, 3, 4
    rand = {"W1": rng.normal(size=(D, H)), "b1": rng.normal(size=H),
            "W2": rng.normal(size=(H, C)), "b2": rng.normal(size=C)}
    Xr = rng.normal(size=(N, 2, 3))
    yr = np.array([0, 2, 1, 2])
    return [
        scores_case("toy net: scores (y=None)", params, X, TOY_SCORES),
        scores_case("toy net with a sigmoid hidden layer: scores (y=None)", params, X,
                    TOY_SIGMOID_SCORES, activation="sigmoid"),
        gradcheck_case("toy net: loss and gradients, reg = 0", params, X, y, 0.0, TOY_LOSS),
        gradcheck_case("toy net: loss and gradients, reg = 0.1", params, X, y, 0.1,
                       TOY_LOSS + 0.1 * 13),
        gradcheck_case("random net, inputs (4, 2, 3), reg = 0.3: numerical gradients",
                       rand, Xr, yr, 0.3),
    ]


def check_two_layer_init(cls):
    """Check ``TwoLayerNet.__init__`` (params, shapes, scale, use of rng)."""
    run_cases(None, two_layer_init_cases(), name="TwoLayerNet.__init__",
              namespace={"TwoLayerNet": cls})


def check_two_layer_loss(cls):
    """Check ``TwoLayerNet.loss`` (scores, loss, gradients) with the notebook's own layers
    (the sigmoid of a case with a sigmoid hidden layer is the one ``cls`` sees)."""
    cases = two_layer_loss_cases()
    seen = getattr(getattr(cls, "loss", None), "__globals__", {})
    namespace = {name: seen[name] for c in cases for name in block_refs(c.args) if name in seen}
    run_cases(None, cases, name="TwoLayerNet.loss", namespace={**namespace, "TwoLayerNet": cls})


# --------------------------------------------------------------------------
# the chosen hyperparameters
# --------------------------------------------------------------------------

# Settings the notebook keeps fixed while it searches the others.
TRAINING_DEFAULTS = {"weight_scale": 1e-2, "batch_size": 100, "lr_decay": 0.95}


# How the grader judges the chosen hyperparameters: it trains a fresh network
# (the course's reference implementation) with them on a fixed split of the
# bundled data, with hidden_dim and num_epochs capped to keep it fast, and
# requires this validation accuracy.
RECIPE = Recipe(
    name="two-layer net",
    space={"hidden_dim": Param("int", low=1), "learning_rate": Param("float", low=0.0,
                                                                      open_low=True),
           "reg": Param("float", low=0.0), "num_epochs": Param("int", low=1)},
    prepare=grader_split(4000, 1000), min_val_acc=0.75, caps={"hidden_dim": 64, "num_epochs": 8},
    fixed=TRAINING_DEFAULTS, seed=2026)


def train_net(net_cls, data, *, hidden_dim, learning_rate, num_epochs, reg=0.0,
              weight_scale=TRAINING_DEFAULTS["weight_scale"],
              batch_size=TRAINING_DEFAULTS["batch_size"], lr_decay=TRAINING_DEFAULTS["lr_decay"],
              activation=None, w1_gain=1.0, num_classes=None, seed=0, progress=False):
    """Build ``net_cls(D, hidden_dim, C, ...)`` and train it with the Solver; returns the Solver.

    The network draws its weights from a Generator of ``seed``, the Solver its
    minibatches from one of ``seed + 1``.  ``w1_gain`` multiplies the initial first-layer
    weights (notebook 3's saturation experiment); ``activation`` is a (forward, backward)
    pair or None (ReLU).  D is read from the data, C (if not given) from the labels.
    The returned Solver also keeps the parameters it started from, ``initial_params``.
    """
    from ..solver import Solver

    D = int(np.prod(data["X_train"].shape[1:]))
    C = int(num_classes or int(np.max(data["y_train"])) + 1)
    extra = {} if activation is None else {"activation": activation}
    net = net_cls(D, int(hidden_dim), C, weight_scale=weight_scale, reg=float(reg),
                  rng=np.random.default_rng(seed), **extra)
    if w1_gain != 1.0:
        net.params["W1"] = w1_gain * net.params["W1"]
    solver = Solver(net, data, rng=np.random.default_rng(seed + 1),
                    optim_config={"learning_rate": float(learning_rate)}, lr_decay=lr_decay,
                    batch_size=int(batch_size), num_epochs=int(num_epochs), progress=progress)
    solver.initial_params = {k: np.array(v, copy=True) for k, v in net.params.items()}
    return solver.train()


def train_two_layer(net_cls, settings, data, blocks=None) -> float:
    """Best validation accuracy of ``net_cls`` trained with a recipe's settings (with
    ``blocks``, the course's layers, swapped in: the grader's recipe)."""
    from ..adapters import building_blocks, library_building_blocks

    with building_blocks(blocks or {}), library_building_blocks(net_cls):
        solver = train_net(net_cls, data, num_classes=10, seed=0,
                           **{k: settings[k] for k in ("hidden_dim", "learning_rate", "reg",
                                                       "num_epochs", "weight_scale",
                                                       "batch_size", "lr_decay")})
    return solver.best_val_acc


def hyperparameter_cases():
    """Visible case for ``chosen_hyperparameters()``: the format of the dict."""
    return [RECIPE.format_case(label="the dict of chosen hyperparameters")]


def check_hyperparameters(fn):
    """Check that ``fn()`` returns a dict with hidden_dim, learning_rate, reg, num_epochs."""
    run_cases(fn, hyperparameter_cases())


