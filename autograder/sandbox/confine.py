"""Confining the sandbox: limits, a private disk, no capabilities, Landlock, seccomp.

``confine_broker(cfg)`` runs once in the sandbox's first process, before any
student code exists (in the sandbox's own namespaces it also mounts a
private, empty ``/dev/shm``); ``confine_kernel(cfg)`` runs in the kernel after the
fork, adding a nested Landlock domain without ``/proc`` (so the kernel can
neither trace nor signal the broker, nor read other processes).  Each step
reports what it enforced, or why it could not, for the isolation report.
"""

from __future__ import annotations

import ctypes
import os
import resource

from . import landlock, seccomp

_MS_NOSUID, _MS_NODEV = 2, 4
_PR_CAPBSET_DROP, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
_CAP_VERSION_3 = 0x20080522
_LAST_CAP = 63
_DEV_SHM_BYTES = 16 * 2**20
NAMESPACES = ("user", "pid", "net", "mnt", "ipc", "uts", "cgroup")  # as /proc/self/ns names them


def _set_limit(which, value):
    if value is None:
        return
    _, hard = resource.getrlimit(which)
    value = int(value)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def set_limits(cfg: dict) -> None:
    _set_limit(resource.RLIMIT_CORE, 0)
    _set_limit(resource.RLIMIT_AS, cfg.get("memory_bytes"))
    _set_limit(resource.RLIMIT_CPU, cfg.get("cpu_seconds"))
    _set_limit(resource.RLIMIT_FSIZE, cfg.get("file_bytes"))
    _set_limit(resource.RLIMIT_NOFILE, cfg.get("open_files"))
    if cfg.get("nproc"):
        _set_limit(resource.RLIMIT_NPROC, cfg["nproc"])


def private_disk(path: str, size_bytes: int, mode: int = 0o700) -> str:
    """Mount a size-limited tmpfs on ``path`` (needs our own mount namespace)."""
    libc = ctypes.CDLL(None, use_errno=True)
    opts = f"size={int(size_bytes)},mode={mode:o}".encode()
    if libc.mount(b"tmpfs", os.fsencode(path), b"tmpfs", _MS_NOSUID | _MS_NODEV, opts) != 0:
        return f"no ({os.strerror(ctypes.get_errno())})"
    return f"tmpfs of {size_bytes // 2**20} MiB"


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> str:
    """Clear every capability (bounding, ambient, effective, permitted, inheritable)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in range(_LAST_CAP + 1):
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the last cap: ignored
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    data = (_CapData * 2)()
    if libc.capset(ctypes.byref(_CapHeader(_CAP_VERSION_3, 0)), data) != 0:
        return f"no ({os.strerror(ctypes.get_errno())})"
    return "all dropped"


def _prepare_ipython():
    """IPython's profile folder, made before the filter forbids the chmod it does."""
    from IPython.core.profiledir import ProfileDir

    ipython_dir = os.environ.get("IPYTHONDIR")
    if ipython_dir:
        ProfileDir.create_profile_dir_by_name(ipython_dir, "default")


def namespaces() -> dict:
    """name -> inode of each namespace this process is in (compared with the grader's)."""
    out = {}
    for name in NAMESPACES:
        try:
            out[name] = os.stat(f"/proc/self/ns/{name}").st_ino
        except OSError:
            pass
    return out


def confine_broker(cfg: dict) -> dict:
    report = {"namespaces": namespaces()}
    if cfg.get("private_disk"):
        # POSIX shared memory lives in /dev/shm: a folder of the sandbox's own, gone with it
        if os.path.isdir("/dev/shm"):
            report["dev_shm"] = private_disk("/dev/shm", _DEV_SHM_BYTES, 0o1777)
        report["disk"] = private_disk(cfg["work"], cfg["disk_bytes"])
        os.chdir(cfg["work"])  # the mount hides the folder we started in
        for sub in ("tmp", ".mpl", ".ipython"):
            os.makedirs(os.path.join(cfg["work"], sub), exist_ok=True)
    for name, text in (cfg.get("files") or {}).items():
        # what the release folder holds next to the notebook (course_blocks.py)
        with open(os.path.join(cfg["work"], os.path.basename(name)), "w",
                  encoding="utf-8") as f:
            f.write(text)
    _prepare_ipython()
    set_limits(cfg)
    if cfg.get("drop_capabilities"):
        report["capabilities"] = drop_capabilities()
    if cfg.get("landlock"):
        ll = landlock.restrict(read=cfg["read_paths"] + cfg.get("broker_read_paths", []),
                               write=cfg["write_paths"], listed=cfg.get("listed_paths", []))
        report.update({k: v for k, v in ll.items() if k != "paths"})
    if cfg.get("seccomp", True):
        report.update(seccomp.install())
    return report


def confine_kernel(cfg: dict) -> dict:
    """The nested domain: the same allow-list without the broker's extra paths."""
    if cfg.get("landlock"):
        ll = landlock.restrict(read=cfg["read_paths"], write=cfg["write_paths"],
                               listed=cfg.get("listed_paths", []))
        return {"nested_landlock": ll.get("landlock", 0)}
    return {}
