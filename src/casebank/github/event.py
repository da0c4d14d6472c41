"""The event that started the workflow → which commit to report on, what to compare it with.

- ``pull_request`` (and ``pull_request_target``): report on the PR's head commit (not the
  merge commit Actions checks out), compare with ``pull_request.base.sha``; comment on the PR.
- ``merge_group``: report on ``merge_group.head_sha``, compare with ``base_sha``; no comment.
- ``push``: the full suite; on the default branch the evidence becomes the baseline.
- ``workflow_dispatch`` / ``schedule``: the full suite on ``GITHUB_SHA``.
- ``workflow_run``: the fork-safe report: a trusted workflow posts, for the pull request a
  fork's run was about, what that run uploaded (see docs/github.md, "Pull requests from forks").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casebank.errors import UserError

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
FULL_SUITE_EVENTS = ("push", "merge_group", "workflow_dispatch", "schedule")
EVENTS = (*PULL_REQUEST_EVENTS, "merge_group", "push", "workflow_dispatch", "schedule",
          "workflow_run")


@dataclass(frozen=True)
class Event:
    name: str
    head_sha: str  # the commit the check runs are attached to
    base_sha: str | None = None  # what the change is compared with (None: no comparison)
    pull_number: int | None = None
    fork: bool = False  # the PR comes from another repository: its token cannot write
    ref: str | None = None
    default_branch: str | None = None
    # workflow_run only: the run whose uploaded evidence is reported, and its head.
    run_id: int | None = None
    run_event: str | None = None
    head_owner: str | None = None
    head_branch: str | None = None

    @property
    def is_pull_request(self) -> bool:
        return self.name in PULL_REQUEST_EVENTS or (
            self.name == "workflow_run" and self.run_event in PULL_REQUEST_EVENTS)

    @property
    def wants_comment(self) -> bool:
        """Pull requests get the sticky comment; merge queues, pushes and schedules do not."""
        return self.is_pull_request

    @property
    def full_suite_required(self) -> bool:
        """Events that stand for "about to release" always run the whole bank."""
        return self.name in FULL_SUITE_EVENTS

    @property
    def records_baseline(self) -> bool:
        """A push to the default branch: its evidence is what later PRs are compared with."""
        return (self.name == "push" and self.default_branch is not None
                and self.ref == f"refs/heads/{self.default_branch}")


def _get(payload: dict[str, Any], *keys: str) -> Any:
    node: Any = payload
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _need(payload: dict[str, Any], where: str, *keys: str) -> str:
    value = _get(payload, *keys)
    if not isinstance(value, str) or not value:
        raise UserError(f"{where}: the {'.'.join(keys)} field is missing; is GITHUB_EVENT_PATH "
                        "the payload of the event named by GITHUB_EVENT_NAME?")
    return value


def read_payload(path: str | None) -> dict[str, Any]:
    """The webhook payload GitHub wrote to ``GITHUB_EVENT_PATH`` ({} when there is none)."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UserError(f"GITHUB_EVENT_PATH {path}: no such file") from exc
    except (OSError, ValueError) as exc:
        raise UserError(f"GITHUB_EVENT_PATH {path}: not a JSON event payload ({exc})") from exc
    if not isinstance(data, dict):
        raise UserError(f"GITHUB_EVENT_PATH {path}: not a JSON object")
    return data


def parse_event(name: str | None, payload: dict[str, Any], sha: str | None,
                where: str = "GITHUB_EVENT_PATH") -> Event:
    """The ``Event`` for a payload; UserError when the event is not one casebank handles."""
    if not name:
        if not sha:
            raise UserError("GITHUB_EVENT_NAME and GITHUB_SHA are not set: run `casebank action` "
                            "in a GitHub Actions step, or set them (see docs/github.md)")
        return Event(name="workflow_dispatch", head_sha=sha)
    default_branch = _get(payload, "repository", "default_branch")
    if name in PULL_REQUEST_EVENTS:
        # head.repo is null when the fork was deleted; head.repo.fork is true for any repo
        # that is a fork, even for a PR between its own branches, so compare names.
        head_repo = _get(payload, "pull_request", "head", "repo", "full_name")
        base_repo = _get(payload, "pull_request", "base", "repo", "full_name")
        fork = head_repo is None or head_repo != base_repo
        number = _get(payload, "pull_request", "number") or _get(payload, "number")
        if not isinstance(number, int):
            raise UserError(f"{where}: pull_request.number is missing")
        return Event(name=name, head_sha=_need(payload, where, "pull_request", "head", "sha"),
                     base_sha=_need(payload, where, "pull_request", "base", "sha"),
                     pull_number=number, fork=fork,
                     ref=_get(payload, "pull_request", "head", "ref"),
                     default_branch=default_branch)
    if name == "merge_group":
        return Event(name=name, head_sha=_need(payload, where, "merge_group", "head_sha"),
                     base_sha=_need(payload, where, "merge_group", "base_sha"),
                     ref=_get(payload, "merge_group", "head_ref"), default_branch=default_branch)
    if name == "push":
        head = _get(payload, "after") or sha
        if not head:
            raise UserError(f"{where}: push payload without 'after' and GITHUB_SHA is not set")
        return Event(name=name, head_sha=head, ref=_get(payload, "ref"),
                     default_branch=default_branch)
    if name in ("workflow_dispatch", "schedule"):
        if not sha:
            raise UserError(f"GITHUB_SHA is not set for the {name} event")
        return Event(name=name, head_sha=sha, ref=_get(payload, "ref"),
                     default_branch=default_branch)
    if name == "workflow_run":
        run = _get(payload, "workflow_run") or {}
        pulls = run.get("pull_requests") or []
        first = pulls[0] if pulls and isinstance(pulls[0], dict) else {}
        run_id = run.get("id")
        return Event(name=name, head_sha=_need(payload, where, "workflow_run", "head_sha"),
                     base_sha=_get(first, "base", "sha"),
                     pull_number=first.get("number") if isinstance(first.get("number"), int)
                     else None,
                     fork=_get(run, "head_repository", "full_name")
                     != _get(payload, "repository", "full_name"),
                     ref=run.get("head_branch"), default_branch=default_branch,
                     run_id=run_id if isinstance(run_id, int) else None,
                     run_event=run.get("event"),
                     head_owner=_get(run, "head_repository", "owner", "login"),
                     head_branch=run.get("head_branch"))
    raise UserError(f"casebank action does not handle the {name!r} event; run it on "
                    f"{', '.join(EVENTS)} (see docs/github.md)")
