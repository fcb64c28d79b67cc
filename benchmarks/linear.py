"""Naive vs vectorized SVM and softmax losses (loss + gradient), and a matmul floor.

    python benchmarks/linear.py [--repeat 5] [--blas-threads 1]

Uses the reference solutions of notebook 02 (the answer cells of
source/02_linear_classifiers).  For every shape the table gives the best of
``repeat`` wall-clock times of the loop version and the vectorized version,
the speed-up, and the time of the two matrix products any vectorized
loss-and-gradient needs (scores = X @ W and dW = X.T @ G), so the last
column shows how close the vectorized code is to that floor.  The vectorized
losses and the products are timed in turn, so load from other processes
affects them alike.

``--blas-threads N`` (default 1; 0 leaves the environment alone) sets
OPENBLAS_NUM_THREADS and friends before numpy is imported.  These products
are too small to gain from threads, and on a busy machine multi-threaded
BLAS makes each of them wait for free cores: every time is then dominated
by that wait (about 12 ms per call on the 2-core machine this was written on).
"""

from __future__ import annotations

import argparse
import os
import platform

SHAPES = [  # (N, D, C): a training batch, the notebook's development set, CIFAR-10-sized rows
    (256, 785, 10),
    (500, 785, 10),
    (500, 3073, 10),
]


def products(X, W, G):
    """The two matrix products of a vectorized loss and gradient."""
    return X @ W, X.T @ G


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.blas_threads > 0:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.blas_threads)

    import numpy as np

    from assignments.timing import best_time, best_times_interleaved
    from autograder.notebooks import reference_namespace

    ref = reference_namespace("02_linear_classifiers")
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}, {platform.processor() or platform.machine()}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    head = (f"{'loss':<8} {'N x D x C':>15} {'naive ms':>9} {'vector ms':>10} {'speed-up':>9} "
            f"{'matmuls ms':>11} {'vector/matmuls':>15}")
    print(head)
    print("-" * len(head))
    for N, D, C in SHAPES:
        X = rng.standard_normal((N, D))
        W = 0.01 * rng.standard_normal((D, C))
        y = rng.integers(0, C, size=N)
        G = rng.standard_normal((N, C))
        # the vectorized losses and the bare products in turn, so load hits all alike
        fast = best_times_interleaved(
            {"matmuls": lambda: products(X, W, G),
             **{kind: (lambda f=ref[f"{kind}_loss_vectorized"]: f(W, X, y, 0.1))
                for kind in ("svm", "softmax")}}, args.repeat * 4)
        for kind in ("svm", "softmax"):
            naive, vec = ref[f"{kind}_loss_naive"], ref[f"{kind}_loss_vectorized"]
            t_naive, (l1, g1) = best_time(naive, W, X, y, 0.1, repeat=max(1, args.repeat // 2))
            l2, g2 = vec(W, X, y, 0.1)
            if not (abs(l1 - l2) < 1e-9 * max(1.0, abs(l1)) and np.allclose(g1, g2)):
                raise SystemExit(f"{kind}: the naive and vectorized references disagree")
            t_vec, t_mm = fast[kind], fast["matmuls"]
            print(f"{kind:<8} {f'{N}x{D}x{C}':>15} {t_naive * 1e3:9.2f} {t_vec * 1e3:10.3f} "
                  f"{t_naive / t_vec:8.0f}x {t_mm * 1e3:11.3f} {t_vec / t_mm:14.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
