"""Edit nbgrader notebooks as plain text, and write them back.

``source/<assignment>/*.ipynb`` is the single source of truth.  For editing,
``course nbtext to-text NOTEBOOK`` prints it in a percent format, and
``course nbtext from-text FILE NOTEBOOK`` writes the edited text back as a
clean notebook (no outputs, deterministic cell ids, nbgrader metadata).

Cell markers::

    # %% [markdown]                 a markdown cell, every line prefixed by "# "
    # %%                            an ordinary code cell
    # %% answer: GRADE_ID           an autograded answer cell (### BEGIN/END SOLUTION inside)
    # %% test: GRADE_ID points=N    a read-only autograded test cell
    # %% manual: GRADE_ID points=N  a manually graded free-text answer (markdown)
    # %% readonly: GRADE_ID         a locked code cell students cannot edit
    # %% [markdown] readonly: GRADE_ID   a locked markdown cell
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from . import cells as roles

_MARKER = re.compile(r"^# %%(?P<md> \[markdown\])?(?P<rest>.*)$")
_KIND = re.compile(r"^\s*(answer|test|manual|readonly):\s*(\S+)(?:\s+points=(\d+(?:\.\d+)?))?\s*$")

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _points(value):
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def text_to_notebook(text: str):
    """Parse the percent format into an nbformat v4 notebook."""
    cells = []
    current = None
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _MARKER.match(line)
        if m:
            if current is not None:
                cells.append(current)
            rest = m.group("rest").strip()
            meta = {}
            if rest:
                k = _KIND.match(rest)
                if not k:
                    raise ValueError(f"line {lineno}: cannot parse cell marker {line!r}")
                kind, grade_id, points = k.group(1), k.group(2), _points(k.group(3))
                if kind in ("test", "manual") and points is None:
                    raise ValueError(f"line {lineno}: {kind} cell {grade_id} needs points=N")
                meta = {"nbgrader": roles.metadata_for(kind, grade_id, points)}
                is_md = bool(m.group("md")) or kind == "manual"
            else:
                is_md = bool(m.group("md"))
            current = {"md": is_md, "meta": meta, "lines": [], "lineno": lineno}
            continue
        if current is None:
            if line.strip():
                raise ValueError(f"line {lineno}: text before the first '# %%' marker")
            continue
        current["lines"].append(line)
    if current is not None:
        cells.append(current)

    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC),
                   "language_info": {"name": "python"}}
    seen = set()
    for i, c in enumerate(cells):
        lines = c["lines"]
        while lines and not lines[-1].strip():
            lines.pop()
        if c["md"]:
            body = "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in lines)
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
        cell.metadata = c["meta"]
        gid = c["meta"].get("nbgrader", {}).get("grade_id")
        cid = gid or f"cell-{i:03d}"
        if cid in seen:
            raise ValueError(f"line {c['lineno']}: duplicate grade id {cid}")
        seen.add(cid)
        cell["id"] = cid
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def notebook_to_text(nb) -> str:
    """Render a notebook in the percent format (inverse of ``text_to_notebook``)."""
    out = []
    for cell in nb.cells:
        role, gid = roles.role(cell), roles.grade_id(cell)
        marker = "# %%"
        if cell.cell_type == "markdown":
            marker += " [markdown]"
        if role == "manual":
            marker = f"# %% manual: {gid} points={_fmt(roles.points(cell))}"
        elif role == "test":
            marker += f" test: {gid} points={_fmt(roles.points(cell))}"
        elif role in ("answer", "readonly"):
            marker += f" {role}: {gid}"
        out.append(marker)
        if cell.cell_type == "markdown":
            out.extend(("# " + l) if l else "#" for l in cell.source.split("\n"))
        else:
            out.extend(cell.source.split("\n"))
        out.append("")
    return "\n".join(out)


def _fmt(points):
    return str(int(points)) if float(points).is_integer() else str(points)


def write_notebook(nb, path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = nbformat.writes(nb) + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="course nbtext", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("to-text", help="print a notebook in the percent format")
    t.add_argument("notebook")
    f = sub.add_parser("from-text", help="write a percent-format file as a notebook")
    f.add_argument("text")
    f.add_argument("notebook")
    args = parser.parse_args(argv)
    if args.cmd == "to-text":
        sys.stdout.write(notebook_to_text(nbformat.read(args.notebook, as_version=4)))
    else:
        write_notebook(text_to_notebook(Path(args.text).read_text(encoding="utf-8")), args.notebook)
    return 0


if __name__ == "__main__":
    sys.exit(main())
