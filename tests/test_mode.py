"""Quick and full mode: which one is in effect, what the notebooks print about it."""

import pytest

from assignments import budget, is_quick, show_mode
from assignments.mode import claim, mode_reason


@pytest.mark.parametrize("env,quick", [
    ({}, False),
    ({"COURSE_QUICK": "1"}, True),
    ({"COURSE_QUICK": "yes"}, True),
    ({"COURSE_QUICK": "0"}, False),
    ({"COURSE_QUICK": "maybe"}, False),
    ({"NBGRADER_EXECUTION": "autograde"}, True),
    # a graded run is always quick, whatever the submitted notebook sets
    ({"NBGRADER_EXECUTION": "autograde", "COURSE_QUICK": "0"}, True),
])
def test_the_environment_picks_the_mode(monkeypatch, env, quick):
    monkeypatch.delenv("COURSE_QUICK", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert is_quick() is quick and mode_reason()[0] is quick
    assert budget(quick="small", full="large") == ("small" if quick else "large")


def test_show_mode_says_the_mode_the_times_and_the_switch(monkeypatch, capsys):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("COURSE_QUICK", raising=False)
    show_mode(quick_seconds=25, full_minutes=8)
    out = capsys.readouterr().out
    assert "FULL mode" in out and "about 8 min" in out and "about 25 s" in out
    assert "uncomment  %env COURSE_QUICK=1" in out
    monkeypatch.setenv("COURSE_QUICK", "1")
    show_mode(quick_seconds=25, full_minutes=8)
    out = capsys.readouterr().out
    assert "QUICK mode (COURSE_QUICK=1 is set)" in out and "comment out" in out


def test_claim_prints_its_verdict_and_the_mode_it_describes(monkeypatch, capsys):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("COURSE_QUICK", "1")
    assert claim("a (1 against 2)", True) is True
    assert claim("b", False, full_only=True) is False
    assert claim("c", False) is False
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "as the text says: a (1 against 2)"
    assert lines[1].startswith("quick mode: this short run does not show") and "(b)" in lines[1]
    assert lines[2] == "NOT as the text says: c"
    monkeypatch.setenv("COURSE_QUICK", "0")
    claim("b", False, full_only=True)
    assert capsys.readouterr().out.startswith("NOT as the text says: b")
