"""Notebook 6: visible checks of ``ThreeLayerConvNet`` (run through the generic adapters
of ``assignments.adapters``: with the course's layers when graded) and the grader's recipe
for the chosen hyperparameters (the course's network, handed in by the grader)."""

from __future__ import annotations

import numpy as np

from ..cases import Case, library, run_cases, student
from ..gradcheck import gradients_match
from ..recipes import Param, Recipe, grader_split
from ..stat_checks import verify_model_init

__all__ = [
    "convnet_init_cases", "convnet_loss_cases", "hyperparameter_cases", "check_convnet_init",
    "check_convnet_loss", "check_hyperparameters", "convnet_kwargs", "convnet_init_case",
    "convnet_scores_case", "convnet_loss_case", "convnet_gradcheck_case", "toy_convnet",
    "TOY_SCORES", "TOY_LOSS", "RECIPE", "TRAINING_DEFAULTS", "train_convnet", "recipe_accuracy",
    "floor_case", "class_subset",
]


# --------------------------------------------------------------------------
# the network (run through the generic adapters of assignments.adapters)
# --------------------------------------------------------------------------

NET = student("ThreeLayerConvNet")


def convnet_kwargs(params, X, reg=0.0):
    """The keyword arguments that build a ThreeLayerConvNet for ``params`` and images ``X``."""
    F, _, fs, _ = np.shape(params["W1"])
    hidden, classes = np.shape(params["W3"])
    return {"input_dim": tuple(int(d) for d in np.shape(X)[1:]), "num_filters": int(F),
            "filter_size": int(fs), "hidden_dim": int(hidden), "num_classes": int(classes),
            "reg": reg}


def convnet_init_case(kwargs, seed, label=None):
    """A case for ThreeLayerConvNet.__init__: names, shapes, zero biases, weight scale, rng.

    The draw order is not part of the task, so the weights' scale is judged
    statistically (every weight array has >= 1,000 entries: a correct draw
    fails with probability below 1e-9, see ``verify_gaussian``).
    """
    C, H, W = kwargs["input_dim"]
    F, fs, hidden, classes = (kwargs["num_filters"], kwargs["filter_size"], kwargs["hidden_dim"],
                              kwargs["num_classes"])
    shapes = {"W1": (F, C, fs, fs), "b1": (F,), "W2": (F * (H // 2) * (W // 2), hidden),
              "b2": (hidden,), "W3": (hidden, classes), "b3": (classes,)}
    for name in ("W1", "W2", "W3"):
        assert np.prod(shapes[name]) >= 1000, "too few weights for a seed-proof check"
    scale = kwargs.get("weight_scale")
    fan_in = {"W1": C * fs * fs, "W2": shapes["W2"][0], "W3": hidden}
    std = {k: (np.sqrt(2.0 / n) if scale is None else scale) for k, n in fan_in.items()}
    setting = ("weight_scale=None (He: std sqrt(2 / fan_in), fan_in {fan})" if scale is None
               else f"weight_scale={scale:g}")

    def verify(out, case):
        verify_model_init(out, shapes, std, {k: setting.format(fan=n) for k, n in fan_in.items()})

    desc = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k != "reg")
    return Case(label or f"ThreeLayerConvNet({desc})", (NET, (), kwargs, (seed, seed, seed + 1)),
                call=library("assignments.adapters:model_init"), verify=verify)


def convnet_init_cases():
    """Visible cases for ``ThreeLayerConvNet.__init__``: a given scale, then He."""
    return [
        convnet_init_case({"input_dim": (1, 8, 8), "num_filters": 40, "filter_size": 5,
                           "hidden_dim": 50, "num_classes": 20, "weight_scale": 0.1}, 0),
        convnet_init_case({"input_dim": (3, 6, 6), "num_filters": 40, "filter_size": 3,
                           "hidden_dim": 100, "num_classes": 10, "weight_scale": None}, 7),
    ]


def convnet_scores_case(label, params, X, expected):
    return Case(label, (NET, (), convnet_kwargs(params, X), params, X), expected=expected,
                output="scores", call=library("assignments.adapters:model_scores"))


def convnet_gradcheck_case(label, params, X, y, reg, expected_loss=None):
    return Case(label, (NET, (), convnet_kwargs(params, X, reg), params, X, y),
                call=library("assignments.adapters:model_gradcheck"),
                verify=gradients_match(expected_loss))


def convnet_loss_case(label, params, X, y, reg, expected):
    """(loss, grads, state) compared exactly with ``expected`` from the course's network."""
    return Case(label, (NET, (), convnet_kwargs(params, X, reg), params, X, y),
                call=library("assignments.adapters:model_loss"), expected=expected,
                output=("loss", "grads", "state"))


def toy_convnet():
    """A network small enough to work out: one 4 x 4 image, one 3 x 3 filter, 2 classes.

    The filter is all zeros but for a 1 in the middle, b1 = 0: the conv layer
    copies the image (pad 1); ReLU keeps the positive pixels; the 2 x 2 pool
    keeps each quadrant's maximum.  W2 (4, 2) and W3 (2, 2) are chosen by hand.
    """
    X = np.array([[[[1.0, -2.0, 0.5, 3.0], [0.5, -1.0, -1.0, 2.0],
                    [-3.0, 4.0, 1.0, 1.5], [2.0, -0.5, -1.0, 0.5]]]])
    W1 = np.zeros((1, 1, 3, 3))
    W1[0, 0, 1, 1] = 1.0
    params = {"W1": W1, "b1": np.zeros(1),
              "W2": np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0], [-1.0, 1.0]]),
              "b2": np.array([0.0, -1.0]),
              "W3": np.array([[1.0, -1.0], [0.5, 2.0]]), "b3": np.array([0.0, 0.5])}
    return params, X, np.array([1])


# Pooled maxima of the toy image after ReLU: quadrants [[1, 0], [0.5, 0]] -> 1,
# [[0.5, 3], [0, 2]] -> 3, [[0, 4], [2, 0]] -> 4, [[1, 1.5], [0, 0.5]] -> 1.5: p = [1, 3, 4, 1.5].
# hidden: p @ W2 + b2 = [1 + 4 - 1.5, 3 - 4 + 1.5] + [0, -1] = [3.5, -0.5] -> ReLU [3.5, 0]
# scores: [3.5, 0] @ W3 + b3 = [3.5, -3.5] + [0, 0.5] = [3.5, -3]; label 1: loss log(1 + e^6.5).
# No pixel, conv output or hidden input is near 0 and no pool window has two maxima, so the
# numerical gradients are exact up to rounding.
TOY_SCORES = np.array([[3.5, -3.0]])
TOY_LOSS = float(np.log1p(np.exp(6.5)))


def convnet_loss_cases():
    """Visible cases for ``ThreeLayerConvNet.loss``: the toy net, then numerical gradients."""
    params, X, y = toy_convnet()
    rng = np.random.default_rng(74)
    rand = {"W1": rng.normal(size=(2, 1, 3, 3)), "b1": rng.normal(size=2) * 0.1,
            "W2": rng.normal(size=(8, 4)) * 0.5, "b2": rng.normal(size=4) * 0.1,
            "W3": rng.normal(size=(4, 3)), "b3": rng.normal(size=3) * 0.1}
    Xr = rng.normal(size=(3, 1, 4, 4))
    return [
        convnet_scores_case("toy net, one 4 x 4 image: scores (y=None)", params, X, TOY_SCORES),
        convnet_gradcheck_case("toy net: loss log(1 + e^6.5) and numerical gradients, reg = 0",
                               params, X, y, 0.0, TOY_LOSS),
        convnet_gradcheck_case("random net, 3 images of 4 x 4, reg = 0.1: numerical gradients",
                               rand, Xr, np.array([0, 2, 1]), 0.1),
    ]


def check_convnet_init(cls):
    """Check ``ThreeLayerConvNet.__init__`` (params, shapes, scale, use of rng)."""
    run_cases(None, convnet_init_cases(), name="ThreeLayerConvNet.__init__",
              namespace={"ThreeLayerConvNet": cls})


def check_convnet_loss(cls):
    """Check ``ThreeLayerConvNet.loss`` (scores, loss, gradients against numerical ones)."""
    run_cases(None, convnet_loss_cases(), name="ThreeLayerConvNet.loss",
              namespace={"ThreeLayerConvNet": cls})


# --------------------------------------------------------------------------
# the chosen hyperparameters
# --------------------------------------------------------------------------

# Settings the notebook keeps fixed (Adam, He initialisation, and these).
TRAINING_DEFAULTS = {"batch_size": 50, "lr_decay": 0.95}


RECIPE = Recipe(
    name="convnet (He initialisation, Adam)",
    space={"num_filters": Param("int", low=1), "filter_size": Param("choice", choices=(3, 5, 7)),
           "hidden_dim": Param("int", low=1),
           "learning_rate": Param("float", low=0.0, open_low=True),
           "reg": Param("float", low=0.0), "num_epochs": Param("int", low=1)},
    prepare=grader_split(2000, 1000), min_val_acc=0.72,
    caps={"num_filters": 8, "hidden_dim": 64, "num_epochs": 2},
    fixed=TRAINING_DEFAULTS, seed=2026)


def train_convnet(settings, data, *, net_cls, update_rule) -> float:
    """Best validation accuracy of ``net_cls`` (a ThreeLayerConvNet) trained with ``settings``
    and ``update_rule`` (Adam), in float32, He initialisation."""
    from ..solver import Solver

    data = {k: (v.astype(np.float32) if k.startswith("X_") else v) for k, v in data.items()}
    net = net_cls(data["X_train"].shape[1:], num_filters=int(settings["num_filters"]),
                  filter_size=int(settings["filter_size"]), hidden_dim=int(settings["hidden_dim"]),
                  reg=float(settings["reg"]), dtype=np.float32, rng=np.random.default_rng(0))
    solver = Solver(net, data, rng=np.random.default_rng(1), update_rule=update_rule,
                    optim_config={"learning_rate": float(settings["learning_rate"])},
                    lr_decay=settings["lr_decay"], batch_size=settings["batch_size"],
                    num_epochs=int(settings["num_epochs"]), progress=False).train()
    return solver.best_val_acc


def recipe_accuracy(blocks, settings, data) -> float:
    """The grader's recipe: the course's network (``blocks``: the course's answers, which the
    grader hands in) trained with ``settings``."""
    from ..adapters import building_blocks, library_building_blocks

    net_cls = blocks["ThreeLayerConvNet"]
    with building_blocks(blocks), library_building_blocks(net_cls):
        return train_convnet(settings, data, net_cls=net_cls, update_rule=blocks["adam"])


def floor_case(blocks):
    """Hidden case: the course's network (in ``blocks``) trained with the chosen values clears
    the floor."""
    import functools

    return RECIPE.floor_case(functools.partial(recipe_accuracy, blocks))


def hyperparameter_cases():
    """Visible case for ``chosen_hyperparameters()``: the format of the dict."""
    return [RECIPE.format_case(label="the dict of chosen hyperparameters")]


def check_hyperparameters(fn):
    """Check that ``fn()`` returns a dict with every key of the recipe, each in range."""
    run_cases(fn, hyperparameter_cases())


# --------------------------------------------------------------------------
# data for the transfer-learning experiment
# --------------------------------------------------------------------------

def class_subset(X, y, classes, per_class=None, rng=None):
    """The examples of ``classes`` (at most ``per_class`` of each, drawn by ``rng``), with
    their labels renumbered 0, 1, ... in the order of ``classes``."""
    classes = np.asarray(classes)
    keep = []
    for c in classes:
        idx = np.flatnonzero(y == c)
        if per_class is not None:
            if per_class > len(idx):
                raise ValueError(f"class {c} has only {len(idx)} examples, {per_class} requested")
            idx = rng.choice(idx, per_class, replace=False)
        keep.append(idx)
    keep = np.concatenate(keep)
    relabel = np.full(int(max(classes.max(), y.max())) + 1, -1)
    relabel[classes] = np.arange(len(classes))
    return X[keep], relabel[y[keep]]
