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

import copy
import io
import json
import os
import resource
import sys
import traceback

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

def _resolve(value, ns):
    from assignments.checks import Ref, resolve_refs

    return resolve_refs(value, ns) if not isinstance(value, Ref) else value.resolve(ns)


def _mutated(before, after):
    import numpy as np

    if isinstance(before, np.ndarray):
        return not (isinstance(after, np.ndarray) and before.shape == after.shape
                    and np.array_equal(before, after, equal_nan=True))
    if isinstance(before, (tuple, list)):
        return any(_mutated(b, a) for b, a in zip(before, after))
    if isinstance(before, dict):
        return any(_mutated(before[k], after.get(k)) for k in before)
    return False


def _student_frame(err) -> str:
    """' (in fn, line N: code)' for the deepest frame outside Python's own files."""
    library = (sys.prefix, sys.base_prefix, os.path.dirname(os.path.abspath(__file__)))
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if not os.path.abspath(f.filename).startswith(library)]
    if not frames:
        return ""
    last = frames[-1]
    return f" (in {last.name}, line {last.lineno}: {(last.line or '').strip()})"


def run_probe(ns, function, cases):
    """Call the function under test on every case; results are plain data or errors."""
    import wire
    from assignments.checks import CheckFailed

    results = []
    for case in cases:
        try:
            fn = _resolve(case["call"], ns) if case.get("call") is not None else ns.get(function)
            if fn is None:
                raise NameError(f"`{function}` is not defined; run the cell that defines it")
            if not callable(fn):
                raise TypeError(f"`{function}` is a {type(fn).__name__}, not a function")
            args = _resolve(copy.deepcopy(case["args"]), ns)
            kwargs = _resolve(copy.deepcopy(case["kwargs"]), ns)
            before = (copy.deepcopy(args), copy.deepcopy(kwargs))
            output = fn(*args, **kwargs)
            mutated = _mutated(before[0], args) or _mutated(before[1], kwargs)
            wire.pack({}, output)  # raises NotPlainData early, with a clear message
            results.append({"ok": True, "output": output, "mutated": mutated})
        except CheckFailed as err:
            results.append({"ok": False, "error": f"{err}", "kind": "check"})
        except BaseException as err:  # the student's code failed (even sys.exit): report it
            results.append({"ok": False, "kind": "exception",
                            "error": f"{type(err).__name__}: {err}{_student_frame(err)}"})
    outputs = [r.pop("output", None) for r in results]
    return results, outputs


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
                reply, data = {"ok": err is None, "error": error}, None
            elif op == "probe":
                results, data = run_probe(shell.user_ns, head["function"], payload)
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
            reply["results"] = [{"ok": False, "error": str(err), "kind": "exception"}
                                for _ in reply.get("results", [])]
            wire.write_message(replies, reply, [None] * len(reply["results"]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
