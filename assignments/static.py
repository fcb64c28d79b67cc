"""Static rules on source code: "no Python loops" for vectorized answers.

One home for the rule and its ban list, used by the notebooks' visible
checks (``check_no_loops``) and by the grader (``loop_findings`` on the
submitted source, in the trusted process).
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap

from .cases import CheckFailed

__all__ = ["BANNED_IN_VECTORIZED", "loop_findings", "no_loops_message", "check_no_loops",
           "dotted_name", "python_source"]

# Calls that hide a Python loop (or do the exercise for you) in a "no loops" answer.
BANNED_IN_VECTORIZED = ("np.linalg.norm", "np.vectorize", "np.apply_along_axis",
                        "np.frompyfunc", "scipy")

_LOOP_NAMES = {
    ast.For: "for loop", ast.AsyncFor: "async for loop", ast.While: "while loop",
    ast.ListComp: "list comprehension", ast.SetComp: "set comprehension",
    ast.DictComp: "dict comprehension", ast.GeneratorExp: "generator expression",
}


def dotted_name(node):
    """'np.linalg.norm' for the AST of that attribute chain (None if not a plain chain)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


_ASSIGNED_MAGIC = re.compile(r"^(\s*[A-Za-z_][\w.,\s\[\]()*]*?=\s*)[%!]")
_TIMED = ("%time ", "%timeit ", "%prun ", "%%time", "%%timeit", "%%capture", "%%prun")


def python_source(source: str) -> str:
    """Notebook cell source as plain Python for static analysis, in linear time.

    IPython's syntax becomes Python with the same line numbers: a timed
    statement (``%time f()``) keeps the statement, any other line magic or
    shell escape (``%cd x``, ``!ls``, ``x = !ls``, ``y = %who_ls``, ``f?``)
    becomes ``pass`` (or ``None`` on the right of ``=``); a cell magic keeps
    its body when it runs Python (``%%time``, ``%%capture``) and is
    otherwise not Python at all.  (IPython's own transformer re-reads the
    whole cell for every magic, which costs minutes on a cell of many
    thousand magics; this never reads a line twice.)
    """
    lines = source.split("\n")
    first = next((l.strip() for l in lines if l.strip()), "")
    if first.startswith("%%"):
        if not first.startswith(_TIMED):
            return "pass"
        done = False
        out = []
        for line in lines:
            if not done and line.strip():
                out.append("")
                done = True
            else:
                out.append(line)
        lines = out
    out = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[:len(line) - len(stripped)]
        if stripped.startswith(("%", "!")):
            timed = next((t for t in _TIMED if stripped.startswith(t) and not t.startswith("%%")),
                         None)
            out.append(indent + (stripped[len(timed):].strip() if timed else "pass"))
        elif stripped.endswith("?") and not stripped.startswith("#"):
            out.append(indent + "pass")
        else:
            m = _ASSIGNED_MAGIC.match(line)
            out.append(m.group(1) + "None" if m else line)
    return "\n".join(out)


def _banned(dotted: str, banned) -> bool:
    parts = dotted.split(".")
    for b in banned:
        tail = b.split(".")[-2:] if "." in b else [b]
        if parts[-len(tail):] == tail or (len(tail) == 1 and parts[0] == tail[0]):
            return True
    return False


def loop_findings(source: str, function_name: str, banned=BANNED_IN_VECTORIZED) -> list[str]:
    """Python-level loops and banned calls inside one function of ``source``.

    Returns human-readable findings, empty when the function is loop-free.
    Never raises: a source that cannot be parsed is itself a finding.
    """
    tree, error = None, None
    for text in (source, python_source(source)):  # magics (%time) only if plain parsing fails
        try:
            tree = ast.parse(textwrap.dedent(text))
            break
        except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
            error = err
    if tree is None:
        return [f"a cell that is not valid Python ({type(error).__name__}); fix it first"]
    target = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function_name:
            target = node
    if target is None:
        return [f"no definition of {function_name} in its cell"]
    findings = []
    for node in ast.walk(target):
        if type(node) in _LOOP_NAMES:
            findings.append(f"a {_LOOP_NAMES[type(node)]} on line {node.lineno}")
        elif isinstance(node, ast.Call):
            dotted = dotted_name(node.func)
            if dotted and _banned(dotted, banned):
                findings.append(f"a call to {dotted} on line {node.lineno}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""]
            for mod in mods:
                if mod.split(".")[0] in {b for b in banned if "." not in b}:
                    findings.append(f"an import of {mod} on line {node.lineno}")
    return findings


def no_loops_message(name: str, findings) -> str:
    """The one message of the rule, for the notebook and for the grader."""
    return f"{name} must be fully vectorized; found " + "; ".join(dict.fromkeys(findings))


def check_no_loops(fn, banned=BANNED_IN_VECTORIZED) -> None:
    """Fail if ``fn``'s source contains a Python loop, a comprehension or a banned call."""
    __tracebackhide__ = True
    name = getattr(fn, "__name__", repr(fn))
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError) as err:
        raise CheckFailed(f"cannot read the source of {name}: {err}") from None
    findings = loop_findings(source, name, banned)
    if findings:
        raise CheckFailed(no_loops_message(name, findings)).with_traceback(None) from None
    print(f"ok: {name} contains no Python loops")
