"""Recording results in nbgrader's gradebook exactly as nbgrader's own autograde does.

For each graded student: the submission with its time (``timestamp.txt``,
read as nbgrader reads it), every grade cell's ``auto_score`` with
``needs_manual_grade`` set as nbgrader sets it (an autograded cell needs no
manual grade unless a person already graded it; a blank written answer
scores 0; an answered one waits for the instructor), "No response." on blank
written answers, nbgrader's "flagged" mark on every notebook the grader
flagged, and the late penalty of the course's ``LateSubmissionPlugin``
(configured in ``nbgrader_config.py`` as for nbgrader).  Only this process
writes ``gradebook.db`` (SQLite has one writer).
"""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path


def parse_timestamp(text: str | None) -> datetime | None:
    """A ``timestamp.txt`` as nbgrader reads it (UTC, naive); None if empty; ValueError if bad."""
    if not text:
        return None
    from nbgrader.utils import parse_utc

    try:
        return parse_utc(text)
    except (ValueError, OverflowError, TypeError) as err:
        raise ValueError(f"timestamp.txt holds {text[:60]!r}, not a time ({err})") from None


def _late_plugin(course_dir: Path):
    """The course's late-submission plugin, configured from nbgrader_config.py."""
    from nbgrader.plugins import LateSubmissionPlugin
    from traitlets import import_item
    from traitlets.config.loader import PyFileConfigLoader

    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()
    except Exception:  # noqa: BLE001 - no or broken config: nbgrader's defaults
        from traitlets.config import Config

        config = Config()
    cls = config.get("AssignLatePenalties", {}).get("plugin_class", LateSubmissionPlugin)
    if isinstance(cls, str):
        cls = import_item(cls)
    return cls(config=config)


def record(course_dir: Path, assignment: str, results: list[dict], timestamps: dict) -> None:
    """Write every result of ``assignment`` into gradebook.db (``timestamps``: student ->
    datetime or None)."""
    from nbgrader.api import Gradebook, MissingEntry

    plugin = _late_plugin(course_dir)
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")  # nbgrader's add_submission trips SQLAlchemy warnings
        for res in results:
            student = res["student"]
            gb.update_or_create_student(student)
            stamp = timestamps.get(student)
            submission = (gb.update_or_create_submission(assignment, student, timestamp=stamp)
                          if stamp else gb.update_or_create_submission(assignment, student))
            flagged = {row["notebook"] for row in res["rows"] if row["flags"]}
            for row in res["rows"]:
                try:
                    grade = gb.find_grade(row["cell"], row["notebook"], assignment, student)
                except MissingEntry:
                    continue
                if row["kind"] == "manual" and row["status"] == "manual":
                    grade.auto_score = None          # answered: waits for the instructor
                    grade.needs_manual_grade = True
                    continue
                grade.auto_score = float(row["points"])
                grade.needs_manual_grade = grade.manual_score is not None
                if row["kind"] == "manual":          # a blank written answer
                    try:
                        gb.find_comment(row["cell"], row["notebook"], assignment,
                                        student).auto_comment = "No response."
                    except MissingEntry:
                        pass
            gb.db.commit()
            for notebook in submission.notebooks:
                notebook.flagged = notebook.name in flagged
                notebook.late_submission_penalty = None
                seconds = submission.total_seconds_late
                if seconds and seconds > 0:
                    penalty = plugin.late_submission_penalty(student, notebook.score, seconds)
                    if penalty is not None:
                        notebook.late_submission_penalty = min(max(penalty, 0), notebook.score)
            gb.db.commit()
