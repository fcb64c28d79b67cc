"""Notebook 4 (update rules, schedules, initialization): visible checks, adapters, recipe.

The update rules are checked through ``run_steps``, which calls a rule
several times, feeding each returned config into the next call as the
``Solver`` does, and refuses anything that breaks the pure contract
(changed inputs, a float32 parameter coming back as float64).  The weight
initialization is checked through ``init_from_seed``, which hands the
student's function a fresh Generator of a given seed: the task fixes the
draw order, so the result must equal the reference drawn from the same
state.  The network is checked through the generic adapters of
``assignments.adapters`` (the course's reference layers and reference
``init_weights`` swapped in), wrapped here so that the dtype can travel as
a name.  The pictures live in ``optimizers_init_plots``.
"""

from __future__ import annotations

import copy

import numpy as np

from .. import adapters
from ..cases import Case, CheckFailed, compare, library, run_cases, student
from ..gradcheck import gradients_match
from ..recipes import Param, Recipe, grader_split

__all__ = [
    "run_steps", "init_from_seed", "net_init", "net_scores", "net_loss", "net_gradcheck",
    "rule_cases", "init_weights_cases", "fc_init_cases", "fc_loss_cases",
    "hyperparameter_cases", "check_sgd_momentum", "check_nesterov_momentum", "check_adagrad",
    "check_rmsprop", "check_adam", "check_init_weights", "check_fc_init", "check_fc_loss",
    "check_hyperparameters", "steps_case", "init_case", "net_init_case", "scores_case",
    "loss_case", "gradcheck_case", "RECIPE", "TRAINING_DEFAULTS", "train_fc_net",
    "RULE_DEFAULTS", "STEPS_OUTPUT",
]

# --------------------------------------------------------------------------
# update rules
# --------------------------------------------------------------------------

# hyperparameters each rule must fill in when the config leaves them out
RULE_DEFAULTS = {
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "nesterov_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-8},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}

STEPS_OUTPUT = ("w after each step", "config after the last step")


def _snapshot(value):
    return copy.deepcopy(value)


def _changed_part(before, after, name):
    """The first part of ``after`` that differs from ``before`` (a name), or None."""
    if isinstance(before, np.ndarray):
        same = (isinstance(after, np.ndarray) and after.shape == before.shape
                and np.array_equal(after, before, equal_nan=True))
        return None if same else name
    if isinstance(before, dict):
        if not isinstance(after, dict) or set(after) != set(before):
            added = sorted(set(after) - set(before)) if isinstance(after, dict) else []
            return f"{name} (keys added: {', '.join(map(repr, added))})" if added else name
        for k in before:
            found = _changed_part(before[k], after[k], f"{name}[{k!r}]")
            if found:
                return found
    return None


def run_steps(rule, w, dws, config):
    """Call ``rule`` once per gradient in ``dws``, passing each returned config on.

    Returns (the parameters after each step stacked into one array of shape
    (steps, *w.shape), the config returned by the last step).  Raises
    ``CheckFailed`` when a step breaks the contract: a result that is not a
    pair (array, dict), an array of the wrong shape or dtype, or an input
    (``w``, ``dw``, ``config`` or an array inside it) changed in place.
    """
    name = getattr(rule, "__name__", "the rule")
    history = []
    for step, dw in enumerate(dws, start=1):
        before = (_snapshot(w), _snapshot(dw), _snapshot(config))
        out = rule(w, dw, config)
        for what, b, a in (("w", before[0], w), ("dw", before[1], dw),
                           ("config", before[2], config)):
            part = _changed_part(b, a, what)
            if part:
                raise CheckFailed(f"step {step}: {name} changed its input {part} in place; "
                                  "update rules must be pure: compute new arrays and return "
                                  "a new dict, e.g. {**config, 'velocity': v}")
        if not isinstance(out, tuple) or len(out) != 2:
            raise CheckFailed(f"step {step}: {name} must return a tuple (next_w, next_config), "
                              f"got {type(out).__name__}")
        next_w, next_config = out
        if not isinstance(next_w, np.ndarray) or next_w.shape != np.shape(w):
            got = (f"shape {next_w.shape}" if isinstance(next_w, np.ndarray)
                   else type(next_w).__name__)
            raise CheckFailed(f"step {step}: next_w must be an array of shape {np.shape(w)}, "
                              f"got {got}")
        if next_w.dtype != np.asarray(w).dtype:
            raise CheckFailed(f"step {step}: w has dtype {np.asarray(w).dtype} but next_w has "
                              f"dtype {next_w.dtype}; keep the parameters' dtype")
        if not isinstance(next_config, dict):
            raise CheckFailed(f"step {step}: next_config must be a dict, got "
                              f"{type(next_config).__name__}")
        history.append(np.array(next_w, copy=True))
        w, config = next_w, next_config
    return np.stack(history), config


def steps_case(label, rule, w, dws, config, expected):
    """A case: ``run_steps`` of the student's ``rule`` must give ``expected``.

    ``expected`` is (w after each step, config after the last step); only the
    config entries listed there are compared (the rule may keep more).
    """
    return Case(label, (student(rule), w, list(dws), config),
                call=library("assignments.notebooks.optimizers_init:run_steps"),
                expected=expected, output=STEPS_OUTPUT)


def _history(*ws):
    return np.array(ws, dtype=np.float64)


def rule_cases(rule):
    """Visible cases of one update rule, worked out by hand (the comments show how)."""
    w = np.array([1.0, -2.0, 3.0])
    dw = np.array([1.0, 1.0, -2.0])
    defaults = RULE_DEFAULTS[rule]
    # float32 in, float32 out: w = [0.5, -0.25], dw = [2, 0.5], learning rate 0.01 (0.25 for
    # Adam), epsilon 0, the other hyperparameters at their defaults
    w32 = np.array([[0.5, -0.25]], dtype=np.float32)
    dw32 = np.array([[2.0, 0.5]], dtype=np.float32)
    config32 = {"learning_rate": 0.01}
    if rule == "sgd_momentum":
        # v = 0.9 [0.5, 0, -1] - 0.1 [1, 1, -2] = [0.35, -0.1, -0.7];  w + v = [1.35, -2.1, 2.3]
        config = {"learning_rate": 0.1, "momentum": 0.9, "velocity": np.array([0.5, 0.0, -1.0])}
        one = (_history([1.35, -2.1, 2.3]),
               {**config, "velocity": np.array([0.35, -0.1, -0.7])})
        # w = 0, dw = 1 three times, lr 1, momentum 0.5:
        #   v = -1, w = -1;  v = -0.5 - 1 = -1.5, w = -2.5;  v = -0.75 - 1 = -1.75, w = -4.25
        config3, dws3 = {"learning_rate": 1.0, "momentum": 0.5}, [np.array([1.0])] * 3
        three = (_history([-1.0], [-2.5], [-4.25]), {**config3, "velocity": np.array([-1.75])})
        # no config: lr 1e-2 and momentum 0.9 by default; v = -0.01 dw
        default = (_history(w - 0.01 * dw), {**defaults, "velocity": -0.01 * dw})
        # float32: v = -0.01 [2, 0.5]
        expected32 = [0.48, -0.255]
    elif rule == "nesterov_momentum":
        # v_next = 0.9 [0.5, 0, -1] - 0.1 [1, 1, -2] = [0.35, -0.1, -0.7]
        # w - 0.9 v + 1.9 v_next = [1 - 0.45 + 0.665, -2 - 0 - 0.19, 3 + 0.9 - 1.33]
        config = {"learning_rate": 0.1, "momentum": 0.9, "velocity": np.array([0.5, 0.0, -1.0])}
        one = (_history([1.215, -2.19, 2.57]),
               {**config, "velocity": np.array([0.35, -0.1, -0.7])})
        # w = 0, dw = 1 three times, lr 1, momentum 0.5:
        #   v = -1,    w = 0 - 0 + 1.5 (-1) = -1.5
        #   v = -1.5,  w = -1.5 + 0.5 - 2.25 = -3.25
        #   v = -1.75, w = -3.25 + 0.75 - 2.625 = -5.125
        config3, dws3 = {"learning_rate": 1.0, "momentum": 0.5}, [np.array([1.0])] * 3
        three = (_history([-1.5], [-3.25], [-5.125]), {**config3, "velocity": np.array([-1.75])})
        # no config: v = -0.01 dw, w + 1.9 v
        default = (_history(w - 0.019 * dw), {**defaults, "velocity": -0.01 * dw})
        expected32 = [0.462, -0.2595]
    elif rule == "adagrad":
        # cache = [3, 0, 5] + [1, 1, 4] = [4, 1, 9];  step = 0.1 dw / sqrt(cache) (epsilon 0)
        #   = 0.1 [1/2, 1, -2/3]
        config = {"learning_rate": 0.1, "epsilon": 0.0, "cache": np.array([3.0, 0.0, 5.0])}
        one = (_history([0.95, -2.1, 3.0 + 0.2 / 3]),
               {**config, "cache": np.array([4.0, 1.0, 9.0])})
        # w = 0, dw = 2 three times, lr 1: cache 4, 8, 12; w -= 2 / sqrt(cache)
        config3, dws3 = {"learning_rate": 1.0, "epsilon": 0.0}, [np.array([2.0])] * 3
        steps = np.cumsum([-2 / np.sqrt(4.0), -2 / np.sqrt(8.0), -2 / np.sqrt(12.0)])
        three = (_history(*steps[:, None]), {**config3, "cache": np.array([12.0])})
        # no config: cache = dw**2, step 1e-2 * dw / (|dw| + 1e-8)
        default = (_history(w - 1e-2 * dw / (np.abs(dw) + 1e-8)), {**defaults, "cache": dw * dw})
        # float32, epsilon 0: cache = dw**2, so the step is 0.01 sign(dw)
        config32, expected32 = {"learning_rate": 0.01, "epsilon": 0.0}, [0.49, -0.26]
    elif rule == "rmsprop":
        # cache = 0.5 [3, 0, 5] + 0.5 [1, 1, 4] = [2, 0.5, 4.5]; step = 0.1 dw / sqrt(cache)
        config = {"learning_rate": 0.1, "decay_rate": 0.5, "epsilon": 0.0,
                  "cache": np.array([3.0, 0.0, 5.0])}
        one = (_history(w - 0.1 * dw / np.sqrt([2.0, 0.5, 4.5])),
               {**config, "cache": np.array([2.0, 0.5, 4.5])})
        # w = 0, dw = 2 three times, lr 1, decay 0.5: cache 2, 3, 3.5; w -= 2 / sqrt(cache)
        config3 = {"learning_rate": 1.0, "decay_rate": 0.5, "epsilon": 0.0}
        dws3 = [np.array([2.0])] * 3
        steps = np.cumsum([-2 / np.sqrt(2.0), -2 / np.sqrt(3.0), -2 / np.sqrt(3.5)])
        three = (_history(*steps[:, None]), {**config3, "cache": np.array([3.5])})
        # no config: cache = 0.01 dw**2, step 1e-2 dw / (0.1 |dw| + 1e-8)
        default = (_history(w - 1e-2 * dw / (0.1 * np.abs(dw) + 1e-8)),
                   {**defaults, "cache": 0.01 * dw * dw})
        # float32, epsilon 0: cache = 0.01 dw**2, so the step is 0.01 dw / (0.1 |dw|)
        config32, expected32 = {"learning_rate": 0.01, "epsilon": 0.0}, [0.4, -0.35]
    elif rule == "adam":
        # t = 1: m = 0.1 dw, v = 0.001 dw**2, m_hat = dw, v_hat = dw**2, so with epsilon 0
        # the first step is lr * sign(dw), whatever the size of dw
        config = {"learning_rate": 0.1, "beta1": 0.9, "beta2": 0.999, "epsilon": 0.0}
        one = (_history(w - 0.1 * np.sign(dw)),
               {**config, "m": 0.1 * dw, "v": 0.001 * dw * dw, "t": 1})
        # beta1 = beta2 = 0.5, w = 0, dw = 2, 2, -2, lr 1, epsilon 0:
        #   t=1: m = 1, v = 2,  m_hat = 2, v_hat = 4:           w = -1
        #   t=2: m = 1.5, v = 3, m_hat = 2, v_hat = 4:          w = -2
        #   t=3: m = -0.25, v = 3.5, m_hat = -2/7, v_hat = 4:   w = -2 + 1/7
        config3 = {"learning_rate": 1.0, "beta1": 0.5, "beta2": 0.5, "epsilon": 0.0}
        dws3 = [np.array([2.0]), np.array([2.0]), np.array([-2.0])]
        three = (_history([-1.0], [-2.0], [-2.0 + 1.0 / 7.0]),
                 {**config3, "m": np.array([-0.25]), "v": np.array([3.5]), "t": 3})
        default = (_history(w - 1e-3 * dw / (np.abs(dw) + 1e-8)),
                   {**defaults, "m": 0.1 * dw, "v": 0.001 * dw * dw, "t": 1})
        # float32, epsilon 0: the first step is 0.25 sign(dw)
        config32, expected32 = {"learning_rate": 0.25, "epsilon": 0.0}, [0.25, -0.5]
    else:
        raise KeyError(f"no visible cases for {rule!r}")
    float32 = steps_case("float32 parameters stay float32", rule, w32, [dw32], config32,
                         (_history([expected32]), {}))
    float32.rtol = 1e-5
    return [
        steps_case("w = [1, -2, 3], dw = [1, 1, -2], one step", rule, w, [dw], config, one),
        steps_case("three steps from w = 0: the state carried in the config", rule,
                   np.zeros(1), dws3, config3, three),
        steps_case("config None: every default", rule, w, [dw], None, default),
        float32,
    ]


def _check_rule(rule, fn):
    run_cases(None, rule_cases(rule), name=rule, namespace={rule: fn})


def check_sgd_momentum(fn):
    """Check ``sgd_momentum(w, dw, config) -> (next_w, next_config)``."""
    _check_rule("sgd_momentum", fn)


def check_nesterov_momentum(fn):
    """Check ``nesterov_momentum(w, dw, config) -> (next_w, next_config)``."""
    _check_rule("nesterov_momentum", fn)


def check_adagrad(fn):
    """Check ``adagrad(w, dw, config) -> (next_w, next_config)``."""
    _check_rule("adagrad", fn)


def check_rmsprop(fn):
    """Check ``rmsprop(w, dw, config) -> (next_w, next_config)``."""
    _check_rule("rmsprop", fn)


def check_adam(fn):
    """Check ``adam(w, dw, config) -> (next_w, next_config)``."""
    _check_rule("adam", fn)


# --------------------------------------------------------------------------
# weight initialization
# --------------------------------------------------------------------------

DTYPES = {"float64": np.float64, "float32": np.float32}


def _dtype(name):
    if name not in DTYPES:
        raise ValueError(f"dtype name must be one of {sorted(DTYPES)}, got {name!r}")
    return DTYPES[name]


def init_from_seed(fn, fan_in, fan_out, scheme, seed, scale=None, dtype="float64"):
    """``fn(fan_in, fan_out, scheme, rng, scale, dtype)`` with rng a fresh Generator of ``seed``.

    (Cases travel as plain data, so the Generator and the dtype travel as a
    seed and a name.)  ``scale`` and ``dtype`` are passed by keyword, and only
    when given: the default call is ``fn(fan_in, fan_out, scheme, rng)``.
    """
    kwargs = {} if scale is None else {"scale": scale}
    if dtype != "float64":
        kwargs["dtype"] = _dtype(dtype)
    return fn(fan_in, fan_out, scheme, np.random.default_rng(seed), **kwargs)


def expected_std(fan_in, scheme, scale=None):
    """The standard deviation the task asks for (None for "constant")."""
    return {"constant": None, "gaussian": scale, "xavier": 1.0 / np.sqrt(fan_in),
            "he": np.sqrt(2.0 / fan_in)}[scheme]


def _formula(scheme):
    return {"constant": "every entry equal to scale (0 when scale is None)",
            "gaussian": "std = scale", "xavier": "std = 1 / sqrt(fan_in)",
            "he": "std = sqrt(2 / fan_in)"}[scheme]


def verify_init(expected, fan_in, fan_out, scheme, scale=None, dtype="float64"):
    """Verify an init result: type, shape, dtype, then equality with ``expected``.

    When the values differ, the message says whether the spread of the
    matrix is wrong (a wrong formula) or only the numbers (a different draw
    order); it never reveals entries of a hidden case.
    """
    want_dtype = np.dtype(_dtype(dtype))

    def verify(out, case):
        if not isinstance(out, np.ndarray):
            raise CheckFailed(f"W: expected a numpy array, got {type(out).__name__}")
        if out.shape != (fan_in, fan_out):
            raise CheckFailed(f"W: expected shape (fan_in, fan_out) = {(fan_in, fan_out)}, "
                              f"got {out.shape}")
        if out.dtype != want_dtype:
            raise CheckFailed(f"W: expected dtype {want_dtype} (the dtype argument), got "
                              f"{out.dtype}")
        try:
            compare(out, expected, "W", rtol=1e-6, atol=1e-12, reveal=not case.hidden)
        except CheckFailed as err:
            std = expected_std(fan_in, scheme, scale)
            if std is not None and out.size >= 100:
                got = float(np.std(out.astype(np.float64)))
                if not 0.8 * std <= got <= 1.25 * std:
                    raise CheckFailed(
                        f"W: scheme {scheme!r} with fan_in={fan_in}, fan_out={fan_out} should "
                        f"have {_formula(scheme)} = {std:.4g}, but its standard deviation is "
                        f"{got:.4g}") from None
                raise CheckFailed(
                    f"W: the spread is right but the numbers are not those of "
                    f"rng.standard_normal((fan_in, fan_out)) * std: draw exactly that, with "
                    f"one call and this shape, so the grader can compare ({err})") from None
            raise
    return verify


def init_case(label, fan_in, fan_out, scheme, seed, scale=None, dtype="float64"):
    """A case for ``init_weights``; the expected matrix is computed here, by the formula."""
    if scheme == "constant":
        expected = np.full((fan_in, fan_out), 0.0 if scale is None else scale)
    else:
        std = expected_std(fan_in, scheme, scale)
        expected = np.random.default_rng(seed).standard_normal((fan_in, fan_out)) * std
    return Case(label, (student("init_weights"), fan_in, fan_out, scheme, seed, scale, dtype),
                call=library("assignments.notebooks.optimizers_init:init_from_seed"),
                verify=verify_init(expected, fan_in, fan_out, scheme, scale, dtype))


def init_weights_cases():
    """Visible cases for ``init_weights(fan_in, fan_out, scheme, rng, scale, dtype)``."""
    return [
        init_case("constant 0 (scale None), 3 x 4", 3, 4, "constant", 0),
        init_case("constant 0.5, 2 x 5, float32", 2, 5, "constant", 0, 0.5, "float32"),
        init_case("gaussian with std 0.01, 100 x 50", 100, 50, "gaussian", 1, 0.01),
        init_case("xavier, fan_in 400, fan_out 30: std 1/20", 400, 30, "xavier", 2),
        init_case("he, fan_in 50, fan_out 200: std 0.2", 50, 200, "he", 3),
        init_case("he, 30 x 20, float32", 30, 20, "he", 4, None, "float32"),
    ]


def check_init_weights(fn):
    """Check ``init_weights``: shapes, dtypes, constants, and the draw order of the task."""
    run_cases(None, init_weights_cases(), name="init_weights", namespace={"init_weights": fn})


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


def _reference_params(kwargs, seed, cls=None):
    """The parameters the task asks for: ``cls`` (default the library's network) built."""
    if cls is None:
        from ..models import FullyConnectedNet as cls
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


def net_init_case(label, kwargs, seed, expected=None):
    """A case for ``FullyConnectedNet.__init__``: built with seeds (seed, seed, seed + 1)."""
    if expected is None:
        expected = _reference_params(kwargs, seed)
    return Case(label, (NET, kwargs, [seed, seed, seed + 1]),
                call=library("assignments.notebooks.optimizers_init:net_init"),
                verify=verify_net_init(expected, kwargs.get("dtype", "float64")))


def fc_init_cases():
    """Visible cases for ``FullyConnectedNet.__init__``."""
    return [
        net_init_case("3 layers [20, 15, 10, 5], he", net_kwargs([20, 15, 10, 5]), 0),
        net_init_case("2 layers [12, 30, 3], xavier, float32",
                      net_kwargs([12, 30, 3], init="xavier", dtype="float32"), 1),
        net_init_case("no hidden layer [8, 4], gaussian std 0.1",
                      net_kwargs([8, 4], init="gaussian", weight_scale=0.1), 2),
    ]


def check_fc_init(cls):
    """Check ``FullyConnectedNet.__init__`` (names, shapes, dtypes, init_weights in order)."""
    run_cases(None, fc_init_cases(), name="FullyConnectedNet.__init__",
              namespace={"FullyConnectedNet": cls})




def scores_case(label, kwargs, params, X, expected):
    return Case(label, (NET, kwargs, params, X), expected=expected, output="scores",
                call=library("assignments.notebooks.optimizers_init:net_scores"))


def gradcheck_case(label, kwargs, params, X, y, expected_loss=None):
    return Case(label, (NET, kwargs, params, X, y), verify=gradients_match(expected_loss),
                call=library("assignments.notebooks.optimizers_init:net_gradcheck"))


def loss_case(label, kwargs, params, X, y, expected):
    return Case(label, (NET, kwargs, params, X, y), expected=expected, output=("loss", "grads"),
                call=library("assignments.notebooks.optimizers_init:net_loss"))


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
        gradcheck_case("toy net: loss and gradients, reg = 0", kwargs, params, X, y, loss),
        gradcheck_case("toy net: loss and gradients, reg = 0.1", {**kwargs, "reg": 0.1}, params,
                       X, y, loss + 0.1 * TOY_SQUARED_WEIGHTS),
        gradcheck_case("no hidden layer (a softmax classifier), reg = 0.2",
                       net_kwargs([5, 3], reg=0.2), one, Xo, yo),
        gradcheck_case("3 layers, tanh, inputs (4, 2, 3), reg = 0.05",
                       net_kwargs(dims, activation="tanh", reg=0.05), rand, Xr, yr),
    ]


def check_fc_loss(cls):
    """Check ``FullyConnectedNet.loss`` (scores, loss, gradients) with the library's layers."""
    run_cases(None, fc_loss_cases(), name="FullyConnectedNet.loss",
              namespace={"FullyConnectedNet": cls})


# --------------------------------------------------------------------------
# the chosen hyperparameters
# --------------------------------------------------------------------------

# Settings the notebook keeps fixed while it searches the others.
TRAINING_DEFAULTS = {"batch_size": 100, "lr_decay": 0.9}



# How the grader judges the chosen hyperparameters: it trains the course's
# reference FullyConnectedNet with them on a fixed split of the bundled data,
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


def train_fc_net(net_cls, settings, data) -> float:
    """Best validation accuracy of ``net_cls`` trained with a recipe's settings.

    The network has ``num_layers`` layers (``num_layers - 1`` hidden layers of
    ``hidden_dim`` ReLU units); the update rule is the library's.
    """
    from ..solver import Solver

    D = int(np.prod(data["X_train"].shape[1:]))
    hidden = [int(settings["hidden_dim"])] * (int(settings["num_layers"]) - 1)
    with adapters.library_building_blocks(net_cls):
        net = net_cls(hidden, input_dim=D, num_classes=10, init=settings["init"],
                      reg=float(settings["reg"]), rng=np.random.default_rng(0))
        solver = Solver(net, data, rng=np.random.default_rng(1),
                        update_rule=settings["update_rule"],
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
