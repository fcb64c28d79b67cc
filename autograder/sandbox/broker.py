"""The sandbox's first process: between the grader and the student's kernel.

Started by the grader (``autograder.spawn``) as PID 1 of new user, PID,
network and mount namespaces where the platform has them.  It confines
itself (``confine.confine_broker``), loads what every notebook imports, and
forks the kernel, which confines itself further.  Then it relays:

* a request from the grader (``exec``, ``snapshot``, ``probe``) goes to the
  kernel with a fresh random nonce; the kernel's answer counts only if it
  carries that nonce (anything else the kernel's side writes is dropped and
  reported as ``forged-message``);
* the answer goes back to the grader with the request's id, the audit events
  the kernel's hook wrote during the step, and the stray processes removed;
* a ``probe`` runs in a child of the kernel (``probe``): the broker stops
  the kernel (every thread of it), removes every other process, checks
  in ``/proc`` that no thread or process was started since the child
  (``ns_last_pid``), lets the child go, collects the code it ran from the
  audit pipe (and makes the summary itself), checks again that nothing
  was started, ends the child and resumes the kernel.  A child that tries
  to start a thread or process dies (seccomp); the grader hears it as a
  typed ``probe_failure``, and the kernel lives on;
* when the kernel dies, the grader hears why (``status: crashed``);
  ``restart`` forks a fresh kernel from this already warm process.

The channel to the grader is held only here; the kernel never has it.
Without a PID namespace of its own (no ``/proc`` of the sandbox) the broker
cannot stop, sweep or count, and the child goes at once.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import sys
import time

from . import confine, events, probe, trace, wire
from .kernel import is_student_file

MAX_KERNEL_REPLY = 64 * 1024 * 1024
MAX_CODES = 20_000          # code records kept for one graded call
MAX_PARTIAL_LINE = 8192     # an unfinished line of the audit pipe kept for the next read
PROTOCOL_BROKEN = ("the notebook's process broke the grading protocol (it wrote into the "
                   "grader's pipe)")


def _is_sigsys(status) -> bool:
    return isinstance(status, int) and status >= 0 and os.WIFSIGNALED(status) and \
        os.WTERMSIG(status) == signal.SIGSYS


def _death_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        hint = " (memory or process limit?)" if sig == signal.SIGKILL else ""
        return f"the notebook's process was killed by signal {name}{hint}"
    return (f"the notebook's process exited with status {os.WEXITSTATUS(status)} "
            "(os._exit or sys.exit?)")


def _is_pid(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 1


def _proc_stat(pid: int):
    """(state, parent pid, exit status) from /proc, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()
    try:
        return fields[0], int(fields[1]), int(fields[49]) if len(fields) > 49 else None
    except (IndexError, ValueError):
        return None


def _last_pid() -> int | None:
    """The pid most recently given to a thread or process of this PID namespace."""
    try:
        with open("/proc/sys/kernel/ns_last_pid") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


class Call:
    """What the broker learns while one graded call runs: the code it ran (records of the
    recorder) and why its trace cannot be believed (events of the audit hook)."""

    def __init__(self, traced: bool, taint: list):
        self.traced, self.codes, self.tampered = traced, set(), list(taint)

    def add(self, codes):
        """Keep records of code that ran; past ``MAX_CODES`` (a flood of records, forged or
        not, that would hide the rest) the trace is not believed."""
        for code in codes:
            if code not in self.codes:
                if len(self.codes) >= MAX_CODES:
                    self.tampered.append("too-many-code-records")
                    return
                self.codes.add(code)

    def ran(self) -> dict:
        return trace.summarize(self.codes, is_student_file, intact=not self.tampered)


class Broker:
    def __init__(self, cfg: dict, commands, replies):
        self.cfg, self.commands, self.replies = cfg, commands, replies
        self.kernel_pid = None
        self.events: list = []
        self.audit_closed = self.audit_reported = False
        self.in_pid_namespace = os.getpid() == 1 and bool(cfg.get("pid_namespace"))
        self.selector = selectors.DefaultSelector()
        self.inbox, self.kernel_fd, self.kernel_eof = bytearray(), None, False
        self.audit_rest = b""
        self.call: Call | None = None   # the graded call running now
        self.ack = None                 # nonce of the kernel's acknowledgement still to come
        self.taint: list = []           # events of the kernel that no later trace survives

    # -- the kernel -------------------------------------------------------
    def spawn_kernel(self) -> dict:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        aud_r, aud_w = os.pipe()
        nonce = os.urandom(16).hex()
        pid = os.fork()
        if pid == 0:  # the kernel
            code = 1
            try:
                for fd in (self.cfg["cmd_fd"], self.cfg["reply_fd"], req_w, rep_r, aud_r):
                    os.close(fd)
                from . import kernel

                code = kernel.main(dict(self.cfg, nonce=nonce), req_r, rep_w, aud_w)
            except BaseException:  # noqa: BLE001 - say why in the sandbox's raw output
                import traceback

                traceback.print_exc()
            finally:
                os._exit(code or 0)
        for fd in (req_r, rep_w, aud_w):
            os.close(fd)
        self.kernel_pid = pid
        self.to_kernel = os.fdopen(req_w, "wb")
        self.kernel_fd, self.inbox, self.kernel_eof, self.ack = rep_r, bytearray(), False, None
        os.set_blocking(rep_r, False)
        self.audit_fd, self.audit_rest, self.taint = aud_r, b"", []
        os.set_blocking(aud_r, False)
        self.audit_closed = self.audit_reported = False
        self.selector = selectors.DefaultSelector()
        self.selector.register(rep_r, selectors.EVENT_READ, "kernel")
        self.selector.register(aud_r, selectors.EVENT_READ, "audit")
        self.selector.register(self.commands.fileno(), selectors.EVENT_READ, "grader")
        head, _, reason = self.await_message(nonce)
        return head if head is not None else {"failed": reason}

    def kill_kernel(self):
        if self.kernel_pid is not None:
            try:
                os.kill(self.kernel_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(self.kernel_pid, 0)
            except ChildProcessError:
                pass
            self.kernel_pid = None
        try:
            getattr(self, "to_kernel", None) and self.to_kernel.close()
        except OSError:
            pass
        if self.kernel_fd is not None:
            try:
                os.close(self.kernel_fd)
            except OSError:
                pass
            self.kernel_fd = None
        if getattr(self, "audit_fd", None) is not None:
            try:
                os.close(self.audit_fd)
            except OSError:
                pass
            self.audit_fd = None
        self.sweep()

    def kernel_status(self):
        """None while the kernel lives, else its wait status."""
        if self.kernel_pid is None:
            return 0
        try:
            pid, status = os.waitpid(self.kernel_pid, os.WNOHANG)
        except ChildProcessError:
            return 0
        if pid == 0:
            return None
        self.kernel_pid = None
        return status

    def sweep(self, keep=()) -> int:
        """Kill every live process of the sandbox but this one, the kernel and ``keep``; reap
        them; how many were killed."""
        killed = 0
        if self.in_pid_namespace:
            try:
                pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
            except OSError:
                pids = []
            for pid in pids:
                stat = _proc_stat(pid)
                if pid not in (1, self.kernel_pid, *keep) and stat is not None and \
                        stat[0] not in ("Z", "X"):  # the dead are not strays
                    try:
                        os.kill(pid, signal.SIGKILL)
                        killed += 1
                    except (ProcessLookupError, PermissionError):
                        pass
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0 or pid == self.kernel_pid:
                break
        return killed

    def read_audit(self):
        if self.audit_fd is None:
            return
        try:
            data = os.read(self.audit_fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # judged at the end of the step: a dying kernel closes it too
            self.audit_closed = True
            self.selector.unregister(self.audit_fd)
            os.close(self.audit_fd)
            self.audit_fd = None
            return
        data = self.audit_rest + data
        end = data.rfind(b"\n") + 1
        self.audit_rest = data[end:] if len(data) - end <= MAX_PARTIAL_LINE else b""
        found, codes = events.parse_records(data[:end])
        for event in found:
            self.note(*event)
        if self.call is not None and codes:
            self.call.add(codes)

    def _settle(self, seconds=2.0):
        """The kernel's status once it had a moment to finish dying (None: alive)."""
        end = time.monotonic() + seconds
        while True:
            status = self.kernel_status()
            if status is not None or time.monotonic() > end:
                return status
            time.sleep(0.02)

    def note(self, event, detail):
        if self.call is not None and event in events.TAMPER_EVENTS:
            self.call.tampered.append(event)
        elif self.call is None and event in events.TAINT_EVENTS:
            self.taint.append(event)
        if len(self.events) < events.MAX_EVENTS:
            self.events.append([event, detail])

    def feed(self):
        """Read what the kernel's pipe holds now (a few MiB at most) into the inbox."""
        for _ in range(8):
            try:
                block = os.read(self.kernel_fd, 1 << 20)
            except BlockingIOError:
                return
            except (OSError, TypeError):
                block = b""
            if not block:
                if not self.kernel_eof and self.kernel_fd is not None:
                    self.selector.unregister(self.kernel_fd)
                self.kernel_eof = True
                return
            self.inbox += block

    def await_message(self, nonce, child=None):
        """(header, payload, None) of the first message carrying ``nonce``, or (None, None, why
        the kernel died); with ``child`` (a graded call's process, watched in /proc), also
        (None, None, {"status": its wait status or None}) when it ended without one."""
        gone = None
        while True:
            try:
                message = wire.take_message(self.inbox, MAX_KERNEL_REPLY)
            except wire.WireError as err:
                return None, None, self._broken(err)
            if message is not None:
                head, payload = message
                if head.get("nonce") == nonce:
                    return head, payload, None
                if self.ack is not None and head.get("nonce") == self.ack and "reaped" in head:
                    self.ack = None  # the kernel reaped the last graded call's process
                    continue
                self.note("forged-message", "a message without the request's nonce")
                continue
            if gone is not None:
                del self.inbox[:]  # what it began and never finished
                return None, None, gone
            if self.kernel_eof:  # every writer of the pipe is gone (or closed it)
                self.read_audit()
                return None, None, self._broken(wire.WireError("stream closed"))
            for key, _ in self.selector.select(timeout=0.2):
                if key.data == "audit":
                    self.read_audit()
                elif key.data == "grader":  # the grader never speaks while it waits: it is gone
                    self.kill_kernel()
                    os._exit(0)
                else:
                    self.feed()
            if child is not None:
                stat = _proc_stat(child)
                if stat is None or stat[0] in ("Z", "X"):
                    gone = {"status": stat[2] if stat is not None else None}
                    self.feed()  # whatever it wrote before it ended comes first
                    continue
            status = self.kernel_status()
            if status is not None:
                self.read_audit()
                self.kill_kernel()
                return None, None, _death_reason(status)

    def _broken(self, err) -> str:
        status = self._settle()
        if status is None:  # alive but speaking nonsense
            self.note("forged-message", str(err)[:200])
            self.kill_kernel()
            return PROTOCOL_BROKEN
        self.kill_kernel()
        return _death_reason(status)

    # -- the grader's requests ----------------------------------------------
    def answer(self, head, reply, payload=None, strays=0, keep=()):
        if self.audit_closed and self.kernel_status() is None and not self.audit_reported:
            self.audit_reported = True
            self.note("audit-closed", "the audit channel was closed while the notebook ran")
        swept = self.sweep(keep) if reply.get("status") == "ok" or reply.get("probe_failure") else 0
        reply.update(op="reply", id=head.get("id"), events=self.events, strays=strays + swept)
        self.check_disk()
        reply["events"] = self.events
        self.events = []
        try:
            wire.write_message(self.replies, reply, payload)
        except wire.NotPlainData as err:
            reply.pop("results", None)
            reply.update(status="crashed", reason=f"the answer could not be sent: {err}"[:500])
            wire.write_message(self.replies, reply)

    def check_disk(self):
        if not self.cfg.get("private_disk"):
            return
        try:
            st = os.statvfs(self.cfg["work"])
        except OSError:
            return
        if st.f_blocks and st.f_bavail * 100 < st.f_blocks:
            self.note("disk-full", f"the job's folder is full ({self.cfg['disk_bytes']} bytes)")

    def serve(self, head, payload):
        op = head.get("op")
        if op == "restart":
            self.kill_kernel()
            ready = self.spawn_kernel()
            self.answer(head, {"status": "ok" if "failed" not in ready else "crashed",
                               "reason": ready.get("failed")})
            return
        if self.kernel_pid is None:
            self.answer(head, {"status": "crashed", "reason": "the notebook's process is gone"})
            return
        nonce = os.urandom(16).hex()
        forward = {k: v for k, v in head.items() if k != "id"}
        forward["nonce"] = nonce
        if head.get("op") == "probe":
            self.call = Call(bool(head.get("trace")), self.taint)
            try:
                reply, data, removed, child = self.probe(forward, payload, nonce)
            finally:
                call, self.call = self.call, None
            if reply.get("status") == "ok" and call.traced:
                reply["ran"] = call.ran()
            self.answer(head, reply, data, removed, keep=(child,))  # killed, maybe still dying
            return
        self.send(forward, payload)
        reply, data, reason = self.await_message(nonce)
        if reply is None:
            self.answer(head, {"status": "crashed", "reason": reason})
        else:
            reply.pop("nonce", None)
            reply["status"] = "ok"
            self.answer(head, reply, data)

    def send(self, head, payload=None):
        try:
            wire.write_message(self.to_kernel, head, payload)
        except (OSError, ValueError):
            pass  # the kernel died; await_message says how

    # -- graded calls -----------------------------------------------------------
    def probe(self, forward, payload, nonce):
        """(reply, payload, processes removed, the child's pid) of a probe run in the kernel's
        child."""
        self.send(forward, payload)
        announced, _, reason = self.await_message(nonce)
        if announced is None:
            return {"status": "crashed", "reason": reason}, None, 0, None
        child = announced.get("child")
        if not _is_pid(child) or child == self.kernel_pid:
            if isinstance(announced.get("failed"), str):  # fork refused: limits
                return {"status": "crashed", "reason": announced["failed"][:300],
                        "probe_failure": "unstarted"}, None, 0, None
            self.note("forged-message", "no process was named for the graded call")
            self.kill_kernel()
            return {"status": "crashed", "reason": PROTOCOL_BROKEN}, None, 0, None
        watched = self.in_pid_namespace and _last_pid() is not None
        removed, started = 0, False
        if watched:
            why, removed = self.isolate(child)
            if why is not None and self.kernel_pid is None:  # the kernel died or lied
                return {"status": "crashed", "reason": why}, None, removed, child
            started = why is not None
        reply = data = gone = None
        if not started:  # (a child that already ended never reads it: the kernel skips it)
            self.send({"op": probe.GO, "nonce": nonce})
            reply, data, gone = self.await_message(nonce, child if watched else None)
            if isinstance(gone, str):  # the kernel died
                return {"status": "crashed", "reason": gone}, None, removed, child
        if watched:  # the kernel reaps the child and acknowledges it while the grader reads
            started = self.end_child(child) or started
            self.ack = nonce
        elif reply is not None and "reaped" in reply:  # the child ended without answering
            reply, gone = None, {"status": reply.get("reaped")}
        else:
            ack, _, reason = self.await_message(nonce)
            if ack is None:
                return {"status": "crashed", "reason": reason}, None, removed, child
        if started or (gone is not None and _is_sigsys(gone.get("status"))):
            self.note("task-in-graded-call", "the graded call tried to start a thread or process")
            return {"status": "crashed", "reason": "a thread or process was started",
                    "probe_failure": "threads"}, None, removed, child
        if reply is None or "results" not in reply:
            return {"status": "crashed", "reason": "the graded call's process ended",
                    "probe_failure": "died"}, None, removed, child
        reply.pop("nonce", None)
        reply["status"] = "ok"
        return reply, data, removed, child

    def isolate(self, child):
        """Stop the kernel, remove every other process, check that nothing was started since
        ``child``: (None, removed), ("started", removed), or (why, 0) with the kernel killed."""
        stat = _proc_stat(child)
        if stat is not None and stat[1] != self.kernel_pid:
            self.note("forged-message", "the graded call's process is not the kernel's child")
            self.kill_kernel()
            return PROTOCOL_BROKEN, 0
        os.kill(self.kernel_pid, signal.SIGSTOP)
        try:
            _, status = os.waitpid(self.kernel_pid, os.WUNTRACED)
        except ChildProcessError:
            status = 0
        if not os.WIFSTOPPED(status):
            self.kernel_pid = None
            self.kill_kernel()
            return _death_reason(status), 0
        removed = self.sweep(keep=(child,))
        return (None if _last_pid() == child else "started"), removed

    def end_child(self, child) -> bool:
        """Kill the graded call's process and resume the kernel; True when a thread or process
        was started since the child (a fork cannot finish once SIGKILL is pending)."""
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
        started = _last_pid() != child
        if self.kernel_pid is not None:
            os.kill(self.kernel_pid, signal.SIGCONT)
        return started


def main(argv) -> int:
    cfg = json.loads(argv[0])
    commands = os.fdopen(cfg["cmd_fd"], "rb")
    replies = os.fdopen(cfg["reply_fd"], "wb")
    report = confine.confine_broker(cfg)
    # what every notebook imports anyway, loaded once here and shared by every kernel
    import numpy  # noqa: F401
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import IPython.core.interactiveshell  # noqa: F401

    import assignments.cases  # noqa: F401

    broker = Broker(cfg, commands, replies)
    ready = broker.spawn_kernel()
    report.update(ready.get("isolation") or {})
    if "failed" in ready:
        wire.write_message(replies, {"op": "failed", "reason": str(ready["failed"])[:500]})
        return 1
    wire.write_message(replies, {"op": "ready", "isolation": report, "pid": os.getpid()})
    while True:
        try:
            head, payload = wire.read_message(commands, cfg.get("max_request"))
        except wire.WireError:
            break
        if head.get("op") == "exit":
            break
        broker.serve(head, payload)
    broker.kill_kernel()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
