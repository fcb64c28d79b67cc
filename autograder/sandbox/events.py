"""Audit events: the one list of what the kernel records, and the flag each raises.

The kernel's audit hook keeps no state of its own: it writes every event it
records straight into a pipe that only the broker reads, so nothing in the
student's process can switch it off quietly or erase what it already
reported (closing the pipe is itself reported).  The grader turns events
into flags with ``flag_of``; every event recorded has a flag.
"""

from __future__ import annotations

import os
import sys

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
    "gc.get_referents": "inspects-grader",
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
                "memory-limit": "memory-error"}
# path events that only read a directory's entries: not reported on the folders that
# lead to a readable path (imports and entry-point scans list every sys.path folder)
LISTING_EVENTS = frozenset({"open", "os.listdir", "os.scandir"})
MAX_EVENTS = 200
MAX_DETAIL = 200


def flag_of(event: str) -> str | None:
    """The flag an event raises (None for an event this module does not know)."""
    return EVENT_FLAGS.get(event) or PATH_EVENTS.get(event) or BROKER_FLAGS.get(event)


def _path_of(args):
    if args and isinstance(args[0], (str, bytes, os.PathLike)):
        try:
            return os.path.abspath(os.fsdecode(args[0]))
        except (TypeError, ValueError):
            return None
    return None


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


def make_hook(fd: int, allowed: tuple, own_code=frozenset()):
    """An audit hook writing ``event<TAB>detail`` lines to ``fd`` (write-only, unbuffered).

    ``allowed``: path prefixes ending in a separator (the job's folders, the
    read-only installation) where file events are not worth reporting; listing
    or opening a folder above them (``ancestors``) is not reported either.
    ``own_code``: code objects of the kernel's own tracer, whose
    ``sys.settrace`` calls are not the student's.
    """
    write, encode, getframe = os.write, str.encode, sys._getframe
    watched, paths, cap = frozenset(EVENT_FLAGS), frozenset(PATH_EVENTS), MAX_DETAIL
    above, listing = ancestors(allowed), LISTING_EVENTS

    def hook(event, args, _w=write, _e=encode, _fd=fd, _ok=allowed, _own=own_code,
             _frame=getframe, _above=above, _listing=listing):
        if event in watched:
            if event in ("sys.settrace", "sys.setprofile") and _frame(1).f_code in _own:
                return
            detail = repr(args)[:cap]
        elif event in paths:
            path = _path_of(args)
            if path is None or (path + os.sep).startswith(_ok):
                return
            if event in _listing and path in _above:
                return
            detail = path[:cap]
        else:
            return
        line = (event + "\t" + detail.replace("\n", " ").replace("\t", " ") + "\n")
        try:
            _w(_fd, _e(line, "utf-8", "replace"))
        except OSError:
            pass
    return hook


def parse_lines(data: bytes) -> list:
    """[event, detail] pairs from the hook's lines (unknown events dropped)."""
    out = []
    for line in data.decode("utf-8", "replace").splitlines():
        event, _, detail = line.partition("\t")
        if flag_of(event):
            out.append([event, detail[:MAX_DETAIL]])
    return out
