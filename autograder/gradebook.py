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

import hashlib
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


def _generated_stamp(course_dir: Path, sources: dict) -> str:
    import nbgrader

    h = hashlib.sha256(nbgrader.__version__.encode())
    config = course_dir / "nbgrader_config.py"
    h.update(config.read_bytes() if config.is_file() else b"")
    for name, text in sorted(sources.items()):
        h.update(b"\0" + name.encode() + b"\0" + text.encode())
    return h.hexdigest()


def _stamp_path(course_dir: Path, assignment: str) -> Path:
    return course_dir / "grading" / assignment / "generated-from.sha256"


def generated(course_dir: Path, assignment: str, sources: dict) -> bool:
    """Whether ``nbgrader generate_assignment`` already ran on these source notebooks
    (name -> text) in this course: the stamp ``mark_generated`` left matches, and the
    release notebooks and the gradebook's assignment are there."""
    from nbgrader.api import Gradebook, MissingEntry

    try:
        if _stamp_path(course_dir, assignment).read_text() != _generated_stamp(course_dir,
                                                                               sources):
            return False
    except OSError:
        return False
    if not all((course_dir / "release" / assignment / name).is_file() for name in sources):
        return False
    db = course_dir / "gradebook.db"
    if not db.is_file():
        return False
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{db}") as gb:
        warnings.simplefilter("ignore")
        try:
            found = gb.find_assignment(assignment)
        except MissingEntry:
            return False
        return {nb.name + ".ipynb" for nb in found.notebooks} == set(sources)


def mark_generated(course_dir: Path, assignment: str, sources: dict) -> None:
    """Remember that ``nbgrader generate_assignment`` ran on these sources."""
    path = _stamp_path(course_dir, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_generated_stamp(course_dir, sources))
