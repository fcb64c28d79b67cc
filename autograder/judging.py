"""Judging a task: the trusted decision, from attempts made wherever the code ran.

The sandbox (``course grade``), the student's own kernel (stock nbgrader's
hidden-test cells) and the mutant runner all produce one
``assignments.cases.Attempt`` per case and a report of the code that ran;
``task_verdict`` turns them into the task's verdict with the same rules
(``autograder.rules``) and the same messages everywhere.
"""

from __future__ import annotations

import inspect
import linecache
import os
from dataclasses import dataclass, field

from assignments.cases import Attempt, attempt_case, failure_message, judge

from .rules import rule_failure
from .sandbox import trace

__all__ = ["TaskVerdict", "task_verdict", "attempts_in_process", "evaluate_in_process",
           "passed_message", "needs_trace"]


@dataclass
class TaskVerdict:
    passed: bool
    kind: str          # "passed", "static", "delegated", or the failing case's kind
    message: str
    forged: list = field(default_factory=list)   # what the sandbox reported that cannot be


def passed_message(cases) -> str:
    visible = sum(not c.hidden for c in cases)
    return f"passed {len(cases)} checks ({visible} visible, {len(cases) - visible} hidden)"


def needs_trace(task) -> bool:
    return bool(task.vectorized or getattr(task, "own", ()))


def task_verdict(task, cases, attempts, answer_source: str | None = None, ran=None,
                 source_of=lambda filename: None, describe=None) -> TaskVerdict:
    """The verdict on a task: its rules, then every case in order.

    ``attempts`` holds one ``Attempt`` per case (it may be shorter when the
    caller stopped at the first failure; a missing attempt fails).
    ``describe(case, verdict)`` may replace ``failure_message`` (the grader
    words hidden cases its own way).
    """
    broken = rule_failure(task, ran, answer_source, source_of)
    if broken:
        return TaskVerdict(False, *broken)
    for i, case in enumerate(cases):
        if i >= len(attempts):
            return TaskVerdict(False, "not-run", f"{task.target}: case '{case.label}' was not run")
        verdict = judge(attempts[i], case)
        if not verdict.passed:
            message = (describe or _default_describe(task))(case, verdict, attempts[i])
            return TaskVerdict(False, verdict.kind, message)
    return TaskVerdict(True, "passed", passed_message(cases))


def _default_describe(task):
    return lambda case, verdict, attempt: failure_message(task.target, case, verdict)


def _student_file(filename: str) -> bool:
    """Code of the student's cells: answers run by the grader (``<answer ...>``), IPython's
    cells (``<ipython-input-...>``, ipykernel's ``.../ipykernel_N/...``), the sandbox's."""
    if filename.startswith("<"):
        return not filename.startswith("<frozen") and filename != "<string>"
    return os.path.basename(os.path.dirname(filename)).startswith("ipykernel_")


def attempts_in_process(task, namespace: dict, cases, tracer=None) -> list[Attempt]:
    """Attempts of every case in this process, stopping after the first failure."""
    out = []
    for case in cases:
        if tracer is not None:
            with tracer:
                attempt = attempt_case(case, namespace, task.target)
        else:
            attempt = attempt_case(case, namespace, task.target)
        out.append(attempt)
        if attempt.kind != "returned" or not judge(attempt, case).passed:
            break
    return out


def _live_source(fn) -> str | None:
    """The source of the cell or file that defines a student's function (None otherwise)."""
    code = getattr(fn, "__code__", None) or getattr(getattr(fn, "__init__", None), "__code__",
                                                      None)
    if code is None or not _student_file(code.co_filename):
        return None
    return "".join(linecache.getlines(code.co_filename)) or None


def evaluate_in_process(task, namespace: dict, cases) -> TaskVerdict:
    """Rules (on the live code and what ran) and cases, in this process."""
    fn = namespace.get(task.target)
    tracer = trace.CodeTrace() if needs_trace(task) else None
    attempts = attempts_in_process(task, namespace, cases, tracer)
    answer_source = None
    if task.vectorized and fn is not None:
        try:
            answer_source = inspect.getsource(fn)
        except (OSError, TypeError):
            answer_source = ""
    elif getattr(task, "own", ()) and fn is not None:
        answer_source = _live_source(fn)
    ran = trace.summary(tracer, _student_file) if tracer is not None else None
    return task_verdict(task, cases, attempts, answer_source, ran,
                        lambda f: "".join(linecache.getlines(f)) or None)
