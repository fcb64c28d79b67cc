"""Notebook 4 (update rules, schedules, initialization): visible checks and adapters.

The update rules are checked through ``run_steps``, which calls a rule
several times, feeding each returned config into the next call as the
``Solver`` does, and refuses anything that breaks the pure contract
(changed inputs, a float32 parameter coming back as float64).  The weight
initialization is checked through ``init_from_seed``, which hands the
student's function a fresh Generator of a given seed: the task fixes the
draw order, so the result must equal the course's answer drawn from the
same state (stored as data by `course release`, ``assignments.expected``).  The network's checks and the grader's recipe live in
``optimizers_init_network``, the pictures in ``optimizers_init_plots``.
"""

from __future__ import annotations

import copy

import numpy as np

from ..cases import Case, CheckFailed, compare, library, run_cases, student
from ..expected import Computed, Stored

__all__ = [
    "run_steps", "init_from_seed", "rule_cases", "init_weights_cases", "check_sgd_momentum",
    "check_nesterov_momentum", "check_adagrad", "check_rmsprop", "check_adam",
    "check_init_weights", "steps_case", "init_case", "RULE_DEFAULTS", "STEPS_OUTPUT",
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
    ] + _epsilon_cases(rule)


def _epsilon_cases(rule):
    """Where epsilon goes, with an epsilon as large as the root it is added to: w = 0,
    dw = 1, learning rate 1, epsilon 1 (outside the root: 1 / (1 + 1); inside it, or added
    to the uncorrected root with a corrected learning rate, the step differs)."""
    if rule == "adagrad":
        # cache = 1: step = 1 / (sqrt(1) + 1) = 0.5  (inside the root: 1 / sqrt(2) = 0.707)
        config = {"learning_rate": 1.0, "epsilon": 1.0}
        after = {**config, "cache": np.array([1.0])}
    elif rule == "rmsprop":
        # decay 0.5: cache = 0.5, step = 1 / (sqrt(0.5) + 1) = 0.586  (inside: 0.816)
        config = {"learning_rate": 1.0, "decay_rate": 0.5, "epsilon": 1.0}
        after = {**config, "cache": np.array([0.5])}
    elif rule == "adam":
        # beta1 = beta2 = 0.5: m = 0.5, v = 0.5, m_hat = 1, v_hat = 1, step = 1 / (1 + 1) = 0.5
        # (epsilon inside the root: 0.707; the "efficient" form with a corrected learning
        # rate sqrt(1 - beta2) / (1 - beta1) and epsilon added to sqrt(v): 0.414)
        config = {"learning_rate": 1.0, "beta1": 0.5, "beta2": 0.5, "epsilon": 1.0}
        after = {**config, "m": np.array([0.5]), "v": np.array([0.5]), "t": 1}
    else:
        return []
    step = 0.5 if rule != "rmsprop" else 1.0 / (np.sqrt(0.5) + 1.0)
    return [steps_case("epsilon 1, as large as the root: epsilon is added to the root "
                       "(of the corrected average, for Adam)", rule, np.zeros(1),
                       [np.array([1.0])], config, (_history([-step]), after))]


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


INIT_FROM_SEED = library("assignments.notebooks.optimizers_init:init_from_seed")


def init_case(label, fan_in, fan_out, scheme, seed, scale=None, dtype="float64", *, expected):
    """A case for ``init_weights``; ``expected`` is the course's answer from the same seed."""
    return Case(label, (student("init_weights"), fan_in, fan_out, scheme, seed, scale, dtype),
                call=INIT_FROM_SEED,
                verify=verify_init(expected, fan_in, fan_out, scheme, scale, dtype))


# label, fan_in, fan_out, scheme, seed, scale, dtype
VISIBLE_INIT = [
    ("constant 0 (scale None), 3 x 4", 3, 4, "constant", 0, None, "float64"),
    ("constant 0.5, 2 x 5, float32", 2, 5, "constant", 0, 0.5, "float32"),
    ("gaussian with std 0.01, 100 x 50", 100, 50, "gaussian", 1, 0.01, "float64"),
    ("xavier, fan_in 400, fan_out 30: std 1/20", 400, 30, "xavier", 2, None, "float64"),
    ("he, fan_in 50, fan_out 200: std 0.2", 50, 200, "he", 3, None, "float64"),
    ("he, 30 x 20, float32", 30, 20, "he", 4, None, "float32"),
]
STORED = Stored("04_optimizers_init", {
    f"init_weights: {label}": Computed("assignments.notebooks.optimizers_init:init_from_seed",
                                       (student("init_weights"), *rest))
    for label, *rest in VISIBLE_INIT})


def init_weights_cases():
    """Visible cases for ``init_weights(fan_in, fan_out, scheme, rng, scale, dtype)``."""
    return [init_case(label, *rest, expected=STORED[f"init_weights: {label}"])
            for label, *rest in VISIBLE_INIT]


def check_init_weights(fn):
    """Check ``init_weights``: shapes, dtypes, constants, and the draw order of the task."""
    run_cases(None, init_weights_cases(), name="init_weights", namespace={"init_weights": fn})
