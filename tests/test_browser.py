"""Written answers stay inert in a real browser, maths included.

A page with a student's written answer is rendered as nbconvert renders
feedback, loaded in headless Chromium with MathJax 2 (a local copy, with
its "Safe" extension off, so that only our escaping can stop it), and the
DOM after MathJax ran is searched for what the TeX asked for: a
``javascript:`` link, an injected class, style or id.  The same page made
from the raw answer is the control: there MathJax does make them, so the
test can fail.  Needs Debian's chromium and npm's mathjax@2.7.7 (installed
by .ci/run; the test says how when they are missing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from autograder.feedback import inert_markdown
from corpus import MATH_ANSWER

pytestmark = pytest.mark.slow

MATHJAX = Path(os.environ.get("COURSE_TEST_MATHJAX", Path.home() / ".cache" /
                              "course-test-mathjax" / "node_modules" / "mathjax" /
                              "MathJax.js"))
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
needs = pytest.mark.skipif(not (BROWSER and MATHJAX.exists()),
                           reason="needs `apt-get install chromium` and `npm install --prefix "
                                  "~/.cache/course-test-mathjax mathjax@2.7.7` (see .ci/run)")


def _rendered_dom(markdown: str, tmp_path: Path) -> str:
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown)]
    exporter = HTMLExporter(template_name="classic",
                            mathjax_url=f"file://{MATHJAX}?config=TeX-AMS_CHTML-full")
    body, _ = exporter.from_notebook_node(nb)
    tmp_path.mkdir(parents=True, exist_ok=True)
    page = tmp_path / "page.html"
    page.write_text(body, encoding="utf-8")
    profile = tmp_path / "profile"
    result = subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--allow-file-access-from-files",
         "--virtual-time-budget=20000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _made_by_mathjax(dom: str) -> list[str]:
    """What the answer's TeX made in the page (the control shows each of these)."""
    body = dom.split("Because", 1)[-1]
    made = {"a javascript: link": '<a href="java', "a class": ' evil"',
            "a style": 'style="color: red', "an id": 'id="top"'}
    return [what for what, mark in made.items() if mark in body]


@needs
def test_tex_in_a_written_answer_makes_nothing_in_a_browser(tmp_path):
    control = _rendered_dom(MATH_ANSWER, tmp_path / "raw")
    assert "MathJax" in control, "MathJax did not run: the test would prove nothing"
    assert _made_by_mathjax(control) == ["a javascript: link", "a class", "a style", "an id"], \
        "the control page should show what unescaped TeX does"
    dom = _rendered_dom(inert_markdown(MATH_ANSWER), tmp_path / "inert")
    assert "MathJax" in dom
    assert _made_by_mathjax(dom) == []
