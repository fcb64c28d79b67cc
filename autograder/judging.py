"""Judging a task: the trusted decision, from attempts made wherever the code ran.

The sandboxed worker (``course grade``), the student's own kernel (stock
nbgrader's hidden-test cells) and the mutant runner all produce one
``assignments.cases.Attempt`` per case; ``task_verdict`` turns them into the
task's verdict with the same rule and the same messages everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from assignments.cases import Attempt, attempt_case, failure_message, judge

from . import tasks as _tasks

__all__ = ["TaskVerdict", "task_verdict", "attempts_in_process", "evaluate_in_process",
           "passed_message"]


@dataclass
class TaskVerdict:
    passed: bool
    kind: str          # "passed", "static", or the failing case's kind (see assignments.cases)
    message: str


def passed_message(cases) -> str:
    visible = sum(not c.hidden for c in cases)
    return f"passed {len(cases)} checks ({visible} visible, {len(cases) - visible} hidden)"


def task_verdict(task, cases, attempts, source: str | None = None) -> TaskVerdict:
    """The verdict on a task: its static rule on ``source``, then every case in order.

    ``attempts`` holds one ``Attempt`` per case (it may be shorter when the
    caller stopped at the first failure; a missing attempt fails).
    """
    if source is not None:
        static = _tasks.static_failure(task, source)
        if static:
            return TaskVerdict(False, "static", static)
    for i, case in enumerate(cases):
        if i >= len(attempts):
            return TaskVerdict(False, "not-run", f"{task.target}: case '{case.label}' was not run")
        verdict = judge(attempts[i], case)
        if not verdict.passed:
            return TaskVerdict(False, verdict.kind, failure_message(task.target, case, verdict))
    return TaskVerdict(True, "passed", passed_message(cases))


def attempts_in_process(task, namespace: dict, cases) -> list[Attempt]:
    """Attempts of every case in this process, stopping after the first failure."""
    out = []
    for case in cases:
        attempt = attempt_case(case, namespace, task.target)
        out.append(attempt)
        if attempt.kind != "returned" or not judge(attempt, case).passed:
            break
    return out


def evaluate_in_process(task, namespace: dict, cases) -> TaskVerdict:
    """Static rule (on the live function's source) and cases, in this process."""
    static = (_tasks.static_failure_of(task, namespace[task.target])
              if task.target in namespace else None)
    if static:
        return TaskVerdict(False, "static", static)
    return task_verdict(task, cases, attempts_in_process(task, namespace, cases))
