"""Cases: how every check of the course calls a function and judges the result.

A ``Case`` is one call of the function under test (its arguments, as plain
data) and what the result must satisfy: an exact ``expected`` value, or a
``verify`` callable for properties such as an accuracy floor.  Three
functions do all the work, and every place that checks code uses them:

    attempt = attempt_case(case, namespace, target)   # call it, say what happened
    verdict = judge(attempt, case)                    # compare the output
    message = failure_message(target, case, verdict)  # one line for the student

The visible checks of a notebook (``run_cases``), the grader's sandboxed
worker (which only calls ``attempt_case`` and sends the output back as
data), the grader's trusted judge and the mutant runner all go through
these three.  What happened travels as a *kind* (``Attempt.kind``,
``Verdict.kind``), never as text to be searched.

Messages give type, then shape, then values, naming the output
(``dx``, ``grads['W1']``, ``cache x``) and, for values, the worst entry and
the error there.  A hidden case never reveals its inputs or expected values.
"""

from __future__ import annotations

import copy
import importlib
import os
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = [
    "CheckFailed", "NotDefined", "Case", "Ref", "student", "library", "block", "value_of",
    "Attempt", "Verdict", "attempt_case", "judge", "failure_message", "run_cases",
    "compare", "describe_worst", "resolve_refs", "FAILURE_KINDS", "ATTEMPT_KINDS",
    "mutated_argument", "is_student_code", "library_prefixes",
]


class CheckFailed(AssertionError):
    """A check found a wrong answer; the message says what and where.

    ``public`` is the same finding without any value the checked code chose
    (no entries, indices, shapes or types of its output): what a hidden
    case may say.  ``close`` marks values that differ only slightly (every
    relative error below ``CLOSE``), so that a message can name what
    usually causes a near miss.
    """

    def __init__(self, message="", *, public: str | None = None, close: bool = False):
        super().__init__(message)
        self.public = public
        self.close = close


# values that differ by less than this everywhere are a near miss (a formula detail)
CLOSE = 1e-3


class NotDefined(NameError):
    """The name under test is missing from the student's namespace."""

    def __init__(self, name: str):
        super().__init__(f"`{name}` is not defined; run the cell that defines it")
        self.name = name


# --------------------------------------------------------------------------
# references to names, resolved where the case runs
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Ref:
    """A name resolved where the case runs: ``student(...)`` or ``library(...)``.

    Cases hold references instead of function objects so that they can be
    sent to another process as plain data.
    """

    kind: str   # "student": a name in the student's namespace; "library": "module:attr";
                # "block": a building block in effect (``assignments.adapters``)
    name: str

    def resolve(self, namespace=None):
        if self.kind == "student":
            if namespace is None or self.name not in namespace:
                raise NotDefined(self.name)
            return namespace[self.name]
        if self.kind == "block":
            from .blocks import MissingBlock, block

            try:
                return block(self.name)
            except MissingBlock:
                if namespace is None:
                    raise
                # the notebook that defines it (notebook 3's sigmoid): its own
                if self.name not in namespace:
                    raise NotDefined(self.name) from None
                return namespace[self.name]
        if self.kind == "library":
            module, _, attr = self.name.partition(":")
            if module != "assignments" and not module.startswith("assignments."):
                raise ValueError(f"library references must point into assignments/, got "
                                 f"{self.name}")
            return getattr(importlib.import_module(module), attr)
        raise ValueError(f"unknown reference kind {self.kind!r}")


def student(name: str) -> Ref:
    """A name defined by the student's notebook (function, class or variable)."""
    return Ref("student", name)


def library(path: str) -> Ref:
    """A function of this package, ``"assignments.module:function"``."""
    return Ref("library", path)


def block(name: str) -> Ref:
    """One of the building blocks in effect where the case runs (the grader's, in a graded
    call that checks a model; see ``assignments.adapters``); in the notebook that defines
    it, with no blocks in effect, the notebook's own."""
    return Ref("block", name)


def value_of(x):
    """Return ``x`` unchanged: ``call=library("assignments.cases:value_of")`` with
    ``args=(student("best_params"),)`` hands a student's variable to the grader."""
    return x


def block_refs(value) -> set:
    """The names of the building blocks (``block(name)``) inside tuples / lists / dicts."""
    if isinstance(value, Ref):
        return {value.name} if value.kind == "block" else set()
    if isinstance(value, (tuple, list)):
        return set().union(*(block_refs(v) for v in value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(block_refs(v) for v in value.values())) if value else set()
    return set()


def resolve_refs(value, namespace=None):
    """Replace every ``Ref`` inside tuples / lists / dicts by what it names."""
    if isinstance(value, Ref):
        return value.resolve(namespace)
    if isinstance(value, tuple):
        return tuple(resolve_refs(v, namespace) for v in value)
    if isinstance(value, list):
        return [resolve_refs(v, namespace) for v in value]
    if isinstance(value, dict):
        return {k: resolve_refs(v, namespace) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------

@dataclass
class Case:
    """One call of the function under test and what its result must satisfy.

    - label: what the case is, shown in messages ("3 test x 5 train points").
    - args, kwargs: the call's arguments (arrays, numbers, ``Ref`` objects).
    - expected: the exact output, compared by ``compare`` with rtol / atol.
    - verify: alternatively ``verify(output, case)``, which raises
      ``CheckFailed`` (properties such as an accuracy floor).
    - output: the output's name, or for a tuple a tuple of names; an entry may
      itself be ``(name, names)`` for a nested tuple, e.g.
      ``("out", ("cache", ("x", "w", "b")))`` names the entries ``out``,
      ``cache x``, ``cache w``, ``cache b``.
    - hidden: hidden cases never reveal inputs or expected values.
    - call: call this ``Ref`` instead of the function under test (e.g. a
      library adapter that builds the student's class); the student's names
      then appear among the arguments as ``student(...)``.
    """

    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expected: Any = None
    verify: Callable[[Any, "Case"], None] | None = None
    rtol: float = 1e-6
    atol: float = 1e-8
    hidden: bool = False
    output: Any = "output"
    call: Ref | None = None


# --------------------------------------------------------------------------
# 1. attempt: call the function, classify what happened
# --------------------------------------------------------------------------

# kinds of Attempt and Verdict; every kind but "passed" and "returned" is a failure
FAILURE_KINDS = ("not-defined", "not-callable", "raised", "rejected", "mutated-input", "wrong",
                 "delegated")
# the closed set of kinds an attempt may have; "passed" is not among them: only ``judge``,
# comparing a returned value with the expected one, ever says "passed"
ATTEMPT_KINDS = ("returned", "mutated-input", "not-defined", "not-callable", "raised",
                 "rejected")


@dataclass
class Attempt:
    """What happened when a case was called.

    kind: "returned" (``output`` holds the result), "mutated-input" (it
    returned but changed an argument in place; ``detail`` names it),
    "not-defined" / "not-callable" (the name under test), "rejected" (a
    library adapter refused the student's result, ``detail`` says why) or
    "raised" (the student's code raised; ``detail`` is the exception and
    the student's line, ``error`` the exception itself when in-process).
    """

    kind: str
    detail: str = ""
    output: Any = None
    error: BaseException | None = field(default=None, repr=False, compare=False)
    exception: str = ""   # the exception's type name when kind == "raised"
    after: tuple | None = field(default=None, repr=False, compare=False)  # (args, kwargs) after
    frames: list = field(default_factory=list, repr=False, compare=False)  # the student's

    def plain(self) -> dict:
        """The attempt without its output and exception object, as JSON-able data."""
        return {"kind": self.kind, "detail": self.detail, "exception": self.exception}


_SCALARS = (bool, int, float, complex, str, bytes, np.generic)


def _changed(before, after) -> bool:
    """Whether ``after`` differs from ``before`` (arrays, containers and plain scalars;
    anything else, e.g. a function or a ``Ref``, is not compared)."""
    if isinstance(before, np.ndarray):
        return not (isinstance(after, np.ndarray) and before.shape == after.shape
                    and before.dtype == after.dtype
                    and np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"))
    if isinstance(before, (tuple, list)):
        return (not isinstance(after, (tuple, list)) or len(after) != len(before)
                or any(_changed(b, a) for b, a in zip(before, after)))
    if isinstance(before, dict):
        return (not isinstance(after, dict) or set(after) != set(before)
                or any(_changed(before[k], after[k]) for k in before))
    if before is None or isinstance(before, _SCALARS):
        if not (after is None or isinstance(after, _SCALARS)):
            return True
        try:
            same = bool(before == after) or (before != before and after != after)  # nan
        except (TypeError, ValueError):
            same = False
        return not same
    return False


def mutated_argument(before, args, kwargs) -> str | None:
    """Which argument (by position or keyword) differs from ``before`` = (args, kwargs)."""
    args_before, kwargs_before = before
    if len(args) != len(args_before) or set(kwargs) != set(kwargs_before):
        return "arguments"
    for i, (b, a) in enumerate(zip(args_before, args)):
        if _changed(b, a):
            return f"argument {i + 1}"
    for k in kwargs_before:
        if _changed(kwargs_before[k], kwargs.get(k)):
            return f"argument {k!r}"
    return None


def library_prefixes(library=()) -> tuple:
    """Where code that is not the student's lives, as path prefixes ending in a separator
    (each folder as given and as its real path): the Python installation, the installed
    packages, this package and the ``library`` folders."""
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.abspath(__file__))}
    dirs |= {p for p in sys.path if p and os.path.basename(p) in ("site-packages", "dist-packages")}
    dirs |= set(library)
    return tuple(sorted({os.path.join(f(d), "") for d in dirs
                         for f in (os.path.abspath, os.path.realpath)}))


def is_student_code(filename: str, library=()) -> bool:
    """The one rule for "this code is the student's": the code of notebook cells (IPython's,
    ipykernel's, the grader's ``<cell ...>`` and ``<answer ...>``) and any file outside the
    Python installation, the installed packages, this package and the ``library`` folders
    (a module the student wrote to disk is the student's too)."""
    if filename.startswith("<"):
        # "<__array_function__ internals>": numpy < 1.25's dispatch wrappers.  No other
        # name is exempt, not even the one the course's blocks are compiled under: a
        # student can compile code under any name.  The grader reads the blocks' code from
        # its own copy, and only the code objects that copy compiles to pass under that
        # name (``autograder.rules``)
        return filename != "<string>" and \
            not filename.startswith(("<frozen", "<__array_function__"))
    return not os.path.realpath(filename).startswith(library_prefixes(library))


def student_frame(err: BaseException) -> str:
    """' (in fn, line N: code)' for the deepest frame of the student's own code."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if is_student_code(f.filename)]
    if not frames:
        return ""
    last = frames[-1]
    return f" (in {last.name}, line {last.lineno}: {(last.line or '').strip()})"


def attempt_case(case: Case, namespace=None, target: str | None = None, fn=None) -> Attempt:
    """Call the case (its ``call``, else ``fn``, else ``namespace[target]``).

    Arguments are deep-copied first, so a function that edits its inputs in
    place cannot spoil the next case; doing so is reported.  Never raises for
    anything the called code does (``SystemExit`` and ``KeyboardInterrupt``
    included: they are the student's).
    """
    __tracebackhide__ = True
    try:
        if case.call is not None:
            fn = case.call.resolve(namespace)
        elif fn is None:
            if namespace is None or target not in namespace:
                raise NotDefined(str(target))
            fn = namespace[target]
        if not callable(fn):
            return Attempt("not-callable", f"`{target}` is a {type(fn).__name__}, not a function")
        args = resolve_refs(copy.deepcopy(case.args), namespace)
        kwargs = resolve_refs(copy.deepcopy(case.kwargs), namespace)
        before = (copy.deepcopy(args), copy.deepcopy(kwargs))
    except NotDefined as err:
        return Attempt("not-defined", err.name, error=err)
    try:
        output = fn(*args, **kwargs)
    except CheckFailed as err:  # a library adapter refused what the student's code gave it
        return Attempt("rejected", str(err), error=err)
    except NotDefined as err:
        return Attempt("not-defined", err.name, error=err)
    except BaseException as err:  # noqa: BLE001 - the student's code failed, whatever it was
        return Attempt("raised", f"{type(err).__name__}: {err}{student_frame(err)}", error=err,
                       exception=type(err).__name__)
    which = mutated_argument(before, args, kwargs)
    if which is not None:
        return Attempt("mutated-input", which, output, after=(args, kwargs))
    return Attempt("returned", "", output, after=(args, kwargs))


# --------------------------------------------------------------------------
# 2. judge: compare an output with what it should be
# --------------------------------------------------------------------------

@dataclass
class Verdict:
    """kind: "passed" or one of FAILURE_KINDS; detail: the full finding (for visible cases);
    public: the finding without any value the checked code chose (for hidden cases, see
    ``CheckFailed``); close: a near miss."""

    kind: str
    detail: str = ""
    public: str | None = None
    close: bool = False

    @property
    def passed(self) -> bool:
        return self.kind == "passed"


def judge(attempt: Attempt, case: Case) -> Verdict:
    """The verdict on one attempt: passed, or the kind of failure and its detail.

    Fails closed: only an attempt of kind "returned" can pass, and only when
    its output satisfies the case; any kind outside ``ATTEMPT_KINDS`` (what a
    tampered process might report) is "rejected".
    """
    if attempt.kind not in ATTEMPT_KINDS:
        return Verdict("rejected", "the result could not be checked")
    if attempt.kind != "returned":
        return Verdict(attempt.kind, attempt.detail)
    try:
        if case.verify is not None:
            case.verify(attempt.output, case)
        else:
            compare(attempt.output, case.expected, case.output, case.rtol, case.atol,
                    reveal=not case.hidden)
    except CheckFailed as err:
        return Verdict("wrong", str(err), err.public, err.close)
    except Exception as err:  # noqa: BLE001 - an output the comparison cannot digest
        return Verdict("wrong", f"unexpected output ({type(err).__name__}: {err})",
                       "the output could not be compared with the expected one")
    return Verdict("passed")


# --------------------------------------------------------------------------
# 3. the message
# --------------------------------------------------------------------------

def failure_message(target: str, case: Case, verdict: Verdict) -> str:
    """``target, case 'label': what is wrong`` (``hidden case`` for hidden ones)."""
    where = "hidden case" if case.hidden else "case"
    head = f"{target}, {where} '{case.label}'"
    kind, detail = verdict.kind, verdict.detail
    if kind == "not-defined":
        return f"`{detail}` is not defined; run the cell that defines it"
    if kind == "mutated-input":
        return (f"{head}: the function changed its {detail} in place; compute on a copy "
                "(or a new array) instead")
    if kind == "raised":
        return f"{head}: your code raised {detail}"
    return f"{head}: {detail}"


def run_cases(fn, cases, name=None, namespace=None, quiet=False) -> None:
    """The visible check: run every case in order and stop at the first failure.

    An exception raised by the student's own code propagates unchanged (the
    student sees their own traceback); a wrong answer raises ``CheckFailed``
    whose traceback is cut to the student's cell.
    """
    __tracebackhide__ = True
    cases = list(cases)
    name = name or getattr(fn, "__name__", "function")
    if fn is not None and not callable(fn) and (not cases or any(c.call is None for c in cases)):
        raise CheckFailed(f"{name}: expected a function, got {_type_name(fn)}") from None
    for case in cases:
        attempt = attempt_case(case, namespace, name, fn)
        if attempt.kind in ("raised",) and not isinstance(attempt.error, CheckFailed):
            # the student's own exception and traceback, and which case raised it
            attempt.error.add_note(f"(raised by {name}, case '{case.label}')")
            raise attempt.error
        verdict = judge(attempt, case)
        if not verdict.passed:
            raise CheckFailed(failure_message(name, case, verdict)).with_traceback(None) from None
    if not quiet:
        print(f"ok: {name} passed {len(cases)} check{'s' if len(cases) != 1 else ''}")


# --------------------------------------------------------------------------
# comparisons: type, then shape, then values
# --------------------------------------------------------------------------

def _type_name(x) -> str:
    if isinstance(x, np.ndarray):
        return f"a numpy array of dtype {x.dtype} and shape {x.shape}"
    if x is None:
        return "None"
    name = type(x).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _index_str(ix) -> str:
    return "(" + ", ".join(str(int(i)) for i in ix) + ("," if len(ix) == 1 else "") + ")"


def _entry_names(names, n):
    """Split a name spec for a tuple of n outputs into (label, sub-spec) pairs."""
    if isinstance(names, (tuple, list)) and len(names) == n:
        out = []
        for entry in names:
            if isinstance(entry, (tuple, list)) and len(entry) == 2 and isinstance(entry[0], str):
                out.append((entry[0], entry[1]))
            else:
                out.append((str(entry), str(entry)))
        return out
    base = names if isinstance(names, str) else "output"
    return [(f"{base}[{i}]", f"{base}[{i}]") for i in range(n)]


def _label(names) -> str:
    if isinstance(names, str):
        return names
    return "(" + ", ".join(e if isinstance(e, str) else e[0] for e in names) + ")"


def describe_worst(got, expected, got_label="got", expected_label="expected", reveal=True) -> str:
    """Describe the entry where two same-shaped arrays disagree most."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scalar = got.ndim == 0
    got, expected = np.atleast_1d(got), np.atleast_1d(expected)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(got - expected)
        scale = np.maximum(1e-12, np.abs(got) + np.abs(expected))
        rel = diff / scale
    rel = np.where(np.isnan(rel), np.inf, rel)
    ix = np.unravel_index(int(np.argmax(rel)), got.shape)
    head = "" if scalar else f"worst entry at index {_index_str(ix)}: "
    g, e = got[ix], expected[ix]
    if reveal:
        return f"{head}{got_label} {g:.6g}, {expected_label} {e:.6g} (relative error {rel[ix]:.2g})"
    return f"{head}your value {g:.6g} is wrong (relative error {rel[ix]:.2g})"


def _fail(message: str, label: str, problem: str, close: bool = False):
    """A ``CheckFailed`` whose public form names only the output and the kind of problem."""
    return CheckFailed(message, public=f"{label}: {problem}", close=close)


def compare(got, expected, name="output", rtol=1e-6, atol=1e-8, reveal=True):
    """Raise ``CheckFailed`` unless ``got`` matches ``expected``.

    Arrays: type, shape, dtype kind (integer answers must be integers), then
    values with ``|got - expected| <= atol + rtol * |expected|``.  Tuples,
    lists and dicts are compared entry by entry; plain numbers as 0-d arrays.
    ``name`` names the output (see ``Case.output``).  With ``reveal=False``
    the message gives no expected value; the error's ``public`` form never
    gives anything of ``got`` either (see ``CheckFailed``).
    """
    label = _label(name)
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            length = f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""
            raise _fail(f"{label}: expected a {type(expected).__name__} of "
                        f"{len(expected)} values, got {_type_name(got)}{length}", label,
                        f"expected a {type(expected).__name__} of {len(expected)} values")
        for (entry, sub), g, e in zip(_entry_names(name, len(expected)), got, expected):
            if isinstance(sub, str) and sub == entry:
                compare(g, e, entry, rtol, atol, reveal)
            else:
                compare(g, e, _prefixed(entry, sub), rtol, atol, reveal)
        return
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            raise _fail(f"{label}: expected a dict, got {_type_name(got)}", label,
                        "expected a dict")
        missing = [k for k in expected if k not in got]
        if missing:
            keys = ", ".join(repr(k) for k in missing)
            text = f"{label}: missing key{'s' if len(missing) > 1 else ''} {keys}"
            raise CheckFailed(text, public=text)
        for k in expected:
            compare(got[k], expected[k], f"{label}[{k!r}]", rtol, atol, reveal)
        return
    if isinstance(expected, str):
        if got != expected:
            raise _fail(f"{label}: expected {expected!r}, got {got!r}" if reveal
                        else f"{label}: wrong value {got!r}", label, "wrong value")
        return
    if expected is None:
        if got is not None:
            raise _fail(f"{label}: expected None, got {_type_name(got)}", label,
                        "expected None")
        return
    _compare_numbers(got, expected, label, rtol, atol, reveal)


def _prefixed(entry: str, sub):
    """Names of a nested tuple's entries prefixed by its own name: 'cache x'."""
    if isinstance(sub, (tuple, list)):
        return tuple((f"{entry} {s}" if isinstance(s, str) else (f"{entry} {s[0]}", s[1]))
                     for s in sub)
    return entry


def _compare_numbers(got, expected, label, rtol, atol, reveal):
    exp = np.asarray(expected)
    if isinstance(expected, np.ndarray):
        if not isinstance(got, np.ndarray):
            raise _fail(f"{label}: expected a numpy array of shape {exp.shape}, "
                        f"got {_type_name(got)}", label, "expected a numpy array")
    else:  # a scalar
        if isinstance(got, np.ndarray) and got.size == 1:
            got = got.reshape(())
        if not isinstance(got, (int, float, np.integer, np.floating, np.ndarray, bool, np.bool_)):
            raise _fail(f"{label}: expected a number, got {_type_name(got)}", label,
                        "expected a number")
    g = np.asarray(got)
    if g.shape != exp.shape:
        raise _fail(f"{label}: expected shape {exp.shape}, got shape {g.shape}"
                    if reveal else f"{label}: wrong shape {g.shape}", label, "wrong shape")
    if g.dtype == object or not (np.issubdtype(g.dtype, np.number) or g.dtype == bool):
        raise _fail(f"{label}: expected numbers, got dtype {g.dtype}", label,
                    "expected numbers")
    where = (lambda ix: f" at index {_index_str(ix)}") if g.ndim else (lambda ix: "")
    if np.issubdtype(exp.dtype, np.integer) and isinstance(expected, np.ndarray):
        if not np.issubdtype(g.dtype, np.integer):
            raise _fail(f"{label}: expected integers (e.g. labels), got dtype {g.dtype}; "
                        "convert with .astype(int) only if the values are whole numbers",
                        label, "expected integers (e.g. labels)")
        if not np.array_equal(g, exp):
            wrong = np.argwhere(g != exp)
            ix = tuple(wrong[0])
            msg = f"{label}: {len(wrong)} of {exp.size} entries are wrong; first{where(ix)}"
            msg += f": got {g[ix]}, expected {exp[ix]}" if reveal else f" (your value {g[ix]})"
            raise _fail(msg, label, "some entries are wrong")
        return
    g = g.astype(np.float64)
    e = exp.astype(np.float64)
    finite = np.isfinite(g)
    if not np.all(finite[np.isfinite(e)]):
        ix = tuple(np.argwhere(~finite & np.isfinite(e))[0])
        raise _fail(f"{label}: got {g[ix]}{where(ix)} where a finite number was expected",
                    label, "not finite (nan or inf) where a finite number was expected")
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(e) & (np.abs(g - e) <= atol + rtol * np.abs(e))
        ok |= (np.isnan(e) & np.isnan(g)) | (np.isinf(e) & (g == e))
    if not np.all(ok):
        raise _fail(f"{label}: values differ; " + describe_worst(g, e, reveal=reveal), label,
                    "values differ", close=bool(_worst_relative_error(g, e) < CLOSE))


def _worst_relative_error(got, expected) -> float:
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(got - expected)
        rel = diff / np.maximum(1e-12, np.abs(got) + np.abs(expected))
    both_nan = np.isnan(got) & np.isnan(expected)
    rel = np.where(both_nan, 0.0, np.where(np.isnan(rel), np.inf, rel))
    return float(rel.max()) if rel.size else 0.0
