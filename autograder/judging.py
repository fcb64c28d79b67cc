"""Judging: the trusted decision on every task, wherever the student's code ran.

One judge per level: ``assignments.cases.judge`` decides one case from one
attempt; ``judge_task`` decides a task from its attempts and its rules
(``autograder.rules``); the attempts come from the sandbox
(``judge_outcome``, for `course grade`) or from this process
(``evaluate_in_process``: stock nbgrader's hidden-test cells and the mutant
runner), so the same rules and messages hold everywhere.

Nothing the sandbox reports is believed but values: an attempt's kind must
be one of ``ATTEMPT_KINDS`` (anything else is rejected and reported as
forged), a pass only comes from comparing a returned value here, and
whether an argument was changed in place is decided here from the
arguments as the call left them.  Messages for hidden cases are built from
trusted data only (the task, the case's label, the comparison's value-free
finding): no text, exception name, line number or value the sandbox sent.
Visible cases keep the full message, with the student's frames.
"""

from __future__ import annotations

import inspect
import linecache
import os
from dataclasses import dataclass, field

from assignments.cases import (ATTEMPT_KINDS, Attempt, attempt_case, failure_message, judge,
                               is_student_code, mutated_argument)

from .rules import rule_failure
from .sandbox import trace
from .sandbox.kernel import BLOCKS_NAME, CELL_PREFIX

__all__ = ["TaskVerdict", "judge_task", "judge_outcome", "attempts_in_process",
           "evaluate_in_process", "passed_message", "needs_trace", "Sources", "merge",
           "crash_note", "hidden_message"]

GRADER_DIR = os.path.dirname(os.path.abspath(__file__))


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


def judge_task(task, cases, attempts, answer_source: str | None = None, ran=None,
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
    """The one rule (``assignments.cases.is_student_code``), the grader's own code counted
    as library."""
    return is_student_code(filename, (GRADER_DIR,))


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
    return judge_task(task, cases, attempts, answer_source, ran,
                      lambda f: "".join(linecache.getlines(f)) or None)


# --------------------------------------------------------------------------
# the sandbox's outcomes
# --------------------------------------------------------------------------

def cell_label(filename: str) -> str | None:
    if filename.startswith(CELL_PREFIX) and filename.endswith(">"):
        return filename[len(CELL_PREFIX):-1]
    return None


class Sources:
    """The submitted code of each step, by the label the sandbox compiled it under."""

    def __init__(self, steps, blocks: str = ""):
        self.steps = steps
        self.by_label = {s.label: s.source for s in steps if s.kind == "cell"}
        self.blocks = blocks   # the building blocks the task's calls were given (trusted text)

    def for_task(self, label: str) -> "Sources":
        """These sources, with the building blocks the probes of task ``label`` were given
        (the sandbox compiled them as ``BLOCKS_NAME``): the grader reads them from its own
        copy, never from the sandbox."""
        texts = {s.blocks for s in self.steps if s.kind == "probe" and s.label == label}
        return Sources(self.steps, texts.pop() if len(texts) == 1 else "")

    def __call__(self, filename: str) -> str | None:
        if filename == BLOCKS_NAME:
            return self.blocks or None
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


# what a hidden case says for each kind of failure: built from trusted data only (the task,
# the case's label, the trusted comparison's value-free finding), never from anything the
# sandbox sent (text, exception names, line numbers, values)
HIDDEN_KIND_TEXT = {
    "raised": "your code raised an exception (run the visible checks, and try inputs of other "
              "sizes and values)",
    "not-defined": "the name is not defined when the checks run",
    "not-callable": "the name is not a function",
    "mutated-input": "the function changed one of its arguments in place; compute on a copy "
                     "(or a new array) instead",
    "rejected": "the result could not be checked",
}


def hidden_message(task, case, verdict) -> str:
    """A hidden case's message: the task, the case's label and a value-free finding."""
    head = f"{task.target}, hidden case '{case.label}'"
    if verdict.kind == "wrong":
        text = verdict.public or "the result is wrong"
        if verdict.close and getattr(task, "near_miss", ""):
            text += f" (only slightly: {task.near_miss})"
        elif verdict.close:
            text += " (only slightly: usually one detail of the formula)"
        return f"{head}: {text}"
    return f"{head}: {HIDDEN_KIND_TEXT.get(verdict.kind, 'the result could not be checked')}"


def describe(task, sources: Sources):
    def message(case, verdict, attempt):
        if case.hidden:
            return hidden_message(task, case, verdict)
        text = failure_message(task.target, case, verdict)
        frames = getattr(attempt, "frames", [])
        return text + (f" [{frames_text(frames, sources)}]" if frames else "")
    return message


def attempts_from(cases, outcome) -> tuple[list, list]:
    """The sandbox's answers as ``Attempt``s, believing only values; and what was forged.

    A kind outside ``ATTEMPT_KINDS`` becomes "rejected" (and is reported);
    for a returned value the grader decides itself whether an argument was
    changed in place, from the arguments as the call left them; the
    sandbox's own word on that is ignored.
    """
    attempts, forged = [], []
    for i, (case, r, data) in enumerate(zip(cases, outcome.results, outcome.outputs)):
        kind = r["kind"]
        if kind in ("returned", "mutated-input"):
            if not (isinstance(data, dict) and set(data) == {"output", "args", "kwargs"}
                    and isinstance(data["args"], (tuple, list))
                    and isinstance(data["kwargs"], dict)):
                forged.append(f"case {i + 1}: a returned value without its arguments")
                attempt = Attempt("rejected", "the result could not be checked")
            else:
                which = mutated_argument((tuple(case.args), dict(case.kwargs)),
                                         tuple(data["args"]), data["kwargs"])
                attempt = Attempt("mutated-input" if which else "returned", which or "",
                                  data["output"])
        elif kind in ATTEMPT_KINDS:
            attempt = Attempt(kind, r["detail"], exception=r["exception"])
        else:
            forged.append(f"case {i + 1}: unknown outcome {kind[:40]!r}")
            attempt = Attempt("rejected", "the result could not be checked")
        attempt.frames = r.get("frames", [])
        attempts.append(attempt)
    return attempts, forged


def judge_outcome(task, cases, outcome, answer_source, sources: Sources) -> TaskVerdict:
    """Decide a task from the sandbox's outcome of its probes, in the trusted process."""
    if outcome is None or outcome.status == "skipped":
        return TaskVerdict(False, "not-run", outcome.error if outcome else "not run")
    hidden = outcome.hidden   # the failing step ran hidden cases
    if outcome.status == "timeout":
        which = "hidden checks" if hidden else "checks"
        return TaskVerdict(False, "timeout", f"the {which} of {task.target} did not finish in "
                           "time (an infinite loop, or far too slow?)")
    if outcome.status == "crashed":
        why = "" if hidden else f": {outcome.error}"
        which = "its hidden cases ran" if hidden else "it was checked"
        return TaskVerdict(False, "crashed", f"your notebook's process died while "
                           f"{task.target} was checked ({which}){why}")
    attempts, forged = attempts_from(cases, outcome)
    verdict = judge_task(task, cases, attempts, answer_source, outcome.ran, sources,
                         describe(task, sources))
    verdict.forged = forged
    return verdict


def merge(outcomes, hidden=()):
    """One outcome for a task probed in several steps (visible, then hidden cases).

    ``hidden[i]`` says whether step i ran hidden cases; a failing step's
    outcome is returned with ``hidden`` set accordingly.
    """
    from dataclasses import replace

    from .replay import Outcome

    hidden = list(hidden) + [False] * (len(outcomes) - len(hidden))
    present = [(o, h) for o, h in zip(outcomes, hidden) if o is not None]
    for o, h in present:
        if o.status != "ok":
            return replace(o, hidden=h)
    present = [o for o, _ in present]
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
