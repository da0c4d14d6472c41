"""Baselines recorded as git notes (refs/notes/casebank), pushed and fetched like CI does."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from casebank import evidence as evidence_io
from casebank.errors import UserError
from casebank.gate.baseline import (
    NOTES_REF,
    fetch_baselines,
    from_file,
    from_note,
    push_baselines,
    read_baseline,
    record_baseline,
)
from tests.gate.builders import case, evidence


def git(cwd: Path, *args: str) -> str:
    env_args = ["-c", "user.name=dev", "-c", "user.email=dev@example.com"]
    return subprocess.run(["git", *env_args, *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def repo_with_commit(path: Path) -> str:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "casebank.yaml").write_text("bank: cases\n")
    git(path, "add", ".")
    git(path, "commit", "-qm", "first")
    return git(path, "rev-parse", "HEAD")


def test_recorded_evidence_is_the_baseline_of_its_commit(tmp_path: Path):
    commit = repo_with_commit(tmp_path / "repo")
    path = tmp_path / "run.json"
    evidence_io.write(evidence(case("a", "pass"), case("b", "fail"), commit=commit), path)
    record_baseline(tmp_path / "repo", commit, path)
    found = read_baseline(tmp_path / "repo", commit)
    assert [(c.case_id, c.outcome) for c in found.cases] == [("a", "pass"), ("b", "fail")]
    baseline = from_note(tmp_path / "repo", commit)
    assert baseline.label == f"recorded for commit {commit[:12]} in {NOTES_REF}, target agent-v2"

    # recording again replaces the note
    evidence_io.write(evidence(case("a", "pass"), commit=commit), path)
    record_baseline(tmp_path / "repo", commit, path)
    assert [c.case_id for c in read_baseline(tmp_path / "repo", commit).cases] == ["a"]


def test_no_note_is_a_stated_condition(tmp_path: Path):
    commit = repo_with_commit(tmp_path / "repo")
    baseline = from_note(tmp_path / "repo", commit)
    assert baseline.evidence is None
    assert baseline.label.startswith(f"no baseline recorded for {commit[:12]} under {NOTES_REF}")


def test_incomplete_evidence_is_never_recorded(tmp_path: Path):
    commit = repo_with_commit(tmp_path / "repo")
    path = tmp_path / "partial.json"
    evidence_io.write(evidence(case("a", "pass"), complete=False), path)
    with pytest.raises(UserError, match="the run is incomplete"):
        record_baseline(tmp_path / "repo", commit, path)
    assert read_baseline(tmp_path / "repo", commit) is None


def test_baselines_travel_through_a_remote(tmp_path: Path):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    commit = repo_with_commit(tmp_path / "ci")
    git(tmp_path / "ci", "remote", "add", "origin", str(remote))
    git(tmp_path / "ci", "push", "-q", "origin", "main")
    path = tmp_path / "run.json"
    evidence_io.write(evidence(case("a", "pass"), commit=commit), path)
    record_baseline(tmp_path / "ci", commit, path)
    assert push_baselines(tmp_path / "ci")

    subprocess.run(["git", "clone", "-q", str(remote), str(tmp_path / "pr")], check=True)
    assert from_note(tmp_path / "pr", commit).evidence is None  # notes are not cloned
    assert fetch_baselines(tmp_path / "pr")
    assert [c.case_id for c in from_note(tmp_path / "pr", commit).evidence.cases] == ["a"]

    # a second job recorded another commit meanwhile: the push merges instead of failing
    git(tmp_path / "pr", "commit", "-q", "--allow-empty", "-m", "second")
    second = git(tmp_path / "pr", "rev-parse", "HEAD")
    git(tmp_path / "pr", "push", "-q", "origin", "main")
    evidence_io.write(evidence(case("b", "pass"), commit=second), path)
    record_baseline(tmp_path / "pr", second, path)
    assert push_baselines(tmp_path / "pr")
    git(tmp_path / "ci", "fetch", "-q", "origin", "main")
    evidence_io.write(evidence(case("c", "pass"), commit=commit), path)
    record_baseline(tmp_path / "ci", commit, path)
    assert push_baselines(tmp_path / "ci")
    assert fetch_baselines(tmp_path / "pr")
    assert read_baseline(tmp_path / "pr", second).cases[0].case_id == "b"
    assert read_baseline(tmp_path / "pr", commit).cases[0].case_id == "c"


def test_baseline_file_label_names_file_commit_and_target(tmp_path: Path):
    path = tmp_path / "base.json"
    evidence_io.write(evidence(case("a", "pass"), commit="f" * 40), path)
    assert from_file(path).label == f"evidence file {path} (commit ffffffffffff, target agent-v2)"
