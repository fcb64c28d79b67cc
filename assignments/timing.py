"""Timing helpers: a context manager and a best-of-n timer."""

from __future__ import annotations

import time

__all__ = ["Timer", "best_time"]


class Timer:
    """``with Timer("two loops") as t: ...`` then ``t.seconds``; prints if ``verbose``."""

    def __init__(self, label="", verbose=True):
        self.label = label
        self.verbose = verbose
        self.seconds = float("nan")

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        if self.verbose and exc[0] is None:
            print(f"{self.label or 'elapsed'}: {self.seconds:.4f} s")
        return False


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
