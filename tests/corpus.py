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

import atexit
import copy
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

import hostipc
from autograder.cells import grade_id
from autograder.notebooks import read, reference_submission

FIXTURE_ROOT = Path(__file__).resolve().parent / "fixtures" / "course"
FIXTURE_TASKS = Path(__file__).resolve().parent / "fixtures" / "tasks"
UNIX_PATH = Path(tempfile.gettempdir()) / f"course-corpus-{os.getpid()}.sock"
COURSE = [""]   # the fixture course being written (for links into it)
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
    student: str | None = None      # the folder name, when it is itself the attack
    setup: Callable | None = None   # (submission folder) -> None: links, pipes...
    absent: dict = field(default_factory=dict)   # cell -> fragments its message must not hold
    blank: bool = False             # build from the release notebook, not the reference

    @property
    def folder_name(self) -> str:
        return self.student or self.name


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


def set_metadata(nb, gid, value):
    nb = copy.deepcopy(nb)
    cell = nb.cells[_index(nb, gid)]
    if isinstance(value, dict):
        cell.metadata["nbgrader"].update(value)
    else:
        cell.metadata["nbgrader"] = value
    return nb


def raw_json(nb, edit) -> dict:
    raw = json.loads(nbformat.writes(nb))
    edit(raw)
    return {"fixture.ipynb": json.dumps(raw).encode()}


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
for folder in [Path("{course}"), Path.cwd(), *Path.cwd().parents]:
    for name in ("gradebook.db", "source/00_fixture/fixture.ipynb"):
        try:
            print((folder / name).read_bytes()[:3000])
        except Exception as err:
            print("could not read", folder / name, type(err).__name__)
'''

WRITES_OUTSIDE = '''from pathlib import Path
for folder in [Path("{course}"), Path.cwd(), *Path.cwd().parents]:
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



# --- round 2: trusted code must survive anything (issue 13, section 1) ---------

HUGE_EXPRESSION = "x = " + "1+" * 300_000 + "1\n"
SYMLINK_THEN_EXIT = """import os, shutil
home = os.environ["IPYTHONDIR"]
shutil.rmtree(home)
os.symlink("/nonexistent/folder", home)
os._exit(0)
"""

# --- the channel (section 2) ----------------------------------------------------
FORGED_REPLIES = """import json, os, struct, time
def frame(head):
    raw = json.dumps(head).encode()
    body = struct.pack(">I", len(raw)) + raw
    return struct.pack(">Q", len(body)) + body
forged = b"".join(frame({"op": "reply", "id": i, "results": "x", "events": 5, "ok": True})
                  for i in range(1, 40))
for fd in range(3, 40):
    try:
        os.write(fd, forged)
    except OSError:
        pass
time.sleep(3600)
"""
HUGE_MESSAGE = """import os, struct
payload = b'{"payload": [' + b"[]," * (40 * 2**20 // 3) + b'[]]}'
body = struct.pack(">I", len(payload)) + payload
message = struct.pack(">Q", len(body)) + body
for fd in range(3, 40):
    try:
        os.write(fd, message[:2**16])
    except OSError:
        pass
"""
FORGE_PROBE = """def add_arrays(a, b):
    import gc, os
    from sandbox import wire
    nonce = None
    for o in gc.get_objects():
        if isinstance(o, dict) and o.get("op") == "probe" and "nonce" in o:
            nonce = o["nonce"]
    msg = wire.pack({"nonce": nonce, "results": [{"kind": "returned", "detail": ""}] * 2,
                     "output": "", "dropped": 0}, [np.array([4.0, 6.0])] * 2)
    for fd in range(3, 40):
        try:
            os.write(fd, msg)
        except OSError:
            pass
    return a - b
"""

# --- the sandbox on every axis (section 3) ---------------------------------------
METADATA_OUTSIDE = """import os
for p in ("{course}/gradebook.db", "{course}/source/00_fixture/fixture.ipynb", "{course}"):
    for call in (lambda: os.chmod(p, 0o4777), lambda: os.utime(p, (0, 0)),
                 lambda: os.setxattr(p, "user.owned", b"1")):
        try:
            call()
            print("changed", p)
        except OSError as err:
            print("refused", type(err).__name__)
"""
UNIX_SOCKET = """import socket
try:
    s = socket.socket(socket.AF_UNIX)
    s.connect("{unix}")
    s.sendall(b"hello from a submission")
    print("connected")
except OSError as err:
    print("no unix socket:", type(err).__name__)
"""
MEMFD_HOG = """import os
try:
    fd = os.memfd_create("hog")
    block = b"x" * 2**26
    for _ in range(120):
        os.write(fd, block)
    print("held 7.5 GiB")
except OSError as err:
    print("refused:", type(err).__name__)
"""
DISK_FILL = """written = 0
try:
    for i in range(40):
        with open(f"fill{i}.bin", "wb") as f:
            for _ in range(50):
                f.write(b"x" * 2**20)
                written += 1
except OSError as err:
    print("stopped after", written, "MiB:", type(err).__name__)
"""
CPU_HOG = """import os, time
children = []
for _ in range(60):
    pid = os.fork()
    if pid == 0:
        end = time.time() + 8
        while time.time() < end:
            pass
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
"""

# --- confidentiality and integrity (section 4) ------------------------------------
RECORDS_INPUTS = """SEEN = []
def add_arrays(a, b):
    SEEN.append((a.tolist(), b.tolist()))
    return a + b
"""
PRINTS_INPUTS = "print('inputs seen so far:', SEEN)\n"
HTML_ANSWER = ('<script>alert("owned")</script><img src=x onerror=alert(2)> '
               '[click](javascript:alert(3)) Because it would divide by zero.')
HUGE_EXCEPTION = 'def add_arrays(a, b):\n    raise ValueError("=HYPERLINK(" + "x" * 10_000_000)\n'
AUDIT_SWITCH = """import gc
for o in gc.get_objects():
    try:
        if isinstance(o, list) and o and o[0] is False:
            o[0] = True
        if isinstance(o, list) and o and isinstance(o[0], list) and len(o[0]) == 2:
            o.clear()
    except Exception:
        pass
mod = __import__("so" + "cket")
try:
    getattr(mod, "create_" + "connection")(("127.0.0.1", 9), timeout=1)
except OSError as err:
    print("no network:", type(err).__name__)
"""


def _fifo(folder):
    os.mkfifo(folder / "pipe")


def _dangling(folder):
    os.symlink("/nonexistent/file.ipynb", folder / "old.ipynb")


def _link_to(target):
    def setup(folder):
        (folder / "fixture.ipynb").unlink()
        os.symlink(str(target(folder)).replace("{course}", COURSE[0]), folder / "fixture.ipynb")
    return setup


def _round2_cases() -> list[CorpusCase]:
    F = dict(FULL)
    return [
        CorpusCase("grade-id-list",
                   lambda nb: one(set_metadata(nb, "add_arrays_code",
                                               {"grade_id": ["add_arrays_code"]})),
                   F, {"malformed-metadata", "deleted-answer-cell"},
                   what="an answer cell's grade_id is a JSON list"),
        CorpusCase("metadata-string",
                   lambda nb: one(set_metadata(nb, "row_means_code", "not an object")),
                   F, {"malformed-metadata", "deleted-answer-cell"},
                   what="a cell's nbgrader metadata is a string"),
        CorpusCase("cell-without-source",
                   lambda nb: raw_json(nb, lambda raw: raw["cells"].insert(
                       2, {"cell_type": "code", "metadata": {}, "outputs": [],
                           "execution_count": None})),
                   F, {"malformed-cell"}, what="a code cell without a source"),
        CorpusCase("huge-expression", lambda nb: one(insert_after(nb, "add_arrays",
                                                                 HUGE_EXPRESSION)),
                   F, set(), what="an extra cell with a 300,000-term expression"),
        CorpusCase("syntax-error", lambda nb: one(set_answer(nb, "row_means_code",
                                                             "def row_means(X:\n    pass\n")),
                   {**F, "row_means": 0}, set(), {"row_means": "is not defined"},
                   what="a syntax error in an answer cell"),
        CorpusCase("named-pipe", lambda nb: one(nb), F, {"odd-files"}, setup=_fifo,
                   what="a named pipe next to the notebook"),
        CorpusCase("dangling-symlink", lambda nb: one(nb), F, {"odd-files", "symlink"},
                   setup=_dangling, what="a dangling symbolic link next to the notebook"),
        CorpusCase("symlink-then-exit",
                   lambda nb: one(insert_after(nb, "add_arrays", SYMLINK_THEN_EXIT)),
                   F, {"crashed", "exits-process"},
                   what="replaces the kernel's IPython folder by a dangling link, then exits"),
        CorpusCase("forged-replies", lambda nb: one(insert_after(nb, "add_arrays",
                                                                 FORGED_REPLIES)),
                   F, {"timeout"}, what="writes forged replies into every descriptor, sleeps"),
        CorpusCase("huge-message", lambda nb: one(insert_after(nb, "add_arrays", HUGE_MESSAGE)),
                   F, {"timeout"}, what="announces a 40 MiB message of [] in every descriptor"),
        CorpusCase("forged-probe", lambda nb: one(set_answer(nb, "add_arrays_code",
                                                             FORGE_PROBE)),
                   {**F, "add_arrays": 0}, {"inspects-grader", "crashed"},
                   {"add_arrays": "did not match the request"},
                   what="wrong add_arrays that forges the probe's answer with the nonce"),
        CorpusCase("metadata-outside", lambda nb: one(insert_after(nb, "add_arrays",
                                                                   METADATA_OUTSIDE)),
                   F, {"outside-files"},
                   what="chmod 04777, utime 1970 and an xattr on course files"),
        CorpusCase("unix-socket", lambda nb: one(insert_after(nb, "add_arrays", UNIX_SOCKET)),
                   F, {"network"}, what="connects to a host service's Unix socket"),
        CorpusCase("memfd-hog", lambda nb: one(insert_after(nb, "add_arrays", MEMFD_HOG)),
                   F, set(), what="7.5 GiB in a memfd (outside RLIMIT_AS)"),
        CorpusCase("disk-fill", lambda nb: one(insert_after(nb, "add_arrays", DISK_FILL)),
                   F, {"disk-limit"}, what="writes 2 GB into its folder"),
        CorpusCase("cpu-hog", lambda nb: one(insert_after(nb, "add_arrays", CPU_HOG)),
                   F, {"subprocess"}, what="60 busy processes for 8 s"),
        CorpusCase("leaks-hidden-inputs",
                   lambda nb: one(add_to_answer(set_answer(nb, "add_arrays_code",
                                                           RECORDS_INPUTS),
                                                "row_means_code", PRINTS_INPUTS)),
                   F, set(), what="records its arguments; the next answer cell prints them"),
        CorpusCase("symlink-notebook", lambda nb: one(nb), {k: 0 for k in F},
                   {"symlink", "odd-files"}, {"add_arrays": "symbolic link"},
                   setup=_link_to(lambda f: f.parents[1] / "correct" / "00_fixture" /
                                  "fixture.ipynb"),
                   what="fixture.ipynb is a link to another student's notebook"),
        CorpusCase("symlink-source", lambda nb: one(nb), {k: 0 for k in F},
                   {"symlink", "odd-files"}, {"add_arrays": "symbolic link"},
                   setup=_link_to(lambda f: "{course}/source/00_fixture/fixture.ipynb"),
                   what="fixture.ipynb is a link to the source notebook"),
        CorpusCase("glob-id", lambda nb: one(nb), {k: 0 for k in F}, {"refused"},
                   {"add_arrays": "not a usable student id"}, student="?????",
                   what="a folder named ????? (a glob matching other ids)"),
        CorpusCase("escape-id", lambda nb: one(nb), {k: 0 for k in F}, {"refused"},
                   {"add_arrays": "not a usable student id"}, student="\x1b[2Jmallory",
                   what="a folder name with a terminal escape sequence"),
        CorpusCase("formula-id", lambda nb: one(nb), {k: 0 for k in F}, {"refused"},
                   {"add_arrays": "not a usable student id"}, student="=HYPERLINK(1)",
                   what="a folder name that is a spreadsheet formula"),
        CorpusCase("html-answer", lambda nb: one(set_answer(nb, "q_zero", HTML_ANSWER)),
                   F, set(), what="script and onerror HTML in the written answer"),
        CorpusCase("huge-exception", lambda nb: one(set_answer(nb, "add_arrays_code",
                                                               HUGE_EXCEPTION)),
                   {**F, "add_arrays": 0}, set(), {"add_arrays": "ValueError"},
                   what="a 10 MB exception message starting with ="),
        CorpusCase("audit-switch", lambda nb: one(insert_after(nb, "add_arrays", AUDIT_SWITCH)),
                   F, {"network", "inspects-grader"},
                   what="flips every switch gc can find, then opens a socket"),
    ]


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
NO_LOOPS = "compute_distances_no_loops"
HELPER_LOOP = '''def _squared_norms(A):
    return np.array([a @ a for a in A])

def compute_distances_no_loops(X_test, X_train):
    sq = _squared_norms(X_test)[:, None] + _squared_norms(X_train)[None, :]
    return np.sqrt(np.maximum(sq - 2 * X_test @ X_train.T, 0))
'''
# the helper's loop compiled under the name the grader gives the course's own code
HELPER_AS_COURSE = '''exec(compile("def _squared_norms(A):\\n    return np.array([a @ a for a in A])\\n",
             "<course_blocks>", "exec"))

def compute_distances_no_loops(X_test, X_train):
    sq = _squared_norms(X_test)[:, None] + _squared_norms(X_train)[None, :]
    return np.sqrt(np.maximum(sq - 2 * X_test @ X_train.T, 0))
'''
REBIND_LATER = '''def compute_distances_no_loops(X_test, X_train):
    for _ in range(1):
        sq = (X_test ** 2).sum(axis=1)[:, None] + (X_train ** 2).sum(axis=1)[None, :]
    return np.sqrt(np.maximum(sq - 2 * X_test @ X_train.T, 0))
'''
LAYERS = ("affine_forward", "affine_backward", "relu_forward", "relu_backward",
          "sigmoid_forward", "sigmoid_backward", "softmax_loss", "svm_loss")
NB3_FULL = {"affine_forward": 2, "affine_backward": 3, "relu_forward": 1, "relu_backward": 2,
            "sigmoid_forward": 2, "sigmoid_backward": 1, "softmax_loss": 3, "svm_loss": 3,
            "two_layer_init": 2, "two_layer_loss": 4, "tuned_model": 2}
DELEGATES = {
    "affine_forward": "from assignments.layers import affine_forward\n",
    "affine_backward": ("import assignments.layers as L\n\ndef affine_backward(dout, cache):\n"
                        "    return L.affine_backward(dout, cache)\n"),
    "relu_forward": "from assignments import layers\nrelu_forward = layers.relu_forward\n",
    "relu_backward": "from assignments.layers import *\n",
    "sigmoid_forward": ("import importlib\n\ndef sigmoid_forward(x):\n    return importlib."
                        "import_module('assignments.' + 'layers').sigmoid_forward(x)\n"),
    "sigmoid_backward": "from assignments.layers import sigmoid_backward\n",
    "softmax_loss": ("from assignments.layers import softmax_loss as _ref\n\n"
                     "def softmax_loss(x, y):\n    return _ref(x, y)\n"),
    "svm_loss": "from assignments.layers import svm_loss\n",
}
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

    def nb_with(cell, source):
        return lambda nb: one(set_answer(nb, cell, source), "knn.ipynb")

    magic = "%time _ = 1\n"
    return [
        CorpusCase("knn-reference", lambda nb: one(nb, "knn.ipynb"), K,
                   assignment="01_knn", what="the source solutions"),
        CorpusCase("knn-magic", lambda nb: one(add_to_answer(nb, "distances_no_loops_code",
                                                              magic), "knn.ipynb"),
                   K, set(), assignment="01_knn",
                   what="an IPython magic in the no-loop answer cell"),
        CorpusCase("knn-syntax-error",
                   nb_with("distances_no_loops_code", "def compute_distances_no_loops(X, Y:\n"),
                   {**K, "distances_no_loops": 0}, set(),
                   {"distances_no_loops": "not valid Python"}, assignment="01_knn",
                   what="a syntax error in the no-loop answer cell"),
        CorpusCase("knn-helper-loop", nb_with("distances_no_loops_code", HELPER_LOOP),
                   {**K, "distances_no_loops": 0}, set(),
                   {"distances_no_loops": "in _squared_norms"}, assignment="01_knn",
                   what="the no-loop answer calls a helper with a loop"),
        CorpusCase("knn-helper-as-course-code",
                   nb_with("distances_no_loops_code", HELPER_AS_COURSE),
                   {**K, "distances_no_loops": 0}, {"dynamic-code"},
                   {"distances_no_loops": "_squared_norms"}, assignment="01_knn",
                   what="the looping helper compiled under the course's own code name"),
        CorpusCase("knn-rebind-later",
                   lambda nb: one(insert_after(nb, "distances_no_loops_code", REBIND_LATER),
                                  "knn.ipynb"),
                   {**K, "distances_no_loops": 0}, set(),
                   {"distances_no_loops": "for loop"}, assignment="01_knn",
                   what="a later cell rebinds the no-loop function to a loop"),
        CorpusCase("knn-input-transformer", transformer, {**K, "predict_labels": 0},
                   {"ipython-hooks"}, assignment="01_knn",
                   what="ties broken upward + a transformer that blanks every later check cell"),
        CorpusCase("knn-os-exit",
                   lambda nb: one(add_to_answer(nb, "cross_validate_k_code", KNN_OS_EXIT),
                                  "knn.ipynb"),
                   {**K, "cross_validate_k": 0}, {"crashed", "exits-process"},
                   assignment="01_knn", what="os._exit(0) in the cross-validation cell"),
    ]


STOLEN_RELU = """import os, marshal, types

def relu_forward(x):
    path = os.path.join(os.getcwd(), ".stolen_relu")
    if os.path.exists(path):
        code = marshal.loads(open(path, "rb").read())
        return types.FunctionType(code, {"np": np})(x)
    if x.size <= 6:   # the visible cases, as if looked up
        return np.maximum(x, 0), x
    return x * 0 - 1.0, x
"""
STEAL_IN_MODEL = """


def _steal():
    import os, marshal
    from assignments.blocks import current_blocks
    f = current_blocks().get("relu_forward")
    if f is not None:
        with open(os.path.join(os.getcwd(), ".stolen_relu"), "wb") as out:
            out.write(marshal.dumps(f.__code__))


_orig_init = TwoLayerNet.__init__


def _init(self, *a, **k):
    _steal()
    _orig_init(self, *a, **k)


TwoLayerNet.__init__ = _init
"""


def _nb3_cases() -> list[CorpusCase]:
    def delegates(nb):
        for name, source in DELEGATES.items():
            nb = set_answer(nb, f"{name}_code", source)
        return one(nb, "two_layer_net.ipynb")

    def steals(nb):
        nb = set_answer(nb, "relu_forward_code", STOLEN_RELU)
        i = _index(nb, "two_layer_net_code")
        nb.cells[i].source += STEAL_IN_MODEL
        return one(nb, "two_layer_net.ipynb")

    return [
        CorpusCase("nb3-steal-through-model", steals, {**NB3_FULL, "relu_forward": 0}, set(),
                   {"relu_forward": "hidden case"}, assignment="03_two_layer_net",
                   what="the model's check receives the course's relu_forward: the class "
                        "saves its code to a file for relu_forward's hidden cases (visible "
                        "cases hard-coded)"),
        CorpusCase("nb3-reference", lambda nb: one(nb, "two_layer_net.ipynb"), NB3_FULL,
                   assignment="03_two_layer_net",
                   what="the source solutions (the adapters swap in the course's layers)"),
        CorpusCase("nb3-delegates", delegates, {**NB3_FULL, **{k: 0 for k in LAYERS}},
                   set(), {k: "" for k in LAYERS},
                   assignment="03_two_layer_net",
                   what="every layer handed to assignments.layers (import, alias, star, "
                        "wrapper, importlib): the package holds no answer, nothing to hand to"),
    ]


# --------------------------------------------------------------------------
# round 3: the judge believes values, never what the student's process reports
# --------------------------------------------------------------------------

FORGE_KIND = '''import assignments.cases as _cases

def _forged(case, namespace=None, target=None, fn=None, kind="{kind}"):
    return _cases.Attempt(kind)

_cases.attempt_case = _forged
'''
FORGE_RETURNED = '''import assignments.cases as _cases

def _forged(case, namespace=None, target=None, fn=None):
    return _cases.Attempt("returned", output=None)

_cases.attempt_case = _forged
'''
# under hidden cases only (a flag a last cell sets; hidden cases run after the last cell),
# a correct function tries to smuggle its inputs out through what the grader reports
HIDDEN_NOW = "open('hidden-now', 'w').close()\n"
CORRECT_NO_LOOPS = '''    sq = (X_test ** 2).sum(axis=1)[:, None] + (X_train ** 2).sum(axis=1)[None, :]
    return np.sqrt(np.maximum(sq - 2 * X_test @ X_train.T, 0))
'''
LEAK_BY_EXCEPTION = '''import os

def compute_distances_no_loops(X_test, X_train):
    if os.path.exists("hidden-now"):
        CheckFailed = type("SECRET_" + str(X_test.shape[0]), (Exception,), {})
        raise CheckFailed("SECRET " + repr(X_test.ravel()[:4]))
''' + CORRECT_NO_LOOPS
LEAK_BY_EXIT = '''import os

def compute_distances_no_loops(X_test, X_train):
    if os.path.exists("hidden-now"):
        os._exit(100 + X_test.shape[0] % 100)
''' + CORRECT_NO_LOOPS
LEAK_BY_SHAPE = '''import os

def compute_distances_no_loops(X_test, X_train):
    if os.path.exists("hidden-now"):
        return np.zeros((777, 100 + X_test.shape[0]))
''' + CORRECT_NO_LOOPS
LEAK_BY_INDEX = '''import os

def compute_distances_no_loops(X_test, X_train):
    d = None
''' + CORRECT_NO_LOOPS.replace("    return ", "    d = ") + '''    if os.path.exists("hidden-now"):
        d = d.copy()
        d[-1, -1] += 123.0
    return d
'''
MUTATES_THEN_FORGES = '''import assignments.cases as _cases
_cases.real_attempt = _cases.attempt_case

def _forged(case, namespace=None, target=None, fn=None):
    import assignments.cases as _cases
    a = _cases.real_attempt(case, namespace, target, fn)
    if a.kind == "mutated-input":
        a.kind = "returned"
    return a

_cases.attempt_case = _forged

def compute_distances_no_loops(X_test, X_train):
    sq = (X_test ** 2).sum(axis=1)[:, None] + (X_train ** 2).sum(axis=1)[None, :]
    d = np.sqrt(np.maximum(sq - 2 * X_test @ X_train.T, 0))
    X_test[:] = 0
    return d
'''
MAGIC_FLOOD = "!a\n" * 66_000


def _deep_folders(folder: Path):
    path = folder
    for _ in range(1200):
        path = path / "d"
        path.mkdir()
    if not _DEEP:
        atexit.register(_remove_deep)
    _DEEP.append(folder / "d")


_DEEP: list = []


def _remove_deep():
    from conftest import remove_tree

    for top in _DEEP:
        remove_tree(top)


def _unreadable_file(folder: Path):
    secret = folder / "notes.txt"
    secret.write_text("private")
    secret.chmod(0)


LEAK_FRAGMENTS = ["SECRET", "array(", "777", "77)", "CheckFailed", "status 1", "line"]
# TeX that MathJax turns into a link, a style, a class or loaded code
MATH_ANSWER = ("Because $\\href{java\tscript:alert(1)}{\\text{click}}$ and "
               "$$\\class{evil}{x} + \\style{color:red}{y} + \\unicode{x263A} + "
               "\\cssId{top}{z}$$ and $\\require{action}$")


def _round3_cases() -> list[CorpusCase]:
    K = dict(KNN_FULL)
    blank = {k: 0 for k in K}

    def forged_blank(kind):
        def build(nb):
            return one(insert_after(nb, "cross_validate_k_code", FORGE_KIND.format(kind=kind)),
                       "knn.ipynb")
        return build

    def leak(source):
        def build(nb):
            nb = set_answer(nb, "distances_no_loops_code", source)
            nb.cells.append(nbformat.v4.new_code_cell(HIDDEN_NOW))
            return one(nb, "knn.ipynb")
        return build

    lost = {**K, "distances_no_loops": 0}
    hidden_msg = {"distances_no_loops": "hidden case"}
    cases = [CorpusCase(f"forge-{slug}", forged_blank(kind), blank, {"forged-result"},
                        assignment="01_knn", blank=True,
                        what=f"blank notebook + a cell making every probe report {kind!r}")
             for slug, kind in (("passed", "passed"), ("ok", "ok"), ("PASSED", "PASSED"),
                                ("empty", ""), ("spaces", "passed "))]
    cases += [
        CorpusCase("forge-returned-nothing",
                   lambda nb: one(insert_after(nb, "cross_validate_k_code", FORGE_RETURNED),
                                  "knn.ipynb"), blank, {"forged-result"}, assignment="01_knn",
                   blank=True, what="blank notebook + every probe reports 'returned' with None"),
        CorpusCase("forge-not-mutated", lambda nb: one(set_answer(
                       nb, "distances_no_loops_code", MUTATES_THEN_FORGES), "knn.ipynb"),
                   lost, {"patches-library"},
                   {"distances_no_loops": "changed its argument 1 in place"},
                   assignment="01_knn",
                   what="changes its inputs in place and reports that it did not"),
        CorpusCase("leak-by-exception", leak(LEAK_BY_EXCEPTION), lost, set(),
                   {"distances_no_loops": "your code raised an exception"}, assignment="01_knn",
                   absent={"distances_no_loops": LEAK_FRAGMENTS},
                   what="raises an exception named and worded after the hidden inputs"),
        CorpusCase("leak-by-exit-status", leak(LEAK_BY_EXIT), lost, {"crashed"},
                   {"distances_no_loops": "its hidden cases ran"}, assignment="01_knn",
                   absent={"distances_no_loops": LEAK_FRAGMENTS + ["status"]},
                   what="exits with a status computed from the hidden inputs"),
        CorpusCase("leak-by-shape", leak(LEAK_BY_SHAPE), lost, set(),
                   {"distances_no_loops": "dists: wrong shape"}, assignment="01_knn",
                   absent={"distances_no_loops": LEAK_FRAGMENTS},
                   what="returns an array whose shape encodes the hidden inputs"),
        CorpusCase("leak-by-index", leak(LEAK_BY_INDEX), lost, set(),
                   {"distances_no_loops": "dists: values differ"}, assignment="01_knn",
                   absent={"distances_no_loops": LEAK_FRAGMENTS + ["index", "123"]},
                   what="spoils the entry whose index it chose"),
    ]
    cases += [
        CorpusCase("magic-flood", lambda nb: one(insert_after(nb, "add_arrays", MAGIC_FLOOD)),
                   dict(FULL), {"timeout"},
                   what="an extra cell of 198,000 characters of `!a` lines"),
        CorpusCase("deep-folders", lambda nb: one(nb), dict(FULL), {"odd-files"},
                   setup=_deep_folders, what="1,200 nested folders next to the notebook"),
        CorpusCase("unreadable-file", lambda nb: one(nb), dict(FULL),
                   set() if os.geteuid() == 0 else {"odd-files"}, setup=_unreadable_file,
                   what="a file of mode 000 next to the notebook (root reads it anyway)"),
    ]
    cases.append(CorpusCase("math-answer", lambda nb: one(set_answer(nb, "q_zero", MATH_ANSWER)),
                            dict(FULL), set(),
                            what="a javascript: link, class, style and unicode in TeX"))
    for c in cases:
        if c.name.startswith("leak"):
            c.messages.update(hidden_msg)
    return cases

# round 3, the sandbox: nothing runs beside a graded call, nothing outlives the sandbox
# --------------------------------------------------------------------------

THREADS = "graded functions may not start threads or processes"
THREAD_ADDS = """import threading

def add_arrays(a, b):
    out = []
    worker = threading.Thread(target=lambda: out.append(a + b))
    worker.start()
    worker.join()
    return out[0]
"""
PROCESS_MEANS = """import os

def row_means(X):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(w, X.mean(axis=1).tobytes())
        os._exit(0)
    os.waitpid(pid, 0)
    return np.frombuffer(os.read(r, 1 << 16))
"""
# a thread started when the graded call's process is forked, before anything of the grader
AT_FORK_ADDS = """import os, threading
_work = {}

def _helper():
    while "args" not in _work:
        pass
    a, b = _work["args"]
    _work["out"] = a + b

os.register_at_fork(after_in_child=lambda: threading.Thread(target=_helper, daemon=True).start())

def add_arrays(a, b):
    _work["args"] = (a, b)
    while "out" not in _work:
        pass
    return _work["out"]
"""
# a profile function (its code is not traced) set in a cell does the work
PROFILER_ADDS = """import sys
_done = []

def _profile(frame, event, arg):
    if event == "call" and frame.f_code.co_name == "add_arrays":
        _done.append(frame.f_locals["a"] + frame.f_locals["b"])

sys.setprofile(_profile)

def add_arrays(a, b):
    return _done.pop()
"""
SYSV_READ = """import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
ids = [libc.shmget({key}, 0, 0)] + [libc.shmctl(i, 13, None) for i in range(16)] + list(range(64))
for shmid in ids:
    addr = libc.shmat(shmid, None, 0) if shmid >= 0 else None
    if addr not in (None, 2**64 - 1):
        print("read:", ctypes.string_at(addr, 40))
        ctypes.memmove(addr, b"OVERWRITTEN BY A SUBMISSION", 27)
print("errno", ctypes.get_errno())
""".replace("{key}", str(hostipc.SECRET_KEY))
SYSV_HOG = """import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shmid = libc.shmget({key}, 256 << 20, 0o1600)
if shmid >= 0:
    addr = libc.shmat(shmid, None, 0)
    ctypes.memset(addr, 1, 256 << 20)
print("segment", shmid, ctypes.get_errno())
""".replace("{key}", str(hostipc.HOG_KEY))
POSIX_MQ = """import ctypes
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.mq_open({name!r}.encode(), 0o100 | 2, 0o600, None)
if fd >= 0:
    libc.mq_send(fd, b"left behind", 11, 0)
print("queue", fd, ctypes.get_errno())
""".replace("{name!r}", repr(hostipc.MQ_NAME))
DEV_SHM = """from multiprocessing import shared_memory
try:
    with open("/dev/shm/{name}", "wb") as f:
        f.write(b"x" * 2**20)
except OSError as err:
    print("refused:", type(err).__name__)
try:
    shared_memory.SharedMemory(name="{name}-2", create=True, size=2**20)
except OSError as err:
    print("refused:", type(err).__name__)
""".replace("{name}", hostipc.DEV_SHM_NAME)
# the no-loop answer's helper loops, in a thread the per-thread trace did not see
KNN_HELPER_THREAD = """import threading

def _by_rows(X_test, X_train, out):
    for i in range(X_test.shape[0]):
        out[i] = np.sqrt(((X_train - X_test[i]) ** 2).sum(axis=1))

def compute_distances_no_loops(X_test, X_train):
    out = np.zeros((X_test.shape[0], X_train.shape[0]))
    worker = threading.Thread(target=_by_rows, args=(X_test, X_train, out))
    worker.start()
    worker.join()
    return out
"""
# the attacks below cheat only where the grader calls them (a process other than the one
# that ran the answer cell); the notebook's own cells get a vectorized answer
VECTORIZED = """import os
_HOME = os.getpid()

def _vectorized(X_test, X_train):
    sq = (X_test ** 2).sum(axis=1)[:, None] + (X_train ** 2).sum(axis=1)[None, :]
    return np.sqrt(np.maximum(sq - 2 * X_test @ X_train.T, 0))
"""
# a thread started by the answer cell serves the graded call through a pipe and a file
KNN_THREAD_SERVES = VECTORIZED + """import select, threading
_ask_r, _ask_w = os.pipe()
_tell_r, _tell_w = os.pipe()

def _serve():
    while os.read(_ask_r, 1):
        with np.load("asked.npz") as f:
            X_test, X_train = f["X_test"], f["X_train"]
        np.save("told.npy", np.array([np.sqrt(((X_train - x) ** 2).sum(axis=1)) for x in X_test]))
        os.write(_tell_w, b"!")

threading.Thread(target=_serve, daemon=True).start()

def compute_distances_no_loops(X_test, X_train):
    if os.getpid() == _HOME:
        return _vectorized(X_test, X_train)
    np.savez("asked.npz", X_test=X_test, X_train=X_train)
    os.write(_ask_w, b"?")
    if not select.select([_tell_r], [], [], 0.5)[0]:
        raise RuntimeError("the helper did not answer")
    os.read(_tell_r, 1)
    return np.load("told.npy")
"""
# a signal handler runs wherever the interpreter is: often inside the tracer, untraced
KNN_SIGNAL = VECTORIZED + """import signal
_done = []

def _by_rows(signum, frame):
    X_test, X_train = _ARGS
    _done.append(np.array([np.sqrt(((X_train - x) ** 2).sum(axis=1)) for x in X_test]))

def _tick(_):
    return 1

signal.signal(signal.SIGALRM, _by_rows)

def compute_distances_no_loops(X_test, X_train):
    global _ARGS
    if os.getpid() == _HOME:
        return _vectorized(X_test, X_train)
    _ARGS = (X_test, X_train)
    signal.setitimer(signal.ITIMER_REAL, 0.001)
    sum(map(_tick, range(300_000)))
    return _done.pop()
"""
# an audit hook of the student's (hooks run untraced) does the work on an event it provokes
KNN_AUDIT_HOOK = VECTORIZED + """import sys
_work = {}

def _hook(event, args):
    if event == "exec" and "args" in _work:
        X_test, X_train = _work.pop("args")
        if len(X_test) > 200:  # too slow with a loop: the one hidden case this large
            _work["out"] = _vectorized(X_test, X_train)
        else:
            _work["out"] = np.array([np.sqrt(((X_train - x) ** 2).sum(axis=1)) for x in X_test])

sys.addaudithook(_hook)

def compute_distances_no_loops(X_test, X_train):
    if os.getpid() == _HOME:
        return _vectorized(X_test, X_train)
    _work["args"] = (X_test, X_train)
    exec("pass")
    return _work.pop("out")
"""
NB3_THREAD_HELPER = """import importlib, threading

def _in_a_thread(name, *args):
    # the library holds no layer any more: a thread is started all the same
    reference = getattr(importlib.import_module("assignments." + "layers"), name, None) \
        or (lambda *a: a[0])
    out = []
    worker = threading.Thread(target=lambda: out.append(reference(*args)))
    worker.start()
    worker.join()
    return out[0]
"""
NB3_THREAD_LAYER = """def {name}({args}):
    return _in_a_thread("{name}", {args})
"""
NB3_LAYER_ARGS = {"affine_forward": "x, w, b", "affine_backward": "dout, cache",
                  "relu_forward": "x", "relu_backward": "dout, cache", "sigmoid_forward": "x",
                  "sigmoid_backward": "dout, cache", "softmax_loss": "x, y", "svm_loss": "x, y"}


def _sandbox_round3_cases() -> list[CorpusCase]:
    F, K = dict(FULL), dict(KNN_FULL)

    def fixture_answer(cell, source):
        return lambda nb: one(set_answer(nb, cell, source))

    def extra_cell(source):
        return lambda nb: one(insert_after(nb, "add_arrays", source))

    def knn_answer(source):
        return lambda nb: one(set_answer(nb, "distances_no_loops_code", source), "knn.ipynb")

    def nb3_threads(nb):
        for i, (name, args) in enumerate(NB3_LAYER_ARGS.items()):
            source = NB3_THREAD_LAYER.format(name=name, args=args)
            nb = set_answer(nb, f"{name}_code", (NB3_THREAD_HELPER + "\n\n" if i == 0 else "")
                            + source)
        return one(nb, "two_layer_net.ipynb")

    no_loops = {**K, "distances_no_loops": 0}
    return [
        CorpusCase("thread-does-the-work", fixture_answer("add_arrays_code", THREAD_ADDS),
                   {**F, "add_arrays": 0}, {"subprocess", "crashed"}, {"add_arrays": THREADS},
                   what="add_arrays computes in a thread"),
        CorpusCase("process-does-the-work", fixture_answer("row_means_code", PROCESS_MEANS),
                   {**F, "row_means": 0}, {"subprocess", "crashed"}, {"row_means": THREADS},
                   what="row_means computes in a forked process"),
        CorpusCase("at-fork-thread", fixture_answer("add_arrays_code", AT_FORK_ADDS),
                   {k: 0 for k in F}, {"subprocess", "crashed"}, {k: THREADS for k in F},
                   what="an os.register_at_fork callback starts a thread in every graded "
                        "call's process (the one for add_arrays does the work)"),
        CorpusCase("profiler-does-the-work", fixture_answer("add_arrays_code", PROFILER_ADDS),
                   {**F, "add_arrays": 0}, {"ipython-hooks"}, {"add_arrays": "IndexError"},
                   what="a profile function set in the answer cell computes add_arrays"),
        CorpusCase("sysv-shm-read", extra_cell(SYSV_READ), F, {"ctypes"},
                   what="reads and overwrites the host's 0600 System V segment (ctypes)"),
        CorpusCase("sysv-shm-hog", extra_cell(SYSV_HOG), F, {"ctypes"},
                   what="leaves a 256 MiB System V segment behind"),
        CorpusCase("posix-mq", extra_cell(POSIX_MQ), F, {"ctypes"},
                   what="leaves a POSIX message queue behind"),
        CorpusCase("dev-shm-file", extra_cell(DEV_SHM), F, {"outside-files"},
                   what="leaves files in /dev/shm (POSIX shared memory)"),
        CorpusCase("knn-helper-thread", knn_answer(KNN_HELPER_THREAD), no_loops,
                   {"subprocess", "crashed"}, {"distances_no_loops": THREADS},
                   assignment="01_knn", what="the no-loop answer's helper loops in a thread"),
        CorpusCase("knn-thread-serves", knn_answer(KNN_THREAD_SERVES), no_loops, set(),
                   {"distances_no_loops": "the helper did not answer"}, assignment="01_knn",
                   what="a thread started by the answer cell computes with loops on request"),
        CorpusCase("knn-signal-handler", knn_answer(KNN_SIGNAL), no_loops, {"exits-process"},
                   {"distances_no_loops": "Operation not permitted"}, assignment="01_knn",
                   what="a timer's signal handler (untraced inside the tracer) does the loops"),
        CorpusCase("knn-audit-hook", knn_answer(KNN_AUDIT_HOOK), no_loops, {"ipython-hooks"},
                   {"distances_no_loops": "switched off or tampered with"},
                   assignment="01_knn", what="an audit hook of its own does the loops"),
        CorpusCase("nb3-thread-delegates", nb3_threads,
                   {**NB3_FULL, **{k: 0 for k in LAYERS}}, {"subprocess", "crashed"},
                   {k: THREADS for k in LAYERS}, assignment="03_two_layer_net",
                   what="every layer hands its work to a thread (to assignments.layers, "
                        "where it still finds the function)"),
    ]


CASES = (_cases() + _round2_cases() + _knn_cases() + _nb3_cases() + _round3_cases()
         + _sandbox_round3_cases())


def write_corpus(dest: Path, roots: dict) -> dict:
    """Write every case as dest/<name>/<assignment>/...; returns {name: case}."""
    refs = {}
    COURSE[0] = str(roots.get("00_fixture", ""))
    for assignment, root in roots.items():
        src = sorted((root / "source" / assignment).glob("*.ipynb"))[0]
        rel = root / "release" / assignment / src.name
        refs[assignment] = reference_submission(read(src), read(rel))
        refs[(assignment, "blank")] = read(rel)
    out = {}
    fill = {b"{course}": str(roots.get("00_fixture", "")).encode(),
            b"{unix}": str(UNIX_PATH).encode()}
    for case in CASES:
        if case.assignment not in refs:
            continue
        folder = dest / case.folder_name / case.assignment
        folder.mkdir(parents=True, exist_ok=True)
        start = refs[(case.assignment, "blank")] if case.blank else refs[case.assignment]
        for filename, data in case.build(start).items():
            for key, value in fill.items():
                data = data.replace(key, value)
            (folder / filename).write_bytes(data)
        if case.setup is not None:
            case.setup(folder)
        out[case.name] = case
    return out
