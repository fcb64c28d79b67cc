"""Hidden cases and mutants of notebook 04_optimizers_init.  Instructor-only."""

from __future__ import annotations

import functools

import numpy as np

from assignments.cases import Case, library, student
from assignments.notebooks import optimizers_init as public
from assignments.notebooks import optimizers_init_network as network

from . import Mutant, Task

A = "04_optimizers_init"

# --------------------------------------------------------------------------
# update rules
# --------------------------------------------------------------------------

RULES = ("sgd_momentum", "nesterov_momentum", "adagrad", "rmsprop", "adam")


def _odd_shape(rng):
    """A shape of 1 to 3 dimensions with odd sizes (at most 60 numbers)."""
    return tuple(int(d) for d in rng.choice([1, 3, 5, 7], size=int(rng.integers(1, 4))))


def _hyperparameters(rule, rng):
    """Non-default hyperparameters (every one different from its default)."""
    lr = float(10 ** rng.uniform(-2.5, -0.5))
    if rule in ("sgd_momentum", "nesterov_momentum"):
        return {"learning_rate": lr, "momentum": float(rng.uniform(0.5, 0.8))}
    if rule == "adagrad":
        return {"learning_rate": lr, "epsilon": float(10 ** rng.uniform(-6, -4))}
    if rule == "rmsprop":
        return {"learning_rate": lr, "decay_rate": float(rng.uniform(0.6, 0.9)),
                "epsilon": float(10 ** rng.uniform(-6, -4))}
    return {"learning_rate": lr, "beta1": float(rng.uniform(0.5, 0.8)),
            "beta2": float(rng.uniform(0.85, 0.95)), "epsilon": float(10 ** rng.uniform(-6, -4))}


def _state(rule, rng, shape, dtype=np.float64):
    """A state in the middle of training: velocity, cache or (m, v, t)."""
    if rule in ("sgd_momentum", "nesterov_momentum"):
        return {"velocity": rng.normal(size=shape).astype(dtype)}
    if rule in ("adagrad", "rmsprop"):
        return {"cache": rng.uniform(0.1, 2.0, size=shape).astype(dtype)}
    return {"m": rng.normal(size=shape).astype(dtype) * 0.3,
            "v": rng.uniform(0.1, 1.0, size=shape).astype(dtype), "t": int(rng.integers(2, 6))}


def _steps_expected(fn, w, dws, config):
    return public.run_steps(fn, w, dws, config)


def hidden_rule(rule):
    def hidden(rng, solution):
        fn = solution[rule]
        cases = []

        def steps(label, w, dws, config, rtol=1e-6, atol=1e-8):
            case = public.steps_case(label, rule, w, dws, config,
                                     _steps_expected(fn, w, dws, config))
            case.rtol, case.atol = rtol, atol
            cases.append(case)

        shape = _odd_shape(rng)
        w = rng.normal(size=shape)
        dws = [rng.normal(size=shape) for _ in range(5)]
        steps(f"five steps in a row from no state, shape {shape}, hyperparameters chosen "
              "by the case", w, dws, _hyperparameters(rule, rng))
        shape = _odd_shape(rng)
        w = rng.normal(size=shape)
        dws = [rng.normal(size=shape) * s for s in (1.0, 3.0, 0.1, 1.0)]
        steps(f"four steps from a state in the middle of training, shape {shape}", w, dws,
              {**_hyperparameters(rule, rng), **_state(rule, rng, shape)})
        shape = _odd_shape(rng)
        w = rng.normal(size=shape)
        steps(f"three steps with every default (config None), shape {shape}", w,
              [rng.normal(size=shape) for _ in range(3)], None)
        shape = (3, 5)
        w32 = rng.normal(size=shape).astype(np.float32)
        dws32 = [rng.normal(size=shape).astype(np.float32) for _ in range(3)]
        steps("float32 parameters, gradients and state: three steps", w32, dws32,
              {**_hyperparameters(rule, rng), **_state(rule, rng, shape, np.float32)},
              rtol=1e-4, atol=1e-5)
        if rule != "sgd_momentum" and rule != "nesterov_momentum":
            # epsilon of the size of sqrt(cache): inside or outside the root matters
            shape = _odd_shape(rng)
            w = rng.normal(size=shape)
            steps(f"a large epsilon and small gradients, shape {shape}", w,
                  [rng.normal(size=shape) * 0.01 for _ in range(2)],
                  {**_hyperparameters(rule, rng), "epsilon": 0.01})
        # one direct call with a state: nothing given may change
        shape = _odd_shape(rng)
        w, dw = rng.normal(size=shape), rng.normal(size=shape)
        config = {**_hyperparameters(rule, rng), **_state(rule, rng, shape)}
        cases.append(Case(f"one call with a state, shape {shape}: (next_w, next_config), "
                          "inputs unchanged", (w, dw, config), expected=fn(w, dw, config),
                          output=("next_w", "next_config")))
        return cases
    return hidden


# --------------------------------------------------------------------------
# weight initialization
# --------------------------------------------------------------------------

def _fans(rng, lo=20, hi=300):
    """fan_in and fan_out at least 1.5 times apart (so a formula with the wrong one shows)."""
    fan_in = int(rng.integers(lo, hi))
    fan_out = int(fan_in * rng.choice([0.3, 0.5, 1.7, 2.5])) + 1
    return fan_in, fan_out


def hidden_init_weights(rng, solution):
    fn = solution["init_weights"]
    cases = []

    def case(label, fan_in, fan_out, scheme, scale=None, dtype="float64"):
        seed = int(rng.integers(0, 2**31))
        expected = public.init_from_seed(fn, fan_in, fan_out, scheme, seed, scale, dtype)
        cases.append(Case(label, (student("init_weights"), fan_in, fan_out, scheme, seed, scale,
                                  dtype),
                          call=library("assignments.notebooks.optimizers_init:init_from_seed"),
                          verify=public.verify_init(expected, fan_in, fan_out, scheme, scale,
                                                    dtype)))

    for scheme in ("xavier", "he"):
        fan_in, fan_out = _fans(rng)
        case(f"{scheme}, {fan_in} x {fan_out}", fan_in, fan_out, scheme)
        fan_in, fan_out = _fans(rng, 5, 60)
        case(f"{scheme}, {fan_in} x {fan_out}, float32", fan_in, fan_out, scheme,
             dtype="float32")
    fan_in, fan_out = _fans(rng)
    std = float(10 ** rng.uniform(-3, 0.5))
    case(f"gaussian std {std:.3g}, {fan_in} x {fan_out}", fan_in, fan_out, "gaussian", std)
    fan_in, fan_out = _fans(rng, 2, 9)
    value = float(rng.choice([-0.5, 0.25, 3.0]))
    case(f"constant {value:g}, {fan_in} x {fan_out}", fan_in, fan_out, "constant", value)
    case("constant 0 (scale None), 1 x 7", 1, 7, "constant")
    fan_in, fan_out = _fans(rng, 2, 9)
    case(f"constant 1, {fan_in} x {fan_out}, float32", fan_in, fan_out, "constant", 1.0,
         "float32")
    return cases


# --------------------------------------------------------------------------
# the network
# --------------------------------------------------------------------------

def _dims(rng, depth, lo=2, hi=9):
    return [int(d) for d in rng.integers(lo, hi, size=depth + 1)]


def hidden_fc_init(rng, solution):
    cls = solution["FullyConnectedNet"]
    cases = []
    for depth, init, scale, dtype in ((1, "xavier", None, "float64"), (2, "he", None, "float32"),
                                      (3, "gaussian", float(rng.uniform(0.01, 0.5)), "float64"),
                                      (4, "he", None, "float64"),
                                      (3, "constant", float(rng.uniform(0.1, 1.0)), "float32")):
        dims = _dims(rng, depth, 3, 40)
        kwargs = network.net_kwargs(dims, init=init, weight_scale=scale, dtype=dtype)
        seed = int(rng.integers(0, 2**31))
        expected = network.reference_params(cls, kwargs, seed)
        cases.append(network.net_init_case(f"{depth} layer{'s' if depth > 1 else ''} {dims}, "
                                          f"{init}{'' if scale is None else f' {scale:.3g}'}, "
                                          f"{dtype}", kwargs, seed, expected))
    return cases


def _params(rng, dims, scale=1.0):
    return network._random_params(rng, dims, scale)


def hidden_fc_loss(rng, solution):
    cls = solution["FullyConnectedNet"]
    cases = []
    activations = ["relu", "sigmoid", "tanh", "leaky relu"]
    rng.shuffle(activations)
    for depth in (1, 2, 3, 4):
        for reg in (0.0, float(rng.uniform(0.05, 0.3))):
            dims = _dims(rng, depth)
            activation = activations[(depth + (reg > 0)) % 4]
            kwargs = network.net_kwargs(dims, activation=activation, reg=reg)
            params = _params(rng, dims)
            n = int(rng.integers(2, 6))
            X = rng.normal(size=(n, dims[0]))
            y = rng.integers(0, dims[-1], size=n)
            cases.append(network.loss_case(
                f"{depth} layer{'s' if depth > 1 else ''} {dims}, {activation}, reg {reg:.3g}: "
                "loss and grads", kwargs, params, X, y,
                network.net_loss(cls, kwargs, params, X, y)))
    for activation in ("relu", "tanh"):
        dims = _dims(rng, 3)
        kwargs = network.net_kwargs(dims, activation=activation)
        params = _params(rng, dims)
        X = rng.normal(size=(4, 1, dims[0]))
        cases.append(network.scores_case(f"scores (y None), 3 layers {dims}, {activation}, "
                                        "inputs (4, 1, D)", kwargs, params, X,
                                        network.net_scores(cls, kwargs, params, X)))
    for activation in ("sigmoid", "tanh"):  # smooth: no kink for the numerical gradient
        dims = _dims(rng, 3, 3, 7)
        kwargs = network.net_kwargs(dims, activation=activation, reg=0.1)
        X = rng.normal(size=(3, dims[0]))
        cases.append(network.gradcheck_case(
            f"3 layers {dims}, {activation}, reg 0.1: every gradient against the numerical "
            "gradient", kwargs, _params(rng, dims), X, rng.integers(0, dims[-1], size=3)))
    return cases


# --------------------------------------------------------------------------
# the tuned model: the library's recipe, trained with the reference network
# --------------------------------------------------------------------------

def hidden_tuned(rng, solution):
    train = functools.partial(network.train_fc_net, solution["FullyConnectedNet"],
                              blocks=solution)
    return [network.RECIPE.floor_case(train)]


def _rule_task(rule):
    return Task(rule, rule, visible=functools.partial(public.rule_cases, rule),
                hidden=hidden_rule(rule), vectorized=True, own=(f"assignments.fast.optim:{rule}",))


TASKS = [_rule_task(rule) for rule in RULES] + [
    Task("init_weights", "init_weights", visible=public.init_weights_cases,
         hidden=hidden_init_weights, vectorized=True),
    Task("fc_init", "FullyConnectedNet", visible=network.fc_init_cases, hidden=hidden_fc_init),
    Task("fc_loss", "FullyConnectedNet", visible=network.fc_loss_cases, hidden=hidden_fc_loss),
    Task("tuned_model", "chosen_hyperparameters", visible=network.hyperparameter_cases,
         hidden=hidden_tuned),
]

# --------------------------------------------------------------------------
# plausible bugs; each must be caught by its own test cell and no other
# --------------------------------------------------------------------------

_MOM, _NES, _ADG = "sgd_momentum_code", "nesterov_momentum_code", "adagrad_code"
_RMS, _ADM, _INIT = "rmsprop_code", "adam_code", "init_weights_code"
_NET, _HP = "fc_net_code", "chosen_hyperparameters_code"

MUTANTS = [
    # momentum
    Mutant("momentum: gradient added instead of subtracted", "sgd_momentum", _MOM,
           'v = config["momentum"] * v - config["learning_rate"] * dw',
           'v = config["momentum"] * v + config["learning_rate"] * dw'),
    Mutant("momentum: velocity not carried in the config", "sgd_momentum", _MOM,
           'next_config = {**config, "velocity": v}', "next_config = dict(config)"),
    Mutant("momentum: momentum coefficient ignored", "sgd_momentum", _MOM,
           'v = config["momentum"] * v - config["learning_rate"] * dw',
           'v = v - config["learning_rate"] * dw'),
    Mutant("momentum: velocity updated in place", "sgd_momentum", _MOM,
           'v = config["momentum"] * v - config["learning_rate"] * dw',
           'v *= config["momentum"]\n    v -= config["learning_rate"] * dw'),
    # Nesterov
    Mutant("nesterov: plain momentum step", "nesterov_momentum", _NES,
           "next_w = w - mu * v_prev + (1 + mu) * v", "next_w = w + v"),
    Mutant("nesterov: sign of the look-back term flipped", "nesterov_momentum", _NES,
           "next_w = w - mu * v_prev + (1 + mu) * v", "next_w = w + mu * v_prev + (1 + mu) * v"),
    Mutant("nesterov: mu instead of 1 + mu", "nesterov_momentum", _NES,
           "next_w = w - mu * v_prev + (1 + mu) * v", "next_w = w - mu * v_prev + mu * v"),
    Mutant("nesterov: velocity not carried in the config", "nesterov_momentum", _NES,
           'next_config = {**config, "velocity": v}', "next_config = dict(config)"),
    # AdaGrad
    Mutant("adagrad: cache not accumulated", "adagrad", _ADG,
           "cache = cache + dw * dw", "cache = dw * dw"),
    Mutant("adagrad: epsilon inside the square root", "adagrad", _ADG,
           '(np.sqrt(cache) + config["epsilon"])', 'np.sqrt(cache + config["epsilon"])'),
    Mutant("adagrad: no square root", "adagrad", _ADG,
           '(np.sqrt(cache) + config["epsilon"])', '(cache + config["epsilon"])'),
    Mutant("adagrad: cache accumulated in place", "adagrad", _ADG,
           "cache = cache + dw * dw", "cache += dw * dw"),
    # RMSprop
    Mutant("rmsprop: decay applied to the new gradient", "rmsprop", _RMS,
           "cache = decay * cache + (1 - decay) * (dw * dw)",
           "cache = (1 - decay) * cache + decay * (dw * dw)"),
    Mutant("rmsprop: epsilon inside the square root", "rmsprop", _RMS,
           '(np.sqrt(cache) + config["epsilon"])', 'np.sqrt(cache + config["epsilon"])'),
    Mutant("rmsprop: cache not carried in the config", "rmsprop", _RMS,
           'next_config = {**config, "cache": cache}', "next_config = dict(config)"),
    Mutant("rmsprop: AdaGrad's sum instead of the average", "rmsprop", _RMS,
           "cache = decay * cache + (1 - decay) * (dw * dw)", "cache = cache + dw * dw"),
    # Adam
    Mutant("adam: no bias correction", "adam", _ADM,
           "m_hat = m / (1 - b1 ** t)\n    v_hat = v / (1 - b2 ** t)",
           "m_hat = m\n    v_hat = v"),
    Mutant("adam: t used before it is incremented", "adam", _ADM,
           "m_hat = m / (1 - b1 ** t)\n    v_hat = v / (1 - b2 ** t)",
           "m_hat = m / (1 - b1 ** (t - 1))\n    v_hat = v / (1 - b2 ** (t - 1))"),
    Mutant("adam: epsilon inside the square root", "adam", _ADM,
           '(np.sqrt(v_hat) + config["epsilon"])', 'np.sqrt(v_hat + config["epsilon"])'),
    Mutant("adam: only the first moment corrected", "adam", _ADM,
           "v_hat = v / (1 - b2 ** t)", "v_hat = v"),
    Mutant("adam: t not stored in the config", "adam", _ADM,
           'next_config = {**config, "m": m, "v": v, "t": t}',
           'next_config = {**config, "m": m, "v": v}'),
    Mutant("adam: beta1 and beta2 swapped", "adam", _ADM,
           'b1, b2 = config["beta1"], config["beta2"]', 'b1, b2 = config["beta2"], config["beta1"]'),
    # init_weights
    Mutant("init: Xavier with fan_out", "init_weights", _INIT,
           "std = 1.0 / np.sqrt(fan_in)", "std = 1.0 / np.sqrt(fan_out)"),
    Mutant("init: He without the 2", "init_weights", _INIT,
           "std = np.sqrt(2.0 / fan_in)", "std = np.sqrt(1.0 / fan_in)"),
    Mutant("init: constant always 0", "init_weights", _INIT,
           "np.full((fan_in, fan_out), 0.0 if scale is None else scale)",
           "np.zeros((fan_in, fan_out))"),
    Mutant("init: gaussian scale taken as the variance", "init_weights", _INIT,
           "std = scale", "std = np.sqrt(scale)"),
    Mutant("init: dtype ignored", "init_weights", _INIT, "return W.astype(dtype)", "return W"),
    Mutant("init: drawn transposed", "init_weights", _INIT,
           "W = rng.standard_normal((fan_in, fan_out)) * std",
           "W = rng.standard_normal((fan_out, fan_in)).T * std"),
    # FullyConnectedNet.__init__
    Mutant("net init: biases start at 0.01", "fc_init", _NET,
           "np.zeros(dims[i], dtype=dtype)", "np.full(dims[i], 0.01, dtype=dtype)"),
    Mutant("net init: weights drawn from the last layer to the first", "fc_init", _NET,
           "for i in range(1, self.num_layers + 1):", "for i in range(self.num_layers, 0, -1):"),
    Mutant("net init: dtype not passed to init_weights", "fc_init", _NET,
           "init, rng, weight_scale,\n                                                dtype)",
           "init, rng, weight_scale)"),
    Mutant("net init: weight_scale not passed to init_weights", "fc_init", _NET,
           "init, rng, weight_scale,", "init, rng, None,"),
    # FullyConnectedNet.loss
    Mutant("net loss: biases regularized", "fc_loss", _NET,
           "loss += self.reg * np.sum(W * W)",
           'loss += self.reg * (np.sum(W * W) + np.sum(self.params[f"b{i}"] ** 2))'),
    Mutant("net loss: ReLU after the last layer", "fc_loss", _NET,
           'scores, last_cache = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])',
           'scores, last_cache = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])'
           "\n        scores = np.maximum(scores, 0)"),
    Mutant("net loss: regularization gradient without the factor 2", "fc_loss", _NET,
           'grads[f"W{i}"] + 2 * self.reg * W', 'grads[f"W{i}"] + self.reg * W'),
    Mutant("net loss: last layer not regularized", "fc_loss", _NET,
           "for i in range(1, L + 1):", "for i in range(1, L):"),
    Mutant("net loss: activation's backward skipped", "fc_loss", _NET,
           "dh = act_backward(dh, act_cache)", "pass"),
    Mutant("net loss: the activation argument ignored (always ReLU)", "fc_loss", _NET,
           "self.activation = ACTIVATIONS[activation]",
           'self.activation = ACTIVATIONS["relu"]'),
    # chosen hyperparameters
    Mutant("hyperparameters: learning rate 100x too small", "tuned_model", _HP,
           '"learning_rate": 2.5e-4', '"learning_rate": 2.5e-6'),
    Mutant("hyperparameters: regularization far too strong", "tuned_model", _HP,
           '"reg": 1e-4', '"reg": 1.0'),
    Mutant("hyperparameters: plain SGD with RMSprop's learning rate", "tuned_model", _HP,
           '"update_rule": "rmsprop"', '"update_rule": "sgd"'),
    Mutant("hyperparameters: hidden layers of 2 units", "tuned_model", _HP,
           '"hidden_dim": 512', '"hidden_dim": 2'),
]

DEMO_BUG = "adam: no bias correction"
