"""The `course` command: the instructor's pipeline around nbgrader.

Run `course --help` for the commands, `course COMMAND --help` for each.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from .course import CourseError

GLOBAL = """\
the course directory (the folder holding nbgrader_config.py) is --course-dir DIR
(before or after the command), else $COURSE_DIR, else the nearest folder from the
current directory upwards that holds nbgrader_config.py.

environment:
  COURSE_DIR             the course directory (as --course-dir)
  COURSE_GRADING_SEED    grading seed for hidden cases (default: the course's secret seed)
  COURSE_DASK_SCHEDULER  address of a Dask scheduler for `grade --executor dask`
                         (default: a local Dask cluster of --jobs workers)
  COURSE_QUICK           1: notebooks run in quick mode (small subsets), 0: full mode
  COURSE_DATASET         dataset the notebooks load (default: the bundled one)
  COURSE_DATA_DIR        where downloaded datasets live
"""


def _assignments(args) -> list[str] | None:
    from .course import check_assignments

    names = getattr(args, "assignments", None) or getattr(args, "assignment", None)
    return check_assignments(names) if names else None


def _cmd_release(args) -> int:
    from .release import release

    for path in release(_assignments(args)):
        print(f"wrote {path}")
    return 0


def _cmd_grade(args) -> int:
    from .course import course_root
    from .grade import grade
    from .table import TABLE_NAME, summary

    rows = grade(args.submissions, out=args.out, engine=args.engine,
                 assignments=_assignments(args), **_engine_options(args))
    print(summary(rows))
    out = Path(args.out) if args.out else course_root() / TABLE_NAME
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

    return run_demo(args.workdir, engine=args.engine, assignments=_assignments(args),
                    **_engine_options(args))


def _cmd_solutions(args) -> int:
    from .solutions import run_solutions

    return run_solutions(_assignments(args), full=args.full, out=args.out)


def _cmd_mutants(args) -> int:
    from . import tasks
    from .course import existing_assignments
    from .mutants import format_report, run_mutants

    bad = 0
    for a in _assignments(args) or existing_assignments():
        if not tasks.has_tasks(a):
            print(f"== {a}: no graded tasks")
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
                   help="where workers run: local processes (default) or a Dask cluster "
                        "($COURSE_DASK_SCHEDULER, else a local one)")


def _parser() -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="course", description="The instructor's pipeline "
                                     "around nbgrader.", epilog=GLOBAL, formatter_class=raw,
                                     usage="course [--course-dir DIR] COMMAND ...")
    parser.add_argument("--course-dir", default=None, metavar="DIR",
                        help="the course directory (see below)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                title="commands (`course COMMAND --help` tells more)")

    def command(name, help_, description=None):
        text = textwrap.fill(description or help_.split(": ", 1)[-1], 88)
        return sub.add_parser(name, prog=f"course {name}", help=help_, description=text,
                              epilog=GLOBAL, formatter_class=raw)

    p = command("release", "[ASSIGNMENT ...]: regenerate release/ from source/")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                   help="only these assignments (default: all)")
    p.set_defaults(func=_cmd_release)

    p = command("grade", "SUBMISSIONS: autograde, give feedback, write course_grades.csv",
                "Autograde every SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb in a "
                "sandbox, record the grades in nbgrader's gradebook, generate nbgrader "
                "feedback, and write the course's grade table.  SUBMISSIONS may be nbgrader's "
                "own submitted/ folder (graded in place, never changed) or any folder outside "
                "what grading writes.")
    p.add_argument("submissions", metavar="SUBMISSIONS",
                   help="folder of <student>/<assignment>/<notebook>.ipynb (e.g. submitted)")
    p.add_argument("--out", default=None,
                   help="CSV grade table (default: COURSE_DIR/course_grades.csv)")
    p.add_argument("--assignment", action="append", metavar="ASSIGNMENT",
                   help="only this assignment (repeatable)")
    _add_engine_args(p)
    p.set_defaults(func=_cmd_grade)

    p = command("demo", "[ASSIGNMENT ...]: the whole pipeline on three demo students")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                   help="only these assignments (default: all)")
    p.add_argument("--workdir", default=None, help="scratch course directory (default build/demo)")
    _add_engine_args(p)
    p.set_defaults(func=_cmd_demo)

    p = command("solutions", "[--full] [ASSIGNMENT ...]: run the solution notebooks into "
                             "build/solutions")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                   help="only these assignments (default: all)")
    p.add_argument("--full", action="store_true", help="full sizes instead of quick mode")
    p.add_argument("--out", default=None, help="output folder (default build/solutions)")
    p.set_defaults(func=_cmd_solutions)

    p = command("mutants", "[ASSIGNMENT ...]: which test cell catches each planted bug")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                   help="only these assignments (default: all)")
    p.add_argument("--seed", type=int, default=None)
    p.set_defaults(func=_cmd_mutants)

    p = sub.add_parser("nbtext", help="to-text|from-text ...: edit notebooks as text",
                       add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda a: __import__("autograder.nbtext").nbtext.main(a.rest))
    return parser


def _take_course_dir(argv: list[str]) -> tuple[list[str], str | None]:
    """``--course-dir DIR`` (or ``=DIR``) from anywhere before `nbtext`'s own arguments."""
    out, found, i = [], None, 0
    while i < len(argv):
        a = argv[i]
        if a == "nbtext":
            return out + argv[i:], found
        if a == "--course-dir" and i + 1 < len(argv):
            found, i = argv[i + 1], i + 2
            continue
        if a.startswith("--course-dir="):
            found = a.split("=", 1)[1]
        else:
            out.append(a)
        i += 1
    return out, found


def main(argv=None) -> int:
    parser = _parser()
    argv, course_dir = _take_course_dir(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    args.course_dir = course_dir
    if args.course_dir:
        from .course import set_course_dir

        set_course_dir(args.course_dir)
    if args.command in ("grade", "demo", "mutants"):
        # grading runs many processes side by side (set before the command imports numpy)
        from .blas import use_one_thread

        use_one_thread()
    try:
        return args.func(args)
    except CourseError as err:
        print(f"course: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
