"""Hidden cases and mutants of notebook 05_batchnorm_dropout.  Instructor-only.

Expected values come from the source notebook's solutions (``solution``);
the block and the network run with the course's layers swapped in.  Every
hidden case compares exactly with the reference (no numerical gradients:
a ReLU kink within the step h of a pre-activation could fail a correct
answer for an unlucky seed), except dropout's, which checks properties
with a bound computed by ``assignments.stat_checks`` (written beside each).
"""

from __future__ import annotations

import numpy as np

from assignments.cases import Case, student
from assignments.notebooks import batchnorm_dropout as public
from assignments.notebooks import batchnorm_dropout_network as network

from ..answers import compute
from . import Mutant, Task

A = "05_batchnorm_dropout"


def _features(rng, n, d, dtype=np.float64):
    """(n, d) with per-feature means and scales spread over orders of magnitude.

    In float64 one feature has a tiny spread (std 3e-3, variance 1e-5 ~ eps), so that
    moving eps out of the square root changes the result by far more than rounding, for
    every seed.  float32 features are centred near 0 with moderate spreads: with a mean
    far from 0 and a tiny variance, float32 itself could not tell correct formulas apart.
    """
    if dtype == np.float32:
        return (rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d)
                + rng.normal(size=d) * 0.3).astype(dtype)
    scale = 10.0 ** rng.uniform(-1, 1, size=d)
    scale[int(rng.integers(d))] = 3e-3
    return rng.normal(size=(n, d)) * scale + rng.normal(size=d) * 3


def _vec(rng, d, lo=0.5, hi=2.0, dtype=np.float64):
    return (rng.uniform(lo, hi, size=d) * rng.choice([-1.0, 1.0], size=d)).astype(dtype)


# --------------------------------------------------------------------------
# batch norm
# --------------------------------------------------------------------------

def hidden_batchnorm_forward(rng, solution):
    fwd = solution["batchnorm_forward"]
    cases = []
    for label, n, d, mode, kw, dtype in (
            ("odd shape, train mode", int(rng.integers(3, 9)), int(rng.integers(2, 7)), "train",
             {}, np.float64),
            ("as many examples as features, train mode", 5, 5, "train", {}, np.float64),
            ("odd shape, test mode", int(rng.integers(2, 7)), int(rng.integers(3, 8)), "test", {},
             np.float64),
            ("momentum 0.7, eps 1e-3", 6, 4, "train", {"momentum": 0.7, "eps": 1e-3},
             np.float64),
            ("float32 inputs, train mode", 7, 3, "train", {}, np.float32)):
        x = _features(rng, n, d, dtype)
        gamma, beta = _vec(rng, d, dtype=dtype), rng.normal(size=d).astype(dtype)
        rm = rng.normal(size=d).astype(dtype)
        rv = rng.uniform(0.5, 3.0, size=d).astype(dtype)
        expected = fwd(x, gamma, beta, rm, rv, mode, **kw)
        cases.append(public.bn_forward_case(f"{label}: x {x.shape}", x, gamma, beta, rm, rv, mode,
                                            rtol=1e-6 if dtype == np.float64 else 2e-4,
                                            expected=expected, **kw))
    return cases


def _backward_cases(rng, kind, backward, solution):
    cases = []
    for label, shape, dtype in (("odd shape", (int(rng.integers(3, 9)), int(rng.integers(2, 7))),
                                 np.float64),
                                ("as many examples as features", (4, 4), np.float64),
                                ("tall batch", (int(rng.integers(10, 30)), 3), np.float64),
                                ("float32", (6, 5), np.float32)):
        x = _features(rng, *shape, dtype)
        gamma = _vec(rng, shape[1], dtype=dtype)
        dout = rng.normal(size=shape).astype(dtype)
        cache = compute(public.norm_cache(kind, x, gamma), solution)
        expected = backward(dout, cache)
        cases.append(Case(f"{label}: x {shape}", (dout, cache), expected=expected,
                          output=public.NORM_GRADS, rtol=1e-6 if dtype == np.float64 else 2e-3,
                          atol=1e-9 if dtype == np.float64 else 1e-4))
    if kind == "layernorm":
        x = rng.normal(size=(1, int(rng.integers(3, 8)))) * 2
        gamma = _vec(rng, x.shape[1])
        dout = rng.normal(size=x.shape)
        cache = compute(public.norm_cache(kind, x, gamma), solution)
        cases.append(Case(f"a batch of one: x {x.shape}", (dout, cache),
                          expected=backward(dout, cache), output=public.NORM_GRADS))
    return cases


def hidden_batchnorm_backward(rng, solution):
    return _backward_cases(rng, "batchnorm", solution["batchnorm_backward"], solution)


def hidden_batchnorm_backward_alt(rng, solution):
    return _backward_cases(rng, "batchnorm", solution["batchnorm_backward"], solution)


# --------------------------------------------------------------------------
# layer norm
# --------------------------------------------------------------------------

def hidden_layernorm_forward(rng, solution):
    fwd = solution["layernorm_forward"]
    cases = []
    for label, n, d, kw, dtype in (
            ("odd shape", int(rng.integers(2, 8)), int(rng.integers(2, 9)), {}, np.float64),
            ("a batch of one", 1, int(rng.integers(3, 9)), {}, np.float64),
            ("as many examples as features", 4, 4, {}, np.float64),
            ("eps 1e-3", 3, 6, {"eps": 1e-3}, np.float64),
            ("float32 inputs", 5, 7, {}, np.float32)):
        # rows of different spreads; in float64 one row of tiny spread (variance ~ eps)
        x = _features(rng, d, n, dtype).T.copy()
        gamma, beta = _vec(rng, d, dtype=dtype), rng.normal(size=d).astype(dtype)
        cases.append(public.ln_forward_case(f"{label}: x {x.shape}", x, gamma, beta,
                                            expected=fwd(x, gamma, beta, **kw),
                                            rtol=1e-6 if dtype == np.float64 else 2e-4, **kw))
    return cases


def hidden_layernorm_backward(rng, solution):
    return _backward_cases(rng, "layernorm", solution["layernorm_backward"], solution)


# --------------------------------------------------------------------------
# dropout
# --------------------------------------------------------------------------

def hidden_dropout_forward(rng, solution):
    fn = student("dropout_forward")
    drop = public.DROPOUT_CALL
    seed = int(rng.integers(0, 2**31))
    shape3 = (int(rng.integers(50, 80)), 3, int(rng.integers(150, 200)))   # >= 22,500 units
    x3 = rng.normal(size=shape3)
    x3[x3 == 0] = 1.0
    keep = float(rng.choice([0.2, 0.3, 0.7, 0.8]))
    x32 = rng.uniform(0.5, 2.0, size=(300, 100)).astype(np.float32)
    small = rng.normal(size=(int(rng.integers(1, 5)), int(rng.integers(1, 6))))
    return [
        # n >= 22,500 units, eps 0.04: false failure below 2 exp(-2 * 22500 * 0.04^2) = 4e-32;
        # keep_prob is at least 0.2 away from 0.5, so "drop instead of keep" misses by 0.4
        *public.dropout_cases("dropout_forward", x3, keep, seed, 0.04,
                              f"x {shape3}, keep_prob {keep:g}"),
        # 30,000 units, eps 0.03: below 2 exp(-2 * 3e4 * 9e-4) = 4e-24
        *public.dropout_cases("dropout_forward", x32, 0.75, seed + 2, 0.03,
                              "float32 x (300, 100), keep_prob 0.75"),
        Case(f"test mode, x {small.shape}, rng None", (fn, small, 0.3, "test", None), call=drop,
             verify=public.verify_identity(small)),
        Case(f"test mode with a Generator, x {small.shape}", (fn, small, 0.6, "test", seed),
             call=drop, verify=public.verify_identity(small)),
        Case(f"keep_prob = 1, x {small.shape}", (fn, small, 1.0, "train", seed), call=drop,
             verify=public.verify_identity(small, allow_mask=True)),
    ]


def hidden_dropout_backward(rng, solution):
    bwd = solution["dropout_backward"]
    cases = []
    for label, shape, keep in (("odd shape", (int(rng.integers(2, 7)), int(rng.integers(2, 7))),
                                float(rng.uniform(0.2, 0.9))),
                               ("inputs (2, 3, 4)", (2, 3, 4), 0.35)):
        mask = (rng.random(shape) < keep) / keep
        dout = rng.normal(size=shape)
        cases.append(Case(f"{label}, keep_prob {keep:.2f}", (dout, mask),
                          expected=bwd(dout, mask), output="dx"))
    dout = rng.normal(size=(3, 5))
    cases.append(Case("cache None (test mode)", (dout, None), expected=bwd(dout, None),
                      output="dx"))
    return cases


# --------------------------------------------------------------------------
# the hidden block and the network
# --------------------------------------------------------------------------

# (normalization, keep_prob, mode): every layer of the block, and test mode with dropout
_SETTINGS = ((None, 1.0, "train"), ("batchnorm", 0.6, "train"), ("batchnorm", 0.7, "test"),
             ("layernorm", 0.5, "train"))


def hidden_block_forward(rng, solution):
    fwd = solution["hidden_block_forward"]
    cases = []
    for norm_kind, keep, mode in _SETTINGS:
        shape = (int(rng.integers(2, 7)), 2, int(rng.integers(1, 4)))
        x, params, state = network.block_inputs(rng, shape, int(rng.integers(2, 6)), norm_kind,
                                               scale=2.0)
        cases.append(network.block_forward_case(
            f"x {shape}, {norm_kind}, keep_prob {keep}, {mode} mode", x, params, state,
            norm_kind, keep, mode, int(rng.integers(0, 2**31)), forward=fwd))
    x, params, state = network.block_inputs(rng, (5, 4), 3, "batchnorm")
    cases.append(network.block_forward_case("tanh activation, batch norm, dropout", x, params,
                                           state, "batchnorm", 0.7, "train",
                                           int(rng.integers(0, 2**31)), "tanh", forward=fwd))
    return cases


def hidden_block_backward(rng, solution):
    bwd = solution["hidden_block_backward"]
    cases = []
    for norm_kind, keep, mode in _SETTINGS:
        if mode == "test":
            continue
        shape = (int(rng.integers(2, 7)), 3)
        x, params, state = network.block_inputs(rng, shape, int(rng.integers(2, 6)), norm_kind,
                                               scale=2.0)
        cases.append(network.block_backward_case(
            f"x {shape}, {norm_kind}, keep_prob {keep}", x, params, state, norm_kind, keep,
            int(rng.integers(0, 2**31)), int(rng.integers(0, 2**31)),
            forward=solution["hidden_block_forward"], backward=bwd))
    x, params, state = network.block_inputs(rng, (4, 2, 2), 3, "layernorm")
    cases.append(network.block_backward_case("tanh activation, layer norm, dropout", x, params,
                                            state, "layernorm", 0.7, 5, 6, "tanh",
                                            forward=solution["hidden_block_forward"],
                                            backward=bwd))
    return cases


def hidden_net_init(rng, solution):
    cls = solution["FullyConnectedNet"]

    def seeds():
        return (int(rng.integers(0, 2**31)),)

    cases = []
    for norm_kind in ("batchnorm", "layernorm"):
        dims = [int(d) for d in rng.integers(1, 6, size=int(rng.integers(1, 4)))]
        kw = network.net_kwargs(int(rng.integers(2, 7)), int(rng.integers(2, 5)), norm_kind)
        cases.append(network.init_case(f"hidden_dims {dims}, {norm_kind}", dims, kw,
                                      seeds=seeds(), reference=cls))
    kw = {**network.net_kwargs(5, 2, "batchnorm", 0.5, 0.1, "gaussian", 0.3), "dtype": "float32"}
    cases.append(network.init_case("float32, no hidden layer, batch norm (nothing to normalize)",
                                  [], kw, seeds=seeds(), reference=cls))
    return cases


def hidden_net_loss(rng, solution):
    cls = solution["FullyConnectedNet"]
    cases = []
    for norm_kind, keep, reg in ((None, 0.7, 0.05), ("batchnorm", 0.6, 0.1),
                                 ("layernorm", 0.8, 0.02)):
        dims = [int(d) for d in rng.integers(2, 6, size=int(rng.integers(1, 4)))]
        shape = (int(rng.integers(2, 7)), 2, int(rng.integers(1, 4)))
        C = int(rng.integers(2, 5))
        kw = network.net_kwargs(int(np.prod(shape[1:])), C, norm_kind, keep, reg)
        params, state = network.random_net(rng, dims, shape[1:], C, norm_kind)
        X, y = rng.normal(size=shape), rng.integers(0, C, size=shape[0])
        seed = int(rng.integers(0, 2**31))
        label = f"hidden_dims {dims}, {norm_kind}, keep_prob {keep}, reg {reg}"
        cases.append(network.loss_case(f"{label}: loss, grads, state", dims, kw, params, state,
                                      X, y, seed, reference=cls))
        if norm_kind == "batchnorm":   # running averages and dropout both differ in test mode
            cases.append(network.scores_case(f"{label}: test-mode scores", dims, kw, params,
                                            state, X, "test", seed, reference=cls))
    # a batch of one with layer norm, and a network without hidden layers
    kw = network.net_kwargs(6, 3, "layernorm", 0.5, 0.1)
    params, state = network.random_net(rng, [4], (6,), 3, "layernorm")
    cases.append(network.loss_case("a batch of one, layer norm, dropout", [4], kw, params, state,
                                  rng.normal(size=(1, 6)), np.array([2]),
                                  int(rng.integers(0, 2**31)), reference=cls))
    kw = network.net_kwargs(5, 4, None, 1.0, 0.3)
    params, state = network.random_net(rng, [], (5,), 4, None)
    cases.append(network.loss_case("no hidden layer, reg 0.3", [], kw, params, state,
                                  rng.normal(size=(3, 5)), rng.integers(0, 4, size=3), 0,
                                  reference=cls))
    return cases


def hidden_tuned(rng, solution):
    return [network.floor_case(solution)]


TASKS = [
    Task("batchnorm_forward", "batchnorm_forward", visible=public.batchnorm_forward_cases,
         hidden=hidden_batchnorm_forward),
    Task("batchnorm_backward", "batchnorm_backward", visible=public.batchnorm_backward_cases,
         hidden=hidden_batchnorm_backward),
    Task("batchnorm_backward_alt", "batchnorm_backward_alt",
         visible=public.batchnorm_backward_alt_cases, hidden=hidden_batchnorm_backward_alt),
    Task("layernorm_forward", "layernorm_forward", visible=public.layernorm_forward_cases,
         hidden=hidden_layernorm_forward),
    Task("layernorm_backward", "layernorm_backward", visible=public.layernorm_backward_cases,
         hidden=hidden_layernorm_backward),
    Task("dropout_forward", "dropout_forward", visible=public.dropout_forward_cases,
         hidden=hidden_dropout_forward),
    Task("dropout_backward", "dropout_backward", visible=public.dropout_backward_cases,
         hidden=hidden_dropout_backward),
    Task("block_forward", "hidden_block_forward", visible=network.block_forward_cases,
         hidden=hidden_block_forward),
    Task("block_backward", "hidden_block_backward", visible=network.block_backward_cases,
         hidden=hidden_block_backward),
    Task("fc_net_init", "FullyConnectedNet", visible=network.net_init_cases,
         hidden=hidden_net_init),
    Task("fc_net_loss", "FullyConnectedNet", visible=network.net_loss_cases,
         hidden=hidden_net_loss),
    Task("tuned_model", "chosen_hyperparameters", visible=network.hyperparameter_cases,
         hidden=hidden_tuned),
]

# --------------------------------------------------------------------------
# plausible bugs; each must be caught by its own test cell and no other
# --------------------------------------------------------------------------

_BF, _BB, _BA = "batchnorm_forward_code", "batchnorm_backward_code", "batchnorm_backward_alt_code"
_LF, _LB = "layernorm_forward_code", "layernorm_backward_code"
_DF, _DB = "dropout_forward_code", "dropout_backward_code"
_KF, _KB = "hidden_block_forward_code", "hidden_block_backward_code"
_NET, _HP = "fc_net_code", "chosen_hyperparameters_code"

MUTANTS = [
    # batch norm forward
    Mutant("batchnorm forward: unbiased variance (ddof=1)", "batchnorm_forward", _BF,
           "var = x.var(axis=0)", "var = x.var(axis=0, ddof=1)"),
    Mutant("batchnorm forward: eps outside the square root", "batchnorm_forward", _BF,
           "x_hat = (x - mean) / np.sqrt(var + eps)", "x_hat = (x - mean) / (np.sqrt(var) + eps)"),
    Mutant("batchnorm forward: momentum and 1 - momentum swapped", "batchnorm_forward", _BF,
           "running_mean = momentum * running_mean + (1 - momentum) * mean",
           "running_mean = (1 - momentum) * running_mean + momentum * mean"),
    Mutant("batchnorm forward: running averages updated in test mode too", "batchnorm_forward",
           _BF, "        mean, var = running_mean, running_var\n",
           "        mean, var = running_mean, running_var\n"
           "        running_mean = momentum * running_mean + (1 - momentum) * x.mean(axis=0)\n"),
    Mutant("batchnorm forward: test mode normalizes with the batch statistics",
           "batchnorm_forward", _BF, "mean, var = running_mean, running_var",
           "mean, var = x.mean(axis=0), x.var(axis=0)"),
    Mutant("batchnorm forward: gamma and beta swapped", "batchnorm_forward", _BF,
           "out = gamma * x_hat + beta", "out = beta * x_hat + gamma"),
    # batch norm backward, through the graph
    Mutant("batchnorm backward: dx missing the mean terms", "batchnorm_backward", _BB,
           "dx = dxmu + dmean / N", "dx = dxmu"),
    Mutant("batchnorm backward: dgamma summed over the wrong axis", "batchnorm_backward", _BB,
           "dgamma = np.sum(dout * x_hat, axis=0)", "dgamma = np.sum(dout * x_hat, axis=1)"),
    Mutant("batchnorm backward: dbeta summed over the wrong axis", "batchnorm_backward", _BB,
           "dbeta = np.sum(dout, axis=0)", "dbeta = np.sum(dout, axis=1)"),
    Mutant("batchnorm backward: second path of xmu overwrites the first", "batchnorm_backward",
           _BB, "dxmu += 2 * xmu * dsq", "dxmu = 2 * xmu * dsq"),
    Mutant("batchnorm backward: square root's derivative without the 1/2", "batchnorm_backward",
           _BB, "dvar = 0.5 * dstd / std", "dvar = dstd / std"),
    Mutant("batchnorm backward: the variance node's 1/N forgotten", "batchnorm_backward", _BB,
           "dsq = np.ones_like(x) * dvar / N", "dsq = np.ones_like(x) * dvar"),
    # batch norm backward, closed form
    Mutant("batchnorm backward alt: variance term missing", "batchnorm_backward_alt", _BA,
           "(N * dout - dbeta - x_hat * dgamma)", "(N * dout - dbeta)"),
    Mutant("batchnorm backward alt: mean term missing", "batchnorm_backward_alt", _BA,
           "(N * dout - dbeta - x_hat * dgamma)", "(N * dout - x_hat * dgamma)"),
    Mutant("batchnorm backward alt: gamma forgotten in dx", "batchnorm_backward_alt", _BA,
           "dx = gamma / (N * np.sqrt(var + eps))", "dx = 1.0 / (N * np.sqrt(var + eps))"),
    Mutant("batchnorm backward alt: dgamma summed over the wrong axis",
           "batchnorm_backward_alt", _BA, "dgamma = np.sum(dout * x_hat, axis=0)",
           "dgamma = np.sum(dout * x_hat, axis=1)"),
    # layer norm forward
    Mutant("layernorm forward: statistics over the batch (batch norm's axis)",
           "layernorm_forward", _LF,
           "mean = x.mean(axis=1, keepdims=True)\n    var = x.var(axis=1, keepdims=True)",
           "mean = x.mean(axis=0, keepdims=True)\n    var = x.var(axis=0, keepdims=True)"),
    Mutant("layernorm forward: unbiased variance", "layernorm_forward", _LF,
           "var = x.var(axis=1, keepdims=True)", "var = x.var(axis=1, keepdims=True, ddof=1)"),
    Mutant("layernorm forward: eps outside the square root", "layernorm_forward", _LF,
           "x_hat = (x - mean) / np.sqrt(var + eps)", "x_hat = (x - mean) / (np.sqrt(var) + eps)"),
    Mutant("layernorm forward: mean without keepdims", "layernorm_forward", _LF,
           "mean = x.mean(axis=1, keepdims=True)", "mean = x.mean(axis=1)"),
    # layer norm backward
    Mutant("layernorm backward: dx's sums over the batch", "layernorm_backward", _LB,
           "np.sum(dx_hat, axis=1, keepdims=True)", "np.sum(dx_hat, axis=0, keepdims=True)"),
    Mutant("layernorm backward: dgamma summed over the features", "layernorm_backward", _LB,
           "dgamma = np.sum(dout * x_hat, axis=0)", "dgamma = np.sum(dout * x_hat, axis=1)"),
    Mutant("layernorm backward: gamma not applied to dout", "layernorm_backward", _LB,
           "dx_hat = dout * gamma", "dx_hat = dout"),
    Mutant("layernorm backward: variance term missing", "layernorm_backward", _LB,
           "\n          - x_hat * np.sum(dx_hat * x_hat, axis=1, keepdims=True))", ")"),
    # dropout forward
    Mutant("dropout forward: mask with the drop probability", "dropout_forward", _DF,
           "(rng.random(x.shape) < keep_prob)", "(rng.random(x.shape) < 1 - keep_prob)"),
    Mutant("dropout forward: no 1 / keep_prob rescale", "dropout_forward", _DF,
           "mask = (rng.random(x.shape) < keep_prob) / keep_prob",
           "mask = (rng.random(x.shape) < keep_prob) * 1.0"),
    Mutant("dropout forward: active in test mode", "dropout_forward", _DF,
           "if mode == \"test\" or keep_prob == 1.0:", "if keep_prob == 1.0:"),
    Mutant("dropout forward: numpy's global RNG instead of rng", "dropout_forward", _DF,
           "rng.random(x.shape)", "np.random.random(x.shape)"),
    # dropout backward
    Mutant("dropout backward: mask without its 1 / keep_prob", "dropout_backward", _DB,
           "dx = dout * mask", "dx = dout * (mask > 0)"),
    Mutant("dropout backward: upstream gradient ignored", "dropout_backward", _DB,
           "dx = dout * mask", "dx = mask"),
    Mutant("dropout backward: no test-mode case", "dropout_backward", _DB,
           "    if mask is None:\n        return dout\n", ""),
    # hidden block forward
    Mutant("block forward: normalization after the activation", "block_forward", _KF,
           "    if normalization == \"batchnorm\":\n        h, norm_cache,",
           "    h, act_cache = act_forward(h)\n    if normalization == \"batchnorm\":\n"
           "        h, norm_cache,"),
    Mutant("block forward: dropout before the activation", "block_forward", _KF,
           "    h, act_cache = act_forward(h)\n    if keep_prob < 1.0:\n"
           "        h, dropout_cache = dropout_forward(h, keep_prob, mode, rng)\n",
           "    if keep_prob < 1.0:\n        h, dropout_cache = dropout_forward(h, keep_prob, mode, rng)\n"
           "    h, act_cache = act_forward(h)\n"),
    Mutant("block forward: batch norm always in train mode", "block_forward", _KF,
           "state[\"running_var\"], mode)", "state[\"running_var\"])"),
    Mutant("block forward: running averages not returned", "block_forward", _KF,
           "h, norm_cache, (next_state[\"running_mean\"], next_state[\"running_var\"]) =",
           "h, norm_cache, _ ="),
    Mutant("block forward: dropout always in train mode", "block_forward", _KF,
           "dropout_forward(h, keep_prob, mode, rng)", "dropout_forward(h, keep_prob, \"train\", rng)"),
    # hidden block backward
    Mutant("block backward: dropout's backward skipped", "block_backward", _KB,
           "dh = dropout_backward(dout, dropout_cache)", "dh = dout"),
    Mutant("block backward: activation's backward skipped", "block_backward", _KB,
           "    dh = act_backward(dh, act_cache)\n", ""),
    Mutant("block backward: layer norm with batch norm's backward", "block_backward", _KB,
           "= layernorm_backward(dh, norm_cache)", "= batchnorm_backward_alt(dh, norm_cache)"),
    Mutant("block backward: dgamma and dbeta swapped", "block_backward", _KB,
           "dh, grads[\"gamma\"], grads[\"beta\"] = batchnorm_backward_alt(",
           "dh, grads[\"beta\"], grads[\"gamma\"] = batchnorm_backward_alt("),
    # network: __init__
    Mutant("net init: gamma starts at 0", "fc_net_init", _NET,
           "self.params[f\"gamma{i}\"] = np.ones(", "self.params[f\"gamma{i}\"] = np.zeros("),
    Mutant("net init: running variance starts at 0", "fc_net_init", _NET,
           "self.state[f\"running_var{i}\"] = np.ones(", "self.state[f\"running_var{i}\"] = np.zeros("),
    Mutant("net init: the output layer normalized too", "fc_net_init", _NET,
           "for i in range(1, self.num_layers):\n            if normalization is not None:",
           "for i in range(1, self.num_layers + 1):\n            if normalization is not None:"),
    Mutant("net init: running averages for layer norm too", "fc_net_init", _NET,
           "if normalization == \"batchnorm\":\n                self.state",
           "if normalization is not None:\n                self.state"),
    # network: loss
    Mutant("net loss: state not replaced in train mode", "fc_net_loss", _NET,
           "        if mode == \"train\":\n            self.state = next_state\n", ""),
    Mutant("net loss: blocks always in train mode", "fc_net_loss", _NET,
           "self.keep_prob, mode, rng,", "self.keep_prob, \"train\", rng,"),
    Mutant("net loss: regularization gradient without the factor 2", "fc_net_loss", _NET,
           "2 * self.reg * W", "self.reg * W"),
    Mutant("net loss: gamma and beta gradients dropped", "fc_net_loss", _NET,
           "grads.update({f\"{k}{i}\": v for k, v in block_grads.items()})",
           "grads.update({f\"{k}{i}\": v for k, v in block_grads.items() if k in \"Wb\"})"),
    Mutant("net loss: regularization missing from the loss value", "fc_net_loss", _NET,
           "            loss += self.reg * np.sum(W * W)\n", ""),
    # chosen hyperparameters
    Mutant("hyperparameters: learning rate 1000x too small", "tuned_model", _HP,
           "\"learning_rate\": 1e-3", "\"learning_rate\": 1e-6"),
    Mutant("hyperparameters: learning rate far too large", "tuned_model", _HP,
           "\"learning_rate\": 1e-3", "\"learning_rate\": 1.0"),
    Mutant("hyperparameters: keep_prob 0.05", "tuned_model", _HP,
           "\"keep_prob\": 0.8", "\"keep_prob\": 0.05"),
    Mutant("hyperparameters: hidden layers of 2 units", "tuned_model", _HP,
           "\"hidden_dim\": 512", "\"hidden_dim\": 2"),
]

DEMO_BUG = "batchnorm backward: dx missing the mean terms"
