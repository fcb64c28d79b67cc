"""Flags: what the grader noticed for a human to look at, as typed facts.

A ``Flag`` is a kind from the one vocabulary below and a detail for the
instructor (never parsed again).  Flags never change a score; they go into
the grade table (kinds only), the instructor's log (kind and detail) and
nbgrader's gradebook ("flagged" notebooks in the formgrader).
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = {
    # the submission's code, read in the trusted process (autograder.scan)
    "patches-library": "assigns to numpy, builtins, the course's package or the test helpers",
    "ipython-hooks": "installs IPython transformers or hooks, or tracing and audit hooks",
    "inspects-grader": "walks the interpreter's objects (gc), where the grader's state lives",
    "dynamic-code": "runs code built at run time (exec, eval, compile)",
    "exits-process": "exits or signals processes",
    "detects-grader": "looks for the grader (NBGRADER_*, COURSE_*, autograde, gradebook)",
    "grader-files": "names the course's folders or the grader",
    "network": "uses the network or a socket",
    "subprocess": "starts processes, or left processes running",
    "ctypes": "calls C code directly (ctypes, cffi)",
    "outside-files": "touches files outside its own folder",
    # what happened when it ran (the sandbox's audit events and the broker)
    "audit-tampered": "the audit channel was closed or disturbed",
    "forged-message": "something wrote into the grader's channel",
    "forged-result": "the sandbox reported an outcome the judge does not know",
    "disk-limit": "filled its disk",
    "memory-error": "ran out of memory",
    "timeout": "a cell or a check did not finish in time",
    "crashed": "the notebook's process died",
    "output-truncated": "printed more than the output cap",
    "delegated": "a graded task used the course's own answer",
    # the submission's files and cells (autograder.intake)
    "odd-files": "the folder held links, pipes or files over the limits (not copied)",
    "symlink": "a notebook or folder was a symbolic link",
    "unreadable-notebook": "the notebook file could not be read",
    "extra-notebook": "other notebooks were handed in too (not graded)",
    "wrong-name": "the notebook had another name",
    "ambiguous": "several notebooks could be the one to grade",
    "converted-nbformat-3": "an old notebook format, converted",
    "malformed-cell": "a cell without source",
    "malformed-metadata": "unusable nbgrader metadata",
    "duplicate-cell": "a graded cell appears twice",
    "reordered-cells": "graded cells were moved",
    "deleted-answer-cell": "an answer cell was deleted",
    "retyped-answer-cell": "an answer cell's type was changed",
    "deleted-test-cell": "a test cell was deleted (it scores 0)",
    "retyped-test-cell": "a test cell's type was changed (restored)",
    "edited-test-cell": "a test cell was edited (restored)",
    "bad-timestamp": "timestamp.txt could not be read as a time",
    "analysis-limit": "reading the notebook took more than the grader's limits",
    # the run
    "refused": "the submission was not graded (see the message)",
    "grader-error": "the grader itself failed on this submission",
}


@dataclass(frozen=True)
class Flag:
    kind: str
    detail: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown flag kind {self.kind!r}")
        object.__setattr__(self, "detail", str(self.detail)[:500])

    def plain(self) -> dict:
        return {"kind": self.kind, "detail": self.detail}

    @classmethod
    def from_plain(cls, d: dict) -> "Flag":
        return cls(d["kind"], d.get("detail", ""))


def kinds(flags) -> list[str]:
    """The flags' kinds, each once, in order of first appearance."""
    seen = []
    for f in flags:
        if f.kind not in seen:
            seen.append(f.kind)
    return seen
