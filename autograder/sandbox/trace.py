"""Which code runs during a graded call: the student's functions and the course's.

``CodeTrace`` records every Python code object entered while it is active
(``sys.settrace`` without line events: one set insertion per Python call).  ``summary`` keeps what
the grader judges: code of the student's cells (where it is, for the
no-loop rule) and code of the ``assignments`` package (which reference
functions ran, for the no-delegation rule).  The same recorder runs in the
sandbox's kernel and in-process (``autograder.judging``).
"""

from __future__ import annotations

import os
import sys

MAX_ENTRIES = 400


class CodeTrace:
    """``with CodeTrace() as t: ...`` then ``t.codes``: the code objects entered."""

    def __init__(self):
        self.codes = set()
        self.intact = True
        self._previous = None

    def _trace(self, frame, event, arg):
        self.codes.add(frame.f_code)  # called for Python calls only; no line tracing

    def __enter__(self):
        self._previous = sys.gettrace()
        sys.settrace(self._trace)
        return self

    def __exit__(self, *exc):
        # the call may have replaced or removed the tracer: what it hid is unknown
        current = sys.gettrace()
        self.intact = getattr(current, "__self__", None) is self
        sys.settrace(self._previous)
        return False


def _assignments_dir() -> str:
    import assignments

    return os.path.join(os.path.dirname(os.path.abspath(assignments.__file__)), "")


def course_function(code, root: str) -> str | None:
    """'assignments.layers:affine_forward' for code of the assignments package, else None."""
    filename = os.path.abspath(code.co_filename)
    if not filename.startswith(root):
        return None
    rel = os.path.splitext(filename[len(root):])[0].replace(os.sep, ".")
    module = "assignments" if rel == "__init__" else "assignments." + rel.removesuffix(".__init__")
    return f"{module}:{getattr(code, 'co_qualname', code.co_name)}"


def summary(trace: CodeTrace, is_student) -> dict:
    """{"student": [[filename, first line, name], ...], "course": [...], "intact": bool}.

    ``is_student(filename)`` says whether a code object is the student's.
    """
    root = _assignments_dir()
    student, course = set(), set()
    for code in trace.codes:
        ref = course_function(code, root)
        if ref is not None:
            course.add(ref)
        elif is_student(code.co_filename):
            student.add((code.co_filename, code.co_firstlineno,
                         getattr(code, "co_qualname", code.co_name)))
    return {"student": [list(s) for s in sorted(student)][:MAX_ENTRIES],
            "course": sorted(course)[:MAX_ENTRIES], "intact": trace.intact}

