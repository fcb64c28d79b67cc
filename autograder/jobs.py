"""One job: one student's assignment, graded in named stages (on a worker).

A ``Job`` is plain data: the student's notebooks as bytes, the source
notebooks as text, the seed and the limits.  ``grade_job`` needs nothing
else (no path into the course directory), so it runs the same in a local
process and on a Dask worker that cannot see the course; it returns plain
data: the rows, the autograded notebooks and the instructor's log, which
the coordinator records.  For every notebook of the assignment:

1. ``read_notebook``: locate and parse the handed-in file (``intake``);
2. ``make_plan``: rebuild it from the source's graded cells, scan the
   student's code, and lay out the steps: the cells in order, a snapshot
   and the visible cases at each test cell, the hidden cases after the last
   cell (so nothing printed after a hidden case reaches the feedback);
3. ``run_steps`` (``replay``): execute them in the sandbox;
4. ``judge_notebook``: verdicts and rows, decided here from values only;
5. ``feedback.autograded_notebook``: what nbgrader's formgrader and
   feedback show.

Everything runs under one boundary: whatever goes wrong in trusted code
while grading one student becomes rows with status ``grader-error`` for that
student only (with the reason), and the run goes on.  Reading the student's
text is bounded by caps on its size (``intake``, ``scan``), never by hope.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import shutil
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import numpy as np
from assignments.blocks import building_blocks
from assignments.cases import block_refs

from . import __version__
from . import tasks as _tasks
from . import workdirs
from .answers import answers_of, blocks_for, defined_and_used
from .cells import grade_id, graded_cells, is_answer
from .feedback import autograded_notebook, cell_outputs
from .flags import Flag, kinds
from .intake import canonical_plan, locate, parse
from .notebooks import BLOCKS_FILE, reference_from_texts, strip_solution_markers
from .replay import Step, run_steps
from .scan import event_flags, scan_cell
from .spawn import Limits
from .table import Row
from .judging import Sources, TaskVerdict, crash_note, judge_outcome, merge

ENGINE = f"sandbox-{__version__}"
SLOT = [-1]  # this pool process's slot: the core it is pinned to without a CPU cgroup (-1: none)


def engine_string() -> str:
    return f"{ENGINE} (python {platform.python_version()}, numpy {np.__version__})"


@dataclass
class Job:
    student: str
    assignment: str
    notebooks: dict                                # handed-in notebooks: name -> bytes
    sources: dict                                  # the source notebooks: name -> JSON text
    seed: int
    limits: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)    # [submissions.Skipped] not read
    hide: list = field(default_factory=list)       # paths no sandbox may read
    digest: dict = field(default_factory=dict)
    blocks: str = ""                               # the assignment's course_blocks.py text


def job_digest(assignment: str, notebooks: dict, skipped: list, sources: dict,
               seed: int, blocks: str = "") -> dict:
    """What a grade depends on: the submission, the source (with its building blocks) and
    task module, seed, engine."""
    sub = hashlib.sha256("\n".join(map(str, skipped)).encode())
    for name in sorted(notebooks):
        sub.update(name.encode() + b"\0" + hashlib.sha256(notebooks[name]).digest())
    src = hashlib.sha256()
    for name in sorted(sources):
        src.update(name.encode() + b"\0" + sources[name].encode())
    src.update(b"\0blocks\0" + blocks.encode())
    task_file = _tasks.module_file(assignment)
    if task_file:
        src.update(Path(task_file).read_bytes())
    return {"submission": sub.hexdigest(), "source": src.hexdigest(), "seed": seed,
            "engine": ENGINE}


# --------------------------------------------------------------------------
# stages
# --------------------------------------------------------------------------

def read_notebook(job: Job, loc):
    """(notebook or None, flags, problem)."""
    flags, problem = list(loc.flags), loc.problem
    links = [s for s in job.skipped if s.why == "symbolic link"]
    if job.skipped:
        flags.append(Flag("odd-files", "not copied: " + ", ".join(map(str, job.skipped))))
    if links:
        flags.append(Flag("symlink", ", ".join(map(str, links))))
    if loc.name is None:
        if problem and any(s.path.endswith(".ipynb") for s in links):
            problem += "; it is a symbolic link: hand in the notebook file itself"
        return None, flags, problem
    try:
        nb, parse_flags = parse(loc.name, job.notebooks[loc.name])
        return nb, flags + parse_flags, problem
    except ValueError as err:
        return None, flags + [Flag("unreadable-notebook", str(err))], str(err)


def make_plan(source_nb, student_nb, module, solution, seed, blocks: str = "",
              assignment: str = ""):
    """(plan, steps, cases by task, scan flags); ``blocks``: the notebook's course_blocks."""
    plan = canonical_plan(source_nb, student_nb)
    answers = answers_of(source_nb, assignment)
    given = {c.source.strip() for c in source_nb.cells if c.cell_type == "code"}
    found = []
    for item in plan.items:
        if item.kind == "code" and item.source.strip() not in given:
            found += scan_cell(item.source, item.label)
    steps, hidden_steps, lending, cases = [], [], [], {}
    for item in plan.items:
        if item.kind == "code":
            steps.append(Step("cell", item.label, item.source))
        elif item.kind == "test":
            task = module.tasks[item.grade_id]
            visible = list(task.visible())
            hidden = _tasks.hidden_cases(task, solution, seed)
            cases[item.grade_id] = visible + hidden
            traced = bool(task.vectorized or task.own)
            steps.append(Step("snapshot", item.grade_id))
            named = set().union(*(block_refs((c.args, c.kwargs)) for c in visible + hidden)) \
                if visible + hidden else set()
            lent = blocks_for(task.target, answers, blocks, named)
            probe = functools.partial(Step, "probe", item.grade_id, target=task.target,
                                      trace=traced, blocks=lent)
            if lent != blocks:
                # the call receives answers of this notebook: it runs after every other graded
                # call, in the namespace of its test cell, so nothing it could keep (a file)
                # serves a task judged later
                lending += [(task.target, probe(cases=part, restore=item.grade_id))
                            for part in (visible, hidden) if part]
                continue
            steps.append(probe(cases=visible))
            if hidden:
                hidden_steps.append(probe(cases=hidden, restore=item.grade_id))
    return plan, steps + hidden_steps + _lending_order(lending), cases, found


def _lending_order(lending: list) -> list:
    """The probes that receive answers, those whose target another one receives first."""
    ordered, todo = [], list(lending)
    while todo:
        lent_later = {t for _, p in todo for t in defined_and_used(p.blocks)[0]}
        pick = next((i for i, (target, _) in enumerate(todo) if target in lent_later), 0)
        ordered.append(todo.pop(pick)[1])
    return ordered


def _answer_source(plan, source_nb, target: str) -> str:
    """The student's answer cell for ``target``: the cell whose source answer defines it."""
    for cell in source_nb.cells:
        text = strip_solution_markers(cell.source) if is_answer(cell) else ""
        if any(f"{kw} {target}" in text for kw in ("def", "class")) or f"{target} =" in text:
            return plan.answers.get(grade_id(cell), "")
    return ""


def _run_flags(step, outcome) -> list[Flag]:
    flags = event_flags(outcome.events, step.label)
    if outcome.strays:
        flags.append(Flag("subprocess", f"{step.label} left {outcome.strays} processes running"))
    if outcome.status in ("timeout", "crashed"):
        flags.append(Flag(outcome.status, f"{step.label}: {outcome.error}"))
    raised = [outcome.exception] + [r["exception"] for r in outcome.results or []]
    if "MemoryError" in raised or outcome.cause == "memory":
        flags.append(Flag("memory-error", step.label))
    if outcome.dropped:
        flags.append(Flag("output-truncated", f"{step.label} printed {outcome.dropped} "
                                              "characters more than the cap"))
    return flags


def judge_notebook(job, nb_name, source_nb, plan, steps, run, cases, module, flags):
    """(rows, verdicts by grade id, outputs by label, cell log)."""
    sources = Sources(steps)
    by_task, cell_log, shown = {}, [], {}
    for step, outcome in zip(steps, run.outcomes):
        flags += _run_flags(step, outcome)
        if step.kind == "probe":
            by_task.setdefault(step.label, []).append((outcome, step.restore is not None))
        elif step.kind == "cell":
            shown[step.label] = cell_outputs(outcome)
        cell_log.append({"label": step.label, "kind": step.kind, "status": outcome.status,
                         "error": outcome.error, "output": outcome.output[:2000],
                         "seconds": round(outcome.seconds, 3)})
    rows, verdicts, seed, engine = [], {}, str(job.seed), engine_string()
    for gid, pts, kind in graded_cells(source_nb):
        if kind == "manual":
            answer = plan.manual.get(gid)
            blank = answer is None or answer.strip() in ("", "YOUR ANSWER HERE")
            rows.append(Row(job.student, job.assignment, nb_name, gid, 0.0, pts,
                            "failed" if blank else "manual", kind,
                            "no answer" if blank else "to be graded by your instructor",
                            "", seed, engine))
            continue
        task = module.tasks[gid]
        if gid not in cases:
            verdict = TaskVerdict(False, "deleted", "the test cell was deleted from the "
                                                    "notebook; it scores 0")
        else:
            probes = by_task.get(gid, [])
            outcome = merge([o for o, _ in probes], [h for _, h in probes])
            verdict = judge_outcome(task, cases[gid], outcome,
                                 _answer_source(plan, source_nb, task.target),
                                 sources.for_task(gid))
            if verdict.kind == "not-defined":
                verdict.message += crash_note(steps, run.outcomes, task.target)
            if verdict.kind == "delegated":
                flags.append(Flag("delegated", f"{gid}: {verdict.message}"))
            if verdict.forged:
                flags.append(Flag("forged-result", f"{gid}: {'; '.join(verdict.forged)}"))
        verdicts[gid] = verdict
        rows.append(Row(job.student, job.assignment, nb_name, gid,
                        pts if verdict.passed else 0.0, pts,
                        "passed" if verdict.passed else "failed", kind, verdict.message, "",
                        seed, engine))
    return rows, verdicts, shown, cell_log


def grade_notebook(job, nb_name, source_nb, loc, module, solution, limits, job_dir):
    """(rows, instructor log, autograded notebook JSON or None, isolation) of one notebook."""
    student_nb, flags, problem = read_notebook(job, loc)
    if student_nb is None:
        status = "missing" if loc.name is None and not flags else "error"
        rows = [Row(job.student, job.assignment, nb_name, gid, 0.0, pts, status, kind,
                    problem or "not graded", ";".join(kinds(flags)), str(job.seed),
                    engine_string()) for gid, pts, kind in graded_cells(source_nb)]
        return rows, {"flags": [f.plain() for f in flags], "problem": problem}, None, {}
    plan, steps, cases, found = make_plan(source_nb, student_nb, module, solution, job.seed,
                                          job.blocks, job.assignment)
    flags += plan.flags + found
    files = {BLOCKS_FILE: job.blocks} if job.blocks else None
    run = run_steps(steps, job_dir / nb_name, limits, SLOT[0], job.hide, files)
    rows, verdicts, shown, cell_log = judge_notebook(job, nb_name, source_nb, plan, steps, run,
                                                    cases, module, flags)
    for r in rows:
        r.flags = ";".join(kinds(flags))
    autograded = autograded_notebook(source_nb, student_nb, plan, verdicts, shown, module)
    log = {"flags": [f.plain() for f in flags], "cells": cell_log, "restarts": run.restarts,
           "seconds": round(run.seconds, 2), "raw_output": run.raw_output[:4000]}
    return rows, log, nbformat.writes(autograded), run.isolation


def _grade(job: Job) -> dict:
    start = time.perf_counter()
    module = _tasks.load(job.assignment)
    texts = tuple(job.sources[n] for n in sorted(job.sources))
    solution = reference_from_texts(texts, job.blocks)
    limits = Limits(**job.limits)
    located = locate(job.notebooks, sorted(job.sources))
    rows, logs, autograded, isolation = [], {}, {}, {}
    job_dir = workdirs.job_folder()
    os.chmod(job_dir, 0o711)
    try:
        for name in sorted(job.sources):
            source_nb = nbformat.reads(job.sources[name], as_version=4)
            stem = Path(name).stem
            # trusted library code made of the course's answers (cases, judging) runs on them
            with building_blocks(solution):
                nb_rows, log, nb_json, iso = grade_notebook(job, stem, source_nb,
                                                            located[name], module, solution,
                                                            limits, job_dir)
            rows += nb_rows
            logs[stem] = log
            if nb_json is not None:
                autograded[name] = nb_json
            isolation = iso or isolation
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)
    return {"student": job.student, "assignment": job.assignment, "digest": job.digest,
            "seed": job.seed, "engine": engine_string(),
            "isolation": {k: v for k, v in isolation.items() if k != "paths"},
            "seconds": round(time.perf_counter() - start, 2),
            "rows": [asdict(r) for r in rows], "notebooks": logs, "autograded": autograded}


def error_rows(student: str, assignment: str, sources: dict, seed, reason: str) -> list[Row]:
    """Rows for every graded cell when grading this student failed in the grader."""
    message = f"grader error while grading {student}: {reason}"
    rows = []
    for name in sorted(sources):
        try:
            cells = graded_cells(nbformat.reads(sources[name], as_version=4))
        except Exception:  # noqa: BLE001 - the source itself is unreadable
            cells = [("-", 0.0, "auto")]
        rows += [Row(student, assignment, Path(name).stem, gid, 0.0, pts, "grader-error",
                     kind, message, "grader-error", str(seed), engine_string())
                 for gid, pts, kind in cells]
    return rows


def error_result(student: str, assignment: str, sources: dict, seed, err) -> dict:
    reason = f"{type(err).__name__}: {str(err)[:300]}"
    return {"student": student, "assignment": assignment, "digest": None, "seed": seed,
            "engine": engine_string(), "error": reason,
            "traceback": traceback.format_exc()[-4000:],
            "rows": [asdict(r) for r in error_rows(student, assignment, sources, seed, reason)],
            "notebooks": {}, "autograded": {}}


def grade_job(job: Job) -> dict:
    """Grade one student's assignment; returns a JSON-able result.

    Never raises for anything but Ctrl-C: a failure becomes grader-error rows.
    """
    try:
        return _grade(job)
    except (Exception, SystemExit) as err:  # noqa: BLE001 - the boundary of one student
        return error_result(job.student, job.assignment, job.sources, job.seed, err)


def recorded(result_path: Path, digest: dict) -> dict | None:
    """An earlier result for the same digest (the submission is unchanged), else None."""
    try:
        old = json.loads(result_path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if old.get("digest") != digest:
        return None
    old["skipped"] = True
    return old
