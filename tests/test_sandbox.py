"""The sandbox package: its trust boundary, and what the platform actually enforces.

Each enforcement test runs a small program inside a real sandbox (broker and
kernel, as ``course grade`` starts them) and checks what happened, so the
README's isolation table states measured facts.  A layer the platform does
not have is skipped with the reason (and ``course grade`` prints it).
"""

from __future__ import annotations

import ast
import os
import socket
import sys
import threading
from pathlib import Path

import pytest

from autograder import isolation
from autograder.replay import Step, run_steps
from autograder.spawn import Limits

SANDBOX = Path(__file__).resolve().parents[1] / "autograder" / "sandbox"
ALLOWED_ROOTS = {"numpy", "IPython", "matplotlib", "assignments"}


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, 0
        elif isinstance(node, ast.ImportFrom):
            yield node.module or "", node.level


def test_sandbox_imports_nothing_from_outside_it():
    stdlib = set(sys.stdlib_module_names)
    for path in sorted(SANDBOX.glob("*.py")):
        for module, level in _imports(path):
            root = module.split(".")[0]
            assert level > 0 or root in stdlib or root in ALLOWED_ROOTS, \
                f"{path.name} imports {module}, which the sandbox cannot (or must not) read"


def _run(source: str, tmp_path, **limits):
    steps = [Step("cell", "probe_cell", source)]
    result = run_steps(steps, tmp_path / "job", Limits(cell_seconds=30, **limits))
    return result.outcomes[0], result


CAPS = isolation.capabilities()
needs_seccomp = pytest.mark.skipif(not CAPS["seccomp"], reason="no seccomp on this platform")
needs_landlock = pytest.mark.skipif(not CAPS["landlock"], reason="no Landlock on this platform")
needs_ns = pytest.mark.skipif(not CAPS["namespaces"], reason="no user namespaces here")


@needs_seccomp
def test_metadata_of_outside_files_cannot_change(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("x")
    os.chmod(victim, 0o644)
    before = victim.stat()
    code = f"""
import os
p = {str(victim)!r}
for name, call in [("chmod", lambda: os.chmod(p, 0o4777)), ("utime", lambda: os.utime(p, (0, 0))),
                   ("xattr", lambda: os.setxattr(p, "user.x", b"1")),
                   ("chown", lambda: os.chown(p, 1, 1))]:
    try:
        call(); print(name, "ALLOWED")
    except OSError as err:
        print(name, "denied", err.errno)
"""
    outcome, _ = _run(code, tmp_path)
    after = victim.stat()
    assert "ALLOWED" not in outcome.output, outcome.output
    assert (after.st_mode, after.st_mtime_ns, after.st_uid) == \
        (before.st_mode, before.st_mtime_ns, before.st_uid)


@needs_seccomp
def test_unix_sockets_and_memfd_are_refused(tmp_path):
    path = tmp_path / "host.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    got = []
    threading.Thread(target=lambda: got.append(server.accept()), daemon=True).start()
    code = f"""
import os, socket
try:
    s = socket.socket(socket.AF_UNIX); s.connect({str(path)!r}); print("unix ALLOWED")
except OSError as err:
    print("unix denied", err.errno)
try:
    os.memfd_create("x"); print("memfd ALLOWED")
except OSError as err:
    print("memfd denied", err.errno)
try:
    os.sched_setaffinity(0, {{0}}); print("affinity ALLOWED")
except OSError as err:
    print("affinity denied", err.errno)
"""
    outcome, _ = _run(code, tmp_path)
    server.close()
    assert "ALLOWED" not in outcome.output, outcome.output
    assert not got


@needs_ns
def test_total_disk_use_is_capped(tmp_path):
    code = """
written = 0
try:
    with open("big.bin", "wb") as f:
        for _ in range(64):
            f.write(b"x" * (1 << 20)); written += 1
except OSError as err:
    print("stopped", type(err).__name__)
print("written MiB", written)
"""
    outcome, _ = _run(code, tmp_path, disk_mb=16, file_mb=256)
    assert "stopped" in outcome.output and "written MiB" in outcome.output, outcome.output
    assert int(outcome.output.split("written MiB")[1].split()[0]) <= 16
    assert any(e[0] == "disk-full" for e in outcome.events), outcome.events


@needs_landlock
def test_installed_grader_package_is_not_readable(tmp_path):
    """The hidden generators (autograder/tasks) are never on the sandbox's read list."""
    import autograder.tasks

    tasks_dir = Path(autograder.tasks.__file__).resolve().parent
    paths = isolation.read_paths()
    assert not any(Path(p) == tasks_dir or Path(p) in tasks_dir.parents and p != "/"
                   and Path(p) != Path(p).anchor for p in paths if Path(p) in tasks_dir.parents
                   or Path(p) == tasks_dir), paths
    outcome, _ = _run(f"print(open({str(tasks_dir / '__init__.py')!r}).read()[:20])", tmp_path)
    assert outcome.status == "error" and "PermissionError" in (outcome.error or ""), outcome


def test_read_paths_leave_out_a_hole_below_an_allowed_root(tmp_path):
    root = tmp_path / "prefix"
    for sub in ("lib/site/a", "lib/site/autograder/tasks", "lib/site/b", "bin"):
        (root / sub).mkdir(parents=True)
    hole = root / "lib" / "site" / "autograder"
    paths = {Path(p) for p in isolation._without(root, [hole])}
    assert paths == {root / "bin", root / "lib" / "site" / "a", root / "lib" / "site" / "b"}


def test_every_recorded_event_raises_a_flag():
    from autograder.sandbox import events

    recorded = set(events.EVENT_FLAGS) | set(events.PATH_EVENTS) | set(events.BROKER_FLAGS)
    assert all(events.flag_of(e) for e in recorded)
    r, w = os.pipe()
    hook = events.make_hook(w, ("/allowed/",))
    hook("os.remove", ("/allowed/x",))          # inside the job's folders: not worth a line
    hook("os.remove", ("/etc/passwd",))
    hook("os.chmod", ("/srv/gradebook.db", 0o777))
    hook("import", ("numpy",))                   # not watched
    os.close(w)
    lines = events.parse_lines(os.read(r, 4096))
    assert [e for e, _ in lines] == ["os.remove", "os.chmod"]
    assert {events.flag_of(e) for e, _ in lines} == {"outside-files"}


def test_a_link_into_an_allowed_root_does_not_reopen_the_hole(tmp_path):
    root = tmp_path / "venv"
    (root / "lib" / "site" / "autograder").mkdir(parents=True)
    (root / "lib" / "site" / "numpy").mkdir()
    (root / "lib64").symlink_to("lib")
    hole = root / "lib" / "site" / "autograder"
    paths = {Path(p) for p in isolation._without(root, [hole])}
    assert paths == {root / "lib" / "site" / "numpy"}


def test_listing_a_folder_above_a_readable_path_is_not_reported():
    """Entry-point scans and imports list every sys.path folder; site-packages is only
    partly readable when the grader is installed in it (the generators are a hole)."""
    from autograder.sandbox import events

    r, w = os.pipe()
    hook = events.make_hook(w, ("/venv/site/numpy/", "/job/"))
    hook("os.listdir", ("/venv/site",))          # above a readable path: not reported
    hook("open", ("/venv/site", "r", 0))
    hook("os.listdir", ("/venv/site/autograder",))   # the hole itself: reported
    hook("os.remove", ("/venv/site",))               # not a listing: reported
    hook("os.listdir", ("/srv",))                    # unrelated folder: reported
    os.close(w)
    lines = events.parse_lines(os.read(r, 4096))
    assert lines == [["os.listdir", "/venv/site/autograder"], ["os.remove", "/venv/site"],
                     ["os.listdir", "/srv"]]


IPC_ATTACK = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
tried = {{
    "attach the host's segment by key": lambda: libc.shmget({secret}, 0, 0),
    "attach the host's segment by id": lambda: libc.shmat({shmid}, None, 0) or -1,
    "list segments": lambda: libc.shmctl(0, 13, None),
    "make a 256 MiB segment": lambda: libc.shmget({hog}, 256 << 20, 0o1600),
    "make a private segment": lambda: libc.shmget(0, 1 << 20, 0o1600),
    "make a semaphore set": lambda: libc.semget({hog}, 1, 0o1600),
    "make a message queue": lambda: libc.msgget({hog}, 0o1600),
    "make a POSIX queue": lambda: libc.mq_open({mq!r}.encode(), 0o100 | 2, 0o600, None),
}}
for what, call in tried.items():
    result = call()
    print(what, "ALLOWED" if result not in (-1, None, 2**64 - 1) else "refused",
          ctypes.get_errno())
try:
    with open("/dev/shm/{devshm}", "wb") as f:
        f.write(b"x" * 4096)
    print("/dev/shm ALLOWED")
except OSError as err:
    print("/dev/shm refused", type(err).__name__)
"""


@needs_seccomp
def test_ipc_calls_are_refused_and_leave_nothing_on_the_host(tmp_path):
    """System V and POSIX IPC from the sandbox: the host's 0600 segment is neither read
    nor written, and no segment, queue or /dev/shm file outlives the sandbox."""
    import hostipc

    secret = b"HOST SECRET " + os.urandom(8).hex().encode()
    shmid = hostipc.create_segment(hostipc.SECRET_KEY, secret)
    try:
        code = IPC_ATTACK.format(secret=hostipc.SECRET_KEY, shmid=shmid, hog=hostipc.HOG_KEY,
                                 mq=hostipc.MQ_NAME, devshm=hostipc.DEV_SHM_NAME)
        outcome, _ = _run(code, tmp_path)
        assert outcome.status == "ok", outcome
        assert "ALLOWED" not in outcome.output and outcome.output.count("refused") == 9, \
            outcome.output
        assert hostipc.read_segment(shmid, len(secret)) == secret
    finally:
        hostipc.remove_segment(shmid)
    assert hostipc.segment_id(hostipc.HOG_KEY) is None
    assert not hostipc.queue_exists(hostipc.MQ_NAME)
    assert not (Path("/dev/shm") / hostipc.DEV_SHM_NAME).exists()


@needs_ns
def test_sandbox_has_its_own_ipc_uts_and_cgroup_namespaces(tmp_path):
    from autograder.sandbox.confine import namespaces

    _, result = _run("pass", tmp_path)
    mine, theirs = namespaces(), result.isolation.get("namespaces", {})
    assert set(theirs) == set(mine), theirs
    assert all(theirs[ns] != mine[ns] for ns in mine), (theirs, mine)
    assert result.isolation.get("dev_shm", "").startswith("tmpfs"), result.isolation


@needs_ns
def test_ipc_objects_die_with_the_sandbox_namespace(tmp_path):
    """The namespace alone, without the filter: a segment made inside is gone afterwards."""
    import subprocess

    import hostipc

    key = hostipc.HOG_KEY  # computed here: inside, the process ids differ
    make = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import hostipc; "
            f"print(hostipc.create_segment({key}, b'x' * 4096), hostipc.segment_id({key}))")
    made = subprocess.run(["unshare", *isolation.NAMESPACE_FLAGS, "--", sys.executable, "-c",
                           make], capture_output=True, text=True, cwd="/")
    left = hostipc.segment_id(key)
    if left is not None:
        hostipc.remove_segment(left)
    assert made.returncode == 0 and made.stdout.split()[0] == made.stdout.split()[1], made
    assert left is None


# --------------------------------------------------------------------------
# graded calls run alone: one thread, traced, in a process of their own
# --------------------------------------------------------------------------

def _probe_run(tmp_path, answer, later="", targets=("f",)):
    """Run an answer cell, then a traced probe of each target on one case, then ``later``;
    returns the outcomes (each probe in a process of its own: none sees another's effects)."""
    import numpy as np

    from assignments.cases import Case

    case = Case("c", (np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    steps = [Step("cell", "answer", "import numpy as np\n" + answer), Step("snapshot", "t")]
    steps += [Step("probe", "t", target=t, cases=[case], trace=True) for t in targets]
    steps += [Step("cell", "later", later or "print('kernel alive')")]
    result = run_steps(steps, tmp_path / "job", Limits(cell_seconds=30, probe_seconds=30))
    return result.outcomes, result


@needs_seccomp
def test_a_graded_call_cannot_start_threads_or_processes(tmp_path):
    from autograder.spawn import PROBE_FAILURES

    answer = """import os, threading
def thread(a, b):
    threading.Thread(target=print).start()
    return a + b
def process(a, b):
    os.fork()
    return a + b
"""
    outcomes, result = _probe_run(tmp_path, answer, targets=("thread", "process"))
    for probe in outcomes[2:4]:
        assert probe.status == "crashed" and probe.error == PROBE_FAILURES["threads"], probe
        assert ["task-in-graded-call"] == [e[0] for e in probe.events if e[0].startswith("task")]
    assert outcomes[4].output.strip() == "kernel alive" and result.restarts == 0


@needs_ns
def test_a_thread_started_earlier_cannot_serve_a_graded_call(tmp_path):
    """The kernel (every thread of it) is stopped while the call's own process runs."""
    answer = """import os, select, threading
ask_r, ask_w = os.pipe()
tell_r, tell_w = os.pipe()
def serve():
    while os.read(ask_r, 1):
        os.write(tell_w, b"!")
threading.Thread(target=serve, daemon=True).start()
def f(a, b):
    os.write(ask_w, b"?")
    answered = bool(select.select([tell_r], [], [], 1.0)[0])
    print("served" if answered else "alone")
    return a + b
"""
    outcomes, _ = _probe_run(tmp_path, answer, later="_ = f(1, 2)")
    assert outcomes[2].status == "ok" and outcomes[2].output.strip() == "alone", outcomes[2]
    assert outcomes[3].output.strip() == "served"  # the same helper, outside a graded call


@needs_seccomp
def test_a_graded_call_gets_default_signal_handlers_and_no_timers(tmp_path):
    """A handler runs wherever the interpreter is, often inside the tracer (untraced)."""
    answer = """import os, signal
signal.signal(signal.SIGUSR1, lambda *a: print("HANDLER RAN"))
def f(a, b):
    print("default handler:", signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL)
    for name, call in [("setitimer", lambda: signal.setitimer(signal.ITIMER_REAL, 1)),
                       ("signal", lambda: signal.signal(signal.SIGUSR2, print)),
                       ("kill", lambda: os.kill(os.getpid(), signal.SIGUSR1)),
                       ("raise", lambda: signal.raise_signal(signal.SIGUSR1))]:
        try:
            call()
            print(name, "ALLOWED")
        except OSError as err:
            print(name, "refused", err.errno)
    return a + b
"""
    outcomes, _ = _probe_run(tmp_path, answer)
    printed = outcomes[2].output
    assert outcomes[2].status == "ok" and "default handler: True" in printed, outcomes[2]
    assert "ALLOWED" not in printed and "HANDLER RAN" not in printed, printed
    assert printed.count("refused 1") == 4, printed


def test_the_trace_names_what_ran_and_what_cannot_be_believed(tmp_path):
    """A loop in a helper is recorded; switching the tracer off, an audit hook of the
    student's, or gc in the call make the trace untrustworthy; a call leaves the kernel as it
    found it."""
    answer = """import gc, sys
STATE = ["before"]
def _helper(v):
    return [x for x in v]
def honest(a, b):
    STATE[0] = "changed by a graded call"
    return a + b + _helper(a)[0] * 0
def trace_off(a, b):
    sys.settrace(None)
    return a + b
def uses_gc(a, b):
    gc.get_objects()
    return a + b
def gettrace(a, b):
    sys.gettrace()
    return a + b
"""
    outcomes, _ = _probe_run(tmp_path, answer, "print(STATE[0])",
                             ("honest", "trace_off", "uses_gc", "gettrace"))
    honest, off, gc_used, gettrace = outcomes[2:6]
    assert honest.ran["intact"] and ["<cell answer>", 4, "_helper"] in honest.ran["student"]
    assert ["<cell answer>", 5, "_helper.<locals>.<listcomp>"] in honest.ran["student"]
    assert not off.ran["intact"] and not gc_used.ran["intact"]
    assert gettrace.results[0]["exception"] == "AttributeError"  # no way to the recorder
    assert outcomes[6].output.strip() == "before"


def test_the_trace_keeps_the_student_s_code_by_the_one_rule_whatever_cells_rebind(tmp_path):
    """What a graded call ran is the student's by ``assignments.cases.is_student_code``, as in
    the grader's own process: code compiled under a name of the student's and a module they
    wrote are recorded beside the cells' code; a cell rebinding ``os.write`` (what the
    recorder writes with) before the call changes nothing."""
    answer = r"""import os, sys
exec(compile("def _named(v):\n    return [x for x in v]\n", "<mine>", "exec"))
with open("student_helper.py", "w") as f:
    f.write("def _on_disk(v):\n    return [x for x in v]\n")
sys.path.insert(0, os.getcwd())
import student_helper
def _in_cell(v):
    return [x for x in v]
def f(a, b):
    return a + b + (_named(a)[0] + student_helper._on_disk(a)[0] + _in_cell(a)[0]) * 0
os.write = lambda fd, data: len(data)
"""
    outcomes, _ = _probe_run(tmp_path, answer)
    assert outcomes[0].status == "ok", outcomes[0]
    ran = outcomes[2].ran
    assert outcomes[2].status == "ok" and ran["intact"], outcomes[2]
    names = {(Path(f).name if f.startswith("/") else f, name) for f, _, name in ran["student"]}
    assert {("<mine>", "_named"), ("student_helper.py", "_on_disk"),
            ("<cell answer>", "_in_cell"), ("<cell answer>", "f")} <= names, ran
    assert "assignments.cases:attempt_case" in ran["course"]
    assert not any("/runtime/sandbox/" in f for f, _, _ in ran["student"])  # library


def test_forged_records_cannot_push_what_ran_out_of_the_trace(tmp_path):
    """The graded call's process can write into the audit pipe: records it forges only add
    to what ran, and when there are more than the summary keeps (the real ones could be cut
    off) the trace is not believed."""
    from autograder.sandbox import trace

    answer = r"""import fcntl, os, stat
def _write_only_pipe(fd):
    try:
        return stat.S_ISFIFO(os.fstat(fd).st_mode) and \
            fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY
    except OSError:
        return False
def _helper(v):
    return [x for x in v]
def f(a, b):
    audit = [fd for fd in range(3, 64) if _write_only_pipe(fd)][-1]  # made after the replies'
    forged = "".join(f"\ncode\t<cell answer>\t1\tx{i}\n" for i in range(450))
    os.write(audit, forged.encode())   # line 1 sorts before every function of the cell
    return a + b + _helper(a)[0] * 0
def g(a, b):   # more records than the broker keeps, of code that is not the student's
    audit = [fd for fd in range(3, 64) if _write_only_pipe(fd)][-1]
    for start in range(0, 20_001, 1000):
        os.write(audit, "".join(f"\ncode\t<frozen x>\t1\tx{i}\n"
                                for i in range(start, start + 1000)).encode())
    return a + b + _helper(a)[0] * 0
"""
    from autograder.sandbox.broker import MAX_CODES

    assert MAX_CODES <= 20_000
    outcomes, _ = _probe_run(tmp_path, answer, targets=("f", "g"))
    for probe in outcomes[2:4]:
        assert probe.status == "ok", probe
        assert not probe.ran["intact"], probe.ran
    few = [("<cell answer>", 1, f"x{i}") for i in range(trace.MAX_ENTRIES)]
    assert trace.summarize(few, lambda f: True)["intact"]
    assert not trace.summarize(few + [("<cell answer>", 2, "y")], lambda f: True)["intact"]


def test_an_audit_hook_of_the_student_s_taints_later_traces(tmp_path):
    outcomes, _ = _probe_run(tmp_path, "import sys\nsys.addaudithook(lambda e, a: None)\n"
                                       "def f(a, b):\n    return a + b\n")
    assert outcomes[2].status == "ok" and not outcomes[2].ran["intact"]


def test_audit_records_survive_garbage_and_a_replaced_pipe_ends_the_process():
    import subprocess

    from autograder.sandbox import events

    r, w = os.pipe()
    hook = events.make_hook(w, ("/allowed/",))

    class Loud:
        def __repr__(self):
            raise AssertionError("a student's __repr__ ran inside the hook")

    os.write(w, b"half a line without its end")
    hook("socket.connect", (Loud(), ("10.0.0.1", 80)))
    os.close(w)
    assert events.parse_lines(os.read(r, 4096)) == [
        ["socket.connect", "(<Loud>, ('10.0.0.1', 80))"]]
    script = ("import os, sys; from autograder.sandbox import events; r, w = os.pipe(); "
              "sys.addaudithook(events.make_hook(w, ('/',))); os.dup2(os.open(os.devnull, "
              "os.O_WRONLY), w); import socket; socket.socket().connect(('127.0.0.1', 9))")
    ended = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert ended.returncode == events.CHANNEL_BROKEN, ended
