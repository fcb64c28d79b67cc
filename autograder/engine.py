"""The sandboxed grading engine behind `course grade` (the default).

For every (student, assignment) a job, in its own working folder:

1. intake (trusted): find and parse the notebook, rebuild it from the source
   notebook's graded cells (``intake.canonical_plan``), scan the student's
   code for suspicious patterns (``scan``);
2. cases (trusted): the visible and hidden cases of every task, hidden ones
   drawn from the recorded grading seed, expected values from the reference
   solution; only the inputs leave this process;
3. execution (sandboxed, ``runner``): the student's cells run in order; at
   each test cell's position the graded function is called on the cases and
   only its outputs come back, as plain data;
4. judging (trusted): outputs are compared here with the expected values,
   so nothing the submission patches (numpy, builtins, IPython, the
   checks) can change a verdict.

Jobs run in parallel (``--jobs``, local processes or a Dask cluster), each
writes ``grading/<assignment>/<student>.json`` (instructor-only: flags, cell
log, seed, versions; a re-run skips unchanged submissions unless forced) and
an nbgrader-compatible autograded notebook; the
coordinating process alone writes ``gradebook.db`` and then runs nbgrader's
``generate_feedback``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import numpy as np

from assignments.cases import Attempt

from . import __version__
from . import tasks as _tasks
from .grade import Row, grade_cells
from .intake import canonical_plan, locate, parse
from .judging import TaskVerdict, task_verdict
from .nbgrader_run import run_nbgrader
from .notebooks import (grade_id, is_answer, is_manual, is_test, read, reference_namespace,
                        strip_hidden_tests)
from .runner import Limits, Step, capabilities, describe_isolation, run_steps
from .scan import event_flags, scan_cell

ENGINE = f"sandbox-{__version__}"


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


# --------------------------------------------------------------------------
# digests for resumability
# --------------------------------------------------------------------------

def _digest_folder(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and ".ipynb_checkpoints" not in p.parts:
            h.update(str(p.relative_to(folder)).encode())
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _digest_sources(source_root: Path, assignment: str) -> str:
    h = hashlib.sha256()
    for p in sorted((source_root / "source" / assignment).glob("*.ipynb")):
        h.update(p.read_bytes())
    origin = _tasks.module_file(assignment)
    if origin:
        h.update(Path(origin).read_bytes())
    return h.hexdigest()


# --------------------------------------------------------------------------
# one job (runs in a pool worker: trusted)
# --------------------------------------------------------------------------

def _release_code_sources(source_nb) -> set:
    """Normalized sources of the given (non-graded) code cells: not the student's code."""
    out = set()
    for c in source_nb.cells:
        if c.cell_type == "code" and not c.get("metadata", {}).get("nbgrader"):
            out.add(c.source.strip())
    return out


def judge_task(task, cases, outcome, answer_source) -> TaskVerdict:
    """Decide a task from the worker's outputs, in the trusted process."""
    if outcome is None or outcome.status == "skipped":
        return TaskVerdict(False, "not-run", outcome.error if outcome else "not run")
    if outcome.status == "timeout":
        return TaskVerdict(False, "timeout", f"the checks of {task.target} did not finish: "
                           f"{outcome.error} (an infinite loop, or far too slow?)")
    if outcome.status == "crashed":
        return TaskVerdict(False, "crashed", f"your notebook's process died while {task.target} "
                           f"was checked: {outcome.error}")
    attempts = [Attempt(str(r.get("kind")), str(r.get("detail", "")), out)
                for r, out in zip(outcome.results, outcome.outputs)]
    return task_verdict(task, cases, attempts, answer_source or "")


def _target_source(answers: dict, target: str) -> str:
    """The answer cell that defines ``target`` (for static checks)."""
    for src in answers.values():
        if f"def {target}" in src or f"class {target}" in src:
            return src
    return ""


def grade_job(job: Job) -> dict:
    """Grade one student's assignment; returns a JSON-able result (also written to disk)."""
    course_dir, source_root = Path(job.course_dir), Path(job.source_root)
    out_dir = course_dir / "autograded" / job.student / job.assignment
    # instructor-only: nbgrader copies everything in autograded/ into the feedback
    result_path = course_dir / "grading" / job.assignment / f"{job.student}.json"
    folder = Path(job.folder)
    digest = {"submission": _digest_folder(folder),
              "source": _digest_sources(source_root, job.assignment),
              "seed": job.seed, "engine": ENGINE}
    if result_path.exists() and not job.force:
        try:
            old = json.loads(result_path.read_text())
            if old.get("digest") == digest:
                old["skipped"] = True
                return old
        except (OSError, json.JSONDecodeError):
            pass
    start = time.perf_counter()
    module = _tasks.load(job.assignment)
    solution = reference_namespace(job.assignment, source_root)
    limits = Limits(**job.limits)
    rows, notebooks = [], {}
    source_paths = sorted((source_root / "source" / job.assignment).glob("*.ipynb"))
    located = locate(folder, [p.name for p in source_paths])
    job_dir = course_dir / ".grading" / job.assignment / job.student
    if job_dir.exists():
        shutil.rmtree(job_dir)
    isolation = {}
    for src_path in source_paths:
        nb_name = src_path.stem
        source_nb = read(src_path)
        cells = grade_cells(source_nb)
        loc = located[src_path.name]
        flags = list(loc.flags)
        problem = loc.problem
        student_nb = None
        if loc.path is not None:
            try:
                student_nb, parse_flags = parse(loc.path)
                flags += parse_flags
            except ValueError as err:
                problem = str(err)
                flags.append("unreadable-notebook")
        if student_nb is None:
            status = "missing" if loc.path is None and not loc.flags else "error"
            for gid, pts, kind in cells:
                rows.append(Row(job.student, job.assignment, nb_name, gid, 0.0, pts, status, kind,
                                problem or "not graded", ";".join(_slugs(flags)),
                                str(job.seed), engine_string()))
            notebooks[nb_name] = {"flags": flags, "problem": problem}
            continue

        plan = canonical_plan(source_nb, student_nb)
        flags += plan.flags
        given = _release_code_sources(source_nb)
        details = []
        for item in plan.items:
            if item.kind == "code" and item.source.strip() not in given:
                details += scan_cell(item.source, item.label)

        steps, task_cases = [], {}
        for item in plan.items:
            if item.kind == "code":
                steps.append(Step("cell", item.label, item.source))
            elif item.kind == "test":
                task = module.tasks[item.grade_id]
                cases = _tasks.all_cases(task, solution, job.seed)
                task_cases[item.grade_id] = cases
                steps.append(Step("probe", item.grade_id, target=task.target, cases=cases))
        run = run_steps(steps, job_dir / nb_name, limits)
        isolation = run.isolation
        outcome_by_task = {}
        cell_log = []
        for step, outcome in zip(steps, run.outcomes):
            details += event_flags(outcome.events, step.label)
            if step.kind == "probe":
                outcome_by_task[step.label] = outcome
            if outcome.status in ("timeout", "crashed"):
                flags.append(f"{outcome.status}: {step.label}: {outcome.error}")
            raised = [outcome.exception] + [str(r.get("exception", "")) for r in outcome.results or []
                                              if isinstance(r, dict)]
            if "MemoryError" in raised:
                flags.append(f"memory-error: {step.label}")
            if outcome.dropped:
                flags.append(f"output-truncated: {step.label} printed {outcome.dropped} "
                             "characters more than the cap")
            cell_log.append({"label": step.label, "kind": step.kind, "status": outcome.status,
                             "error": outcome.error, "output": outcome.output[:2000],
                             "seconds": round(outcome.seconds, 3)})
        flags += [f"{flag}: {detail}" for flag, detail in details]

        verdicts = {}
        for gid, pts, kind in cells:
            if kind == "manual":
                answer = plan.manual.get(gid)
                blank = answer is None or answer.strip() in ("", "YOUR ANSWER HERE")
                rows.append(Row(job.student, job.assignment, nb_name, gid, 0.0, pts,
                                "failed" if blank else "manual", kind,
                                "no answer" if blank else "to be graded by a person",
                                "", str(job.seed), engine_string()))
                continue
            task = module.tasks[gid]
            if gid not in task_cases:
                ok, message = False, "the test cell was deleted from the notebook; it scores 0"
            else:
                verdict = judge_task(task, task_cases[gid], outcome_by_task.get(gid),
                                     _target_source(plan.answers, task.target))
                ok, message = verdict.passed, verdict.message
                if verdict.kind == "not-defined":
                    message += _crash_note(steps, run.outcomes, task.target)
            verdicts[gid] = (ok, message)
            rows.append(Row(job.student, job.assignment, nb_name, gid, pts if ok else 0.0, pts,
                            "passed" if ok else "failed", kind, message, "", str(job.seed),
                            engine_string()))
        slugs = ";".join(_slugs(flags))
        for r in rows:
            if r.notebook == nb_name:
                r.flags = slugs
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_autograded(source_nb, student_nb, plan, verdicts, run, steps,
                          out_dir / src_path.name)
        notebooks[nb_name] = {"flags": flags, "cells": cell_log, "restarts": run.restarts,
                              "seconds": round(run.seconds, 2),
                              "raw_output": run.raw_output[:4000]}
    shutil.rmtree(job_dir, ignore_errors=True)
    result = {"student": job.student, "assignment": job.assignment, "digest": digest,
              "seed": job.seed, "engine": engine_string(), "isolation": _isolation(isolation),
              "seconds": round(time.perf_counter() - start, 2),
              "rows": [asdict(r) for r in rows], "notebooks": notebooks}
    result_path.parent.mkdir(parents=True, exist_ok=True)
    result_path.write_text(json.dumps(result, indent=1, default=str))
    return result


def _crash_note(steps, outcomes, function) -> str:
    """Why a function may be missing: the cell meant to define it crashed or hung."""
    for step, outcome in zip(steps, outcomes):
        if step.kind == "cell" and outcome.status in ("crashed", "timeout") and (
                f"def {function}" in step.source or f"class {function}" in step.source):
            return (f" (the cell defining it {'crashed' if outcome.status == 'crashed' else 'timed out'}"
                    f": {outcome.error})")
    return ""


def _isolation(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "paths"}


def _slugs(flags) -> list[str]:
    """Flag names without their details, unique, in order."""
    seen = []
    for f in flags:
        slug = f.split(":", 1)[0].strip()
        if slug not in seen:
            seen.append(slug)
    return seen


def _write_autograded(source_nb, student_nb, plan, verdicts, run, steps, path: Path) -> None:
    """An nbgrader-style autograded notebook: release test cells (no hidden code) + verdicts."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = source_nb.metadata
    outputs_by_label = {s.label: o for s, o in zip(steps, run.outcomes)}
    for cell in source_nb.cells:
        gid = grade_id(cell)
        new = nbformat.from_dict(dict(cell))
        if is_answer(cell):
            new.source = plan.answers.get(gid, "# (cell missing from the submission)")
        elif is_manual(cell):
            answer = plan.manual.get(gid)
            new.source = answer if answer is not None else "(cell missing from the submission)"
        elif is_test(cell):
            new.source = strip_hidden_tests(cell.source)
        if new.cell_type == "code":
            new.outputs = []
            new.execution_count = None
            o = outputs_by_label.get(gid) if gid else None
            if is_test(cell):
                ok, message = verdicts.get(gid, (False, "not graded"))
                if ok:
                    new.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                          text=f"ok: {message}\n")]
                else:
                    new.outputs = [nbformat.v4.new_output(
                        "error", ename="CheckFailed", evalue=message,
                        traceback=[f"CheckFailed: {message}"])]
            elif o is not None and o.output:
                new.outputs = [nbformat.v4.new_output("stream", name="stdout", text=o.output)]
        nb.cells.append(new)
    nbformat.write(nb, str(path))


# --------------------------------------------------------------------------
# the coordinator
# --------------------------------------------------------------------------

def _run_jobs(jobs: list[Job], workers: int, executor: str, progress=True) -> list[dict]:
    """Run grade_job over ``jobs``: in this process, a local process pool, or Dask."""
    from tqdm.auto import tqdm

    results = []
    if executor == "dask":
        from dask.distributed import Client, LocalCluster, as_completed

        address = os.environ.get("COURSE_DASK_SCHEDULER")
        cluster = None if address else LocalCluster(n_workers=workers, threads_per_worker=1,
                                                    processes=True, dashboard_address=None)
        with Client(address or cluster) as client:
            futures = client.map(grade_job, jobs, pure=False)
            with tqdm(total=len(jobs), desc="grading", unit="submission",
                      disable=not progress) as bar:
                for fut in as_completed(futures):
                    results.append(fut.result())
                    bar.update()
        if cluster is not None:
            cluster.close()
        return results
    if workers <= 1:
        with tqdm(total=len(jobs), desc="grading", unit="submission",
                  disable=not progress) as bar:
            for job in jobs:
                results.append(grade_job(job))
                bar.update()
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # fork (where available) so a caller's script needs no __main__ guard; the
    # pool is created before any progress-bar thread exists
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(max_workers=workers,
                             mp_context=multiprocessing.get_context(method)) as pool:
        futures = [pool.submit(grade_job, job) for job in jobs]
        with tqdm(total=len(jobs), desc="grading", unit="submission",
                  disable=not progress) as bar:
            for fut in as_completed(futures):
                results.append(fut.result())
                bar.update()
    return results


def _update_gradebook(course_dir: Path, assignment: str, results: list[dict]) -> None:
    """Write every result into gradebook.db from this one process (SQLite has one writer)."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        # nbgrader's own add_submission trips SQLAlchemy autoflush warnings; harmless
        warnings.simplefilter("ignore")
        for res in results:
            student = res["student"]
            gb.update_or_create_student(student)
            gb.update_or_create_submission(assignment, student)
            for row in res["rows"]:
                try:
                    grade = gb.find_grade(row["cell"], row["notebook"], assignment, student)
                except MissingEntry:
                    continue
                if row["kind"] == "auto":
                    grade.auto_score = float(row["points"])
                elif row["status"] == "failed":  # blank free-text answer
                    grade.auto_score = 0.0
                else:
                    grade.auto_score = None
            gb.db.commit()


def grade_sandboxed(course_dir: Path, assignment: str, students: dict, source_root: Path,
                    log: Path, jobs: int = 1, force: bool = False, seed=None,
                    executor: str | None = None, limits: dict | None = None,
                    progress: bool = True) -> list[Row]:
    """Grade ``students`` ({name: folder}) for one assignment; returns table rows."""
    seed = _tasks.grading_seed(seed)
    run_nbgrader(course_dir, "generate_assignment", assignment, "--force", log=log)
    for student, folder in students.items():
        dst = course_dir / "submitted" / student / assignment
        if dst.resolve() != Path(folder).resolve():
            if dst.exists():
                shutil.rmtree(dst)
            shutil.copytree(folder, dst)
    job_list = [Job(s, assignment, str(course_dir / "submitted" / s / assignment),
                    str(course_dir), str(source_root), seed, dict(limits or {}), force)
                for s in sorted(students)]
    if progress:
        print(f"{assignment}: {len(job_list)} submission(s), seed {seed}, "
              f"{jobs} worker(s); isolation: {describe_isolation(capabilities())}")
    results = _run_jobs(job_list, max(1, jobs), executor or "local", progress)
    _update_gradebook(course_dir, assignment, results)
    run_nbgrader(course_dir, "generate_feedback", assignment, "--force", log=log, check=False)
    rows = []
    for res in sorted(results, key=lambda r: r["student"]):
        rows += [Row(**r) for r in res["rows"]]
    return rows
