"""`course demo`: the whole instructor pipeline on three made-up students.

For every assignment: `reference` hands in the source solutions, `blank` the
untouched release, `buggy` the solutions with one planted bug.  Everything is
released, autograded and given feedback in a scratch course directory, and
the outcome is compared with what must happen: reference gets every
autograded point, blank none, buggy loses exactly the points of the cell
that tests the broken function.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import nbformat

from . import tasks as _tasks
from .course import course_root, existing_assignments
from .cells import grade_id, is_answer
from .grade import grade
from .mutants import apply
from .notebooks import answer_sources, read, reference_submission
from .release import generate
from .table import TABLE_NAME, summary


def make_submissions(workdir: Path, assignments, root: Path) -> Path:
    """Write demo_submissions/<student>/<assignment>/<nb>.ipynb; returns the folder."""
    subs = workdir / "demo_submissions"
    if subs.exists():
        shutil.rmtree(subs)
    for a in assignments:
        module = _tasks.load(a)
        for src_path in sorted((root / "source" / a).glob("*.ipynb")):
            release_nb = read(workdir / "release" / a / src_path.name)
            source_nb = read(src_path)
            good = reference_submission(source_nb, release_nb)
            buggy = nbformat.from_dict(good)
            bug = module.demo_bug
            if bug is not None:
                mutated = apply(answer_sources(source_nb), bug)
                for cell in buggy.cells:
                    if is_answer(cell) and grade_id(cell) == bug.cell:
                        cell.source = mutated[bug.cell]
            for student, nb in (("reference", good), ("blank", release_nb), ("buggy", buggy)):
                path = subs / student / a / src_path.name
                path.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, str(path))
    return subs


def expectations(rows, assignments):
    """Lines describing any way the demo outcome differs from what must happen."""
    problems = []
    for a in assignments:
        bug = _tasks.load(a).demo_bug
        for r in (r for r in rows if r.assignment == a and r.kind == "auto"):
            if r.student == "reference" and r.points != r.max_points:
                problems.append(f"reference lost points in {a}/{r.cell}: {r.message}")
            if r.student == "blank" and r.points != 0:
                problems.append(f"blank got points in {a}/{r.cell}")
            if r.student == "buggy":
                should_fail = bug is not None and r.cell == bug.task
                if should_fail and r.points != 0:
                    problems.append(f"buggy kept the points of {a}/{r.cell}")
                if not should_fail and r.points != r.max_points:
                    problems.append(f"buggy lost points in {a}/{r.cell}, which tests a correct "
                                    f"function: {r.message}")
    return problems


def run_demo(workdir=None, engine="sandbox", assignments=None, **options) -> int:
    root = course_root()
    workdir = Path(workdir) if workdir else root / "build" / "demo"
    assignments = assignments or existing_assignments(root)
    start = time.perf_counter()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    print(f"demo course directory: {workdir}")
    print(f"1/3 releasing {', '.join(assignments)} from source/ ...")
    generate(assignments, root, workdir / "release")
    subs = make_submissions(workdir, assignments, root)
    print(f"2/3 grading students reference, blank, buggy with the {engine} engine ...")
    rows = grade(subs, course_dir=workdir, out=workdir / TABLE_NAME, engine=engine,
                 assignments=assignments, **options)
    print("3/3 grade table\n")
    print(summary(rows))
    for a in assignments:
        bug = _tasks.load(a).demo_bug
        if bug is not None:
            print(f"\nplanted bug in buggy/{a}: {bug.name} (the cell {bug.task} must catch it)")
    print(f"\ngrade table (CSV): {workdir / TABLE_NAME}")
    print(f"feedback (HTML):   {workdir / 'feedback'}/<student>/<assignment>/")
    problems = expectations(rows, assignments)
    took = time.perf_counter() - start
    if problems:
        print("\nUNEXPECTED RESULTS:\n  " + "\n  ".join(problems))
        return 1
    print(f"\nas expected: reference full marks, blank 0, buggy loses only the broken "
          f"function's cell ({took:.0f} s)")
    return 0
