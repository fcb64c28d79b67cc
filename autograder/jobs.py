"""One job: one student's assignment, graded in named stages (trusted side).

``grade_job`` runs, for every notebook of the assignment:

1. ``read_submission``: find and parse the file (``intake``);
2. ``make_plan``: rebuild it from the source's graded cells, scan the
   student's code, and lay out the steps: the cells in order, a snapshot
   and the visible cases at each test cell, the hidden cases after the last
   cell (so nothing printed after a hidden case reaches the feedback);
3. ``run_steps`` (``replay``): execute them in the sandbox;
4. ``judge_notebook``: verdicts and rows, computed here;
5. ``feedback.write_autograded``.

Everything runs under one boundary: whatever goes wrong in trusted code
while grading one student becomes rows with status ``grader-error`` for that
student only (with the reason), and the run goes on.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from . import tasks as _tasks
from . import workdirs
from .cells import grade_id, graded_cells, is_answer
from .feedback import write_autograded
from .intake import canonical_plan, locate, parse
from .notebooks import read, reference_namespace, strip_solution_markers
from .replay import Step, run_steps
from .scan import event_flags, scan_cell, slugs
from .spawn import Limits
from .table import Row
from .verdicts import Sources, crash_note, judge_task, merge

ENGINE = f"sandbox-{__version__}"
SLOT = [-1]  # this pool process's slot: the core it is pinned to without a CPU cgroup (-1: none)


def engine_string() -> str:
    return f"{ENGINE} (python {platform.python_version()}, numpy {np.__version__})"


@dataclass
class Job:
    student: str
    assignment: str
    folder: str
    course_dir: str
    source_root: str
    seed: int
    limits: dict = field(default_factory=dict)
    force: bool = False
    skipped: list = field(default_factory=list)   # files not copied from the submission


def _digest(paths, top: Path, extra=b"") -> str:
    """Hash of the files' names (relative to ``top``, so a copy elsewhere hashes the same)
    and contents."""
    h = hashlib.sha256(extra)
    for p in paths:
        name = os.path.relpath(p, top) if top in p.parents else p.name
        h.update(name.encode())
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def digest(job: Job) -> dict:
    folder, source = Path(job.folder), Path(job.source_root) / "source" / job.assignment
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    task_file = _tasks.module_file(job.assignment)
    return {"submission": _digest(files, folder, "\n".join(job.skipped).encode()),
            "source": _digest(sorted(source.glob("*.ipynb")) + ([Path(task_file)] if task_file
                                                                 else []), source),
            "seed": job.seed, "engine": ENGINE}


# --------------------------------------------------------------------------
# stages
# --------------------------------------------------------------------------

def read_submission(loc, skipped):
    """(notebook or None, flags, problem)."""
    flags, problem = list(loc.flags), loc.problem
    links = [s for s in skipped if s.endswith("(symbolic link)")]
    if skipped:
        flags.append(f"odd-files: not copied: {', '.join(skipped)[:300]}")
    if links:
        flags.append(f"symlink: {', '.join(links)[:200]}")
    if loc.path is None:
        if links and problem:
            problem += "; it is a symbolic link: hand in the notebook file itself"
        return None, flags, problem
    try:
        nb, parse_flags = parse(loc.path)
        return nb, flags + parse_flags, problem
    except ValueError as err:
        return None, flags + ["unreadable-notebook"], str(err)


def make_plan(source_nb, student_nb, module, solution, seed):
    """(plan, steps, cases by task, scan flags)."""
    plan = canonical_plan(source_nb, student_nb)
    given = {c.source.strip() for c in source_nb.cells if c.cell_type == "code"}
    found = []
    for item in plan.items:
        if item.kind == "code" and item.source.strip() not in given:
            found += scan_cell(item.source, item.label)
    steps, hidden_steps, cases = [], [], {}
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
            steps.append(Step("probe", item.grade_id, target=task.target, cases=visible,
                              trace=traced))
            if hidden:
                hidden_steps.append(Step("probe", item.grade_id, target=task.target,
                                         cases=hidden, restore=item.grade_id, trace=traced))
    return plan, steps + hidden_steps, cases, found


def _answer_source(plan, source_nb, target: str) -> str:
    """The student's answer cell for ``target``: the cell whose source answer defines it."""
    for cell in source_nb.cells:
        text = strip_solution_markers(cell.source) if is_answer(cell) else ""
        if any(f"{kw} {target}" in text for kw in ("def", "class")) or f"{target} =" in text:
            return plan.answers.get(grade_id(cell), "")
    return ""


def judge_notebook(job, nb_name, source_nb, plan, steps, run, cases, module, flags):
    """(rows, verdicts by grade id, outputs to show by label, cell log)."""
    sources = Sources(steps)
    by_task, cell_log, shown = {}, [], {}
    for step, outcome in zip(steps, run.outcomes):
        flags += [f"{f}: {d}" for f, d in event_flags(outcome.events, step.label)]
        if outcome.strays:
            flags.append(f"subprocess: {step.label} left {outcome.strays} processes running")
        if step.kind == "probe":
            by_task.setdefault(step.label, []).append((outcome, step.restore is not None))
        elif step.kind == "cell":
            shown[step.label] = outcome.output
        if outcome.status in ("timeout", "crashed"):
            flags.append(f"{outcome.status}: {step.label}: {outcome.error}")
        raised = [outcome.exception] + [r["exception"] for r in outcome.results or []]
        if "MemoryError" in raised or "used more than" in (outcome.error or ""):
            flags.append(f"memory-error: {step.label}")
        if outcome.dropped:
            flags.append(f"output-truncated: {step.label} printed {outcome.dropped} "
                         "characters more than the cap")
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
            ok, message = False, "the test cell was deleted from the notebook; it scores 0"
        else:
            probes = by_task.get(gid, [])
            outcome = merge([o for o, _ in probes], [h for _, h in probes])
            verdict = judge_task(task, cases[gid], outcome,
                                 _answer_source(plan, source_nb, task.target), sources)
            ok, message = verdict.passed, verdict.message
            if verdict.forged:
                flags.append(f"forged-result: {gid}: {'; '.join(verdict.forged)[:200]}")
            if verdict.kind == "not-defined":
                message += crash_note(steps, run.outcomes, task.target)
            if verdict.kind == "delegated":
                flags.append(f"delegated: {gid}: {message}")
        verdicts[gid] = (ok, message)
        rows.append(Row(job.student, job.assignment, nb_name, gid, pts if ok else 0.0, pts,
                        "passed" if ok else "failed", kind, message, "", seed, engine))
    return rows, verdicts, shown, cell_log


def grade_notebook(job, src_path, loc, module, solution, limits, job_dir):
    """(rows, instructor log) of one notebook."""
    nb_name, source_nb = src_path.stem, read(src_path)
    student_nb, flags, problem = read_submission(loc, job.skipped)
    if student_nb is None:
        status = "missing" if loc.path is None and not flags else "error"
        rows = [Row(job.student, job.assignment, nb_name, gid, 0.0, pts, status, kind,
                    problem or "not graded", ";".join(slugs(flags)), str(job.seed),
                    engine_string()) for gid, pts, kind in graded_cells(source_nb)]
        return rows, {"flags": flags, "problem": problem}, {}
    plan, steps, cases, found = make_plan(source_nb, student_nb, module, solution, job.seed)
    flags += plan.flags + [f"{flag}: {detail}" for flag, detail in found]
    hidden = [job.course_dir, job.source_root]
    run = run_steps(steps, job_dir / nb_name, limits, SLOT[0], hidden)
    rows, verdicts, shown, cell_log = judge_notebook(job, nb_name, source_nb, plan, steps, run,
                                                    cases, module, flags)
    for r in rows:
        r.flags = ";".join(slugs(flags))
    out_dir = Path(job.course_dir) / "autograded" / job.student / job.assignment
    out_dir.mkdir(parents=True, exist_ok=True)
    write_autograded(source_nb, plan, verdicts, shown, out_dir / src_path.name)
    log = {"flags": flags, "cells": cell_log, "restarts": run.restarts,
           "seconds": round(run.seconds, 2), "raw_output": run.raw_output[:4000]}
    return rows, log, run.isolation


def _grade(job: Job, result_path: Path, stamp: dict) -> dict:
    start = time.perf_counter()
    module = _tasks.load(job.assignment)
    solution = reference_namespace(job.assignment, Path(job.source_root))
    limits = Limits(**job.limits)
    source_paths = sorted((Path(job.source_root) / "source" / job.assignment).glob("*.ipynb"))
    located = locate(Path(job.folder), [p.name for p in source_paths])
    rows, notebooks, isolation = [], {}, {}
    job_dir = workdirs.job_folder()
    os.chmod(job_dir, 0o711)
    try:
        for src_path in source_paths:
            nb_rows, log, *iso = grade_notebook(job, src_path, located[src_path.name], module,
                                                solution, limits, job_dir)
            rows += nb_rows
            notebooks[src_path.stem] = log
            isolation = (iso[0] if iso and iso[0] else isolation)
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)
    return {"student": job.student, "assignment": job.assignment, "digest": stamp,
            "seed": job.seed, "engine": engine_string(),
            "isolation": {k: v for k, v in isolation.items() if k != "paths"},
            "seconds": round(time.perf_counter() - start, 2),
            "rows": [asdict(r) for r in rows], "notebooks": notebooks}


def error_rows(job: Job, reason: str) -> list[Row]:
    """Rows for every graded cell when grading this student failed in the grader."""
    message = f"grader error while grading {job.student}: {reason}"
    rows = []
    for src_path in sorted((Path(job.source_root) / "source" / job.assignment).glob("*.ipynb")):
        try:
            cells = graded_cells(read(src_path))
        except Exception:  # noqa: BLE001 - the source itself is unreadable
            cells = [("-", 0.0, "auto")]
        rows += [Row(job.student, job.assignment, src_path.stem, gid, 0.0, pts, "grader-error",
                     kind, message, "grader-error", str(job.seed), engine_string())
                 for gid, pts, kind in cells]
    return rows


def grade_job(job: Job) -> dict:
    """Grade one student's assignment; returns a JSON-able result (also written to disk).

    Never raises for anything but Ctrl-C: a failure becomes grader-error rows.
    """
    result_path = Path(job.course_dir) / "grading" / job.assignment / f"{job.student}.json"
    try:
        stamp = digest(job)
        if result_path.exists() and not job.force:
            try:
                old = json.loads(result_path.read_text())
                if old.get("digest") == stamp:
                    old["skipped"] = True
                    return old
            except (OSError, json.JSONDecodeError):
                pass
        result = _grade(job, result_path, stamp)
    except (Exception, SystemExit) as err:  # noqa: BLE001 - the boundary of one student
        reason = f"{type(err).__name__}: {str(err)[:300]}"
        result = {"student": job.student, "assignment": job.assignment, "digest": None,
                  "seed": job.seed, "engine": engine_string(), "error": reason,
                  "traceback": traceback.format_exc()[-4000:],
                  "rows": [asdict(r) for r in error_rows(job, reason)], "notebooks": {}}
    try:
        result_path.parent.mkdir(parents=True, exist_ok=True)
        result_path.write_text(json.dumps(result, indent=1, default=str))
    except OSError:
        pass
    return result
