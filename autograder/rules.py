"""The rules a task adds to its cases, checked on what actually ran.

* No loops (``Task.vectorized``): every function of the student's that ran
  during the graded calls (reported by ``sandbox.trace``), not only the one
  named by the task, must be free of Python loops; a graded name rebound in
  a later cell, or a loop moved into a helper, is caught.
* No delegation (``Task.own``): the task scores 0 when the graded name is
  one of the course's reference answers, when the student's answer cell
  imports one, or when a reference answer's code ran during the graded
  calls (or the trace of those calls cannot be believed).  Other course
  functions stay allowed (adapters that swap the library's layers into a
  student's model are not the task's answer).

Both are decided from facts (an import statement, a code object that ran),
never guessed, and both work the same for the sandbox's reports and for
the in-process runs of ``autograder.judging``.
"""

from __future__ import annotations

import ast
import functools
import types

from assignments.static import loop_findings, no_loops_message, python_source

from .sandbox.kernel import BLOCKS_NAME


# why a trace cannot be believed: a tracer, profiler or audit hook of the student's, or code
# reaching the grader's objects, while or before the graded call ran (see sandbox.events)
TRACE_BROKEN = "the grader's trace of the call was switched off or tampered with"


def delegation_message(target: str, path: str) -> str:
    module, _, name = path.partition(":")
    return f"{target} uses the course's reference `{module}.{name}`; write your own"


def imported_references(source: str, own) -> str | None:
    """The first of ``own`` that ``source`` imports (by name, star or module attribute)."""
    try:
        tree = ast.parse(python_source(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    wanted = {}
    for path in own:
        module, _, name = path.partition(":")
        wanted.setdefault(module, set()).add(name.split(".")[0])
    aliases = {}   # local name -> module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if node.module in wanted and (a.name == "*" or a.name in wanted[node.module]):
                    return f"{node.module}:{a.name if a.name != '*' else sorted(wanted[node.module])[0]}"
                if full in wanted:
                    aliases[a.asname or a.name] = full
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name in wanted:
                    aliases[a.asname or a.name] = a.name
                    if a.asname is None:
                        aliases[a.name] = a.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain, base = [node.attr], node.value
            while isinstance(base, ast.Attribute):
                chain.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name):
                dotted = ".".join([base.id] + chain[::-1])
                for local, module in aliases.items():
                    if dotted.startswith(local + "."):
                        attr = dotted[len(local) + 1:].split(".")[0]
                        if attr in wanted.get(module, ()):
                            return f"{module}:{attr}"
                for module, names in wanted.items():
                    if dotted.startswith(module + "."):
                        attr = dotted[len(module) + 1:].split(".")[0]
                        if attr in names:
                            return f"{module}:{attr}"
    return None


def ran_reference(course_ran, own) -> str | None:
    """The first of ``own`` whose code ran (a function, or any method of a class)."""
    for path in own:
        for ran in course_ran:
            if ran == path or ran.startswith(path + "."):
                return path
    return None


def _node_at(tree, line: int):
    best = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            if first == line or node.lineno == line:
                best = node
    return best


@functools.lru_cache(maxsize=8)
def _code_entries(text: str) -> frozenset:
    """(first line, qualified name) of every code object of the building blocks' text as the
    grader compiles it (its own copy): the only code that may run under their name."""
    try:
        todo = [compile(text, BLOCKS_NAME, "exec")]
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()
    entries = set()
    while todo:
        code = todo.pop()
        entries.add((code.co_firstlineno, getattr(code, "co_qualname", code.co_name)))
        todo += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return frozenset(entries)


def loops_in_ran_code(ran_student, source_of) -> list[str]:
    """Loop findings in every student function that ran.

    ``ran_student``: [[filename, first line, name], ...]; ``source_of(filename)``
    returns the code of that cell or file as the grader knows it (None if unknown).
    """
    findings = []
    for filename, line, name in ran_student:
        text = source_of(filename)
        if text is None or (filename == BLOCKS_NAME and (line, name) not in _code_entries(text)):
            # the blocks' name on code that is not theirs: code compiled under a borrowed name
            findings.append(f"code the grader cannot read ({filename}, {name})")
            continue
        try:
            tree = ast.parse(python_source(text))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        node = _node_at(tree, line)
        if node is None:
            continue
        where = f"{name}" if "<" not in name else "a lambda"
        for finding in loop_findings(ast.unparse(node) if not isinstance(node, ast.Lambda)
                                     else f"def _lambda():\n    return {ast.unparse(node.body)}",
                                     node.name if not isinstance(node, ast.Lambda) else "_lambda"):
            if finding.startswith("no definition"):
                continue
            findings.append(f"{finding} (in {where}, which runs when it is called)")
    return sorted(set(findings))


def rule_failure(task, ran: dict | None, answer_source: str | None, source_of) -> tuple | None:
    """(kind, message) of the first rule ``task`` breaks, or None."""
    own = tuple(getattr(task, "own", ()) or ())
    if own:
        path = imported_references(answer_source, own) if answer_source else None
        if path is None and ran is not None:
            path = ran_reference(ran.get("course", []), own)
        if path is not None:
            return "delegated", delegation_message(task.target, path)
        if ran is not None and not ran.get("intact", True):
            return "static", (f"{task.target}: {TRACE_BROKEN}, so whether it uses the course's "
                              "reference cannot be checked")
    if task.vectorized:
        findings = []
        if answer_source is not None:
            findings = loop_findings(answer_source, task.target)
        if ran is not None:
            allowed = set(getattr(task, "loops_allowed_in", ()) or ())
            findings += loops_in_ran_code([r for r in ran.get("student", [])
                                           if r[2] not in allowed], source_of)
            if not ran.get("intact", True):
                findings.append(TRACE_BROKEN)
        if findings:
            return "static", no_loops_message(task.target, sorted(set(findings)))
    return None
