"""Running the jobs of one assignment and recording them for nbgrader.

Jobs run here, in a local process pool (``--jobs``) or on a Dask cluster,
behind one progress loop; each pool process gets a slot (the core its
sandboxes are pinned to where no CPU cgroup exists).  Then this process
alone writes ``gradebook.db`` (scores, and nbgrader's "flagged" mark on
every flagged notebook, so the formgrader shows it) and runs nbgrader's
``generate_feedback``, after which written answers still to be graded are
labelled so in the feedback pages.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import isolation
from .feedback import mark_manual_cells_in_feedback
from .jobs import SLOT, Job, grade_job
from .nbgrader_run import run_nbgrader
from .table import Row


def _init_slot(counter):
    with counter.get_lock():
        SLOT[0] = counter.value
        counter.value += 1


def _completed(jobs: list[Job], workers: int, executor: str):
    """Yield each job's result as it finishes."""
    if executor == "dask":
        from dask.distributed import Client, LocalCluster, as_completed

        address = os.environ.get("COURSE_DASK_SCHEDULER")
        cluster = None if address else LocalCluster(n_workers=workers, threads_per_worker=1,
                                                    processes=True, dashboard_address=None)
        try:
            with Client(address or cluster) as client:
                for fut in as_completed(client.map(grade_job, jobs, pure=False)):
                    yield fut.result()
        finally:
            if cluster is not None:
                cluster.close()
    elif workers <= 1:
        for job in jobs:
            yield grade_job(job)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # fork (where available) so a caller's script needs no __main__ guard; the pool
        # exists before any progress-bar thread does
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        ctx = multiprocessing.get_context(method)
        counter = ctx.Value("i", 0)
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_slot,
                                   initargs=(counter,))
        try:
            futures = [pool.submit(grade_job, job) for job in jobs]
            for fut in as_completed(futures):
                yield fut.result()
        except BaseException:
            _stop_workers(pool)
            raise
        pool.shutdown(wait=True)


def _stop_workers(pool, grace: float = 20.0):
    """Ctrl-C: let every worker kill its sandboxes (SIGINT), then make sure they are gone."""
    import signal
    import time

    procs = list(getattr(pool, "_processes", {}).values())
    for p in procs:
        try:
            os.kill(p.pid, signal.SIGINT)
        except (ProcessLookupError, PermissionError):
            pass
    end = time.monotonic() + grace
    for p in procs:
        p.join(timeout=max(0.0, end - time.monotonic()))
        if p.is_alive():
            p.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def run_jobs(jobs: list[Job], workers: int, executor: str = "local", progress=True) -> list:
    from tqdm.auto import tqdm

    results = []
    with tqdm(total=len(jobs), desc="grading", unit="submission", disable=not progress) as bar:
        for result in _completed(jobs, max(1, workers), executor):
            results.append(result)
            bar.update()
    return results


def update_gradebook(course_dir: Path, assignment: str, results: list[dict]) -> None:
    """Write every result into gradebook.db from this one process (SQLite has one writer)."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")  # nbgrader's add_submission trips SQLAlchemy warnings
        for res in results:
            student = res["student"]
            gb.update_or_create_student(student)
            gb.update_or_create_submission(assignment, student)
            flagged = set()
            for row in res["rows"]:
                if row["flags"]:
                    flagged.add(row["notebook"])
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
            for nb_name in {row["notebook"] for row in res["rows"]}:
                try:
                    gb.find_submission_notebook(nb_name, assignment, student).flagged = \
                        nb_name in flagged
                except MissingEntry:
                    pass
            gb.db.commit()


def _mark_manual(course_dir: Path, assignment: str, results: list[dict]) -> None:
    for res in results:
        manual = {}
        for row in res["rows"]:
            if row["kind"] == "manual" and row["status"] == "manual":
                manual.setdefault(row["notebook"], {})[row["cell"]] = row["max_points"]
        for nb_name, cells in manual.items():
            page = course_dir / "feedback" / res["student"] / assignment / f"{nb_name}.html"
            mark_manual_cells_in_feedback(page, cells)


def generate_feedback(course_dir: Path, results: dict, log: Path, workers: int = 1) -> None:
    """nbgrader's feedback for every assignment ({assignment: results}), ``workers`` at once."""
    from concurrent.futures import ThreadPoolExecutor

    def one(assignment):
        run_nbgrader(course_dir, "generate_feedback", assignment, "--force", log=log,
                     check=False)
        _mark_manual(course_dir, assignment, results[assignment])

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(one, sorted(results)))


def grade_sandboxed(course_dir: Path, submitted: dict, source_root: Path, log: Path, seed: int,
                    jobs: int = 1, force: bool = False, executor: str | None = None,
                    limits: dict | None = None, progress: bool = True,
                    skipped: dict | None = None) -> list[Row]:
    """Grade ``submitted`` ({assignment: {student: folder in submitted/}}); returns rows.

    Every assignment's jobs share one pool, and the assignments' feedback is
    generated side by side, so the serial parts stay small.
    """
    job_list = []
    for assignment, students in sorted(submitted.items()):
        run_nbgrader(course_dir, "generate_assignment", assignment, "--force", log=log)
        job_list += [Job(s, assignment, str(folder), str(course_dir), str(source_root), seed,
                         dict(limits or {}), force,
                         list((skipped or {}).get((assignment, s), [])))
                     for s, folder in sorted(students.items())]
    if progress:
        print(f"{', '.join(sorted(submitted))}: {len(job_list)} submission(s), {jobs} worker(s); "
              f"isolation: {isolation.describe_isolation()}")
    results = run_jobs(job_list, jobs, executor or "local", progress)
    by_assignment = {a: [r for r in results if r["assignment"] == a] for a in submitted}
    for assignment, res in sorted(by_assignment.items()):
        update_gradebook(course_dir, assignment, res)
    generate_feedback(course_dir, by_assignment, log, jobs)
    rows = []
    for res in sorted(results, key=lambda r: (r["assignment"], r["student"])):
        rows += [Row(**r) for r in res["rows"]]
    return rows
