"""Hidden cases and mutants of notebook 02_linear_classifiers.  Instructor-only.

Isolation: every test cell judges one piece of the student's code.
* The four loss cells call the loss functions directly.
* ``train`` runs the student's LinearClassifier with a known loss from
  ``assignments.notebooks.linear_classifiers_training`` (``sgd_probe``), so it never touches
  their losses.
* ``predict`` sets W directly (``predict_probe``).
* ``svm_tuned`` / ``softmax_tuned`` read the student's ``best_params`` as data
  and train the *reference* classifier with them, on the grader's side.
"""

from __future__ import annotations

import functools

import numpy as np

from assignments.cases import Case, library, student
from assignments.data import append_bias
from assignments.notebooks import linear_classifiers as public
from assignments.notebooks import linear_classifiers_training as training

from . import Mutant, Task

# --------------------------------------------------------------------------
# shared hidden data
# --------------------------------------------------------------------------

def dev_images(num=40):
    """Real preprocessed images: the first of the tuned-model recipe's training split."""
    data = public.RECIPES["svm"].data()
    return data["X_train"][:num], data["y_train"][:num]


# --------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------

def _min_margin_gap(W, X, y) -> float:
    """Smallest |s_j - s_y + 1| over the wrong classes: the distance of the SVM's margins
    from the hinge's kink.  Grader-side only (it is half of the vectorized answer)."""
    s = X @ W
    m = s - s[np.arange(len(y)), y][:, None] + 1.0
    m[np.arange(len(y)), y] = np.inf
    return float(np.min(np.abs(m)))


def _away_from_kinks(rng, draw, gap):
    """Redraw ``draw(rng) -> (W, X, y)`` until every SVM margin lies ``gap`` from its kink.

    Why: two correct implementations round the scores differently (X[i] @ W vs X @ W); a
    margin within ~1e-12 of 0 could count as violated in one and not in the other, and the
    gradients would differ by x_i / N.  A centred difference needs more room: gap 1e-2
    against steps of h |x| ~ 1e-5 * 5.  The redraws use the task's rng: deterministic.
    """
    while True:
        W, X, y = draw(rng)
        if _min_margin_gap(W, X, y) > gap:
            return W, X, y


def _loss_cases(rng, reference, name, softmax):
    """Hidden cases of a loss function, expected values from the vectorized reference.

    Comparisons use rtol = 1e-6, atol = 1e-8: the loss is a sum of non-negative terms and dW
    a sum of at most N (D + C) products of numbers below 10^3, so two correct orders of
    summation differ by far less (under 1e-10).  SVM problems keep every margin at least
    1e-6 from the kink (see ``_away_from_kinks``), so no hinge flips on rounding: the
    false-failure probability is 0.
    """
    def case(label, W, X, y, reg, **kw):
        return Case(label, (W, X, y, reg), expected=tuple(reference(W, X, y, reg)),
                    output=("loss", "dW"), rtol=kw.get("rtol", 1e-6), atol=kw.get("atol", 1e-8))

    def problem(draw, gap=1e-6):
        return draw(rng) if softmax else _away_from_kinks(rng, draw, gap)

    cases = []
    for _ in range(3):
        N, D, C = int(rng.integers(2, 13)), int(rng.integers(1, 11)), int(rng.integers(2, 8))
        w_scale, x_scale = float(rng.uniform(0.01, 3.0)), float(rng.uniform(0.5, 5.0))
        W, X, y = problem(lambda r: (r.normal(size=(D, C)) * w_scale,
                                     r.normal(size=(N, D)) * x_scale, r.integers(0, C, size=N)))
        reg = float(rng.choice([0.0, rng.uniform(0.001, 2.0)]))
        cases.append(case(f"random shapes (N={N}, D={D}, C={C}), reg={reg:.3g}", W, X, y, reg))
    # classes that never appear among the labels
    W, X, y = problem(lambda r: (r.normal(size=(4, 6)), r.normal(size=(9, 4)),
                                 r.choice([0, 2], size=9)))
    cases.append(case("6 classes, only classes 0 and 2 among the labels", W, X, y, 0.25))
    # reg = 0 and a single example
    W, X, y = problem(lambda r: (r.normal(size=(5, 3)), r.normal(size=(7, 5)),
                                 r.integers(0, 3, size=7)))
    cases.append(case("reg = 0", W, X, y, 0.0))
    W, X, y = problem(lambda r: (r.normal(size=(3, 4)), r.normal(size=(1, 3)),
                                 np.array([int(r.integers(0, 4))])))
    cases.append(case("a single example", W, X, y, 0.7))
    # real images
    X_img, y_img = dev_images()
    W, X, y = problem(lambda r: (0.01 * r.normal(size=(X_img.shape[1], 10)), X_img, y_img))
    cases.append(case("40 real images (bias trick applied), reg = 0.05", W, X, y, 0.05,
                      atol=1e-10))
    if softmax:
        # rows of scores far apart: each row needs its own shift
        N, C = 6, 5
        offsets = rng.permutation(np.array([1e4, -1e4, 0.0, 5e3, 800.0, -800.0]))[:, None]
        W = offsets + rng.normal(size=(N, C)) * 3.0
        y = rng.integers(0, C, size=N)
        cases.append(case("scores between -1e4 and 1e4, different in every row",
                          W, np.eye(N), y, 0.0, atol=1e-8))
        W, X, y = rng.normal(size=(5, 4)), rng.normal(size=(8, 5)), rng.integers(0, 4, 8)
    else:
        W, X, y = problem(lambda r: public.gradient_problem(int(r.integers(0, 2 ** 31)), N=8),
                          gap=1e-2)
    # The numerical gradient of the student's own loss (h = 1e-5) against its dW, judged with
    # the library's floor: the rounding noise of a centred difference of a loss below ~20 is
    # under 1e-9, a tenth of the allowance tol * floor = 1e-6 * 1e-2 = 1e-8.
    cases.append(Case("random examples, reg = 0.2: dW matches the numerical gradient",
                      (student(name), W, X, y, 0.2),
                      call=library("assignments.notebooks.linear_classifiers:"
                                   "loss_with_numeric_gradient"),
                      verify=public._gradient_agrees(1e-6)))
    return cases


def hidden_svm_naive(rng, solution):
    return _loss_cases(rng, solution["svm_loss_vectorized"], "svm_loss_naive", softmax=False)


def hidden_svm_vectorized(rng, solution):
    return _loss_cases(rng, solution["svm_loss_vectorized"], "svm_loss_vectorized", softmax=False)


def hidden_softmax_naive(rng, solution):
    return _loss_cases(rng, solution["softmax_loss_vectorized"], "softmax_loss_naive", softmax=True)


def hidden_softmax_vectorized(rng, solution):
    return _loss_cases(rng, solution["softmax_loss_vectorized"], "softmax_loss_vectorized",
                       softmax=True)





# --------------------------------------------------------------------------
# training loop and prediction
# --------------------------------------------------------------------------

def hidden_train(rng, solution):
    cls = student("LinearClassifier")
    probe = library("assignments.notebooks.linear_classifiers_training:sgd_probe")
    cases = []
    for k in range(3):
        N, D, C = int(rng.integers(12, 31)), int(rng.integers(2, 7)), int(rng.integers(2, 6))
        B = int(rng.integers(3, 11))
        T = int(np.ceil(35 * N / B))   # every row drawn 35 times on average (see verify_sgd_probe)
        X, y = training.probe_data(rng, N, D, C)
        first = int(rng.integers(0, 2 ** 31))
        other = first + 1 + int(rng.integers(0, 1000))   # a different seed, always
        W0 = rng.normal(size=(D, C)) * 0.1 if k != 1 else None
        reg = 0.0 if k == 2 else float(rng.uniform(0.001, 0.2))
        lr = float(rng.uniform(0.05, 1.0))
        cases.append(Case(f"{N} examples, {T} batches of {B}, lr {lr:.2f}, reg {reg:.3g}"
                          + (", W starts as None" if W0 is None else ""), (cls,),
                          dict(X=X, y=y, learning_rate=lr, reg=reg, num_iters=T, batch_size=B,
                               seeds=(first, first, other), W0=W0, spread=True),
                          call=probe, verify=training.verify_sgd_probe))
    X, y = training.probe_data(rng, 10, 3, 3)
    cases.append(Case("a single iteration with a batch of 1", (cls,),
                      dict(X=X, y=y, learning_rate=0.3, reg=0.05, num_iters=1, batch_size=1,
                           seeds=(int(rng.integers(0, 1000)),)),
                      call=probe, verify=training.verify_sgd_probe))
    return cases


def _clear_winners(rng, X, C, gap=1e-6):
    """Weights (biases that matter) under which every row's best score leads the next by
    ``gap`` (relative): two correct products X @ W differ by under 1e-12, so no argmax can
    flip on rounding and the false-failure probability is 0.  Redrawn with the task's rng."""
    while True:
        W = rng.normal(size=(X.shape[1], C))
        W[-1] *= 5.0  # biases that matter
        top = np.sort(X @ W, axis=1)[:, -2:]
        if np.all(top[:, 1] - top[:, 0] > gap * np.maximum(1.0, np.abs(top[:, 1]))):
            return W


def hidden_predict(rng, solution):
    cls = student("LinearClassifier")
    call = library("assignments.notebooks.linear_classifiers_training:predict_probe")
    reference = solution["LinearClassifier"]
    cases = []
    shapes = [(int(rng.integers(1, 20)), int(rng.integers(2, 9)), int(rng.integers(2, 8)))
              for _ in range(3)] + [(1, 4, 3), (7, 3, 2)]
    for N, D, C in shapes:
        X = append_bias(rng.normal(size=(N, D - 1)) * float(rng.uniform(0.5, 50)))
        W = _clear_winners(rng, X, C)
        cases.append(Case(f"{N} examples, D={D}, {C} classes", (cls, W, X),
                          expected=training.predict_probe(reference, W, X), output="y_pred",
                          call=call))
    # Features near zero: the bias row alone decides, for every seed.  The largest bias is
    # never at class 0, so ignoring the bias row (argmax of ~0 scores) is always wrong.
    C = int(rng.integers(3, 7))
    W = rng.normal(size=(5, C))
    W[-1] = np.arange(C) * 3.0 + rng.uniform(0, 1, size=C)
    W[-1] = W[-1][rng.permutation(C)]
    if np.argmax(W[-1]) == 0:
        W[-1][[0, 1]] = W[-1][[1, 0]]
    X = append_bias(rng.normal(size=(6, 4)) * 1e-3)
    cases.append(Case(f"features near 0: the biases decide ({C} classes)", (cls, W, X),
                      expected=training.predict_probe(reference, W, X), output="y_pred",
                      call=call))
    return cases


# --------------------------------------------------------------------------
# the chosen hyperparameters: train the reference with them
# --------------------------------------------------------------------------

def _hidden_tuned(model, class_name):
    def hidden(rng, solution):
        train = functools.partial(public.train_linear, solution[class_name])
        return [public.RECIPES[model].floor_case(
            train, (student("best_params"), model), call=library(f"{public.__name__}:chosen_for"))]
    return hidden


# The course's reference losses of notebook 3 compute the heart of these tasks from the
# scores; a submission that hands the task to them earns nothing (``own``).

TASKS = [
    Task("svm_loss_naive", "svm_loss_naive",
         visible=functools.partial(public.svm_loss_cases, "svm_loss_naive"),
         hidden=hidden_svm_naive),
    Task("svm_loss_vectorized", "svm_loss_vectorized",
         visible=functools.partial(public.svm_loss_cases, "svm_loss_vectorized"),
         hidden=hidden_svm_vectorized, vectorized=True),
    Task("softmax_loss_naive", "softmax_loss_naive",
         visible=functools.partial(public.softmax_loss_cases, "softmax_loss_naive"),
         hidden=hidden_softmax_naive),
    Task("softmax_loss_vectorized", "softmax_loss_vectorized",
         visible=functools.partial(public.softmax_loss_cases, "softmax_loss_vectorized"),
         hidden=hidden_softmax_vectorized, vectorized=True),
    Task("train", "LinearClassifier", visible=training.train_cases, hidden=hidden_train),
    Task("predict", "LinearClassifier", visible=training.predict_cases, hidden=hidden_predict),
    # The cases read the variable best_params (every case has its own call).
    Task("svm_tuned", "best_params", visible=functools.partial(public.best_params_cases, "svm"),
         hidden=_hidden_tuned("svm", "LinearSVM")),
    Task("softmax_tuned", "best_params",
         visible=functools.partial(public.best_params_cases, "softmax"),
         hidden=_hidden_tuned("softmax", "Softmax")),
]

# --------------------------------------------------------------------------
# plausible bugs; each must be caught by its own test cell and no other
# --------------------------------------------------------------------------

_SVN = "svm_loss_naive_code"
_SVV = "svm_loss_vectorized_code"
_SMN = "softmax_loss_naive_code"
_SMV = "softmax_loss_vectorized_code"
_LC = "linear_classifier_code"
_BP = "best_params_code"

MUTANTS = [
    # SVM, loops
    Mutant("SVM naive: margin also counted for the correct class", "svm_loss_naive", _SVN,
           "            if j == y[i]:\n                continue\n", ""),
    Mutant("SVM naive: gradient not divided by N", "svm_loss_naive", _SVN,
           "    dW /= num_train\n", ""),
    Mutant("SVM naive: regularization gradient without the factor 2", "svm_loss_naive", _SVN,
           "dW += 2 * reg * W", "dW += reg * W"),
    Mutant("SVM naive: correct-class column gets +x", "svm_loss_naive", _SVN,
           "dW[:, y[i]] -= X[i]", "dW[:, y[i]] += X[i]"),
    Mutant("SVM naive: no margin (delta = 0)", "svm_loss_naive", _SVN,
           "scores[j] - correct + 1.0", "scores[j] - correct"),
    # SVM, vectorized
    Mutant("SVM vectorized: correct class not zeroed in the margins", "svm_loss_vectorized",
           _SVV, "    margins[rows, y] = 0.0\n", ""),
    Mutant("SVM vectorized: correct class gets -1, not -(number of violations)",
           "svm_loss_vectorized", _SVV,
           "coeff[rows, y] = -np.sum(coeff, axis=1)", "coeff[rows, y] = -1.0"),
    Mutant("SVM vectorized: gradient not divided by N", "svm_loss_vectorized", _SVV,
           "dW = X.T @ coeff / num_train + 2 * reg * W", "dW = X.T @ coeff + 2 * reg * W"),
    Mutant("SVM vectorized: regularization gradient without the factor 2",
           "svm_loss_vectorized", _SVV, "+ 2 * reg * W", "+ reg * W"),
    Mutant("SVM vectorized: correct scores not broadcast as a column", "svm_loss_vectorized",
           _SVV, "scores[rows, y][:, np.newaxis]", "scores[rows, y]"),
    Mutant("SVM vectorized: hidden Python loop", "svm_loss_vectorized", _SVV,
           "loss = np.sum(margins) / num_train",
           "loss = sum(float(np.sum(row)) for row in margins) / num_train"),
    # softmax, loops
    Mutant("softmax naive: no max shift (overflows)", "softmax_loss_naive", _SMN,
           "shifted = scores - np.max(scores)", "shifted = scores"),
    Mutant("softmax naive: gradient without -1 at the correct class", "softmax_loss_naive", _SMN,
           "(p - (j == y[i])) * X[i]", "p * X[i]"),
    Mutant("softmax naive: gradient not divided by N", "softmax_loss_naive", _SMN,
           "    dW /= num_train\n", ""),
    Mutant("softmax naive: regularization gradient without the factor 2", "softmax_loss_naive",
           _SMN, "dW += 2 * reg * W", "dW += reg * W"),
    Mutant("softmax naive: unshifted correct score in the loss", "softmax_loss_naive", _SMN,
           "np.log(total) - shifted[y[i]]", "np.log(total) - scores[y[i]]"),
    # softmax, vectorized
    Mutant("softmax vectorized: no max shift (overflows)", "softmax_loss_vectorized", _SMV,
           "shifted = scores - np.max(scores, axis=1, keepdims=True)", "shifted = scores"),
    Mutant("softmax vectorized: shift by the global max, not each row's", "softmax_loss_vectorized",
           _SMV, "np.max(scores, axis=1, keepdims=True)", "np.max(scores)"),
    Mutant("softmax vectorized: log-sum without keepdims", "softmax_loss_vectorized", _SMV,
           "np.sum(np.exp(shifted), axis=1, keepdims=True)", "np.sum(np.exp(shifted), axis=1)"),
    Mutant("softmax vectorized: gradient without -1 at the correct class",
           "softmax_loss_vectorized", _SMV, "    dscores[rows, y] -= 1.0\n", ""),
    Mutant("softmax vectorized: gradient not divided by N", "softmax_loss_vectorized", _SMV,
           "dW = X.T @ dscores / num_train", "dW = X.T @ dscores"),
    Mutant("softmax vectorized: hidden Python loop", "softmax_loss_vectorized", _SMV,
           "loss = -np.sum(log_probs[rows, y]) / num_train",
           "loss = -sum(log_probs[i, y[i]] for i in rows) / num_train"),
    # training loop
    Mutant("train: batches from the global np.random", "train", _LC,
           "idx = rng.integers(0, num_train, size=batch_size)",
           "idx = np.random.randint(0, num_train, size=batch_size)"),
    Mutant("train: the same first rows in every batch", "train", _LC,
           "idx = rng.integers(0, num_train, size=batch_size)", "idx = np.arange(batch_size)"),
    Mutant("train: a freshly seeded generator at every step", "train", _LC,
           "idx = rng.integers(0, num_train, size=batch_size)",
           "idx = np.random.default_rng(0).integers(0, num_train, size=batch_size)"),
    Mutant("train: gradient ascent", "train", _LC,
           "self.W - learning_rate * dW", "self.W + learning_rate * dW"),
    Mutant("train: reg not passed to the loss", "train", _LC,
           "            loss, dW = self.loss(X_batch, y_batch, reg)\n",
           "            loss, dW = self.loss(X_batch, y_batch, 0.0)\n"),
    Mutant("train: labels not taken from the batch rows", "train", _LC,
           "X_batch, y_batch = X[idx], y[idx]", "X_batch, y_batch = X[idx], y[:batch_size]"),
    # prediction
    Mutant("predict: argmin", "predict", _LC,
           "np.argmax(X @ self.W, axis=1)", "np.argmin(X @ self.W, axis=1)"),
    Mutant("predict: argmax over examples (axis 0)", "predict", _LC,
           "np.argmax(X @ self.W, axis=1)", "np.argmax(X @ self.W, axis=0)"),
    Mutant("predict: bias row ignored", "predict", _LC,
           "np.argmax(X @ self.W, axis=1)", "np.argmax(X[:, :-1] @ self.W[:-1], axis=1)"),
    Mutant("predict: returns the best score, not its class", "predict", _LC,
           "np.argmax(X @ self.W, axis=1)", "np.max(X @ self.W, axis=1)"),
    # chosen hyperparameters
    Mutant("best_params: SVM learning rate 1000x too small", "svm_tuned", _BP,
           '"svm": {"learning_rate": 0.1,', '"svm": {"learning_rate": 1e-4,'),
    Mutant("best_params: SVM regularization far too strong", "svm_tuned", _BP,
           '"svm": {"learning_rate": 0.1, "reg": 1e-4}',
           '"svm": {"learning_rate": 0.1, "reg": 10.0}'),
    Mutant("best_params: SVM key misspelt", "svm_tuned", _BP,
           '"svm": {"learning_rate": 0.1,', '"svm": {"lr": 0.1,'),
    Mutant("best_params: softmax learning rate 1000x too small", "softmax_tuned", _BP,
           '"softmax": {"learning_rate": 0.3,', '"softmax": {"learning_rate": 3e-4,'),
    Mutant("best_params: softmax regularization far too strong", "softmax_tuned", _BP,
           '"softmax": {"learning_rate": 0.3, "reg": 1e-5}',
           '"softmax": {"learning_rate": 0.3, "reg": 10.0}'),
    Mutant("best_params: softmax reg negative", "softmax_tuned", _BP,
           '"reg": 1e-5}', '"reg": -1e-5}'),
]

DEMO_BUG = "softmax vectorized: shift by the global max, not each row's"

# Submissions that hand a loss to the course's reference (notebook 3's layers).  Each must be
# caught by its own cell once the grader's delegation detector (issue 9) lands; until then
# they score full marks, so they stay out of MUTANTS (tests/test_linear_classifiers.py runs
# them and skips, saying so, while nothing catches them).
_DELEGATE = ("    from assignments.layers import {ref} as _reference\n"
             "    loss, dscores = _reference(X @ W, y)\n"
             "    return loss + reg * np.sum(W * W), X.T @ dscores + 2 * reg * W\n")


def _delegated(task, cell, anchor, ref):
    """The answer cell with a call of the reference put in front of its own code."""
    return Mutant(f"{task}: delegated to assignments.layers.{ref}", task, cell, anchor,
                  _DELEGATE.format(ref=ref) + anchor)


_NAIVE_START = "    num_train, num_classes = X.shape[0], W.shape[1]\n"
_VECTOR_START = "    num_train = X.shape[0]\n"
DELEGATION_MUTANTS = [
    _delegated("svm_loss_naive", _SVN, _NAIVE_START, "svm_loss"),
    _delegated("svm_loss_vectorized", _SVV, _VECTOR_START, "svm_loss"),
    _delegated("softmax_loss_naive", _SMN, _NAIVE_START, "softmax_loss"),
    _delegated("softmax_loss_vectorized", _SMV, _VECTOR_START, "softmax_loss"),
]
