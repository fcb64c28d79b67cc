"""Running nbgrader's own commands on a course directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .blas import use_one_thread


class NbgraderError(RuntimeError):
    pass


def nbgrader_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    # nbgrader runs the `alembic` executable of its own environment
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONHASHSEED", "0")
    use_one_thread(env)
    env.setdefault("MPLBACKEND", "Agg")
    if extra:
        env.update(extra)
    return env


def run_nbgrader(course_dir, *args, log: Path | None = None, check=True, env=None):
    """Run ``python -m nbgrader ARGS`` in ``course_dir``; returns the CompletedProcess."""
    course_dir = Path(course_dir).resolve()  # nbgrader re-roots relative paths
    cmd = [sys.executable, "-m", "nbgrader", *args,
           f"--CourseDirectory.root={course_dir}"]
    proc = subprocess.run(cmd, cwd=course_dir, env=nbgrader_env(env), capture_output=True,
                          text=True)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"$ nbgrader {' '.join(args)}\n{proc.stdout}{proc.stderr}\n")
    if check and proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
        raise NbgraderError(f"nbgrader {' '.join(args)} failed (exit {proc.returncode}):\n{tail}")
    return proc
