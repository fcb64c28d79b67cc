"""One BLAS thread per process: the one home of the setting.

Grading runs many processes side by side (workers, sandboxes, nbgrader), so
each gets one BLAS thread; it must be set before numpy is first imported.
Used by the ``course`` command, the sandbox's environment, nbgrader's
environment and the test suite.  This module imports nothing heavy.
"""

from __future__ import annotations

import os

ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def use_one_thread(env=None) -> None:
    """Set one BLAS thread in ``env`` (default: this process) unless already chosen."""
    env = os.environ if env is None else env
    for name, value in ONE_THREAD.items():
        env.setdefault(name, value)
