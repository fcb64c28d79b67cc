"""Grading throughput: sandboxed engine with 1 and 2 workers vs stock nbgrader.

Builds N submissions of every assignment (copies of the demo students
reference / blank / buggy), grades them three ways in one run and prints
submissions per minute and the ratio of the sandboxed engine's time to plain
`nbgrader autograde` on the same submissions (each engine's time includes
registering the assignment and generating feedback).

    python benchmarks/grading.py [--copies 2] [--assignment 01_knn]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from autograder.course import course_root, existing_assignments
from autograder.demo import make_submissions
from autograder.grade import grade
from autograder.release import generate


def build(workdir: Path, assignments, copies: int) -> Path:
    generate(assignments, course_root(), workdir / "release")
    demo = make_submissions(workdir, assignments, course_root())
    subs = workdir / "submissions"
    for student in sorted(p.name for p in demo.iterdir()):
        for k in range(copies):
            shutil.copytree(demo / student, subs / f"{student}{k}")
    return subs


def timed(subs: Path, course: Path, **options) -> float:
    if course.exists():
        shutil.rmtree(course)
    start = time.perf_counter()
    grade(subs, course_dir=course, out=course / "course_grades.csv", **options)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=2, help="copies of each demo student")
    parser.add_argument("--assignment", action="append", default=None)
    args = parser.parse_args(argv)
    assignments = args.assignment or existing_assignments()
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        tmp = Path(tmp)
        subs = build(tmp, assignments, args.copies)
        n = sum(1 for s in subs.iterdir() for a in s.iterdir())
        results = {
            "stock nbgrader autograde": timed(subs, tmp / "c0", engine="nbgrader"),
            "sandbox, 1 worker": timed(subs, tmp / "c1", engine="sandbox", jobs=1,
                                       progress=False),
            "sandbox, 2 workers": timed(subs, tmp / "c2", engine="sandbox", jobs=2,
                                        progress=False),
        }
    base = results["stock nbgrader autograde"]
    print(f"{n} submissions ({', '.join(assignments)}; {args.copies} copies each of "
          f"reference / blank / buggy), {os.cpu_count()} cores")
    print(f"{'engine':<26}{'seconds':>9}{'subm./min':>11}{'time vs stock':>15}")
    for name, t in results.items():
        print(f"{name:<26}{t:>9.1f}{n / t * 60:>11.1f}{t / base:>14.2f}x")
    print(f"sandbox overhead (1 worker / stock): {results['sandbox, 1 worker'] / base:.2f}x "
          "(target < 1.5x)")
    print(f"speed-up from the second worker: "
          f"{results['sandbox, 1 worker'] / results['sandbox, 2 workers']:.2f}x")


if __name__ == "__main__":
    main()
