"""Reading nbgrader notebooks: solutions, hidden tests, the reference namespace."""

from __future__ import annotations

import copy
import functools
import linecache
import sys
import types
from pathlib import Path

import nbformat

from assignments.blocks import GENERATED_MODULE

from .cells import grade_id, is_answer, is_manual, is_test, source  # noqa: F401
from .course import course_root, source_notebooks
from .sandbox.kernel import BLOCKS_NAME

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
ANSWER_PREFIX = "<answer "   # exec_answers compiles answer cell GID as "<answer GID>"


BLOCKS_FILE = f"{GENERATED_MODULE}.py"


def blocks_text(assignment: str, root: Path | None = None) -> str:
    """The assignment's generated ``course_blocks.py`` (earlier answers it builds on), or ""."""
    path = (root or course_root()) / "source" / assignment / BLOCKS_FILE
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def exec_answers(sources, namespace=None, blocks: str = "") -> dict:
    """Run answer-cell code in order in a fresh namespace: numpy imported, then the
    notebook's ``course_blocks`` (the earlier answers its setup cells import), then the
    answers."""
    ns = {} if namespace is None else namespace
    ns.setdefault("__name__", "__reference__")
    exec(compile(PRELUDE, "<prelude>", "exec"), ns)
    module = types.ModuleType(GENERATED_MODULE)
    if blocks:
        linecache.cache[BLOCKS_NAME] = (len(blocks), None, blocks.splitlines(True), BLOCKS_NAME)
        exec(compile(blocks, BLOCKS_NAME, "exec"), ns)
        module.__dict__.update({k: v for k, v in ns.items() if not k.startswith("__")})
    saved = sys.modules.get(GENERATED_MODULE)
    sys.modules[GENERATED_MODULE] = module   # an answer cell may import its blocks itself
    try:
        for gid, src in sources:
            filename = f"{ANSWER_PREFIX}{gid}>"
            # let inspect.getsource find the code, as IPython does for cells
            linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
            exec(compile(src, filename, "exec"), ns)
    finally:
        if saved is None:
            sys.modules.pop(GENERATED_MODULE, None)
        else:
            sys.modules[GENERATED_MODULE] = saved
    return ns


@functools.lru_cache(maxsize=16)
def reference_from_texts(texts: tuple, blocks: str = "") -> dict:
    """The reference namespace of source notebooks given as JSON texts (in order), with the
    assignment's ``course_blocks`` text."""
    sources = []
    for text in texts:
        sources += list(answer_sources(nbformat.reads(text, as_version=4)).items())
    return exec_answers(sources, blocks=blocks)


def reference_namespace(assignment: str, root: Path | None = None) -> dict:
    """Functions defined by the source notebook's solutions: the grader's reference.

    Only answer cells run (in order, after ``import numpy as np`` and the
    notebook's ``course_blocks``), so answer cells must be self-contained
    definitions.
    """
    root = root or course_root()
    paths = source_notebooks(assignment, root)
    texts = tuple(p.read_text(encoding="utf-8") for p in paths)
    return reference_from_texts(texts, blocks_text(assignment, root))


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

