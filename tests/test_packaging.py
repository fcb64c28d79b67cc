"""The two dependency lists agree: pyproject.toml (pip) and environment.yml (conda).

Every requirement of the course and of its dev extra appears in
environment.yml with the same version range, so that conda provides it and
the file's last line (`pip install -e .[dev]`) installs nothing but the
course; conda's side has nothing pyproject.toml does not ask for.
"""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement

from conftest import ROOT

# pip names whose conda package is named or split differently
CONDA_NAMES = {"dask[distributed]": ["dask", "distributed"]}
CONDA_ONLY = {"python", "pip"}


def _pyproject() -> dict:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    out = {}
    for line in data["project"]["dependencies"] + data["project"]["optional-dependencies"]["dev"]:
        req = Requirement(line)
        if req.marker is not None:   # a pin for one interpreter only (soupsieve)
            continue
        key = f"{req.name}[{','.join(sorted(req.extras))}]" if req.extras else req.name
        for name in CONDA_NAMES.get(key, [req.name]):
            out[name.lower()] = str(req.specifier)
    return out


def _conda() -> dict:
    out = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"^  - ([A-Za-z0-9_.-]+)\s*([<>=!~,.0-9*]*)\s*$", line)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def _same(pip_spec: str, conda_spec: str) -> bool:
    return sorted(pip_spec.split(",")) == sorted(conda_spec.split(",")) if pip_spec \
        else conda_spec == ""


def test_environment_yml_asks_for_what_pyproject_asks_for():
    pip, conda = _pyproject(), _conda()
    missing = sorted(set(pip) - set(conda))
    assert not missing, f"environment.yml lacks {missing}"
    extra = sorted(set(conda) - set(pip) - CONDA_ONLY)
    assert not extra, f"environment.yml asks for {extra}, which pyproject.toml does not"
    differ = {n: (pip[n], conda[n]) for n in pip if not _same(pip[n], conda[n])}
    assert not differ, f"version ranges differ (pyproject, environment.yml): {differ}"
    assert "      - -e .[dev]" in (ROOT / "environment.yml").read_text()


def test_the_check_sees_a_difference(tmp_path, monkeypatch):
    """The comparison itself can fail: a dropped pin is caught."""
    pip = _pyproject()
    assert not _same(pip["nbgrader"], ">=0.9.2")
