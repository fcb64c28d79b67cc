"""Notebook 5: visible checks of the hidden block {affine - norm - activation - dropout}
and of the network around it, and the grader's recipe for the chosen hyperparameters.

Expected values of the random cases are the course's answers on the visible inputs,
stored as data by `course release` (``assignments.expected``); the hidden cases give
theirs.  When graded, the block and the network run with the course's layers swapped in
(``assignments.adapters``); in the student's notebook, with the student's."""

from __future__ import annotations

import numpy as np

from ..adapters import library_building_blocks
from ..cases import Case, CheckFailed, compare, library, run_cases, student
from ..expected import Computed, Stored
from ..gradcheck import gradients_match
from ..recipes import Param, Recipe, grader_split

__all__ = [
    "BLOCK_OUTPUT", "block_forward_cases", "block_backward_cases", "net_init_cases",
    "net_loss_cases",
    "hyperparameter_cases", "check_block_forward", "check_block_backward", "check_net_init",
    "check_net_loss", "check_hyperparameters", "random_net", "block_inputs", "floor_case",
    "block_forward_call", "block_backward_call", "block_forward_case", "block_backward_case",
    "init_case", "recipe_accuracy", "loss_case", "scores_case", "gradcheck_case",
    "net_kwargs", "RECIPE", "TRAINING_DEFAULTS", "train_fc_net",
]


BLOCK_OUTPUT = ("out", ("cache", ("normalization", "activation", "affine_cache", "norm_cache",
                                  "activation_cache", "dropout_cache")), "next_state")


STORED = Stored("05_batchnorm_dropout", {})


# --------------------------------------------------------------------------
# the hidden block: run with the course's layers when graded
# --------------------------------------------------------------------------

def _rng(seed):
    return None if seed is None else np.random.default_rng(seed)


def block_forward_call(fn, x, params, state, normalization, keep_prob, mode, seed,
                       activation="relu"):
    """``fn(...)`` with rng = default_rng(seed), the building blocks swapped in."""
    with library_building_blocks(fn):
        return fn(x, params, state, normalization, keep_prob, mode, _rng(seed), activation)


def block_backward_call(fn, dout, cache):
    """``fn(dout, cache)`` with the building blocks swapped in."""
    with library_building_blocks(fn):
        return fn(dout, cache)


_BLOCK_FWD = library("assignments.notebooks.batchnorm_dropout_network:block_forward_call")
_BLOCK_BWD = library("assignments.notebooks.batchnorm_dropout_network:block_backward_call")


def block_inputs(rng, shape, hidden, normalization, scale=1.0, dtype=np.float64):
    """Random (x, params, state) for one hidden block."""
    D = int(np.prod(shape[1:]))
    x = (rng.normal(size=shape) * scale).astype(dtype)
    params = {"W": rng.normal(size=(D, hidden)).astype(dtype) / np.sqrt(D),
              "b": rng.normal(size=hidden).astype(dtype) * 0.1}
    state = {}
    if normalization is not None:
        params["gamma"] = rng.uniform(0.5, 1.5, size=hidden).astype(dtype)
        params["beta"] = rng.normal(size=hidden).astype(dtype) * 0.1
    if normalization == "batchnorm":
        state = {"running_mean": rng.normal(size=hidden).astype(dtype) * 0.1,
                 "running_var": rng.uniform(0.5, 2.0, size=hidden).astype(dtype)}
    return x, params, state


def block_forward_case(label, x, params, state, normalization, keep_prob, mode, seed,
                       activation="relu", forward=None):
    """A hidden_block_forward case; expected from ``forward`` (the hidden cases give the
    course's), else the course's answer stored."""
    args = (x, params, state, normalization, keep_prob, mode, seed, activation)
    if forward is None:
        expected = STORED.value(f"hidden_block_forward: {label}",
                                Computed(_BLOCK_FWD.name, (student("hidden_block_forward"),
                                                            *args)))
    else:
        expected = block_forward_call(forward, *args)
    return Case(label, (student("hidden_block_forward"), *args), call=_BLOCK_FWD,
                expected=expected, output=BLOCK_OUTPUT)


def block_backward_case(label, x, params, state, normalization, keep_prob, seed, dout_seed,
                        activation="relu", forward=None, backward=None):
    """A hidden_block_backward case on the course's cache of a train-mode forward pass
    (``forward`` / ``backward``: the course's, given by the hidden cases; else stored)."""
    made = Computed(_BLOCK_FWD.name, (student("hidden_block_forward"), x, params, state,
                                      normalization, keep_prob, "train", seed, activation))[1]
    dout = np.random.default_rng(dout_seed).normal(size=(x.shape[0], params["W"].shape[1]))
    if backward is None:
        cache = STORED.value(f"hidden_block cache: {label}", made)
        expected = STORED.value(f"hidden_block_backward: {label}",
                                Computed(_BLOCK_BWD.name, (student("hidden_block_backward"),
                                                            dout, made)))
    else:
        cache = block_forward_call(forward, x, params, state, normalization, keep_prob,
                                   "train", seed, activation)[1]
        expected = block_backward_call(backward, dout, cache)
    return Case(label, (student("hidden_block_backward"), dout, cache), call=_BLOCK_BWD,
                expected=expected, output=("dx", "grads"))


def block_forward_cases():
    """Visible cases for ``hidden_block_forward``."""
    rng = np.random.default_rng(60)
    cases = []
    for label, norm_kind, keep, mode in (
            ("no normalization, no dropout", None, 1.0, "train"),
            ("batch norm and dropout (keep_prob 0.6), train mode", "batchnorm", 0.6, "train"),
            ("batch norm and dropout, test mode", "batchnorm", 0.6, "test"),
            ("layer norm and dropout (keep_prob 0.75), train mode", "layernorm", 0.75, "train")):
        x, params, state = block_inputs(rng, (6, 5), 4, norm_kind, scale=2.0)
        cases.append(block_forward_case(f"x (6, 5), 4 units, {label}", x, params, state,
                                        norm_kind, keep, mode, 61))
    return cases


def block_backward_cases():
    """Visible cases for ``hidden_block_backward``."""
    rng = np.random.default_rng(62)
    cases = []
    for label, norm_kind, keep in (("no normalization, no dropout", None, 1.0),
                                   ("batch norm, dropout (keep_prob 0.6)", "batchnorm", 0.6),
                                   ("layer norm, dropout (keep_prob 0.75)", "layernorm", 0.75)):
        x, params, state = block_inputs(rng, (5, 2, 3), 4, norm_kind, scale=2.0)
        cases.append(block_backward_case(f"x (5, 2, 3), 4 units, {label}", x, params, state,
                                         norm_kind, keep, 63, 64))
    return cases


def check_block_forward(fn):
    """Check ``hidden_block_forward``."""
    run_cases(None, block_forward_cases(), name="hidden_block_forward",
              namespace={"hidden_block_forward": fn})


def check_block_backward(fn):
    """Check ``hidden_block_backward``."""
    run_cases(None, block_backward_cases(), name="hidden_block_backward",
              namespace={"hidden_block_backward": fn})


# --------------------------------------------------------------------------
# the network (run through assignments.adapters, with the course's layers when graded)
# --------------------------------------------------------------------------

NET = student("FullyConnectedNet")
_INIT = library("assignments.adapters:model_init")


def net_kwargs(input_dim, num_classes, normalization=None, keep_prob=1.0, reg=0.0, init="he",
               weight_scale=None):
    return {"input_dim": input_dim, "num_classes": num_classes, "init": init,
            "weight_scale": weight_scale, "reg": reg, "normalization": normalization,
            "keep_prob": keep_prob}


def _expected(adapter, label, reference, *args):
    """``adapters.<adapter>(reference, *args)`` (the hidden cases give the course's class),
    else the course's answer on the visible inputs, stored."""
    if reference is not None:
        from .. import adapters

        return getattr(adapters, adapter)(reference, *args)
    return STORED.value(f"{adapter}: {label}", Computed(f"assignments.adapters:{adapter}",
                                                        (NET, *args)))


def init_case(label, hidden_dims, kwargs, seeds=(0,), reference=None):
    """params and state of the network as built with the given seeds, exactly."""
    args = (list(hidden_dims),)
    expected = _expected("model_init", label, reference, args, kwargs, seeds)

    def verify(out, case):
        if not isinstance(out, (list, tuple)) or len(out) != len(expected):
            raise CheckFailed("expected one (params, state) pair per seed")
        for (params, state), (want_params, want_state) in zip(out, expected):
            for what, got, want in (("params", params, want_params),
                                    ("state", state, want_state)):
                extra = sorted(set(got) - set(want))
                if extra:
                    raise CheckFailed(f"{what} has entries it should not have: {extra}")
                compare(got, want, what, rtol=1e-6, atol=0, reveal=not case.hidden)

    return Case(label, (NET, args, kwargs, seeds), call=_INIT, verify=verify)


def net_init_cases():
    """Visible cases for ``FullyConnectedNet.__init__``: parameters and state."""
    return [
        init_case("hidden_dims [4, 3], input_dim 5, 2 classes, no normalization", [4, 3],
                  net_kwargs(5, 2)),
        init_case("hidden_dims [4, 3], batch norm", [4, 3], net_kwargs(5, 2, "batchnorm")),
        init_case("hidden_dims [6], layer norm", [6], net_kwargs(3, 4, "layernorm")),
    ]


def gradcheck_case(label, hidden_dims, kwargs, params, state, X, y, seed, reference=None):
    args = (list(hidden_dims),)
    loss = _expected("model_loss", label, reference, args, kwargs, params, X, y, state,
                     seed)[0]
    return Case(label, (NET, args, kwargs, params, X, y, state, seed),
                call=library("assignments.adapters:model_gradcheck"),
                verify=gradients_match(loss))


def loss_case(label, hidden_dims, kwargs, params, state, X, y, seed, reference=None):
    """(loss, grads, next state) in train mode, exactly as the course's network gives them."""
    args = (list(hidden_dims),)
    expected = _expected("model_loss", label, reference, args, kwargs, params, X, y, state,
                         seed)
    return Case(label, (NET, args, kwargs, params, X, y, state, seed),
                call=library("assignments.adapters:model_loss"), expected=expected,
                output=("loss", "grads", "state"))


def scores_case(label, hidden_dims, kwargs, params, state, X, mode, seed, reference=None):
    args = (list(hidden_dims),)
    expected = _expected("model_scores", label, reference, args, kwargs, params, X, state,
                         mode, seed)
    return Case(label, (NET, args, kwargs, params, X, state, mode, seed),
                call=library("assignments.adapters:model_scores"), expected=expected,
                output="scores")


def random_net(rng, hidden_dims, input_shape, num_classes, normalization, scale=1.0):
    """(params, state) of a random network (BN's running averages away from 0 and 1)."""
    dims = [int(np.prod(input_shape))] + list(hidden_dims) + [num_classes]
    params, state = {}, {}
    for i in range(1, len(dims)):
        params[f"W{i}"] = rng.normal(size=(dims[i - 1], dims[i])) * scale / np.sqrt(dims[i - 1])
        params[f"b{i}"] = rng.normal(size=dims[i]) * 0.1
        if normalization is not None and i < len(dims) - 1:
            params[f"gamma{i}"] = rng.uniform(0.5, 1.5, size=dims[i])
            params[f"beta{i}"] = rng.normal(size=dims[i]) * 0.2
            if normalization == "batchnorm":
                state[f"running_mean{i}"] = rng.normal(size=dims[i]) * 0.2
                state[f"running_var{i}"] = rng.uniform(0.5, 2.0, size=dims[i])
    return params, state


def net_loss_cases():
    """Visible cases for ``FullyConnectedNet.loss``: gradients, state, test-mode scores."""
    rng = np.random.default_rng(64)
    cases = []
    X = rng.normal(size=(6, 2, 3))
    y = np.array([0, 2, 1, 2, 0, 1])
    for norm_kind, keep, reg in ((None, 0.7, 0.1), ("batchnorm", 0.6, 0.05),
                                 ("layernorm", 0.8, 0.1)):
        kw = net_kwargs(6, 3, norm_kind, keep, reg)
        params, state = random_net(rng, [5, 4], (2, 3), 3, norm_kind)
        cases.append(gradcheck_case(
            f"hidden_dims [5, 4], normalization {norm_kind}, keep_prob {keep}, reg {reg}: "
            "numerical gradients (dropout masks fixed by a seed)", [5, 4], kw, params, state,
            X, y, 65))
    kw = net_kwargs(6, 3, "batchnorm", 0.6, 0.0)
    params, state = random_net(rng, [5, 4], (2, 3), 3, "batchnorm")
    cases.append(loss_case("batch norm and dropout: loss, grads and the updated running "
                           "averages", [5, 4], kw, params, state, X, y, 66))
    cases.append(scores_case("batch norm and dropout, scores in test mode (running averages, "
                             "no dropout)", [5, 4], kw, params, state, X, "test", 67))
    return cases


def check_net_init(cls):
    """Check ``FullyConnectedNet.__init__`` (params and state)."""
    run_cases(None, net_init_cases(), name="FullyConnectedNet.__init__",
              namespace={"FullyConnectedNet": cls})


def check_net_loss(cls):
    """Check ``FullyConnectedNet.loss`` with every normalization and dropout."""
    run_cases(None, net_loss_cases(), name="FullyConnectedNet.loss",
              namespace={"FullyConnectedNet": cls})


# --------------------------------------------------------------------------
# the chosen hyperparameters
# --------------------------------------------------------------------------

# What the notebook's search keeps fixed, and the grader too.
TRAINING_DEFAULTS = {"num_hidden_layers": 2, "batch_size": 100, "lr_decay": 0.95}


# How the grader judges the chosen hyperparameters: it trains the course's
# FullyConnectedNet (Adam, He init, float32) with them on a fixed split of
# the bundled data, width and epochs capped to keep it fast, and requires
# this validation accuracy.
RECIPE = Recipe(
    name="regularized fully connected net",
    space={"hidden_dim": Param("int", low=1),
           "learning_rate": Param("float", low=0.0, open_low=True),
           "reg": Param("float", low=0.0),
           "keep_prob": Param("float", low=0.0, high=1.0, open_low=True),
           "normalization": Param("choice", choices=(None, "batchnorm", "layernorm")),
           "num_epochs": Param("int", low=1)},
    prepare=grader_split(4000, 1000), min_val_acc=0.8, caps={"hidden_dim": 100, "num_epochs": 6},
    fixed=TRAINING_DEFAULTS, seed=2027)


def train_fc_net(settings, data, *, net_cls, update_rule, seed=0, progress=False):
    """Train ``net_cls`` (a FullyConnectedNet: yours) with a recipe's settings and
    ``update_rule`` (Adam: notebook 4's, from course_blocks); returns (solver, net).

    He initialization, ``num_hidden_layers`` hidden layers of ``hidden_dim`` units, float32.
    """
    from ..solver import Solver

    D = int(np.prod(data["X_train"].shape[1:]))
    C = int(max(np.max(data["y_train"]), np.max(data["y_val"]))) + 1
    net = net_cls([int(settings["hidden_dim"])] * int(settings["num_hidden_layers"]),
                  input_dim=D, num_classes=C, reg=float(settings["reg"]),
                  normalization=settings["normalization"],
                  keep_prob=float(settings["keep_prob"]), dtype=np.float32,
                  rng=np.random.default_rng(seed))
    solver = Solver(net, data, rng=np.random.default_rng(seed + 1), update_rule=update_rule,
                    optim_config={"learning_rate": float(settings["learning_rate"])},
                    lr_decay=settings["lr_decay"], batch_size=int(settings["batch_size"]),
                    num_epochs=int(settings["num_epochs"]), progress=progress).train()
    return solver, net


def recipe_accuracy(blocks, settings, data) -> float:
    """The grader's recipe: the course's network (``blocks``) trained with ``settings``."""
    from ..adapters import building_blocks

    with building_blocks(blocks), library_building_blocks(blocks["FullyConnectedNet"]):
        solver, _ = train_fc_net(settings, data, net_cls=blocks["FullyConnectedNet"],
                                 update_rule=blocks["adam"])
    return solver.best_val_acc


def hyperparameter_cases():
    """Visible case for ``chosen_hyperparameters()``: the format of the dict."""
    return [RECIPE.format_case(label="the dict of chosen hyperparameters")]


def floor_case(blocks):
    """Hidden case: the course's network (in ``blocks``) trained with the chosen values
    clears the floor."""
    import functools

    return RECIPE.floor_case(functools.partial(recipe_accuracy, blocks))


def check_hyperparameters(fn):
    """Check that ``fn()`` returns a dict with every key of ``RECIPE.space``."""
    run_cases(fn, hyperparameter_cases())
