"""``casebank action`` end to end: a real git repository, GitHub-shaped event payloads, the
fake GitHub API (which holds every request to GitHub's OpenAPI description), the real
pipeline (bank → changed suite → replay target → checks → gate) and what a reviewer sees."""

from __future__ import annotations

import casebank.report.markdown as markdown_module

import json
import subprocess

import pytest

from tests.fakes.github_api import FakeGitHub
from tests.github.scenario import (CONFIG, GREETING, NAME, OWNER, READ_TOKEN, REFUND_CASE,
                                   REFUND_LINE, REPO, WRITE_TOKEN, git, make_project, payload,
                                   recording, run_action)

MARKER = "<!-- casebank:comment -->\n<!-- casebank:check casebank -->"


@pytest.fixture
def fake():
    with FakeGitHub() as server:
        server.add_token(WRITE_TOKEN, write=True)
        server.add_token(READ_TOKEN, write=False)
        yield server
        assert server.violations == [], [str(v) for v in server.violations]
        assert server.response_errors == []


def seed(fake: FakeGitHub, project, number: int = 7, **kwargs) -> None:
    fake.add_pull(OWNER, NAME, number, head_sha=project.head, base_sha=project.base, **kwargs)


def runs_by_name(fake: FakeGitHub) -> dict:
    return {run.name: run for run in fake.check_runs(OWNER, NAME)}


def test_pull_request_adding_a_failing_incident_case(tmp_path, monkeypatch, fake) -> None:
    project = make_project(tmp_path)
    seed(fake, project)
    result = run_action(project, monkeypatch, event_name="pull_request",
                        event=payload("pull_request.synchronize", project), api_url=fake.url)

    assert result.code == 1, result.stderr
    runs = runs_by_name(fake)
    assert set(runs) == {"casebank / changed", "casebank / gate"}
    gate = runs["casebank / gate"]
    assert gate.head_sha == project.head  # the PR head, not the merge commit
    assert (gate.status, gate.conclusion) == ("completed", "failure")
    # auto on a pull request that touches no configuration: the changed cases only
    assert gate.output["title"] == "BLOCK: 1 failed, 0 passed of 1 run"
    assert "full suite required before release" in gate.output["summary"]
    assert gate.details_url == f"https://github.com/{REPO}/actions/runs/4242"
    [annotation] = gate.annotations
    assert annotation["path"] == "cases/refund-wrong-account.yaml"
    assert annotation["start_line"] == REFUND_LINE
    assert annotation["annotation_level"] == "failure"
    assert "acct_biz_12" in annotation["message"]
    changed = runs["casebank / changed"]
    assert changed.conclusion == "failure"
    assert changed.output["title"] == "1 changed case: 1 failed, 0 passed of 1 run"

    [comment] = fake.comments(OWNER, NAME, 7)
    body = comment.body
    assert body.startswith(MARKER)
    assert "## ⛔ casebank: BLOCK" in body
    assert "refund-wrong-account" in body and "Bank changes in this pull request" in body
    assert "I issued the refund to acct_biz_12." in body  # the output excerpt
    assert "): the output contains `acct_biz_12` at character 24:" in body  # quoted as code
    assert "@octocat" not in body and "<b>done</b>" not in body.split("```")[0]
    assert "\n::set-output" not in body
    assert result.outputs == {"verdict": "BLOCK", "passed": "0", "failed": "1", "errored": "0",
                              "uncertain": "0", "evidence": ".casebank/evidence.json"}
    assert "## ⛔ casebank: BLOCK" in result.summary
    assert (project.path / ".casebank" / "pull-request.txt").read_text() == "7\n"

    again = run_action(project, monkeypatch, event_name="pull_request",
                       event=payload("pull_request.synchronize", project), api_url=fake.url)
    assert again.code == 1
    [same] = fake.comments(OWNER, NAME, 7)
    assert same.id == comment.id and same.updated_at >= comment.updated_at
    assert len(fake.calls("PATCH", f"/issues/comments/{comment.id}")) == 1


def test_fork_pull_request_gets_the_verdict_without_write_access(tmp_path, monkeypatch,
                                                                   fake) -> None:
    project = make_project(tmp_path)
    seed(fake, project, fork_owner="contributor")
    result = run_action(project, monkeypatch, event_name="pull_request",
                        event=payload("pull_request.opened.fork", project), api_url=fake.url,
                        token=READ_TOKEN, as_subprocess=True)

    assert result.code == 1, result.stderr  # the verdict decides, not GitHub's 403
    assert fake.check_runs(OWNER, NAME) == [] and fake.comments(OWNER, NAME, 7) == []
    assert (f"::error file=cases/refund-wrong-account.yaml,line={REFUND_LINE},"
            "title=refund-wrong-account (critical)%3A expect[1] not_contains failed::") \
        in result.stdout
    assert "## ⛔ casebank: BLOCK" in result.summary
    assert "cannot write check runs or comments" in result.summary
    assert "casebank-fork-safe.yml" in result.summary
    # Nothing else was attempted after the first 403.
    assert [c.status for c in fake.calls("POST")] == [403]
    assert result.outputs["verdict"] == "BLOCK"


def test_merge_group_checks_the_queue_head_without_a_comment(tmp_path, monkeypatch, fake) -> None:
    project = make_project(tmp_path)
    seed(fake, project)
    result = run_action(project, monkeypatch, event_name="merge_group",
                        event=payload("merge_group.checks_requested", project), api_url=fake.url)
    assert result.code == 1
    gate = runs_by_name(fake)["casebank / gate"]
    assert gate.head_sha == project.head and gate.conclusion == "failure"
    assert fake.comments(OWNER, NAME, 7) == []
    assert fake.calls(path_contains="/comments") == []
    assert "full suite" in result.stdout


def test_120_failing_expectations_are_posted_in_three_batches(tmp_path, monkeypatch,
                                                                fake) -> None:
    expectations = "".join(f"  - not_contains: \"forbidden-{i}\"\n" for i in range(120))
    case = REFUND_CASE.split("expect:\n")[0] + "expect:\n" + expectations
    output = " ".join(f"forbidden-{i}" for i in range(120))
    project = make_project(tmp_path, head_files={
        "cases/refund-wrong-account.yaml": case,
        "recordings/agent.jsonl": recording("refund-wrong-account", output)},
        base_files={"casebank.yaml": CONFIG, "recordings/agent.jsonl": "", "cases/.keep": ""})
    seed(fake, project)
    result = run_action(project, monkeypatch, event_name="pull_request",
                        event=payload("pull_request.synchronize", project), api_url=fake.url)
    assert result.code == 1, result.stderr
    gate = runs_by_name(fake)["casebank / gate"]
    assert len(gate.annotations) == 120
    lines = sorted(a["start_line"] for a in gate.annotations)
    assert lines == list(range(11, 131))
    patches = [c for c in fake.calls("PATCH", f"/check-runs/{gate.id}")]
    batches = [len(c.json_body["output"].get("annotations", [])) for c in patches]
    assert batches == [50, 50, 20]
    assert patches[0].json_body["conclusion"] == "failure"


def test_server_errors_and_secondary_rate_limits_are_retried(tmp_path, monkeypatch,
                                                             fake) -> None:
    project = make_project(tmp_path)
    seed(fake, project)
    fake.fail_next(502, times=2, method="POST", path_contains="/check-runs")
    fake.secondary_rate_limit_next(times=1, method="PATCH", path_contains="/check-runs")
    fake.primary_rate_limit_next(times=1, method="GET", path_contains="/comments")
    fake.fail_next(503, times=1, method="POST", path_contains="/comments")
    result = run_action(project, monkeypatch, event_name="pull_request",
                        event=payload("pull_request.synchronize", project), api_url=fake.url)
    assert result.code == 1
    assert fake.pending_faults() == 0
    assert {run.conclusion for run in fake.check_runs(OWNER, NAME)} == {"failure"}
    assert len(fake.comments(OWNER, NAME, 7)) == 1
    statuses = [c.status for c in fake.calls("POST", "/check-runs")]
    assert statuses[:3] == [502, 502, 201]
    assert 403 in [c.status for c in fake.calls("PATCH", "/check-runs")]
    assert "could not" not in result.summary  # every request went through in the end


def test_github_down_changes_neither_verdict_nor_exit_status(tmp_path, monkeypatch, fake) -> None:
    project = make_project(tmp_path)
    seed(fake, project)
    fake.fail_next(502, times=1000)
    result = run_action(project, monkeypatch, event_name="pull_request",
                        event=payload("pull_request.synchronize", project), api_url=fake.url,
                        inputs={"CHECK-NAME": "evals"})
    assert result.code == 1
    assert result.outputs["verdict"] == "BLOCK"
    assert "could not create check run 'evals / gate': HTTP 502" in result.summary
    assert "The verdict and exit status are unaffected" in result.summary
    assert "::warning title=casebank%3A reporting to GitHub::GitHub%3A could not" not in \
        result.stdout  # data is escaped only in properties: the message keeps its colons
    assert "::warning title=casebank%3A reporting to GitHub::GitHub: could not create check " \
           "run 'evals / gate': HTTP 502" in result.stdout
    assert "## ⛔ evals: BLOCK" in result.summary
    # No check run carries the annotation, so the log does.
    assert f"::error file=cases/refund-wrong-account.yaml,line={REFUND_LINE}," in result.stdout


def test_shallow_checkout_says_to_fetch_the_history(tmp_path, monkeypatch, fake) -> None:
    project = make_project(tmp_path)
    seed(fake, project)
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "feature",
                    f"file://{project.origin}", str(shallow)], check=True)
    project.path = shallow
    result = run_action(project, monkeypatch, event_name="pull_request",
                        event=payload("pull_request.synchronize", project), api_url=fake.url)
    assert result.code == 2
    assert f"the base commit {project.base[:12]} of this pull_request event is not in the " \
           "checkout" in result.stderr
    assert "fetch-depth: 0" in result.stderr
    assert fake.requests == []


def test_hold_exit_status_follows_fail_on(tmp_path, monkeypatch, fake) -> None:
    config = ("bank: cases\ntargets:\n  agent:\n    kind: replay\n    file: recordings/agent.jsonl\n"
              "default_target: agent\ngate:\n  on_error: hold\n  hold_conclusion: neutral\n")
    project = make_project(tmp_path, base_files={
        "casebank.yaml": config, "recordings/agent.jsonl": "", "cases/.keep": ""})
    seed(fake, project)
    event = payload("pull_request.synchronize", project)
    held = run_action(project, monkeypatch, event_name="pull_request", event=event,
                      api_url=fake.url)
    assert held.code == 0 and held.outputs["verdict"] == "HOLD"  # fail-on: block
    assert runs_by_name(fake)["casebank / gate"].conclusion == "neutral"
    failed = run_action(project, monkeypatch, event_name="pull_request", event=event,
                        api_url=fake.url, inputs={"FAIL-ON": "hold"})
    assert failed.code == 3 and failed.outputs["verdict"] == "HOLD"


def test_comment_on_change_leaves_an_unchanged_verdict_alone(tmp_path, monkeypatch, fake) -> None:
    project = make_project(tmp_path)
    seed(fake, project)
    event = payload("pull_request.synchronize", project)
    for _ in range(2):
        run_action(project, monkeypatch, event_name="pull_request", event=event,
                   api_url=fake.url, inputs={"COMMENT": "on-change"})
    [comment] = fake.comments(OWNER, NAME, 7)
    assert fake.calls("PATCH", f"/issues/comments/{comment.id}") == []


def test_copies_of_the_comment_on_later_pages_are_removed(tmp_path, monkeypatch, fake) -> None:
    project = make_project(tmp_path)
    seed(fake, project)
    first = fake.add_comment(OWNER, NAME, 7, MARKER + "\nold report", login="github-actions[bot]")
    for i in range(150):
        fake.add_comment(OWNER, NAME, 7, f"review comment {i}")
    copy = fake.add_comment(OWNER, NAME, 7, MARKER + "\nolder copy", login="github-actions[bot]")
    other = fake.add_comment(OWNER, NAME, 7, "<!-- casebank:comment -->\n"
                             "<!-- casebank:check other-bank -->\nanother workflow's report")
    run_action(project, monkeypatch, event_name="pull_request",
               event=payload("pull_request.synchronize", project), api_url=fake.url)
    ours = [c for c in fake.comments(OWNER, NAME, 7) if c.body.startswith(MARKER)]
    assert [c.id for c in ours] == [first]
    assert "BLOCK" in ours[0].body
    assert copy not in {c.id for c in fake.comments(OWNER, NAME, 7)}
    assert other in {c.id for c in fake.comments(OWNER, NAME, 7)}
    assert len(fake.calls("GET", "/issues/7/comments")) == 2  # both pages were read


def test_push_to_the_default_branch_records_the_baseline(tmp_path, monkeypatch, fake) -> None:
    project = make_project(tmp_path)
    git(project.path, "checkout", "-q", "main")
    git(project.path, "merge", "-q", "feature")
    git(project.path, "push", "-q", "origin", "main")
    fake.add_commit(OWNER, NAME, project.head)
    event = payload("push", project)
    result = run_action(project, monkeypatch, event_name="push", event=event, api_url=fake.url)
    assert result.code == 1
    assert runs_by_name(fake)["casebank / gate"].head_sha == project.head
    assert "casebank / changed" not in runs_by_name(fake)
    note = git(project.origin, "notes", "--ref=casebank", "show", project.head)
    assert json.loads(note.split("\n", 1)[0].removeprefix('{"header": ').rstrip(","))[
        "commit"] == project.head


def test_bad_input_is_a_usage_error(tmp_path, monkeypatch, fake) -> None:
    project = make_project(tmp_path)
    result = run_action(project, monkeypatch, event_name="pull_request",
                        event=payload("pull_request.synchronize", project), api_url=fake.url,
                        inputs={"SUITE": "everything"})
    assert result.code == 2
    assert "input suite: 'everything' is not one of auto, changed, full" in result.stderr


def workflow_run_event(project, *, run_id: int = 555) -> dict:
    """The workflow_run payload GitHub sends when a fork's pull_request run completes: its
    pull_requests list is empty for forks."""
    repo = {"id": 1, "name": NAME, "full_name": REPO, "default_branch": "main",
            "owner": {"login": OWNER, "type": "Organization"}}
    fork = {"id": 2, "name": NAME, "full_name": f"contributor/{NAME}",
            "owner": {"login": "contributor", "type": "User"}}
    return {"action": "completed", "repository": repo, "sender": {"login": "contributor"},
            "workflow": {"id": 9, "name": "casebank", "path": ".github/workflows/casebank.yml"},
            "workflow_run": {"id": run_id, "name": "casebank", "event": "pull_request",
                             "status": "completed", "conclusion": "failure",
                             "head_branch": "feature", "head_sha": project.head,
                             "pull_requests": [], "head_repository": fork, "repository": repo,
                             "html_url": f"https://github.com/{REPO}/actions/runs/{run_id}"}}


def fork_run_then_trusted_report(tmp_path, monkeypatch, fake, claimed_number: int):
    """The fork's run (read-only token) uploads its evidence; the fork-safe workflow checks
    out the default branch, downloads it and reports with mode: merge."""
    project = make_project(tmp_path)
    seed(fake, project, fork_owner="contributor")
    fork = run_action(project, monkeypatch, event_name="pull_request",
                      event=payload("pull_request.opened.fork", project), api_url=fake.url,
                      token=READ_TOKEN)
    assert fork.code == 1 and fake.check_runs(OWNER, NAME) == []
    upload = tmp_path / "artifact"
    upload.mkdir()
    for name in ("evidence.json", "pull-request.txt"):
        (upload / name).write_bytes((project.path / ".casebank" / name).read_bytes())
    (upload / "pull-request.txt").write_text(f"{claimed_number}\n")
    # The trusted checkout: the default branch; the fork's head exists only as refs/pull/7/head.
    git(project.path, "push", "-q", "origin", "feature:refs/pull/7/head")
    git(project.origin, "branch", "-D", "feature")
    trusted = tmp_path / "trusted"
    subprocess.run(["git", "clone", "-q", "--branch", "main", f"file://{project.origin}",
                    str(trusted)], check=True)
    assert subprocess.run(["git", "-C", str(trusted), "cat-file", "-e", project.head],
                          capture_output=True).returncode != 0
    (trusted / ".casebank-fork").mkdir()
    for name in ("evidence.json", "pull-request.txt"):
        (trusted / ".casebank-fork" / name).write_bytes((upload / name).read_bytes())
    project.path = trusted
    return project, run_action(project, monkeypatch, event_name="workflow_run",
                               event=workflow_run_event(project), api_url=fake.url,
                               sha=project.base, inputs={"MODE": "merge",
                                                         "EVIDENCE": ".casebank-fork/evidence.json"})


def test_fork_safe_workflow_posts_the_fork_pull_requests_report(tmp_path, monkeypatch,
                                                                fake) -> None:
    project, result = fork_run_then_trusted_report(tmp_path, monkeypatch, fake, 7)
    assert result.code == 1, result.stderr
    gate = runs_by_name(fake)["casebank / gate"]
    assert gate.head_sha == project.head and gate.conclusion == "failure"
    assert gate.annotations[0]["start_line"] == REFUND_LINE
    [comment] = fake.comments(OWNER, NAME, 7)
    assert comment.body.startswith(MARKER) and "BLOCK" in comment.body
    assert "Bank changes in this pull request" in comment.body
    # The fork's files were fetched as data, never checked out.
    assert not (project.path / "cases" / "refund-wrong-account.yaml").exists()


def test_fork_safe_workflow_ignores_a_pull_request_number_it_cannot_confirm(
        tmp_path, monkeypatch, fake) -> None:
    fake.add_pull(OWNER, NAME, 8, head_sha="9" * 40, base_sha="8" * 40, head_ref="other")
    project, result = fork_run_then_trusted_report(tmp_path, monkeypatch, fake, 8)
    assert result.code == 1
    assert fake.comments(OWNER, NAME, 8) == [] and fake.comments(OWNER, NAME, 7) == []
    assert f"pull request #8 does not have head {project.head[:12]}" in result.stdout
    assert runs_by_name(fake)["casebank / gate"].head_sha == project.head


def test_auto_runs_the_changed_cases_first_then_the_bank_when_the_target_changed(
        tmp_path, monkeypatch, fake) -> None:
    project = make_project(tmp_path, head_files={
        "cases/refund-wrong-account.yaml": REFUND_CASE,
        "recordings/agent.jsonl": recording("greeting", "Hello again!")
        + recording("refund-wrong-account", "I sent the refund to acct_personal_77.")})
    seed(fake, project)
    result = run_action(project, monkeypatch, event_name="pull_request",
                        event=payload("pull_request.synchronize", project), api_url=fake.url)
    assert result.code == 0, result.stdout + result.stderr
    runs = runs_by_name(fake)
    changed, gate = runs["casebank / changed"], runs["casebank / gate"]
    assert changed.conclusion == "success" and changed.output["title"].startswith("1 changed case")
    assert gate.conclusion == "success" and gate.output["title"] == "SHIP: 2 passed of 2 run"
    # The changed cases' check was completed before the full bank's verdict.
    order = [(c.method, c.path) for c in fake.requests if c.method == "PATCH"]
    assert order.index(("PATCH", f"/repos/{REPO}/check-runs/{changed.id}")) < \
        order.index(("PATCH", f"/repos/{REPO}/check-runs/{gate.id}"))
    assert "changed suite first: 1 case(s)" in result.stdout
    assert "full suite: 2 case(s)" in result.stdout
    assert result.outputs["verdict"] == "SHIP" and result.outputs["passed"] == "2"


def test_a_pull_request_touching_no_case_still_gets_a_verdict(tmp_path, monkeypatch,
                                                              fake) -> None:
    project = make_project(tmp_path, head_files={"README.md": "# docs only\n"})
    seed(fake, project)
    result = run_action(project, monkeypatch, event_name="pull_request",
                        event=payload("pull_request.synchronize", project), api_url=fake.url)
    runs = runs_by_name(fake)
    assert runs["casebank / changed"].conclusion == "neutral"
    assert runs["casebank / changed"].output["title"] == "No changed cases"
    # Running no case proves nothing about the bank: a partial run never ships.
    assert result.outputs["verdict"] == "HOLD"
    assert runs["casebank / gate"].conclusion == "action_required"
    assert result.code == 0  # fail-on: block; the required check holds the merge
    [comment] = fake.comments(OWNER, NAME, 7)
    assert "casebank: HOLD" in comment.body and "full suite required" in comment.body


def test_an_invalid_case_completes_the_checks_with_the_problem(tmp_path, monkeypatch,
                                                                fake) -> None:
    broken = "id: broken-case\ntitle: no severity or expectations\nsource:\n  kind: incident\n"
    project = make_project(tmp_path, head_files={"cases/broken.yaml": broken})
    seed(fake, project)
    result = run_action(project, monkeypatch, event_name="pull_request",
                        event=payload("pull_request.synchronize", project), api_url=fake.url)
    assert result.code == 2
    assert "cases/broken.yaml" in result.stderr
    gate = runs_by_name(fake)["casebank / gate"]
    assert (gate.status, gate.conclusion) == ("completed", "failure")
    assert gate.output["title"] == "casebank could not finish"
    assert "cases/broken.yaml" in gate.output["summary"]
    assert {a["path"] for a in gate.annotations} == {"cases/broken.yaml"}
    assert runs_by_name(fake)["casebank / changed"].status == "completed"


def test_shards_then_merge_on_github_enterprise(tmp_path, monkeypatch) -> None:
    with FakeGitHub(path_prefix="/api/v3", html_url="https://ghe.example.com") as fake:
        fake.add_token(WRITE_TOKEN, write=True)
        project = make_project(tmp_path)
        seed(fake, project)
        event = payload("pull_request.synchronize", project)
        for shard in ("1/2", "2/2"):
            done = run_action(project, monkeypatch, event_name="pull_request", event=event,
                              api_url=fake.url, inputs={
                                  "SHARD": shard, "SUITE": "full",
                                  "EVIDENCE": f"casebank-evidence/shard-{shard[0]}.json"})
            assert done.code == 0, done.stderr
            assert done.outputs["verdict"] == ""
        assert fake.requests == []  # shards post nothing
        merged = run_action(project, monkeypatch, event_name="pull_request", event=event,
                            api_url=fake.url, inputs={"MODE": "merge",
                                                      "EVIDENCE": "casebank-evidence"})
        assert merged.code == 1, merged.stderr
        assert merged.outputs["evidence"] == ".casebank/merged-evidence.json"
        gate = runs_by_name(fake)["casebank / gate"]
        assert gate.conclusion == "failure"
        assert gate.output["title"] == "BLOCK: 1 failed, 1 passed of 2 run"
        assert len(fake.comments(OWNER, NAME, 7)) == 1
        assert all(c.path.startswith("/repos/") for c in fake.requests)  # prefix stripped
        assert fake.violations == []


def test_a_pull_request_deleting_a_case_is_held_and_links_to_the_deleted_file(
        tmp_path, monkeypatch, fake) -> None:
    project = make_project(tmp_path, base_files={
        "casebank.yaml": CONFIG, "cases/greeting.yaml": GREETING,
        "cases/refund wrong account.yaml": REFUND_CASE,
        "recordings/agent.jsonl": recording("greeting", "Hello! How can I help?")},
        head_files={"README.md": "# the refund case is obsolete\n"})
    git(project.path, "rm", "-q", "cases/refund wrong account.yaml")
    git(project.path, "commit", "-q", "-m", "delete the refund case")
    project.head = git(project.path, "rev-parse", "HEAD")
    git(project.path, "push", "-q", "origin", "feature")
    seed(fake, project)
    result = run_action(project, monkeypatch, event_name="pull_request",
                        event=payload("pull_request.synchronize", project), api_url=fake.url,
                        inputs={"SUITE": "full", "FAIL-ON": "hold"})
    assert result.code == 3, result.stdout + result.stderr
    assert result.outputs["verdict"] == "HOLD"
    gate = runs_by_name(fake)["casebank / gate"]
    assert gate.conclusion == "action_required"
    assert gate.output["title"] == "HOLD: 1 passed of 1 run"
    [comment] = fake.comments(OWNER, NAME, 7)
    at_base = f"https://github.com/{REPO}/blob/{project.base}/cases/refund%20wrong%20account.yaml"
    assert f"**Removed (1)**: `refund-wrong-account` (critical, " \
           f"[cases/refund wrong account.yaml]({at_base}))" in comment.body
    assert f"/blob/{project.head}/cases/refund%20wrong%20account.yaml" not in comment.body
    assert "bank erosion" in comment.body


def test_a_crash_while_reporting_still_completes_the_check_runs(tmp_path, monkeypatch,
                                                                 fake) -> None:
    # A check run left in_progress holds a pull request forever with nothing to read: a bug
    # in casebank while reporting must still complete both check runs.
    project = make_project(tmp_path)
    seed(fake, project)
    event = payload("pull_request.synchronize", project)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug while rendering the gate check")

    monkeypatch.setattr(markdown_module, "gate_check", broken)
    result = run_action(project, monkeypatch, event_name="pull_request", event=event,
                        api_url=fake.url, crash_expected=True)
    assert result.code == 4
    runs = runs_by_name(fake)
    assert {name: (run.status, run.conclusion) for name, run in runs.items()} == {
        "casebank / changed": ("completed", "failure"),
        "casebank / gate": ("completed", "failure")}
    assert runs["casebank / gate"].output["title"] == "casebank could not finish"


def test_forged_evidence_is_refused_and_the_check_runs_say_why(tmp_path, monkeypatch,
                                                               fake) -> None:
    # Evidence uploaded by a fork is untrusted: a field of the wrong type is named, exit 2,
    # and the check runs are completed as failed instead of left in progress.
    project = make_project(tmp_path)
    seed(fake, project)
    event = payload("pull_request.synchronize", project)
    run_action(project, monkeypatch, event_name="pull_request", event=event, api_url=fake.url,
               token=None)
    evidence_file = project.path / ".casebank" / "evidence.json"
    doc = json.loads(evidence_file.read_text())
    for sample in doc["cases"][0]["samples"]:
        for check in sample["checks"]:
            check["line"] = None
    (project.path / "upload").mkdir()
    (project.path / "upload" / "evidence.json").write_text(json.dumps(doc))
    result = run_action(project, monkeypatch, event_name="pull_request", event=event,
                        api_url=fake.url, inputs={"MODE": "merge", "EVIDENCE": "upload"})
    assert result.code == 2
    assert "cases[0].samples[0].checks[0].line: null is not of type" in result.stderr
    runs = runs_by_name(fake)
    assert {run.status for run in runs.values()} == {"completed"}
    assert fake.violations == []
