"""The course's answers, for tests: run from their one home, the source notebooks'
answer cells (with each notebook's generated ``course_blocks``)."""

import contextlib
import functools
import types

from conftest import ROOT


@functools.lru_cache(maxsize=None)
def answers(assignment: str) -> types.SimpleNamespace:
    """The names the answer cells of ``assignment``'s source notebook define."""
    from autograder.notebooks import reference_namespace

    ns = reference_namespace(assignment, ROOT)
    return types.SimpleNamespace(**{k: v for k, v in ns.items() if not k.startswith("__")})


@contextlib.contextmanager
def blocks_of(assignment: str):
    """Within the block, ``assignment``'s answers are the building blocks in effect."""
    from assignments.blocks import building_blocks

    with building_blocks(vars(answers(assignment))):
        yield answers(assignment)
