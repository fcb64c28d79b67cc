"""Hidden cases and mutants of notebook 01_knn.  Instructor-only."""

from __future__ import annotations

import functools

import numpy as np

from assignments.notebooks import knn as public
from assignments.cases import Case, CheckFailed, library
from assignments.data import flatten, load_dataset, subsample

from . import Mutant, Task

# --------------------------------------------------------------------------
# shared hidden data: a fixed slice of the bundled dataset
# --------------------------------------------------------------------------

ACCURACY_TRAIN, ACCURACY_TEST = 5000, 500
NN1_FLOOR = 0.75   # 1-NN with L2 on this slice
KNN5_FLOOR = 0.75  # 5-NN with L2 on this slice


@functools.lru_cache(maxsize=1)
def bundled_slice():
    """(X_train, y_train, X_test, y_test) from fashion_mnist_small, fixed seed."""
    data = load_dataset("fashion_mnist_small")
    rng = np.random.default_rng(12345)
    X_tr, y_tr = subsample(data.X_train, data.y_train, ACCURACY_TRAIN, rng)
    X_te, y_te = subsample(data.X_test, data.y_test, ACCURACY_TEST, rng)
    return flatten(X_tr), y_tr, flatten(X_te), y_te


_DISTANCES: dict = {}


def bundled_distances(distances_fn):
    """The reference's distances of the fixed slice (computed once per reference function)."""
    if distances_fn not in _DISTANCES:
        X_tr, _, X_te, _ = bundled_slice()
        _DISTANCES[distances_fn] = distances_fn(X_te, X_tr)
    return _DISTANCES[distances_fn]


def _accuracy_floor(y_true, floor, what):
    def check(out, case):
        out = np.asarray(out)
        if out.shape != y_true.shape:
            raise CheckFailed(f"expected {y_true.shape[0]} predictions, got shape {out.shape}")
        acc = float(np.mean(out == y_true))
        if acc < floor:
            raise CheckFailed(f"{what} accuracy {acc:.3f} is below the floor {floor:.2f}")
    return check


def _nn1_floor(y_train, y_true, floor):
    def check(out, case):
        out = np.asarray(out, dtype=np.float64)
        expected = (len(y_true), len(y_train))
        if out.shape != expected:
            raise CheckFailed(f"expected dists of shape {expected}, got {out.shape}")
        if not np.all(np.isfinite(out)):
            raise CheckFailed("distances contain nan or inf")
        acc = float(np.mean(y_train[np.argmin(out, axis=1)] == y_true))
        if acc < floor:
            raise CheckFailed(f"1-nearest-neighbour accuracy with these distances is {acc:.3f}, "
                              f"below the floor {floor:.2f}")
    return check


# --------------------------------------------------------------------------
# hidden cases
# --------------------------------------------------------------------------

l2_rounding_allowance = public.l2_rounding_allowance


def _distance_cases(rng, reference, metric):
    """Hidden cases for a distance function; ``reference`` computes exact expected values
    by direct differences (never the expansion).  Every comparison allows rtol = 1e-6
    and, for L2, ``l2_rounding_allowance``: exact comparisons up to proven rounding."""
    def case(label, X_te, X_tr):
        atol = l2_rounding_allowance(X_te, X_tr) if metric == "l2" else 1e-9
        return Case(label, (X_te, X_tr), expected=reference(X_te, X_tr), rtol=1e-6, atol=atol,
                    output="dists")

    cases = []
    for _ in range(3):
        nt, ntr, d = (int(rng.integers(1, 9)), int(rng.integers(1, 13)), int(rng.integers(1, 40)))
        scale = float(rng.uniform(0.5, 100))
        cases.append(case(f"random shapes ({nt}x{d} test, {ntr}x{d} train)",
                          rng.normal(size=(nt, d)) * scale, rng.normal(size=(ntr, d)) * scale))
    # Coincident points with large norms: ||a||^2 + ||b||^2 - 2 a.b rounds below zero for a
    # good share of the 120 coincident pairs, so an implementation that does not clip at 0
    # before the square root returns nan for every seed.  tests/test_knn.py measures it on
    # the kernel at hand (at least CLIP_CASE_MIN_NEGATIVE of the 120 pairs for each of 200
    # seeds); the counts measured on OpenBLAS's Haswell and SkylakeX kernels are in its
    # docstring.
    base = rng.normal(size=(120, 64)) * 100 + 300
    X_tr = np.vstack([base, base[:10]])
    X_te = base[rng.permutation(120)]
    cases.append(case("120 test points equal to training points (some training points twice)",
                      X_te, X_tr))
    cases.append(case("one test point, one training point", rng.normal(size=(1, 7)),
                      rng.normal(size=(1, 7))))
    X_tr_all, _, X_te_all, _ = bundled_slice()
    cases.append(case("7 x 23 real images", X_te_all[:7], X_tr_all[:23]))
    return cases


def hidden_distances(rng, solution):
    return _distance_cases(rng, solution["compute_distances_one_loop"], "l2")


def hidden_no_loops(rng, solution):
    cases = hidden_distances(rng, solution)
    X_tr, y_tr, X_te, y_te = bundled_slice()
    # a fixed slice of the bundled data: the same verdict for every seed
    cases.append(Case(f"accuracy floor: {ACCURACY_TEST} test x {ACCURACY_TRAIN} train images "
                      "of the bundled data", (X_te, X_tr), verify=_nn1_floor(y_tr, y_te, NN1_FLOOR)))
    return cases


def hidden_l1(rng, solution):
    return _distance_cases(rng, solution["compute_distances_l1"], "l1")


def hidden_predict(rng, solution):
    predict = solution["predict_labels"]
    cases = []
    for _ in range(3):
        nt, ntr, c = int(rng.integers(1, 12)), int(rng.integers(2, 30)), int(rng.integers(2, 8))
        # Continuous distances: two equal distances (where the order of equals could
        # decide a vote) have probability below 30^2 * 2^-52 ~ 2e-13 per case.
        dists = rng.uniform(0, 10, size=(nt, ntr))
        y = rng.integers(0, c, size=ntr)
        k = int(rng.integers(1, ntr + 1))
        cases.append(Case(f"random distances ({nt} test, {ntr} train, {c} classes, k={k})",
                          (dists, y, k), expected=predict(dists, y, k), output="y_pred"))
    # Vote ties between two and three labels.  Distances rise by about 1 from one training
    # point to the next, so the k nearest are always points 0..k-1: labels 7, 2 | 7, 2, 2, 7 |
    # 7, 2, 2, 7, 5, 5 give a 1-1, a 2-2 and a 2-2-2 tie.
    dists = np.tile(np.arange(1.0, 9.0), (3, 1)) + rng.uniform(0, 0.01, size=(3, 8))
    y = np.array([7, 2, 2, 7, 5, 5, 5, 0])
    for k, what in ((2, "a 1-1 tie"), (4, "a 2-2 tie"), (6, "a 2-2-2 tie")):
        cases.append(Case(f"k={k}: {what}; the smallest label (2, not 0) wins", (dists, y, k),
                          expected=predict(dists, y, k), output="y_pred"))
    # k larger than the number of distinct labels; labels far from 0
    dists = rng.uniform(0, 1, size=(5, 12))
    y = rng.choice([3, 9], size=12)
    cases.append(Case("k=9 with only two distinct labels (3 and 9)", (dists, y, 9),
                      expected=predict(dists, y, 9), output="y_pred"))
    # every training point votes; a single test point
    one = rng.uniform(0, 1, size=(1, 6))
    y6 = rng.integers(0, 4, size=6)
    cases.append(Case("one test point, k = number of training points", (one, y6, 6),
                      expected=predict(one, y6, 6), output="y_pred"))
    # accuracy floor on real images, distances given (fixed data: the same verdict every seed)
    _, y_tr, _, y_te = bundled_slice()
    dists = bundled_distances(solution["compute_distances_no_loops"])
    cases.append(Case("accuracy floor: 5-NN on the bundled data", (dists, y_tr, 5),
                      verify=_accuracy_floor(y_te, KNN5_FLOOR, "5-NN test")))
    return cases


def hidden_cross_validation(rng, solution):
    # fold_probe is deterministic, so the expected accuracies are exact
    cv = solution["cross_validate_k"]
    probe = library("assignments.notebooks.knn:fold_probe")
    cases = []
    for n, folds in ((int(rng.integers(11, 40)), int(rng.integers(2, 8))), (24, 4), (17, 5)):
        X = np.column_stack([rng.integers(0, 100, size=n), rng.normal(size=n)]).astype(np.float64)
        y = rng.integers(0, 3, size=n)
        ks = sorted(set(int(k) for k in rng.integers(1, 20, size=3)))
        cases.append(Case(f"{n} points, {folds} folds, k in {ks}", (X, y, ks, folds, probe),
                          expected=cv(X, y, ks, folds, public.fold_probe),
                          output="accuracies"))
    return cases


TASKS = [
    Task("distances_two_loops", "compute_distances_two_loops",
         visible=public.distance_cases, hidden=hidden_distances),
    Task("distances_one_loop", "compute_distances_one_loop",
         visible=public.distance_cases, hidden=hidden_distances),
    Task("distances_no_loops", "compute_distances_no_loops",
         visible=public.distance_cases, hidden=hidden_no_loops, vectorized=True),
    Task("distances_l1", "compute_distances_l1", visible=public.l1_cases, hidden=hidden_l1),
    Task("predict_labels", "predict_labels", visible=public.predict_cases, hidden=hidden_predict),
    Task("cross_validate_k", "cross_validate_k", visible=public.cross_validation_cases,
         hidden=hidden_cross_validation),
]

# --------------------------------------------------------------------------
# plausible bugs; each must be caught by its own test cell and no other
# --------------------------------------------------------------------------

_TWO = "distances_two_loops_code"
_ONE = "distances_one_loop_code"
_NONE = "distances_no_loops_code"
_L1 = "distances_l1_code"
_PRED = "predict_labels_code"
_CV = "cross_validate_k_code"

MUTANTS = [
    Mutant("two loops: missing square root", "distances_two_loops", _TWO,
           "np.sqrt(np.sum(diff * diff))", "np.sum(diff * diff)"),
    Mutant("two loops: absolute differences (L1)", "distances_two_loops", _TWO,
           "np.sqrt(np.sum(diff * diff))", "np.sum(np.abs(diff))"),
    Mutant("two loops: off-by-one, last training point skipped", "distances_two_loops", _TWO,
           "for j in range(num_train):", "for j in range(num_train - 1):"),
    Mutant("two loops: sign error, sum instead of difference", "distances_two_loops", _TWO,
           "diff = X_test[i] - X_train[j]", "diff = X_test[i] + X_train[j]"),
    Mutant("one loop: missing square root", "distances_one_loop", _ONE,
           "np.sqrt(np.sum(diff * diff, axis=1))", "np.sum(diff * diff, axis=1)"),
    Mutant("one loop: sum over the wrong axis", "distances_one_loop", _ONE,
           "np.sum(diff * diff, axis=1)", "np.sum(diff * diff, axis=0)"),
    Mutant("one loop: off-by-one, last test point skipped", "distances_one_loop", _ONE,
           "    for i in range(num_test):\n        diff = X_train - X_test[i]",
           "    for i in range(num_test - 1):\n        diff = X_train - X_test[i]"),
    Mutant("no loops: missing square root", "distances_no_loops", _NONE,
           "    np.sqrt(dists, out=dists)\n", ""),
    Mutant("no loops: sign error in the cross term", "distances_no_loops", _NONE,
           "(-2.0 * X_test)", "(2.0 * X_test)"),
    Mutant("no loops: no clipping, nan where points coincide", "distances_no_loops", _NONE,
           "    np.maximum(dists, 0.0, out=dists)    # rounding can leave -1e-12 where a == b\n",
           ""),
    Mutant("no loops: training norms summed over the wrong axis", "distances_no_loops", _NONE,
           "train_sq = np.sum(X_train * X_train, axis=1)",
           "train_sq = np.sum(X_train * X_train, axis=0)"),
    Mutant("no loops: hidden Python loop", "distances_no_loops", _NONE,
           "    np.sqrt(dists, out=dists)",
           "    dists = np.array([np.sqrt(row) for row in dists])"),
    Mutant("L1: squared differences", "distances_l1", _L1,
           "np.sum(np.abs(X_train - X_test[i]), axis=1)",
           "np.sum((X_train - X_test[i]) ** 2, axis=1)"),
    Mutant("L1: absolute value of the sum", "distances_l1", _L1,
           "np.sum(np.abs(X_train - X_test[i]), axis=1)",
           "np.abs(np.sum(X_train - X_test[i], axis=1))"),
    Mutant("L1: square root taken (L2-like)", "distances_l1", _L1,
           "np.sum(np.abs(X_train - X_test[i]), axis=1)",
           "np.sqrt(np.sum(np.abs(X_train - X_test[i]), axis=1))"),
    Mutant("predict: ties broken toward the largest label", "predict_labels", _PRED,
           "y_pred[i] = np.argmax(votes)",
           "y_pred[i] = len(votes) - 1 - np.argmax(votes[::-1])"),
    Mutant("predict: off-by-one, k + 1 neighbours vote", "predict_labels", _PRED,
           "[:k]", "[:k + 1]"),
    Mutant("predict: the k farthest points vote", "predict_labels", _PRED,
           "np.argsort(dists[i], kind=\"stable\")[:k]", "np.argsort(dists[i], kind=\"stable\")[-k:]"),
    Mutant("predict: votes counted by position, not label", "predict_labels", _PRED,
           "votes = np.bincount(y_train[nearest])", "votes = np.bincount(nearest)"),
    Mutant("cross-validation: validation fold also used for training", "cross_validate_k", _CV,
           "for j in range(num_folds) if j != i]", "for j in range(num_folds)]"),
    Mutant("cross-validation: folds overlap (fold i+1 left out of training)", "cross_validate_k",
           _CV, "if j != i]", "if j != (i + 1) % num_folds]"),
    Mutant("cross-validation: np.split, fails on uneven folds", "cross_validate_k", _CV,
           "folds = np.array_split(np.arange(len(y)), num_folds)",
           "folds = np.split(np.arange(len(y)), num_folds)"),
    Mutant("cross-validation: accuracy measured on the training folds", "cross_validate_k", _CV,
           "y_val_pred = classify(X[train_idx], y[train_idx], X[val_idx], k)\n"
           "            accuracies[i] = np.mean(y_val_pred == y[val_idx])",
           "y_val_pred = classify(X[train_idx], y[train_idx], X[train_idx], k)\n"
           "            accuracies[i] = np.mean(y_val_pred == y[train_idx])"),
]

DEMO_BUG = "predict: ties broken toward the largest label"
