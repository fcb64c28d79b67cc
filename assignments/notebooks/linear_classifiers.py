"""Notebook 2 (linear classifiers): visible checks, adapters and pictures.

Shapes follow the notebook: ``X`` is (N, D), one example per row, with the
bias trick already applied (last column all ones); ``W`` is (D, C), one
column per class; the scores are ``X @ W`` of shape (N, C); ``y`` holds
integer labels in [0, C).  Every loss function returns ``(loss, dW)``.

Check functions take the student's function (or class) and run it on small
cases with hand-computed answers.  Adapters (``loss_with_numeric_gradient``,
``sgd_probe``, ``predict_probe``) run the student's code on plain data and
return plain data, so the grader can judge them in another process.
"""

from __future__ import annotations

import numpy as np

from ..cases import Case, CheckFailed, library, run_cases, student
from ..gradcheck import assert_gradients_close, eval_numerical_gradient
from ..recipes import Param, Recipe

__all__ = [
    "svm_loss_cases", "softmax_loss_cases", "train_cases", "predict_cases", "best_params_cases",
    "check_svm_loss", "check_softmax_loss", "check_train", "check_predict", "check_best_params",
    "loss_with_numeric_gradient", "squared_error_loss", "sgd_probe", "verify_sgd_probe",
    "predict_probe", "chosen_for", "scores_loss", "prepare_linear_data", "RECIPES",
    "train_linear", "plot_linear_scores", "plot_loss_histories", "plot_correct_score_sweep",
    "plot_ce_vs_mse", "templates",
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


def _safe_svm_problem(seed, N=6, D=5, C=4, scale=1.0, min_gap=1e-2):
    """Random (W, X, y) whose SVM margins all stay at least ``min_gap`` from a kink."""
    rng = np.random.default_rng(seed)
    while True:
        W = rng.normal(size=(D, C)) * scale
        X = rng.normal(size=(N, D))
        y = rng.integers(0, C, size=N)
        s = X @ W
        m = s - s[np.arange(N), y][:, None] + 1.0
        m[np.arange(N), y] = np.inf
        if np.min(np.abs(m)) > min_gap:
            return W, X, y


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
    numeric = eval_numerical_gradient(lambda w: loss_fn(w, X, y, reg)[0], W_work, h=1e-6)
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
    W_num, X_num, y_num = _safe_svm_problem(3)
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


# --------------------------------------------------------------------------
# a known loss for probing the training loop
# --------------------------------------------------------------------------

def squared_error_loss(W, X, y, reg):
    """Mean squared error between softmax probabilities and one-hot labels.

    L = 1/N sum_i ||p_i - onehot(y_i)||^2 + reg * sum(W^2), p_i = softmax(x_i W).
    Used to test the training loop independently of your own losses, and
    to compare with cross-entropy.  Returns ``(loss, dW)``.
    """
    N = X.shape[0]
    scores = X @ W
    scores = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=1, keepdims=True)
    r = p.copy()
    r[np.arange(N), y] -= 1.0
    loss = np.sum(r * r) / N + reg * np.sum(W * W)
    g = 2.0 * r / N                                   # dL/dp
    dscores = p * (g - np.sum(g * p, axis=1, keepdims=True))   # softmax Jacobian
    return float(loss), X.T @ dscores + 2.0 * reg * W


# --------------------------------------------------------------------------
# the training loop: probed with a known loss, checked from the record
# --------------------------------------------------------------------------

def _probe_data(rng, N, D, C):
    """Rows whose first feature is the row's index, labels covering all C classes."""
    X = rng.normal(size=(N, D))
    X[:, 0] = np.arange(N)
    y = np.concatenate([np.arange(C), rng.integers(0, C, size=N - C)])
    return X, rng.permutation(y)


def sgd_probe(classifier_cls, X, y, learning_rate, reg, num_iters, batch_size, seeds,
              global_seeds, W0=None, spread=False):
    """Run ``classifier_cls.train`` with a known loss and record every step.

    A subclass of the student's class gets ``loss = squared_error_loss`` and
    writes down, at every call, the batch it was given (recovered from the
    first feature, which holds the row index), the weights it saw, its loss,
    gradient and ``reg``.  ``train`` runs once per (seed, global seed) pair:
    ``seeds[k]`` seeds the Generator passed in, ``global_seeds[k]`` numpy's
    global random state (restored afterwards).  ``spread`` is read by
    ``check_sgd_probe`` only.  Returns a dict of plain data.
    """
    runs = []
    for seed, global_seed in zip(seeds, global_seeds):
        record = {"W": [], "rows": [], "y": [], "reg": [], "loss": [], "dW": []}

        class Probe(classifier_cls):
            def loss(self, X_batch, y_batch, reg):
                X_batch, y_batch = np.asarray(X_batch), np.asarray(y_batch)
                record["W"].append(np.array(self.W, dtype=np.float64, copy=True))
                record["rows"].append(np.rint(X_batch[:, 0]).astype(np.int64))
                record["y"].append(y_batch.astype(np.int64))
                record["reg"].append(float(reg))
                loss, dW = squared_error_loss(self.W, X_batch, y_batch, reg)
                record["loss"].append(loss)
                record["dW"].append(dW)
                return loss, dW

        saved = np.random.get_state()
        try:
            np.random.seed(global_seed)
            model = Probe()
            if W0 is not None:
                model.W = np.array(W0, dtype=np.float64, copy=True)
            history = model.train(X, y, learning_rate=learning_rate, reg=reg,
                                  num_iters=num_iters, batch_size=batch_size,
                                  rng=np.random.default_rng(seed))
        finally:
            np.random.set_state(saved)
        if history is None:
            raise CheckFailed("train returned None; it must return the list of losses, "
                              "one per iteration")
        W_final = getattr(model, "W", None)
        if not isinstance(W_final, np.ndarray):
            raise CheckFailed(f"after training, self.W must be a numpy array, got "
                              f"{type(W_final).__name__}")
        runs.append({"history": np.asarray(history, dtype=np.float64).ravel(),
                     "W_final": W_final, **record})
    return {"runs": runs}


def verify_sgd_probe(out, case):
    """Judge ``sgd_probe``'s record: one loss call per iteration, right batches, right update."""
    kw = case.kwargs
    X, y = kw["X"], kw["y"]
    N, D = X.shape
    C = int(np.max(y)) + 1
    T, B, lr, reg = kw["num_iters"], kw["batch_size"], kw["learning_rate"], kw["reg"]
    runs = out["runs"]
    for run in runs:
        calls = len(run["loss"])
        if calls != T:
            raise CheckFailed(f"train called self.loss {calls} times for num_iters = {T}; "
                              "call it exactly once per iteration (and use self.loss, not a "
                              "loss function by name)")
        for t in range(T):
            rows, yb = run["rows"][t], run["y"][t]
            if rows.shape != (B,):
                raise CheckFailed(f"iteration {t}: the batch holds {rows.shape[0]} examples, "
                                  f"expected batch_size = {B}")
            if rows.min() < 0 or rows.max() >= N:
                raise CheckFailed(f"iteration {t}: the batch holds rows that are not in X")
            if yb.shape != (B,) or not np.array_equal(yb, y[rows]):
                raise CheckFailed(f"iteration {t}: y_batch does not hold the labels of the rows "
                                  "in X_batch; index X and y with the same indices")
            if not np.isclose(run["reg"][t], reg, rtol=1e-12, atol=0):
                raise CheckFailed(f"iteration {t}: self.loss received reg = {run['reg'][t]:g}, "
                                  f"but train was called with reg = {reg:g}")
        W0 = kw.get("W0")
        first = run["W"][0]
        if W0 is not None and not np.array_equal(first, W0):
            raise CheckFailed("train replaced the weights the model already had; initialise "
                              "W only when self.W is None")
        if W0 is None and first.shape != (D, C):
            raise CheckFailed(f"the initial W has shape {first.shape}, expected {(D, C)}")
        for t in range(T):
            expected = run["W"][t] - lr * run["dW"][t]
            got = run["W"][t + 1] if t + 1 < T else run["W_final"]
            where = f"after iteration {t}" if t + 1 < T else "at the end of training"
            if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-9,
                                                              atol=1e-12):
                raise CheckFailed(f"{where}, W is not W - learning_rate * dW of that "
                                  "iteration's batch (one plain SGD step per iteration)")
        history = run["history"]
        if history.shape != (T,) or not np.allclose(history, run["loss"], rtol=1e-9, atol=0):
            raise CheckFailed(f"train must return the {T} losses returned by self.loss, in "
                              f"order; got {history.shape[0]} values"
                              + ("" if history.shape != (T,) else " that differ from them"))
        if kw.get("spread", False):
            counts = np.bincount(np.concatenate(run["rows"]), minlength=N)
            expected_count = T * B / N
            if counts.min() == 0 or counts.max() > 3 * expected_count:
                raise CheckFailed(
                    f"over {T} batches of {B} from {N} examples every example should be drawn "
                    f"about {expected_count:.0f} times, but one was drawn {counts.min()} times "
                    f"and one {counts.max()} times; draw a new random batch every iteration")
    same = [np.array_equal(np.concatenate(a["rows"]), np.concatenate(runs[0]["rows"]))
            for a in runs]
    if len(runs) >= 2 and not same[1]:
        raise CheckFailed("two runs of train with the same rng seed drew different batches; "
                          "draw them from the rng passed in, never from np.random")
    if len(runs) >= 3 and same[2] and N > 1:
        raise CheckFailed("two runs of train with different rng seeds drew the same batches; "
                          "draw them from the rng passed in")


def train_cases():
    """Visible cases for ``LinearClassifier.train`` (with a known loss, see ``sgd_probe``)."""
    rng = np.random.default_rng(11)
    X, y = _probe_data(rng, 20, 4, 3)
    W0 = rng.normal(size=(4, 3)) * 0.1
    probe = library("assignments.notebooks.linear_classifiers:sgd_probe")
    cls = student("LinearClassifier")
    return [
        Case("20 examples, 80 batches of 8, lr 0.5, reg 0.01, starting from a given W",
             (cls,), dict(X=X, y=y, learning_rate=0.5, reg=0.01, num_iters=80, batch_size=8,
                          seeds=(1, 1, 2), global_seeds=(3, 4, 3), W0=W0, spread=True),
             call=probe, verify=verify_sgd_probe),
        Case("W starts as None, 5 iterations, reg 0", (cls,),
             dict(X=X, y=y, learning_rate=0.1, reg=0.0, num_iters=5, batch_size=4,
                  seeds=(7,), global_seeds=(0,)),
             call=probe, verify=verify_sgd_probe),
    ]


def predict_probe(classifier_cls, W, X):
    """Predictions of a fresh ``classifier_cls`` whose weights are set to ``W``."""
    model = classifier_cls()
    model.W = np.array(W, dtype=np.float64, copy=True)
    return model.predict(X)


def predict_cases():
    """Visible cases for ``LinearClassifier.predict``."""
    # Columns are classes; the last row is the bias.  Scores of the rows:
    # (1, 0, 1) -> (1, -0.5, -1): class 0;   (1, 1, 1) -> (1, 1.5, 1): class 1;
    # (-1, 2, 1) -> (-1, 3.5, 7): class 2;   (0, 0, 1) -> (0, -0.5, 1): class 2,
    # decided by the biases alone.
    W = np.array([[1.0, 0.0, -2.0],
                  [0.0, 2.0, 2.0],
                  [0.0, -0.5, 1.0]])
    X = np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0], [-1.0, 2.0, 1.0], [0.0, 0.0, 1.0]])
    cls = student("LinearClassifier")
    call = library("assignments.notebooks.linear_classifiers:predict_probe")
    return [
        Case("4 examples, 3 classes, scores worked out by hand", (cls, W, X),
             expected=np.array([0, 1, 2, 2]), output="y_pred", call=call),
        Case("one example", (cls, W, X[2:3]), expected=np.array([2]), output="y_pred",
             call=call),
    ]


def check_train(cls):
    """Check ``cls.train`` (cls is your LinearClassifier) with a known loss."""
    run_cases(cls, train_cases(), name="LinearClassifier.train",
              namespace={"LinearClassifier": cls})


def check_predict(cls):
    """Check ``cls.predict`` (cls is your LinearClassifier)."""
    run_cases(cls, predict_cases(), name="LinearClassifier.predict",
              namespace={"LinearClassifier": cls})


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


# --------------------------------------------------------------------------
# pictures
# --------------------------------------------------------------------------

def plot_linear_scores(W, X, y, ax=None, title="regions of a linear classifier"):
    """Toy data, the argmax regions of scores [x, 1] @ W, and each class's zero line.

    W has shape (3, 3): rows are (x1, x2, bias), columns are classes.  For
    every class the dashed line is where its score is 0 and the arrow (the
    weight vector) points to where the score grows.
    """
    import matplotlib.pyplot as plt

    from ..vis import draw_decision_regions

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    draw_decision_regions(lambda P: np.argmax(np.column_stack([P, np.ones(len(P))]) @ W, axis=1),
                          X, y, ax=ax, resolution=300, pad=1.0, legend=False)
    ax.set_aspect("equal")
    ax.set_title(title)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    t = np.linspace(x0, x1, 2)
    for c in range(W.shape[1]):
        w1, w2, b = W[:, c]
        colour = f"C{c}"
        if abs(w2) > 1e-12:
            ax.plot(t, -(w1 * t + b) / w2, ls="--", color=colour, lw=1.5)
        else:
            ax.axvline(-b / w1, ls="--", color=colour, lw=1.5)
        # the point of the zero line nearest the origin, and the weight direction
        base = -b * np.array([w1, w2]) / (w1 * w1 + w2 * w2)
        step = np.array([w1, w2]) / np.hypot(w1, w2)
        ax.annotate("", xy=base + step, xytext=base,
                    arrowprops=dict(arrowstyle="->", color=colour, lw=2))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_loss_histories(histories: dict, ax=None, window=25, title="training loss", logy=True):
    """Raw loss per iteration (faint) and its moving average, one colour per run."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for i, (name, h) in enumerate(histories.items()):
        h = np.asarray(h, dtype=np.float64)
        ax.plot(h, color=f"C{i}", alpha=0.25, lw=0.8)
        if len(h) >= window:
            smooth = np.convolve(h, np.ones(window) / window, mode="valid")
            ax.plot(np.arange(window - 1, len(h)), smooth, color=f"C{i}", lw=2,
                    label=f"{name} (moving average of {window})")
        else:
            ax.plot([], [], color=f"C{i}", label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("minibatch loss" + (" (log scale)" if logy else ""))
    ax.set_title(title)
    ax.legend()
    return ax


def plot_correct_score_sweep(losses: dict, other_scores, correct_range=(-4.0, 6.0)):
    """Loss and its slope as the correct class's score rises, other scores fixed.

    ``losses`` maps a name to ``loss_fn(W, X, y, reg)``; class 0 is correct,
    ``other_scores`` are the scores of the other classes.
    """
    import matplotlib.pyplot as plt

    other = np.asarray(other_scores, dtype=np.float64)
    shown = ", ".join(f"{v:g}" for v in other)
    grid = np.linspace(*correct_range, 201)
    S = np.column_stack([grid, np.tile(other, (len(grid), 1))])
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for i, (name, fn) in enumerate(losses.items()):
        values, slopes = [], []
        for row in S:
            loss, dscores = scores_loss(fn, row, [0])
            values.append(loss)
            slopes.append(dscores[0, 0])
        axes[0].plot(grid, values, lw=2, color=f"C{i}", label=name)
        axes[1].plot(grid, slopes, lw=2, color=f"C{i}", label=name)
    for ax in axes:
        ax.axvline(other.max(), color="gray", ls=":", lw=1)
        ax.axvline(other.max() + 1, color="gray", ls="--", lw=1)
        ax.set_xlabel("score of the correct class")
        ax.legend()
    axes[0].set_ylabel("loss")
    axes[0].set_title(f"loss, the other scores fixed at ({shown})")
    axes[1].set_ylabel("d loss / d correct score")
    axes[1].set_title("slope: how hard training pushes the correct score up")
    fig.text(0.5, -0.02, "dotted: the best wrong score;  dashed: best wrong score + margin 1",
             ha="center", fontsize=9)
    fig.tight_layout()
    return fig


def plot_ce_vs_mse(gap_range=(-6.0, 6.0)):
    """Two classes: cross-entropy vs squared error of the probabilities, and their slopes.

    The x axis is the gap z = s_correct - s_other; the correct probability is
    p = 1 / (1 + exp(-z)).  Cross-entropy is -ln p, with slope -(1 - p);
    squared error is (1 - p)^2 + (1 - p)^2 = 2 (1 - p)^2, with slope
    -4 p (1 - p)^2, which vanishes when p -> 0: a confidently wrong
    classifier barely learns.
    """
    import matplotlib.pyplot as plt

    z = np.linspace(*gap_range, 241)
    p = 1.0 / (1.0 + np.exp(-z))
    ce, ce_slope = np.logaddexp(0.0, -z), -(1.0 - p)
    mse, mse_slope = 2.0 * (1.0 - p) ** 2, -4.0 * p * (1.0 - p) ** 2
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    axes[0].plot(z, ce, lw=2, label="cross-entropy  -ln p")
    axes[0].plot(z, mse, lw=2, label="squared error  2 (1 - p)^2")
    axes[1].plot(z, ce_slope, lw=2, label="cross-entropy")
    axes[1].plot(z, mse_slope, lw=2, label="squared error")
    for ax in axes:
        ax.axvline(0, color="gray", lw=0.8, ls=":")
        ax.set_xlabel("score gap  s_correct - s_other")
        ax.legend()
    axes[0].set_ylabel("loss")
    axes[0].set_title("loss of one example, two classes")
    axes[1].set_ylabel("d loss / d gap")
    axes[1].set_title("slope (what gradient descent sees)")
    axes[1].annotate("confidently wrong:\nsquared error barely pushes", xy=(-5, -4 * p[20] *
                     (1 - p[20]) ** 2), xytext=(-5.9, -0.5), fontsize=8,
                     arrowprops=dict(arrowstyle="->", lw=0.8))
    fig.tight_layout()
    return fig


def templates(W, image_shape, clip_percentile=99.0):
    """Weights (D + 1, C) with the bias in the last row -> images (C, *image_shape).

    Each template is clipped symmetrically at the given percentile of its
    absolute values, so that a few extreme pixels do not wash out the
    picture and a zero weight shows as mid-grey in ``image_grid``.
    """
    W = np.asarray(W, dtype=np.float64)
    D = int(np.prod(image_shape))
    if W.shape[0] != D + 1:
        raise ValueError(f"W has {W.shape[0]} rows; expected {D} pixels plus one bias row")
    T = W[:-1].T.reshape(W.shape[1], *image_shape)
    if clip_percentile is None:
        return T
    axes = tuple(range(1, T.ndim))
    q = np.percentile(np.abs(T), clip_percentile, axis=axes, keepdims=True)
    return np.clip(T, -q, q)
