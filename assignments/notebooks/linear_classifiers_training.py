"""Notebook 2 (linear classifiers): the checks of ``LinearClassifier.train`` and ``predict``.

``train`` is probed with a known loss (``probe_loss``, neither SVM nor
softmax), so its check never depends on the student's losses: ``sgd_probe``
records every step on plain data and ``verify_sgd_probe`` judges the record.
``predict`` is checked with weights set by hand (``predict_probe``).
"""

from __future__ import annotations

import numpy as np

from ..cases import Case, CheckFailed, library, run_cases, student
from .linear_classifiers import one_hot

__all__ = ["probe_loss", "probe_data", "sgd_probe", "verify_sgd_probe", "train_cases",
           "predict_probe", "predict_cases", "check_train", "check_predict"]


def probe_loss(W, X, y, reg):
    """A known loss for probing the training loop (neither SVM nor softmax):
    L = 1/N sum_ij log cosh(s_ij - onehot(y_i)_j) + reg * sum(W^2), with s = X W.

    Its gradient with respect to the scores, tanh(s - Y) / N, is bounded, so the
    weights stay finite for any learning rate the checks use.  Returns ``(loss, dW)``.
    """
    z = X @ W - one_hot(y, W.shape[1])
    N = X.shape[0]
    a = np.abs(z)
    log_cosh = a + np.log1p(np.exp(-2.0 * a)) - np.log(2.0)   # log cosh z without overflow
    return (float(np.sum(log_cosh) / N + reg * np.sum(W * W)),
            X.T @ np.tanh(z) / N + 2.0 * reg * W)


# --------------------------------------------------------------------------
# the training loop: probed with a known loss, checked from the record
# --------------------------------------------------------------------------

def probe_data(rng, N, D, C):
    """Rows whose first feature is the row's index, labels covering all C classes."""
    X = rng.normal(size=(N, D))
    X[:, 0] = np.arange(N)
    y = np.concatenate([np.arange(C), rng.integers(0, C, size=N - C)])
    return X, rng.permutation(y)


def sgd_probe(classifier_cls, X, y, learning_rate, reg, num_iters, batch_size, seeds,
              W0=None, spread=False):
    """Run ``classifier_cls.train`` with a known loss and record every step.

    A subclass of the student's class gets ``loss = probe_loss`` and
    writes down, at every call, the batch it was given (recovered from the
    first feature, which holds the row index), the weights it saw, its loss,
    gradient and ``reg``.  ``train`` runs once per seed, with a Generator of that
    seed.  Runs with equal seeds must draw equal batches and runs with different
    seeds different ones: code that draws from numpy's global state (which moves
    on from one run to the next) or from a generator of its own fails one or the
    other, so the probe never needs to touch the global state itself.  ``spread``
    is read by ``verify_sgd_probe`` only.  Returns a dict of plain data.
    """
    runs = []
    for seed in seeds:
        record = {"W": [], "rows": [], "y": [], "reg": [], "loss": [], "dW": []}

        class Probe(classifier_cls):
            def loss(self, X_batch, y_batch, reg):
                X_batch, y_batch = np.asarray(X_batch), np.asarray(y_batch)
                record["W"].append(np.array(self.W, dtype=np.float64, copy=True))
                record["rows"].append(np.rint(X_batch[:, 0]).astype(np.int64))
                record["y"].append(y_batch.astype(np.int64))
                record["reg"].append(float(reg))
                loss, dW = probe_loss(self.W, X_batch, y_batch, reg)
                record["loss"].append(loss)
                record["dW"].append(dW)
                return loss, dW

        model = Probe()
        if W0 is not None:
            model.W = np.array(W0, dtype=np.float64, copy=True)
        history = model.train(X, y, learning_rate=learning_rate, reg=reg, num_iters=num_iters,
                              batch_size=batch_size, rng=np.random.default_rng(seed))
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
            # Statistical: with mu = T B / N draws per row expected, a correct loop fails only
            # if some row is never drawn, P <= N exp(-mu), or drawn over 3 mu times,
            # P <= N (e^2 / 27)^mu (Chernoff).  Every case has mu >= 32 and N <= 30:
            # P <= 30 exp(-32) + 30 * 0.274^32 < 1e-12 (hidden cases: mu >= 35, < 2e-14).
            counts = np.bincount(np.concatenate(run["rows"]), minlength=N)
            expected_count = T * B / N
            if counts.min() == 0 or counts.max() > 3 * expected_count:
                raise CheckFailed(
                    f"over {T} batches of {B} from {N} examples every example should be drawn "
                    f"about {expected_count:.0f} times, but one was drawn {counts.min()} times "
                    f"and one {counts.max()} times; draw a new random batch every iteration")
    # Runs 0 and 1 share a seed, run 2 has another: correct code draws equal batches in 0 and
    # 1 (exactly) and the same batches in 0 and 2 with probability N^(-T B) < 1e-30.
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
    X, y = probe_data(rng, 20, 4, 3)
    W0 = rng.normal(size=(4, 3)) * 0.1
    probe = library(f"{__name__}:sgd_probe")
    cls = student("LinearClassifier")
    return [
        Case("20 examples, 80 batches of 8, lr 0.5, reg 0.01, starting from a given W",
             (cls,), dict(X=X, y=y, learning_rate=0.5, reg=0.01, num_iters=80, batch_size=8,
                          seeds=(1, 1, 2), W0=W0, spread=True),
             call=probe, verify=verify_sgd_probe),
        Case("W starts as None, 5 iterations, reg 0", (cls,),
             dict(X=X, y=y, learning_rate=0.1, reg=0.0, num_iters=5, batch_size=4,
                  seeds=(7,)),
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
    call = library(f"{__name__}:predict_probe")
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
