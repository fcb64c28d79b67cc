"""Which code runs during a graded call: the student's functions and the course's.

``summarize`` keeps what the grader judges of the code that ran: the
student's code (by the one rule, ``assignments.cases.is_student_code``:
cells, and modules or code compiled by the student; where it is, for the
no-loop rule) and code of the ``assignments`` package (which reference
functions ran, for the no-delegation rule).  A summary cut short (more code
than it keeps) is not believed.  Two recorders feed it:

* ``recorders`` (the sandbox): ``sys.settrace`` functions that write one
  record per code object the first time it is entered, straight into the
  audit pipe only the broker reads; the broker makes the summary.  They keep
  nothing the student could edit afterwards (what is written is written),
  and are reachable only through the interpreter (``sys.gettrace`` is
  removed from the kernel), frames, ``gc`` or ``ctypes``.
* ``CodeTrace`` (in-process, ``autograder.judging``): the code objects
  entered while it is active.

Both trace Python calls only (no line events).
"""

from __future__ import annotations

import os
import sys

MAX_ENTRIES = 400
MAX_RECORD = 500   # characters of a file name or function name in a record


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


def assignments_dir() -> str:
    import assignments

    return os.path.join(os.path.dirname(os.path.abspath(assignments.__file__)), "")


def course_function(filename: str, name: str, root: str) -> str | None:
    """'assignments.layers:affine_forward' for code of the assignments package, else None."""
    filename = os.path.abspath(filename)
    if not filename.startswith(root):
        return None
    rel = os.path.splitext(filename[len(root):])[0].replace(os.sep, ".")
    module = "assignments" if rel == "__init__" else "assignments." + rel.removesuffix(".__init__")
    return f"{module}:{name}"


def _entry(code) -> tuple:
    return code.co_filename, code.co_firstlineno, getattr(code, "co_qualname", code.co_name)


def summarize(entries, is_student, intact=True) -> dict:
    """{"student": [[filename, first line, name], ...], "course": [...], "intact": bool}.

    ``entries``: (filename, first line, qualified name) of code that ran;
    ``is_student(filename)`` says whether code is the student's.
    """
    root = assignments_dir()
    student, course = set(), set()
    for filename, line, name in entries:
        ref = course_function(filename, name, root)
        if ref is not None:
            course.add(ref)
        elif is_student(filename):
            student.add((filename, line, name))
    # a summary cut short is not believed: forged records could push the real ones out
    intact = intact and len(student) <= MAX_ENTRIES and len(course) <= MAX_ENTRIES
    return {"student": [list(s) for s in sorted(student)][:MAX_ENTRIES],
            "course": sorted(course)[:MAX_ENTRIES], "intact": intact}


def summary(trace: CodeTrace, is_student) -> dict:
    """``summarize`` of what a ``CodeTrace`` recorded."""
    return summarize([_entry(c) for c in trace.codes], is_student, trace.intact)


CODE_RECORD = "code"   # the record's first field, among the audit pipe's events


def recorders(fd: int, course: tuple, library: tuple, identity: tuple, broken: int):
    """A function making ``sys.settrace`` functions (a fresh one for each graded call) that
    write ``code<TAB>file<TAB>line<TAB>name`` records to ``fd``, once per code object, when it
    is first entered, for the code of the course (files starting with one of ``course``) and
    any code that is not library code (files not starting with one of ``library``): the
    broker then keeps the student's by the one rule (``sandbox.kernel.is_student_file``).

    ``identity``: (st_dev, st_ino) of the pipe ``fd`` must be; if it is not (closed, or
    replaced by another file), the process exits with status ``broken``: nothing it runs
    goes unrecorded.  The trace functions allocate no object the garbage collector tracks (a
    collection, and the finalizers it runs, would happen inside them, untraced), and
    everything they call is bound here, before any cell runs: a cell rebinding ``os.write``
    or a builtin later changes nothing.
    """
    write, fstat, exit_, encode, str_, set_ = os.write, os.fstat, os._exit, str.encode, str, set
    dev, ino, cap, error = identity[0], identity[1], MAX_RECORD, OSError
    head, tab, newline = "\n" + CODE_RECORD + "\t", "\t", "\n"

    def make():
        seen = set_()
        add = seen.add

        def _trace(frame, event, arg):
            code = frame.f_code
            if code in seen:
                return None
            add(code)
            filename = code.co_filename
            if filename.startswith(course) or not filename.startswith(library):
                record = (head + filename[:cap].replace(newline, " ").replace(tab, " ") + tab
                          + str_(code.co_firstlineno) + tab
                          + code.co_qualname[:cap].replace(newline, " ").replace(tab, " ")
                          + newline)
                try:
                    st = fstat(fd)
                    if st.st_ino != ino or st.st_dev != dev:
                        exit_(broken)
                    write(fd, encode(record, "utf-8", "replace"))
                except error:
                    exit_(broken)
            return None
        return _trace
    return make


def parse_record(fields: list) -> tuple | None:
    """(filename, line, name) of a ``code`` record's fields after the first, else None."""
    if len(fields) != 3 or not fields[1].isdigit():
        return None
    return fields[0], int(fields[1]), fields[2]

