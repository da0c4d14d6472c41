"""`casebank run --record` stores the run as the baseline of the commit, and the gate diff of a
later change compares with it."""

from __future__ import annotations

from pathlib import Path

from tests.gate.scenario import Project

GOOD = "Your refund for A-1042 is on its way to your personal account."
WRONG_ACCOUNT = "Done: refund issued to acct_biz_12."


def _project(tmp_path: Path) -> Project:
    p = Project(tmp_path / "shop")
    p.config()
    p.case("refund-wrong-account", severity="critical")
    p.answer("v1", "refund-wrong-account", GOOD)
    p.answer("v2", "refund-wrong-account", WRONG_ACCOUNT)
    p.commit("the bank")
    return p


def test_recorded_run_becomes_the_baseline_the_gate_compares_with(tmp_path: Path):
    p = _project(tmp_path)
    config = str(p.path / "casebank.yaml")
    recorded = p.cli("run", "--config", config, "--target", "v1", "--record", "--plain")
    assert recorded.code == 0, recorded.err
    base = p.git("rev-parse", "HEAD")
    assert f"baseline: recorded for {base[:12]}" in recorded.out
    assert p.git("notes", "--ref", "refs/notes/casebank", "list", base)

    p.git("checkout", "-q", "-b", "pr")
    p.write("README.md", "bump the model\n")
    p.commit("move to v2")
    result = p.gate("--target", "v2", "--base", base)
    assert result.code == 1
    assert "new failure" in result.out.lower()
    assert "no baseline" not in result.out.lower()


def test_record_refuses_a_dirty_work_tree_before_running(tmp_path: Path):
    p = _project(tmp_path)
    p.write("cases/refund-wrong-account.yaml",
            (p.path / "cases/refund-wrong-account.yaml").read_text() + "# edited\n")
    result = p.cli("run", "--config", str(p.path / "casebank.yaml"), "--target", "v1", "--record")
    assert result.code == 2
    assert "clean work tree" in result.err
    assert not (p.path / ".casebank" / "evidence.json").exists()


def test_record_refuses_a_partial_selection(tmp_path: Path):
    p = _project(tmp_path)
    result = p.cli("run", "--config", str(p.path / "casebank.yaml"), "--target", "v1",
                   "--record", "--select", "severity:critical")
    assert result.code == 2
    assert "whole bank" in result.err


def test_an_incomplete_run_is_never_recorded(tmp_path: Path):
    p = _project(tmp_path)
    p.write("recordings/v1.jsonl", "")  # no recording: every sample errors
    p.commit("lost the recordings")
    result = p.cli("run", "--config", str(p.path / "casebank.yaml"), "--target", "v1", "--record")
    assert result.code == 4
    assert p.git("notes", "--ref", "refs/notes/casebank", "list") == ""
