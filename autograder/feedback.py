"""The autograded notebook nbgrader turns into feedback (and the formgrader shows).

Built from the source notebook's cells: answer cells hold the student's
code, test cells the release version (no hidden tests) and the verdict,
whose first line is the message; manual answers hold the student's text
with every HTML tag and script link made inert (the page is opened by the
student and, in the formgrader, by the instructor), followed by a note
that they are still to be graded.  Only output printed before any hidden
case ran is shown (hidden cases run after the last cell, so that is all of
it), cut to the sandbox's output cap.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat

from .cells import grade_id, is_answer, is_manual, is_test
from .notebooks import strip_hidden_tests

TO_GRADE = "*(to be graded by your instructor)*"
_SCHEMES = re.compile(r"(?i)\b(javascript|vbscript|data|file)(\s*):")


def inert_markdown(text: str) -> str:
    """Markdown that renders as the student wrote it but can run nothing.

    HTML is escaped; link and image syntax is escaped too (``\\[``), so no
    URL the student wrote becomes a link; script-like schemes are broken
    in the text.
    """
    text = html.escape(text, quote=False).replace("[", "\\[").replace("]", "\\]")
    return _SCHEMES.sub(lambda m: f"{m.group(1)} {m.group(2)}:", text)


def _error(message: str, traceback_lines=()):
    return nbformat.v4.new_output("error", ename="CheckFailed", evalue=message,
                                  traceback=[f"CheckFailed: {message}", *traceback_lines])


def write_autograded(source_nb, plan, verdicts: dict, shown_output: dict, path: Path) -> None:
    """``verdicts``: grade id -> (passed, message); ``shown_output``: label -> text."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = source_nb.metadata
    for cell in source_nb.cells:
        gid = grade_id(cell)
        new = nbformat.from_dict(dict(cell))
        if is_answer(cell):
            new.source = plan.answers.get(gid, "# (cell missing from the submission)")
        elif is_manual(cell):
            answer = plan.manual.get(gid)
            body = inert_markdown(answer) if answer is not None else \
                "(cell missing from the submission)"
            new.source = f"{body}\n\n{TO_GRADE}"
        elif is_test(cell):
            new.source = strip_hidden_tests(cell.source)
        if new.cell_type == "code":
            new.outputs, new.execution_count = [], None
            if is_test(cell):
                ok, message = verdicts.get(gid, (False, "not graded"))
                new.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                      text=f"ok: {message}\n")] if ok \
                    else [_error(message)]
            elif gid and shown_output.get(gid):
                new.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                      text=shown_output[gid])]
        nb.cells.append(new)
    nbformat.write(nb, str(path))


def mark_manual_cells_in_feedback(html_path: Path, manual_points: dict) -> None:
    """nbgrader shows an ungraded written answer as 'Score: 0.0 / N': say it is still to grade."""
    try:
        text = html_path.read_text(encoding="utf-8")
    except OSError:
        return
    pending = 0.0
    for gid, pts in manual_points.items():
        later = f"Score: to be graded by your instructor (out of {pts:g})"
        for before in (rf'(href="#{re.escape(gid)}">[^<]*</a> \()Score: 0(?:\.0)? / [0-9.]+',
                       rf'(<a name="{re.escape(gid)}"></a>.{{0,300}}?)Score: 0(?:\.0)? / [0-9.]+'):
            text, n = re.subn(before, lambda m: m.group(1) + later, text, count=1, flags=re.S)
        pending += pts
    if pending:
        text = re.sub(r"(<h4>[^<]*\(Score: [0-9.]+ / [0-9.]+)\)",
                      lambda m: f"{m.group(1)}; {pending:g} of them still to be graded by your "
                                "instructor)", text, count=1)
    html_path.write_text(text, encoding="utf-8")
