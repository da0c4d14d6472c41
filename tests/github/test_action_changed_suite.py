"""The action's changed suite reads the change, not the bank: only the case files the pull
request touches (and the cases reading a file it changed) are parsed. The whole bank is loaded,
and every file in it validated, only when the whole bank runs."""

from __future__ import annotations

import pytest

import casebank.bank.load
import casebank.gate.history
import casebank.select.changed
from casebank import evidence as evidence_file
from tests.fakes.github_api import FakeGitHub
from tests.github.scenario import (CONFIG, GREETING, NAME, OWNER, REFUND_CASE, REFUND_LINE,
                                   WRITE_TOKEN, make_project, payload, recording, run_action)

# On the base branch, untouched by the pull request: not a valid case (no severity, input or
# expectations). The base branch's own full runs report it.
BROKEN = "id: legacy-broken\ntitle: half-written in 2023\nsource:\n  kind: incident\n"

BASE = {"casebank.yaml": CONFIG, "cases/greeting.yaml": GREETING,
        "cases/legacy/broken.yaml": BROKEN,
        "recordings/agent.jsonl": recording("greeting", "Hello! How can I help?")
        + recording("refund-wrong-account", "I issued the refund to acct_biz_12.")}


@pytest.fixture
def fake():
    with FakeGitHub() as server:
        server.add_token(WRITE_TOKEN, write=True)
        yield server
        assert server.violations == [], [str(v) for v in server.violations]
        assert server.response_errors == []


@pytest.fixture
def parsed(monkeypatch) -> list[str]:
    """The case files casebank parses, wherever it parses them (the real parser runs)."""
    seen: list[str] = []
    for module in (casebank.bank.load, casebank.select.changed, casebank.gate.history):
        real = module.parse_case

        def spy(path, *args, _real=real, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            seen.append(str(path))
            return _real(path, *args, **kwargs)

        monkeypatch.setattr(module, "parse_case", spy)
    return seen


def pull_request(tmp_path, fake, head_files=None):
    project = make_project(tmp_path, base_files=BASE, head_files=head_files or {
        "cases/refund-wrong-account.yaml": REFUND_CASE})
    fake.add_pull(OWNER, NAME, 7, head_sha=project.head, base_sha=project.base)
    return project, payload("pull_request.synchronize", project)


def runs_by_name(fake: FakeGitHub) -> dict:
    return {run.name: run for run in fake.check_runs(OWNER, NAME)}


def test_a_changed_suite_run_parses_only_the_changed_case_files(tmp_path, monkeypatch, fake,
                                                                parsed) -> None:
    project, event = pull_request(tmp_path, fake)
    result = run_action(project, monkeypatch, event_name="pull_request", event=event,
                        api_url=fake.url, inputs={"SUITE": "changed"})

    # The verdict is the changed case's: the broken file elsewhere did not stop the run.
    assert result.code == 1, result.stdout + result.stderr
    assert set(parsed) == {"cases/refund-wrong-account.yaml"}
    gate = runs_by_name(fake)["casebank / gate"]
    assert gate.output["title"] == "BLOCK: 1 failed, 0 passed of 1 run"
    [annotation] = gate.annotations
    assert (annotation["path"], annotation["start_line"]) == ("cases/refund-wrong-account.yaml",
                                                             REFUND_LINE)
    assert "broken" not in result.stdout + result.stderr + result.summary
    run = evidence_file.read(project.path / ".casebank" / "evidence.json")
    assert (run.suite, run.selected, run.bank_size) == ("changed", ["refund-wrong-account"], 3)
    assert run.not_selected_reason.startswith(
        "changed suite: 1 of 3 cases selected; the other 2 were left out: the change touches "
        "neither their case files nor a file they read. 1 case to run since ")


@pytest.mark.parametrize("suite, head_files", [
    ("full", None),
    # auto, and the configuration's recording changed: the whole bank must run
    ("auto", {"cases/refund-wrong-account.yaml": REFUND_CASE,
              "recordings/agent.jsonl": recording("greeting", "Hello again!")
              + recording("refund-wrong-account", "Refund sent to acct_personal_77.")}),
], ids=["full", "auto-configuration-changed"])
def test_a_run_of_the_whole_bank_still_stops_on_any_invalid_case_file(
        tmp_path, monkeypatch, fake, suite, head_files) -> None:
    project, event = pull_request(tmp_path, fake, head_files)
    result = run_action(project, monkeypatch, event_name="pull_request", event=event,
                        api_url=fake.url, inputs={"SUITE": suite})

    assert result.code == 2, result.stdout + result.stderr
    assert "casebank: the bank has 3 problem(s)" in result.stderr
    assert "  cases/legacy/broken.yaml:" in result.stderr
    gate = runs_by_name(fake)["casebank / gate"]
    assert (gate.conclusion, gate.output["title"]) == ("failure", "casebank could not finish")
    assert {a["path"] for a in gate.annotations} == {"cases/legacy/broken.yaml"}


def test_an_invalid_changed_case_file_still_stops_a_changed_suite_run(tmp_path, monkeypatch,
                                                                      fake) -> None:
    broken_refund = REFUND_CASE.replace("severity: critical", "severity: urgent")
    project, event = pull_request(tmp_path, fake, {
        "cases/refund-wrong-account.yaml": broken_refund})
    result = run_action(project, monkeypatch, event_name="pull_request", event=event,
                        api_url=fake.url, inputs={"SUITE": "changed"})

    assert result.code == 2
    assert "casebank: the changed case files have 1 problem" in result.stderr
    assert "  cases/refund-wrong-account.yaml:3:" in result.stderr
    runs = runs_by_name(fake)
    gate = runs["casebank / gate"]
    assert (gate.conclusion, gate.output["title"]) == ("failure", "casebank could not finish")
    [annotation] = gate.annotations
    assert (annotation["path"], annotation["start_line"]) == ("cases/refund-wrong-account.yaml",
                                                             3)
    assert "legacy" not in gate.output["summary"]
    assert runs["casebank / changed"].status == "completed"


def test_shards_of_a_changed_suite_read_the_change_not_the_bank(tmp_path, monkeypatch, fake,
                                                                parsed) -> None:
    project, event = pull_request(tmp_path, fake)
    for shard in ("1/2", "2/2"):
        done = run_action(project, monkeypatch, event_name="pull_request", event=event,
                          api_url=fake.url, inputs={"SHARD": shard, "SUITE": "changed",
                                                    "EVIDENCE": f"ev/shard-{shard[0]}.json"})
        assert done.code == 0, done.stdout + done.stderr
    parts = [evidence_file.read(project.path / "ev" / f"shard-{i}.json") for i in (1, 2)]
    assert sorted(parts[0].selected + parts[1].selected) == ["refund-wrong-account"]
    assert {(p.suite, p.bank_size) for p in parts} == {("changed", 3)}
    assert set(parsed) == {"cases/refund-wrong-account.yaml"}

    merged = run_action(project, monkeypatch, event_name="pull_request", event=event,
                        api_url=fake.url, inputs={"MODE": "merge", "EVIDENCE": "ev"})
    assert merged.code == 1, merged.stdout + merged.stderr
    assert runs_by_name(fake)["casebank / gate"].output["title"] == \
        "BLOCK: 1 failed, 0 passed of 1 run"
    assert set(parsed) == {"cases/refund-wrong-account.yaml"}
