"""Plausible bugs ("mutants") and which test cell catches each.

Every graded function has a catalogue of mutants in its task module.  A
mutant is killed when the test cell written for that function fails and
every other test cell still passes.  ``course mutants`` prints the table;
the test suite asserts it.
"""

from __future__ import annotations

from dataclasses import dataclass

from assignments.blocks import building_blocks

from . import tasks as _tasks
from .course import source_notebooks
from .judging import evaluate_in_process
from .notebooks import (answer_sources, blocks_text, exec_answers, read, reference_namespace,
                        replace_once)


def reference_sources(assignment: str) -> dict:
    sources = {}
    for path in source_notebooks(assignment):
        sources.update(answer_sources(read(path)))
    return sources


def apply(sources: dict, mutant) -> dict:
    """Answer sources with one mutant planted (raises if the text is not found once)."""
    out = dict(sources)
    out[mutant.cell] = replace_once(out[mutant.cell], mutant.old, mutant.new, mutant.name)
    return out


def evaluate_task(task, namespace: dict, cases: list) -> str | None:
    """Run a task's static rule and cases in this process; None if it passes."""
    verdict = evaluate_in_process(task, namespace, cases)
    return None if verdict.passed else verdict.message


def task_cases(assignment: str, seed: int, which: str = "all") -> dict:
    """task id -> list of cases: "visible", "hidden" or "all" of them."""
    module = _tasks.load(assignment)
    solution = reference_namespace(assignment)
    out = {}
    for tid, task in module.tasks.items():
        with building_blocks(solution):   # library code made of the course's answers
            visible = list(task.visible()) if which in ("all", "visible") else []
        hidden = _tasks.hidden_cases(task, solution, seed) if which in ("all", "hidden") else []
        out[tid] = visible + hidden
    return out


def evaluate(assignment: str, sources: dict, seed: int, which: str = "all",
             cases: dict | None = None) -> dict:
    """task id -> failure message (None when passed) for the given answer sources."""
    module = _tasks.load(assignment)
    cases = cases if cases is not None else task_cases(assignment, seed, which)
    ns = exec_answers(sources.items(), blocks=blocks_text(assignment))
    with building_blocks(reference_namespace(assignment)):   # as the grader hands them
        return {tid: evaluate_task(t, ns, cases[tid]) for tid, t in module.tasks.items()}


@dataclass
class MutantResult:
    mutant: object
    failed: dict  # task id -> message

    @property
    def killed_cleanly(self) -> bool:
        return set(self.failed) == {self.mutant.task}


def run_mutants(assignment: str, seed: int | None = None, which: str = "all"
                ) -> list[MutantResult]:
    """Plant each mutant in the reference solution and see which tasks fail.

    ``which`` picks the cases: "visible", "hidden" or "all".  Static checks
    (e.g. "no loops") run in every mode.
    """
    seed = _tasks.grading_seed(seed)
    base = reference_sources(assignment)
    cases = task_cases(assignment, seed, which)
    results = []
    for m in _tasks.load(assignment).mutants:
        outcome = evaluate(assignment, apply(base, m), seed, cases=cases)
        results.append(MutantResult(m, {t: msg for t, msg in outcome.items() if msg}))
    return results


def format_report(results) -> str:
    lines = [f"{'mutant':<62} {'caught by':<22} ok"]
    for r in results:
        caught = ", ".join(sorted(r.failed)) or "NOTHING"
        lines.append(f"{r.mutant.name:<62} {caught:<22} {'yes' if r.killed_cleanly else 'NO'}")
    killed = sum(r.killed_cleanly for r in results)
    lines.append(f"{killed}/{len(results)} mutants caught by their own cell only")
    return "\n".join(lines)
