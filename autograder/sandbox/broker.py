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
* when the kernel dies, the grader hears why (``status: crashed``);
  ``restart`` forks a fresh kernel from this already warm process.

The channel to the grader is held only here; the kernel never has it.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import sys

from . import confine, events, wire

MAX_KERNEL_REPLY = 64 * 1024 * 1024


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


class Broker:
    def __init__(self, cfg: dict, commands, replies):
        self.cfg, self.commands, self.replies = cfg, commands, replies
        self.kernel_pid = None
        self.events: list = []
        self.audit_closed = self.audit_reported = False
        self.in_pid_namespace = os.getpid() == 1 and bool(cfg.get("pid_namespace"))
        self.selector = selectors.DefaultSelector()

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
        self.from_kernel = os.fdopen(rep_r, "rb", buffering=0)
        self.audit_fd = aud_r
        os.set_blocking(aud_r, False)
        self.audit_closed = self.audit_reported = False
        self.selector = selectors.DefaultSelector()
        self.selector.register(rep_r, selectors.EVENT_READ, "kernel")
        self.selector.register(aud_r, selectors.EVENT_READ, "audit")
        self.selector.register(self.commands.fileno(), selectors.EVENT_READ, "grader")
        head, _, reason = self.await_kernel(nonce)
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
        for stream in (getattr(self, "to_kernel", None), getattr(self, "from_kernel", None)):
            try:
                stream and stream.close()
            except OSError:
                pass
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

    def sweep(self) -> int:
        """Kill every process of the sandbox but this one and the kernel; reap them."""
        killed = 0
        if self.in_pid_namespace:
            try:
                pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
            except OSError:
                pids = []
            for pid in pids:
                if pid not in (1, self.kernel_pid):
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
        for event in events.parse_lines(data):
            self.note(*event)

    def _settle(self, seconds=2.0):
        """The kernel's status once it had a moment to finish dying (None: alive)."""
        import time

        end = time.monotonic() + seconds
        while True:
            status = self.kernel_status()
            if status is not None or time.monotonic() > end:
                return status
            time.sleep(0.02)

    def note(self, event, detail):
        if len(self.events) < events.MAX_EVENTS:
            self.events.append([event, detail])

    def await_kernel(self, nonce):
        """(header, payload, None) of the kernel's answer, or (None, None, why it died)."""
        while True:
            for key, _ in self.selector.select(timeout=0.2):
                if key.data == "audit":
                    self.read_audit()
                    continue
                if key.data == "grader":  # the grader never speaks while it waits: it is gone
                    self.kill_kernel()
                    os._exit(0)
                try:
                    head, payload = wire.read_message(self.from_kernel, MAX_KERNEL_REPLY)
                except wire.WireError as err:
                    status = self._settle()
                    if status is None:  # alive but speaking nonsense
                        self.note("forged-message", str(err)[:200])
                        self.kill_kernel()
                        return None, None, ("the notebook's process broke the grading "
                                            "protocol (it wrote into the grader's pipe)")
                    return None, None, _death_reason(status)
                if head.get("nonce") == nonce:
                    return head, payload, None
                self.note("forged-message", "a message without the request's nonce")
            status = self.kernel_status()
            if status is not None:
                self.read_audit()
                self.kill_kernel()
                return None, None, _death_reason(status)

    # -- the grader's requests ----------------------------------------------
    def answer(self, head, reply, payload=None):
        if self.audit_closed and self.kernel_status() is None and not self.audit_reported:
            self.audit_reported = True
            self.note("audit-closed", "the audit channel was closed while the notebook ran")
        reply.update(op="reply", id=head.get("id"), events=self.events,
                     strays=self.sweep() if reply.get("status") == "ok" else 0)
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
        try:
            wire.write_message(self.to_kernel, forward, payload)
        except (OSError, ValueError):
            pass  # the kernel died; await_kernel says how
        reply, data, reason = self.await_kernel(nonce)
        if reply is None:
            self.answer(head, {"status": "crashed", "reason": reason})
        else:
            reply.pop("nonce", None)
            reply["status"] = "ok"
            self.answer(head, reply, data)


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
