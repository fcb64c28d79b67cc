"""Graded calls in a process of their own (the kernel's side; the broker supervises).

For each ``probe`` request the kernel forks a child that makes the graded
calls, answers the broker itself and exits:

1. a recorder (``trace.recorders``) is switched on before the fork, so code
   that runs in the child before anything else (``os.register_at_fork``
   callbacks) is recorded too; the kernel switches it off again;
2. the child puts back the interpreter's default signal handlers (a handler
   runs wherever the interpreter is, often inside the tracer, untraced),
   drops any profile function (code run from one is not traced), stops
   automatic garbage collection (finalizers would run inside the tracer),
   then installs the second seccomp filter (``seccomp.no_tasks``): making
   a thread or a process kills it, installing signal handlers, arming
   timers and sending signals are refused;
3. the kernel tells the broker the child's pid and waits for it; the broker
   stops the kernel (all its threads), removes every other process, checks
   that nothing was started since the child, and only then lets the child
   go (a ``go`` message on the request pipe);
4. the child answers on the reply pipe with the request's nonce and exits;
   the kernel, resumed, reaps it and tells the broker how it ended.

Nothing the child does changes the kernel: hidden cases leave nothing
behind for later steps.  ``make_runner`` builds all of this before any
student code runs and keeps what it calls in its closure, so a later cell
rebinding a module's or a class's attribute changes nothing here.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time

from . import seccomp, trace, wire

GO = "go"
# what the interpreter starts with, for the signals whose handler is not SIG_DFL
_STARTUP_HANDLERS = {signal.SIGINT: signal.default_int_handler, signal.SIGPIPE: signal.SIG_IGN}
if hasattr(signal, "SIGXFSZ"):
    _STARTUP_HANDLERS[signal.SIGXFSZ] = signal.SIG_IGN


def write_reply(stream, reply: dict, data) -> None:
    """Send an answer; results that cannot travel become ``rejected`` ones."""
    try:
        wire.write_message(stream, reply, data)
    except wire.NotPlainData as err:
        reply["results"] = [{"kind": "rejected", "detail": str(err)[:500]}
                            for _ in reply.get("results", [])]
        wire.write_message(stream, reply, [None] * len(reply["results"]))


def make_runner(kernel, commands, replies, audit_fd: int, course: tuple, library: tuple,
                broken: int, reap):
    """(run, own code): ``run(head, cases)`` answers a probe request in the kernel with the
    child's end ({"reaped": wait status}) and never returns in the child; ``own code`` are
    the code objects whose settrace, setprofile and fork calls are the grader's.  ``course``
    and ``library``: the path prefixes of ``trace.recorders``.  ``reap()`` collects dead
    children (strays the broker killed still hold their pids)."""
    fork, waitpid, exit_, settrace, setprofile = (os.fork, os.waitpid, os._exit, sys.settrace,
                                                  sys.setprofile)
    getsignal, setsignal, handlers = signal.getsignal, signal.signal, dict(_STARTUP_HANDLERS)
    signals, default, chld = tuple(signal.valid_signals()), signal.SIG_DFL, signal.SIGCHLD
    gc_disable, forbid, sleep = gc.disable, seccomp.no_tasks(), time.sleep
    read_message, write_message, send = wire.read_message, wire.write_message, write_reply
    dispatch, capture, take = kernel.dispatch, kernel.capture, kernel.capture.take
    setattr_, sys_module = setattr, sys
    st = os.fstat(audit_fd)
    recorder = trace.recorders(audit_fd, course, library, (st.st_dev, st.st_ino), broken)
    callable_, error, int_ = callable, BaseException, int

    def start(traced: bool) -> int:
        """Fork, with the recorder on in the child from its first instruction."""
        if traced:
            settrace(recorder())
        pid = -1
        try:
            pid = fork()
        finally:
            if traced and pid != 0:
                settrace(None)
        return pid

    def child(head, cases, nonce) -> None:
        status = 1
        try:
            for signum in signals:
                handler = getsignal(signum)
                if callable_(handler) and handler is not handlers.get(signum):
                    setsignal(signum, handlers.get(signum, default))
            setprofile(None)
            gc_disable()
            if forbid is not None:
                forbid()
            go, _ = read_message(commands, 4096)
            if go.get("op") != GO or go.get("nonce") != nonce:
                exit_(2)
            setattr_(sys_module, "stdout", capture)
            setattr_(sys_module, "stderr", capture)
            reply, data = dispatch("probe", head, cases)
            text, dropped = take()
            reply.update(output=text, dropped=dropped, nonce=nonce)
            send(replies, reply, data)
            status = 0
        except error:
            status = 3
        finally:
            exit_(status)

    def run(head, cases):
        nonce = head.get("nonce")
        previous = getsignal(chld)
        if previous is not default:  # the child must stay reapable
            setsignal(chld, default)
        try:
            for _ in range(200):
                reap()
                try:
                    pid = start(bool(head.get("trace")))
                    break
                except BlockingIOError:  # the process limit, until killed strays are reaped
                    sleep(0.01)
                except OSError as err:
                    return {"failed": f"the call's process could not start: {err}"[:300]}, None
            else:
                return {"failed": "the call's process could not start: process limit"}, None
            if pid == 0:
                child(head, cases, nonce)
            write_message(replies, {"nonce": nonce, "child": pid})
            try:
                _, status = waitpid(pid, 0)
            except ChildProcessError:
                status = -1
        finally:
            if previous is not default:
                setsignal(chld, previous)
        return {"reaped": int_(status)}, None

    return run, frozenset({start.__code__, child.__code__, run.__code__})
