"""The fake GitHub API is strict where GitHub is strict, and PyGithub works against it unchanged."""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import github
import httpx
import pytest

from tests.fakes.github_api import (
    EXTRACT_DIR,
    HANDLERS,
    PRIMARY_RATE_LIMIT_MESSAGE,
    FakeGitHub,
    load_operations,
    to_json_schema,
)

HEAD = "1" * 40
BASE = "2" * 40
MERGE = "3" * 40
OWNER, REPO, PR = "octo-org", "support-bank", 7
ROOT = Path(__file__).resolve().parent.parent
HTTP = httpx.Client(timeout=10)  # one client: building one per request costs ~40 ms (TLS context)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.add_token("t-write", write=True)
        server.add_token("t-read", write=False)
        server.add_pull(OWNER, REPO, PR, head_sha=HEAD, base_sha=BASE, merge_commit_sha=MERGE)
        yield server


def call(fake: FakeGitHub, method: str, path: str, body: Any = None, token: str | None = "t-write",
         params: dict[str, Any] | None = None) -> httpx.Response:
    headers = {"Accept": "application/vnd.github+json"}
    if token:
        headers["Authorization"] = f"token {token}"
    return HTTP.request(method, fake.url + path, json=body, headers=headers, params=params)


def pygithub(fake: FakeGitHub, token: str = "t-write", **kwargs: Any) -> github.Github:
    kwargs.setdefault("seconds_between_requests", 0)
    kwargs.setdefault("seconds_between_writes", 0)
    return github.Github(base_url=fake.url, auth=github.Auth.Token(token), **kwargs)


CHECKS = f"/repos/{OWNER}/{REPO}/check-runs"
COMMENTS = f"/repos/{OWNER}/{REPO}/issues/{PR}/comments"


def annotation(line: int, **extra: Any) -> dict[str, Any]:
    return {"path": "cases/refund.yaml", "start_line": line, "end_line": line,
            "annotation_level": "failure", "message": f"expectation on line {line} failed", **extra}


def error_fields(response: httpx.Response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


# ---- request validation --------------------------------------------------------------------


def test_check_run_with_an_unknown_field_is_rejected_naming_it(fake: FakeGitHub) -> None:
    response = call(fake, "POST", CHECKS, {"name": "casebank / gate", "head_sha": HEAD, "colour": "red"})

    assert response.status_code == 422
    assert '"colour" is not a permitted key.' in response.json()["message"]
    assert error_fields(response) == ["colour"]
    assert response.json()["documentation_url"].startswith("https://docs.github.com/")
    [violation] = fake.violations
    assert (violation.operation, violation.field) == ("checks/create", "colour")
    assert fake.check_runs(OWNER, REPO) == []


def test_unknown_field_deep_in_an_annotation_is_named_by_its_path(fake: FakeGitHub) -> None:
    output = {"title": "BLOCK", "summary": "s", "annotations": [annotation(3), annotation(4, severity="high")]}
    response = call(fake, "POST", CHECKS, {"name": "gate", "head_sha": HEAD, "output": output})

    assert response.status_code == 422
    assert error_fields(response) == ["output.annotations[1].severity"]


def test_check_run_with_a_wrong_type_is_rejected_naming_the_field(fake: FakeGitHub) -> None:
    response = call(fake, "POST", CHECKS, {"name": 123, "head_sha": HEAD})

    assert response.status_code == 422
    assert "For 'name': 123 is not of type 'string'" in response.json()["message"]
    assert error_fields(response) == ["name"]


def test_missing_required_field_and_bad_enum_are_rejected(fake: FakeGitHub) -> None:
    missing = call(fake, "POST", CHECKS, {"name": "gate"})
    bad_level = call(fake, "POST", CHECKS, {"name": "gate", "head_sha": HEAD, "output": {
        "title": "t", "summary": "s", "annotations": [annotation(2, annotation_level="error")]}})

    assert missing.status_code == 422
    assert '"head_sha" wasn\'t supplied.' in missing.json()["message"]
    assert bad_level.status_code == 422
    assert error_fields(bad_level) == ["output.annotations[0].annotation_level"]
    assert "'error' is not one of ['notice', 'warning', 'failure']" in bad_level.json()["message"]


def test_annotation_without_lines_is_rejected(fake: FakeGitHub) -> None:
    no_lines = {"path": "cases/a.yaml", "annotation_level": "failure", "message": "m"}
    response = call(fake, "POST", CHECKS, {"name": "gate", "head_sha": HEAD,
                                           "output": {"title": "t", "summary": "s", "annotations": [no_lines]}})

    assert response.status_code == 422
    assert sorted(error_fields(response)) == ["output.annotations[0].end_line", "output.annotations[0].start_line"]


def test_completed_without_conclusion_is_rejected_on_create_and_update(fake: FakeGitHub) -> None:
    created = call(fake, "POST", CHECKS, {"name": "gate", "head_sha": HEAD, "status": "completed"})
    run = call(fake, "POST", CHECKS, {"name": "gate", "head_sha": HEAD, "status": "in_progress"}).json()
    updated = call(fake, "PATCH", f"{CHECKS}/{run['id']}", {"status": "completed"})

    assert created.status_code == 422
    assert "conclusion is required when status is completed" in json.dumps(created.json()["errors"])
    assert updated.status_code == 422
    assert "conclusion" in error_fields(updated)
    assert fake.check_runs(OWNER, REPO)[0].status == "in_progress"


def test_conclusion_with_a_status_other_than_completed_is_rejected(fake: FakeGitHub) -> None:
    response = call(fake, "POST", CHECKS, {"name": "gate", "head_sha": HEAD, "status": "in_progress",
                                           "conclusion": "success"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "a conclusion needs status completed, not 'in_progress'"


def test_conclusion_alone_completes_the_run_as_github_does(fake: FakeGitHub) -> None:
    response = call(fake, "POST", CHECKS, {"name": "gate", "head_sha": HEAD, "conclusion": "neutral",
                                           "output": {"title": "HOLD", "summary": "needs review"}})

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["conclusion"]) == ("completed", "neutral")
    assert response.json()["completed_at"] is not None
    assert fake.violations == []


def test_more_than_50_annotations_per_request_are_rejected(fake: FakeGitHub) -> None:
    def post(count: int) -> httpx.Response:
        output = {"title": "BLOCK", "summary": "s", "annotations": [annotation(i + 1) for i in range(count)]}
        return call(fake, "POST", CHECKS, {"name": "gate", "head_sha": HEAD, "conclusion": "failure", "output": output})

    assert post(50).status_code == 201
    too_many = post(51)

    assert too_many.status_code == 422
    assert "at most 50 annotations per request, got 51" in json.dumps(too_many.json())
    assert [v.field for v in fake.violations] == ["output.annotations"]


def test_annotation_rules_github_enforces_beyond_the_description(fake: FakeGitHub) -> None:
    bad = [
        annotation(0),
        {**annotation(5), "end_line": 4},
        {**annotation(5), "end_line": 6, "start_column": 1, "end_column": 3},
        annotation(7, title="t" * 256),
    ]
    response = call(fake, "POST", CHECKS, {"name": "gate", "head_sha": HEAD, "conclusion": "failure",
                                           "output": {"title": "t", "summary": "s", "annotations": bad}})

    assert response.status_code == 422
    assert error_fields(response) == [
        "output.annotations[0].start_line",
        "output.annotations[1].end_line",
        "output.annotations[2].start_column",
        "output.annotations[3].title",
    ]


def test_output_summary_limit_is_counted_in_bytes(fake: FakeGitHub) -> None:
    def post(summary: str) -> httpx.Response:
        return call(fake, "POST", CHECKS, {"name": "gate", "head_sha": HEAD, "conclusion": "success",
                                           "output": {"title": "SHIP", "summary": summary}})

    assert post("s" * 65_535).status_code == 201
    multibyte = post("é" * 40_000)  # 40,000 characters, 80,000 bytes

    assert multibyte.status_code == 422
    assert multibyte.json()["errors"][0]["message"] == "summary exceeds a maximum bytesize of 65535 (80000 bytes)"
    too_long_text = call(fake, "POST", CHECKS, {"name": "gate", "head_sha": HEAD, "conclusion": "success",
                                                "output": {"title": "SHIP", "summary": "s", "text": "t" * 65_536}})
    assert too_long_text.status_code == 422
    assert error_fields(too_long_text) == ["output.text"]


def test_action_label_over_its_schema_max_length_gets_githubs_wording(fake: FakeGitHub) -> None:
    response = call(fake, "POST", CHECKS, {"name": "gate", "head_sha": HEAD, "actions": [
        {"label": "L" * 21, "description": "re-run the cases", "identifier": "rerun"}]})

    assert response.status_code == 422
    assert response.json()["message"] == "Invalid request.\n\nOnly 20 characters are allowed; 21 were supplied."
    assert error_fields(response) == ["actions[0].label"]


def test_output_title_over_255_characters_is_rejected(fake: FakeGitHub) -> None:
    response = call(fake, "POST", CHECKS, {"name": "gate", "head_sha": HEAD, "conclusion": "success",
                                           "output": {"title": "T" * 256, "summary": "s"}})

    assert response.status_code == 422
    assert error_fields(response) == ["output.title"]


def test_check_run_on_a_commit_github_does_not_have_is_rejected(fake: FakeGitHub) -> None:
    response = call(fake, "POST", CHECKS, {"name": "gate", "head_sha": "f" * 40})

    assert response.status_code == 422
    assert response.json()["message"] == f"No commit found for SHA: {'f' * 40}"
    assert fake.violations[0].field == "head_sha"


def test_comment_body_limit_is_65536_characters(fake: FakeGitHub) -> None:
    accepted = call(fake, "POST", COMMENTS, {"body": "x" * 65_536})
    too_long = call(fake, "POST", COMMENTS, {"body": "x" * 65_537})
    edit = call(fake, "PATCH", f"/repos/{OWNER}/{REPO}/issues/comments/{accepted.json()['id']}", {"body": "y" * 65_537})
    blank = call(fake, "POST", COMMENTS, {"body": "  \n"})

    assert accepted.status_code == 201
    assert too_long.status_code == 422
    assert too_long.json()["message"] == "Validation Failed"
    assert too_long.json()["errors"] == [{
        "resource": "IssueComment", "code": "custom", "field": "body",
        "message": "Body is too long (maximum is 65536 characters, got 65537)",
    }]
    assert edit.status_code == 422
    assert blank.status_code == 422
    assert blank.json()["errors"][0]["message"] == "Body cannot be blank"
    assert [c.body[:1] for c in fake.comments(OWNER, REPO, PR)] == ["x"]


def test_unknown_route_is_404_and_a_violation(fake: FakeGitHub) -> None:
    response = call(fake, "POST", f"/repos/{OWNER}/{REPO}/statuses/{HEAD}", {"state": "success"})
    wrong_method = call(fake, "PUT", COMMENTS, {"body": "x"})

    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"
    assert wrong_method.status_code == 404
    assert [str(v) for v in fake.violations] == [
        f"POST /repos/{OWNER}/{REPO}/statuses/{HEAD} (no operation): "
        "no such operation in GitHub's REST API description (extract)",
        f"PUT {COMMENTS} (no operation): no such operation in GitHub's REST API description (extract)",
    ]


def test_bad_path_and_query_parameters_are_violations(fake: FakeGitHub) -> None:
    bad_id = call(fake, "GET", f"{CHECKS}/not-a-number")
    bad_page = call(fake, "GET", COMMENTS, params={"per_page": "many"})
    unknown = call(fake, "GET", COMMENTS, params={"perpage": "10"})

    assert bad_id.status_code == 404
    assert bad_page.status_code == 422
    assert unknown.status_code == 422
    assert [v.field for v in fake.violations] == ["path:check_run_id", "query:per_page", "query:perpage"]


def test_invalid_json_body_is_400(fake: FakeGitHub) -> None:
    response = httpx.post(fake.url + COMMENTS, content=b"{body:", headers={"Authorization": "token t-write"})

    assert response.status_code == 400
    assert response.json()["message"] == "Problems parsing JSON"
    assert fake.violations[0].message.startswith("body is not valid JSON")


# ---- auth ----------------------------------------------------------------------------------


def test_read_only_token_gets_403_on_writes_but_can_read(fake: FakeGitHub) -> None:
    check = call(fake, "POST", CHECKS, {"name": "gate", "head_sha": HEAD}, token="t-read")
    comment = call(fake, "POST", COMMENTS, {"body": "verdict"}, token="t-read")
    read = call(fake, "GET", f"/repos/{OWNER}/{REPO}/pulls/{PR}", token="t-read")

    assert check.status_code == comment.status_code == 403
    assert check.json()["message"] == "Resource not accessible by integration"
    assert read.status_code == 200
    assert fake.check_runs(OWNER, REPO) == [] and fake.comments(OWNER, REPO, PR) == []
    assert fake.violations == []


def test_pygithub_raises_a_403_for_read_only_writes(fake: FakeGitHub) -> None:
    repo = pygithub(fake, token="t-read").get_repo(f"{OWNER}/{REPO}")

    with pytest.raises(github.GithubException) as raised:
        repo.get_pull(PR).create_issue_comment("verdict")

    assert raised.value.status == 403
    assert raised.value.data["message"] == "Resource not accessible by integration"


def test_missing_or_unknown_token_is_401(fake: FakeGitHub) -> None:
    missing = call(fake, "GET", f"/repos/{OWNER}/{REPO}", token=None)
    unknown = call(fake, "GET", f"/repos/{OWNER}/{REPO}", token="nope")
    bearer = httpx.get(fake.url + f"/repos/{OWNER}/{REPO}", headers={"Authorization": "Bearer t-write"})

    assert (missing.status_code, missing.json()["message"]) == (401, "Requires authentication")
    assert (unknown.status_code, unknown.json()["message"]) == (401, "Bad credentials")
    assert bearer.status_code == 200


# ---- faults --------------------------------------------------------------------------------


def test_fail_next_happens_the_requested_number_of_times(fake: FakeGitHub) -> None:
    fake.fail_next(status=502, times=2)

    statuses = [call(fake, "GET", f"/repos/{OWNER}/{REPO}").status_code for _ in range(4)]

    assert statuses == [502, 502, 200, 200]
    assert fake.pending_faults() == 0


def test_fail_next_only_hits_matching_requests(fake: FakeGitHub) -> None:
    fake.fail_next(status=500, times=1, method="POST", path_contains="/comments")

    read = call(fake, "GET", COMMENTS)
    check = call(fake, "POST", CHECKS, {"name": "gate", "head_sha": HEAD})
    first = call(fake, "POST", COMMENTS, {"body": "a"})
    second = call(fake, "POST", COMMENTS, {"body": "b"})

    assert [read.status_code, check.status_code, first.status_code, second.status_code] == [200, 201, 500, 201]
    assert [c.body for c in fake.comments(OWNER, REPO, PR)] == ["b"]


def test_secondary_rate_limit_looks_like_githubs(fake: FakeGitHub) -> None:
    fake.secondary_rate_limit_next(times=1)

    limited = call(fake, "POST", COMMENTS, {"body": "a"})
    after = call(fake, "POST", COMMENTS, {"body": "a"})

    assert limited.status_code == 403
    assert limited.headers["retry-after"] == "1"
    assert limited.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert after.status_code == 201


def test_primary_rate_limit_sets_remaining_zero_and_a_reset_time(fake: FakeGitHub) -> None:
    fake.primary_rate_limit_next(times=1, status=429, reset_after=1)

    limited = call(fake, "GET", f"/repos/{OWNER}/{REPO}")

    assert limited.status_code == 429
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert 0 <= int(limited.headers["x-ratelimit-reset"]) - time.time() <= 2
    assert limited.json()["message"] == PRIMARY_RATE_LIMIT_MESSAGE


def test_pygithub_retries_through_502s_and_a_secondary_rate_limit(fake: FakeGitHub) -> None:
    fake.fail_next(status=502, times=2, method="POST")
    fake.secondary_rate_limit_next(times=1, method="POST")
    repo = pygithub(fake).get_repo(f"{OWNER}/{REPO}")

    comment = repo.get_issue(PR).create_comment("verdict")

    assert comment.body == "verdict"
    assert [r.status for r in fake.calls("POST")] == [502, 502, 403, 201]
    assert len(fake.comments(OWNER, REPO, PR)) == 1


# ---- PyGithub end to end -------------------------------------------------------------------


def test_pygithub_check_run_lifecycle_with_annotation_batches(fake: FakeGitHub) -> None:
    repo = pygithub(fake).get_repo(f"{OWNER}/{REPO}")
    pull = repo.get_pull(PR)
    run = repo.create_check_run(name="casebank / gate", head_sha=pull.head.sha, status="in_progress")
    notes = [annotation(i + 1) for i in range(120)]

    for start in range(0, 120, 50):
        run.edit(output={"title": "BLOCK: 120 failing", "summary": "120 expectations failed",
                         "annotations": notes[start:start + 50]})
    run.edit(status="completed", conclusion="failure",
             output={"title": "BLOCK: 120 failing", "summary": "see annotations"})

    [stored] = fake.check_runs(OWNER, REPO)
    assert (stored.name, stored.head_sha, stored.status, stored.conclusion) == (
        "casebank / gate", HEAD, "completed", "failure")
    assert [a["start_line"] for a in stored.annotations] == list(range(1, 121))
    assert stored.output["summary"] == "see annotations"
    fetched = repo.get_check_run(run.id)
    assert (fetched.conclusion, fetched.output.annotations_count) == ("failure", 120)
    assert [a.start_line for a in fetched.get_annotations()][-3:] == [118, 119, 120]
    assert [r.name for r in repo.get_commit(HEAD).get_check_runs()] == ["casebank / gate"]
    assert fake.violations == []
    assert fake.response_errors == []


def test_pygithub_comment_create_edit_list_delete(fake: FakeGitHub) -> None:
    repo = pygithub(fake, per_page=100).get_repo(f"{OWNER}/{REPO}")
    issue = repo.get_issue(PR)
    sticky = issue.create_comment("<!-- casebank -->\nBLOCK")
    extra = repo.get_pull(PR).create_issue_comment("<!-- casebank -->\nduplicate")

    sticky.edit("<!-- casebank -->\nSHIP")
    listed = list(issue.get_comments())
    extra.delete()

    assert [c.body for c in listed] == ["<!-- casebank -->\nSHIP", "<!-- casebank -->\nduplicate"]
    assert listed[0].user.login == "github-actions[bot]"
    [left] = fake.comments(OWNER, REPO, PR)
    assert (left.id, left.body) == (sticky.id, "<!-- casebank -->\nSHIP")
    assert fake.calls("GET", "/comments")[0].query == {"per_page": "100"}
    assert fake.violations == []
    assert fake.response_errors == []


def test_comment_pagination_uses_link_headers(fake: FakeGitHub) -> None:
    for index in range(75):
        fake.add_comment(OWNER, REPO, PR, f"comment {index}")

    first = call(fake, "GET", COMMENTS, params={"per_page": 30})
    last = call(fake, "GET", COMMENTS, params={"per_page": 30, "page": 3})
    everything = list(pygithub(fake).get_repo(f"{OWNER}/{REPO}").get_issue(PR).get_comments())

    assert len(first.json()) == 30
    assert f'<{fake.url}{COMMENTS}?per_page=30&page=2>; rel="next"' in first.headers["link"]
    assert f'<{fake.url}{COMMENTS}?per_page=30&page=3>; rel="last"' in first.headers["link"]
    assert [c["body"] for c in last.json()] == [f"comment {i}" for i in range(60, 75)]
    assert 'rel="next"' not in last.headers["link"]
    assert [c.body for c in everything] == [f"comment {i}" for i in range(75)]


def test_enterprise_style_prefix(fake: FakeGitHub) -> None:
    with FakeGitHub(path_prefix="/api/v3") as enterprise:
        enterprise.add_token("t")
        enterprise.add_pull(OWNER, REPO, 1, head_sha=HEAD, base_sha=BASE)
        repo = pygithub(enterprise, token="t").get_repo(f"{OWNER}/{REPO}")

        repo.get_pull(1).create_issue_comment("hi")

        assert enterprise.url.endswith("/api/v3")
        assert [r.path for r in enterprise.requests] == [
            f"/repos/{OWNER}/{REPO}", f"/repos/{OWNER}/{REPO}/pulls/1", f"/repos/{OWNER}/{REPO}/issues/1/comments"]
        assert enterprise.violations == []


def test_fork_pull_request_has_its_head_in_the_fork(fake: FakeGitHub) -> None:
    fake.add_pull(OWNER, REPO, 8, head_sha="4" * 40, base_sha=BASE, fork_owner="contributor", head_ref="fix")
    repo = pygithub(fake).get_repo(f"{OWNER}/{REPO}")

    pull = repo.get_pull(8)
    run = call(fake, "POST", CHECKS, {"name": "gate", "head_sha": "4" * 40}).json()

    assert (pull.head.repo.full_name, pull.head.label, pull.head.repo.fork) == ("contributor/support-bank", "contributor:fix", True)
    assert pull.base.repo.full_name == f"{OWNER}/{REPO}"
    assert run["pull_requests"] == []  # GitHub leaves fork PRs out of check runs
    assert fake.violations == [] and fake.response_errors == []


def test_refs_resolve_like_githubs_and_latest_runs_win(fake: FakeGitHub) -> None:
    fake.add_commit(OWNER, REPO, "5" * 40, branch="main", message="Merge the bank")
    repo = pygithub(fake).get_repo(f"{OWNER}/{REPO}")
    first = repo.create_check_run(name="casebank / gate", head_sha=HEAD, status="in_progress")
    rerun = repo.create_check_run(name="casebank / gate", head_sha=HEAD, conclusion="success",
                                  output={"title": "SHIP", "summary": "all pass"})

    latest = [r.id for r in repo.get_commit("feature").get_check_runs()]
    every = [r.id for r in repo.get_commit(f"pull/{PR}/head").get_check_runs(filter="all")]
    main = repo.get_commit("main")

    assert latest == [rerun.id]
    assert every == [rerun.id, first.id]
    assert (main.sha, main.commit.message) == ("5" * 40, "Merge the bank")
    assert [p.number for p in rerun.pull_requests] == [PR]
    assert fake.violations == [] and fake.response_errors == []


def test_seeding_a_comment_on_a_missing_pull_request_is_a_clear_error(fake: FakeGitHub) -> None:
    with pytest.raises(KeyError, match="octo-org/support-bank#99 does not exist"):
        fake.add_comment(OWNER, REPO, 99, "stale sticky")


# ---- the fake stays honest -----------------------------------------------------------------


def test_every_operation_answers_what_the_description_says(fake: FakeGitHub) -> None:
    fake.add_issue(OWNER, REPO, 9, title="plain issue")
    run = call(fake, "POST", CHECKS, {"name": "gate", "head_sha": HEAD, "status": "in_progress",
                                      "output": {"title": "t", "summary": "s", "annotations": [annotation(1)]}}).json()
    comment = call(fake, "POST", COMMENTS, {"body": "hello"}).json()
    responses = [
        call(fake, "GET", f"/repos/{OWNER}/{REPO}"),
        call(fake, "GET", f"/repos/{OWNER}/{REPO}/pulls/{PR}"),
        call(fake, "GET", f"/repos/{OWNER}/{REPO}/issues/{PR}"),
        call(fake, "GET", f"/repos/{OWNER}/{REPO}/issues/9"),
        call(fake, "GET", f"{CHECKS}/{run['id']}"),
        call(fake, "PATCH", f"{CHECKS}/{run['id']}", {"conclusion": "success", "completed_at": "2024-05-01T10:00:00Z"}),
        call(fake, "GET", f"{CHECKS}/{run['id']}/annotations"),
        call(fake, "GET", f"/repos/{OWNER}/{REPO}/commits/{HEAD}/check-runs", params={"check_name": "gate"}),
        call(fake, "GET", f"/repos/{OWNER}/{REPO}/commits/feature/check-runs"),
        call(fake, "GET", COMMENTS, params={"since": "2000-01-01T00:00:00Z"}),
        call(fake, "GET", f"/repos/{OWNER}/{REPO}/issues/comments/{comment['id']}"),
        call(fake, "PATCH", f"/repos/{OWNER}/{REPO}/issues/comments/{comment['id']}", {"body": "edited"}),
        call(fake, "DELETE", f"/repos/{OWNER}/{REPO}/issues/comments/{comment['id']}"),
        call(fake, "GET", f"/repos/{OWNER}/{REPO}/pulls/999"),
    ]

    assert [r.status_code for r in responses] == [200] * 12 + [204, 404]
    served = {fake.operation_of(r.method, r.path) for r in fake.requests}
    assert served == set(HANDLERS) - {"repos/get-commit"}
    assert fake.violations == []
    assert fake.response_errors == []


def test_response_errors_catch_a_fake_that_drifts_from_the_description(fake: FakeGitHub) -> None:
    original = fake.comment_json

    def broken(comment: Any) -> dict[str, Any]:
        data = original(comment)
        del data["user"]
        data["id"] = str(data["id"])
        return data

    fake.comment_json = broken  # type: ignore[method-assign]
    call(fake, "POST", COMMENTS, {"body": "hi"})

    assert len(fake.response_errors) == 2
    assert any("'user' is a required property" in e for e in fake.response_errors)
    assert any("(response)" not in e and "id" in e for e in fake.response_errors)


# ---- the vendored contract -----------------------------------------------------------------


def test_nullable_becomes_a_type_union() -> None:
    converted = to_json_schema({"type": "string", "enum": ["a"], "nullable": True, "example": "a",
                                "properties": {"description": {"type": "string"}}})
    ref = to_json_schema({"allOf": [{"$ref": "#/components/schemas/x"}], "nullable": True})

    assert converted == {"type": ["string", "null"], "enum": ["a", None],
                         "properties": {"description": {"type": "string"}}}
    assert ref == {"anyOf": [{"type": "null"}, {"allOf": [{"$ref": "urn:casebank:github-openapi#/components/schemas/x"}]}]}


def test_extract_holds_exactly_the_served_operations_and_its_provenance() -> None:
    spec = importlib.util.spec_from_file_location("vendor", ROOT / "scripts" / "vendor_github_openapi.py")
    assert spec and spec.loader
    vendor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vendor)
    operations = load_operations()
    version = dict(line.split(": ", 1) for line in (EXTRACT_DIR / "VERSION").read_text().splitlines())

    assert {o.operation_id for o in operations} == set(HANDLERS)
    assert {(o.method.lower(), o.path) for o in operations} == set(vendor.OPERATIONS)
    assert version["package"] == "@octokit/openapi"
    assert version["source"] == "generated/api.github.com.json"
    assert version["version"] == json.loads((EXTRACT_DIR / "operations.json").read_text())["info"]["version"]


# ---- event payloads ------------------------------------------------------------------------


def test_event_payloads_carry_the_substituted_repository_shas_and_numbers(tmp_path: Path) -> None:
    from tests.fakes.webhooks import events, load_event, write_event

    for name in events():
        text = json.dumps(load_event(name, repo="acme/bank", number=42, head_sha=HEAD, base_sha=BASE))
        assert "Codertocat/Hello-World" not in text and "octo-org/octo-repo" not in text, name
        assert '"full_name": "acme/bank"' in text, name

    opened = load_event("pull_request.opened", repo="acme/bank", number=42, head_sha=HEAD, base_sha=BASE)
    pull = opened["pull_request"]
    assert (opened["number"], pull["number"], pull["head"]["sha"], pull["base"]["sha"]) == (42, 42, HEAD, BASE)
    assert pull["html_url"] == "https://github.com/acme/bank/pull/42"
    assert pull["base"]["ref"] == opened["repository"]["default_branch"] == "main"

    synchronize = load_event("pull_request.synchronize", repo="acme/bank", number=42, head_sha=HEAD, base_sha=BASE)
    assert (synchronize["action"], synchronize["after"]) == ("synchronize", HEAD)

    fork = load_event("pull_request.opened.fork", repo="acme/bank", head_sha=HEAD, base_sha=BASE, fork_owner="eve")
    head = fork["pull_request"]["head"]
    assert (head["repo"]["full_name"], head["repo"]["fork"], head["label"]) == ("eve/bank", True, "eve:changes")
    assert fork["pull_request"]["base"]["repo"]["full_name"] == fork["repository"]["full_name"] == "acme/bank"

    group = load_event("merge_group.checks_requested", repo="acme/bank", number=42, head_sha=HEAD, base_sha=BASE)
    assert (group["merge_group"]["head_sha"], group["merge_group"]["base_sha"]) == (HEAD, BASE)
    assert group["merge_group"]["base_ref"] == "refs/heads/main"
    assert "pull_request" not in group

    push = load_event("push", repo="acme/bank", head_sha=HEAD, base_sha=BASE, default_branch="trunk")
    assert (push["ref"], push["after"], push["before"], push["repository"]["default_branch"]) == (
        "refs/heads/trunk", HEAD, BASE, "trunk")

    name, path = write_event(tmp_path, "workflow_dispatch", repo="acme/bank")
    assert name == "workflow_dispatch"
    assert json.loads(path.read_text())["ref"] == "refs/heads/main"


def test_event_payloads_record_their_provenance() -> None:
    from tests.fakes.webhooks import HERE, events

    source = (HERE / "SOURCE").read_text()

    assert "package: @octokit/webhooks-examples" in source
    for name in events():
        assert f"{name}.json:" in source
    with pytest.raises(KeyError, match="no event payload 'pull_request.closed'"):
        from tests.fakes.webhooks import load_event

        load_event("pull_request.closed")
