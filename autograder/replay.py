"""Run a notebook's steps in a sandbox, surviving whatever they do.

Steps are cells to execute, snapshots (a graded cell's position) and probes
(graded calls).  Each step has a wall-clock limit.  When a step hangs,
kills the kernel (``os._exit``, a segfault, the memory limit) or breaks
the protocol, a fresh kernel is started (by the broker, or a whole new
sandbox when the broker itself is lost), the earlier cells and snapshots
are replayed, the bad step is skipped and the run goes on: a crash costs
only the steps it touches.  The sandbox is killed on every way out,
Ctrl-C included.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .spawn import PROBE_FAILURES, Limits, Sandbox, SandboxDied, SandboxTimeout, displays


@dataclass
class Step:
    kind: str                 # "cell" | "snapshot" | "probe"
    label: str                # cell label or task id
    source: str = ""          # cell source (kind == "cell")
    target: str = ""          # name under test (kind == "probe")
    cases: list = field(default_factory=list)  # plain-data case dicts (kind == "probe")
    restore: str | None = None  # probe: run in the namespace of this snapshot
    trace: bool = False       # probe: report which code ran
    blocks: str = ""          # probe: source of the building blocks the check runs on


@dataclass
class Outcome:
    status: str               # ok | error | timeout | crashed | skipped
    error: str | None = None
    output: str = ""
    dropped: int = 0
    events: list = field(default_factory=list)
    results: list | None = None   # probe: per-case attempt dicts
    outputs: list | None = None   # probe: per-case outputs (plain data)
    seconds: float = 0.0
    exception: str = ""           # cell: the type name of the exception it raised
    frames: list = field(default_factory=list)
    ran: dict | None = None       # probe: the code that ran (see sandbox.trace)
    strays: int = 0
    hidden: bool = False          # probe: it ran hidden cases (set when judging)
    cause: str = ""               # crashed: "memory" when the memory limit killed it
    displays: list = field(default_factory=list)  # cell: what it displayed (checked data)


@dataclass
class RunResult:
    outcomes: list
    isolation: dict
    restarts: int
    seconds: float
    raw_output: str
    raw_dropped: int


def _plain_case(case) -> dict:
    return {"args": tuple(case.args), "kwargs": dict(case.kwargs), "call": case.call}


class Run:
    """One notebook's steps in one sandbox (replaced when it dies)."""

    def __init__(self, steps: list[Step], job_dir: Path, limits: Limits, slot=0, hidden=(),
                 files=None):
        self.steps, self.job_dir, self.limits = steps, job_dir, limits
        self.slot, self.hidden, self.files = slot, hidden, files
        self.outcomes: list = [None] * len(steps)
        self.bad: set = set()
        self.restarts = 0
        self.isolation: dict = {}
        self.raw, self.raw_dropped = bytearray(), 0
        self.sandbox: Sandbox | None = None
        self.start = time.perf_counter()

    def budget_left(self) -> float:
        return self.limits.notebook_seconds - (time.perf_counter() - self.start)

    def _request(self, step: Step, timeout: float):
        if step.kind == "cell":
            return self.sandbox.request({"op": "exec", "source": step.source,
                                         "label": step.label}, timeout=timeout)
        if step.kind == "snapshot":
            return self.sandbox.request({"op": "snapshot", "label": step.label}, timeout=timeout)
        return self.sandbox.request({"op": "probe", "target": step.target,
                                     "restore": step.restore, "trace": step.trace,
                                     "blocks": step.blocks},
                                    [_plain_case(c) for c in step.cases], timeout=timeout)

    # -- sandboxes -----------------------------------------------------------
    def _collect(self):
        drain = self.sandbox.drain
        drain.join(timeout=1)
        room = max(self.limits.raw_output_bytes - len(self.raw), 0)
        self.raw.extend(drain.kept[:room])
        self.raw_dropped += drain.dropped + max(0, len(drain.kept) - room)

    def _discard(self):
        if self.sandbox is not None:
            self._collect()
            self.sandbox.kill()
            self.sandbox = None

    def _fresh_kernel(self):
        """A kernel with no state: the broker's restart, else a whole new sandbox."""
        if self.sandbox is not None:
            try:
                head, _ = self.sandbox.request({"op": "restart"},
                                               timeout=self.limits.startup_seconds)
                if head["status"] == "ok":
                    return
            except (SandboxDied, SandboxTimeout):
                pass
            self._discard()
        self.sandbox = Sandbox(self.job_dir, self.limits, self.slot, self.hidden, self.files)
        self.isolation = self.sandbox.isolation

    def restart(self, upto: int):
        """A fresh kernel with the good cells and snapshots before ``upto`` replayed."""
        while True:
            self._fresh_kernel()
            failed = None
            for j in range(upto):
                if j in self.bad or self.steps[j].kind == "probe":
                    continue
                try:
                    head, _ = self._request(self.steps[j], min(self.limits.cell_seconds,
                                                               max(1.0, self.budget_left())))
                except SandboxTimeout:
                    head = {"status": "crashed"}
                except SandboxDied:
                    self._discard()
                    head = {"status": "crashed"}
                if head["status"] != "ok":
                    failed = j
                    break
            if failed is None:
                return
            self.bad.add(failed)
            self.restarts += 1
            if self.restarts > self.limits.max_restarts or self.budget_left() <= 0:
                raise SandboxDied("too many crashes while replaying earlier cells")

    # -- one step --------------------------------------------------------------
    def run_step(self, i: int) -> bool:
        """Run step i; False when the sandbox must be replaced."""
        step = self.steps[i]
        t0 = time.perf_counter()
        timeout = min(self.limits.probe_seconds if step.kind == "probe"
                      else self.limits.cell_seconds, self.budget_left())
        try:
            head, data = self._request(step, timeout)
        except (SandboxDied, SandboxTimeout) as err:
            kind = "timeout" if isinstance(err, SandboxTimeout) else "crashed"
            what = (f"timed out after {time.perf_counter() - t0:.0f} s" if kind == "timeout"
                    else str(err))
            self.outcomes[i] = Outcome(kind, what, seconds=time.perf_counter() - t0,
                                       cause=getattr(err, "cause", ""))
            self._discard()
            return False
        seconds = time.perf_counter() - t0
        common = dict(output=head["output"], dropped=head["dropped"], events=head["events"],
                      seconds=seconds, strays=head["strays"])
        if head["status"] != "ok" and head["probe_failure"]:  # the kernel lives on
            self.outcomes[i] = Outcome("crashed", PROBE_FAILURES[head["probe_failure"]], **common)
            return True
        if head["status"] != "ok":
            self.outcomes[i] = Outcome("crashed", head["reason"], **common)
            return False
        if step.kind == "probe":
            results = head["results"] or []
            data = data if isinstance(data, list) else []
            if len(results) != len(step.cases) or len(data) != len(step.cases):
                self.outcomes[i] = Outcome("crashed", "the answer did not match the request",
                                           **common)
                return False
            self.outcomes[i] = Outcome("ok", None, results=results, outputs=data,
                                       ran=head["ran"], **common)
        else:
            self.outcomes[i] = Outcome("ok" if head["ok"] else "error", head["error"] or None,
                                       exception=head["exception"], frames=head["frames"],
                                       displays=displays(head["displays"], data), **common)
        return True

    def run(self) -> RunResult:
        try:
            self._run()
        finally:
            self._discard()
        return RunResult(self.outcomes, self.isolation, self.restarts,
                         time.perf_counter() - self.start,
                         self.raw.decode("utf-8", "replace"), self.raw_dropped)

    def _skip_rest(self, i: int, why: str):
        for j in range(i, len(self.steps)):
            if self.outcomes[j] is None:
                self.outcomes[j] = Outcome("skipped", why)

    def _run(self):
        try:
            self.restart(0)
        except (SandboxDied, SandboxTimeout) as err:
            self.outcomes = [Outcome("crashed", f"the notebook could not be started: {err}")
                             for _ in self.steps]
            return
        for i in range(len(self.steps)):
            if self.budget_left() <= 0:
                self._skip_rest(i, "not run: the notebook's time budget "
                                   f"({self.limits.notebook_seconds:g} s) was used up")
                return
            if self.run_step(i):
                continue
            self.bad.add(i)
            self.restarts += 1
            if self.restarts > self.limits.max_restarts:
                self._skip_rest(i + 1, "not run: too many crashes or timeouts")
                return
            try:
                self.restart(i + 1)
            except (SandboxDied, SandboxTimeout) as err:
                self._skip_rest(i + 1, f"not run: {err}")
                return


def run_steps(steps: list[Step], job_dir: Path, limits: Limits | None = None, slot: int = 0,
              hidden=(), files: dict | None = None) -> RunResult:
    """Execute ``steps`` in order in a sandbox (with ``files`` next to the notebook); never
    raises for the student's faults."""
    job_dir.mkdir(parents=True, exist_ok=True)
    return Run(steps, job_dir, limits or Limits(), slot, hidden, files).run()
