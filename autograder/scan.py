"""Flag suspicious code for a human to look at.  Flags never change a score.

The scan reads the submitted source of every code cell (in the trusted
process), so nothing the submission does at run time can hide it: patching
numpy, builtins or the test helpers; IPython hooks; leaving the process;
touching files outside the submission; the network; subprocesses; ctypes;
looking for the grader.
"""

from __future__ import annotations

import ast
import re

from assignments.static import dotted_name, python_source

from .flags import Flag
from .sandbox.events import flag_of

MODULE_ROOTS = {"np", "numpy", "math", "builtins", "__builtins__", "assignments", "sys", "os",
                "IPython", "unittest", "pytest", "checks", "gradcheck", "json", "io"}

_TEXT_RULES = [
    ("ipython-hooks", re.compile(r"input_transformers|ast_transformers|events\s*\.\s*register|"
                                 r"register_magic|set_custom_exc|set_hook|sys\.displayhook|"
                                 r"sys\.excepthook|addaudithook|settrace|setprofile|"
                                 r"getprofile|gettrace")),
    ("inspects-grader", re.compile(r"gc\s*\.\s*get_(objects|referrers|referents)")),
    ("dynamic-code", re.compile(r"(?<![\w.])(exec|eval|compile)\s*\(")),
    ("exits-process", re.compile(r"os\s*\.\s*_exit|sys\s*\.\s*exit|os\s*\.\s*abort|"
                                 r"\bquit\s*\(|\bexit\s*\(|os\s*\.\s*kill|signal\s*\.")),
    # the course's variables are upper case (COURSE_DIR): "from course_blocks import" is not one
    ("detects-grader", re.compile(r"NBGRADER|(?-i:COURSE_[A-Z])|autograde|gradebook", re.I)),
    ("grader-files", re.compile(r"source/|release/|submitted/|autograded/|autograder|nbgrader",
                                re.I)),
    ("network", re.compile(r"\bsocket\b|urllib|http\.client|requests\.|\bftplib|smtplib")),
    ("subprocess", re.compile(r"subprocess|os\s*\.\s*(system|popen|fork|spawn|exec)|\bpty\b")),
    ("ctypes", re.compile(r"\bctypes\b|\bcffi\b")),
]


MAX_SCAN = 200_000  # characters of one cell the scanner reads


def _root_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node):
    return dotted_name(node) or ""


def _module_aliases(tree) -> set:
    """Local names bound to a watched module or one of its parts (``import numpy.linalg as
    la``, ``from assignments import cases as c``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.asname for a in node.names
                      if a.asname and a.name.split(".")[0] in MODULE_ROOTS | {"assignments"}}
        elif isinstance(node, ast.ImportFrom) and node.module and \
                node.module.split(".")[0] in MODULE_ROOTS:
            names |= {a.asname or a.name for a in node.names if a.name != "*"}
    return names


def _ast_findings(tree, label):
    found = []
    roots = MODULE_ROOTS | _module_aliases(tree)
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for t in targets:
            if isinstance(t, (ast.Attribute, ast.Subscript)) and _root_name(t) in roots:
                found.append(("patches-library", f"{label} line {node.lineno}: assigns to "
                              f"{_dotted(t) or _root_name(t) + '[...]'}"))
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in ("setattr", "delattr") and node.args and \
                    _root_name(node.args[0]) in roots:
                found.append(("patches-library", f"{label} line {node.lineno}: {name} on "
                              f"{_dotted(node.args[0])}"))
            if name in ("open", "io.open", "os.open", "Path", "pathlib.Path", "np.load",
                        "numpy.load", "os.listdir", "os.scandir", "glob.glob") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and (
                        arg.value.startswith(("/", "~")) or ".." in arg.value):
                    found.append(("outside-files", f"{label} line {node.lineno}: "
                                  f"{name}({arg.value!r})"))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for m in mods:
                if m.split(".")[0] in ("builtins",):
                    found.append(("patches-library", f"{label} line {node.lineno}: imports {m}"))
    return found


def _parse(text: str):
    for candidate in (text, python_source(text)):   # magics only if plain Python fails
        try:
            return ast.parse(candidate)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return None


def scan_cell(source: str, label: str) -> list[Flag]:
    """The flags one cell's source raises.

    Bounded: only the first ``MAX_SCAN`` characters are read, and every step
    is linear in them (``python_source`` never re-reads a line).
    """
    text = source[:MAX_SCAN]
    found = []
    tree = _parse(text)
    if tree is not None:
        found += _ast_findings(tree, label)
    for flag, pattern in _TEXT_RULES:
        for lineno, line in enumerate(text.splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            m = pattern.search(line)
            if m:
                found.append((flag, f"{label} line {lineno}: {line.strip()[:80]}"))
                break
    return [Flag(kind, detail) for kind, detail in found]


def event_flags(events: list, label: str) -> list[Flag]:
    """Flags from the audit events the sandbox reported for one step (one home: sandbox.events)."""
    out = []
    for event, detail in events:
        kind = flag_of(event)
        if kind:
            out.append(Flag(kind, f"{label} at run time: {event} {detail[:100]}"))
    return out
