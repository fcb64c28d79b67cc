"""The sandbox's kernel: runs the student's cells and calls graded functions.

Forked by the broker (``broker.py``) after the sandbox is confined; it adds
its own nested Landlock domain, its audit hook, and then obeys the broker's
requests on one pipe and answers on another, echoing each request's nonce:

* ``exec``: run one cell with IPython (magics work), compiled under the name
  ``<cell LABEL>``; answer with success, the error and the captured output;
* ``snapshot``: remember the current bindings of the namespace under a label
  (a graded cell's position);
* ``probe``: call the graded name on the cases sent (plain data), optionally
  in the namespace as it was at a snapshot and with the code it runs traced;
  send back only the attempts and outputs (plain data).  This runs in a
  child of its own, under the broker's watch (``probe``).

Expected values never enter this process.  It holds no descriptor of the
channel to the grader, and nothing it sends is trusted.  Before the first
cell it removes ``sys.gettrace`` (the way to the recorder of graded calls)
and the sandbox's own modules from ``sys.modules`` (a cell importing
``sandbox.trace`` gets a fresh copy, not the one the kernel runs).
"""

from __future__ import annotations

import io
import os
import sys

from . import confine, events, probe, trace, wire

CELL_PREFIX = "<cell "
BLOCKS_NAME = "<course_blocks>"   # the name the building blocks are compiled under
_compile, _exec = compile, exec   # bound before any cell runs: a cell rebinding them changes nothing


class CappedWriter(io.TextIOBase):
    """A text stream that keeps the first ``cap`` characters and counts the rest."""

    def __init__(self, cap):
        self.cap, self.parts, self.kept, self.dropped = cap, [], 0, 0

    def write(self, s):
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


RUNTIME = os.path.dirname(os.path.abspath(__file__))   # the sandbox's own code: library


def is_student_file(filename: str) -> bool:
    """The one rule (``assignments.cases.is_student_code``), with this runtime folder (the
    sandbox's own code) counted as library."""
    from assignments.cases import is_student_code

    return is_student_code(filename, (RUNTIME,))


def student_frames(err: BaseException) -> list:
    """[[cell filename, line, function], ...] of the student's frames in a traceback."""
    out, tb = [], err.__traceback__
    while tb is not None and len(out) < 50:
        code = tb.tb_frame.f_code
        if is_student_file(code.co_filename):
            out.append([code.co_filename, tb.tb_lineno, code.co_name])
        tb = tb.tb_next
    return out[-8:]


def _shell():
    from IPython.core.compilerop import CachingCompiler
    from IPython.core.interactiveshell import InteractiveShell

    class LabelledCompiler(CachingCompiler):
        label = "cell"

        def get_code_name(self, raw_code, transformed_code, number):
            return f"{CELL_PREFIX}{self.label}>"

    class GradingShell(InteractiveShell):
        def enable_gui(self, gui=None):  # no event loop here; figures are not shown
            return None

    shell = GradingShell.instance(colors="NoColor", history_length=0)
    shell.history_manager.enabled = False
    shell.compile = LabelledCompiler()
    shell.user_ns["__name__"] = "__main__"
    shell.display_pub = _recorder(shell)
    return shell


MAX_DISPLAYS = 20
MAX_IMAGE = 2 * 2**20


def _recorder(shell):
    """A display publisher that keeps what a cell displays: its text and PNG images."""
    from IPython.core.displaypub import DisplayPublisher

    class Recorder(DisplayPublisher):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.items, self.images = [], []

        def publish(self, data, metadata=None, source=None, *, transient=None, update=False,
                    **kwargs):
            if len(self.items) >= MAX_DISPLAYS or not isinstance(data, dict):
                return
            item = {}
            if isinstance(data.get("text/plain"), str):
                item["text"] = data["text/plain"][:4000]
            png = data.get("image/png")
            if isinstance(png, (str, bytes)):
                import base64
                import binascii

                import numpy as np

                try:
                    raw = png if isinstance(png, bytes) else base64.b64decode(png)
                except (binascii.Error, ValueError):
                    raw = b""
                if 0 < len(raw) <= MAX_IMAGE:
                    item["image"] = len(self.images)
                    self.images.append(np.frombuffer(raw, dtype=np.uint8).copy())
            if item:
                self.items.append(item)

        def clear_output(self, wait=False):
            pass

        def take(self):
            items, images = self.items, self.images
            self.items, self.images = [], []
            return items, images

    return Recorder(shell=shell)


def _blocks(text) -> dict:
    """The building blocks a probe's check runs on (the course's answers the grader sent),
    compiled as the course's code (``<course_blocks>``, never the student's)."""
    ns: dict = {"__name__": "course_blocks"}
    if isinstance(text, str) and text:
        _exec(_compile(text, BLOCKS_NAME, "exec"), ns)
    return {k: v for k, v in ns.items() if not k.startswith("__")}


class Kernel:
    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.shell = _shell()
        self.capture = CappedWriter(cfg.get("output_chars", 64 * 1024))
        self.snapshots: dict = {}
        self.pid = os.getpid()

    def exec_cell(self, head):
        self.shell.compile.label = str(head.get("label", "cell"))[:100]
        result = self.shell.run_cell(str(head.get("source", "")), store_history=False,
                                     silent=False)
        err = result.error_before_exec or result.error_in_exec
        shown, images = self.shell.display_pub.take()
        reply = {"ok": err is None,
                 "error": f"{type(err).__name__}: {str(err)[:2000]}" if err else None,
                 "exception": type(err).__name__ if err is not None else "",
                 "frames": student_frames(err) if err is not None else [],
                 "displays": shown}
        return reply, images

    def snapshot(self, head):
        self.snapshots[str(head.get("label"))] = dict(self.shell.user_ns)
        return {"ok": True}, None

    def probe(self, head, cases):
        from assignments.blocks import building_blocks
        from assignments.cases import Attempt, Case, attempt_case

        ns = self.shell.user_ns
        restore = head.get("restore")
        if restore is not None and restore in self.snapshots:
            ns.clear()
            ns.update(self.snapshots[restore])
        blocks = _blocks(head.get("blocks"))   # the course's layers, for this call only
        attempts, outputs = [], []
        for plain in cases if isinstance(cases, list) else []:
            case = Case("", tuple(plain["args"]), dict(plain["kwargs"]), call=plain.get("call"))
            with building_blocks(blocks):
                attempt = attempt_case(case, ns, head.get("target"))
            data = None
            if attempt.kind in ("returned", "mutated-input"):
                # the output and the arguments as the call left them: the grader compares
                # both itself (values, never this process's verdict on them)
                after = attempt.after if isinstance(attempt.after, tuple) and \
                    len(attempt.after) == 2 else (None, None)
                data = {"output": attempt.output,
                        "args": _as_sent(case.args, after[0]),
                        "kwargs": _as_sent(case.kwargs, after[1])}
                try:
                    wire.pack({}, data)
                except wire.NotPlainData as err:
                    attempt, data = Attempt("rejected", f"it returned something that cannot "
                                                        f"be checked: {err}"), None
            plain_attempt = attempt.plain()
            plain_attempt["detail"] = plain_attempt["detail"][:2000]
            plain_attempt["frames"] = student_frames(attempt.error) if attempt.error else []
            attempts.append(plain_attempt)
            outputs.append(data)
        return {"results": attempts}, outputs

    def dispatch(self, op, head, payload):
        """(reply, payload) of one request (output capture is the caller's)."""
        try:
            if op == "exec":
                return self.exec_cell(head)
            if op == "snapshot":
                return self.snapshot(head)
            if op == "probe":
                return self.probe(head, payload)
            return {"ok": False, "error": f"unknown op {op!r}"}, None
        except Exception as err:  # noqa: BLE001 - e.g. IPython itself failing on a cell
            reply = {"ok": False, "error": f"{type(err).__name__}: {str(err)[:1000]}",
                     "exception": type(err).__name__, "frames": []}
            if op != "probe":
                return reply, None
            reply["results"] = [{"kind": "raised", "detail": reply["error"],
                                 "exception": type(err).__name__}] * len(payload or [])
            return reply, [None] * len(payload or [])

    def handle(self, head, payload):
        real_out, real_err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self.capture
        try:
            reply, data = self.dispatch(head.get("op"), head, payload)
        finally:
            sys.stdout, sys.stderr = real_out, real_err
            if os.getpid() != self.pid:  # a forked child came back here: it never answers
                os._exit(0)
            _reap()
        text, dropped = self.capture.take()
        reply.update(output=text, dropped=dropped)
        return reply, data


def _as_sent(sent, after):
    """``after`` (arguments after the call) with every ``Ref`` of ``sent`` left out (None):
    what the grader sent, as the call left it."""
    from assignments.cases import Ref

    if isinstance(sent, Ref):
        return None
    if isinstance(sent, (tuple, list)) and isinstance(after, (tuple, list)) \
            and len(sent) == len(after):
        return type(sent)(_as_sent(s, a) for s, a in zip(sent, after))
    if isinstance(sent, dict) and isinstance(after, dict):
        return {k: (_as_sent(sent[k], after[k]) if k in sent else after[k]) for k in after}
    return after


def _reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(cfg: dict, requests_fd: int, replies_fd: int, audit_fd: int) -> int:
    """The kernel's life (in the forked child): confine, hook, serve the broker."""
    report = confine.confine_kernel(cfg)
    if cfg.get("work") and cfg["work"] not in sys.path:
        # the notebook's folder is importable, as in Jupyter (course_blocks.py lives there)
        sys.path.insert(0, cfg["work"])
    commands = os.fdopen(requests_fd, "rb")
    replies = os.fdopen(replies_fd, "wb")
    kernel = Kernel(cfg)
    from assignments.cases import library_prefixes

    run_probe, own = probe.make_runner(kernel, commands, replies, audit_fd,
                                       (trace.assignments_dir(),), library_prefixes((RUNTIME,)),
                                       events.CHANNEL_BROKEN, _reap)
    allowed = tuple(os.path.join(os.path.abspath(p), "") for p in
                    cfg["read_paths"] + cfg["write_paths"]) + ("/dev/", "/proc/self/")
    sys.addaudithook(events.make_hook(audit_fd, allowed, own, os.getpid()))
    del sys.gettrace
    for name in [n for n in sys.modules if n == "sandbox" or n.startswith("sandbox.")]:
        del sys.modules[name]
    read_message, write_message, send, handle = (wire.read_message, wire.write_message,
                                                 probe.write_reply, kernel.handle)
    limit = cfg.get("max_request", wire.MAX_MESSAGE)
    write_message(replies, {"op": "ready", "isolation": report, "nonce": cfg["nonce"]})
    while True:
        try:
            head, payload = read_message(commands, limit)
        except wire.WireError:
            return 0
        if head.get("op") == probe.GO:  # for a graded call's process that ended before it
            continue
        if head.get("op") == "probe":
            reply, data = run_probe(head, payload)
        else:
            reply, data = handle(head, payload)
        reply["nonce"] = head.get("nonce")
        send(replies, reply, data)
