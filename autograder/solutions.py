"""`course solutions`: execute the solution notebooks for self-study readers.

Each source notebook runs top to bottom (quick mode unless --full) with a
progress bar over its cells; the executed notebook and an HTML rendering go
to build/solutions/<assignment>/.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import nbformat

from .answers import BLOCKS_FILE
from .course import course_root, existing_assignments, source_notebooks


def execute_notebook(path, env: dict | None = None, timeout=600, progress=True, cwd=None):
    """Run a notebook in a fresh kernel; returns (executed notebook, seconds).

    Raises nbclient's CellExecutionError (with the failing cell's traceback)
    if a cell fails.
    """
    from nbclient import NotebookClient
    from tqdm.auto import tqdm

    nb = nbformat.read(str(path), as_version=4)
    cwd = Path(cwd) if cwd else Path(path).parent
    blocks = Path(path).parent / BLOCKS_FILE   # the earlier answers the notebook imports
    if blocks.is_file() and cwd.resolve() != blocks.parent.resolve():
        cwd.mkdir(parents=True, exist_ok=True)
        shutil.copy(blocks, cwd / BLOCKS_FILE)
    saved = dict(os.environ)
    course = Path(path).resolve().parents[2]  # source/<assignment>/<name>.ipynb
    if (course / "nbgrader_config.py").is_file():  # for the hidden tests' course lookup
        os.environ.setdefault("COURSE_DIR", str(course))
    os.environ.update({"MPLBACKEND": "module://matplotlib_inline.backend_inline",
                       "PYTHONHASHSEED": "0", **(env or {})})
    start = time.perf_counter()
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(cwd)}})
        with client.setup_kernel():
            cells = tqdm(list(enumerate(nb.cells)), desc=Path(path).name, unit="cell",
                         disable=not progress, leave=False)
            for index, cell in cells:
                client.execute_cell(cell, index)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return nb, time.perf_counter() - start


def to_html(nb, path: Path) -> None:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    path.write_text(body, encoding="utf-8")


def run_solutions(assignments=None, full=False, out=None) -> int:
    root = course_root()
    out = Path(out) if out else root / "build" / "solutions"
    env = {"COURSE_QUICK": "0" if full else "1"}
    for a in assignments or existing_assignments(root):
        for path in source_notebooks(a, root):
            target = out / a
            target.mkdir(parents=True, exist_ok=True)
            # full mode trains on whole datasets: no time limit per cell
            nb, seconds = execute_notebook(path, env=env, cwd=target,
                                           timeout=None if full else 600)
            nbformat.write(nb, str(target / path.name))
            to_html(nb, target / (path.stem + ".html"))
            mode = "full" if full else "quick"
            print(f"{a}/{path.name}: executed in {seconds:.1f} s ({mode} mode) -> "
                  f"{target / path.name}, {target / (path.stem + '.html')}")
    return 0
