"""How fast does the Solver train notebook 3's two-layer network?

For every (hidden size, batch size) this measures, side by side in one run:

- solver: images per second of ``Solver.step`` over one epoch of Fashion-MNIST
  sized inputs (784 numbers per image, 10 classes), with the reference
  ``TwoLayerNet`` of the source notebook and plain SGD;
- matmul: images per second of only the six matrix products one training
  step needs (two forward, four backward), same shapes, same data;
- ratio: solver time / matmul time.  The gap is everything else numpy does
  per step (ReLU, softmax, reshapes, the update, the per-step statistics
  the Solver records) plus Python overhead, which weighs most for small
  batches.

    python benchmarks/solver.py [--images 6000] [--repeat 5]

Numbers depend on the machine and on how many BLAS threads are free; the
header prints what numpy was built with.  On a busy machine, multithreaded
BLAS calls this small can stall while a thread waits for a core; compare
with ``OPENBLAS_NUM_THREADS=1 python benchmarks/solver.py``.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from assignments.timing import best_of_interleaved


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=6000, help="images per epoch")
    parser.add_argument("--repeat", type=int, default=5, help="best of this many runs")
    args = parser.parse_args(argv)

    from assignments.solver import Solver
    from autograder.notebooks import reference_namespace

    TwoLayerNet = reference_namespace("03_two_layer_net")["TwoLayerNet"]
    rng = np.random.default_rng(0)
    D, C, N = 784, 10, args.images
    X = rng.normal(size=(N, 1, 28, 28))
    y = rng.integers(0, C, size=N)
    data = {"X_train": X, "y_train": y, "X_val": X[:10], "y_val": y[:10]}

    blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {})
    print(f"numpy {np.__version__}, BLAS {blas.get('name', '?')} {blas.get('version', '')}, "
          f"{os.cpu_count()} CPUs, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(f"{N} images of 784 numbers per epoch, float64, best of {args.repeat}\n")
    header = (f"{'hidden':>6} {'batch':>6} {'solver img/s':>13} {'matmul img/s':>13} "
              f"{'ratio':>6} {'solver GFLOP/s':>15}")
    print(header)
    print("-" * len(header))
    for H in (100, 512):
        for B in (50, 100, 200, 500):
            net = TwoLayerNet(D, H, C, weight_scale=1e-2, reg=1e-4, rng=np.random.default_rng(1))
            solver = Solver(net, data, rng=np.random.default_rng(2),
                            optim_config={"learning_rate": 1e-3}, batch_size=B, progress=False)
            batches = [(X[i:i + B], y[i:i + B]) for i in range(0, N, B)]

            def solver_epoch():
                for Xb, yb in batches:
                    solver.step(Xb, yb)

            W1, W2 = net.params["W1"], net.params["W2"]

            def matmul_epoch():
                for Xb, _ in batches:
                    rows = Xb.reshape(len(Xb), -1)
                    h = rows @ W1                      # forward, layer 1
                    s = h @ W2                         # forward, layer 2
                    dh = s @ W2.T                      # backward: dx of layer 2
                    _ = h.T @ s                        # backward: dW2
                    _ = dh @ W1.T                      # backward: dx of layer 1
                    _ = rows.T @ dh                    # backward: dW1

            t_solver, t_matmul = best_of_interleaved([solver_epoch, matmul_epoch], args.repeat)
            flops = 6 * N * (D * H + H * C)  # six products: three D x H, three H x C
            print(f"{H:>6} {B:>6} {N / t_solver:>13,.0f} {N / t_matmul:>13,.0f} "
                  f"{t_solver / t_matmul:>6.2f} {flops / t_solver / 1e9:>15.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
