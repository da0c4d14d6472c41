"""``casebank action`` on a pull request, seen from GitHub: how check runs are created and
completed, and what ``comment: off`` leaves out. Real git repository, fake GitHub API."""

from __future__ import annotations

import pytest

from tests.fakes.github_api import FakeGitHub
from tests.github.scenario import NAME, OWNER, WRITE_TOKEN, git, make_project, payload, run_action


@pytest.fixture
def fake():
    with FakeGitHub() as server:
        server.add_token(WRITE_TOKEN, write=True)
        yield server
        assert server.violations == [], [str(v) for v in server.violations]
        assert server.response_errors == []


def merge_commit(project) -> str:
    """A real merge commit of the PR head into its base, like GitHub's refs/pull/N/merge
    (the ``GITHUB_SHA`` of a ``pull_request`` event)."""
    sha = git(project.path, "commit-tree", f"{project.head}^{{tree}}", "-p", project.base,
              "-p", project.head, "-m", "Merge feature into main")
    assert sha not in (project.head, project.base)
    return sha


def test_check_runs_are_created_in_progress_on_the_pr_head_then_completed(
        tmp_path, monkeypatch, fake) -> None:
    project = make_project(tmp_path)
    fake.add_pull(OWNER, NAME, 7, head_sha=project.head, base_sha=project.base)
    merge = merge_commit(project)
    result = run_action(project, monkeypatch, event_name="pull_request",
                        event=payload("pull_request.synchronize", project), api_url=fake.url,
                        sha=merge)
    assert result.code == 1, result.stderr

    creates = fake.calls("POST", "/check-runs")
    runs = fake.check_runs(OWNER, NAME)  # in creation order, as the POSTs were
    assert [r.name for r in runs] == ["casebank / changed", "casebank / gate"]
    assert [c.status for c in creates] == [201, 201]
    for create, run in zip(creates, runs):
        body = create.json_body
        assert body["name"] == run.name
        assert body["status"] == "in_progress", f"{run.name} was created as {body['status']}"
        assert "conclusion" not in body, f"{run.name} was created already concluded"
        assert body["head_sha"] == project.head, \
            f"{run.name} was reported on {body['head_sha']}, not the PR head {project.head}"
        assert run.head_sha == project.head != merge
        completes = [c for c in fake.calls("PATCH", f"/check-runs/{run.id}")
                     if c.json_body.get("status") == "completed"
                     or "conclusion" in c.json_body]
        assert completes, f"{run.name} was never completed"
        assert completes[-1].json_body["conclusion"] == "failure"
        first_post = fake.requests.index(create)
        assert all(fake.requests.index(c) > first_post for c in completes)
        assert (run.status, run.conclusion) == ("completed", "failure")
        assert run.started_at is not None and run.completed_at is not None


def test_comment_off_posts_the_check_runs_but_no_comment(tmp_path, monkeypatch, fake) -> None:
    project = make_project(tmp_path)
    fake.add_pull(OWNER, NAME, 7, head_sha=project.head, base_sha=project.base)
    result = run_action(project, monkeypatch, event_name="pull_request",
                        event=payload("pull_request.synchronize", project), api_url=fake.url,
                        inputs={"COMMENT": "off"})

    assert result.code == 1, result.stderr
    runs = {run.name: run for run in fake.check_runs(OWNER, NAME)}
    assert set(runs) == {"casebank / changed", "casebank / gate"}
    assert runs["casebank / gate"].conclusion == "failure"
    assert runs["casebank / gate"].output["title"] == "BLOCK: 1 failed, 0 passed of 1 run"
    assert fake.comments(OWNER, NAME, 7) == []
    assert fake.calls(path_contains="/comments") == []  # not even read
    assert "## ⛔ casebank: BLOCK" in result.summary  # the step summary still has the report
    assert result.outputs["verdict"] == "BLOCK"
    assert fake.violations == []
