"""How close does each update rule get to the memory-bandwidth limit?

An update rule is a handful of elementwise operations on arrays as large as
the parameters, so its speed is set by memory traffic, not arithmetic.  For
parameter arrays of N numbers (float64) this measures, side by side in one
run, one step of every rule of ``assignments.optim``:

- base: ``w - lr * dw``, the plainest possible update, as the unit of time;
- passes: the least memory traffic the rule needs, counted in arrays of N
  numbers read or written (SGD reads w and dw and writes w: 3; momentum
  also reads and writes its velocity: 5; Adam reads w, dw, m, v and writes
  w, m, v: 7), and ``bound`` = passes / 3, the cost in units of ``base``
  a rule would have if it were as efficient as ``base``;
- plain: the rule written the plain numpy way (the reference solution of
  notebook 4), as a multiple of ``base``;
- library: the course's reference copy (``assignments.optim``: results
  written with ``out=`` into arrays it allocated, large arrays walked in
  cache-sized blocks), as a multiple of ``base``;
- floor: ``bound`` plus, for the rules that take a square root and divide
  (AdaGrad, RMSprop, Adam), the time of one ``np.sqrt`` and one
  ``np.divide`` over N numbers in units of ``base``: for arrays that fit in
  the caches these two operations, not memory, set the pace;
- temps: arrays of N numbers allocated beyond the inputs and the results
  (peak of numpy's allocations, seen by tracemalloc), plain / library.

Target (issue 10): library <= 3 x bound where memory is the limit, in
practice library <= 3 x floor for every rule and size, and no temporaries.

    python benchmarks/optim.py [--sizes 1e4 1e5 1e6 1e7] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import tracemalloc

import numpy as np

from assignments.timing import best_times_interleaved

from assignments import optim as library
from assignments.fast import optim
from autograder.notebooks import reference_namespace

# least traffic of one step, in arrays of N numbers read + written
PASSES = {"sgd": 3, "sgd_momentum": 5, "nesterov_momentum": 5, "adagrad": 5, "rmsprop": 5,
          "adam": 7}
ROOT_AND_DIVIDE = ("adagrad", "rmsprop", "adam")
STATE = {"sgd": (), "sgd_momentum": ("velocity",), "nesterov_momentum": ("velocity",),
         "adagrad": ("cache",), "rmsprop": ("cache",), "adam": ("m", "v")}


def plain_rules() -> dict:
    """The rules as notebook 4's solution writes them (plain numpy expressions)."""
    ref = reference_namespace("04_optimizers_init")

    def plain_sgd(w, dw, config=None):
        config = library.with_defaults(config, learning_rate=1e-2)
        return w - config["learning_rate"] * dw, config

    return {"sgd": plain_sgd, **{name: ref[name] for name in PASSES if name != "sgd"}}


def state_config(name, w, rng):
    config = {k: np.abs(rng.standard_normal(w.shape)) for k in STATE[name]}
    if name == "adam":
        config["t"] = 5
    return config


def temporaries(fn, n_outputs, nbytes) -> float:
    """Peak numpy allocation of one call beyond its results, in arrays of ``nbytes``."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return max(0.0, (peak - before) / nbytes - n_outputs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e5, 1e6, 1e7])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    plain = plain_rules()
    print(f"numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"float64, best of {args.repeat} (interleaved)")
    head = (f"{'rule':<18} {'N':>6} {'passes':>6} {'bound':>6} {'floor':>6} {'plain':>7} "
            f"{'library':>8} {'lib/bound':>9} {'lib/floor':>9} {'temps plain/lib':>16}")
    print(head)
    print("-" * len(head))
    worst = 0.0
    for size in args.sizes:
        n = int(size)
        rng = np.random.default_rng(0)
        w, dw = rng.standard_normal(n), rng.standard_normal(n)
        repeat = max(3, args.repeat if n <= 1_000_000 else args.repeat // 2)
        base_time = None
        positive, scratch = np.abs(w) + 1.0, np.empty_like(w)

        def root_and_divide():
            np.sqrt(positive, out=scratch)
            np.divide(dw, scratch, out=scratch)

        base_root = best_times_interleaved({"axpy": lambda: w - 0.01 * dw,
                                            "root": root_and_divide}, repeat)
        arith = base_root["root"] / base_root["axpy"]
        for name in PASSES:
            config = state_config(name, w, rng)
            lib, pla = {**library.RULES, **optim.RULES}[name], plain[name]
            times = list(best_times_interleaved(
                {"axpy": lambda: w - 0.01 * dw, "plain": lambda: pla(w, dw, config),
                 "library": lambda: lib(w, dw, config)}, repeat).values())
            base_time = times[0] if base_time is None else min(base_time, times[0])
            outputs = 1 + len(STATE[name])
            temps = (temporaries(lambda: pla(w, dw, config), outputs, w.nbytes),
                     temporaries(lambda: lib(w, dw, config), outputs, w.nbytes))
            bound = PASSES[name] / 3
            floor = bound + (arith if name in ROOT_AND_DIVIDE else 0.0)
            plain_x, lib_x = times[1] / times[0], times[2] / times[0]
            worst = max(worst, lib_x / floor)
            print(f"{name:<18} {f'1e{round(np.log10(n))}':>6} {PASSES[name]:>6} {bound:>6.2f} "
                  f"{floor:>6.2f} {plain_x:>6.2f}x {lib_x:>7.2f}x {lib_x / bound:>9.2f} "
                  f"{lib_x / floor:>9.2f} {temps[0]:>8.1f} / {temps[1]:<5.1f}")
        print(f"{'(base w - lr*dw)':<18} {f'1e{round(np.log10(n))}':>6} {3:>6} {1:>6.2f} "
              f"{base_time * 1e3:>9.3f} ms, {3 * w.nbytes / base_time / 1e9:.1f} GB/s")
    print(f"worst library / floor: {worst:.2f} (target <= 3)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
