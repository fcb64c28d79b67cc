"""Running nbgrader's own commands on a course directory."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
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


# nbgrader's commands run in processes forked from one that has nbgrader imported already:
# importing it (and nbformat's schema checkers) takes seconds, the command itself often less
_SERVER_LOCK = threading.Lock()
_SERVER: list = []     # [the forkserver context] once started; [None] if it cannot be used
_PRELOAD = ["nbgrader.apps.nbgraderapp"]


def _server():
    """The forkserver context nbgrader's commands fork from (None: run them as processes).
    The server starts with nbgrader's environment (one BLAS thread, hash seed 0), as each
    ``python -m nbgrader`` did."""
    with _SERVER_LOCK:
        if not _SERVER:
            ctx = None
            if "forkserver" in multiprocessing.get_all_start_methods() and \
                    not os.environ.get("COURSE_NBGRADER_PROCESSES"):
                saved = dict(os.environ)
                try:
                    ctx = multiprocessing.get_context("forkserver")
                    ctx.set_forkserver_preload(_PRELOAD)
                    os.environ.update(nbgrader_env())
                    from multiprocessing import forkserver
                    forkserver.ensure_running()
                except (OSError, ValueError, RuntimeError):
                    ctx = None
                finally:
                    os.environ.clear()
                    os.environ.update(saved)
            _SERVER.append(ctx)
        return _SERVER[0]


def _nbgrader_main(course_dir: str, argv: list, env: dict, out: str, err: str) -> None:
    """``python -m nbgrader ARGV`` in a fork of the server: its folder, environment and
    output files."""
    os.chdir(course_dir)
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, out), (2, err)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)
    sys.argv = ["nbgrader", *argv]
    from nbgrader.apps.nbgraderapp import main

    main()


def _run(cmd: list, course_dir: Path, env: dict) -> subprocess.CompletedProcess:
    ctx = _server()
    if ctx is None:
        return subprocess.run(cmd, cwd=course_dir, env=env, capture_output=True, text=True)
    with tempfile.TemporaryDirectory(prefix="course-nbgrader-") as tmp:
        out, err = os.path.join(tmp, "out"), os.path.join(tmp, "err")
        child = ctx.Process(target=_nbgrader_main, args=(str(course_dir), cmd[3:], env, out, err))
        child.start()
        child.join()
        texts = [Path(p).read_text(encoding="utf-8", errors="replace") if os.path.exists(p)
                 else "" for p in (out, err)]
    return subprocess.CompletedProcess(cmd, child.exitcode, *texts)


def run_nbgrader(course_dir, *args, log: Path | None = None, check=True, env=None):
    """Run ``python -m nbgrader ARGS`` in ``course_dir``; returns the CompletedProcess."""
    course_dir = Path(course_dir).resolve()  # nbgrader re-roots relative paths
    cmd = [sys.executable, "-m", "nbgrader", *args,
           f"--CourseDirectory.root={course_dir}"]
    proc = _run(cmd, course_dir, nbgrader_env(env))
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"$ nbgrader {' '.join(args)}\n{proc.stdout}{proc.stderr}\n")
    if check and proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
        raise NbgraderError(f"nbgrader {' '.join(args)} failed (exit {proc.returncode}):\n{tail}")
    return proc
