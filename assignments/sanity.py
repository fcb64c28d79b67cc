"""The sanity-check ritual's verdicts: print the number, and stop with a message if it is off.

Every model notebook checks, before training, that the initial loss has the value chance
predicts (about ln C for softmax, C - 1 for the SVM) and, before long runs, that the model
can memorise a tiny training set.  These helpers print what they compare and raise
``CheckFailed`` with an explanation instead of a bare ``AssertionError``:

    check_value(loss, np.log(C), "softmax loss with small random weights", rel_tol=0.01)
    check_memorised(train_acc, "50 training images")
"""

from __future__ import annotations

import math

from .cases import CheckFailed

__all__ = ["check_value", "check_memorised"]


def check_value(value, expected, what, rel_tol, hint=""):
    """Print ``what: value (expected about expected)``; raise unless they agree within rel_tol.

    ``hint`` is added to the message when they do not (say what usually causes it).
    """
    __tracebackhide__ = True
    value = float(value)
    print(f"{what}: {value:.6g}   expected about {expected:.6g}")
    if not (math.isfinite(value) and abs(value - expected) <= rel_tol * abs(expected)):
        within = f"{100 * rel_tol:g} %" if rel_tol >= 1e-3 else f"a relative {rel_tol:.0e}"
        raise CheckFailed(f"{what} is {value:.6g}, but it should lie within {within} of "
                          f"{expected:.6g}" + (f"; {hint}" if hint else "")) from None


def check_memorised(accuracy, what):
    """Raise unless the training accuracy on a tiny set reached 100 %."""
    __tracebackhide__ = True
    accuracy = float(accuracy)
    if accuracy < 1.0:
        raise CheckFailed(f"the model reached only {accuracy:.1%} training accuracy on {what}; "
                          "a correct model with a sensible learning rate memorises them all "
                          "(look for a bug in the loss, the gradient or the update, or raise "
                          "the learning rate or the number of steps)") from None
    print(f"ok: {what} memorised (training accuracy 100 %)")
