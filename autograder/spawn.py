"""Starting one sandbox and talking to it with a deadline on every read and write.

A ``Sandbox`` copies ``autograder/sandbox`` into the job's read-only runtime
folder, starts the broker there (in namespaces, its cgroups, as its own
user, pinned to a core where no CPU cgroup exists), and exchanges messages
with it.  Every field of every answer is checked for type and size before
use (``checked``); an answer that is late, oversized or malformed counts as
the sandbox dying, and ``kill()`` (also run by ``close()`` and on every exit
path of ``autograder.replay``) removes every process it started.
"""

from __future__ import annotations

import json
import os
import queue
import select
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import isolation
from .blas import ONE_THREAD
from .cgroups import SandboxGroups
from .sandbox import wire

PACKAGE = Path(__file__).resolve().parent / "sandbox"
MAX_REPLY = 256 * 1024 * 1024
MAX_TEXT = 64 * 1024
# how a graded call's own process can end without answering while the kernel lives on: the
# broker reports the kind (it watched the process), the student reads these words (nothing
# of the sandbox's own text)
PROBE_FAILURES = {
    "threads": "graded functions may not start threads or processes (the call tried to, "
               "and was stopped)",
    "died": "the graded call ended its own process (os._exit, a crash or a limit) before it "
            "answered",
    "unstarted": "the graded call's process could not be started (too many processes?)",
}


@dataclass
class Limits:
    cell_seconds: float = 120.0
    probe_seconds: float = 120.0
    notebook_seconds: float = 900.0
    startup_seconds: float = 60.0
    memory_mb: int = 4096
    cpu_seconds: int = 1800
    file_mb: int = 64
    disk_mb: int = 512
    open_files: int = 256
    processes: int = 64
    output_chars: int = 64 * 1024
    raw_output_bytes: int = 256 * 1024
    max_restarts: int = 8
    request_mb: int = 256


class SandboxDied(Exception):
    def __init__(self, message: str = "", cause: str = ""):
        super().__init__(message)
        self.cause = cause   # "memory": the memory limit killed it


class SandboxTimeout(Exception):
    pass


class _Drain(threading.Thread):
    """Read a pipe to its end, keeping at most ``cap`` bytes."""

    def __init__(self, stream, cap):
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.kept, self.dropped = bytearray(), 0

    def run(self):
        while True:
            try:
                block = self.stream.read1(65536)
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
                self.queue.put(wire.read_message(self.stream, MAX_REPLY))
            except (wire.WireError, OSError, ValueError) as err:
                self.queue.put(err)
                return


def _text(value, cap=MAX_TEXT) -> str:
    return value[:cap] if isinstance(value, str) else ""


def checked(head: dict) -> dict:
    """The answer's fields with the types and sizes the grader relies on."""
    results = head.get("results")
    ran = head.get("ran") if isinstance(head.get("ran"), dict) else {}
    raw_events = head.get("events") if isinstance(head.get("events"), list) else []
    return {
        "status": head.get("status") if head.get("status") in ("ok", "crashed") else "crashed",
        "reason": _text(head.get("reason"), 1000),
        "ok": head.get("ok") is True,
        "error": _text(head.get("error"), 4000),
        "exception": _text(head.get("exception"), 100),
        "frames": _frames(head.get("frames")),
        "output": _text(head.get("output")),
        "dropped": head.get("dropped") if isinstance(head.get("dropped"), int) else 0,
        "events": [[e[0][:60], e[1][:200]] for e in raw_events[:200]
                   if isinstance(e, list) and len(e) == 2 and all(isinstance(x, str) for x in e)],
        "strays": head.get("strays") if isinstance(head.get("strays"), int) else 0,
        "probe_failure": head.get("probe_failure") if head.get("probe_failure") in
        PROBE_FAILURES else None,
        "displays": head.get("displays") if isinstance(head.get("displays"), list) else [],
        "results": [_attempt(r) for r in results[:10_000]] if isinstance(results, list) else None,
        "ran": {"student": [s for s in ran.get("student", [])[:400] if _is_code_ref(s)]
                if isinstance(ran.get("student"), list) else [],
                "course": [c[:200] for c in ran.get("course", [])[:400] if isinstance(c, str)]
                if isinstance(ran.get("course"), list) else [],
                "intact": ran.get("intact") is True} if ran else None,
    }


MAX_DISPLAYS = 20
MAX_IMAGE = 2 * 2**20
_PNG = b"\x89PNG\r\n\x1a\n"


def displays(value, payload) -> list:
    """What a cell displayed, kept only as inert data: plain text and PNG images.

    ``value`` (from the answer's header) lists, per display, its text and the
    index of its image in ``payload`` (arrays of bytes).  Anything else a
    display could hold (HTML, JavaScript, SVG, which can carry scripts) never
    travels; an image must start like a PNG file and stay under the size cap.
    """
    import base64

    import numpy as np

    images = payload if isinstance(payload, list) else []
    out = []
    for item in value[:MAX_DISPLAYS] if isinstance(value, list) else []:
        if not isinstance(item, dict):
            continue
        kept = {}
        text = item.get("text")
        if isinstance(text, str):
            kept["text/plain"] = text[:MAX_TEXT]
        index = item.get("image")
        if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(images):
            arr = images[index]
            if isinstance(arr, np.ndarray) and arr.dtype == np.uint8 and arr.ndim == 1 \
                    and arr.size <= MAX_IMAGE:
                raw = arr.tobytes()
                if raw.startswith(_PNG):
                    kept["image/png"] = base64.b64encode(raw).decode("ascii")
        if kept:
            out.append(kept)
    return out


def _is_code_ref(item) -> bool:
    return (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)
            and isinstance(item[1], int) and isinstance(item[2], str))


def _frames(value) -> list:
    return [[f[0][:200], f[1], f[2][:100]] for f in value[:8] if _is_code_ref(f)] \
        if isinstance(value, list) else []


def _attempt(r) -> dict:
    r = r if isinstance(r, dict) else {}
    # the kind stays as sent (cut): the judge rejects and reports any kind it does not know
    kind = r.get("kind")
    return {"kind": kind[:40] if isinstance(kind, str) else "(not text)",
            "detail": _text(r.get("detail"), 4000),
            "exception": _text(r.get("exception"), 100), "frames": _frames(r.get("frames"))}


class Sandbox:
    def __init__(self, job_dir: Path, limits: Limits, slot: int = 0, hidden=(),
                 files: dict | None = None):
        """``files`` (name -> text) are put into the kernel's working folder, next to the
        notebook, as a release folder holds them (``course_blocks.py``)."""
        self.limits = limits
        caps = isolation.capabilities()
        runtime, work = job_dir / "runtime", job_dir / "work"
        if not runtime.exists():
            shutil.copytree(PACKAGE, runtime / "sandbox",
                            ignore=shutil.ignore_patterns("__pycache__"))
        _fresh_folder(work)
        for sub in ("tmp", ".mpl", ".ipython"):
            _fresh_folder(work / sub)
        if caps["own_user"]:
            for path in (work, *work.iterdir()):
                os.chown(path, isolation.SANDBOX_UID, isolation.SANDBOX_UID)
            for path in (job_dir, runtime):
                os.chmod(path, 0o755)
        cmd_r, cmd_w = os.pipe()
        rep_r, rep_w = os.pipe()
        read, listed = isolation.sandbox_paths([runtime], hidden)
        cfg = {
            "memory_bytes": limits.memory_mb * 2**20, "cpu_seconds": limits.cpu_seconds,
            "file_bytes": limits.file_mb * 2**20, "open_files": limits.open_files,
            "nproc": None, "landlock": bool(caps["landlock"]),
            "read_paths": read, "listed_paths": listed,
            "broker_read_paths": ["/proc"] if caps["namespaces"] else [],
            "write_paths": [str(work)], "work": str(work),
            "private_disk": caps["namespaces"], "disk_bytes": limits.disk_mb * 2**20,
            "drop_capabilities": caps["namespaces"], "pid_namespace": caps["namespaces"],
            "output_chars": limits.output_chars, "max_request": limits.request_mb * 2**20,
            "cmd_fd": cmd_r, "reply_fd": rep_w, "files": dict(files or {}),
        }
        self.groups = SandboxGroups(caps["cgroups"], limits.memory_mb * 2**20, limits.processes)
        if "pids" not in self.groups.paths and not caps["root"]:
            cfg["nproc"] = _user_process_count() + limits.processes
        launcher = ("import sys; sys.path.insert(0, sys.argv[1]); from sandbox.broker import main;"
                    " sys.exit(main(sys.argv[2:]))")
        cmd = [sys.executable, "-I", "-c", launcher, str(runtime), json.dumps(cfg)]
        if caps["namespaces"]:
            cmd = ["unshare", *isolation.NAMESPACE_FLAGS, "--"] + cmd
        if caps["own_user"]:
            cmd = isolation.drop_user_prefix() + cmd
        if "cpu" not in self.groups.paths and shutil.which("taskset") and slot >= 0:
            cmd = ["taskset", "-c", str(slot % (os.cpu_count() or 1))] + cmd
        if self.groups.procs:
            cmd = ["sh", "-c", 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 97; shift; done; '
                   'shift; exec "$@"', "sh", *self.groups.procs, "--"] + cmd
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": str(work), "TMPDIR": str(work / "tmp"), "MPLCONFIGDIR": str(work / ".mpl"),
            "IPYTHONDIR": str(work / ".ipython"), "MPLBACKEND": "Agg", "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", **ONE_THREAD,
            "NBGRADER_EXECUTION": "autograde", "COURSE_DATASET": "fashion_mnist_small",
        }
        if os.environ.get("COURSE_DATA_DIR"):
            env["COURSE_DATA_DIR"] = os.environ["COURSE_DATA_DIR"]
        self.proc = subprocess.Popen(cmd, cwd=work, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     pass_fds=(cmd_r, rep_w), start_new_session=True)
        os.close(cmd_r)
        os.close(rep_w)
        self.commands = cmd_w
        os.set_blocking(cmd_w, False)
        self.replies = _Replies(os.fdopen(rep_r, "rb"))
        self.replies.start()
        self.drain = _Drain(self.proc.stdout, limits.raw_output_bytes)
        self.drain.start()
        self._next = 0
        try:
            head, _ = self._receive(limits.startup_seconds)
        except BaseException:  # Ctrl-C or a dead start: nothing may stay behind
            self.kill()
            raise
        if head.get("op") != "ready":
            self.kill()
            raise SandboxDied(f"the sandbox did not start: {str(head)[:300]}")
        iso = head.get("isolation")
        self.isolation = iso if isinstance(iso, dict) else {}

    def _receive(self, timeout):
        try:
            item = self.replies.queue.get(timeout=max(timeout, 0.01))
        except queue.Empty:
            raise SandboxTimeout(f"no answer within {timeout:g} s") from None
        if isinstance(item, Exception):
            raise SandboxDied(*self._death())
        head, payload = item
        if not isinstance(head, dict):
            raise SandboxDied("the sandbox sent a malformed answer")
        return head, payload

    def _death(self) -> tuple[str, str]:
        """(why the sandbox is gone, its cause: "memory" or "")."""
        code = self.proc.poll()
        if code is None:
            try:
                code = self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                return "the sandbox stopped answering", ""
        if self.groups.out_of_memory():
            return (f"the notebook's process used more than {self.limits.memory_mb} MiB of "
                    "memory", "memory")
        return f"the sandbox exited (status {code})", ""

    def _send(self, data: bytes, deadline: float):
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SandboxTimeout("the sandbox did not read its request in time")
            _, ready, _ = select.select([], [self.commands], [], left)
            if not ready:
                continue
            try:
                n = os.write(self.commands, view)
            except BlockingIOError:
                continue
            except OSError:
                raise SandboxDied(*self._death()) from None
            view = view[n:]

    def request(self, header: dict, payload=None, timeout=60.0) -> tuple[dict, object]:
        """Send one request and wait for its answer: (checked header, payload)."""
        deadline = time.monotonic() + timeout
        self._next += 1
        self._send(wire.pack(dict(header, id=self._next), payload), deadline)
        while True:
            head, data = self._receive(deadline - time.monotonic())
            if head.get("id") == self._next:
                return checked(head), data

    def kill(self):
        try:
            os.killpg(self.proc.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        self.groups.kill_all()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.close(self.commands)
        except OSError:
            pass

    def close(self):
        try:
            self._send(wire.pack({"op": "exit"}), time.monotonic() + 2)
            self.proc.wait(timeout=5)
        except (SandboxDied, SandboxTimeout, subprocess.TimeoutExpired, OSError):
            pass
        self.kill()


def _fresh_folder(path: Path):
    """A real, empty-or-existing folder at ``path``: whatever else is there is removed."""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink()
    path.mkdir(parents=True, exist_ok=True)


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
