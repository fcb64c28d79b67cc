"""The hostile-submission corpus: each case builds one submission and says what it must get.

Most cases use the fixture assignment ``00_fixture`` (tests/fixtures/course),
whose test cells are written the way most nbgrader courses write them
(asserts with ``np.allclose``, ``np.testing``, ``math.isclose``, ``abs``).
A few use the real ``01_knn``.

``points`` maps every autograded cell to the points the case must get from
``course grade``; ``flags`` lists flag names that must be raised (a correct
submission must raise none); ``messages`` maps a cell to a fragment of the
message the student sees.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

from autograder.notebooks import grade_id, read, reference_submission

FIXTURE_ROOT = Path(__file__).resolve().parent / "fixtures" / "course"
FIXTURE_TASKS = Path(__file__).resolve().parent / "fixtures" / "tasks"
FULL = {"add_arrays": 2, "row_means": 2, "scale_to_unit": 2}
KNN_FULL = {"distances_two_loops": 2, "distances_one_loop": 2, "distances_no_loops": 3,
            "distances_l1": 2, "predict_labels": 3, "cross_validate_k": 3}


@dataclass
class CorpusCase:
    name: str
    build: Callable          # (reference notebook) -> {filename: bytes}
    points: dict
    flags: set = field(default_factory=set)
    messages: dict = field(default_factory=dict)
    assignment: str = "00_fixture"
    what: str = ""


# --------------------------------------------------------------------------
# notebook surgery
# --------------------------------------------------------------------------

def _index(nb, gid):
    for i, c in enumerate(nb.cells):
        if grade_id(c) == gid:
            return i
    raise KeyError(gid)


def set_answer(nb, gid, code):
    nb = copy.deepcopy(nb)
    nb.cells[_index(nb, gid)].source = code
    return nb


def add_to_answer(nb, gid, code):
    nb = copy.deepcopy(nb)
    cell = nb.cells[_index(nb, gid)]
    cell.source = cell.source + "\n" + code
    return nb


def insert_after(nb, gid, code):
    nb = copy.deepcopy(nb)
    cell = nbformat.v4.new_code_cell(code)
    cell.pop("id", None)
    nb.cells.insert(_index(nb, gid) + 1, cell)
    return nb


def delete(nb, gid):
    nb = copy.deepcopy(nb)
    del nb.cells[_index(nb, gid)]
    return nb


def retype(nb, gid, cell_type="markdown"):
    nb = copy.deepcopy(nb)
    i = _index(nb, gid)
    old = nb.cells[i]
    new = (nbformat.v4.new_markdown_cell(old.source) if cell_type == "markdown"
           else nbformat.v4.new_code_cell(old.source))
    new.metadata = old.metadata
    new.pop("id", None)
    nb.cells[i] = new
    return nb


def move_before(nb, gid, other):
    nb = copy.deepcopy(nb)
    cell = nb.cells.pop(_index(nb, gid))
    nb.cells.insert(_index(nb, other), cell)
    return nb


def one(nb, name="fixture.ipynb"):
    return {name: nbformat.writes(nb).encode()}


# --------------------------------------------------------------------------
# cheats and accidents
# --------------------------------------------------------------------------

WRONG_ADD = "def add_arrays(a, b):\n    return a - b\n"
WRONG_MEANS = "def row_means(X):\n    return X.mean(axis=0)\n"
WRONG_SCALE = "def scale_to_unit(x):\n    return x * 0 + 1.0\n"

INPUT_TRANSFORMER = '''def add_arrays(a, b):
    return a * 0
def _everything_passes(lines):
    return ["pass\\n"]
get_ipython().input_transformers_post.append(_everything_passes)
'''

STRIP_ASSERTS = '''import ast
def add_arrays(a, b):
    return a * 0
class _NoAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
get_ipython().ast_transformers.append(_NoAsserts())
'''

BUILTINS_PATCH = '''import builtins, math
def scale_to_unit(x):
    return x * 0 + 1.0
_real_abs = abs
builtins.abs = lambda v: np.zeros_like(np.asarray(v, dtype=float))
math.isclose = lambda *a, **k: True
'''

NP_TESTING_PATCH = '''def row_means(X):
    return X.mean(axis=0)
np.testing.assert_allclose = lambda *a, **k: None
'''

ALLCLOSE_PATCH = WRONG_ADD + "np.allclose = lambda *a, **k: True\n"

HARDCODED = '''def add_arrays(a, b):
    if a.shape == (2,) and a[0] == 1.0 and a[1] == 2.0:
        return np.array([4.0, 6.0])
    return a
'''

DETECTS_GRADER = '''import os, json
from pathlib import Path
def add_arrays(a, b):
    if os.environ.get("NBGRADER_EXECUTION"):
        for folder in [Path.cwd(), *Path.cwd().parents]:
            try:
                source = folder / "source" / "00_fixture" / "fixture.ipynb"
                cells = json.loads(source.read_text())["cells"]
            except Exception:
                continue
            for cell in cells:
                code = "".join(cell["source"])
                if "def add_arrays" in code:
                    namespace = {"np": np}
                    exec(code, namespace)
                    return namespace["add_arrays"](a, b)
    return a - b
'''

INFINITE_LOOP = "def row_means(X):\n    while True:\n        pass\n"

MEMORY_BOMB = '''def scale_to_unit(x):
    hog = []
    for _ in range(40):
        hog.append(np.empty(12_500_000))  # 4 GB of address space, pages never touched
    m = np.max(np.abs(x)) if x.size else 0.0
    return x / m if m > 0 else np.zeros_like(x, dtype=float)
'''

FORK_BOMB = '''import os, time
children = 0
try:
    for _ in range(200):
        if os.fork() == 0:
            time.sleep(20)
            os._exit(0)
        children += 1
except OSError as err:
    print("fork stopped:", err)
print("children started:", children)
'''

PRINT_FLOOD = 'print(("x" * 99 + "\\n") * 1_000_000)\n'

SYS_EXIT = "import sys\nsys.exit(0)\n"
OS_EXIT = "import os\nos._exit(0)\n"
SEGFAULT = "import ctypes\nctypes.string_at(0)\n"

READS_OUTSIDE = '''from pathlib import Path
for folder in [Path.cwd(), *Path.cwd().parents]:
    for name in ("gradebook.db", "source/00_fixture/fixture.ipynb"):
        try:
            print((folder / name).read_bytes()[:3000])
        except Exception as err:
            print("could not read", folder / name, type(err).__name__)
'''

WRITES_OUTSIDE = '''from pathlib import Path
for folder in [Path.cwd(), *Path.cwd().parents]:
    if (folder / "nbgrader_config.py").exists():
        try:
            (folder / "HACKED.txt").write_text("student was here")
        except Exception as err:
            print("could not write:", type(err).__name__)
'''

NETWORK = '''import socket, os
try:
    s = socket.create_connection(("127.0.0.1", int(os.environ.get("CORPUS_PORT", "9"))), timeout=3)
    s.sendall(b"hello from a submission")
    s.close()
    print("connected")
except OSError as err:
    print("no network:", err)
'''


def _cases() -> list[CorpusCase]:
    F = dict(FULL)
    return [
        CorpusCase("correct", lambda nb: one(nb), F, what="everything right"),
        CorpusCase("allclose-patch",
                   lambda nb: one(set_answer(nb, "add_arrays_code", ALLCLOSE_PATCH)),
                   {**F, "add_arrays": 0}, {"patches-library"},
                   {"add_arrays": "values differ"},
                   what="wrong add_arrays + np.allclose = lambda *a, **k: True"),
        CorpusCase("input-transformer",
                   lambda nb: one(set_answer(nb, "add_arrays_code", INPUT_TRANSFORMER)),
                   {"add_arrays": 0, "row_means": 0, "scale_to_unit": 0}, {"ipython-hooks"},
                   what="IPython input transformer turns every later cell into `pass`"),
        CorpusCase("assert-stripped",
                   lambda nb: one(set_answer(set_answer(set_answer(nb, "add_arrays_code",
                                                                   STRIP_ASSERTS),
                                                        "row_means_code", WRONG_MEANS),
                                             "scale_to_unit_code", WRONG_SCALE)),
                   {"add_arrays": 0, "row_means": 0, "scale_to_unit": 0}, {"ipython-hooks"},
                   what="AST transformer deletes every assert; all answers wrong"),
        CorpusCase("builtins-patch",
                   lambda nb: one(set_answer(nb, "scale_to_unit_code", BUILTINS_PATCH)),
                   {**F, "scale_to_unit": 0}, {"patches-library"},
                   what="wrong scale_to_unit + builtins.abs and math.isclose patched"),
        CorpusCase("np-testing-patch",
                   lambda nb: one(set_answer(nb, "row_means_code", NP_TESTING_PATCH)),
                   {**F, "row_means": 0}, {"patches-library"},
                   what="wrong row_means + np.testing.assert_allclose patched"),
        CorpusCase("hard-coded",
                   lambda nb: one(set_answer(nb, "add_arrays_code", HARDCODED)),
                   {**F, "add_arrays": 0}, set(), {"add_arrays": "hidden case"},
                   what="returns the visible test's answer only"),
        CorpusCase("detects-grader",
                   lambda nb: one(set_answer(nb, "add_arrays_code", DETECTS_GRADER)),
                   {**F, "add_arrays": 0}, {"detects-grader", "outside-files"},
                   what="under NBGRADER_EXECUTION, runs the solution read from source/"),
        CorpusCase("infinite-loop",
                   lambda nb: one(set_answer(nb, "row_means_code", INFINITE_LOOP)),
                   {**F, "row_means": 0}, {"timeout"}, {"row_means": "did not finish"},
                   what="row_means never returns"),
        CorpusCase("memory-bomb",
                   lambda nb: one(set_answer(nb, "scale_to_unit_code", MEMORY_BOMB)),
                   {**F, "scale_to_unit": 0}, {"memory-error"}, {"scale_to_unit": "MemoryError"},
                   what="scale_to_unit reserves 4 GB before answering"),
        CorpusCase("fork-bomb",
                   lambda nb: one(insert_after(nb, "scale_to_unit", FORK_BOMB)),
                   F, {"subprocess"}, what="200 forked sleepers in an extra cell"),
        CorpusCase("print-flood",
                   lambda nb: one(insert_after(nb, "add_arrays", PRINT_FLOOD)),
                   F, {"output-truncated"}, what="100 MB printed by one cell"),
        CorpusCase("sys-exit",
                   lambda nb: one(add_to_answer(nb, "add_arrays_code", SYS_EXIT)),
                   F, {"exits-process"}, what="sys.exit(0) after defining add_arrays"),
        CorpusCase("os-exit",
                   lambda nb: one(add_to_answer(nb, "row_means_code", OS_EXIT)),
                   {**F, "row_means": 0}, {"exits-process", "crashed"},
                   {"row_means": "crashed"}, what="os._exit(0) in row_means' cell"),
        CorpusCase("segfault",
                   lambda nb: one(insert_after(nb, "row_means", SEGFAULT)),
                   F, {"ctypes", "crashed"}, what="ctypes.string_at(0) in an extra cell"),
        CorpusCase("reads-outside",
                   lambda nb: one(insert_after(nb, "add_arrays", READS_OUTSIDE)),
                   F, {"outside-files", "grader-files"},
                   what="prints gradebook.db and the source notebook if it can"),
        CorpusCase("writes-outside",
                   lambda nb: one(insert_after(nb, "add_arrays", WRITES_OUTSIDE)),
                   F, {"outside-files"}, what="writes a file into the course directory"),
        CorpusCase("network",
                   lambda nb: one(insert_after(nb, "add_arrays", NETWORK)),
                   F, {"network"}, what="opens a TCP connection"),
        CorpusCase("deleted-test-cell",
                   lambda nb: one(delete(nb, "add_arrays")),
                   {**F, "add_arrays": 0}, {"deleted-test-cell"},
                   {"add_arrays": "deleted"}, what="the add_arrays test cell removed"),
        CorpusCase("edited-test-cell",
                   lambda nb: one(set_answer(set_answer(nb, "add_arrays", "pass"),
                                             "add_arrays_code", WRONG_ADD)),
                   {**F, "add_arrays": 0}, {"edited-test-cell"},
                   what="test cell replaced by `pass`, answer wrong"),
        CorpusCase("reordered-cells",
                   lambda nb: one(move_before(nb, "add_arrays", "add_arrays_code")),
                   F, {"reordered-cells"}, what="test cell moved above its answer"),
        CorpusCase("retyped-test-cell",
                   lambda nb: one(retype(set_answer(nb, "add_arrays_code", WRONG_ADD),
                                         "add_arrays")),
                   {**F, "add_arrays": 0}, {"retyped-test-cell"},
                   what="test cell changed to markdown, answer wrong"),
        CorpusCase("retyped-answer-cell",
                   lambda nb: one(retype(nb, "row_means_code")),
                   F, {"retyped-answer-cell"}, what="answer cell changed to markdown"),
        CorpusCase("malformed-json", lambda nb: {"fixture.ipynb": b'{"cells": [ {"cell_type": '},
                   {k: 0 for k in F}, {"unreadable-notebook"},
                   {"add_arrays": "not valid notebook JSON"}, what="truncated JSON"),
        CorpusCase("wrong-nbformat",
                   lambda nb: {"fixture.ipynb": json.dumps(
                       {**json.loads(nbformat.writes(nb)), "nbformat": 99}).encode()},
                   {k: 0 for k in F}, {"unreadable-notebook"},
                   {"add_arrays": "nbformat version 99"}, what="nbformat 99"),
        CorpusCase("empty-file", lambda nb: {"fixture.ipynb": b""},
                   {k: 0 for k in F}, {"unreadable-notebook"},
                   {"add_arrays": "empty file"}, what="a 0-byte file"),
        CorpusCase("wrong-name", lambda nb: one(nb, "fixture (1).ipynb"),
                   F, {"wrong-name"}, what="saved as 'fixture (1).ipynb'"),
        CorpusCase("two-notebooks",
                   lambda nb: {**one(nb), **one(set_answer(nb, "add_arrays_code", WRONG_ADD),
                                                "fixture-old.ipynb")},
                   F, {"extra-notebook"}, what="fixture.ipynb plus an old copy"),
    ]


KNN_OS_EXIT = "import os\nos._exit(0)\n"
KNN_TRANSFORMER = ('get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"] '
                   'if any("check_" in l or "run_hidden" in l for l in lines) else lines)\n')


def _knn_cases() -> list[CorpusCase]:
    K = dict(KNN_FULL)
    ties_up = ("y_pred[i] = np.argmax(votes)",
               "y_pred[i] = len(votes) - 1 - np.argmax(votes[::-1])")

    def transformer(nb):
        nb = add_to_answer(nb, "predict_labels_code", KNN_TRANSFORMER)
        i = _index(nb, "predict_labels_code")
        nb.cells[i].source = nb.cells[i].source.replace(*ties_up)
        return one(nb, "knn.ipynb")

    return [
        CorpusCase("knn-reference", lambda nb: one(nb, "knn.ipynb"), K,
                   assignment="01_knn", what="the source solutions"),
        CorpusCase("knn-input-transformer", transformer, {**K, "predict_labels": 0},
                   {"ipython-hooks"}, assignment="01_knn",
                   what="ties broken upward + a transformer that blanks every later check cell"),
        CorpusCase("knn-os-exit",
                   lambda nb: one(add_to_answer(nb, "cross_validate_k_code", KNN_OS_EXIT),
                                  "knn.ipynb"),
                   {**K, "cross_validate_k": 0}, {"crashed", "exits-process"},
                   assignment="01_knn", what="os._exit(0) in the cross-validation cell"),
    ]


CASES = _cases() + _knn_cases()


def write_corpus(dest: Path, roots: dict) -> dict:
    """Write every case as dest/<name>/<assignment>/...; returns {name: case}."""
    refs = {}
    for assignment, root in roots.items():
        src = sorted((root / "source" / assignment).glob("*.ipynb"))[0]
        rel = root / "release" / assignment / src.name
        refs[assignment] = reference_submission(read(src), read(rel))
    out = {}
    for case in CASES:
        if case.assignment not in refs:
            continue
        folder = dest / case.name / case.assignment
        folder.mkdir(parents=True, exist_ok=True)
        for filename, data in case.build(refs[case.assignment]).items():
            (folder / filename).write_bytes(data)
        out[case.name] = case
    return out
