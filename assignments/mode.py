"""Quick mode and full mode: which one a notebook runs in, how to switch, and
which of the text's claims a run shows.

Every notebook has two sizes.  **Full mode** trains on whole datasets for as
many epochs as the text discusses; its numbers are the ones the prose quotes.
**Quick mode** uses small subsets and few epochs, so a notebook runs in well
under a minute; the grader runs every submission in quick mode.

The mode is read from the environment each time ``budget`` is called:

* while nbgrader or the course's grader executes a notebook (they set
  ``NBGRADER_EXECUTION``) it is always quick mode, whatever else is set, so a
  submitted notebook cannot make its own grading slow;
* otherwise ``COURSE_QUICK=1`` (or true / yes / on) selects quick mode, and
  anything else full mode: a student's "Run all" in JupyterLab is full mode
  unless Jupyter was started with ``COURSE_QUICK=1`` or the notebook sets it
  (``%env COURSE_QUICK=1``).  ``course solutions`` sets ``COURSE_QUICK=1``,
  ``course solutions --full`` sets ``COURSE_QUICK=0``.

``show_mode`` prints this for the reader in each notebook's first code cell.
``claim`` prints, next to a result, whether the run shows what the text says
about it, and records the verdict in the output's metadata (under
``CLAIM_KEY``), where ``tests/test_notebooks.py`` reads it.
"""

from __future__ import annotations

import os

__all__ = ["is_quick", "budget", "mode_reason", "show_mode", "claim", "CLAIM_KEY"]

CLAIM_KEY = "course_claim"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def mode_reason() -> tuple[bool, str]:
    """(quick?, why): the mode in effect and the environment setting that chose it."""
    if os.environ.get("NBGRADER_EXECUTION"):
        return True, "the grader is running this notebook: graded runs are always quick"
    forced = os.environ.get("COURSE_QUICK", "").strip()
    if forced.lower() in _TRUE:
        return True, f"COURSE_QUICK={forced} is set"
    if forced.lower() in _FALSE:
        return False, f"COURSE_QUICK={forced} is set"
    if forced:
        return False, f"COURSE_QUICK={forced} is neither 1 nor 0, so the default"
    return False, "the default: COURSE_QUICK is not set"


def is_quick() -> bool:
    """True when notebooks should use their small (quick-mode) settings."""
    return mode_reason()[0]


def budget(quick, full):
    """Return ``quick`` in quick mode and ``full`` otherwise.

    Example: ``num_train = budget(quick=1000, full=5000)``.
    """
    return quick if is_quick() else full


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"about {seconds:.0f} s"
    return f"about {seconds / 60:.0f} min"


def show_mode(quick_seconds: float, full_minutes: float) -> None:
    """Print the mode this run uses, why, how long each mode takes and how to switch.

    ``quick_seconds`` and ``full_minutes`` are the notebook's running times
    ("Run all") on a laptop-class CPU: the wall-clock seconds that
    ``OPENBLAS_NUM_THREADS=1 course solutions [--full] ASSIGNMENT`` prints on
    the course's 2-core machine.  The quick times were measured with the
    machine nearly idle; the full times while other jobs shared it (load 4 to
    9), so a laptop to itself is no slower.
    """
    quick, why = mode_reason()
    full_time, quick_time = _duration(60 * full_minutes), _duration(quick_seconds)
    print(f"This run is in {'QUICK' if quick else 'FULL'} mode ({why}).")
    print(f"  full mode:  the sizes the text discusses and quotes; {full_time} "
          f"on a 2-core laptop-class CPU")
    print(f"  quick mode: small subsets and few epochs, as when graded; {quick_time}")
    if not quick:
        print("To run in quick mode: uncomment  %env COURSE_QUICK=1  at the top of this cell "
              "and run all cells again (or start Jupyter with  COURSE_QUICK=1 jupyter lab).")
    elif not os.environ.get("NBGRADER_EXECUTION"):
        print("To run in full mode: comment out  %env COURSE_QUICK=1  at the top of this cell "
              "(and start Jupyter without COURSE_QUICK), then restart the kernel and run all "
              "cells.")


def claim(statement: str, holds, full_only: bool = False) -> bool:
    """Print whether this run shows what the text says; returns ``holds`` as a bool.

    ``statement`` says what the text claims, with the numbers of this run that
    decide it; ``holds`` is whether they agree.  ``full_only`` marks a claim
    about full mode that a quick run is too small to show: in quick mode a
    failure then prints that the text describes full mode, instead of a
    contradiction.  The verdict also goes into the output's metadata.
    """
    holds = bool(holds)
    quick = is_quick()
    if holds:
        line = f"as the text says: {statement}"
    elif quick and full_only:
        line = (f"quick mode: this short run does not show what the text says about full "
                f"mode ({statement}); run in full mode (COURSE_QUICK=0) to see it")
    else:
        line = f"NOT as the text says: {statement}"
    record = {"statement": statement, "holds": holds, "full_only": full_only, "quick": quick}
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: no metadata to carry
        print(line)
    else:
        if get_ipython() is None:
            print(line)
        else:
            display({"text/plain": line}, raw=True, metadata={CLAIM_KEY: record})
    return holds
