"""Notebook 4: visible checks of ``FullyConnectedNet`` (run through the generic adapters of
``assignments.adapters``, with the dtype given by name so that cases stay plain data) and
the grader's recipe for the chosen hyperparameters.

The parameters a network must build from a seed are the course's answer built from the
same seed, stored as data by `course release` (``assignments.expected``); scores, losses
and gradients are worked out by hand or checked against numerical gradients."""

from __future__ import annotations

import numpy as np

from .. import adapters
from ..cases import Case, CheckFailed, compare, library, run_cases, student
from ..expected import Computed, Stored
from ..gradcheck import gradients_match
from ..recipes import Param, Recipe, grader_split
from .optimizers_init import _dtype

__all__ = [
    "net_init", "net_scores", "net_loss", "net_gradcheck", "fc_init_cases", "fc_loss_cases",
    "hyperparameter_cases", "check_fc_init", "check_fc_loss", "check_hyperparameters",
    "net_init_case", "scores_case", "loss_case", "gradcheck_case", "RECIPE",
    "TRAINING_DEFAULTS", "train_fc_net",
]


# --------------------------------------------------------------------------
# the fully connected network (through the generic adapters, dtype by name)
# --------------------------------------------------------------------------

NET = student("FullyConnectedNet")


def _kwargs(kwargs):
    kwargs = dict(kwargs)
    if "dtype" in kwargs:
        kwargs["dtype"] = _dtype(kwargs["dtype"])
    return kwargs


def net_init(cls, kwargs, seeds):
    """``adapters.model_init`` with the dtype given by name; returns one params dict per seed."""
    return [params for params, _ in adapters.model_init(cls, (), _kwargs(kwargs), seeds)]


def net_scores(cls, kwargs, params, X):
    return adapters.model_scores(cls, (), _kwargs(kwargs), params, X)


def net_loss(cls, kwargs, params, X, y):
    """(loss, grads) of ``cls`` (the next state is dropped: this network has none)."""
    loss, grads, _ = adapters.model_loss(cls, (), _kwargs(kwargs), params, X, y)
    return loss, grads


def net_gradcheck(cls, kwargs, params, X, y):
    return adapters.model_gradcheck(cls, (), _kwargs(kwargs), params, X, y)


def net_kwargs(dims, activation="relu", init="he", weight_scale=None, reg=0.0,
               dtype="float64"):
    """Constructor keywords of a network with layer sizes ``dims`` = [D, H1, ..., C]."""
    kwargs = {"hidden_dims": list(dims[1:-1]), "input_dim": dims[0], "num_classes": dims[-1],
              "activation": activation, "init": init, "reg": reg}
    if weight_scale is not None:
        kwargs["weight_scale"] = weight_scale
    if dtype != "float64":
        kwargs["dtype"] = dtype
    return kwargs


def reference_params(cls, kwargs, seed):
    """The parameters ``cls`` (the course's answer) builds from ``seed``."""
    return adapters.model_init(cls, (), _kwargs(kwargs), [seed])[0][0]


def verify_net_init(expected, dtype):
    """Verify [params, params again, params of another seed] from ``net_init``."""
    want = np.dtype(_dtype(dtype))

    def verify(out, case):
        first, again, other = out
        missing = [k for k in expected if k not in first]
        if missing:
            raise CheckFailed(f"params has no entr{'y' if len(missing) == 1 else 'ies'} "
                              f"{', '.join(map(repr, missing))}; a network of "
                              f"{len(expected) // 2} layers has W1, b1, ..., "
                              f"W{len(expected) // 2}, b{len(expected) // 2}")
        for name, value in expected.items():
            got = first[name]
            if not isinstance(got, np.ndarray) or got.shape != value.shape:
                shape = got.shape if isinstance(got, np.ndarray) else type(got).__name__
                raise CheckFailed(f"params[{name!r}] must have shape {value.shape}, got {shape}")
            if got.dtype != want:
                raise CheckFailed(f"params[{name!r}] must have dtype {want} (the dtype "
                                  f"argument), got {got.dtype}")
            if name.startswith("b") and np.any(got != 0):
                raise CheckFailed(f"params[{name!r}] must start at zero")
            try:
                compare(got, value, f"params[{name!r}]", rtol=1e-6, atol=1e-12,
                        reveal=not case.hidden)
            except CheckFailed as err:
                raise CheckFailed(f"{err}; draw W1, W2, ... in this order, each with one call "
                                  "init_weights(fan_in, fan_out, init, rng, weight_scale, "
                                  "dtype)") from None
        for name in expected:
            if name.startswith("W") and not np.array_equal(first[name], again[name]):
                raise CheckFailed(f"two networks built with generators of the same seed have "
                                  f"different {name}: draw every random number from `rng`")
    return verify


def net_init_case(label, kwargs, seed, expected):
    """A case for ``FullyConnectedNet.__init__``: built with seeds (seed, seed, seed + 1);
    ``expected``: the course's answer's parameters from ``seed``."""
    return Case(label, (NET, kwargs, [seed, seed, seed + 1]),
                call=library("assignments.notebooks.optimizers_init_network:net_init"),
                verify=verify_net_init(expected, kwargs.get("dtype", "float64")))


VISIBLE_INIT = [   # label, constructor keywords, seed
    ("3 layers [20, 15, 10, 5], he", net_kwargs([20, 15, 10, 5]), 0),
    ("2 layers [12, 30, 3], xavier, float32",
     net_kwargs([12, 30, 3], init="xavier", dtype="float32"), 1),
    ("no hidden layer [8, 4], gaussian std 0.1",
     net_kwargs([8, 4], init="gaussian", weight_scale=0.1), 2),
]
STORED = Stored("04_optimizers_init", {
    f"FullyConnectedNet: {label}": Computed(
        "assignments.notebooks.optimizers_init_network:reference_params", (NET, kwargs, seed))
    for label, kwargs, seed in VISIBLE_INIT})


def fc_init_cases():
    """Visible cases for ``FullyConnectedNet.__init__``."""
    return [net_init_case(label, kwargs, seed, STORED[f"FullyConnectedNet: {label}"])
            for label, kwargs, seed in VISIBLE_INIT]


def check_fc_init(cls):
    """Check ``FullyConnectedNet.__init__`` (names, shapes, dtypes, init_weights in order)."""
    run_cases(None, fc_init_cases(), name="FullyConnectedNet.__init__",
              namespace={"FullyConnectedNet": cls})


def scores_case(label, kwargs, params, X, expected):
    return Case(label, (NET, kwargs, params, X), expected=expected, output="scores",
                call=library("assignments.notebooks.optimizers_init_network:net_scores"))


def gradcheck_case(label, kwargs, params, X, y, expected_loss=None):
    return Case(label, (NET, kwargs, params, X, y), verify=gradients_match(expected_loss),
                call=library("assignments.notebooks.optimizers_init_network:net_gradcheck"))


def loss_case(label, kwargs, params, X, y, expected):
    return Case(label, (NET, kwargs, params, X, y), expected=expected, output=("loss", "grads"),
                call=library("assignments.notebooks.optimizers_init_network:net_loss"))


def toy_net():
    """(kwargs, params, X, y, scores, loss) of a 3-layer network worked out by hand.

    X = [[1, 2], [-1, 0]];  W1 = [[1, -1], [1, 1]], b1 = [0, -0.5]:
      X W1 + b1 = [[3, 1 - 0.5], [-1, 1 - 0.5]] = [[3, 0.5], [-1, 0.5]];  ReLU: [[3, 0.5], [0, 0.5]]
    W2 = [[1, 0], [-1, 2]], b2 = [0, 1]:
      h W2 + b2 = [[3 - 0.5, 1 + 1], [-0.5, 1 + 1]] = [[2.5, 2], [-0.5, 2]];  ReLU: [[2.5, 2], [0, 2]]
    W3 = [[1, 0, 0], [0, 1, -1]], b3 = [0, 0, 1]:  scores = [[2.5, 2, -1], [0, 2, -1]]
    labels [0, 1]: loss = (log(e^2.5 + e^2 + e^-1) - 2.5 + log(1 + e^2 + e^-1) - 2) / 2
    sum of squared weights: 4 + 6 + 3 = 13
    """
    params = {"W1": np.array([[1.0, -1.0], [1.0, 1.0]]), "b1": np.array([0.0, -0.5]),
              "W2": np.array([[1.0, 0.0], [-1.0, 2.0]]), "b2": np.array([0.0, 1.0]),
              "W3": np.array([[1.0, 0.0, 0.0], [0.0, 1.0, -1.0]]), "b3": np.array([0.0, 0.0, 1.0])}
    X = np.array([[1.0, 2.0], [-1.0, 0.0]])
    y = np.array([0, 1])
    scores = np.array([[2.5, 2.0, -1.0], [0.0, 2.0, -1.0]])
    loss = (np.log(np.exp(2.5) + np.exp(2.0) + np.exp(-1.0)) - 2.5
            + np.log(1.0 + np.exp(2.0) + np.exp(-1.0)) - 2.0) / 2
    return net_kwargs([2, 2, 2, 3]), params, X, y, scores, loss


TOY_SQUARED_WEIGHTS = 13.0


def toy_tanh_scores():
    """The toy network's scores with tanh as its activation (same weights as ``toy_net``):
      layer 1: tanh([[3, 0.5], [-1, 0.5]]) = h;   layer 2: tanh([h0 - h1, 2 h1 + 1]) = g
      scores = [g0, g1, 1 - g1]"""
    h = np.tanh(np.array([[3.0, 0.5], [-1.0, 0.5]]))
    g = np.tanh(np.column_stack([h[:, 0] - h[:, 1], 2 * h[:, 1] + 1]))
    return np.column_stack([g[:, 0], g[:, 1], 1 - g[:, 1]])


def _random_params(rng, dims, scale=1.0):
    params = {}
    for i in range(1, len(dims)):
        params[f"W{i}"] = rng.normal(size=(dims[i - 1], dims[i])) * scale
        params[f"b{i}"] = rng.normal(size=dims[i]) * scale
    return params


def fc_loss_cases():
    """Visible cases for ``FullyConnectedNet.loss``: the toy net, then numerical gradients."""
    kwargs, params, X, y, scores, loss = toy_net()
    rng = np.random.default_rng(7)
    dims = [6, 5, 4, 3]
    rand = _random_params(rng, dims)
    Xr, yr = rng.normal(size=(4, 2, 3)), np.array([0, 2, 1, 2])
    one = _random_params(rng, [5, 3])
    Xo, yo = rng.normal(size=(3, 5)), np.array([2, 0, 1])
    return [
        scores_case("toy 3-layer net: scores (y=None)", kwargs, params, X, scores),
        scores_case("toy 3-layer net with tanh: scores (y=None)", {**kwargs, "activation": "tanh"},
                    params, X, toy_tanh_scores()),
        gradcheck_case("toy net: loss and gradients, reg = 0", kwargs, params, X, y, loss),
        gradcheck_case("toy net: loss and gradients, reg = 0.1", {**kwargs, "reg": 0.1}, params,
                       X, y, loss + 0.1 * TOY_SQUARED_WEIGHTS),
        gradcheck_case("no hidden layer (a softmax classifier), reg = 0.2",
                       net_kwargs([5, 3], reg=0.2), one, Xo, yo),
        gradcheck_case("3 layers, tanh, inputs (4, 2, 3), reg = 0.05",
                       net_kwargs(dims, activation="tanh", reg=0.05), rand, Xr, yr),
    ]


def check_fc_loss(cls):
    """Check ``FullyConnectedNet.loss`` (scores, loss, gradients)."""
    run_cases(None, fc_loss_cases(), name="FullyConnectedNet.loss",
              namespace={"FullyConnectedNet": cls})


# --------------------------------------------------------------------------
# the chosen hyperparameters
# --------------------------------------------------------------------------

# Settings the notebook keeps fixed while it searches the others.
TRAINING_DEFAULTS = {"batch_size": 100, "lr_decay": 0.9}


# How the grader judges the chosen hyperparameters: it trains the course's
# FullyConnectedNet (its answer) with them on a fixed split of the bundled data,
# with the network's size and the epochs capped, and requires this accuracy.
RECIPE = Recipe(
    name="fully connected net",
    space={"update_rule": Param("choice", choices=("sgd", "sgd_momentum", "nesterov_momentum",
                                                   "adagrad", "rmsprop", "adam")),
           "learning_rate": Param("float", low=0.0, open_low=True),
           "reg": Param("float", low=0.0),
           "init": Param("choice", choices=("he", "xavier")),
           "hidden_dim": Param("int", low=1),
           "num_layers": Param("int", low=1),
           "num_epochs": Param("int", low=1)},
    prepare=grader_split(4000, 1000), min_val_acc=0.75,
    caps={"hidden_dim": 64, "num_layers": 4, "num_epochs": 8},
    fixed=TRAINING_DEFAULTS, seed=2026)


def train_fc_net(net_cls, settings, data, blocks) -> float:
    """Best validation accuracy of ``net_cls`` trained with a recipe's settings.

    The network has ``num_layers`` layers (``num_layers - 1`` hidden layers of
    ``hidden_dim`` ReLU units); ``blocks`` (the course's answers: layers, update
    rules) are swapped in, and the update rule is the one of that name among them.
    """
    from ..solver import Solver

    D = int(np.prod(data["X_train"].shape[1:]))
    hidden = [int(settings["hidden_dim"])] * (int(settings["num_layers"]) - 1)
    with adapters.building_blocks(blocks), adapters.library_building_blocks(net_cls):
        net = net_cls(hidden, input_dim=D, num_classes=10, init=settings["init"],
                      reg=float(settings["reg"]), rng=np.random.default_rng(0))
        solver = Solver(net, data, rng=np.random.default_rng(1),
                        update_rule=blocks[settings["update_rule"]],
                        optim_config={"learning_rate": float(settings["learning_rate"])},
                        lr_decay=settings["lr_decay"], batch_size=settings["batch_size"],
                        num_epochs=int(settings["num_epochs"]), progress=False).train()
    return solver.best_val_acc


def hyperparameter_cases():
    """Visible case for ``chosen_hyperparameters()``: the format of the dict."""
    return [RECIPE.format_case(label="the dict of chosen hyperparameters")]


def check_hyperparameters(fn):
    """Check that ``fn()`` returns a dict with every key of the recipe, in range."""
    run_cases(fn, hyperparameter_cases())
