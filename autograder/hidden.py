"""Hidden tests as plain nbgrader runs them: inside the student's kernel.

The source notebooks call ``run_hidden(assignment, task_id, globals())`` in
their ``### BEGIN HIDDEN TESTS`` regions.  This path exists so the course
stays usable with stock ``nbgrader autograde``; it is only as trustworthy as
the student's kernel.  ``course grade`` does not execute these regions: it
runs the same task cases with the comparisons in a separate, trusted
process (see ``autograder.engine``).
"""

from __future__ import annotations

from assignments.checks import CheckFailed, run_cases

from . import tasks as _tasks
from .notebooks import reference_namespace


def run_hidden(assignment: str, task_id: str, namespace: dict, seed=None) -> None:
    """Run a task's hidden cases against the student's namespace; raise on failure."""
    task = _tasks.load(assignment).tasks[task_id]
    if task.function not in namespace:
        raise CheckFailed(f"`{task.function}` is not defined; run the cell that defines it")
    fn = namespace[task.function]
    _tasks.check_static_of(task, fn)
    ref = reference_namespace(assignment)
    cases = _tasks.hidden_cases(task, ref, _tasks.grading_seed(seed))
    run_cases(fn, cases, name=task.function, namespace=namespace, quiet=True)
    print(f"ok: {task.function} passed {len(cases)} hidden checks")
