"""The autograded notebook nbgrader turns into feedback (and the formgrader shows).

``autograded_notebook`` builds it from the student's notebook as graded:
the student's cells in the student's order, each code cell with what it
printed and displayed when the grader ran it (text and PNG images only:
``spawn.displays``), answer cells as graded, test cells restored from the
release (no hidden tests) with the grader's verdict as their output,
written answers and any markdown the student wrote made inert (HTML, links
and TeX commands that MathJax could turn into links, styles or classes are
shown as text: the page is opened by the student and, in the formgrader, by
the instructor).  Graded cells the student deleted come back at their
source position.  Test cells carry the task they check
(``metadata.course.task``), so the feedback page names each one; the
course's feedback page (``nbgrader_feedback``) shows written answers that
are still to be graded as such, never as "0".
"""

from __future__ import annotations

import html
import re

import nbformat

from .cells import grade_id, is_answer, is_manual, is_test, source
from .notebooks import strip_hidden_tests

MISSING = "(cell missing from the submission)"
_SCHEMES = re.compile(r"(?i)\b(javascript|vbscript|data|file)(\s*):")
# TeX commands MathJax turns into links, HTML attributes or loaded code
_TEX = re.compile(r"\\+(href|url|unicode|class|cssId|style|data|require|html|bbox|"
                  r"newcommand|renewcommand|def|let|mmlToken)\b", re.I)


def inert_markdown(text: str) -> str:
    """Markdown that renders as the student wrote it but can run or link nothing.

    HTML is escaped; link and image syntax is escaped too (``\\[``), so no
    URL the student wrote becomes a link; script-like schemes are broken in
    the text; TeX commands that would make links, styles, classes or load
    code lose their backslash (shown as words, in maths too).
    """
    text = html.escape(text, quote=False).replace("[", "\\[").replace("]", "\\]")
    text = _TEX.sub(lambda m: m.group(1), text)
    return _SCHEMES.sub(lambda m: f"{m.group(1)} {m.group(2)}:", text)


def _error(message: str):
    return nbformat.v4.new_output("error", ename="CheckFailed", evalue=message,
                                  traceback=[f"CheckFailed: {message}"])


def cell_outputs(outcome) -> list:
    """A cell's outputs as the grader saw them run: printed text, displays, its error."""
    outs = []
    if outcome.output:
        outs.append(nbformat.v4.new_output("stream", name="stdout", text=outcome.output))
    for data in outcome.displays:
        outs.append(nbformat.v4.new_output("display_data", data=dict(data)))
    if outcome.status in ("error", "timeout", "crashed") and outcome.error:
        outs.append(nbformat.v4.new_output("error", ename="Error", evalue=outcome.error[:2000],
                                           traceback=[outcome.error[:2000]]))
    return outs


def _fresh(cell_type: str, text: str, metadata=None):
    cell = (nbformat.v4.new_code_cell(text) if cell_type == "code"
            else nbformat.v4.new_markdown_cell(text))
    if metadata:
        cell.metadata = nbformat.from_dict(dict(metadata))
    return cell


def _graded_cell(src, plan, verdicts, module):
    """The autograded form of one of the source's graded cells."""
    gid = grade_id(src)
    if is_answer(src):
        return _fresh("code", plan.answers.get(gid, f"# {MISSING}"), src.metadata)
    if is_manual(src):
        answer = plan.manual.get(gid)
        return _fresh("markdown", inert_markdown(answer) if answer is not None else MISSING,
                      src.metadata)
    cell = _fresh("code", strip_hidden_tests(src.source), src.metadata)
    verdict = verdicts.get(gid)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                           text=f"ok: {verdict.message}\n")] \
        if verdict is not None and verdict.passed else \
        [_error(verdict.message if verdict is not None else "not graded")]
    task = module.tasks.get(gid) if module is not None else None
    if task is not None:
        cell.metadata["course"] = {"task": task.target}
    return cell


def autograded_notebook(source_nb, student_nb, plan, verdicts: dict, shown: dict,
                        module=None):
    """``verdicts``: grade id -> ``judging.TaskVerdict``; ``shown``: label -> outputs."""
    src_graded = [c for c in source_nb.cells if is_answer(c) or is_test(c) or is_manual(c)]
    by_id = {grade_id(c): c for c in src_graded}
    src_markdown = {source(c).strip() for c in source_nb.cells if c.cell_type == "markdown"}
    label_of = {item.index: item.label for item in plan.items
                if item.kind == "code" and item.index is not None}
    seen, cells = set(), []

    def restore_missing_before(gid):
        """Deleted graded cells that come before ``gid`` in the source, at their place."""
        for c in src_graded:
            g = grade_id(c)
            if g == gid:
                return
            if g not in seen:
                seen.add(g)
                cells.append(_graded_cell(c, plan, verdicts, module))

    for index, cell in enumerate(student_nb.cells):
        gid = grade_id(cell)
        if gid in by_id:
            if gid in seen:
                continue
            restore_missing_before(gid)
            seen.add(gid)
            new = _graded_cell(by_id[gid], plan, verdicts, module)
            if is_answer(by_id[gid]):
                new.outputs = shown.get(gid, [])
            cells.append(new)
        elif cell.get("cell_type") == "code":
            new = _fresh("code", source(cell))
            new.outputs = shown.get(label_of.get(index), [])
            cells.append(new)
        elif cell.get("cell_type") == "markdown":
            text = source(cell)
            cells.append(_fresh("markdown", text if text.strip() in src_markdown
                                else inert_markdown(text)))
    restore_missing_before(None)
    nb = nbformat.v4.new_notebook()
    nb.metadata = nbformat.from_dict(dict(source_nb.metadata))
    nb.cells = cells
    return nb
