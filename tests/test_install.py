"""The course as a real package: a wheel installed into a fresh virtual environment.

The wheel is built from this checkout and installed (not editable) into a
new venv; its dependencies come from the environment running the tests (a
``.pth`` line, so the test stays offline and fast).  From a copy of the
course directory it then runs the demo on one assignment and a solution
notebook (which loads the bundled dataset from the installed package), and
a sandbox started from the installed package must not read the installed
hidden-case generators.  When the suite runs as root, the hostile corpus
is also graded as an unprivileged user created for the purpose, with that
venv's Python (an interpreter under /root would be out of its reach).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow
CI_USER = "course-grader-ci"


def _python_for_everyone() -> str:
    """An interpreter of this minor version that an unprivileged user can run."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3", sys.executable):
        try:
            out = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                                 capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if out.stdout.strip() == str(sys.version_info[:2]):
            return candidate
    return sys.executable


@pytest.fixture(scope="module")
def installed():
    # not under pytest's own temporary folder: it is private (0700) to the user running tests
    base = Path(tempfile.mkdtemp(prefix="course-install-test-"))
    os.chmod(base, 0o755)
    try:
        yield _install(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _install(base: Path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                            str(base / "dist"), str(ROOT)], capture_output=True, text=True)
    if built.returncode != 0:
        pytest.skip(f"cannot build the wheel here: {built.stderr[-500:]}")
    venv = base / "venv"
    subprocess.run([_python_for_everyone(), "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    wheel = next((base / "dist").glob("*.whl"))
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True).stdout.strip()
    # dependencies: the test environment's packages, after the installed wheel (with the
    # one console script nbgrader runs, and the Jupyter data files nbconvert reads)
    Path(site, "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # pip counts those as installed and fetches only what this interpreter needs besides
    # (the wheel's markers may ask for other versions under another patch release)
    resolved = subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)],
                              capture_output=True, text=True)
    if resolved.returncode != 0:  # no package index: the wheel alone
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                        str(wheel)], check=True)
    alembic = venv / "bin" / "alembic"
    alembic.write_text(f"#!{py}\nimport sys\nfrom alembic.config import main\nsys.exit(main())\n")
    alembic.chmod(0o755)
    share = Path(sys.prefix) / "share" / "jupyter"
    if share.is_dir():
        shutil.copytree(share, venv / "share" / "jupyter", dirs_exist_ok=True)
    course = base / "course"
    course.mkdir()
    for name in ("nbgrader_config.py", "source", "release"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, course / name)
    return py, course, base


def _course(py, course, *args, env=None, user=None):
    cmd = [str(py), "-m", "autograder.cli", *args]
    if user:
        cmd = ["runuser", "-u", user, "--"] + cmd
    return subprocess.run(cmd, cwd=course, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=1800)


def test_installed_package_is_not_the_checkout(installed):
    py, course, _ = installed
    out = subprocess.run([str(py), "-c", "import autograder, assignments.data.registry as r; "
                          "print(autograder.__file__); print(r.BUNDLED_DIR)"],
                         capture_output=True, text=True, cwd=course).stdout
    assert str(ROOT) not in out and "site-packages" in out


def test_demo_and_a_notebook_run_from_a_course_copy(installed):
    py, course, base = installed
    demo = _course(py, course, "demo", "01_knn", "--workdir", str(base / "demo"))
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert "as expected" in demo.stdout
    solution = _course(py, course, "solutions", "01_knn", "--out", str(base / "solutions"))
    assert solution.returncode == 0, solution.stderr[-2000:]
    assert (base / "solutions" / "01_knn" / "knn.html").exists()
    assert "release" not in _course(py, base, "release").stdout  # not a course directory


def test_sandbox_cannot_read_the_installed_generators(installed):
    py, course, base = installed
    script = f"""
import autograder.tasks, pathlib
from autograder.replay import Step, run_steps
target = pathlib.Path(autograder.tasks.__file__).parent / "knn.py"
assert target.exists()
steps = [Step("cell", "snoop", f"print(open({{str(target)!r}}).read()[:40])")]
out = run_steps(steps, pathlib.Path({str(base / 'job')!r})).outcomes[0]
print(out.status, out.error)
"""
    result = subprocess.run([str(py), "-c", script], capture_output=True, text=True, cwd=course)
    assert "PermissionError" in result.stdout, result.stdout + result.stderr[-2000:]


def test_every_cell_of_a_reference_runs_in_the_sandbox_of_a_wheel_install(installed):
    """`%matplotlib inline` and the data loading work as in an editable install."""
    py, course, base = installed
    script = f"""
import pathlib
from autograder.notebooks import read, reference_submission
from autograder.replay import Step, run_steps
course = pathlib.Path({str(course)!r})
src = read(course / "source" / "02_linear_classifiers" / "linear_classifiers.ipynb")
rel = read(course / "release" / "02_linear_classifiers" / "linear_classifiers.ipynb")
nb = reference_submission(src, rel)
steps = [Step("cell", f"c{{i}}", c.source) for i, c in enumerate(nb.cells)
         if c.cell_type == "code" and "BEGIN HIDDEN" not in c.source]
run = run_steps(steps, pathlib.Path({str(base / 'job-nb2')!r}))
bad = [(s.label, o.status, o.error) for s, o in zip(steps, run.outcomes) if o.status != "ok"]
print(len(steps), "cells;", len(bad), "not ok:", bad[:5])
"""
    result = subprocess.run([str(py), "-c", script], capture_output=True, text=True, cwd=course,
                            timeout=1800)
    assert " 0 not ok" in result.stdout, result.stdout[-3000:] + result.stderr[-2000:]


def _ensure_user() -> str | None:
    try:
        pwd.getpwnam(CI_USER)
        return CI_USER
    except KeyError:
        pass
    made = subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                           "/usr/sbin/nologin", CI_USER], capture_output=True, text=True)
    return CI_USER if made.returncode == 0 else None


@pytest.mark.skipif(os.geteuid() != 0, reason="creates an unprivileged user: needs root")
def test_hostile_corpus_as_an_unprivileged_user(installed):
    """The non-root path: the whole sandboxed corpus, same grades, nothing left running."""
    py, course, base = installed
    user = _ensure_user()
    if user is None or not shutil.which("runuser"):
        pytest.skip("cannot create an unprivileged user here")
    root = base / "nonroot"   # a course copy with its tests, apart from the venv
    root.mkdir()
    tests = root / "tests"
    shutil.copytree(ROOT / "tests", tests, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("nbgrader_config.py", "source", "release"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    work = base / "nonroot-tmp"
    work.mkdir()
    subprocess.run(["chown", "-R", user, str(work), str(tests)], check=True)
    result = subprocess.run(
        ["runuser", "-u", user, "--", str(py), "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--basetemp", str(work / "pytest"), str(tests / "test_hostile.py"),
         "-k", "gets_its_grade or no_process_outlives or honest_rows or host_ipc"],
        cwd=root, capture_output=True, text=True, timeout=3000,
        env={**os.environ, "HOME": str(work), "TMPDIR": str(work), "COURSE_DIR": str(root),
             "CORPUS_ASSIGNMENTS": "00_fixture,01_knn"})
    tail = result.stdout[-3000:] + result.stderr[-2000:]
    assert result.returncode == 0, tail
    assert " passed" in result.stdout and "failed" not in result.stdout.splitlines()[-1], tail


@pytest.mark.skipif(os.geteuid() != 0, reason="creates an unprivileged user: needs root")
def test_dask_workers_need_no_access_to_the_course_directory(installed):
    """A Dask worker of another user, in another folder, with the course directory out of its
    reach (mode 0700): the jobs carry what they need and bring back what they make."""
    import json
    import time

    py, course, base = installed
    user = _ensure_user()
    if user is None or not shutil.which("runuser"):
        pytest.skip("cannot create an unprivileged user here")
    private = base / "private-course"
    shutil.copytree(course, private / "course")
    os.chmod(private, 0o700)   # the worker's user cannot even look inside
    course = private / "course"
    demo = _course(py, course, "demo", "01_knn", "--workdir", str(base / "demo-dask"))
    assert demo.returncode == 0, demo.stdout[-2000:]
    subs = base / "dask-subs"
    shutil.copytree(base / "demo-dask" / "demo_submissions", subs)
    shutil.rmtree(subs / "buggy")
    work = base / "dask-worker"
    work.mkdir()
    subprocess.run(["chown", user, str(work)], check=True)
    sched_file = base / "scheduler.json"
    bindir = Path(sys.executable).parent
    procs = [subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--no-dashboard", "--scheduler-file",
                               str(sched_file)], cwd=base, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        for _ in range(600):
            if sched_file.exists() and sched_file.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        worker_env = {"HOME": str(work), "TMPDIR": str(work), "PATH": os.environ["PATH"]}
        procs.append(subprocess.Popen(
            ["runuser", "-u", user, "--", str(py), "-m", "distributed.cli.dask_worker", address,
             "--nworkers", "1", "--nthreads", "1", "--no-dashboard"], cwd=work, env=worker_env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        graded = _course(py, course, "grade", str(subs), "--executor", "dask",
                         env={"COURSE_DASK_SCHEDULER": address})
        out = graded.stdout + graded.stderr
        assert graded.returncode == 0, out[-3000:]
        assert f"on the Dask cluster at {address} (1 worker(s))" in out
        import csv

        with open(course / "course_grades.csv", newline="") as f:
            table = list(csv.DictReader(f))
        assert not [r for r in table if r["status"] == "grader-error"], table
        points = {}
        for r in table:
            if r["kind"] == "auto":
                points[r["student"]] = points.get(r["student"], 0) + float(r["points"])
        assert points == {"reference": 15, "blank": 0}
        assert (course / "feedback" / "reference" / "01_knn" / "knn.html").exists()
        assert (course / "autograded" / "reference" / "01_knn" / "knn.ipynb").exists()
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, 9)
            except ProcessLookupError:
                pass
            p.wait(timeout=30)
