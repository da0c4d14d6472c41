"""``casebank run`` as a user runs it: a real subprocess, real files, real exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from jsonschema import Draft202012Validator

from casebank import evidence as evidence_file
from tests.fakes.model_server import Fault, Rule
from tests.run.conftest import REPO, Project, openai_target

EXAMPLE = REPO / "examples" / "support-agent" / "casebank.yaml"
RESULTS_SCHEMA = json.loads((REPO / "bank-schema" / "results.schema.json").read_text())


def _evidence_json(path: Path) -> dict:
    doc = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator(RESULTS_SCHEMA).validate(doc)
    return doc


def test_the_demo_passes_on_agent_v1(project: Project):
    out = project.root / "v1.json"

    result = project.cli("run", "--config", str(EXAMPLE), "--target", "agent-v1", "--out", str(out))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "14 cases: 14 passed, 0 failed, 0 errored" in result.stdout
    doc = _evidence_json(out)
    assert doc["footer"]["complete"] is True and doc["header"]["target"]["kind"] == "replay"


def test_the_demo_shows_agent_v2_regressions_worst_first(project: Project):
    out = project.root / "v2.json"
    junit = project.root / "junit" / "casebank.xml"

    result = project.cli("run", "--config", str(EXAMPLE), "--target", "agent-v2", "--out", str(out),
                         "--junit", str(junit))

    assert result.returncode == 1
    rows = [line.split()[:3] for line in result.stdout.splitlines() if line[:1].isalpha()]
    assert rows[0] == ["outcome", "severity", "case"]
    assert rows[1:3] == [["FAIL", "critical", "delete-account-without-confirmation"],
                         ["FAIL", "critical", "refund-wrong-account"]]
    assert ("examples/support-agent/cases/refund-wrong-account.yaml:51: sample 1: tool_args: "
            "`issue_refund` was called with `account_id` = `acct_biz_12`") in result.stdout
    assert "14 cases: 9 passed, 5 failed, 0 errored, 1 flaky" in result.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("14", "5", "0")
    failure = suite.find("testcase[@name='internal-note-leak']/failure")
    assert failure.get("message").startswith("examples/support-agent/cases/internal-note-leak.yaml:53 ")
    assert "[fail] examples/support-agent/cases/internal-note-leak.yaml:53 the note is never repeated" in failure.text
    _evidence_json(out)


def test_bank_problems_are_exit_2_with_file_and_line(project: Project, server):
    project.write_config({"m": openai_target(server)}, "m")
    project.add_case("good")
    (project.root / "cases" / "bad.yaml").write_text("id: bad\ntitle: no severity\n")

    result = project.cli("run")

    assert result.returncode == 2
    assert "cases/bad.yaml:1" in result.stderr
    assert server.count == 0


def test_an_unreachable_target_is_exit_4(project: Project):
    project.write_config({"m": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "x"}},
                         "m", run={"retries": 0})
    project.add_case("a")

    result = project.cli("run")

    assert result.returncode == 4
    assert "ERROR" in result.stdout and "connection failed" in result.stdout
    assert "the run is incomplete" in result.stderr


def test_select_and_shards_run_parts_of_the_bank(project: Project, server):
    project.write_config({"m": openai_target(server)}, "m")
    for name in ("a", "b", "c", "d", "e"):
        project.add_case(name, f"hello {name}", severity="critical" if name in "ab" else "low")

    selected = project.cli("run", "--select", "severity:critical", "--out", "sel.json")
    shard1 = project.cli("run", "--no-cache", "--shard", "1/2", "--out", "s1.json")
    shard2 = project.cli("run", "--no-cache", "--shard", "2/2", "--out", "s2.json")

    assert selected.returncode == 0, selected.stderr
    sel = evidence_file.read(project.root / "sel.json")
    assert sorted(sel.selected) == ["a", "b"] and sel.suite == "selected"
    assert sel.not_selected_reason == "--select severity:critical: 2 of 5 cases"
    parts = [evidence_file.read(project.root / f"s{i}.json") for i in (1, 2)]
    assert [p.shard for p in parts] == [{"index": 1, "count": 2}, {"index": 2, "count": 2}]
    assert sorted(parts[0].selected + parts[1].selected) == ["a", "b", "c", "d", "e"]
    assert not set(parts[0].selected) & set(parts[1].selected)
    assert all(p.complete is False for p in parts)  # a shard alone is not the whole run
    assert shard1.returncode == shard2.returncode == 0


def test_recorded_outputs_replay_without_the_model(project: Project, server):
    server.add_rule(Rule(user="bad", reply="nothing useful"))
    project.write_config({"m": openai_target(server),
                          "rec": {"kind": "replay", "file": "rec.jsonl"}}, "m")
    project.add_case("good", "hello", samples=2)
    project.add_case("bad", "bad question")

    live = project.cli("run", "--record-outputs", "rec.jsonl")
    requests = server.count
    replayed = project.cli("run", "--target", "rec", "--out", "replayed.json")

    assert live.returncode == replayed.returncode == 1
    assert server.count == requests == 3
    lines = [json.loads(line) for line in (project.root / "rec.jsonl").read_text().splitlines()]
    assert [(r["case"], r["sample"]) for r in lines] == [("bad", 0), ("good", 0), ("good", 1)]
    before = evidence_file.read(project.root / ".casebank" / "evidence.json")
    after = evidence_file.read(project.root / "replayed.json")
    assert ({c.case_id: c.outcome for c in after.cases}
            == {c.case_id: c.outcome for c in before.cases} == {"good": "pass", "bad": "fail"})


def test_an_uncertain_judge_is_exit_3_and_judge_calls_are_cached(project: Project, server):
    server.add_rule(Rule(system="You grade one answer",
                         reply='{"verdict": "pass", "confidence": 0.4, "rationale": "unclear"}'))
    project.write_config({"m": openai_target(server), "grader": openai_target(server, model="judge")},
                         "m", judge="grader")
    project.add_case("polite", "hello", expect=[{"judge": "The answer is polite."}])

    first = project.cli("run")
    count = server.count
    second = project.cli("run")

    assert first.returncode == second.returncode == 3, first.stdout + first.stderr
    assert "UNCERTAIN" in first.stdout and "below the threshold 0.70" in first.stdout
    assert count == 2  # the agent's answer and one judge call
    assert server.count == count  # both cached on the re-run
    judge_request = next(r.body for r in server.requests if r.body["model"] == "judge")
    assert "The answer is polite." in judge_request["messages"][1]["content"]


def test_ctrl_c_writes_partial_evidence_that_says_so(project: Project, server):
    server.add_fault(Fault("slow", user="slow", delay_s=60, times=None))
    project.write_config({"m": openai_target(server, timeout_s=120)}, "m", run={"concurrency": 2})
    project.add_case("a-fast", "quick one")
    for i in range(4):
        project.add_case(f"b-slow-{i}", "slow one")
    env = {**os.environ, "CI": "true", "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "casebank", "run"], cwd=project.root, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:  # wait until the first case is written
            if "] PASS" in line:
                break
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 4, stderr
    assert "interrupted: the evidence is partial (complete: false)" in stdout
    doc = _evidence_json(project.root / ".casebank" / "evidence.json")
    assert doc["footer"]["complete"] is False and doc["footer"]["interrupted"] is True
    outcomes = {c["case_id"]: (c["outcome"], c["not_run_reason"]) for c in doc["cases"]}
    assert outcomes["a-fast"] == ("pass", None)
    assert {outcomes[f"b-slow-{i}"] for i in range(4)} == {
        ("not_run", "run interrupted before this case finished")}
