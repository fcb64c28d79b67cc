"""Control groups for one sandbox: memory, CPU share and process count.

Created as children of the grader's own cgroups (v1 hierarchies or the v2
tree, wherever this process may write), so whatever limits the grader
itself runs under still apply.  Memory counts every page the sandbox holds,
shared memory and its tmpfs included (``RLIMIT_AS`` does not); the CPU
share is the same for every sandbox, so one submission running many
processes cannot starve its neighbour; ``pids.max`` caps processes.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

V1_ROOT = Path("/sys/fs/cgroup")


def _own_paths() -> dict:
    """controller -> this process's cgroup folder, for v1 controllers and v2 ("")."""
    out = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            out[c] = path.lstrip("/")
    return out


def _v2_root() -> Path | None:
    for candidate in (V1_ROOT, V1_ROOT / "unified"):
        if (candidate / "cgroup.controllers").exists():
            return candidate
    return None


def _writable_parent(controller: str, own: dict) -> Path | None:
    if controller in own:
        base = V1_ROOT / controller
        if not base.is_dir():
            base = next((p for p in V1_ROOT.glob(f"*{controller}*")
                         if p.is_dir() and controller in p.name.split(",")), None)
        if base is not None:
            parent = base / own[controller]
            return parent if os.access(parent, os.W_OK) else None
    root = _v2_root()
    if root is not None and "" in own:
        parent = root / own[""]
        try:
            enabled = (parent / "cgroup.subtree_control").read_text().split()
        except OSError:
            return None
        key = {"memory": "memory", "cpu": "cpu", "pids": "pids"}[controller]
        if key in enabled and os.access(parent, os.W_OK):
            return parent
    return None


def available() -> dict:
    """controller -> parent folder where a sandbox group can be made (only those usable)."""
    own = _own_paths()
    out = {}
    for controller in ("memory", "cpu", "pids"):
        parent = _writable_parent(controller, own)
        if parent is None:
            continue
        probe = parent / f"course-grader-probe-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        try:
            probe.mkdir()
            probe.rmdir()
            out[controller] = str(parent)
        except OSError:
            pass
    return out


class SandboxGroups:
    """The cgroups of one sandbox; ``procs`` are the files a new process joins."""

    def __init__(self, parents: dict, memory_bytes: int, processes: int):
        self.paths: dict = {}
        name = f"course-grader-{uuid.uuid4().hex[:12]}"
        for controller, parent in parents.items():
            path = Path(parent) / name
            try:
                path.mkdir()
            except OSError:
                continue
            self.paths[controller] = path
            self._limit(controller, path, memory_bytes, processes)

    @staticmethod
    def _limit(controller, path: Path, memory_bytes, processes):
        writes = {
            "memory": [("memory.limit_in_bytes", memory_bytes), ("memory.memsw.limit_in_bytes",
                                                                 memory_bytes),
                       ("memory.max", memory_bytes), ("memory.swap.max", 0)],
            "cpu": [("cpu.shares", 1024), ("cpu.weight", 100)],
            "pids": [("pids.max", processes)],
        }[controller]
        for filename, value in writes:
            f = path / filename
            if f.exists():
                try:
                    f.write_text(str(value))
                except OSError:
                    pass

    @property
    def procs(self) -> list[str]:
        return [str(p / "cgroup.procs") for p in self.paths.values()]

    def out_of_memory(self) -> bool:
        path = self.paths.get("memory")
        if path is None:
            return False
        for filename, key in (("memory.events", "oom_kill"), ("memory.oom_control", "oom_kill")):
            try:
                for line in (path / filename).read_text().splitlines():
                    k, _, v = line.partition(" ")
                    if k == key and int(v) > 0:
                        return True
            except (OSError, ValueError):
                continue
        try:
            return int((path / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError):
            return False

    def kill_all(self):
        """Kill every process in the groups and remove them."""
        for path in self.paths.values():
            kill = path / "cgroup.kill"
            if kill.exists():
                try:
                    kill.write_text("1")
                except OSError:
                    pass
        for path in list(self.paths.values()):
            for _ in range(100):
                try:
                    pids = (path / "cgroup.procs").read_text().split()
                except OSError:
                    pids = []
                for pid in pids:
                    try:
                        os.kill(int(pid), 9)
                    except (ProcessLookupError, PermissionError, ValueError):
                        pass
                try:
                    path.rmdir()
                    break
                except OSError:
                    time.sleep(0.02)
        self.paths = {}
