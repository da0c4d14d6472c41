"""Event parsing, inputs, annotations, workflow commands and outputs: the action's small parts."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from casebank.errors import UserError
from casebank.github.event import parse_event, read_payload
from casebank.github.inputs import read_context, read_inputs
from casebank.github.summary import write_outputs
from casebank.github.workflow_commands import command, emit_annotations
from casebank.report import annotations
from tests.github.builders import evidence, failing_case, passing_case

HEAD, BASE, MERGE = "1" * 40, "2" * 40, "3" * 40


def pull_request_payload(*, fork: bool = False) -> dict:
    base_repo = {"full_name": "octo/bank", "fork": False}
    head_repo = {"full_name": "someone/bank" if fork else "octo/bank", "fork": fork}
    return {"action": "synchronize", "number": 7, "repository": {"default_branch": "main"},
            "pull_request": {"number": 7, "head": {"sha": HEAD, "ref": "feature", "repo": head_repo},
                             "base": {"sha": BASE, "ref": "main", "repo": base_repo},
                             "merge_commit_sha": MERGE}}


def test_pull_request_reports_on_the_head_not_the_merge_commit() -> None:
    event = parse_event("pull_request", pull_request_payload(), MERGE)
    assert (event.head_sha, event.base_sha, event.pull_number) == (HEAD, BASE, 7)
    assert event.wants_comment and not event.full_suite_required and not event.fork
    assert parse_event("pull_request", pull_request_payload(fork=True), MERGE).fork


def test_merge_group_push_and_schedule() -> None:
    group = parse_event("merge_group", {"merge_group": {"head_sha": HEAD, "base_sha": BASE,
                                                       "head_ref": "gh-readonly-queue/main/pr-7"}},
                        MERGE)
    assert (group.head_sha, group.base_sha) == (HEAD, BASE)
    assert not group.wants_comment and group.full_suite_required
    push = parse_event("push", {"ref": "refs/heads/main", "after": HEAD,
                                "repository": {"default_branch": "main"}}, HEAD)
    assert push.records_baseline and push.full_suite_required and push.base_sha is None
    other = parse_event("push", {"ref": "refs/heads/topic", "after": HEAD,
                                 "repository": {"default_branch": "main"}}, HEAD)
    assert not other.records_baseline
    assert parse_event("schedule", {}, HEAD).head_sha == HEAD


def test_unknown_event_and_broken_payload_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not handle the 'issues' event"):
        parse_event("issues", {}, HEAD)
    with pytest.raises(UserError, match=r"pull_request\.head\.sha field is missing"):
        parse_event("pull_request", {"pull_request": {"number": 1, "base": {"sha": BASE}}}, HEAD)
    bad = tmp_path / "event.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="not a JSON event payload"):
        read_payload(str(bad))


def test_inputs_from_environment_with_hyphens_kept() -> None:
    inputs = read_inputs({"INPUT_GITHUB-TOKEN": "t", "INPUT_CHECK-NAME": "evals",
                          "INPUT_FAIL-ON": "hold", "INPUT_SUITE": "full", "INPUT_TARGET": ""})
    assert (inputs.github_token, inputs.check_name, inputs.fail_on, inputs.suite) == \
        ("t", "evals", "hold", "full")
    assert inputs.target is None and inputs.config == "casebank.yaml"
    with pytest.raises(UserError, match="input comment: 'sometimes' is not one of always, "
                                        "on-change, off"):
        read_inputs({"INPUT_COMMENT": "sometimes"})
    ctx = read_context({"GITHUB_API_URL": "https://ghe.example/api/v3/",
                        "GITHUB_REPOSITORY": "octo/bank", "GITHUB_RUN_ID": "5",
                        "GITHUB_SERVER_URL": "https://ghe.example"})
    assert ctx.api_url == "https://ghe.example/api/v3"
    assert ctx.run_url == "https://ghe.example/octo/bank/actions/runs/5"


def test_annotation_at_the_failing_expectation_line_and_batches_of_50() -> None:
    case = failing_case("many", expectations=120, samples=3, first_line=10)
    found = annotations.for_run(evidence(case, passing_case("ok")))
    assert len(found) == 120
    first = found[0].to_github()
    assert first["path"] == "cases/many.yaml" and first["start_line"] == 10
    assert first["annotation_level"] == "failure"
    assert "(fail in 3 of 3 samples)" in first["message"]
    assert [len(b) for b in annotations.batches(found)] == [50, 50, 20]


def test_workflow_commands_escape_and_respect_the_per_step_limit() -> None:
    line = command("failure", "bad\n::set-output name=x::1", file="cases/a,b.yaml", line=3,
                   title="a: b")
    assert line == ("::error file=cases/a%2Cb.yaml,line=3,title=a%3A b::bad%0A:\u200b:set-output "
                    "name=x::1")
    out = io.StringIO()
    found = annotations.for_run(evidence(*[failing_case(f"c{i}") for i in range(14)]))
    assert emit_annotations(found, out) == 9
    lines = out.getvalue().splitlines()
    assert len(lines) == 10 and all(x.startswith("::error ") for x in lines)
    assert "5 more findings of this level" in lines[-1]


def test_outputs_are_multiline_safe(tmp_path: Path) -> None:
    path = tmp_path / "output"
    write_outputs(str(path), {"verdict": "BLOCK", "evidence": "a\nb=c"})
    text = path.read_text()
    name, _, rest = text.partition("<<")
    assert name == "verdict"
    delimiter = rest.split("\n", 1)[0]
    assert f"verdict<<{delimiter}\nBLOCK\n{delimiter}\n" in text
    assert "evidence<<" in text and "\na\nb=c\n" in text
