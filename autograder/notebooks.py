"""Reading nbgrader notebooks: solutions, hidden tests, the reference namespace."""

from __future__ import annotations

import copy
import functools
import linecache
from pathlib import Path

import nbformat

from .cells import grade_id, is_answer, is_manual, is_test, source  # noqa: F401
from .course import course_root, source_notebooks

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"


def strip_solution_markers(source: str) -> str:
    """Keep the solution code, drop the marker lines (what a perfect student writes)."""
    return "\n".join(l for l in source.split("\n")
                     if l.strip() not in (BEGIN_SOLUTION, END_SOLUTION))


def strip_hidden_tests(source: str) -> str:
    out, hidden = [], False
    for line in source.split("\n"):
        if line.strip() == BEGIN_HIDDEN:
            hidden = True
        elif line.strip() == END_HIDDEN:
            hidden = False
        elif not hidden:
            out.append(line)
    return "\n".join(out).rstrip("\n")


def read(path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def answer_sources(nb) -> dict[str, str]:
    """grade_id -> solution code (markers stripped) of every answer cell."""
    return {grade_id(c): strip_solution_markers(source(c)) for c in nb.cells if is_answer(c)}


PRELUDE = "import numpy as np\n"


def exec_answers(sources, namespace=None) -> dict:
    """Run answer-cell code in order in a fresh namespace (with numpy imported)."""
    ns = {} if namespace is None else namespace
    ns.setdefault("__name__", "__reference__")
    exec(compile(PRELUDE, "<prelude>", "exec"), ns)
    for gid, src in sources:
        filename = f"<answer {gid}>"
        # let inspect.getsource find the code, as IPython does for cells
        linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
        exec(compile(src, filename, "exec"), ns)
    return ns


@functools.lru_cache(maxsize=16)
def _reference_cached(path: str, mtime: float) -> dict:
    nb = read(path)
    return exec_answers(answer_sources(nb).items())


@functools.lru_cache(maxsize=16)
def reference_from_texts(texts: tuple) -> dict:
    """The reference namespace of source notebooks given as JSON texts (in order)."""
    ns = {}
    for text in texts:
        ns.update(exec_answers(answer_sources(nbformat.reads(text, as_version=4)).items()))
    return ns


def reference_namespace(assignment: str, root: Path | None = None) -> dict:
    """Functions defined by the source notebook's solutions: the grader's reference.

    Only answer cells run (in order, after ``import numpy as np``), so answer
    cells must be self-contained definitions.
    """
    ns = {}
    for path in source_notebooks(assignment, root or course_root()):
        ns.update(_reference_cached(str(path), path.stat().st_mtime))
    return ns


def reference_submission(source_nb, release_nb):
    """The release notebook with every answer cell filled in from the source."""
    answers = answer_sources(source_nb)
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        if is_answer(cell) and grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
        elif is_manual(cell):
            src = next((c.source for c in source_nb.cells if grade_id(c) == grade_id(cell)), None)
            if src is not None:
                cell.source = src
    return nb


def replace_once(text: str, old: str, new: str, what: str) -> str:
    count = text.count(old)
    if count != 1:
        raise ValueError(f"{what}: expected exactly one occurrence of {old!r}, found {count}")
    return text.replace(old, new)

