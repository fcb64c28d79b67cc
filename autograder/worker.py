"""The sandboxed side of grading: runs one student's notebook cells.

Started by ``autograder.runner`` as ``python worker.py CONFIG`` from a
read-only runtime folder, inside new user, PID and network namespaces where
available.  Before touching any student code it confines itself: resource
limits, then Landlock (read only the Python installation, the public
``assignments`` package and the datasets; write only its working folder; no
TCP; no signals outside the sandbox).

It then obeys commands on one pipe and answers on another:

* ``exec``: run one cell with IPython (magics work); reply with success,
  the error, the captured output (capped) and audit events;
* ``probe``: call the graded function on the cases sent (plain data) and
  send back only the outputs (plain data).  Expected values never enter this
  process; the grader compares outputs in its own process.

This module imports nothing from ``autograder`` (which the sandbox cannot
read); ``wire`` is copied next to it.
"""

from __future__ import annotations

import io
import json
import os
import resource
import sys

MiB = 1024 * 1024


# --------------------------------------------------------------------------
# confinement
# --------------------------------------------------------------------------

def _set_limit(which, value):
    if value is None:
        return
    soft, hard = resource.getrlimit(which)
    value = int(value)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def confine(cfg: dict) -> dict:
    report = {}
    _set_limit(resource.RLIMIT_CORE, 0)
    _set_limit(resource.RLIMIT_AS, cfg.get("memory_bytes"))
    _set_limit(resource.RLIMIT_CPU, cfg.get("cpu_seconds"))
    _set_limit(resource.RLIMIT_FSIZE, cfg.get("file_bytes"))
    _set_limit(resource.RLIMIT_NOFILE, cfg.get("open_files"))
    if cfg.get("nproc"):
        _set_limit(resource.RLIMIT_NPROC, cfg["nproc"])
    if cfg.get("landlock", True):
        import landlock

        report = landlock.restrict(read=cfg["read_paths"], write=cfg["write_paths"])
    return report


# --------------------------------------------------------------------------
# output capture and audit events
# --------------------------------------------------------------------------

class CappedWriter(io.TextIOBase):
    """A text stream that keeps the first ``cap`` characters and counts the rest."""

    def __init__(self, cap):
        self.cap = cap
        self.parts = []
        self.kept = 0
        self.dropped = 0

    def write(self, s):
        if self.kept >= self.cap:  # full: only count (keeps a print flood cheap)
            self.dropped += len(s) if isinstance(s, str) else len(str(s))
            return len(s) if isinstance(s, str) else 0
        if not isinstance(s, str):
            s = str(s)
        room = self.cap - self.kept
        if room > 0:
            self.parts.append(s[:room])
            self.kept += min(room, len(s))
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def writable(self):
        return True

    def take(self):
        text, dropped = "".join(self.parts), self.dropped
        self.parts, self.kept, self.dropped = [], 0, 0
        return text, dropped


_EVENTS = []
_WATCHED = {"socket.connect", "socket.bind", "subprocess.Popen", "os.system", "os.exec",
            "os.posix_spawn", "os.fork", "os.forkpty", "ctypes.dlopen", "ctypes.dlsym",
            "os.kill", "os.killpg", "sys.setprofile", "sys.settrace", "os.remove",
            "os.rename", "shutil.rmtree", "os.chmod"}


_QUIET = [False]  # set while the worker itself does audited things


def _audit(event, args):
    if _QUIET[0] or len(_EVENTS) >= 200:
        return
    if event in _WATCHED:
        _EVENTS.append([event, repr(args)[:200]])
    elif event == "open" and args and isinstance(args[0], (str, bytes)):
        path = os.fsdecode(args[0])
        if not os.path.abspath(path).startswith(_ALLOWED_PREFIXES):
            _EVENTS.append(["open", path[:200]])


_ALLOWED_PREFIXES: tuple = ()


def take_events():
    events = list(_EVENTS)
    _EVENTS.clear()
    return events


# --------------------------------------------------------------------------
# probes
# --------------------------------------------------------------------------

def run_probe(ns, target, cases):
    """Call the target on every case; return the attempts (plain data) and the outputs.

    Each case arrives as {"args", "kwargs", "call"}; ``assignments.cases``
    makes the call exactly as a notebook's visible check does.  Outputs go
    back as plain data only: one that cannot travel becomes a "rejected"
    attempt.
    """
    import wire
    from assignments.cases import Attempt, Case, attempt_case

    attempts, outputs = [], []
    for plain in cases:
        case = Case("", tuple(plain["args"]), dict(plain["kwargs"]), call=plain.get("call"))
        attempt = attempt_case(case, ns, target)
        if attempt.kind in ("returned", "mutated-input"):
            try:
                wire.pack({}, attempt.output)  # raises NotPlainData early, with a clear message
            except wire.NotPlainData as err:
                attempt = Attempt("rejected", f"it returned something that cannot be checked: {err}")
        attempts.append(attempt.plain())
        outputs.append(attempt.output)
    return attempts, outputs


# --------------------------------------------------------------------------
# main loop
# --------------------------------------------------------------------------

def _after_step(main_pid):
    """Forked children never speak the protocol; stray processes do not outlive a step."""
    if os.getpid() != main_pid:
        os._exit(0)
    if main_pid == 1:  # init of our own PID namespace: everything else here is the student's
        import signal

        _QUIET[0] = True
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        finally:
            _QUIET[0] = False
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break


def main(argv) -> int:
    cfg = json.loads(argv[1])
    global _ALLOWED_PREFIXES
    _ALLOWED_PREFIXES = tuple(os.path.abspath(p) for p in
                              cfg["read_paths"] + cfg["write_paths"]) + ("/dev/",)
    commands = os.fdopen(cfg["cmd_fd"], "rb")
    replies = os.fdopen(cfg["reply_fd"], "wb")
    report = confine(cfg)

    import wire  # noqa: E402  (after confinement, from the runtime folder)

    # What every notebook imports anyway, loaded before the audit hook so the
    # libraries' own start-up work (matplotlib's font cache runs fc-list) is
    # not reported as the student's.
    import numpy  # noqa: F401
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    from IPython.core.interactiveshell import InteractiveShell

    sys.addaudithook(_audit)

    class GradingShell(InteractiveShell):
        def enable_gui(self, gui=None):  # no event loop here; figures are not shown
            return None

    shell = GradingShell.instance(colors="NoColor")
    shell.user_ns["__name__"] = "__main__"
    take_events()  # IPython's own start-up file activity is not the student's
    capture = CappedWriter(cfg.get("output_chars", 64 * 1024))
    main_pid = os.getpid()
    wire.write_message(replies, {"op": "ready", "isolation": report, "pid": os.getpid()})

    while True:
        try:
            head, payload = wire.read_message(commands)
        except wire.WireError:
            return 0
        op = head.get("op")
        if op == "exit":
            return 0
        real_out, real_err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = capture
        try:
            if op == "exec":
                result = shell.run_cell(head["source"], store_history=False, silent=False)
                err = result.error_before_exec or result.error_in_exec
                error = f"{type(err).__name__}: {err}" if err is not None else None
                reply = {"ok": err is None, "error": error,
                         "exception": type(err).__name__ if err is not None else ""}
                data = None
            elif op == "probe":
                results, data = run_probe(shell.user_ns, head["target"], payload)
                reply = {"results": results}
            else:
                reply, data = {"ok": False, "error": f"unknown op {op!r}"}, None
        finally:
            _after_step(main_pid)
            sys.stdout, sys.stderr = real_out, real_err
        text, dropped = capture.take()
        reply.update(op="reply", id=head.get("id"), output=text, dropped=dropped,
                     events=take_events())
        try:
            wire.write_message(replies, reply, data)
        except wire.NotPlainData as err:
            reply["results"] = [{"kind": "rejected", "detail": str(err)}
                                for _ in reply.get("results", [])]
            wire.write_message(replies, reply, [None] * len(reply["results"]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
