"""What this platform can enforce, and what the sandbox may read.

``capabilities()`` probes once per process: user/PID/network/mount
namespaces (``unshare``), Landlock's ABI, the seccomp filter, cgroups, and
whether the sandbox can run as an unprivileged user of its own when the
grader is root.  ``describe_isolation`` is the line ``course grade`` prints,
naming what is NOT enforced.  ``read_paths`` is the sandbox's read
allow-list: the Python installation minus the instructor's package
(``autograder``, with the hidden-case generators) and minus the course
directory, plus the public ``assignments`` package and the datasets.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import cgroups
from .sandbox import landlock, seccomp

SANDBOX_UID = 2_000_000_000   # an id no account uses: the sandbox's user when we are root
# user, PID, network, mount, IPC (System V objects and POSIX message queues die with it),
# UTS (hostname) and cgroup (the sandbox sees its own cgroup as the root)
NAMESPACE_FLAGS = ["--user", "--map-root-user", "--pid", "--net", "--mount", "--ipc", "--uts",
                   "--cgroup", "--fork", "--kill-child", "--mount-proc"]


def _runs(cmd) -> bool:
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=30,
                       stdin=subprocess.DEVNULL, cwd="/")
        return True
    except (subprocess.SubprocessError, OSError):
        return False


def drop_user_prefix() -> list[str]:
    return ["setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}", "--clear-groups",
            "--"]


@functools.lru_cache(maxsize=1)
def capabilities() -> dict:
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    caps = {"platform": sys.platform, "root": root, "landlock": landlock.abi_version(),
            "seccomp": bool(seccomp.available()), "namespaces": False, "own_user": False,
            "cgroups": {}}
    python = [sys.executable, "-I", "-c", "import numpy, IPython, assignments"]
    namespaces = ["unshare", *NAMESPACE_FLAGS] if shutil.which("unshare") else None
    own_user = drop_user_prefix() if root and shutil.which("setpriv") else None
    # the best that runs Python here: own user in namespaces, then either alone
    candidates = []
    if own_user and namespaces:
        candidates.append((own_user, namespaces))
    if namespaces:
        candidates.append(([], namespaces))
    if own_user:
        candidates.append((own_user, []))
    for user, ns in candidates:
        if _runs(user + ns + python):
            caps["own_user"], caps["namespaces"] = bool(user), bool(ns)
            break
    if root:
        caps["cgroups"] = cgroups.available()
    return caps


def not_enforced(caps=None) -> list[str]:
    """What this platform leaves open, one phrase each."""
    caps = caps or capabilities()
    cg = caps["cgroups"]
    missing = []
    if not caps["namespaces"]:
        missing += ["network", "stray processes (no PID namespace)", "total disk use",
                    "System V IPC, hostname and cgroup views (no IPC, UTS, cgroup namespace)",
                    "threads and processes started before a graded call (the kernel is not "
                    "stopped during it: no PID namespace)"]
    if not caps["landlock"]:
        missing.append("files (no Landlock)")
    elif caps["landlock"] < 4:
        missing.append("TCP (Landlock ABI < 4)")
    if not caps["seccomp"]:
        missing += ["file metadata (chmod, utime, xattr)", "Unix sockets", "memfd memory",
                    "System V and POSIX IPC calls",
                    "threads, processes and signal handlers in graded calls (no seccomp)"]
    if "memory" not in cg:
        missing.append("memory per sandbox (RLIMIT_AS per process only)")
    if "cpu" not in cg:
        missing.append("CPU share (pinned to one core per worker instead)")
    if caps["root"] and not caps["own_user"]:
        missing.append("own user id (the sandbox is host root with no capabilities)")
    return missing


def describe_isolation(caps=None) -> str:
    caps = caps or capabilities()
    cg = caps["cgroups"]
    user = ("own unprivileged user" if caps["own_user"] else
            "host root, capabilities dropped" if caps["root"] else "the instructor's user")
    parts = [f"namespaces (user, pid, net, mount, ipc, uts, cgroup): "
             f"{'yes' if caps['namespaces'] else 'NO'}",
             f"landlock ABI: {caps['landlock'] or 'NO'}",
             f"seccomp: {'yes' if caps['seccomp'] else 'NO'}",
             f"cgroups: {', '.join(sorted(cg)) or 'none (rlimits)'}",
             f"user: {user}"]
    missing = not_enforced(caps)
    return "; ".join(parts) + (f"; NOT enforced here: {', '.join(missing)}" if missing else "")


def _without(root: Path, holes: list[Path], split: set | None = None) -> list[str]:
    """``root`` as allow-list entries that leave out every path in ``holes``; every folder
    split open on the way is added to ``split`` (it may be listed, not read)."""
    inside = [h for h in holes if h == root or root in h.parents]
    if not inside:
        return [str(root)]
    if root in inside or not root.is_dir() or root.is_symlink():
        return []
    if split is not None:
        split.add(str(root))
    out = []
    for child in sorted(root.iterdir()):
        try:
            target = child.resolve()  # a link (venv/lib64 -> lib) is judged where it leads
        except OSError:
            continue
        if any(target == h or h in target.parents for h in holes):
            continue
        out += _without(target if child.is_symlink() else child, holes, split)
    return out


def sandbox_paths(extra=(), hidden=()) -> tuple[list[str], list[str]]:
    """(what the sandbox may read, folders it may only list).

    ``hidden`` paths are left out even below allowed ones; a folder that
    holds a hidden path is split into its other entries, and may itself be
    listed (a wheel installs the grader in site-packages, and Python's and
    matplotlib's scans of installed packages list site-packages).
    """
    import assignments

    from assignments.data.registry import data_dir

    holes = [Path(__file__).resolve().parent] + [Path(h).resolve() for h in hidden]
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix,
             str(Path(assignments.__file__).resolve().parent), str(data_dir()),
             "/usr", "/lib", "/lib64", "/bin", "/etc/ld.so.cache", "/etc/localtime", "/etc/fonts",
             "/dev/null", "/dev/urandom", "/dev/zero", "/sys/devices/system/cpu"}
    roots.update(p for p in sys.path  # installed packages found through .pth files too
                 if p and os.path.basename(p) in ("site-packages", "dist-packages"))
    roots.update(str(p) for p in extra)
    out, split = set(), set()
    for r in roots:
        if r and os.path.exists(r):
            out.update(_without(Path(os.path.realpath(r)), holes, split))
    return sorted(out), sorted(split)


def read_paths(extra=(), hidden=()) -> list[str]:
    """What the sandbox may read (see ``sandbox_paths``)."""
    return sandbox_paths(extra, hidden)[0]
