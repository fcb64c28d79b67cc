"""Running the jobs of a grading run and recording what they produce.

The stages, in order:

1. ``make_job`` (here, per student, behind that student's boundary): read
   the submission folder (bounded, ``submissions.read_folder``), copy it
   into nbgrader's ``submitted/`` unless it is already there, and turn it
   into a plain-data ``Job`` -- or reuse the recorded result when nothing it
   depends on changed;
2. ``run_jobs``: the jobs run in local processes (``--jobs``) or on a Dask
   cluster, never more than a few at a time in flight (a class of hundreds
   is never held in memory at once); a job needs no path into the course
   directory, so Dask workers need only the course package installed;
3. ``save_result``: the autograded notebooks and the instructor's log;
4. ``gradebook.record``: scores, times, late penalties and flags, as
   nbgrader's autograde records them (this process alone writes SQLite);
5. ``generate_feedback``: nbgrader's feedback with the course's template.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from . import isolation, nbgrader_feedback
from .course import source_notebooks
from .notebooks import blocks_text
from .flags import Flag
from .gradebook import generated, mark_generated, parse_timestamp, record
from .jobs import SLOT, Job, error_result, grade_job, job_digest, recorded
from .nbgrader_run import run_nbgrader
from .submissions import read_folder
from .table import Row

IN_FLIGHT_PER_WORKER = 2


def _init_slot(counter):
    with counter.get_lock():
        SLOT[0] = counter.value
        counter.value += 1


def result_path(course_dir: Path, assignment: str, student: str) -> Path:
    return course_dir / "grading" / assignment / f"{student}.json"


class Run:
    """What a grading run knows: the course, the sources, the seed, the limits."""

    def __init__(self, course_dir: Path, source_root: Path, assignments, seed: int,
                 limits: dict | None, force: bool, copy_in: bool):
        self.course_dir, self.seed, self.force, self.copy_in = course_dir, seed, force, copy_in
        self.limits = dict(limits or {})
        self.sources = {a: {p.name: p.read_text(encoding="utf-8")
                            for p in source_notebooks(a, source_root)} for a in assignments}
        self.blocks = {a: blocks_text(a, source_root) for a in assignments}
        self.hide = [str(course_dir), str(source_root)]
        self.timestamps: dict = {}   # (assignment, student) -> timestamp text
        self.feedback_due: set = set()   # (assignment, student) whose feedback must be made

    def make_job(self, entry):
        """A ``Job`` for ``entry``, or its result when it needs no grading (or cannot be
        read); every failure here is that student's rows."""
        a, s = entry.assignment, entry.student
        try:
            copy_to = self.course_dir / "submitted" / s / a if self.copy_in else None
            if copy_to is not None and copy_to.exists():
                shutil.rmtree(copy_to)
            handed = read_folder(entry.folder, copy_to)
            self.timestamps[(a, s)] = handed.timestamp
            digest = job_digest(a, handed.notebooks, handed.skipped, self.sources[a], self.seed,
                                self.blocks[a])
            if not self.force:
                old = recorded(result_path(self.course_dir, a, s), digest)
                autograded = self.course_dir / "autograded" / s / a
                if old is not None and all((autograded / n).exists()
                                           for n in old.get("autograded_names", [])):
                    return old
            return Job(s, a, handed.notebooks, self.sources[a], self.seed, self.limits,
                       handed.skipped, self.hide, digest, self.blocks[a])
        except Exception as err:  # noqa: BLE001 - the boundary of one student
            return error_result(s, a, self.sources[a], self.seed, err)

    def save_result(self, result: dict) -> dict:
        """Write the autograded notebooks and the instructor's log; returns the result."""
        a, s = result["assignment"], result["student"]
        autograded = result.pop("autograded", None)
        if autograded is not None:   # a fresh result (a reused one keeps its files)
            folder = self.course_dir / "autograded" / s / a
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            for name, text in autograded.items():
                (folder / name).write_text(text, encoding="utf-8")
            result["autograded_names"] = sorted(autograded)
        stamp = self.timestamps.get((a, s))
        try:
            result["timestamp"] = parse_timestamp(stamp)
        except ValueError as err:
            result["timestamp"] = None
            _add_flag(result, Flag("bad-timestamp", str(err)))
        reused = result.pop("skipped", False)
        if reused and result.get("timestamp_text") == stamp:
            return result   # as it was recorded, and so is its feedback
        # a new grade, or a new time (a late penalty may change): its feedback is made again
        self.feedback_due.add((a, s))
        result["timestamp_text"] = stamp
        path = result_path(self.course_dir, a, s)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({k: v for k, v in result.items() if k != "timestamp"},
                                       indent=1, default=str))
        except OSError:
            pass
        return result


def _add_flag(result: dict, flag: Flag) -> None:
    for row in result["rows"]:
        row["flags"] = ";".join(f for f in (row["flags"].split(";") + [flag.kind]) if f)
    for log in result.get("notebooks", {}).values():
        log.setdefault("flags", []).append(flag.plain())


# --------------------------------------------------------------------------
# running jobs: locally or on Dask, a bounded number in flight
# --------------------------------------------------------------------------

def _pool(workers: int):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork (where available) so a caller's script needs no __main__ guard; the pool
    # exists before any progress-bar thread does
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    counter = ctx.Value("i", 0)
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_slot,
                               initargs=(counter,))


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


def _bounded(make, entries, submit, wait_first, limit):
    """Make jobs lazily, keep at most ``limit`` in flight, yield results as they finish."""
    pending, in_flight = iter(entries), set()
    while True:
        while len(in_flight) < limit:
            entry = next(pending, None)
            if entry is None:
                break
            made = make(entry)
            if isinstance(made, Job):
                in_flight.add(submit(made))
            else:
                yield made
        if not in_flight:
            return
        done, in_flight = wait_first(in_flight)
        for fut in done:
            yield fut.result()


def dask_client(workers: int):
    """(client, description, cleanup) for $COURSE_DASK_SCHEDULER, else a local cluster."""
    from dask.distributed import Client, LocalCluster

    address = os.environ.get("COURSE_DASK_SCHEDULER")
    if address:
        client = Client(address)
        n = len(client.scheduler_info().get("workers", {}))
        return client, f"the Dask cluster at {address} ({n} worker(s))", client.close
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)

    def close():
        client.close()
        cluster.close()
    return client, f"a local Dask cluster of {workers} worker(s)", close


def completed(make, entries, workers: int, executor: str, announce=print):
    """Yield each entry's result as it finishes."""
    limit = max(1, workers) * IN_FLIGHT_PER_WORKER
    if executor == "dask":
        from dask.distributed import wait

        client, where, close = dask_client(workers)
        announce(f"on {where}")
        try:
            yield from _bounded(make, entries,
                                lambda job: client.submit(grade_job, job, pure=False),
                                lambda fs: wait(fs, return_when="FIRST_COMPLETED"), limit)
        finally:
            close()
    elif workers <= 1:
        announce("in this process, one at a time")
        for entry in entries:
            made = make(entry)
            yield grade_job(made) if isinstance(made, Job) else made
    else:
        from concurrent.futures import FIRST_COMPLETED, wait

        announce(f"on {workers} local worker processes")
        pool = _pool(workers)
        try:
            yield from _bounded(make, entries, lambda job: pool.submit(grade_job, job),
                                lambda fs: wait(fs, return_when=FIRST_COMPLETED), limit)
        except BaseException:
            _stop_workers(pool)
            raise
        pool.shutdown(wait=True)


# --------------------------------------------------------------------------
# feedback
# --------------------------------------------------------------------------

def generate_feedback(course_dir: Path, assignments, log: Path, workers: int = 1) -> None:
    """nbgrader's feedback for every assignment, ``workers`` at once, with the course's
    template: the pages that are missing (nbgrader keeps the others)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(assignment):
        run_nbgrader(course_dir, "generate_feedback", assignment,
                     *nbgrader_feedback.options(), log=log, check=False)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(one, sorted(assignments)))


def grade_sandboxed(course_dir: Path, entries: list, source_root: Path, log: Path, seed: int,
                    jobs: int = 1, force: bool = False, executor: str | None = None,
                    limits: dict | None = None, progress: bool = True,
                    copy_in: bool = True) -> list[Row]:
    """Grade ``entries`` (``submissions.Entry`` with a folder); returns their rows.

    Every assignment's jobs share one pool, and the assignments' feedback is
    generated side by side, so the serial parts stay small.
    """
    from tqdm.auto import tqdm

    assignments = sorted({e.assignment for e in entries})
    run = Run(course_dir, source_root, assignments, seed, limits, force, copy_in)
    for a in assignments:   # nbgrader's gradebook learns the assignment and its cells
        if force or not generated(course_dir, a, run.sources[a]):
            run_nbgrader(course_dir, "generate_assignment", a, "--force", log=log)
            mark_generated(course_dir, a, run.sources[a])
    head = f"{', '.join(assignments)}: {len(entries)} submission(s)"
    announce = (lambda where: print(f"{head} {where}; isolation: "
                                    f"{isolation.describe_isolation()}")) if progress \
        else (lambda where: None)
    results = []
    with tqdm(total=len(entries), desc="grading", unit="submission",
              disable=not progress) as bar:
        for result in completed(run.make_job, entries, jobs, executor or "local", announce):
            results.append(run.save_result(result))
            bar.update()
    for a in assignments:
        mine = [r for r in results if r["assignment"] == a]
        record(course_dir, a, mine, {r["student"]: r.get("timestamp") for r in mine})
    for a, s in run.feedback_due:   # graded again, or a new time: its page is made again
        shutil.rmtree(course_dir / "feedback" / s / a, ignore_errors=True)
    missing = {r["assignment"] for r in results if r.get("autograded_names") and not
               (course_dir / "feedback" / r["student"] / r["assignment"]).is_dir()}
    generate_feedback(course_dir, sorted(missing), log, jobs)
    rows = []
    for res in sorted(results, key=lambda r: (r["assignment"], r["student"])):
        rows += [Row(**r) for r in res["rows"]]
    return rows
