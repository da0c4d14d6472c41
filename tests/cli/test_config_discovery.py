"""Every command that takes --config finds casebank.yaml the same way: the nearest one in
the current folder or above it (docs/config.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "support-agent"

# enough flags for each command to reach reading casebank.yaml
COMMANDS = {
    "validate": ["validate"],
    "new": ["new", "--source", "incident", "--title", "a lesson", "--severity", "high"],
    "run": ["run"],
    "gate": ["gate"],
    "diff": ["diff"],
    "review": ["review", "some-case", "--decision", "accept", "--rationale", "fine",
               "--reviewer", "@alice"],
}


def _casebank(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "casebank", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_finds_casebank_yaml_in_a_folder_above(tmp_path: Path, command: str):
    # a config with a wrong bank folder: the problem can only be reported if the file was found
    (tmp_path / "casebank.yaml").write_text("bank: no-such-folder\n", encoding="utf-8")
    deep = tmp_path / "evals" / "notes"
    deep.mkdir(parents=True)

    result = _casebank(*COMMANDS[command], cwd=deep)

    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "the bank folder `no-such-folder` does not exist" in out
    assert "no casebank.yaml" not in out


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_casebank_yaml_anywhere_above_says_where_it_looked(tmp_path: Path, command: str):
    result = _casebank(*COMMANDS[command], cwd=tmp_path)

    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert f"not found in {tmp_path} or any folder above it" in out
    assert "pass --config PATH" in out


def test_run_from_the_cases_folder_runs_the_project_above(tmp_path: Path):
    out = tmp_path / "evidence.json"

    result = _casebank("run", "--target", "agent-v1", "--out", str(out), "--plain",
                       cwd=EXAMPLE / "cases")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "14 cases: 14 passed" in result.stdout
    assert json.loads(out.read_text())["header"]["target"]["name"] == "agent-v1"


def test_new_help_does_not_mention_paths_it_does_not_take():
    result = _casebank("new", "--help", cwd=REPO)

    assert "PATH" not in result.stdout
    assert "the nearest one in the current folder or above it" in " ".join(result.stdout.split())
