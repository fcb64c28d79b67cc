"""k-NN distance implementations side by side, against the BLAS ceiling, on several kernels.

For NUM_TEST test x NUM_TRAIN training images of the bundled dataset (float64,
D = 784) it times the reference solutions of notebook 1 (two loops, one loop,
no loops), the notebook's extension (one augmented product of inner dimension
D + 2, then clip and square root) and a plain matrix product X_test @ X_train.T
of the same shapes.  A no-loop version does that product plus O(N^2) cheap
memory passes, so its GFLOP/s (counting 2 * num_test * num_train * D flops)
as a fraction of the product's says how close it comes to the machine's BLAS.
The fast versions and the product are timed in turn (best of --repeat rounds),
so load from other processes affects both sides alike.

With --kernels (default "Haswell,SkylakeX") each OpenBLAS kernel runs in a
child process of its own (OPENBLAS_CORETYPE is read when the library loads);
the children run in turn --rounds times and the best time of each entry is
kept, so the kernels too are measured side by side.  --kernels "" measures
only the kernel OpenBLAS picks by itself, in this process.

    python benchmarks/knn.py [--test 500] [--train 5000] [--repeat 7] [--rounds 3]
                             [--kernels Haswell,SkylakeX] [--skip-slow]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

import numpy as np

ROWS = [("two loops", "compute_distances_two_loops"),
        ("one loop", "compute_distances_one_loop"),
        ("no loops (reference)", "compute_distances_no_loops"),
        ("no loops, augmented D + 2", None),
        ("X_test @ X_train.T (BLAS)", None)]


def augmented_distances(X_test, X_train):
    """The notebook's extension: [-2a, |a|^2, 1] . [b, 1, |b|^2], then clip and square root."""
    a = np.sum(X_test * X_test, axis=1, keepdims=True)
    b = np.sum(X_train * X_train, axis=1, keepdims=True)
    left = np.hstack([-2.0 * X_test, a, np.ones_like(a)])
    right = np.hstack([X_train, np.ones_like(b), b])
    d = left @ right.T
    np.maximum(d, 0.0, out=d)
    np.sqrt(d, out=d)
    return d


def measure(num_test, num_train, repeat, skip_slow) -> dict:
    """Seconds of every row of ROWS (None where skipped) and the kernel that ran them."""
    from assignments.data import flatten, load_dataset, subsample
    from assignments.timing import best_time, best_times_interleaved, blas_core
    from autograder.notebooks import reference_namespace

    ref = reference_namespace("01_knn")
    data = load_dataset("fashion_mnist_small")
    rng = np.random.default_rng(0)
    X_train, _ = subsample(data.X_train, data.y_train, num_train, rng)
    X_test, _ = subsample(data.X_test, data.y_test, num_test, rng)
    X_train, X_test = flatten(X_train), flatten(X_test)

    none, aug = ref["compute_distances_no_loops"], augmented_distances
    fast = best_times_interleaved({
        "no loops (reference)": lambda: none(X_test, X_train),
        "no loops, augmented D + 2": lambda: aug(X_test, X_train),
        "X_test @ X_train.T (BLAS)": lambda: X_test @ X_train.T}, repeat)
    reference = none(X_test, X_train)
    if not np.allclose(aug(X_test, X_train), reference, rtol=1e-9, atol=1e-6):
        raise SystemExit("the augmented product disagrees with the reference")
    times = dict(fast)
    for name, fn in (("one loop", "compute_distances_one_loop"),
                     ("two loops", "compute_distances_two_loops")):
        if skip_slow:
            times[name] = None
            continue
        times[name], d = best_time(ref[fn], X_test, X_train, repeat=1 if name == "two loops" else 2)
        if not np.allclose(d, reference, rtol=1e-9, atol=1e-6):
            raise SystemExit(f"{name} disagrees with the no-loop reference")
    return {"times": times, "core": blas_core(), "D": int(X_train.shape[1])}


def table(result, num_test, num_train) -> str:
    flops = 2.0 * num_test * num_train * result["D"]
    t = result["times"]
    slow = t.get("two loops")
    lines = [f"{'implementation':<28}{'seconds':>10}{'GFLOP/s':>10}{'vs two loops':>14}"]
    for name, _ in ROWS:
        if t.get(name) is None:
            continue
        vs = f"{slow / t[name]:>13.0f}x" if slow else f"{'-':>14}"
        lines.append(f"{name:<28}{t[name]:>10.4f}{flops / t[name] / 1e9:>10.1f}{vs}")
    gemm = t["X_test @ X_train.T (BLAS)"]
    lines.append(f"no-loop GFLOP/s as a fraction of the product's: reference "
                 f"{gemm / t['no loops (reference)']:.2f}, augmented "
                 f"{gemm / t['no loops, augmented D + 2']:.2f}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--test", type=int, default=500)
    parser.add_argument("--train", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3, help="turns of each kernel's child")
    parser.add_argument("--kernels", default="Haswell,SkylakeX")
    parser.add_argument("--skip-slow", action="store_true", help="no loop versions")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(measure(args.test, args.train, args.repeat, args.skip_slow)))
        return
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"k-NN distances: {args.test} test x {args.train} train x D=784, float64; "
          f"numpy {np.__version__}, {os.cpu_count()} cores, OPENBLAS_NUM_THREADS={threads}, "
          f"{platform.machine()}")
    kernels = [k for k in args.kernels.split(",") if k]
    if not kernels:
        result = measure(args.test, args.train, args.repeat, args.skip_slow)
        print(f"OpenBLAS kernel {result['core']}")
        print(table(result, args.test, args.train))
        return
    best: dict = {}
    for round_ in range(args.rounds):
        for kernel in kernels:
            # the slow loop versions only in the first round: their times hardly vary
            cmd = [sys.executable, os.path.abspath(__file__), "--child", "--test", str(args.test),
                   "--train", str(args.train), "--repeat", str(args.repeat)]
            if args.skip_slow or round_ > 0:
                cmd.append("--skip-slow")
            out = subprocess.run(cmd, env={**os.environ, "OPENBLAS_CORETYPE": kernel},
                                 check=True, capture_output=True, text=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            kept = best.setdefault(kernel, result)
            for name, seconds in result["times"].items():
                if seconds is not None and (kept["times"].get(name) is None
                                            or seconds < kept["times"][name]):
                    kept["times"][name] = seconds
    for kernel in kernels:
        print(f"\nOPENBLAS_CORETYPE={kernel} (OpenBLAS runs {best[kernel]['core']})")
        print(table(best[kernel], args.test, args.train))
    print("\nno-loop / product GFLOP/s, measured side by side:")
    print(f"{'kernel':<12}{'reference':>11}{'augmented':>11}{'product GFLOP/s':>17}")
    flops = 2.0 * args.test * args.train * 784
    for kernel in kernels:
        t = best[kernel]["times"]
        gemm = t["X_test @ X_train.T (BLAS)"]
        print(f"{kernel:<12}{gemm / t['no loops (reference)']:>11.2f}"
              f"{gemm / t['no loops, augmented D + 2']:>11.2f}{flops / gemm / 1e9:>17.1f}")


if __name__ == "__main__":
    main()
