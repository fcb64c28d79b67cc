"""Hidden cases and mutants of notebook 03_two_layer_net.  Instructor-only.

A grade never depends on luck.  The layer cases compare with the reference up to
rtol = 1e-6, atol = 1e-8 (1e-12 for the sigmoid's tiny outputs): every output is a short
sum of products of numbers below ~50, so two correct formulas differ by under 1e-12,
for any draw.  Where a correct answer could still differ by chance (a ReLU input or an
SVM margin within rounding of 0, the init check's statistics), the bound of that
probability is written at the case; all are below 1e-9.
"""

from __future__ import annotations

import functools

import numpy as np

from assignments.adapters import model_loss, model_scores
from assignments.cases import Case, resolve_refs
from assignments.notebooks import two_layer_net as public
from assignments.notebooks import two_layer_net_model as model

from . import Mutant, Task

A = "03_two_layer_net"

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _shape(rng, n=None, max_extra=3):
    """(N, d1, ..., dk) with 0..max_extra extra dimensions of size 1..4."""
    n = int(rng.integers(1, 7)) if n is None else n
    extra = tuple(int(d) for d in rng.integers(1, 5, size=int(rng.integers(1, max_extra + 1))))
    return (n,) + extra


def _with_zeros(rng, shape, scale=2.0):
    """Normal values with about a quarter of the entries exactly 0."""
    x = rng.normal(size=shape) * scale
    x[rng.random(shape) < 0.25] = 0.0
    return x


def _expect(fn, label, args, output, **kw):
    """A hidden case whose expected value is the reference ``fn`` on the same arguments."""
    return Case(label, args, expected=fn(*args), output=output, **kw)


# --------------------------------------------------------------------------
# layers
# --------------------------------------------------------------------------

def _affine_shapes(rng, fixed):
    """(label, x shape) pairs: random, one fixed, a single example, plain rows."""
    return (("random shape", _shape(rng)), (f"inputs {fixed}", fixed),
            ("a single example with extra dimensions", _shape(rng, n=1)),
            ("plain rows (N, D)", (int(rng.integers(2, 6)), int(rng.integers(1, 8)))))


def hidden_affine_forward(rng, solution):
    cases = []
    for label, shape in _affine_shapes(rng, (3, 2, 3, 4)):
        D, M = int(np.prod(shape[1:])), int(rng.integers(1, 6))
        args = (rng.normal(size=shape), rng.normal(size=(D, M)), rng.normal(size=M))
        cases.append(_expect(solution["affine_forward"], f"{label}: x {shape}, w {(D, M)}", args,
                             public.AFFINE_OUTPUT))
    return cases


def hidden_affine_backward(rng, solution):
    bwd, names = solution["affine_backward"], ("dx", "dw", "db")
    cases = []
    for label, shape in _affine_shapes(rng, (2, 3, 1, 5)):
        D, M = int(np.prod(shape[1:])), int(rng.integers(1, 6))
        cache = (rng.normal(size=shape), rng.normal(size=(D, M)), rng.normal(size=M))
        cases.append(_expect(bwd, f"{label}: x {shape}, w {(D, M)}",
                             (rng.normal(size=(shape[0], M)), cache), names))
    # N == M, so summing db over the wrong axis keeps the right shape
    cache = (rng.normal(size=(3, 2, 2)), rng.normal(size=(4, 3)), rng.normal(size=3))
    cases.append(_expect(bwd, "as many examples as outputs", (rng.normal(size=(3, 3)), cache),
                         names))
    return cases


def hidden_relu_forward(rng, solution):
    return [_expect(solution["relu_forward"], f"{label}: x {x.shape}", (x,), ("out", "cache"))
            for label, x in (("random shape with zeros", _with_zeros(rng, _shape(rng))),
                             ("all inputs negative", -np.abs(rng.normal(size=_shape(rng))) - 0.1),
                             ("a single example", rng.normal(size=_shape(rng, n=1))),
                             ("large values", rng.normal(size=(4, 5)) * 1e3))]


def hidden_relu_backward(rng, solution):
    return [_expect(solution["relu_backward"], f"{label}: x {x.shape}",
                    (rng.normal(size=x.shape), x), "dx")
            for label, x in (("random shape with exact zeros", _with_zeros(rng, _shape(rng))),
                             ("all inputs negative", -np.abs(rng.normal(size=_shape(rng))) - 0.1),
                             ("all inputs exactly 0", np.zeros(_shape(rng))),
                             ("a single example", _with_zeros(rng, _shape(rng, n=1))))]


def hidden_sigmoid_forward(rng, solution):
    return [_expect(solution["sigmoid_forward"], f"{label}: x {x.shape}", (x,), ("out", "cache"),
                    atol=1e-12)
            for label, x in (("random shape", rng.normal(size=_shape(rng)) * 3),
                             ("large magnitudes", rng.normal(size=(3, 4)) * 500),
                             ("a single example", rng.normal(size=_shape(rng, n=1))),
                             ("extreme values", np.array([[-745.0, -710.0, 0.0, 710.0, 1e4]])))]


def hidden_sigmoid_backward(rng, solution):
    bwd = solution["sigmoid_backward"]
    cases = [_expect(bwd, f"{label}: {shape}", (rng.normal(size=shape),
                                                rng.uniform(0, 1, size=shape)), "dx")
             for label, shape in (("random shape", _shape(rng)),
                                  ("a single example", _shape(rng, n=1)), ("plain rows", (5, 3)))]
    cases.append(_expect(bwd, "saturated outputs 0 and 1", (np.array([2.0, -3.0, 4.0, 1.0]),
                                                           np.array([0.0, 1.0, 0.5, 1e-9])), "dx"))
    return cases


def hidden_softmax(rng, solution):
    loss_fn, names = solution["softmax_loss"], ("loss", "dscores")
    cases = []
    for _ in range(2):
        n, c = int(rng.integers(2, 9)), int(rng.integers(2, 8))
        s = rng.normal(size=(n, c)) * float(rng.uniform(0.5, 5))
        cases.append(_expect(loss_fn, f"{n} examples x {c} classes",
                             (s, rng.integers(0, c, size=n)), names))
    s = rng.normal(size=(4, 6)) * 20 + rng.choice([-800.0, 900.0], size=(4, 1))
    cases.append(_expect(loss_fn, "scores in the hundreds (overflow)",
                         (s, rng.integers(0, 6, size=4)), names))
    cases.append(_expect(loss_fn, "a single example", (rng.normal(size=(1, 5)), np.array([3])),
                         names))
    cases.append(_expect(loss_fn, "a very confident wrong prediction",
                         (np.array([[50.0, -50.0, 0.0], [1.0, 1.0, 1.0]]), np.array([1, 0])),
                         names))
    return cases


def hidden_svm(rng, solution):
    # A random margin s_j - s_y + 1 lies within 4e-15 of 0 (where two correct formulas could
    # disagree on the hinge) with probability <= 2 * 4e-15 * 0.2 per margin (0.2 bounds the
    # density of s_j - s_y + 1 at 0 for scores N(0, 2^2)); 2 cases of <= 8 x 7 margins:
    # < 2e-13.  The integer-score case is exact (margins of 0 are exactly 0).
    loss_fn, names = solution["svm_loss"], ("loss", "dscores")
    cases = []
    for _ in range(2):
        n, c = int(rng.integers(2, 9)), int(rng.integers(2, 8))
        cases.append(_expect(loss_fn, f"{n} examples x {c} classes",
                             (rng.normal(size=(n, c)) * 2, rng.integers(0, c, size=n)), names))
    cases.append(_expect(loss_fn, "integer scores: some margins exactly 0",
                         (rng.integers(-2, 3, size=(6, 4)).astype(np.float64),
                          rng.integers(0, 4, size=6)), names))
    cases.append(_expect(loss_fn, "a single example", (rng.normal(size=(1, 4)), np.array([2])),
                         names))
    cases.append(_expect(loss_fn, "every margin satisfied: zero loss",
                         (np.array([[10.0, 0.0, 0.0], [0.0, 10.0, -5.0]]), np.array([0, 1])),
                         names))
    return cases


# --------------------------------------------------------------------------
# the network
# --------------------------------------------------------------------------

def hidden_init(rng, solution):
    # The draw order of the weights is not part of the task, so their scale is judged
    # statistically (verify_gaussian: std within 20 %, |mean| <= 0.35 std).  Its bound of the
    # false-failure probability for a correct draw, per matrix (std_bound + mean_bound):
    # W1 10,000 entries 2.4e-164, W2 1,000 entries 4.5e-17; W1 6,400 1.9e-105, W2 1,000
    # 4.5e-17; W1 1,600 6.8e-27, W2 1,000 4.5e-17.  Total below 1.4e-16 per grading (< 1e-9).
    cases = []
    for d, h, c, ws in ((200, 50, 20, 0.1), (64, 100, 10, 1e-3), (40, 40, 25, 2.0)):
        seed = int(rng.integers(0, 2**31))
        cases.append(model.init_case(d, h, c, ws, seed))
    return cases


def _random_params(rng, D, H, C, scale=1.0):
    return {"W1": rng.normal(size=(D, H)) * scale, "b1": rng.normal(size=H) * scale,
            "W2": rng.normal(size=(H, C)) * scale, "b2": rng.normal(size=C) * scale}


def hidden_loss(rng, solution):
    # The student's network runs with the reference layers (adapters), so its hidden
    # inputs round as the reference's.  A network that computes X @ W1 itself could round
    # a hidden input within 1e-14 of 0 to the other side of the ReLU: probability below
    # 2 * 1e-14 * 0.4 per input (0.4 bounds the density of N(0, s^2) for s >= 1), times
    # < 100 hidden inputs per grading: < 1e-12.
    cls = solution["TwoLayerNet"]
    cases = []

    def loss_case(label, params, X, y, reg, activation=None):
        args, kwargs = model.net_args(params, reg, activation)
        kwargs = resolve_refs(kwargs)
        expected = model_loss(cls, args, kwargs, params, X, y)
        cases.append(model.loss_case(label, params, X, y, reg, expected, activation))

    shape = _shape(rng, n=5)
    D = int(np.prod(shape[1:]))
    params = _random_params(rng, D, 6, 4)
    X = rng.normal(size=shape)
    y = rng.integers(0, 4, size=5)
    args, kwargs = model.net_args(params)
    scores = model_scores(cls, args, kwargs, params, X)
    cases.append(model.scores_case(f"scores (y=None), inputs {shape}", params, X, scores))
    loss_case(f"inputs {shape}, reg = 0", params, X, y, 0.0)
    loss_case(f"inputs {shape}, reg = 0.05", params, X, y, 0.05)
    p1 = _random_params(rng, 12, 3, 5)
    loss_case("a single example (1, 3, 4), reg = 0.2", p1, rng.normal(size=(1, 3, 4)),
              np.array([4]), 0.2)
    p2 = _random_params(rng, 8, 5, 3)
    p2["b1"] = -100.0 - np.abs(p2["b1"])
    loss_case("every hidden unit dead (b1 very negative)", p2, rng.normal(size=(4, 8)),
              rng.integers(0, 3, size=4), 0.1)
    p3 = _random_params(rng, 7, 4, 3)
    loss_case("sigmoid hidden activation, reg = 0.01", p3, rng.normal(size=(3, 7)),
              rng.integers(0, 3, size=3), 0.01, activation="sigmoid")
    return cases


# --------------------------------------------------------------------------
# the tuned model: the library's recipe, trained with the reference network
# --------------------------------------------------------------------------

def hidden_tuned(rng, solution):
    train = functools.partial(model.train_two_layer, solution["TwoLayerNet"], blocks=solution)
    return [model.RECIPE.floor_case(train)]


TASKS = [
    Task("affine_forward", "affine_forward", visible=public.affine_forward_cases,
         hidden=hidden_affine_forward),
    Task("affine_backward", "affine_backward", visible=public.affine_backward_cases,
         hidden=hidden_affine_backward),
    Task("relu_forward", "relu_forward", visible=public.relu_forward_cases,
         hidden=hidden_relu_forward),
    Task("relu_backward", "relu_backward", visible=public.relu_backward_cases,
         hidden=hidden_relu_backward),
    Task("sigmoid_forward", "sigmoid_forward", visible=public.sigmoid_forward_cases,
         hidden=hidden_sigmoid_forward),
    Task("sigmoid_backward", "sigmoid_backward", visible=public.sigmoid_backward_cases,
         hidden=hidden_sigmoid_backward),
    Task("softmax_loss", "softmax_loss", visible=public.softmax_loss_cases, hidden=hidden_softmax),
    Task("svm_loss", "svm_loss", visible=public.svm_loss_cases, hidden=hidden_svm),
    Task("two_layer_init", "TwoLayerNet", visible=model.two_layer_init_cases, hidden=hidden_init),
    Task("two_layer_loss", "TwoLayerNet", visible=model.two_layer_loss_cases, hidden=hidden_loss),
    Task("tuned_model", "chosen_hyperparameters", visible=model.hyperparameter_cases,
         hidden=hidden_tuned),
]

# --------------------------------------------------------------------------
# plausible bugs; each must be caught by its own test cell and no other
# --------------------------------------------------------------------------

_AF, _AB = "affine_forward_code", "affine_backward_code"
_RF, _RB = "relu_forward_code", "relu_backward_code"
_SF, _SB = "sigmoid_forward_code", "sigmoid_backward_code"
_SM, _SV = "softmax_loss_code", "svm_loss_code"
_NET = "two_layer_net_code"
_HP = "chosen_hyperparameters_code"

MUTANTS = [
    # affine forward
    Mutant("affine forward: inputs not flattened", "affine_forward", _AF,
           "x_rows = x.reshape(x.shape[0], -1)", "x_rows = x"),
    Mutant("affine forward: bias not added", "affine_forward", _AF,
           "out = x_rows @ w + b", "out = x_rows @ w"),
    Mutant("affine forward: cache holds the flattened x", "affine_forward", _AF,
           "cache = (x, w, b)", "cache = (x_rows, w, b)"),
    Mutant("affine forward: flattened in column-major order", "affine_forward", _AF,
           "x.reshape(x.shape[0], -1)", "x.reshape(x.shape[0], -1, order=\"F\")"),
    # affine backward
    Mutant("affine backward: dx not reshaped to the input shape", "affine_backward", _AB,
           "dx = (dout @ w.T).reshape(x.shape)", "dx = dout @ w.T"),
    Mutant("affine backward: db summed over the wrong axis", "affine_backward", _AB,
           "db = np.sum(dout, axis=0)", "db = np.sum(dout, axis=1)"),
    Mutant("affine backward: db averaged instead of summed", "affine_backward", _AB,
           "db = np.sum(dout, axis=0)", "db = np.mean(dout, axis=0)"),
    Mutant("affine backward: dw divided by N", "affine_backward", _AB,
           "dw = x_rows.T @ dout", "dw = x_rows.T @ dout / x.shape[0]"),
    # ReLU forward
    Mutant("relu forward: np.max (a reduction) instead of np.maximum", "relu_forward", _RF,
           "out = np.maximum(x, 0)", "out = np.max(x, 0)"),
    Mutant("relu forward: absolute value", "relu_forward", _RF,
           "out = np.maximum(x, 0)", "out = np.abs(x)"),
    Mutant("relu forward: zeroes the input in place", "relu_forward", _RF,
           "out = np.maximum(x, 0)", "out = x\n    out[out < 0] = 0"),
    # ReLU backward
    Mutant("relu backward: gradient passed where x == 0", "relu_backward", _RB,
           "dx = dout * (x > 0)", "dx = dout * (x >= 0)"),
    Mutant("relu backward: upstream gradient ignored", "relu_backward", _RB,
           "dx = dout * (x > 0)", "dx = (x > 0) * 1.0"),
    Mutant("relu backward: multiplies by the output instead of the mask", "relu_backward", _RB,
           "dx = dout * (x > 0)", "dx = dout * np.maximum(x, 0)"),
    Mutant("relu backward: edits dout in place", "relu_backward", _RB,
           "dx = dout * (x > 0)", "dx = dout\n    dx[x <= 0] = 0"),
    # sigmoid forward
    Mutant("sigmoid forward: e^x / (1 + e^x), nan for large x", "sigmoid_forward", _SF,
           "out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))",
           "out = np.exp(x) / (1.0 + np.exp(x))"),
    Mutant("sigmoid forward: branches swapped", "sigmoid_forward", _SF,
           "np.where(x >= 0,", "np.where(x < 0,"),
    Mutant("sigmoid forward: exp(-x) instead of exp(-|x|)", "sigmoid_forward", _SF,
           "z = np.exp(-np.abs(x))", "z = np.exp(-x)"),
    # sigmoid backward
    Mutant("sigmoid backward: upstream gradient ignored", "sigmoid_backward", _SB,
           "dx = dout * s * (1.0 - s)", "dx = s * (1.0 - s)"),
    Mutant("sigmoid backward: derivative (1 - s) only", "sigmoid_backward", _SB,
           "dx = dout * s * (1.0 - s)", "dx = dout * (1.0 - s)"),
    Mutant("sigmoid backward: sigmoid applied to the cached output again", "sigmoid_backward",
           _SB, "dx = dout * s * (1.0 - s)",
           "t = 1.0 / (1.0 + np.exp(-s))\n    dx = dout * t * (1.0 - t)"),
    # softmax
    Mutant("softmax: gradient not divided by N", "softmax_loss", _SM,
           "    dscores /= N\n", ""),
    Mutant("softmax: no max shift, overflow", "softmax_loss", _SM,
           "shifted = scores - np.max(scores, axis=1, keepdims=True)", "shifted = scores"),
    Mutant("softmax: loss summed instead of averaged", "softmax_loss", _SM,
           "loss = -np.mean(", "loss = -np.sum("),
    Mutant("softmax: gradient sign flipped at the correct class", "softmax_loss", _SM,
           "dscores[np.arange(N), y] -= 1.0", "dscores[np.arange(N), y] += 1.0"),
    # SVM
    Mutant("svm: correct class not excluded from the sum", "svm_loss", _SV,
           "    margins[rows, y] = 0.0\n", ""),
    Mutant("svm: margin of exactly 0 counted", "svm_loss", _SV,
           "positive = margins > 0", "positive = margins >= 0"),
    Mutant("svm: gradient not divided by N", "svm_loss", _SV,
           "    dscores /= N\n", ""),
    Mutant("svm: no gradient for the correct class", "svm_loss", _SV,
           "dscores[rows, y] = -np.sum(positive, axis=1)", "dscores[rows, y] = 0.0"),
    Mutant("svm: margin 0 instead of 1", "svm_loss", _SV,
           "margins = scores - scores[rows, y][:, np.newaxis] + 1.0",
           "margins = scores - scores[rows, y][:, np.newaxis]"),
    # TwoLayerNet.__init__
    Mutant("init: biases random instead of zero", "two_layer_init", _NET,
           "self.params[\"b1\"] = np.zeros(hidden_dim)",
           "self.params[\"b1\"] = weight_scale * rng.standard_normal(hidden_dim)"),
    Mutant("init: weight_scale ignored", "two_layer_init", _NET,
           "self.params[\"W1\"] = weight_scale * rng.standard_normal(",
           "self.params[\"W1\"] = rng.standard_normal("),
    Mutant("init: global numpy RNG instead of rng", "two_layer_init", _NET,
           "weight_scale * rng.standard_normal((hidden_dim, num_classes))",
           "weight_scale * np.random.standard_normal((hidden_dim, num_classes))"),
    Mutant("init: W2 transposed", "two_layer_init", _NET,
           "rng.standard_normal((hidden_dim, num_classes))",
           "rng.standard_normal((num_classes, hidden_dim))"),
    # TwoLayerNet.loss
    Mutant("loss: regularization gradient missing for W1", "two_layer_loss", _NET,
           "\"W1\": dW1 + 2 * self.reg * W1", "\"W1\": dW1"),
    Mutant("loss: regularization gradient without the factor 2", "two_layer_loss", _NET,
           "\"W2\": dW2 + 2 * self.reg * W2", "\"W2\": dW2 + self.reg * W2"),
    Mutant("loss: biases regularized", "two_layer_loss", _NET,
           "np.sum(W1 * W1) + np.sum(W2 * W2))",
           "np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(b1 * b1))"),
    Mutant("loss: regularization missing from the loss value", "two_layer_loss", _NET,
           "loss = data_loss + self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))",
           "loss = data_loss"),
    Mutant("loss: activation skipped on the way forward", "two_layer_loss", _NET,
           "scores, cache_2 = affine_forward(hidden, W2, b2)",
           "scores, cache_2 = affine_forward(hidden_in, W2, b2)"),
    Mutant("loss: activation's backward skipped", "two_layer_loss", _NET,
           "dhidden_in = act_backward(dhidden, cache_act)", "dhidden_in = dhidden"),
    Mutant("loss: self.activation ignored (always ReLU)", "two_layer_loss", _NET,
           "self.activation or (relu_forward, relu_backward)", "(relu_forward, relu_backward)"),
    # chosen hyperparameters
    Mutant("hyperparameters: learning rate 100x too small", "tuned_model", _HP,
           "\"learning_rate\": 0.8", "\"learning_rate\": 0.008"),
    Mutant("hyperparameters: learning rate 100x too large", "tuned_model", _HP,
           "\"learning_rate\": 0.8", "\"learning_rate\": 80.0"),
    Mutant("hyperparameters: regularization far too strong", "tuned_model", _HP,
           "\"reg\": 1e-4", "\"reg\": 0.5"),
    Mutant("hyperparameters: hidden layer of 2 units", "tuned_model", _HP,
           "\"hidden_dim\": 256", "\"hidden_dim\": 2"),
]

DEMO_BUG = "affine backward: dx not reshaped to the input shape"


def _delegated(task, cell, anchor, call):
    """The answer cell with a call of the library's reference put in front of its own code."""
    return Mutant(f"{task}: delegated to assignments.layers.{task}", task, cell, anchor,
                  f"    from assignments.layers import {task} as _reference\n"
                  f"    return _reference({call})\n" + anchor)


# Each layer answer handed to what used to be the library's copy of it (issue 9: they scored
# 25/25).  The package holds no answer any more, so each fails its own cell
# (tests/test_delegation.py).
DELEGATION_MUTANTS = [
    _delegated("affine_forward", _AF, "    x_rows = x.reshape(x.shape[0], -1)\n", "x, w, b"),
    _delegated("affine_backward", _AB, "    x, w, b = cache\n", "dout, cache"),
    _delegated("relu_forward", _RF, "    out = np.maximum(x, 0)\n", "x"),
    _delegated("relu_backward", _RB, "    x = cache\n", "dout, cache"),
    _delegated("sigmoid_forward", _SF, "    z = np.exp(-np.abs(x))\n", "x"),
    _delegated("sigmoid_backward", _SB, "    s = cache\n", "dout, cache"),
    _delegated("softmax_loss", _SM, "    N = scores.shape[0]\n", "scores, y"),
    _delegated("svm_loss", _SV, "    N = scores.shape[0]\n", "scores, y"),
]
