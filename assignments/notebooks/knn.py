"""Notebook 1 (k-nearest neighbours): visible checks and pictures.

Check functions take the student's function and run it on small inputs with
hand-computed answers.  Each ``*_cases()`` function returns those cases; the
grader runs the same visible cases plus hidden ones.
"""

from __future__ import annotations

import numpy as np

from ..cases import Case, CheckFailed, library, run_cases

__all__ = [
    "distance_cases", "l1_cases", "l2_rounding_allowance", "predict_cases", "cross_validation_cases",
    "check_distances", "check_l1_distances", "check_predict_labels", "check_cross_validation",
    "fold_probe", "plot_distance_matrix", "plot_cross_validation", "show_nearest_mistakes",
]


# --------------------------------------------------------------------------
# distances
# --------------------------------------------------------------------------

# Three training points and two test points with distances worked out by hand:
# |(0,0,0) - (3,4,0)|_2 = 5, |(0,0,0) - (1,2,2)|_2 = 3, |(1,2,2) - (3,4,0)|_2 = sqrt(12).
_X_TEST = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]])
_X_TRAIN = np.array([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0], [1.0, 2.0, 2.0]])
_L2 = np.array([[0.0, 5.0, 3.0], [3.0, np.sqrt(12.0), 0.0]])
_L1 = np.array([[0.0, 7.0, 5.0], [5.0, 6.0, 0.0]])


UNIT_ROUNDOFF = 2.0 ** -53


def l2_rounding_allowance(X_te, X_tr) -> float:
    """How far a correct L2 distance may lie from the exact one, for any formula.

    The expansion ||a||^2 + ||b||^2 - 2 a.b computes each squared distance with an
    absolute error of at most gamma_(D+2) (||a|| + ||b||)^2, gamma_n = n u / (1 - n u),
    u = 2^-53, whatever the order of the sums (Higham, Accuracy and Stability of
    Numerical Algorithms, 3.1); clipping at 0 can only bring it closer, and
    |sqrt(s) - sqrt(t)| <= sqrt(|s - t|).  So the distance is off by at most
    sqrt(gamma_(D+2)) (max ||a|| + max ||b||); we allow twice that.  The direct
    formula sqrt(sum (a - b)^2) is far closer (relative error below D u, inside
    rtol = 1e-6).  With this allowance a correct answer never fails on rounding,
    on any BLAS kernel: the false-failure probability is 0, not merely small.
    """
    D = X_te.shape[1]
    n = (D + 2) * UNIT_ROUNDOFF
    norms = float(np.max(np.linalg.norm(X_te, axis=1))) + float(np.max(np.linalg.norm(X_tr, axis=1)))
    return 2.0 * np.sqrt(n / (1 - n)) * norms + 1e-12


def _self_distance_property(out, case):
    """Distances of a set to itself: symmetric, zero diagonal, non-negative (up to the
    rounding any correct formula may make, ``l2_rounding_allowance``)."""
    X = case.args[0]
    atol = max(1e-6, l2_rounding_allowance(X, X))
    if not isinstance(out, np.ndarray) or out.shape != (len(X), len(X)):
        raise CheckFailed(f"expected an array of shape {(len(X), len(X))}, got "
                          f"{getattr(out, 'shape', type(out).__name__)}")
    if not np.all(np.isfinite(out)):
        raise CheckFailed("distances contain nan or inf (a square root of a tiny negative "
                          "number? clip at zero before the square root)")
    if np.any(out < 0):
        raise CheckFailed("distances must be non-negative")
    if not np.allclose(np.diag(out), 0, rtol=0, atol=atol):
        raise CheckFailed(f"a point's distance to itself must be 0, found up to "
                          f"{np.abs(np.diag(out)).max():.3g} on the diagonal")
    if not np.allclose(out, out.T, rtol=0, atol=2 * atol):
        raise CheckFailed("the distance matrix of a set to itself must be symmetric")


def distance_cases(metric="l2"):
    """Visible cases for the L2 (or, with metric="l1", L1) distance functions."""
    expected = _L2 if metric == "l2" else _L1
    rng = np.random.default_rng(1)
    X_self = rng.normal(size=(6, 5))
    # far from the origin, ||a||^2 + ||b||^2 - 2 a.b of a point and itself rounds below 0
    # for many of the 120 (a square root of it is nan unless it is clipped at 0 first)
    X_far = np.random.default_rng(2).normal(size=(120, 64)) * 100 + 300
    one = np.array([[1.0, 1.0]])
    four = np.array([[1.0, 1.0], [4.0, 5.0], [1.0, -2.0], [-2.0, 5.0]])
    row = np.array([[0.0, 5.0, 3.0, 5.0]]) if metric == "l2" else np.array([[0.0, 7.0, 3.0, 7.0]])
    return [
        Case("2 test x 3 train points worked out by hand", (_X_TEST, _X_TRAIN), expected=expected,
             output="dists"),
        Case("1 test x 4 train points: shape (num_test, num_train)", (one, four), expected=row,
             output="dists"),
        Case("6 random points against themselves", (X_self, X_self), verify=_self_distance_property),
        Case("120 points far from the origin against themselves", (X_far, X_far),
             verify=_self_distance_property),
    ]


def l1_cases():
    return distance_cases("l1")


def check_distances(fn):
    """Check an L2 distance function ``fn(X_test, X_train) -> dists``."""
    run_cases(fn, distance_cases("l2"))


def check_l1_distances(fn):
    """Check an L1 distance function ``fn(X_test, X_train) -> dists``."""
    run_cases(fn, distance_cases("l1"))


# --------------------------------------------------------------------------
# predicting labels
# --------------------------------------------------------------------------

def predict_cases():
    """Visible cases for ``predict_labels(dists, y_train, k)``.

    Four training points with labels (3, 1, 1, 2); every case says which rule
    decides it, worked out in the comments.
    """
    y_train = np.array([3, 1, 1, 2])
    # row 0: nearest first are points 0, 1, 2, 3 (labels 3, 1, 1, 2)
    # row 1: nearest first are points 3, 2, 1, 0 (labels 2, 1, 1, 3)
    clear = np.array([[1.0, 2.0, 3.0, 4.0],
                      [4.0, 3.0, 2.0, 1.0]])
    # nearest first: points 1, 3, 0, 2 (labels 1, 2, 3, 1)
    spread = np.array([[2.5, 0.5, 9.0, 1.5]])
    both = np.vstack([clear, spread])
    return [
        # k = 1: labels of points 0, 3 and 1
        Case("k=1: the label of the single nearest point", (both, y_train, 1),
             expected=np.array([3, 2, 1]), output="y_pred"),
        # k = 3: labels (3, 1, 1) and (2, 1, 1): two votes for label 1 in both rows
        Case("k=3: two of the three nearest agree (a clear majority)", (clear, y_train, 3),
             expected=np.array([1, 1]), output="y_pred"),
        # k = 3: labels (1, 2, 3), one vote each: the smallest label wins
        Case("k=3: three different labels, one vote each: the smallest label wins",
             (spread, y_train, 3), expected=np.array([1]), output="y_pred"),
        # k = 2: labels (3, 1), (2, 1) and (1, 2): one vote each, label 1 wins
        Case("k=2: one vote each for two labels: the smaller label wins", (both, y_train, 2),
             expected=np.array([1, 1, 1]), output="y_pred"),
        # k = 4: labels 3, 1, 1, 2 in every row: label 1 has two votes
        Case("k=4: all training points vote", (both, y_train, 4),
             expected=np.array([1, 1, 1]), output="y_pred"),
    ]


def check_predict_labels(fn):
    """Check ``predict_labels(dists, y_train, k) -> y_pred``."""
    run_cases(fn, predict_cases())


# --------------------------------------------------------------------------
# cross-validation
# --------------------------------------------------------------------------

def fold_probe(X_train, y_train, X_val, k):
    """A stand-in classifier that reveals how folds were built.

    It "predicts" for each validation row the training label at position
    (first feature + k) modulo the number of training rows, so its accuracy
    depends on exactly which rows went to training and validation, in which
    order, and on k.  Checks use it instead of real k-NN so that a bug in
    the distance or voting code cannot fail the cross-validation check.
    """
    X_train = np.asarray(X_train)
    y_train = np.asarray(y_train)
    X_val = np.asarray(X_val)
    if len(X_train) != len(y_train):
        raise CheckFailed(f"classify received {len(X_train)} training rows but "
                          f"{len(y_train)} labels")
    pos = (X_val[:, 0].astype(np.int64) + int(k)) % len(y_train)
    return y_train[pos]


def cross_validation_cases():
    """Visible cases for ``cross_validate_k(X, y, k_choices, num_folds, classify)``."""
    X = np.arange(10, dtype=np.float64).reshape(10, 1) * np.array([[1.0, 0.5]])
    y = np.array([0, 1, 1, 0, 2, 2, 1, 0, 1, 2])
    probe = library("assignments.notebooks.knn:fold_probe")
    return [
        Case("10 points, 5 folds, k in (1, 2)", (X, y, [1, 2], 5, probe),
             expected={1: np.array([0.5, 0.0, 0.0, 0.5, 0.5]),
                       2: np.array([0.0, 1.0, 0.5, 0.0, 0.5])},
             output="accuracies"),
        Case("10 points, 3 uneven folds (4, 3, 3), k = 3", (X, y, [3], 3, probe),
             expected={3: np.array([0.5, 1 / 3, 2 / 3])},
             output="accuracies"),
    ]


def check_cross_validation(fn):
    """Check ``cross_validate_k`` with a stand-in classifier (see ``fold_probe``)."""
    run_cases(fn, cross_validation_cases())


# --------------------------------------------------------------------------
# pictures and tables
# --------------------------------------------------------------------------

def _class_blocks(labels, classes, set_ticks, add_line):
    """Lines between the classes of sorted labels and one tick per class at its block's centre."""
    counts = np.bincount(labels, minlength=len(classes))
    edges = np.cumsum(counts)
    for edge in np.unique(edges[(edges > 0) & (edges < edges[-1])]):
        add_line(edge - 0.5)
    centres = edges - counts / 2 - 0.5
    present = counts > 0
    set_ticks(centres[present], [classes[c] for c in np.flatnonzero(present)])


def plot_distance_matrix(dists, y_test=None, y_train=None, classes=None, ax=None):
    """Show a (num_test, num_train) distance matrix.

    With labels, rows and columns are sorted by class, white lines separate
    the classes and, with ``classes`` (the class names), each block is
    labelled.  Prints the mean distance within a class and between classes.
    """
    import matplotlib.pyplot as plt

    d = np.asarray(dists)
    title = "distance matrix"
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.2))
    sort = y_test is not None and y_train is not None
    if sort:
        y_test, y_train = np.asarray(y_test), np.asarray(y_train)
        rows, cols = np.argsort(y_test, kind="stable"), np.argsort(y_train, kind="stable")
        d = d[rows][:, cols]
        title += " (rows and columns sorted by class)"
    im = ax.imshow(d, aspect="auto", cmap="viridis", interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, label="L2 distance")
    ax.set_xlabel("training image")
    ax.set_ylabel("test image")
    if sort:
        names = list(classes) if classes is not None else [str(c) for c in
                                                           range(int(max(y_test.max(),
                                                                         y_train.max())) + 1)]
        line = dict(color="white", lw=0.8)
        _class_blocks(y_test[rows], names, lambda t, n: ax.set_yticks(t, n, fontsize=8),
                      lambda v: ax.axhline(v, **line))
        _class_blocks(y_train[cols], names,
                      lambda t, n: ax.set_xticks(t, n, fontsize=8, rotation=30, ha="right"),
                      lambda v: ax.axvline(v, **line))
        ax.set_xlabel("training images, by class")
        ax.set_ylabel("test images, by class")
        same = y_test[:, None] == y_train[None, :]
        print(f"mean distance between images of the same class:     {dists[same].mean():8.1f}")
        print(f"mean distance between images of different classes: {dists[~same].mean():8.1f}")
    ax.set_title(title)
    return ax


def plot_cross_validation(results, ax=None):
    """Scatter of every fold's accuracy per k, with the mean and +-1 std as error bars."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    ks = sorted(results)
    for k in ks:
        accs = np.asarray(results[k])
        ax.scatter([k] * len(accs), accs, color="gray", s=12, alpha=0.7)
    means = np.array([np.mean(results[k]) for k in ks])
    stds = np.array([np.std(results[k]) for k in ks])
    ax.errorbar(ks, means, yerr=stds, marker="o", capsize=4, label="mean +- std over folds")
    best = ks[int(np.argmax(means))]
    ax.axvline(best, ls="--", color="C3", lw=1, label=f"best k = {best}")
    ax.set_xscale("log")
    ax.set_xticks(ks, [str(k) for k in ks], fontsize=8)
    ax.minorticks_off()
    ax.set_xlabel("k (log scale)")
    ax.set_ylabel("validation accuracy")
    ax.set_title("cross-validation of k")
    ax.legend()
    return ax


def show_nearest_mistakes(X_test, X_train, dists, y_test, y_pred, y_train, classes, num=8,
                          k=1):
    """The misclassified test images k-NN was most sure about, each next to the training
    image that pulled it to the wrong class.

    For every test image whose prediction is wrong, the confidence is the share of
    its ``k`` nearest training images that carry the predicted label.  The most
    confident mistakes come first (ties: the closer neighbour first).  Each test
    image (titled with its true and predicted class and the votes) is shown next
    to its nearest training image of the *predicted* class.  Prints the same table.
    """
    from ..vis import image_grid

    y_test, y_pred, y_train = np.asarray(y_test), np.asarray(y_pred), np.asarray(y_train)
    wrong = np.flatnonzero(y_pred != y_test)
    if len(wrong) == 0:
        print("no mistakes to show")
        return None
    rows = []
    for t in wrong:
        order = np.argsort(dists[t], kind="stable")
        votes = int(np.sum(y_train[order[:k]] == y_pred[t]))
        culprit = order[np.flatnonzero(y_train[order] == y_pred[t])[0]]
        rows.append((-votes, float(dists[t, culprit]), int(t), int(culprit), votes))
    rows.sort()
    rows = rows[:num]
    images, titles = [], []
    print(f"{'test image':>10} {'true class':>12} {'predicted':>12} {'votes':>7} {'distance':>9}")
    for _, dist, t, n, votes in rows:
        images += [X_test[t], X_train[n]]
        titles += [f"true: {classes[y_test[t]]}\npredicted: {classes[y_pred[t]]} ({votes}/{k})",
                   f"nearest {classes[y_pred[t]]}\n(distance {dist:.0f})"]
        print(f"{t:>10} {classes[y_test[t]]:>12} {classes[y_pred[t]]:>12} {votes:>4}/{k:<2} "
              f"{dist:>9.0f}")
    return image_grid(np.stack(images), titles=titles, ncols=4, ax_size=1.8,
                      suptitle=f"the {len(rows)} most confident mistakes of {k}-NN\n"
                               "test image | its nearest training image of the predicted class")
