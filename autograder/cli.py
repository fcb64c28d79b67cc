"""The `course` command: the instructor's pipeline.

    course release [ASSIGNMENT ...]        regenerate release/ from source/
    course grade SUBMISSIONS [options]     autograde, feedback, grade table
    course demo [ASSIGNMENT ...]           the whole pipeline on three demo students

Global option: --course-dir DIR (else $COURSE_DIR, else the current directory),
the folder holding nbgrader_config.py, source/ and release/.
    course solutions [--full] [ASSIGNMENT ...]   run the solution notebooks into build/
    course mutants [ASSIGNMENT ...]        which test cell catches each planted bug
    course nbtext to-text|from-text ...    edit notebooks as text
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .course import NotACourse


def _cmd_release(args) -> int:
    from .release import release

    for path in release(args.assignments or None):
        print(f"wrote {path}")
    return 0


def _cmd_grade(args) -> int:
    from .course import course_root
    from .grade import grade
    from .table import summary

    rows = grade(args.submissions, out=args.out, engine=args.engine,
                 assignments=args.assignment or None, **_engine_options(args))
    print(summary(rows))
    out = Path(args.out) if args.out else course_root() / "grades.csv"
    print(f"\ngrade table: {out}")
    return 0


def _engine_options(args) -> dict:
    if args.engine == "nbgrader":
        return {"seed": args.seed}
    opts = {"jobs": args.jobs, "force": args.force, "seed": args.seed}
    if args.executor:
        opts["executor"] = args.executor
    return opts


def _cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(args.workdir, engine=args.engine, assignments=args.assignments or None,
                    **_engine_options(args))


def _cmd_solutions(args) -> int:
    from .solutions import run_solutions

    return run_solutions(args.assignments or None, full=args.full, out=args.out)


def _cmd_mutants(args) -> int:
    from .course import existing_assignments
    from .mutants import format_report, run_mutants

    bad = 0
    for a in args.assignments or existing_assignments():
        from . import tasks

        if not tasks.has_tasks(a):
            continue
        results = run_mutants(a, seed=args.seed)
        print(f"== {a}\n{format_report(results)}\n")
        bad += sum(not r.killed_cleanly for r in results)
    return 1 if bad else 0


def _add_engine_args(p):
    p.add_argument("--engine", choices=["sandbox", "nbgrader"], default="sandbox",
                   help="sandbox (default): out-of-process checks in a sandbox; "
                        "nbgrader: stock nbgrader autograde, for comparison")
    p.add_argument("--jobs", type=int, default=1, help="parallel workers (sandbox engine)")
    p.add_argument("--force", action="store_true", help="regrade submissions already graded")
    p.add_argument("--seed", type=int, default=None, help="grading seed for hidden cases")
    p.add_argument("--executor", choices=["local", "dask"], default=None,
                   help="where workers run: local processes (default) or a Dask cluster")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="course", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--course-dir", default=None,
                        help="the course directory, holding nbgrader_config.py (default: "
                             "$COURSE_DIR, else the current directory)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="regenerate release/ from source/")
    p.add_argument("assignments", nargs="*")
    p.set_defaults(func=_cmd_release)

    p = sub.add_parser("grade", help="autograde SUBMISSIONS/<student>/<assignment>/*.ipynb")
    p.add_argument("submissions")
    p.add_argument("--out", default=None, help="CSV grade table (default: COURSE_DIR/grades.csv)")
    p.add_argument("--assignment", action="append", help="only these assignments")
    _add_engine_args(p)
    p.set_defaults(func=_cmd_grade)

    p = sub.add_parser("demo", help="release, grade and give feedback to three demo students")
    p.add_argument("assignments", nargs="*", help="only these assignments (default: all)")
    p.add_argument("--workdir", default=None, help="scratch course directory (default build/demo)")
    _add_engine_args(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("solutions", help="execute the solution notebooks into build/solutions")
    p.add_argument("assignments", nargs="*")
    p.add_argument("--full", action="store_true", help="full sizes instead of quick mode")
    p.add_argument("--out", default=None)
    p.set_defaults(func=_cmd_solutions)

    p = sub.add_parser("mutants", help="show which test cell catches each planted bug")
    p.add_argument("assignments", nargs="*")
    p.add_argument("--seed", type=int, default=None)
    p.set_defaults(func=_cmd_mutants)

    p = sub.add_parser("nbtext", help="edit notebooks as percent-format text", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda a: __import__("autograder.nbtext").nbtext.main(a.rest))

    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "nbtext":  # `course grade SUBS --course-dir X` works too
        extra = argparse.ArgumentParser(add_help=False)
        extra.add_argument("--course-dir", default=None)
        known, unknown = extra.parse_known_args(rest)
        if unknown:
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.course_dir = known.course_dir or args.course_dir
    if args.course_dir:
        from .course import set_course_dir

        set_course_dir(args.course_dir)
    if args.command in ("grade", "demo", "mutants"):
        # grading runs many processes side by side (set before the command imports numpy)
        from .blas import use_one_thread

        use_one_thread()
    try:
        return args.func(args)
    except NotACourse as err:
        print(f"course: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
