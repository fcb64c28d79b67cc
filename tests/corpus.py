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
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

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


def _nb3_cases() -> list[CorpusCase]:
    def delegates(nb):
        for name, source in DELEGATES.items():
            nb = set_answer(nb, f"{name}_code", source)
        return one(nb, "two_layer_net.ipynb")

    return [
        CorpusCase("nb3-reference", lambda nb: one(nb, "two_layer_net.ipynb"), NB3_FULL,
                   assignment="03_two_layer_net",
                   what="the source solutions (the adapters swap in library layers)"),
        CorpusCase("nb3-delegates", delegates, {**NB3_FULL, **{k: 0 for k in LAYERS}},
                   {"delegated"},
                   {k: "uses the course's reference `assignments.layers." for k in LAYERS},
                   assignment="03_two_layer_net",
                   what="every layer handed to assignments.layers (import, alias, star, "
                        "wrapper, importlib)"),
    ]


CASES = _cases() + _round2_cases() + _knn_cases() + _nb3_cases()


def write_corpus(dest: Path, roots: dict) -> dict:
    """Write every case as dest/<name>/<assignment>/...; returns {name: case}."""
    refs = {}
    COURSE[0] = str(roots.get("00_fixture", ""))
    for assignment, root in roots.items():
        src = sorted((root / "source" / assignment).glob("*.ipynb"))[0]
        rel = root / "release" / assignment / src.name
        refs[assignment] = reference_submission(read(src), read(rel))
    out = {}
    fill = {b"{course}": str(roots.get("00_fixture", "")).encode(),
            b"{unix}": str(UNIX_PATH).encode()}
    for case in CASES:
        if case.assignment not in refs:
            continue
        folder = dest / case.folder_name / case.assignment
        folder.mkdir(parents=True, exist_ok=True)
        for filename, data in case.build(refs[case.assignment]).items():
            for key, value in fill.items():
                data = data.replace(key, value)
            (folder / filename).write_bytes(data)
        if case.setup is not None:
            case.setup(folder)
        out[case.name] = case
    return out
