"""Timing helpers: a best-of-n timer and a table of speed-ups."""

from __future__ import annotations

import time

__all__ = ["best_time", "best_of_interleaved", "timing_table"]


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


def best_of_interleaved(fns, repeat=5, clock=time.perf_counter):
    """Best time of each function, calling them in turn ``repeat`` times.

    Alternating the contenders keeps a burst of load from other processes
    from favouring one side of a comparison.  ``clock`` is wall-clock time by
    default; ``time.process_time`` measures the CPU time of this process
    instead, which other processes on a busy machine do not inflate (only
    meaningful when every contender runs on one thread).  Returns seconds.
    """
    best = [float("inf")] * len(fns)
    for _ in range(max(1, repeat)):
        for i, fn in enumerate(fns):
            start = clock()
            fn()
            best[i] = min(best[i], clock() - start)
    return best


def timing_table(times: dict) -> str:
    """Format {name: seconds} with the speed-up relative to the slowest entry."""
    slowest = max(times.values())
    lines = [f"{'implementation':<14} {'seconds':>9} {'speed-up':>9}"]
    for name, t in times.items():
        lines.append(f"{name:<14} {t:9.4f} {slowest / t:8.1f}x")
    return "\n".join(lines)
