"""Batch norm (graph and closed-form backward) and dropout against an affine layer and a memory pass.

    python benchmarks/normalization.py [--repeat 5] [--dtype float64] [--blas-threads 1]

For activations x of N x D numbers (N = 64 .. 1024 examples, D = 100 ..
4096 features) it times, with the library's reference layers
(``assignments.normalization``):

- ``bn graph``: batchnorm_forward + batchnorm_backward (one node at a time),
- ``bn alt``:   batchnorm_forward + batchnorm_backward_alt (closed form),
- ``dropout``:  dropout_forward (keep_prob 0.5, mask drawn from a Generator) +
  dropout_backward,

and expresses each as a multiple of

- ``affine``: affine_forward + affine_backward of the same batch through a
  hidden layer of width D (x (N, D) @ w (D, D)), the layer batch norm and
  dropout sit next to in a network, and
- ``copy``: the plainest memory pass over the same array (``np.copyto`` of
  N x D numbers into a preallocated array: one read, one write),

so the table shows both what normalization costs inside a network and how
many "array passes" each layer spends.  The best of ``repeat`` runs is kept
(fewer for the largest affine layers).
"""

from __future__ import annotations

import argparse
import os
import platform

NS = (64, 256, 1024)
DS = (100, 1024, 4096)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="OPENBLAS_NUM_THREADS for the run (0: leave the environment alone)")
    args = parser.parse_args(argv)
    if args.blas_threads > 0:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.blas_threads)

    import numpy as np

    import types

    from assignments.timing import best_time
    from autograder.notebooks import reference_namespace

    # notebook 5's answers (and notebook 3's affine layer), from their one home
    norm = types.SimpleNamespace(**reference_namespace("05_batchnorm_dropout"))
    affine_forward, affine_backward = norm.affine_forward, norm.affine_backward

    dtype = np.dtype(args.dtype)
    print(f"numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} CPUs, {dtype}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
          f"best of {args.repeat}")

    def bn(backward, x, gamma, beta, mean, var, dout):
        _, cache, _ = norm.batchnorm_forward(x, gamma, beta, mean, var, "train")
        return backward(dout, cache)

    def dropout(x, dout, rng):
        _, mask = norm.dropout_forward(x, 0.5, "train", rng)
        return norm.dropout_backward(dout, mask)

    def affine(x, w, b, dout):
        _, cache = affine_forward(x, w, b)
        return affine_backward(dout, cache)

    head = (f"{'N x D':>11} {'copy ms':>9} {'affine ms':>10} {'bn graph ms':>12} "
            f"{'bn alt ms':>10} {'dropout ms':>11} | {'graph/alt':>9} | {'bn graph':>8} "
            f"{'bn alt':>7} {'dropout':>8} x affine | {'bn graph':>8} {'bn alt':>7} "
            f"{'dropout':>8} x copy")
    print(head)
    print("-" * len(head))
    rng = np.random.default_rng(0)
    for N in NS:
        for D in DS:
            x = rng.standard_normal((N, D)).astype(dtype)
            dout = rng.standard_normal((N, D)).astype(dtype)
            gamma, beta = np.ones(D, dtype), np.zeros(D, dtype)
            mean, var = np.zeros(D, dtype), np.ones(D, dtype)
            w = (rng.standard_normal((D, D)) / np.sqrt(D)).astype(dtype)
            b = np.zeros(D, dtype)
            buf = np.empty_like(x)
            r = args.repeat
            t_copy, _ = best_time(np.copyto, buf, x, repeat=4 * r)
            t_aff, _ = best_time(affine, x, w, b, dout, repeat=max(1, r if N * D * D < 1e9 else 2))
            t_graph, g = best_time(bn, norm.batchnorm_backward, x, gamma, beta, mean, var, dout,
                                   repeat=r)
            t_alt, a = best_time(bn, norm.batchnorm_backward_alt, x, gamma, beta, mean, var,
                                 dout, repeat=r)
            t_drop, _ = best_time(dropout, x, dout, np.random.default_rng(1), repeat=r)
            tol = 1e-8 if dtype == np.float64 else 1e-3
            assert all(np.allclose(u, v, rtol=tol, atol=tol) for u, v in zip(g, a))
            ms = 1e3
            print(f"{f'{N}x{D}':>11} {t_copy * ms:9.3f} {t_aff * ms:10.2f} {t_graph * ms:12.3f} "
                  f"{t_alt * ms:10.3f} {t_drop * ms:11.3f} | {t_graph / t_alt:8.2f}x | "
                  f"{t_graph / t_aff:8.3f} {t_alt / t_aff:7.3f} {t_drop / t_aff:8.3f}         | "
                  f"{t_graph / t_copy:8.1f} {t_alt / t_copy:7.1f} {t_drop / t_copy:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
