"""k-NN distance implementations side by side, against the BLAS ceiling.

For NUM_TEST test x NUM_TRAIN training images of the bundled dataset (float64,
D = 784) it times the reference solutions of notebook 1 (two loops, one
loop, no loops) and a plain matrix product X_test @ X_train.T of the same
shapes: the no-loop version does that product plus O(N^2) cheap work, so its
GFLOP/s (counting 2 * num_test * num_train * D flops) next to the product's
says how close it gets to the machine's BLAS.  Ratios are measured in one
run, so machine noise affects both sides alike.

    python benchmarks/knn.py [--test 500] [--train 5000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import platform

import numpy as np

from assignments.data import flatten, load_dataset, subsample
from assignments.timing import best_time
from autograder.notebooks import reference_namespace


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--test", type=int, default=500)
    parser.add_argument("--train", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    ref = reference_namespace("01_knn")
    data = load_dataset("fashion_mnist_small")
    rng = np.random.default_rng(0)
    X_train, _ = subsample(data.X_train, data.y_train, args.train, rng)
    X_test, _ = subsample(data.X_test, data.y_test, args.test, rng)
    X_train, X_test = flatten(X_train), flatten(X_test)
    D = X_train.shape[1]
    flops = 2.0 * args.test * args.train * D

    t_mm, _ = best_time(lambda: X_test @ X_train.T, repeat=args.repeat)
    t_none, d_none = best_time(ref["compute_distances_no_loops"], X_test, X_train,
                               repeat=args.repeat)
    t_one, d_one = best_time(ref["compute_distances_one_loop"], X_test, X_train, repeat=2)
    t_two, d_two = best_time(ref["compute_distances_two_loops"], X_test, X_train, repeat=1)
    assert np.allclose(d_none, d_two) and np.allclose(d_one, d_two)

    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"k-NN distances: {args.test} test x {args.train} train x D={D}, float64; "
          f"numpy {np.__version__}, {os.cpu_count()} cores, OPENBLAS_NUM_THREADS={threads}, "
          f"{platform.machine()}")
    print(f"{'implementation':<26}{'seconds':>10}{'GFLOP/s':>10}{'vs two loops':>14}")
    rows = [("two loops", t_two), ("one loop", t_one), ("no loops", t_none),
            ("X_test @ X_train.T (BLAS)", t_mm)]
    for name, t in rows:
        print(f"{name:<26}{t:>10.4f}{flops / t / 1e9:>10.1f}{t_two / t:>13.0f}x")
    print(f"no-loop GFLOP/s as a fraction of the matrix product's: {t_mm / t_none:.2f} "
          f"(target >= 0.75)")
    print(f"speed-up of no loops over two loops: {t_two / t_none:.0f}x; "
          f"over one loop: {t_one / t_none:.0f}x")


if __name__ == "__main__":
    main()
