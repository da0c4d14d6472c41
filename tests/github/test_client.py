"""The GitHub client: what is retried, how long it waits, and what a failure leaves behind."""

from __future__ import annotations

import time

import pytest

from casebank.github import checks, comment
from casebank.github.client import GitHubApi, GitHubRetry, rate_limit_wait
from casebank.report.markdown import CheckText
from tests.fakes.github_api import FakeGitHub

HEAD, BASE = "a" * 40, "b" * 40


class Answer:
    def __init__(self, status: int, headers: dict[str, str]) -> None:
        self.status, self.headers = status, headers


@pytest.fixture
def fake():
    with FakeGitHub() as server:
        server.add_token("w", write=True)
        server.add_token("r", write=False)
        server.add_pull("octo", "bank", 7, head_sha=HEAD, base_sha=BASE)
        yield server
        assert server.violations == []


def test_waits_follow_what_github_asks_capped_by_the_backoff_base() -> None:
    now = time.time()
    assert rate_limit_wait({"Retry-After": "7"}) == 7
    assert rate_limit_wait({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 30)},
                           now=now) == pytest.approx(30, abs=1)
    assert rate_limit_wait({"x-ratelimit-remaining": "12", "x-ratelimit-reset": "1"}) is None
    retry = GitHubRetry(backoff=1.0)
    assert retry.wait_seconds(Answer(403, {"Retry-After": "3600"})) == 60  # capped at 60 x base
    assert retry.wait_seconds(Answer(429, {})) == 60  # a rate limit without a hint: a minute
    assert retry.wait_seconds(Answer(502, {})) == 1
    later = retry.increment("GET", "/x", error=ConnectionError("reset")).increment(
        "GET", "/x", error=ConnectionError("reset"))
    assert later.wait_seconds(Answer(502, {})) == 2  # exponential
    assert GitHubRetry(backoff=0.01).wait_seconds(Answer(403, {"Retry-After": "3600"})) == \
        pytest.approx(0.6)


def test_primary_rate_limit_is_waited_out_and_retried(fake) -> None:
    api = GitHubApi(fake.url, "w", "octo/bank", backoff=0.001)
    fake.primary_rate_limit_next(times=2, method="POST")
    run = checks.start(api, "casebank / gate", HEAD)
    assert run.run is not None and api.failures == []
    assert [c.status for c in fake.calls("POST")] == [429, 429, 201]


def test_a_persistent_rate_limit_is_not_mistaken_for_a_read_only_token(fake) -> None:
    api = GitHubApi(fake.url, "w", "octo/bank", backoff=0.001, retries=2)
    fake.secondary_rate_limit_next(times=3, method="POST")
    run = checks.start(api, "casebank / gate", HEAD)
    assert run.run is None
    [failure] = api.failures
    assert failure.kind == "rate-limited" and failure.status == 403
    assert "secondary rate limit" in failure.render()
    assert not api.read_only
    again = checks.start(api, "casebank / gate", HEAD)  # later writes are still attempted
    assert again.run is not None


def test_a_read_only_token_stops_further_writes_after_one_refusal(fake) -> None:
    api = GitHubApi(fake.url, "r", "octo/bank", backoff=0.001)
    run = checks.start(api, "casebank / gate", HEAD)
    checks.complete(api, run, "failure", CheckText("BLOCK", "summary"))
    result = comment.post(api, 7, "<!-- casebank:comment -->\n<!-- casebank:check x -->\nhi",
                          check_name="x", state="s", decision="BLOCK")
    assert api.read_only and result.action == comment.NOT_POSTED
    assert [(c.method, c.status) for c in fake.requests] == [("POST", 403)]  # nothing more sent
    assert api.failures[0].render() == ("could not create check run 'casebank / gate': HTTP 403 "
                                        "(Resource not accessible by integration)")


def test_a_check_run_that_could_not_start_is_created_completed(fake) -> None:
    api = GitHubApi(fake.url, "w", "octo/bank", backoff=0.001, retries=1)
    fake.fail_next(500, times=2, method="POST")
    run = checks.start(api, "casebank / gate", HEAD)
    assert run.run is None
    checks.complete(api, run, "success", CheckText("SHIP: 3 passed of 3 run", "all good"))
    [stored] = fake.check_runs("octo", "bank")
    assert (stored.status, stored.conclusion) == ("completed", "success")


def test_on_change_posts_once_there_is_something_to_say_then_follows_changes(fake) -> None:
    api = GitHubApi(fake.url, "w", "octo/bank", backoff=0.001)
    marker = "<!-- casebank:comment -->\n<!-- casebank:check casebank -->\n"

    def post(state: str, decision: str) -> str:
        body = f"{marker}<!-- casebank:state {state} -->\n{decision}"
        return comment.post(api, 7, body, check_name="casebank", state=state, decision=decision,
                            mode="on-change").action

    assert post("s1", "SHIP") == comment.NOT_POSTED  # a quiet pull request stays quiet
    assert fake.comments("octo", "bank", 7) == []
    assert post("s2", "BLOCK") == comment.CREATED
    assert post("s2", "BLOCK") == comment.UNCHANGED
    assert post("s3", "SHIP") == comment.UPDATED  # the fix is reported on the same comment
    [only] = fake.comments("octo", "bank", 7)
    assert only.body.endswith("SHIP")


def test_a_persons_comment_carrying_the_marker_is_never_taken_for_ours(fake) -> None:
    # Anyone can comment on a public pull request, also with our hidden marker. Editing that
    # comment would hand its author a "casebank report" they can edit back; deleting it as a
    # "copy" would remove a person's comment.
    fake.add_token("ghs_app", write=True)  # GITHUB_TOKEN: an app installation token
    api = GitHubApi(fake.url, "ghs_app", "octo/bank", backoff=0.001)
    marker = "<!-- casebank:comment -->\n<!-- casebank:check casebank -->\n"
    before = fake.add_comment("octo", "bank", 7, marker + "SHIP (trust me)", login="mallory")
    result = comment.post(api, 7, marker + "BLOCK", check_name="casebank", state="s",
                          decision="BLOCK")
    after = fake.add_comment("octo", "bank", 7, marker + "SHIP again", login="mallory")
    again = comment.post(api, 7, marker + "BLOCK, still", check_name="casebank", state="s2",
                         decision="BLOCK")
    assert (result.action, again.action) == (comment.CREATED, comment.UPDATED)
    bodies = {c.id: (c.user, c.body) for c in fake.comments("octo", "bank", 7)}
    assert bodies[before] == ("mallory", marker + "SHIP (trust me)")
    assert bodies[after] == ("mallory", marker + "SHIP again")
    ours = [b for user, b in bodies.values() if user == "github-actions[bot]"]
    assert ours == [marker + "BLOCK, still"]
    assert api.failures == [] and not api.read_only
