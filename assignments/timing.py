"""Timing helpers: a best-of-n timer, interleaved timings, a table of speed-ups, the
name of the BLAS kernel that ran them, and a progress bar for long experiment loops."""

from __future__ import annotations

import time

__all__ = ["best_time", "best_times_interleaved", "timing_table", "blas_core", "progress"]


def progress(iterable, desc):
    """``iterable`` behind a progress bar with the elapsed time and an estimate of the rest.

    For a notebook cell that trains one network per variant and takes minutes in
    full mode.  Like the ``Solver``'s own bar it disappears when the loop ends.
    """
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, leave=False)


def best_time(fn, *args, repeat=3, **kwargs):
    """Smallest wall-clock time of ``repeat`` calls (the least noisy estimate).

    Returns ``(seconds, result_of_last_call)``.
    """
    best, result = float("inf"), None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, result


def best_times_interleaved(fns: dict, repeat=5, clock=time.perf_counter) -> dict:
    """Best time of each ``{name: fn}`` (called without arguments), running them in turn
    ``repeat`` times, so a burst of load from other processes cannot favour one side of a
    comparison.  ``clock`` is wall-clock by default; ``time.process_time`` measures CPU
    time instead (steadier on a busy machine when every library runs one thread).
    Returns ``{name: seconds}``."""
    best = {name: float("inf") for name in fns}
    for _ in range(max(1, repeat)):
        for name, fn in fns.items():
            start = clock()
            fn()
            best[name] = min(best[name], clock() - start)
    return best


def timing_table(times: dict) -> str:
    """Format {name: seconds} with the speed-up relative to the slowest entry."""
    slowest = max(times.values())
    lines = [f"{'implementation':<14} {'seconds':>9} {'speed-up':>9}"]
    for name, t in times.items():
        lines.append(f"{name:<14} {t:9.4f} {slowest / t:8.1f}x")
    return "\n".join(lines)


def blas_core() -> str:
    """The kernel OpenBLAS runs in this process (e.g. "SkylakeX", "Haswell"; it can be
    forced with the environment variable OPENBLAS_CORETYPE before numpy loads), or
    "unknown" when numpy is not linked to an OpenBLAS that can say."""
    import ctypes
    import glob
    import os

    import numpy as np

    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(libs, "*openblas*")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_get_corename64_", "openblas_get_corename64_",
                     "openblas_get_corename"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return "unknown"
