"""Audit events: the one list of what the kernel records, and the flag each raises.

The kernel's audit hook keeps no state of its own: it writes every event it
records straight into a pipe that only the broker reads, so nothing in the
student's process can switch it off quietly or erase what it already
reported (closing the pipe is itself reported, and a process whose pipe
was closed or replaced kills itself at its next event).  The hook runs no
code it does not hold itself (no library function a cell could rebind, no
``repr`` or ``__fspath__`` of a student's object): code run inside an audit
hook is not traced.  Each record starts a line of its own, so bytes a
submission writes into the pipe cannot swallow one.  The grader turns
events into flags with ``flag_of``; every event recorded has a flag.
"""

from __future__ import annotations

import os
import sys

from .trace import CODE_RECORD, parse_record

# event -> flag, for events recorded wherever they happen
EVENT_FLAGS = {
    "socket.connect": "network", "socket.bind": "network", "socket.sendto": "network",
    "subprocess.Popen": "subprocess", "os.system": "subprocess", "os.exec": "subprocess",
    "os.posix_spawn": "subprocess", "os.spawn": "subprocess", "os.fork": "subprocess",
    "os.forkpty": "subprocess", "pty.spawn": "subprocess",
    "ctypes.dlopen": "ctypes", "ctypes.dlsym": "ctypes", "ctypes.addressof": "ctypes",
    "ctypes.string_at": "ctypes",
    "os.kill": "exits-process", "os.killpg": "exits-process",
    "sys.setprofile": "ipython-hooks", "sys.settrace": "ipython-hooks",
    "sys.addaudithook": "ipython-hooks",
    "gc.get_objects": "inspects-grader", "gc.get_referrers": "inspects-grader",
    "gc.get_referents": "inspects-grader", "sys._current_frames": "inspects-grader",
}
# events about a path, recorded only when the path is outside the job's folders
PATH_EVENTS = {
    "open": "outside-files", "os.remove": "outside-files", "os.rename": "outside-files",
    "os.rmdir": "outside-files", "os.mkdir": "outside-files", "os.symlink": "outside-files",
    "os.link": "outside-files", "os.truncate": "outside-files", "os.listdir": "outside-files",
    "os.scandir": "outside-files", "shutil.rmtree": "outside-files", "os.chmod": "outside-files",
    "os.chown": "outside-files", "os.utime": "outside-files", "os.setxattr": "outside-files",
    "os.removexattr": "outside-files", "os.chdir": "outside-files",
}
# reported by the broker, not the hook
BROKER_FLAGS = {"audit-closed": "audit-tampered", "forged-message": "forged-message",
                "stray-processes": "subprocess", "disk-full": "disk-limit",
                "memory-limit": "memory-error", "task-in-graded-call": "subprocess"}
# events after which no later graded call's trace can be believed, wherever they happen: an
# audit hook of the student's (code run from it is not traced), code reaching the kernel's
# own objects (gc, frames of other threads, ctypes)
TAINT_EVENTS = frozenset({"sys.addaudithook", "gc.get_objects", "gc.get_referrers",
                          "gc.get_referents", "sys._current_frames", "ctypes.dlopen",
                          "ctypes.dlsym", "ctypes.addressof", "ctypes.string_at"})
# events that, during a graded call, mean its trace cannot be believed: those, and a tracer
# or profiler of the student's (frames of the call's own process lead to nothing of the
# recorder's: it is held by the interpreter alone)
TAMPER_EVENTS = TAINT_EVENTS | {"sys.settrace", "sys.setprofile"}
# path events that only read a directory's entries: not reported on the folders that
# lead to a readable path (imports and entry-point scans list every sys.path folder)
LISTING_EVENTS = frozenset({"open", "os.listdir", "os.scandir"})
MAX_EVENTS = 200
MAX_DETAIL = 200
CHANNEL_BROKEN = 86   # exit status of a process whose audit pipe was closed or replaced


def flag_of(event: str) -> str | None:
    """The flag an event raises (None for an event this module does not know)."""
    return EVENT_FLAGS.get(event) or PATH_EVENTS.get(event) or BROKER_FLAGS.get(event)


def ancestors(prefixes) -> frozenset:
    """Every folder above the given path prefixes (without their trailing separator)."""
    out = set()
    for prefix in prefixes:
        path = os.path.dirname(prefix.rstrip(os.sep))
        while path and path not in out:
            out.add(path)
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
    return frozenset(out)


def make_hook(fd: int, allowed: tuple, own_code=frozenset(), home_pid=None):
    """An audit hook writing ``event<TAB>detail`` records to ``fd`` (write-only, unbuffered).

    ``allowed``: path prefixes ending in a separator (the job's folders, the
    read-only installation) where file events are not worth reporting; listing
    or opening a folder above them (``ancestors``) is not reported either.
    ``own_code``: code objects of the kernel whose ``sys.settrace``, ``os.fork``...
    are not the student's.  Outside the ``home_pid`` process (in a graded call's)
    a path given as an object is not reported: its ``__fspath__`` is not run.
    Everything it calls is bound here: builtins and library functions a cell
    rebinds later change nothing; it keeps no state (none to switch off).
    """
    write, encode, getframe, getpid, exit_, fstat, fspath = (
        os.write, str.encode, sys._getframe, os.getpid, os._exit, os.fstat, os.fspath)
    getcwd, sep, type_, repr_, len_ = os.getcwd, os.sep, type, repr, len
    type_name, error = type.__dict__["__name__"].__get__, BaseException
    watched, paths, cap = frozenset(EVENT_FLAGS), frozenset(PATH_EVENTS), MAX_DETAIL
    above, listing = ancestors(allowed), LISTING_EVENTS
    st = fstat(fd)
    dev, ino = st.st_dev, st.st_ino

    def shown(value, depth):
        """A detail made with builtins only (a student's __repr__ would run untraced)."""
        kind = type_(value)
        if kind is str or kind is bytes:
            return repr_(value[:cap])
        if kind is int or kind is float or kind is bool or value is None:
            return repr_(value)
        if (kind is tuple or kind is list) and depth < 2:
            out, i = "(", 0
            while i < len_(value) and i < 8:
                out += (", " if i else "") + shown(value[i], depth + 1)
                i += 1
            return out + ")"
        return "<" + type_name(kind) + ">"

    def absolute(path):
        """``path`` made absolute and normalized with str methods only (None: not a path)."""
        kind = type_(path)
        if kind is not str and kind is not bytes:
            if getpid() != home_pid:  # no __fspath__ of a student's runs in a graded call
                return None
            try:
                path = fspath(path)
            except error:
                return None
            kind = type_(path)
        if kind is bytes:
            path = path.decode("utf-8", "surrogateescape")
        elif kind is not str:
            return None
        if not path.startswith(sep):
            path = getcwd() + sep + path
        out, i, n = "", 0, len_(path)
        while i <= n:
            j = path.find(sep, i)
            j = n if j < 0 else j
            part = path[i:j]
            if part == "..":
                out = out[:out.rfind(sep)] if out else ""
            elif part and part != ".":
                out += sep + part
            i = j + 1
        return out or sep

    def describe(event, args):
        """The record's detail, or None when the event is not worth one (its own
        sys._getframe is an event too, one it does not watch)."""
        if event in watched:
            return None if getframe(2).f_code in own_code else shown(args, 0)
        path = absolute(args[0]) if len_(args) else None
        if path is None or (path + sep).startswith(allowed):
            return None
        return None if event in listing and path in above else path[:cap]

    def hook(event, args):
        if not (event in watched or event in paths):
            return
        detail = describe(event, args)
        if detail is None:
            return
        line = "\n" + event + "\t" + detail.replace("\n", " ").replace("\t", " ") + "\n"
        try:
            now = fstat(fd)
            if now.st_ino != ino or now.st_dev != dev:
                exit_(CHANNEL_BROKEN)
            write(fd, encode(line[:3 * cap], "utf-8", "replace"))
        except OSError:  # closed or replaced: nothing may run unreported
            exit_(CHANNEL_BROKEN)
    return hook


def parse_records(data: bytes) -> tuple[list, list]:
    """([event, detail] pairs, [(file, line, name) of code that ran]) from whole lines of the
    audit pipe (the hook's events, the records of ``trace.recorders``; anything else dropped)."""
    found, codes = [], []
    for line in data.decode("utf-8", "replace").splitlines():
        fields = line.split("\t")
        if fields[0] == CODE_RECORD:
            code = parse_record(fields[1:])
            if code is not None:
                codes.append(code)
        elif flag_of(fields[0]) and len(fields) == 2:
            found.append([fields[0], fields[1][:MAX_DETAIL]])
    return found, codes


def parse_lines(data: bytes) -> list:
    """[event, detail] pairs from the hook's lines (unknown events dropped)."""
    return parse_records(data)[0]
