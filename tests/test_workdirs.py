"""Job folders: a run killed with SIGKILL leaves its folder, the next run removes it; a live
run's folder, a folder without a lock and this process's own folder are left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder import workdirs

HOLD = ("import sys; from autograder import workdirs; print(workdirs.job_folder(), flush=True); "
        "sys.stdin.read()")


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """This test's own temporary directory: other runs' folders on the machine stay out."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _holder(tmp):
    proc = subprocess.Popen([sys.executable, "-c", HOLD], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(tmp)})
    return proc, proc.stdout.readline().strip()


def test_a_dead_run_s_folder_is_removed_and_nothing_else(private_tmp):
    dead, dead_folder = _holder(private_tmp)
    live, live_folder = _holder(private_tmp)
    try:
        os.kill(dead.pid, signal.SIGKILL)
        dead.wait()
        unlocked = private_tmp / f"{workdirs.PREFIX}older-version"
        unlocked.mkdir()
        (private_tmp / "unrelated").mkdir()
        mine = workdirs.job_folder()
        assert not os.path.exists(dead_folder)
        assert os.path.isdir(live_folder) and unlocked.is_dir() and mine.is_dir()
        assert (private_tmp / "unrelated").is_dir()
        assert workdirs.remove_stale() == []   # this process's own folder stays
    finally:
        live.stdin.close()
        live.wait()
    assert workdirs.remove_stale() == [Path(live_folder)]  # its run has ended


def test_a_folder_removed_by_its_job_lets_its_lock_go(private_tmp):
    import shutil

    first = workdirs.job_folder()
    shutil.rmtree(first)
    workdirs.job_folder()
    assert first not in workdirs._held
