"""Notebook 2 (linear classifiers): visible checks, adapters, the grader's recipes, tools.

Shapes follow the notebook: ``X`` is (N, D), one example per row, with the
bias trick already applied (last column all ones); ``W`` is (D, C), one
column per class; the scores are ``X @ W`` of shape (N, C); ``y`` holds
integer labels in [0, C).  Every loss function returns ``(loss, dW)``.

Check functions take the student's function and run it on small cases with
hand-computed answers.  The adapter ``loss_with_numeric_gradient`` runs the
student's loss on plain data and returns plain data, so the grader can judge
it in another process.  Nothing here computes an SVM or softmax loss: expected
values are worked out by hand, or come from a numerical gradient of the
student's own loss.  The checks of the training loop and of ``predict`` are in
``linear_classifiers_training``, the pictures in ``linear_classifiers_plots``.
"""

from __future__ import annotations

import numpy as np

from ..cases import Case, CheckFailed, library, run_cases, student
from ..gradcheck import assert_gradients_close, eval_numerical_gradient, grad_check_sparse
from ..recipes import Param, Recipe
from ..timing import best_time

__all__ = [
    "svm_loss_cases", "softmax_loss_cases", "best_params_cases",
    "check_svm_loss", "check_softmax_loss", "check_best_params",
    "loss_with_numeric_gradient", "gradient_problem", "squared_error_loss", "chosen_for",
    "scores_loss", "score_table", "sparse_gradient_check", "compare_versions",
    "prepare_linear_data", "RECIPES", "train_linear", "SPARSE_CHECK_FLOOR", "one_hot",
]


# --------------------------------------------------------------------------
# the loss functions: hand-computed cases
# --------------------------------------------------------------------------

# One weight matrix for the SVM cases: D = 2 features, C = 3 classes.
_W_SVM = np.array([[1.0, 0.0, -1.0],
                   [0.0, 1.0, 1.0]])
# x = (1, 2) has scores (1, 2, 1); with label 0 both wrong classes violate
# the margin: max(0, 2 - 1 + 1) + max(0, 1 - 1 + 1) = 2 + 1 = 3.  Each
# violation adds x to its own column and subtracts x from column 0.
# x = (2, -1) has scores (2, -1, -3); with label 0 both margins are met.
_X_SVM = np.array([[1.0, 2.0], [2.0, -1.0]])
_DW_ONE = np.array([[-2.0, 1.0, 1.0],
                    [-4.0, 2.0, 2.0]])
# Two examples, reg = 0.1: data loss (3 + 0) / 2, plus 0.1 * sum(W^2) = 0.1 * 4.
_DW_TWO_REG = _DW_ONE / 2 + 2 * 0.1 * _W_SVM  # = [[-0.8, 0.5, 0.3], [-2, 1.2, 1.2]]

# W = 0 makes every score 0.  For the two examples x = (1, 1) with label 0
# and x = (2, 0) with label 1 and C = 3 classes:
_X_ZERO = np.array([[1.0, 1.0], [2.0, 0.0]])
_Y_ZERO = np.array([0, 1])
# SVM: every margin is 0 - 0 + 1 = 1, so each example loses C - 1 = 2.
# Column sums of the violations: col 0 gets -2*(1,1) + (2,0), col 1 gets
# (1,1) - 2*(2,0), col 2 gets (1,1) + (2,0); then divide by N = 2.
_DW_ZERO_SVM = np.array([[0.0, -1.5, 1.5],
                         [-1.0, 0.5, 0.5]])
# Softmax: every probability is 1/3, loss ln 3; dscores rows are
# (-2/3, 1/3, 1/3) and (1/3, -2/3, 1/3); dW = X^T dscores / 2.
_DW_ZERO_SOFTMAX = np.array([[0.0, -0.5, 0.5],
                             [-1 / 3, 1 / 6, 1 / 6]])


def gradient_problem(seed, N=6, D=5, C=4):
    """A random (W, X, y) for a numerical gradient check: W first, then X, then y.

    The visible SVM case uses seed 3, whose margins all lie at least 0.5 from the
    hinge's kink (tests/test_linear_classifiers.py checks it), so the centred
    difference never straddles a kink.
    """
    rng = np.random.default_rng(seed)
    return rng.normal(size=(D, C)), rng.normal(size=(N, D)), rng.integers(0, C, size=N)


def loss_with_numeric_gradient(loss_fn, W, X, y, reg):
    """Run ``loss_fn(W, X, y, reg)`` and a centered-difference gradient of its loss.

    Returns a dict with the loss, the analytic ``dW`` and ``dW_numeric``: a
    gradient check a grader can judge from plain data.
    """
    out = loss_fn(W, X, y, reg)
    if not isinstance(out, tuple) or len(out) != 2:
        raise CheckFailed(f"the loss function must return a tuple (loss, dW), got "
                          f"{type(out).__name__}")
    loss, dW = out
    W_work = np.array(W, dtype=np.float64, copy=True)
    numeric = eval_numerical_gradient(lambda w: loss_fn(w, X, y, reg)[0], W_work, h=1e-5)
    return {"loss": loss, "dW": dW, "dW_numeric": numeric}


def _gradient_agrees(tol):
    def check(out, case):
        dW, numeric = out["dW"], out["dW_numeric"]
        if not isinstance(dW, np.ndarray) or dW.shape != numeric.shape:
            raise CheckFailed(f"dW must be an array of shape {numeric.shape} (the shape of W), "
                              f"got {getattr(dW, 'shape', type(dW).__name__)}")
        if not np.isfinite(out["loss"]):
            raise CheckFailed(f"the loss is {out['loss']}")
        assert_gradients_close(dW, numeric, "dW (against the numerical gradient of your own "
                               "loss)", tol)
    return check


def svm_loss_cases(name="svm_loss_naive"):
    """Visible cases for ``svm_loss_*(W, X, y, reg) -> (loss, dW)`` (margin 1)."""
    W_num, X_num, y_num = gradient_problem(3)
    return [
        Case("one example, scores (1, 2, 1), label 0, reg = 0",
             (_W_SVM, _X_SVM[:1], np.array([0]), 0.0), expected=(3.0, _DW_ONE),
             output=("loss", "dW")),
        Case("two examples, the second meets every margin, reg = 0.1",
             (_W_SVM, _X_SVM, np.array([0, 0]), 0.1), expected=(1.9, _DW_TWO_REG),
             output=("loss", "dW")),
        Case("W = 0: every margin equals 1, so the loss is C - 1 = 2",
             (np.zeros((2, 3)), _X_ZERO, _Y_ZERO, 0.5), expected=(2.0, _DW_ZERO_SVM),
             output=("loss", "dW")),
        Case("6 random examples, reg = 0.3: dW matches the numerical gradient",
             (student(name), W_num, X_num, y_num, 0.3),
             call=library("assignments.notebooks.linear_classifiers:loss_with_numeric_gradient"),
             verify=_gradient_agrees(1e-6)),
    ]


def softmax_loss_cases(name="softmax_loss_naive"):
    """Visible cases for ``softmax_loss_*(W, X, y, reg) -> (loss, dW)``."""
    ln3 = np.log(3.0)
    rng = np.random.default_rng(5)
    W_num, X_num, y_num = rng.normal(size=(5, 4)), rng.normal(size=(6, 5)), rng.integers(0, 4, 6)
    return [
        # scores (0, ln 3): probabilities (1/4, 3/4); label 0 loses ln 4 and
        # dscores = p - onehot = (-3/4, 3/4).  reg adds 0.5 * (ln 3)^2 and 2 * 0.5 * W.
        Case("one example, scores (0, ln 3), label 0, reg = 0.5",
             (np.array([[0.0, ln3]]), np.array([[1.0]]), np.array([0]), 0.5),
             expected=(np.log(4.0) + 0.5 * ln3 ** 2, np.array([[-0.75, 0.75 + ln3]])),
             output=("loss", "dW")),
        Case("W = 0: all probabilities 1/3, so the loss is ln 3",
             (np.zeros((2, 3)), _X_ZERO, _Y_ZERO, 0.5), expected=(ln3, _DW_ZERO_SOFTMAX),
             output=("loss", "dW")),
        # Row 1 has scores (1e4, 1e4 - ln 3), row 2 has (0, ln 3): exp(1e4)
        # overflows, and shifting both rows by one global max underflows row 2.
        Case("scores near 1e4 in one row and near 0 in the other (shift each row by its max)",
             (np.array([[1e4, 1e4 - ln3], [0.0, ln3]]), np.eye(2), np.array([1, 0]), 0.0),
             expected=(np.log(4.0), np.array([[0.375, -0.375], [-0.375, 0.375]])),
             output=("loss", "dW"), rtol=1e-6, atol=1e-9),
        Case("6 random examples, reg = 0.3: dW matches the numerical gradient",
             (student(name), W_num, X_num, y_num, 0.3),
             call=library("assignments.notebooks.linear_classifiers:loss_with_numeric_gradient"),
             verify=_gradient_agrees(1e-6)),
    ]


def check_svm_loss(fn):
    """Check a multiclass SVM loss ``fn(W, X, y, reg) -> (loss, dW)``."""
    run_cases(fn, svm_loss_cases(fn.__name__), namespace={fn.__name__: fn})


def check_softmax_loss(fn):
    """Check a softmax loss ``fn(W, X, y, reg) -> (loss, dW)``."""
    run_cases(fn, softmax_loss_cases(fn.__name__), namespace={fn.__name__: fn})


def scores_loss(loss_fn, scores, y):
    """A loss and its gradient as functions of the scores themselves.

    With X the N x N identity and W = scores, ``X @ W`` is the scores and
    ``dW`` is dL/dscores, so any ``loss_fn(W, X, y, reg)`` can be evaluated on
    score vectors written down by hand.  Returns ``(loss, dscores)``.
    """
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y))
    return loss_fn(scores, np.eye(len(scores)), y, 0.0)


def score_table(losses: dict, examples, raise_by=1.0) -> dict:
    """Losses of hand-written score vectors (class 0 correct), before and after raising the
    correct score by ``raise_by``; prints one row per example with the relative change.

    ``losses`` maps a name to a loss function ``(W, X, y, reg) -> (loss, dW)`` (evaluated
    on the scores through ``scores_loss``).  Returns {example: {name: (before, after)}}.
    """
    names = list(losses)
    head = f"{'scores (class 0 correct)':<24}" + "".join(
        f"{name + ' before':>16}{'after':>9}{'change':>8}" for name in names)
    print(f"class 0's score raised by {raise_by:g}:")
    print(head)
    out = {}
    for s in examples:
        s = np.asarray(s, dtype=np.float64)
        raised = s.copy()
        raised[0] += raise_by
        row = f"{'(' + ', '.join(f'{v:g}' for v in s) + ')':<24}"
        out[tuple(s)] = {}
        for name, fn in losses.items():
            before, after = scores_loss(fn, s, [0])[0], scores_loss(fn, raised, [0])[0]
            change = f"{100 * (after - before) / before:+.0f} %" if before > 0 else "-"
            row += f"{before:>16.3g}{after:>9.3g}{change:>8}"
            out[tuple(s)][name] = (float(before), float(after))
        print(row)
    return out


# --------------------------------------------------------------------------
# gradient checks and version comparisons, in the open
# --------------------------------------------------------------------------

# The sparse check of notebook 2 judges every coordinate by |a - n| / max(|a| + |n|, floor).
# Its losses (about 9 on 500 examples) carry rounding noise of a few 1e-10 in a centred
# difference with h = 1e-5; with tol 1e-7 the floor 0.1 allows an absolute error of 1e-8 on
# small entries, 20 times that noise (the library's default floor, 1e-2, would allow 1e-9).
SPARSE_CHECK_FLOOR = 0.1


def sparse_gradient_check(loss_fn, W, X, y, reg, seed, num_checks=10, tol=1e-7):
    """Print a gradient check of ``loss_fn(W, X, y, reg)`` at ``num_checks`` random
    coordinates of W (picked by a Generator of ``seed``); raise ``CheckFailed`` naming the
    worst coordinate if one disagrees.  Returns the ``SparseCheck`` table."""
    __tracebackhide__ = True
    _, dW = loss_fn(W, X, y, reg)
    result = grad_check_sparse(lambda w: loss_fn(w, X, y, reg)[0], W, dW,
                               num_checks=num_checks, rng=np.random.default_rng(seed))
    print(result)
    name = getattr(loss_fn, "__name__", "the loss")
    worst = int(np.argmax(np.abs(result.analytic - result.numeric)
                          / np.maximum(SPARSE_CHECK_FLOOR,
                                       np.abs(result.analytic) + np.abs(result.numeric))))
    assert_gradients_close(result.analytic, result.numeric,
                           f"dW of {name} at coordinate {result.indices[worst]}", tol,
                           floor=SPARSE_CHECK_FLOOR)
    print(f"ok: all {num_checks} coordinates agree")
    return result


def compare_versions(naive, vectorized, W, X, y, reg) -> float:
    """Agreement and speed of a naive and a vectorized loss on the same inputs.

    Prints both losses, the largest relative difference of the gradients and the
    times; raises ``CheckFailed`` if the two disagree beyond rounding.  Returns the
    speed-up.
    """
    __tracebackhide__ = True
    loss_n, dW_n = naive(W, X, y, reg)
    loss_v, dW_v = vectorized(W, X, y, reg)
    t_naive, _ = best_time(naive, W, X, y, reg, repeat=2)
    t_vec, _ = best_time(vectorized, W, X, y, reg, repeat=10)
    print(f"loss: naive {loss_n:.10f}, vectorised {loss_v:.10f}")
    if not abs(loss_n - loss_v) <= 1e-9 * max(1.0, abs(loss_n)):
        raise CheckFailed(f"the two versions disagree on the loss: {loss_n!r} (naive) vs "
                          f"{loss_v!r} (vectorised)")
    err = assert_gradients_close(dW_v, dW_n, "dW of the vectorised version (against the naive "
                                             "one)", tol=1e-9)
    print(f"gradient: largest relative difference {err:.1e}")
    print(f"time: naive {t_naive * 1e3:.1f} ms, vectorised {t_vec * 1e3:.2f} ms "
          f"-> {t_naive / t_vec:.0f}x faster")
    return t_naive / t_vec


# --------------------------------------------------------------------------
# a known loss to compare with cross-entropy
# --------------------------------------------------------------------------

def one_hot(y, num_classes):
    Y = np.zeros((len(y), num_classes))
    Y[np.arange(len(y)), y] = 1.0
    return Y


def squared_error_loss(W, X, y, reg, softmax_loss):
    """Squared error between the softmax probabilities and one-hot labels, and its gradient.

    L = 1/N sum_i ||p_i - onehot(y_i)||^2 + reg * sum(W^2), p_i = softmax(x_i W).  The
    probabilities come from your ``softmax_loss(W, X, y, reg)``: its gradient with
    respect to the scores is (P - Y) / N, so P - Y = N * dscores.  The gradient then
    goes back through the softmax: dL/ds_i = p_i * (g_i - g_i . p_i) with g = dL/dp.
    Returns ``(loss, dW)``.
    """
    N = X.shape[0]
    _, dscores = scores_loss(softmax_loss, X @ W, y)
    residual = N * dscores                         # P - Y
    p = residual + one_hot(y, W.shape[1])
    loss = float(np.sum(residual * residual) / N + reg * np.sum(W * W))
    g = 2.0 * residual / N                         # dL/dP
    dscores = p * (g - np.sum(g * p, axis=1, keepdims=True))
    return loss, X.T @ dscores + 2.0 * reg * W


# --------------------------------------------------------------------------
# data and the chosen hyperparameters (one recipe, for the notebook and the grader)
# --------------------------------------------------------------------------

def prepare_linear_data(data, num_val, rng) -> dict:
    """The notebook's preprocessing: split, flatten, scale to [0, 1], centre, bias trick.

    Returns a dict with X_train, y_train, X_val, y_val, X_test, y_test (rows of
    D + 1 numbers, the last one 1) and mean_image (the training mean, D numbers).
    """
    from ..data import append_bias, flatten, subtract_mean, train_val_split

    X_tr, y_tr, X_val, y_val = train_val_split(data.X_train, data.y_train, num_val, rng)
    mean_image, X_tr, X_val, X_te = subtract_mean(flatten(X_tr) / 255.0, flatten(X_val) / 255.0,
                                                  flatten(data.X_test) / 255.0)
    return {"X_train": append_bias(X_tr), "y_train": y_tr, "X_val": append_bias(X_val),
            "y_val": y_val, "X_test": append_bias(X_te), "y_test": data.y_test,
            "mean_image": mean_image}


def _grader_split(data, rng):
    return prepare_linear_data(data, min(5000, len(data.y_train) // 10), rng)


LINEAR_SPACE = {"learning_rate": Param("float", low=0.0, open_low=True),
                "reg": Param("float", low=0.0)}

# How the grader judges best_params[model]: it trains the course's reference
# classifier with those values, 30 epochs in batches of 256 at a constant rate,
# on a fixed split of the bundled data, and requires this validation accuracy.
RECIPES = {model: Recipe(name=f"linear {model}", space=LINEAR_SPACE, prepare=_grader_split,
                         min_val_acc=0.82, fixed={"num_epochs": 30, "batch_size": 256},
                         seed=0)
           for model in ("svm", "softmax")}


def train_linear(classifier_cls, settings, data, seed=12) -> float:
    """Validation accuracy of ``classifier_cls`` trained with a recipe's settings."""
    num_iters = int(settings["num_epochs"] * len(data["y_train"]) / settings["batch_size"])
    model = classifier_cls()
    model.train(data["X_train"], data["y_train"], learning_rate=settings["learning_rate"],
                reg=settings["reg"], num_iters=num_iters, batch_size=settings["batch_size"],
                rng=np.random.default_rng(seed))
    return float(np.mean(model.predict(data["X_val"]) == data["y_val"]))


def chosen_for(best_params, model):
    """``best_params[model]``, refusing anything but a dict holding that key."""
    if not isinstance(best_params, dict) or model not in best_params:
        raise CheckFailed(f"best_params must be a dict with a key {model!r}")
    return best_params[model]


def best_params_cases(model):
    """Visible case: ``best_params[model]`` holds usable hyperparameters."""
    return [RECIPES[model].format_case((student("best_params"), model),
                                       call=library(f"{__name__}:chosen_for"),
                                       label=f"best_params[{model!r}] holds a learning_rate "
                                             "and a reg")]


def check_best_params(best_params, model):
    """Check the structure of ``best_params[model]`` (the grader also trains with it)."""
    run_cases(None, best_params_cases(model), name="best_params",
              namespace={"best_params": best_params})


