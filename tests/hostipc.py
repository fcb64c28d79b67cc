"""System V shared memory and POSIX message queues on the host, as the tests see them.

The IPC attacks of the corpus aim at objects with these keys and names (one
set per test process); the tests create the host's secret segment and check
afterwards that nothing with the attackers' keys or names exists on the host.
Linux only (ctypes on the C library).
"""

from __future__ import annotations

import ctypes
import os

IPC_CREAT, IPC_EXCL, IPC_RMID = 0o1000, 0o2000, 0
_TOKEN = os.getpid() & 0xFFFFF
SECRET_KEY = 0x5C000000 | _TOKEN          # the host's segment (mode 0600) a submission reads
HOG_KEY = 0x5D000000 | _TOKEN             # the 256 MiB segment a submission leaves behind
MQ_NAME = f"/course-corpus-{_TOKEN}"      # a POSIX message queue
DEV_SHM_NAME = f"course-corpus-{_TOKEN}"  # a file in /dev/shm (POSIX shared memory)


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    libc.shmdt.argtypes = [ctypes.c_void_p]
    libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
    return libc


def create_segment(key: int, data: bytes) -> int:
    """A new segment of mode 0600 holding ``data``; returns its id."""
    libc = _libc()
    shmid = libc.shmget(key, len(data), IPC_CREAT | IPC_EXCL | 0o600)
    if shmid < 0:
        raise OSError(ctypes.get_errno(), f"shmget({key:#x})")
    addr = libc.shmat(shmid, None, 0)
    ctypes.memmove(addr, data, len(data))
    libc.shmdt(addr)
    return shmid


def read_segment(shmid: int, size: int) -> bytes:
    libc = _libc()
    addr = libc.shmat(shmid, None, 0o10000)  # SHM_RDONLY
    if addr in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), f"shmat({shmid})")
    try:
        return ctypes.string_at(addr, size)
    finally:
        libc.shmdt(addr)


def segment_id(key: int) -> int | None:
    """The id of the host's segment with this key, None if there is none."""
    shmid = _libc().shmget(key, 0, 0)
    return shmid if shmid >= 0 else None


def remove_segment(shmid: int) -> None:
    _libc().shmctl(shmid, IPC_RMID, None)


def queue_exists(name: str) -> bool:
    libc = _libc()
    fd = libc.mq_open(name.encode(), os.O_RDONLY)
    if fd < 0:
        return False
    libc.mq_close(fd)
    return True


def remove_queue(name: str) -> None:
    _libc().mq_unlink(name.encode())
