"""Run a list of notebook steps in a sandboxed worker, surviving whatever they do.

Steps are cells to execute and probes (graded calls) to make.  Each step has
a wall-clock limit.  If a step hangs, crashes the worker (``os._exit``, a
segfault, the memory limit) or breaks the protocol, the worker is killed
with its whole PID namespace, a fresh one is started, the earlier cells are
replayed, the bad step is skipped and the run continues.  So a crash costs
only the steps it touches.

Isolation layers (each used where the platform offers it; ``capabilities()``
says which):

* new user, PID and network namespaces (``unshare``): no network interfaces,
  every process of the submission dies with the worker, capabilities only
  inside the namespace;
* Landlock: read-only access to the Python installation, ``assignments``
  and the datasets; write access only to the job's work folder; no TCP;
  no signals to processes outside the sandbox;
* resource limits: address space, CPU seconds, file size, open files,
  processes (rlimit, or a cgroup ``pids.max`` when running as root);
* a scrubbed environment, a private working folder, capped output.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import landlock, wire

RUNTIME_FILES = ("worker.py", "wire.py", "landlock.py")
HERE = Path(__file__).resolve().parent


@dataclass
class Limits:
    cell_seconds: float = 120.0
    probe_seconds: float = 120.0
    notebook_seconds: float = 900.0
    startup_seconds: float = 60.0
    memory_mb: int = 4096
    cpu_seconds: int = 1800
    file_mb: int = 64
    open_files: int = 256
    processes: int = 64
    output_chars: int = 64 * 1024
    raw_output_bytes: int = 256 * 1024
    max_restarts: int = 8


@dataclass
class Step:
    kind: str                 # "cell" | "probe"
    label: str                # cell id or task id
    source: str = ""          # cell source (kind == "cell")
    target: str = ""          # name under test (kind == "probe")
    cases: list = field(default_factory=list)  # plain-data case dicts (kind == "probe")


@dataclass
class Outcome:
    status: str               # ok | error | timeout | crashed | skipped
    error: str | None = None
    output: str = ""
    dropped: int = 0
    events: list = field(default_factory=list)
    results: list | None = None   # probe: per-case dicts
    outputs: list | None = None   # probe: per-case outputs (plain data)
    seconds: float = 0.0
    exception: str = ""           # cell: the type name of the exception it raised


@dataclass
class RunResult:
    outcomes: list
    isolation: dict
    restarts: int
    seconds: float
    raw_output: str
    raw_dropped: int


class WorkerDied(Exception):
    pass


class WorkerTimeout(Exception):
    pass


# --------------------------------------------------------------------------
# what this platform can do
# --------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def capabilities() -> dict:
    caps = {"platform": sys.platform, "root": hasattr(os, "geteuid") and os.geteuid() == 0,
            "landlock": landlock.abi_version(), "namespaces": False, "cgroup_pids": None}
    if shutil.which("unshare"):
        try:
            subprocess.run(["unshare", "--user", "--map-root-user", "--pid", "--net", "--fork",
                            "--kill-child", "true"], check=True, capture_output=True, timeout=20)
            caps["namespaces"] = True
        except (subprocess.SubprocessError, OSError):
            pass
    if caps["root"]:
        for base in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup"):
            probe = Path(base) / f"course-grader-probe-{os.getpid()}"
            try:
                probe.mkdir()
                ok = (probe / "pids.max").exists()
                probe.rmdir()
            except OSError:
                continue
            if ok:
                caps["cgroup_pids"] = base
                break
    return caps


def describe_isolation(caps=None) -> str:
    caps = caps or capabilities()
    parts = [
        f"namespaces (user, pid, net): {'yes' if caps['namespaces'] else 'NO'}",
        f"landlock ABI: {caps['landlock'] or 'NO'}",
        f"process limit: {'cgroup pids.max' if caps['cgroup_pids'] else 'rlimit' if not caps['root'] else 'pid namespace + timeouts only'}",
    ]
    return "; ".join(parts)


def read_paths(extra=()) -> list[str]:
    """What the sandbox may read: Python, public course code and data, system libraries."""
    import assignments
    from assignments.data.registry import REPO_DATASETS, data_dir

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix,
             str(Path(assignments.__file__).resolve().parent), str(REPO_DATASETS),
             str(data_dir()), "/usr", "/lib", "/lib64", "/bin", "/etc/ld.so.cache",
             "/etc/localtime", "/dev/null", "/dev/urandom", "/dev/zero",
             "/sys/devices/system/cpu"}
    paths.update(str(p) for p in extra)
    return sorted(p for p in paths if p and os.path.exists(p))


# --------------------------------------------------------------------------
# one worker process
# --------------------------------------------------------------------------

class _Drain(threading.Thread):
    """Read a pipe to its end, keeping at most ``cap`` bytes."""

    def __init__(self, stream, cap):
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.kept, self.dropped = bytearray(), 0

    def run(self):
        while True:
            try:
                block = self.stream.read1(65536) if hasattr(self.stream, "read1") else \
                    self.stream.read(65536)
            except (OSError, ValueError):
                return
            if not block:
                return
            room = self.cap - len(self.kept)
            if room > 0:
                self.kept += block[:room]
            self.dropped += max(0, len(block) - max(room, 0))


class _Replies(threading.Thread):
    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.queue: queue.Queue = queue.Queue()

    def run(self):
        while True:
            try:
                self.queue.put(wire.read_message(self.stream))
            except (wire.WireError, OSError, ValueError) as err:
                self.queue.put(err)
                return


class Worker:
    def __init__(self, job_dir: Path, limits: Limits, env_extra: dict | None = None):
        self.job_dir = job_dir
        self.limits = limits
        caps = capabilities()
        runtime = job_dir / "runtime"
        work = job_dir / "work"
        if not runtime.exists():
            runtime.mkdir(parents=True)
            for name in RUNTIME_FILES:
                shutil.copy(HERE / name, runtime / name)
        for sub in ("tmp", ".mpl", ".ipython"):
            (work / sub).mkdir(parents=True, exist_ok=True)
        cmd_r, cmd_w = os.pipe()
        rep_r, rep_w = os.pipe()
        cfg = {
            "memory_bytes": limits.memory_mb * 1024 * 1024,
            "cpu_seconds": limits.cpu_seconds,
            "file_bytes": limits.file_mb * 1024 * 1024,
            "open_files": limits.open_files,
            "nproc": None,
            "landlock": bool(caps["landlock"]),
            "read_paths": read_paths([runtime]),
            "write_paths": [str(work)],
            "output_chars": limits.output_chars,
            "cmd_fd": cmd_r, "reply_fd": rep_w,
        }
        if not caps["root"] and os.path.isdir("/proc"):
            cfg["nproc"] = _user_process_count() + limits.processes
        cmd = [sys.executable, "-E", "-s", str(runtime / "worker.py"), json.dumps(cfg)]
        if caps["namespaces"]:
            cmd = ["unshare", "--user", "--map-root-user", "--pid", "--net", "--fork",
                   "--kill-child", "--"] + cmd
        self.cgroup = None
        if caps["cgroup_pids"]:
            self.cgroup = Path(caps["cgroup_pids"]) / f"course-grader-{uuid.uuid4().hex[:12]}"
            self.cgroup.mkdir()
            (self.cgroup / "pids.max").write_text(str(limits.processes))
            cmd = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(self.cgroup)] + cmd
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": str(work), "TMPDIR": str(work / "tmp"),
            "MPLCONFIGDIR": str(work / ".mpl"), "IPYTHONDIR": str(work / ".ipython"),
            "MPLBACKEND": "Agg", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "NBGRADER_EXECUTION": "autograde", "COURSE_DATASET": "fashion_mnist_small",
        }
        if os.environ.get("COURSE_DATA_DIR"):
            env["COURSE_DATA_DIR"] = os.environ["COURSE_DATA_DIR"]
        env.update(env_extra or {})
        self.proc = subprocess.Popen(cmd, cwd=work, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     pass_fds=(cmd_r, rep_w), start_new_session=True)
        os.close(cmd_r)
        os.close(rep_w)
        self.commands = os.fdopen(cmd_w, "wb")
        self.replies = _Replies(os.fdopen(rep_r, "rb"))
        self.replies.start()
        self.drain = _Drain(self.proc.stdout, limits.raw_output_bytes)
        self.drain.start()
        head, _ = self._receive(limits.startup_seconds)
        if head.get("op") != "ready":
            self.kill()
            raise WorkerDied(f"worker did not start: {head}")
        self.isolation = head.get("isolation", {})
        self._next = 0

    def _receive(self, timeout):
        try:
            item = self.replies.queue.get(timeout=timeout)
        except queue.Empty:
            raise WorkerTimeout(f"no answer within {timeout:g} s") from None
        if isinstance(item, Exception):
            code = self.proc.poll()
            if code is None:
                try:
                    code = self.proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    code = None
            raise WorkerDied(_death_reason(code))
        return item

    def request(self, header: dict, payload=None, timeout=60.0):
        self._next += 1
        header = dict(header, id=self._next)
        try:
            wire.write_message(self.commands, header, payload)
        except (BrokenPipeError, OSError, ValueError):
            raise WorkerDied(_death_reason(self.proc.poll())) from None
        while True:
            head, data = self._receive(timeout)
            if head.get("id") == self._next:
                return head, data
            # a stale or forged message: ignore it and keep waiting

    def kill(self):
        try:
            os.killpg(self.proc.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.commands,):
            try:
                stream.close()
            except OSError:
                pass
        if self.cgroup is not None:
            _remove_cgroup(self.cgroup)

    def close(self):
        try:
            wire.write_message(self.commands, {"op": "exit"})
        except (OSError, ValueError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.kill()


def _death_reason(code) -> str:
    if code is None:
        return "the worker stopped answering"
    if code < 0:
        import signal

        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else code
        return f"the notebook's process was killed by signal {name}"
    if code == 137:
        return "the notebook's process was killed (signal KILL: memory or process limit?)"
    if code >= 128 and code - 128 in range(1, 65):
        import signal

        sig = code - 128
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else sig
        return f"the notebook's process was killed by signal {name}"
    return f"the notebook's process exited with status {code} (os._exit or sys.exit?)"


def _remove_cgroup(path: Path):
    procs = path / "cgroup.procs"
    for _ in range(50):
        try:
            pids = procs.read_text().split()
        except OSError:
            pids = []
        for pid in pids:
            try:
                os.kill(int(pid), 9)
            except (ProcessLookupError, PermissionError, ValueError):
                pass
        try:
            path.rmdir()
            return
        except OSError:
            time.sleep(0.05)


def _user_process_count() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else []:
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


# --------------------------------------------------------------------------
# running a whole plan
# --------------------------------------------------------------------------

def _plain_case(case) -> dict:
    return {"args": tuple(case.args), "kwargs": dict(case.kwargs), "call": case.call}


def run_steps(steps: list[Step], job_dir: Path, limits: Limits | None = None,
              env_extra: dict | None = None) -> RunResult:
    """Execute ``steps`` in order in a sandboxed worker; never raises for student faults."""
    limits = limits or Limits()
    job_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    outcomes: list[Outcome | None] = [None] * len(steps)
    bad: set[int] = set()
    restarts = 0
    isolation: dict = {}
    raw, raw_dropped = bytearray(), 0
    worker = None

    def budget_left():
        return limits.notebook_seconds - (time.perf_counter() - start)

    def start_worker(upto: int):
        """A fresh worker with cells before ``upto`` (not bad) replayed."""
        nonlocal worker, restarts, isolation
        while True:
            w = Worker(job_dir, limits, env_extra)
            isolation = w.isolation
            failed_at = None
            for j in range(upto):
                if j in bad or steps[j].kind != "cell":
                    continue
                try:
                    w.request({"op": "exec", "source": steps[j].source},
                              timeout=min(limits.cell_seconds, max(1.0, budget_left())))
                except (WorkerDied, WorkerTimeout):
                    failed_at = j
                    break
            if failed_at is None:
                worker = w
                return
            _collect(w)
            w.kill()
            bad.add(failed_at)
            restarts += 1
            if restarts > limits.max_restarts or budget_left() <= 0:
                raise WorkerDied("too many crashes while replaying earlier cells")

    def _collect(w):
        nonlocal raw_dropped
        w.drain.join(timeout=1)
        room = limits.raw_output_bytes - len(raw)
        raw.extend(w.drain.kept[:max(room, 0)])
        raw_dropped += w.drain.dropped + max(0, len(w.drain.kept) - max(room, 0))

    try:
        start_worker(0)
    except (WorkerDied, WorkerTimeout) as err:
        for i in range(len(steps)):
            outcomes[i] = Outcome("crashed", f"the notebook could not be started: {err}")
        return RunResult(outcomes, isolation, restarts, time.perf_counter() - start, "", 0)

    i = 0
    while i < len(steps):
        step = steps[i]
        if budget_left() <= 0:
            outcomes[i] = Outcome("skipped", "not run: the notebook's time budget "
                                  f"({limits.notebook_seconds:g} s) was used up")
            i += 1
            continue
        t0 = time.perf_counter()
        try:
            if step.kind == "cell":
                head, _ = worker.request({"op": "exec", "source": step.source},
                                         timeout=min(limits.cell_seconds, budget_left()))
                outcomes[i] = Outcome("ok" if head.get("ok") else "error", head.get("error"),
                                      head.get("output", ""), head.get("dropped", 0),
                                      head.get("events", []), exception=str(head.get("exception", "")))
            else:
                head, data = worker.request(
                    {"op": "probe", "target": step.target},
                    [_plain_case(c) for c in step.cases],
                    timeout=min(limits.probe_seconds, budget_left()))
                results = head.get("results") or []
                data = data if isinstance(data, list) else []
                if len(results) != len(step.cases) or len(data) != len(step.cases):
                    raise WorkerDied("the worker's answer did not match the request")
                outcomes[i] = Outcome("ok", None, head.get("output", ""), head.get("dropped", 0),
                                      head.get("events", []), results, data)
            outcomes[i].seconds = time.perf_counter() - t0
            i += 1
        except (WorkerDied, WorkerTimeout) as err:
            kind = "timeout" if isinstance(err, WorkerTimeout) else "crashed"
            what = (f"timed out after {time.perf_counter() - t0:.0f} s" if kind == "timeout"
                    else str(err))
            outcomes[i] = Outcome(kind, what, seconds=time.perf_counter() - t0)
            _collect(worker)
            worker.kill()
            bad.add(i)
            restarts += 1
            i += 1
            if restarts > limits.max_restarts:
                for j in range(i, len(steps)):
                    outcomes[j] = Outcome("skipped", "not run: too many crashes or timeouts")
                worker = None
                break
            try:
                start_worker(i)
            except (WorkerDied, WorkerTimeout) as err2:
                for j in range(i, len(steps)):
                    outcomes[j] = Outcome("skipped", f"not run: {err2}")
                worker = None
                break
    if worker is not None:
        _collect(worker)
        worker.close()
    return RunResult(outcomes, isolation, restarts, time.perf_counter() - start,
                     raw.decode("utf-8", "replace"), raw_dropped)
