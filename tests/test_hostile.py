"""The hostile-submission corpus through the real pipeline, ours and stock nbgrader's.

Every case in tests/corpus.py is graded by `course grade` (sandbox engine) in
one run; each must get exactly its expected points, raise its flags and show
its message, and no other student's rows may change.  The same corpus also
goes through plain `nbgrader autograde`; the cases it grades wrongly must be
exactly the ones listed in README.md's comparison table.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import pytest

from autograder.grade import grade
from autograder.release import generate
from autograder.table import clean
from conftest import ROOT, remove_tree, started_by_this_test
import hostipc
from corpus import CASES, FIXTURE_ROOT, FIXTURE_TASKS, UNIX_PATH, write_corpus

pytestmark = pytest.mark.slow

SEED = 20261123
# cells get 30 s: an honest cell (huge-expression: IPython tokenizes 600 kB) must pass on a
# machine four times slower than a quiet one; hangs still end at the limit
LIMITS = {"cell_seconds": 30, "probe_seconds": 10, "notebook_seconds": 150, "memory_mb": 1024}
NB3_LIMITS = {**LIMITS, "cell_seconds": 60, "probe_seconds": 60, "notebook_seconds": 300}
FIXTURE_CASES = [c for c in CASES if c.assignment == "00_fixture"]
KNN_CASES = [c for c in CASES if c.assignment == "01_knn"]
NB3_CASES = [c for c in CASES if c.assignment == "03_two_layer_net"]
# stock nbgrader grades the original corpus and the new cases it gets wrong (the others
# only cost time: it has no limits and grades them right or not at all)
STOCK_CASES = {c.name for c in CASES[:28]} | {"grade-id-list", "metadata-string",
                                              "cell-without-source", "knn-reference",
                                              "knn-input-transformer", "knn-os-exit"}

# Cases stock nbgrader 0.9 grades wrongly (points, or "needs manual grade" instead of a
# grade), measured by test_stock_nbgrader_comparison and listed in README.md.
NBGRADER_WRONG = {
    "allclose-patch", "input-transformer", "assert-stripped", "builtins-patch",
    "np-testing-patch", "detects-grader", "memory-bomb", "os-exit", "segfault",
    "deleted-test-cell",
    "reordered-cells", "wrong-name", "knn-input-transformer", "knn-os-exit",
    "grade-id-list", "metadata-string", "cell-without-source",
}


class Listener(threading.Thread):
    """A host service (TCP on 127.0.0.1, or a Unix socket) that records what reaches it."""

    def __init__(self, unix_path: Path | None = None):
        super().__init__(daemon=True)
        if unix_path is None:
            self.sock = socket.socket()
            self.sock.bind(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
        else:
            unix_path.unlink(missing_ok=True)
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.bind(str(unix_path))
        self.sock.listen(8)
        self.received = []
        self.start()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.received.append(conn.recv(200))
            conn.close()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp_path_factory.getbasetemp()  # pytest's own folders stay where they are
    saved, saved_tempdir = dict(os.environ), tempfile.tempdir
    # job folders go into a folder of this module's own, which every process the grader
    # starts names on its command line (see test_no_process_outlives_the_run)
    marker = Path(tempfile.mkdtemp(prefix="course-hostile-"))
    os.chmod(marker, 0o755)
    tempfile.tempdir = os.environ["TMPDIR"] = str(marker)
    listener = Listener()
    listener.marker = marker
    # a host System V segment of mode 0600 the sysv-shm-read case tries to read and overwrite
    listener.secret = b"HOST SECRET " + os.urandom(8).hex().encode()
    listener.shmid = hostipc.create_segment(hostipc.SECRET_KEY, listener.secret)
    listener.unix = Listener(UNIX_PATH)
    os.environ["COURSE_TASK_MODULES"] = str(FIXTURE_TASKS)
    os.environ["CORPUS_PORT"] = str(listener.port)
    yield listener
    os.environ.clear()
    os.environ.update(saved)
    tempfile.tempdir = saved_tempdir
    shutil.rmtree(marker, ignore_errors=True)
    hostipc.remove_segment(listener.shmid)
    listener.sock.close()
    listener.unix.sock.close()
    UNIX_PATH.unlink(missing_ok=True)


def _fixture_course(path: Path) -> Path:
    path.mkdir(parents=True)
    shutil.copy(FIXTURE_ROOT / "nbgrader_config.py", path)
    shutil.copytree(FIXTURE_ROOT / "source", path / "source")
    generate(["00_fixture"], FIXTURE_ROOT, path / "release")
    return path


def _run(engine, tmp: Path, which: str, **options):
    """Grade one assignment's part of the corpus; returns (rows by student, course dir)."""
    course = tmp / f"{which}-{engine}"
    subs = tmp / f"{which}-{engine}-submissions"
    if which == "fixture":
        _fixture_course(course)
        os.environ["COURSE_DIR"] = str(course)
        write_corpus(subs, {"00_fixture": course})
    else:
        os.environ["COURSE_DIR"] = str(ROOT)
        write_corpus(subs, {which: ROOT})
    if engine == "nbgrader":
        for case in CASES:
            if case.name not in STOCK_CASES:
                remove_tree(subs / case.folder_name)   # deep-folders: rmtree recurses
    try:
        rows = grade(subs, course_dir=course, engine=engine, seed=SEED, **options)
    finally:
        os.environ.pop("COURSE_DIR", None)
    by = {}
    for r in rows:
        by.setdefault(r.student, {})[r.cell] = r
    return by, course


# the unprivileged re-run (tests/test_install.py) may leave out the slow real notebooks
PARTS = os.environ.get("CORPUS_ASSIGNMENTS", "00_fixture,01_knn,03_two_layer_net").split(",")


@pytest.fixture(scope="module")
def ours(env, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ours")
    rows, courses = {}, {}
    for part, limits in (("00_fixture", LIMITS), ("01_knn", LIMITS),
                         ("03_two_layer_net", NB3_LIMITS)):
        if part in PARTS:
            by, courses[part] = _run("sandbox", tmp, "fixture" if part == "00_fixture" else part,
                                     jobs=2, limits=limits)
            rows.update(by)
    return rows, courses


@pytest.fixture(scope="module")
def stock(env, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stock")
    fixture, fcourse = _run("nbgrader", tmp, "fixture")
    knn, kcourse = _run("nbgrader", tmp, "01_knn")
    return {**fixture, **knn}, {"00_fixture": fcourse, "01_knn": kcourse}


def _flags(rows: dict) -> set:
    return {f for r in rows.values() for f in r.flags.split(";") if f}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_gets_its_grade_flags_and_message(ours, case):
    if case.assignment not in PARTS:
        pytest.skip(f"{case.assignment} is not in CORPUS_ASSIGNMENTS")
    rows = ours[0][clean(case.folder_name, 100)]
    points = {cell: rows[cell].points for cell in case.points}
    assert points == case.points, {c: rows[c].message for c in case.points}
    flags = _flags(rows)
    assert case.flags <= flags, f"missing flags {case.flags - flags}; got {flags}"
    if not case.flags:
        assert not flags, f"an honest submission was flagged: {flags}"
    for cell, fragment in case.messages.items():
        assert fragment in rows[cell].message, rows[cell].message
    for cell, fragments in case.absent.items():
        leaked = [f for f in fragments if f in rows[cell].message]
        assert not leaked, f"{cell}'s message shows {leaked}: {rows[cell].message}"
    for r in rows.values():
        assert r.status in ("passed", "failed", "manual", "error", "missing", "refused")
        assert len(r.message) <= 500 and "\x1b" not in r.message + r.student
        if r.kind == "auto" and r.points < r.max_points:
            assert len(r.message) > 20, f"{r.cell} lost points without a message for the student"
        if r.kind == "auto":
            assert r.status != "manual", "an autograded cell must never need manual grading"


def test_corpus_is_big_enough():
    assert len(CASES) >= 60 and len(KNN_CASES) >= 7 and len(NB3_CASES) >= 2


def test_sandbox_blocked_network_and_outside_writes(ours, env):
    _, courses = ours
    assert not list(courses["00_fixture"].rglob("HACKED.txt"))
    log = json.loads((courses["00_fixture"] / "grading" / "00_fixture" / "network.json")
                     .read_text())
    cells = log["notebooks"]["fixture"]["cells"]
    assert any("no network" in c["output"] for c in cells), cells


def test_snooping_code_reads_nothing(ours):
    _, courses = ours
    log = json.loads((courses["00_fixture"] / "grading" / "00_fixture" / "reads-outside.json")
                     .read_text())
    printed = "".join(c["output"] for c in log["notebooks"]["fixture"]["cells"])
    assert "could not read" in printed and "HIDDEN" not in printed


def test_feedback_never_shows_hidden_tests(ours):
    _, courses = ours
    pages = [(a, p) for a, course in courses.items()
             for p in course.glob(f"feedback/*/{a}/*.html")]
    assert len(pages) >= 40  # unreadable, refused and linked submissions get no page
    for assignment, page in pages:
        text = page.read_text()
        # the fixture's hidden test draws with default_rng(5) (a visible cell of notebook 3
        # does too, and a student's traceback may show it there)
        secrets = ("HIDDEN", "run_hidden(\"", "grading_seed") + \
            (("default_rng(5)",) if assignment == "00_fixture" else ())
        for secret in secrets:
            assert secret not in text, f"{page} shows {secret}"
    assert not list(courses["00_fixture"].glob("feedback/*/00_fixture/*.json"))


def test_stock_nbgrader_comparison(ours, stock, env):
    """Plain nbgrader on the same corpus: which cases it grades wrongly (for the README)."""
    lines = ["| case | what the submission does | right grade | `course grade` (flags) | "
             "stock nbgrader |", "|---|---|---|---|---|"]
    wrong = set()
    for case in CASES:
        if case.name not in STOCK_CASES:
            continue
        mine = ours[0][case.name]
        theirs = stock[0].get(case.name, {})
        expected = sum(case.points.values())
        got = sum(theirs[c].points for c in case.points if c in theirs)
        manual = [c for c in case.points if c in theirs and theirs[c].status == "manual"]
        right = got == expected and not manual and all(
            theirs[c].points == p for c, p in case.points.items() if c in theirs)
        if not right:
            wrong.add(case.name)
        ours_total = sum(mine[c].points for c in case.points)
        flags = ", ".join(sorted(_flags(mine))) or "-"
        note = f"{got:g}" + (f" ({', '.join(manual)}: needs manual grade)" if manual else "")
        lines.append(f"| {case.name} | {case.what} | {expected:g} | {ours_total:g} ({flags}) | "
                     f"{note}{'' if right else ' **wrong**'} |")
    table = "\n".join(lines)
    out = ROOT / "build" / "corpus_comparison.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(table + "\n")
    # stock nbgrader's 15 s cell limit makes the 100 MB print flood pass or time out
    # depending on the machine's load: that case is left out of the comparison
    flaky = {"print-flood"}
    assert wrong - flaky == NBGRADER_WRONG - flaky, \
        f"stock nbgrader's wrong cases changed:\n{table}"
    # what stock nbgrader lets a submission do
    assert env.received, "stock nbgrader was expected to let the submission connect"
    assert list(stock[1]["00_fixture"].rglob("HACKED.txt"))
    leaked = (stock[1]["00_fixture"] / "autograded" / "reads-outside" / "00_fixture" /
              "fixture.ipynb").read_text()
    assert "BEGIN HIDDEN TESTS" in leaked
    feedback = (stock[1]["00_fixture"] / "feedback" / "correct" / "00_fixture" /
                "fixture.html").read_text()
    assert "HIDDEN" in feedback


def test_grading_is_deterministic_and_resumable(ours, env, tmp_path):
    """Regrading gives identical rows; a plain re-run reuses finished results."""
    _, courses = ours
    course = courses["00_fixture"]
    os.environ["COURSE_DIR"] = str(course)
    try:
        subs = course.parent / "fixture-sandbox-submissions"
        kept = list((course / "grading" / "00_fixture").glob("*.json")) + \
            list(course.glob("feedback/*/00_fixture/*.html"))
        before = {p: p.stat().st_mtime_ns for p in kept}
        again = grade(subs, course_dir=course, engine="sandbox", jobs=2, limits=LIMITS,
                      progress=False, seed=SEED)
        after = {p: p.stat().st_mtime_ns for p in before}
        assert before == after, "a re-run must not regrade unchanged submissions, nor remake " \
                                "their feedback"
        pick = tmp_path / "pick"
        for name in ("correct", "os-exit", "allclose-patch", "infinite-loop"):
            shutil.copytree(subs / name, pick / name)
        forced = grade(pick, course_dir=course, engine="sandbox", jobs=2, limits=LIMITS,
                       force=True, progress=False, seed=SEED)
    finally:
        os.environ.pop("COURSE_DIR", None)
    first = {(r.student, r.cell): (r.points, r.status, r.message, r.flags, r.seed)
             for r in again}
    for r in forced:
        assert first[(r.student, r.cell)] == (r.points, r.status, r.message, r.flags, r.seed)


def test_dask_executor_gives_the_same_grades(ours, env, tmp_path):
    pytest.importorskip("dask.distributed")
    _, courses = ours
    course = _fixture_course(tmp_path / "course")
    os.environ["COURSE_DIR"] = str(course)
    try:
        subs = courses["00_fixture"].parent / "fixture-sandbox-submissions"
        pick = tmp_path / "pick"
        for name in ("correct", "np-testing-patch", "segfault"):
            shutil.copytree(subs / name, pick / name)
        rows = grade(pick, course_dir=course, engine="sandbox", jobs=2, executor="dask",
                     limits=LIMITS, progress=False, seed=SEED)
    finally:
        os.environ.pop("COURSE_DIR", None)
    for r in rows:
        other = ours[0][r.student][r.cell]
        assert (r.points, r.status, r.message) == (other.points, other.status, other.message)


def test_gradebook_and_export_work(ours, env):
    """The gradebook our engine writes is usable by `nbgrader export`."""
    from autograder.nbgrader_run import run_nbgrader

    _, courses = ours
    course = courses["00_fixture"]
    run_nbgrader(course, "export", "--to", str(course / "export.csv"))
    text = (course / "export.csv").read_text()
    assert "allclose-patch" in text and "correct" in text


# --------------------------------------------------------------------------
# round 2: what the attacks must not achieve, beyond their rows
# --------------------------------------------------------------------------

def _fixture_rows(ours, name):
    return ours[0][clean(name, 100)]


def test_honest_rows_are_byte_identical_to_a_run_without_attackers(ours, env, tmp_path):
    """correct, knn-reference and nb3-reference graded alone give the very same rows."""
    course = _fixture_course(tmp_path / "course")
    os.environ["COURSE_DIR"] = str(course)
    try:
        everything = tmp_path / "all"
        write_corpus(everything, {"00_fixture": course})
        alone = tmp_path / "alone"
        shutil.copytree(everything / "correct", alone / "correct")
        rows = grade(alone, course_dir=course, engine="sandbox", limits=LIMITS, progress=False,
                     seed=SEED)
    finally:
        os.environ.pop("COURSE_DIR", None)
    import dataclasses

    for r in rows:
        assert dataclasses.astuple(r) == dataclasses.astuple(ours[0]["correct"][r.cell])


def test_no_process_outlives_the_run(ours, env):
    assert not started_by_this_test(env.marker)


def test_host_ipc_untouched_and_nothing_left_behind(ours, env):
    """The IPC cases: the host's 0600 segment unread and unchanged, no segment, queue or
    /dev/shm file of theirs outlives their sandbox (as root and as an ordinary user)."""
    _, courses = ours
    assert hostipc.read_segment(env.shmid, len(env.secret)) == env.secret
    log = (courses["00_fixture"] / "grading" / "00_fixture" / "sysv-shm-read.json").read_text()
    page = (courses["00_fixture"] / "feedback" / "sysv-shm-read" / "00_fixture" /
            "fixture.html").read_text()
    assert "read:" not in log and env.secret.decode() not in log + page
    assert hostipc.segment_id(hostipc.HOG_KEY) is None
    assert not hostipc.queue_exists(hostipc.MQ_NAME)
    assert not list(Path("/dev/shm").glob(hostipc.DEV_SHM_NAME + "*"))


def test_host_files_and_services_untouched(ours, env):
    _, courses = ours
    course = courses["00_fixture"]
    assert oct((course / "gradebook.db").stat().st_mode & 0o7777) in ("0o644", "0o600")
    assert (course / "source" / "00_fixture" / "fixture.ipynb").stat().st_mtime > 10**9
    assert not env.unix.received, "a submission reached a host service's Unix socket"
    assert not env.received or True  # TCP: asserted by test_sandbox_blocked_network...


def test_feedback_never_shows_hidden_inputs(ours):
    import numpy as np

    from autograder import tasks as T

    _, courses = ours
    page = (courses["00_fixture"] / "feedback" / "leaks-hidden-inputs" / "00_fixture" /
            "fixture.html").read_text()
    os.environ["COURSE_TASK_MODULES"] = str(FIXTURE_TASKS)
    task = T.load("00_fixture").tasks["add_arrays"]
    solution = {"add_arrays": lambda a, b: a + b}
    hidden = T.hidden_cases(task, solution, SEED)
    assert "inputs seen so far" in page
    for case in hidden:
        for arr in case.args:
            for value in np.ravel(arr)[:3]:
                assert repr(float(value))[:8] not in page


def test_feedback_neutralizes_student_html(ours):
    _, courses = ours
    page = (courses["00_fixture"] / "feedback" / "html-answer" / "00_fixture" /
            "fixture.html").read_text()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert 'href="javascript' not in page
    assert "to be graded by your instructor" in page


def test_feedback_neutralizes_student_tex(ours):
    _, courses = ours
    page = (courses["00_fixture"] / "feedback" / "math-answer" / "00_fixture" /
            "fixture.html").read_text()
    for command in ("\\href", "\\class", "\\style", "\\unicode", "\\cssId", "\\require"):
        assert command not in page, command
    assert "click" in page and "to be graded by your instructor" in page


def test_grade_table_is_safe_to_open(ours, tmp_path):
    import csv

    from autograder.table import write_table

    write_table([r for rows in ours[0].values() for r in rows.values()], tmp_path / "g.csv")
    with open(tmp_path / "g.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert all(len(v) <= 600 for row in table for v in row.values())
    assert not any(v.startswith(("=", "+", "@")) for row in table for v in row.values())
    assert any(row["student"].startswith("'=") for row in table)
    assert not any("\x1b" in v for row in table for v in row.values())


def test_refused_ids_do_not_take_other_students_feedback(ours):
    _, courses = ours
    assert (courses["00_fixture"] / "feedback" / "correct" / "00_fixture" /
            "fixture.html").exists()
    assert not (courses["00_fixture"] / "submitted" / "?????").exists()


def test_formgrader_sees_the_flags(ours):
    from nbgrader.api import Gradebook

    _, courses = ours
    course = courses["00_fixture"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        flagged = gb.find_submission_notebook("fixture", "00_fixture", "allclose-patch").flagged
        honest = gb.find_submission_notebook("fixture", "00_fixture", "correct").flagged
    assert flagged and not honest
