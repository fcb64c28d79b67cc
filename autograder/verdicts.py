"""From the sandbox's outcomes to each task's verdict and message (trusted).

Messages for hidden cases carry nothing the student's code chose while it
held hidden inputs: no output values, no exception text, no traceback text
from the sandbox; only the exception's type and the line of the student's
own cell where it happened, read from the grader's copy of the submission.
Visible cases keep the full message, with the student's frames.
"""

from __future__ import annotations

import re

from assignments.cases import Attempt, failure_message

from .judging import TaskVerdict, task_verdict
from .sandbox.kernel import CELL_PREFIX

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,79}$")


def cell_label(filename: str) -> str | None:
    if filename.startswith(CELL_PREFIX) and filename.endswith(">"):
        return filename[len(CELL_PREFIX):-1]
    return None


class Sources:
    """The submitted code of each step, by the label the sandbox compiled it under."""

    def __init__(self, steps):
        self.by_label = {s.label: s.source for s in steps if s.kind == "cell"}

    def __call__(self, filename: str) -> str | None:
        label = cell_label(filename)
        return self.by_label.get(label) if label is not None else None

    def line(self, frame) -> str:
        filename, lineno, _ = frame
        text = self(filename)
        lines = text.splitlines() if text else []
        code = lines[lineno - 1].strip()[:120] if 0 < lineno <= len(lines) else ""
        where = cell_label(filename) or "?"
        return f"cell {where}, line {lineno}" + (f": {code}" if code else "")


def frames_text(frames, sources: Sources) -> str:
    """The student's own frames, innermost last, as the grader's copy shows them."""
    return " <- ".join(sources.line(f) for f in reversed(frames[-3:])) if frames else ""


def describe(task, sources: Sources, results):
    def message(case, verdict, attempt):
        if not case.hidden:
            text = failure_message(task.target, case, verdict)
            frames = attempt.raw.get("frames", [])
            return text + (f" [{frames_text(frames, sources)}]" if frames else "")
        head = f"{task.target}, hidden case '{case.label}'"
        if verdict.kind == "raised":
            name = attempt.exception if _NAME.match(attempt.exception or "") else "an exception"
            where = frames_text(attempt.raw.get("frames", [])[-1:], sources)
            return f"{head}: your code raised {name}" + (f" ({where})" if where else "")
        if verdict.kind == "wrong":
            return f"{head}: {hidden_detail(verdict.detail)}"
        return failure_message(task.target, case, verdict)
    return message


_VALUE = re.compile(r"your value .*? is wrong|got [^;,()]*|\(your value [^)]*\)")


def hidden_detail(detail: str) -> str:
    """A hidden case's comparison message without the student's own values."""
    return _VALUE.sub("your value is wrong", detail)


class _Raw(Attempt):
    raw: dict = None


def judge_task(task, cases, outcome, answer_source, sources: Sources) -> TaskVerdict:
    """Decide a task from the sandbox's outcome of its probes, in the trusted process."""
    if outcome is None or outcome.status == "skipped":
        return TaskVerdict(False, "not-run", outcome.error if outcome else "not run")
    if outcome.status == "timeout":
        return TaskVerdict(False, "timeout", f"the checks of {task.target} did not finish: "
                           f"{outcome.error} (an infinite loop, or far too slow?)")
    if outcome.status == "crashed":
        return TaskVerdict(False, "crashed", f"your notebook's process died while {task.target} "
                           f"was checked: {outcome.error}")
    attempts = []
    for r, out in zip(outcome.results, outcome.outputs):
        a = _Raw(r["kind"], r["detail"], out, exception=r["exception"])
        a.raw = r
        attempts.append(a)
    return task_verdict(task, cases, attempts, answer_source, outcome.ran, sources,
                        describe(task, sources, outcome.results))


def merge(outcomes):
    """One outcome for a task probed in several steps (visible, then hidden cases)."""
    from .replay import Outcome

    present = [o for o in outcomes if o is not None]
    for o in present:
        if o.status != "ok":
            return o
    if not present:
        return None
    ran = [o.ran for o in present if o.ran is not None]
    merged_ran = {"student": [s for r in ran for s in r["student"]],
                  "course": [c for r in ran for c in r["course"]],
                  "intact": all(r["intact"] for r in ran)} if ran else None
    return Outcome("ok", results=[r for o in present for r in o.results],
                   outputs=[x for o in present for x in o.outputs], ran=merged_ran,
                   seconds=sum(o.seconds for o in present))


def crash_note(steps, outcomes, target) -> str:
    """Why a name may be missing: the cell meant to define it crashed or hung."""
    for step, outcome in zip(steps, outcomes):
        if step.kind == "cell" and outcome is not None and \
                outcome.status in ("crashed", "timeout") and \
                (f"def {target}" in step.source or f"class {target}" in step.source):
            what = "crashed" if outcome.status == "crashed" else "timed out"
            return f" (the cell defining it {what}: {outcome.error})"
    return ""
