"""casebank diff and casebank review on a real project, and the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gate.scenario import Project

GOOD = "Your refund is on its way."
BAD = "No."


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project(tmp_path / "shop")
    p.config()
    for case_id, severity in (("a-refund", "critical"), ("b-policy", "medium"), ("c-tone", "high")):
        p.case(case_id, severity=severity)
    p.answer("v1", "a-refund", GOOD)
    p.answer("v1", "b-policy", BAD)
    p.answer("v1", "c-tone", GOOD, GOOD, GOOD)
    p.answer("v2", "a-refund", BAD)
    p.answer("v2", "b-policy", GOOD)
    p.answer("v2", "c-tone", GOOD, BAD, GOOD)
    p.case("c-tone", severity="high", samples=3, pass_rule="{at_least: 2}")
    p.commit("bank")
    return p


def run_to(project: Project, target: str, name: str) -> str:
    path = str(project.path / ".casebank" / name)
    assert project.gate("--target", target, "--out", path).code in (0, 1, 3)
    return path


def test_diff_between_two_evidence_files(project: Project):
    base = run_to(project, "v1", "v1.json")
    head = run_to(project, "v2", "v2.json")
    config = str(project.path / "casebank.yaml")
    result = project.cli("diff", "--config", config, "--evidence", head, "--baseline", base)
    assert result.code == 0, result.err
    assert result.out.splitlines()[:10] == [
        f"Gate diff against the baseline (evidence file {base} (commit "
        f"{project.git('rev-parse', 'HEAD')[:12]}, target v1)):",
        "  verdict changed: SHIP -> BLOCK",
        "  new failures (1):",
        "    a-refund (critical, cases/a-refund.yaml:15) pass -> fail: contains: the output "
        "does not contain `refund`",
        "  fixed (1):",
        "    b-policy (medium, cases/b-policy.yaml:1) fail -> pass",
        "  still failing (known) (0)",
        "  flaky (1):",
        "    c-tone (high, cases/c-tone.yaml:15) pass -> pass: 2 of 3 samples passed, its rule "
        "needs 2; a failing sample: contains: the output does not contain `refund`",
        "  added cases (0)",
    ]

    data = json.loads(project.cli("diff", "--config", config, "--evidence", head, "--baseline",
                                  base, "--format", "json").out)
    assert [d["case_id"] for d in data["diff"]["new_failures"]] == ["a-refund"]
    assert data["diff"]["has_baseline"] is True


def test_diff_without_a_baseline_says_so(project: Project):
    head = run_to(project, "v2", "v2.json")
    result = project.cli("diff", "--config", str(project.path / "casebank.yaml"),
                         "--evidence", head, "--base", "HEAD")
    assert result.code == 0
    assert result.out.startswith("Gate diff: no baseline, so no failure can be called new or "
                                 "fixed")
    assert "no changes" not in result.out.lower()


def test_diff_against_a_base_lists_what_changed_in_the_case_files(project: Project):
    base = project.record_baseline("v2")
    project.git("checkout", "-q", "-b", "pr")
    project.case("c-tone", severity="high", samples=3, pass_rule="{at_least: 1}")
    project.commit("weaken c-tone")
    head = run_to(project, "v2", "v2.json")
    result = project.cli("diff", "--config", str(project.path / "casebank.yaml"),
                         "--evidence", head, "--base", base)
    assert result.code == 0, result.err
    assert "  modified cases (1):\n    c-tone (cases/c-tone.yaml:13): weaker pass rule: at " \
           "least 2 of 3 to at least 1 of 3" in result.out
    assert "  modified  c-tone (cases/c-tone.yaml:13): weaker pass rule: at least 2 of 3 to at " \
           "least 1 of 3  [holds: bank erosion]" in result.out


def test_review_refuses_unknown_cases_and_missing_evidence(project: Project):
    config = str(project.path / "casebank.yaml")
    missing = project.cli("review", "a-refund", "--config", config, "--decision", "accept",
                          "--rationale", "ok", "--reviewer", "@me")
    assert missing.code == 2
    assert "evidence file not found" in missing.err
    run_to(project, "v2", "evidence.json")
    unknown = project.cli("review", "zz", "--config", config, "--decision", "accept",
                          "--rationale", "ok", "--reviewer", "@me")
    assert unknown.code == 2
    assert "case 'zz' is not in the evidence" in unknown.err
    assert "casebank run --select id:zz" in unknown.err
    empty = project.cli("review", "a-refund", "--config", config, "--decision", "accept",
                        "--rationale", "  ", "--reviewer", "@me")
    assert empty.code == 2 and "--rationale is empty" in empty.err


def test_review_refuses_a_case_that_errored_even_with_some_output(project: Project):
    project.case("d-partial", samples=2)
    project.answer("v2", "d-partial", GOOD)  # sample 1 has no recording: it errors
    run_to(project, "v2", "evidence.json")

    result = project.cli("review", "d-partial", "--config", str(project.path / "casebank.yaml"),
                         "--decision", "accept", "--rationale", "ok", "--reviewer", "@me")

    assert result.code == 2
    assert ("d-partial errored in " in result.err and "sample 2: no recording for case "
            "d-partial sample 1" in result.err)
    assert "a review cannot make an error pass: fix the target or the check and run it again" \
        in result.err
    assert not (project.path / "reviews" / "d-partial.yaml").exists()


def test_rejected_review_makes_the_failure_count(project: Project):
    config = str(project.path / "casebank.yaml")
    evidence = run_to(project, "v2", "evidence.json")
    wrote = project.cli("review", "b-policy", "--config", config, "--evidence", evidence,
                        "--decision", "reject", "--rationale", "wording is wrong",
                        "--reviewer", "@legal")
    assert wrote.code == 0
    text = (project.path / "reviews" / "b-policy.yaml").read_text()
    assert "decision: reject\n" in text and 'reviewer: "@legal"\n' in text
    result = project.gate("--evidence", evidence)
    today = __import__("datetime").date.today().isoformat()
    assert f"b-policy (pass) rejected in reviews/b-policy.yaml by @legal on {today}: counted " \
           "as failed" in result.out
    assert "1 passed, 2 failed" in result.out


def test_console_script_runs_the_gate_and_prints_json(project: Project):
    evidence = run_to(project, "v2", "v2.json")
    script = Path(sys.executable).parent / "casebank"
    done = subprocess.run([str(script), "gate", "--config", str(project.path / "casebank.yaml"),
                           "--evidence", evidence, "--format", "json"],
                          capture_output=True, text=True, cwd=project.path)
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert data["decision"] == "BLOCK" and data["exit_code"] == 1
    assert data["reasons"][0]["path"] == "cases/a-refund.yaml"
    assert data["coverage"]["statement"].startswith("3 cases in the bank; 3 selected, 3 run")
