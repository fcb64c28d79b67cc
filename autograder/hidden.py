"""Hidden tests as plain nbgrader runs them: inside the student's kernel.

The source notebooks call ``run_hidden(assignment, task_id, globals())`` in
their ``### BEGIN HIDDEN TESTS`` regions.  This path exists so the course
stays usable with stock ``nbgrader autograde``; it is only as trustworthy as
the student's kernel.  ``course grade`` does not execute these regions: it
runs the same task cases with the comparisons in a separate, trusted
process (see ``autograder.engine``).
"""

from __future__ import annotations

from assignments.cases import CheckFailed

from . import tasks as _tasks
from .judging import evaluate_in_process
from .notebooks import reference_namespace


def run_hidden(assignment: str, task_id: str, namespace: dict, seed=None) -> None:
    """Run a task's hidden cases against the student's namespace; raise on failure."""
    __tracebackhide__ = True
    from assignments.adapters import building_blocks

    task = _tasks.load(assignment).tasks[task_id]
    solution = reference_namespace(assignment)
    cases = _tasks.hidden_cases(task, solution, _tasks.grading_seed(seed))
    with building_blocks(solution):   # a model runs on the course's layers, as when graded
        verdict = evaluate_in_process(task, namespace, cases)
    if not verdict.passed:
        raise CheckFailed(verdict.message).with_traceback(None) from None
    print(f"ok: {task.target} passed {len(cases)} hidden checks")
