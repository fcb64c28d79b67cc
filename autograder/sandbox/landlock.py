"""Linux Landlock through ctypes: an unprivileged filesystem and network allow-list.

After ``restrict(read=[...], write=[...])`` the calling process (and every
process it starts) can read only below the ``read`` paths, write only below
the ``write`` paths, cannot connect or bind TCP sockets (Landlock ABI >= 4),
and cannot signal or reach abstract unix sockets outside its sandbox
(ABI >= 6).  It cannot be undone.  ``abi_version()`` returns 0 where
Landlock is unavailable (non-Linux, old kernels); callers then report the
missing isolation instead of pretending.
"""

from __future__ import annotations

import ctypes
import os
import platform

_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# filesystem rights, by the ABI that introduced them
FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
_FS_ABI1 = (1 << 13) - 1          # EXECUTE .. MAKE_SYM
_FS_REFER = 1 << 13               # ABI 2
_FS_TRUNCATE = 1 << 14            # ABI 3
_FS_IOCTL_DEV = 1 << 15           # ABI 5
NET_BIND_TCP = 1 << 0             # ABI 4
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0   # ABI 6
SCOPE_SIGNAL = 1 << 1

READ_RIGHTS = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64),
                ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """Landlock ABI of the running kernel, 0 if unavailable."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "aarch64"):
        return 0
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    version = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0),
                           ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(0, int(version))


def handled_fs(abi: int) -> int:
    rights = _FS_ABI1
    if abi >= 2:
        rights |= _FS_REFER
    if abi >= 3:
        rights |= _FS_TRUNCATE
    if abi >= 5:
        rights |= _FS_IOCTL_DEV
    return rights


def restrict(read=(), write=(), deny_tcp=True, listed=()) -> dict:
    """Confine this process; returns what was enforced (for the report).

    ``read`` paths may be read, ``write`` paths written, ``listed`` folders
    only listed (names, no contents: a folder that holds a hidden path among
    readable ones, such as site-packages around the grader's package, so
    that scans of installed packages still work).  Paths that do not exist
    are skipped.  Raises OSError if Landlock exists but a call fails.
    """
    abi = abi_version()
    if abi == 0:
        return {"landlock": 0}
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    fs = handled_fs(abi)
    attr = _RulesetAttr(fs, 0, 0)
    size = 8
    if abi >= 4 and deny_tcp:
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP
        size = 16
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                           ctypes.c_uint32(0))
    if ruleset < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"landlock_create_ruleset: {os.strerror(err)}")
    try:
        added = []
        for paths, rights in ((read, READ_RIGHTS), (write, fs), (listed, FS_READ_DIR)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    # files (not directories) may only get file rights
                    allowed = rights if os.path.isdir(path) else rights & (
                        FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV)
                    rule = _PathBeneathAttr(allowed & fs, fd)
                    if libc.syscall(_SYS_ADD_RULE, ctypes.c_int(ruleset),
                                    ctypes.c_int(_RULE_PATH_BENEATH), ctypes.byref(rule),
                                    ctypes.c_uint32(0)) < 0:
                        err = ctypes.get_errno()
                        raise OSError(err, f"landlock_add_rule({path}): {os.strerror(err)}")
                    added.append(path)
                finally:
                    os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"prctl(NO_NEW_PRIVS): {os.strerror(err)}")
        if libc.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"landlock_restrict_self: {os.strerror(err)}")
    finally:
        os.close(ruleset)
    return {"landlock": abi, "tcp_denied": bool(attr.handled_access_net),
            "scoped": bool(attr.scoped), "paths": added}
