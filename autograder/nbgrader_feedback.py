"""nbgrader's feedback as the course shows it: the template and what it reads from the gradebook.

``CourseGrades`` is nbgrader's ``GetGrades`` preprocessor that also hands
the template each graded cell's ``needs_manual_grade`` (nbgrader gives the
template only the score, which is 0 for a written answer nobody graded
yet).  ``options()`` are the ``generate_feedback`` options `course grade`
passes; the same lines in a course's ``nbgrader_config.py`` make plain
``nbgrader generate_feedback`` use them too.
"""

from __future__ import annotations

from pathlib import Path

from nbgrader.preprocessors import GetGrades

# templates/course_feedback/course.html.j2 extends nbgrader's feedback page (its base template)
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE = "course_feedback"


class CourseGrades(GetGrades):
    def _get_score(self, cell, resources):
        super()._get_score(cell, resources)
        grade = self.gradebook.find_grade(cell.metadata["nbgrader"]["grade_id"],
                                          self.notebook_id, self.assignment_id, self.student_id)
        cell.metadata.nbgrader["needs_manual_grade"] = bool(grade.needs_manual_grade)


def settings() -> dict:
    """{(class, trait): value} that select the course's feedback page."""
    import nbgrader

    nbgrader_templates = Path(nbgrader.__file__).resolve().parent / "server_extensions" / \
        "formgrader" / "templates"
    return {("HTMLExporter", "template_name"): TEMPLATE,
            ("HTMLExporter", "template_file"): "course.html.j2",
            ("HTMLExporter", "extra_template_basedirs"): [str(TEMPLATE_DIR),
                                                          str(nbgrader_templates)],
            ("GenerateFeedback", "preprocessors"): [
                "autograder.nbgrader_feedback.CourseGrades",
                "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]}


def configure(c) -> None:
    """Set the course's feedback page in an nbgrader config (``nbgrader_config.py``)."""
    for (cls, trait), value in settings().items():
        setattr(getattr(c, cls), trait, value)


def options() -> list[str]:
    """The same settings as ``nbgrader generate_feedback`` options."""
    out = []
    for (cls, trait), value in settings().items():
        for v in value if isinstance(value, list) else [value]:
            out.append(f"--{cls}.{trait}={v}")
    return out
