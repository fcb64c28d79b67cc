"""The grade table: one row per (student, assignment, notebook, graded cell).

Rows are written to CSV and printed as a summary; both are read by people
with spreadsheets and terminals, and several fields come from students
(folder names, exception messages).  So every text field is cleaned when a
row is made (``clean``): control characters (terminal escapes, carriage
returns, bidirectional overrides) are shown as escapes, and the text is cut
to ``TEXT_LIMIT`` characters (``ID_LIMIT`` for names).  The CSV writer also
neutralizes cells a spreadsheet would run as a formula (``=``, ``+``, ``-``,
``@`` first) by prefixing an apostrophe.
"""

from __future__ import annotations

import csv
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path

# the course's own grade table (nbgrader export writes grades.csv, in its own format)
TABLE_NAME = "course_grades.csv"
TEXT_LIMIT = 500
ID_LIMIT = 100
STATUSES = ("passed", "failed", "manual", "missing", "error", "grader-error", "refused")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def clean(text, limit: int = TEXT_LIMIT) -> str:
    """Printable, bounded text: control characters escaped, cut to ``limit`` characters."""
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"),
                        str(text))
    if len(text) > limit:
        text = text[:limit - 30] + f"... ({len(text) - limit + 30} more characters)"
    return text


@dataclass
class Row:
    student: str
    assignment: str
    notebook: str
    cell: str
    points: float
    max_points: float
    status: str       # one of STATUSES
    kind: str = "auto"  # auto (autograded test cell) | manual (graded by a person)
    message: str = ""
    flags: str = ""
    seed: str = ""
    engine: str = ""

    def __post_init__(self):
        for name in ("student", "assignment", "notebook", "cell"):
            setattr(self, name, clean(getattr(self, name), ID_LIMIT))
        for name in ("message", "flags", "seed", "engine", "status", "kind"):
            setattr(self, name, clean(getattr(self, name)))

    def key(self):
        return (self.student, self.assignment, self.notebook, self.cell)


COLUMNS = [f.name for f in fields(Row)]


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value


def write_table(rows: list[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in sorted(rows, key=Row.key):
            d = {k: _cell(v) if isinstance(v, str) else v for k, v in asdict(r).items()}
            d["points"] = f"{r.points:g}"
            d["max_points"] = f"{r.max_points:g}"
            w.writerow(d)


def summary(rows: list[Row]) -> str:
    """The table per student and assignment, then the flagged submissions."""
    by = {}
    for r in rows:
        by.setdefault((r.student, r.assignment), []).append(r)
    lines = [f"{'student':<22} {'assignment':<22} {'autograded':>11} {'to grade':>9}  notes"]
    flagged = []
    for (student, assignment), rs in sorted(by.items()):
        auto = [r for r in rs if r.kind == "auto"]
        got = sum(r.points for r in auto)
        top = sum(r.max_points for r in auto)
        manual = sum(r.max_points for r in rs if r.kind == "manual" and r.status == "manual")
        lost = [f"{r.cell} {r.points:g}/{r.max_points:g}" for r in auto if r.points < r.max_points]
        notes = ("lost: " + ", ".join(lost)) if lost else "full marks"
        if any(r.status in ("error", "missing", "grader-error", "refused") for r in rs):
            notes = rs[0].message or notes
        flags = sorted({f for r in rs for f in r.flags.split(";") if f})
        if flags:
            flagged.append(f"  {student} / {assignment}: {', '.join(flags)}")
        lines.append(f"{student:<22} {assignment:<22} {got:>5g} / {top:<3g} {manual:>7g}  "
                     f"{clean(notes, 300)}")
    lines.append("\n('to grade': points of written answers still to be graded by the instructor)")
    if flagged:
        lines.append("\nflagged for a human to look at (details in grading/<assignment>/"
                     "<student>.json; flags never change a score):")
        lines += flagged
    return "\n".join(lines)
