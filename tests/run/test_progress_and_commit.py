"""What a run shows while it goes (bar or plain lines) and which commit its evidence names."""

from __future__ import annotations

import json
import os
import pty
import subprocess

import pytest

from casebank.run import progress
from casebank.run.progress import BarProgress, PlainProgress, make_progress, use_bar
from tests.run.conftest import Project, openai_target


@pytest.fixture
def terminal():
    """A real terminal (a pseudo-terminal), as a text stream."""
    leader, follower = pty.openpty()
    stream = os.fdopen(follower, "w", encoding="utf-8")
    yield stream
    stream.close()
    os.close(leader)


def test_the_bar_on_a_terminal(terminal, monkeypatch):
    monkeypatch.delenv("CI", raising=False)

    assert use_bar(terminal) is True


@pytest.mark.parametrize("ci", ["true", "1", "TRUE", "yes"])
def test_plain_lines_on_a_terminal_in_ci(terminal, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)

    assert use_bar(terminal) is False


def test_plain_lines_when_not_a_terminal(tmp_path, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with open(tmp_path / "log.txt", "w", encoding="utf-8") as log:
        assert use_bar(log) is False


def test_the_flags_override_the_environment(terminal, monkeypatch):
    monkeypatch.setattr(progress.sys, "stderr", terminal)
    monkeypatch.delenv("CI", raising=False)
    assert isinstance(make_progress(None), BarProgress)
    assert isinstance(make_progress(False), PlainProgress)  # --plain on a terminal

    monkeypatch.setenv("CI", "true")
    assert isinstance(make_progress(None), PlainProgress)
    assert isinstance(make_progress(True), BarProgress)  # --progress in CI


def test_plain_and_progress_flags_reach_the_run(project: Project, server):
    project.write_config({"m": openai_target(server)}, "m")
    project.add_case("a")

    plain = project.cli("run", "--plain", env={"CI": ""})
    bar = project.cli("run", "--progress", env={"CI": "true"})

    assert "casebank: [1/1] PASS      high     a (1/1 samples passed)" in plain.stderr
    assert bar.returncode == 0 and "casebank: running 1 case" in bar.stderr
    assert "[1/1]" not in bar.stderr  # the bar, not plain lines (rich hides it off a terminal)


def _git(root, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def _committed_project(project: Project, server) -> str:
    project.write_config({"m": openai_target(server)}, "m")
    project.add_case("a")
    (project.root / ".gitignore").write_text(".casebank/\n")
    _git(project.root, "init", "-q")
    _git(project.root, "add", ".")
    _git(project.root, "commit", "-q", "-m", "bank")
    return _git(project.root, "rev-parse", "HEAD")


def _header(project: Project) -> dict:
    doc = json.loads((project.root / ".casebank" / "evidence.json").read_text())
    return doc["header"]


def test_the_evidence_names_the_commit_of_a_clean_work_tree(project: Project, server):
    head = _committed_project(project, server)

    result = project.cli("run")

    assert result.returncode == 0, result.stderr
    assert (_header(project)["commit"], _header(project)["dirty"]) == (head, False)


def test_the_evidence_says_when_the_work_tree_has_uncommitted_changes(project: Project, server):
    head = _committed_project(project, server)
    case = project.root / "cases" / "a.yaml"
    case.write_text(case.read_text().replace("case a", "case a, edited"))

    result = project.cli("run")

    assert result.returncode == 0, result.stderr
    assert (_header(project)["commit"], _header(project)["dirty"]) == (head, True)


def test_outside_git_the_evidence_has_no_commit(project: Project, server):
    project.write_config({"m": openai_target(server)}, "m")
    project.add_case("a")

    assert project.cli("run").returncode == 0
    assert (_header(project)["commit"], _header(project)["dirty"]) == (None, False)


def test_an_empty_expect_is_a_validation_error_at_its_line(project: Project, server):
    project.write_config({"m": openai_target(server)}, "m")
    project.add_case("a")
    (project.root / "cases" / "empty.yaml").write_text(
        "id: empty\ntitle: checks nothing\nseverity: high\nsource: {kind: incident, ref: INC-2}\n"
        "input:\n  messages:\n    - user: hi\nexpect: []\n")

    validated = project.cli("validate")
    ran = project.cli("run")

    assert validated.returncode == 2
    assert "cases/empty.yaml:8:1: expect: must not be empty" in validated.stdout
    assert ran.returncode == 2 and "cases/empty.yaml:8" in ran.stderr
    assert server.count == 0  # nothing ran: a case that checks nothing is never a pass
