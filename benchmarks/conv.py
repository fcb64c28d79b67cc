"""How fast are notebook 6's numpy layers?  Every ratio measured side by side in one run.

    pip install -e '.[bench]'          # torch (CPU), only for this comparison
    python benchmarks/conv.py [--repeat 5] [--threads 2] [--clock wall|cpu]

Rows (each a ratio of best-of-``repeat`` times, the two sides run in turn):

1. fast convolution, forward + backward, against torch's ``conv2d`` (input,
   weight and bias gradients) in float64 and float32, on a CIFAR-sized first
   layer (x (100, 3, 32, 32), w (32, 3, 5, 5), pad 2) and second layer
   (x (100, 32, 16, 16), w (64, 32, 3, 3), pad 1); targets <= 1.2x (float64)
   and <= 2x (float32);
2. fast against naive layers on the classic case (x (100, 3, 31, 31),
   w (25, 3, 3, 3), stride 2, pad 1), forward and backward; target >= 300x;
3. 2 x 2 max pooling, forward + backward, against torch's ``max_pool2d``
   on x (100, 32, 32, 32); target <= 1.0x;
4. a whole training step (forward, backward, Adam update) of the
   ThreeLayerConvNet against the same architecture in torch float32, in
   images per second; target: torch at most 1.5x faster.  The course's
   layer contract always returns dx, also for the first layer, where torch
   skips it; a second row lets torch compute it too (the same work);
5. the peak memory of one training step at batch 100 (tracemalloc, which
   sees numpy's allocations) against the sum of the layer outputs that the
   backward pass needs, and against that plus what the backward pass must
   hold at its peak: one im2col-sized matrix, two gradient maps of the
   convolution's output, the parameters and their gradients.  A ratio near
   1 means no accidental copy of an im2col matrix.

Every layer and the network are the course's answers, run from their one
home, the source notebook's answer cells (``COURSE``, from
``autograder.notebooks.reference_namespace``); the Adam step is notebook 4's
faster second implementation (``assignments.fast.optim``).

The course itself never imports torch.  Numbers depend on the machine and on
how busy its cores are; the header prints what was used.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import time
import tracemalloc
import types

import numpy as np

from assignments.timing import best_times_interleaved

CLOCK = {"clock": time.perf_counter}   # --clock cpu switches to time.process_time


@functools.lru_cache(maxsize=None)
def course():
    """Notebook 6's answers (and the earlier ones it builds on), from the source notebook."""
    from autograder.notebooks import reference_namespace

    return types.SimpleNamespace(**reference_namespace("06_cnn"))


def best_of_interleaved(fns, repeat):
    """Best time of each function of the list, timed in turn (see best_times_interleaved)."""
    return list(best_times_interleaved(dict(enumerate(fns)), repeat, **CLOCK).values())


def row(name, ours, theirs, target, higher_is_better=False):
    ratio = ours / theirs
    ok = ratio >= target if higher_is_better else ratio <= target
    sign = ">=" if higher_is_better else "<="
    print(f"{name:<52} {ours * 1e3:10.2f} {theirs * 1e3:10.2f} {ratio:9.2f}x   "
          f"{sign} {target:g}x {'ok' if ok else 'MISSED'}")


def conv_rows(torch, repeat):
    conv_forward_fast, conv_backward_fast = course().conv_forward_fast, course().conv_backward_fast
    rng = np.random.default_rng(0)
    for label, xs, ws, pad in (("layer 1", (100, 3, 32, 32), (32, 3, 5, 5), 2),
                               ("layer 2", (100, 32, 16, 16), (64, 32, 3, 3), 1)):
        for dtype, tdtype, target in ((np.float64, torch.float64, 1.2),
                                      (np.float32, torch.float32, 2.0)):
            x = rng.normal(size=xs).astype(dtype)
            w = rng.normal(size=ws).astype(dtype)
            b = rng.normal(size=ws[0]).astype(dtype)
            dout = rng.normal(size=(xs[0], ws[0], xs[2], xs[3])).astype(dtype)

            def ours():
                _, cache = conv_forward_fast(x, w, b, 1, pad)
                conv_backward_fast(dout, cache)

            tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
            tdout = torch.tensor(dout)

            def theirs():
                out = torch.nn.functional.conv2d(tx, tw, tb, stride=1, padding=pad)
                out.backward(tdout)

            t_ours, t_theirs = best_of_interleaved([ours, theirs], repeat)
            row(f"conv fwd+bwd {label} {np.dtype(dtype).name} vs torch", t_ours, t_theirs,
                target)


def naive_rows(repeat):
    c = course()
    conv_forward_naive, conv_backward_naive = c.conv_forward_naive, c.conv_backward_naive
    conv_forward_fast, conv_backward_fast = c.conv_forward_fast, c.conv_backward_fast
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100, 3, 31, 31))
    w, b = rng.normal(size=(25, 3, 3, 3)), rng.normal(size=25)
    cache = (x, w, b, 2, 1)
    dout = rng.normal(size=conv_forward_fast(*cache)[0].shape)
    naive = best_of_interleaved([lambda: conv_forward_naive(*cache),
                                 lambda: conv_backward_naive(dout, cache)], 1)
    fast = best_of_interleaved([lambda: conv_forward_fast(*cache),
                                lambda: conv_backward_fast(dout, cache)], repeat)
    for name, t_naive, t_fast in (("forward", naive[0], fast[0]),
                                  ("backward", naive[1], fast[1]),
                                  ("forward + backward", sum(naive), sum(fast))):
        row(f"conv naive / fast, classic case, {name}", t_naive, t_fast, 300,
            higher_is_better=True)


def pool_rows(torch, repeat):
    max_pool_forward_fast = course().max_pool_forward_fast
    max_pool_backward_fast = course().max_pool_backward_fast
    rng = np.random.default_rng(2)
    for dtype, tdtype in ((np.float64, torch.float64), (np.float32, torch.float32)):
        x = rng.normal(size=(100, 32, 32, 32)).astype(dtype)
        dout = rng.normal(size=(100, 32, 16, 16)).astype(dtype)

        def ours():
            _, cache = max_pool_forward_fast(x, 2, 2, 2)
            max_pool_backward_fast(dout, cache)

        tx, tdout = torch.tensor(x, requires_grad=True), torch.tensor(dout)

        def theirs():
            torch.nn.functional.max_pool2d(tx, 2, 2).backward(tdout)

        t_ours, t_theirs = best_of_interleaved([ours, theirs], repeat)
        row(f"max pool 2x2 fwd+bwd {np.dtype(dtype).name} vs torch", t_ours, t_theirs, 1.0)


NETWORKS = {  # input (C, H, W), filters, filter size, hidden units
    "28x28x1 (notebook's net)": ((1, 28, 28), 32, 5, 256),   # 32 5x5 filters, 256 hidden
    "32x32x3 (CIFAR-sized)": ((3, 32, 32), 32, 5, 100),      # 32 5x5 filters, 100 hidden
}


def step_rows(torch, repeat, batch=100):
    from assignments.fast.optim import adam

    ThreeLayerConvNet = course().ThreeLayerConvNet
    rng = np.random.default_rng(3)
    for label, (shape, F, k, hidden) in NETWORKS.items():
        net = ThreeLayerConvNet(shape, num_filters=F, filter_size=k, hidden_dim=hidden,
                                dtype=np.float32, rng=np.random.default_rng(4))
        configs = {name: {"learning_rate": 1e-3} for name in net.params}
        X = rng.normal(size=(batch,) + shape).astype(np.float32)
        y = rng.integers(0, 10, size=batch)

        def ours():
            _, grads = net.loss(X, y)
            for name, w in net.params.items():
                net.params[name], configs[name] = adam(w, grads[name], configs[name])

        C, H, W = shape
        model = torch.nn.Sequential(
            torch.nn.Conv2d(C, F, k, padding=(k - 1) // 2), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2), torch.nn.Flatten(),
            torch.nn.Linear(F * (H // 2) * (W // 2), hidden), torch.nn.ReLU(),
            torch.nn.Linear(hidden, 10))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        tX, ty = torch.tensor(X), torch.tensor(y)
        tX_grad = torch.tensor(X, requires_grad=True)

        def theirs(inputs):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(inputs), ty).backward()
            opt.step()

        t_ours, t_theirs, t_same = best_of_interleaved(
            [ours, lambda: theirs(tX), lambda: theirs(tX_grad)], repeat)
        for name, other in (("", t_theirs), (", torch with dx", t_same)):
            ratio = t_ours / other
            print(f"{'training step, ' + label + name:<52} {batch / t_ours:10,.0f} "
                  f"{batch / other:10,.0f} {ratio:9.2f}x   <= 1.5x "
                  f"{'ok' if ratio <= 1.5 else 'MISSED'}   (images/s)")


def memory_rows(batch=100):
    ThreeLayerConvNet = course().ThreeLayerConvNet
    rng = np.random.default_rng(5)
    for label, (shape, F, k, hidden) in NETWORKS.items():
        net = ThreeLayerConvNet(shape, num_filters=F, filter_size=k, hidden_dim=hidden,
                                dtype=np.float32, rng=np.random.default_rng(6))
        X = rng.normal(size=(batch,) + shape).astype(np.float32)
        y = rng.integers(0, 10, size=batch)
        C, H, W = shape
        item = 4
        activations = batch * item * (2 * F * H * W                 # conv output, ReLU
                                      + F * (H // 2) * (W // 2)     # pooled maps
                                      + 2 * hidden + 10)            # hidden, ReLU, scores
        cols = batch * item * C * k * k * H * W                      # one im2col matrix
        params = sum(v.nbytes for v in net.params.values())
        net.loss(X, y)                                               # warm up
        tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        net.loss(X, y)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        conv_map = batch * item * F * H * W                         # one gradient map
        budget = activations + cols + 2 * conv_map + 2 * params
        mb = 1024 * 1024
        print(f"peak memory of one step, {label}: {peak / mb:.1f} MB = {peak / activations:.2f}x "
              f"the layer outputs kept for backward ({activations / mb:.1f} MB); = "
              f"{peak / budget:.2f}x those + one im2col-sized matrix ({cols / mb:.1f} MB) + two "
              f"gradient maps of the conv output ({2 * conv_map / mb:.1f} MB) + parameters "
              f"and gradients ({2 * params / mb:.1f} MB)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="best of this many runs")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall-clock time, or this process's CPU time (with one thread "
                        "everywhere: OPENBLAS_NUM_THREADS=1 and --threads 1)")
    args = parser.parse_args(argv)
    if args.clock == "cpu":
        CLOCK["clock"] = time.process_time
    import torch

    torch.set_num_threads(args.threads)
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:  # noqa: BLE001 - an older numpy: no machine-readable config
        blas = "?"
    print(f"numpy {np.__version__} ({blas}), torch {torch.__version__}, {os.cpu_count()} CPUs, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, torch threads "
          f"{torch.get_num_threads()}, {platform.machine()}; best of {args.repeat}, {args.clock} "
          f"time; load average {os.getloadavg()[0]:.1f}")
    print(f"{'':<52} {'ours ms':>10} {'other ms':>10} {'ratio':>10}   target")
    conv_rows(torch, args.repeat)
    naive_rows(args.repeat)
    pool_rows(torch, args.repeat)
    step_rows(torch, args.repeat)
    memory_rows()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
