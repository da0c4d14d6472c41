"""Event payloads shaped like GitHub's, for ``GITHUB_EVENT_PATH`` in tests of the action.

The JSON files here come from the npm package ``@octokit/webhooks-examples`` (see ``SOURCE``;
regenerate with ``vendor.py``). ``load_event`` returns one with your repository, numbers, shas
and branches substituted everywhere they appear (ids, labels, URLs), so the payload stays
consistent with what you seeded in ``FakeGitHub``::

    from tests.fakes.webhooks import load_event, write_event

    payload = load_event("pull_request.opened", repo="octo-org/support-bank", number=7,
                         head_sha=head, base_sha=base)
    event_name, path = write_event(tmp_path, "merge_group.checks_requested", head_sha=head, base_sha=base)
    env = {"GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(path), ...}

Payloads: ``pull_request.opened``, ``pull_request.synchronize``, ``pull_request.opened.fork``
(head branch in ``fork_owner/<repo>``), ``merge_group.checks_requested``, ``push`` (to the
default branch) and ``workflow_dispatch``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FORK_OWNER = "contributor"  # the fork owner in pull_request.opened.fork.json


def events() -> list[str]:
    """The payload names available."""
    return sorted(path.name.removesuffix(".json") for path in HERE.glob("*.json"))


def event_name(name: str) -> str:
    """The ``GITHUB_EVENT_NAME`` of a payload name (``pull_request.opened.fork`` → ``pull_request``)."""
    return name.split(".", 1)[0]


def _walk(node: Any, change: Callable[[str], str]) -> Any:
    if isinstance(node, dict):
        return {key: _walk(value, change) for key, value in node.items()}
    if isinstance(node, list):
        return [_walk(item, change) for item in node]
    return change(node) if isinstance(node, str) else node


def _renamer(old_owner: str, old_name: str, owner: str, name: str, fork_owner: str,
             values: dict[str, str], number: tuple[int, int] | None) -> Callable[[str], str]:
    owners = {old_owner: owner, FORK_OWNER: fork_owner}

    def change(text: str) -> str:
        if text in values:
            return values[text]
        text = text.replace(f"{old_owner}/{old_name}", f"{owner}/{name}")
        text = text.replace(f"{FORK_OWNER}/{old_name}", f"{fork_owner}/{name}")
        for old, new in values.items():
            text = text.replace(old, new)
        for old, new in owners.items():
            if text == old:
                return new
            text = re.sub(rf"(?<=/){re.escape(old)}(?=$|[/?{{#])", new, text)
            if text.startswith(f"{old}:"):
                text = new + text[len(old):]
        if number is not None:
            text = re.sub(rf"/(pulls|pull|issues)/{number[0]}(?=$|[/?#.{{])", rf"/\g<1>/{number[1]}", text)
        return text

    return change


def load_event(
    name: str,
    *,
    repo: str = "octo-org/support-bank",
    number: int | None = None,
    head_sha: str | None = None,
    base_sha: str | None = None,
    head_ref: str | None = None,
    base_ref: str | None = None,
    default_branch: str = "main",
    fork_owner: str = FORK_OWNER,
) -> dict[str, Any]:
    """A payload with the repository, PR number, shas and branches substituted.

    For ``push``, ``head_sha`` is ``after`` and ``base_sha`` is ``before``; for ``merge_group``
    they are ``merge_group.head_sha``/``base_sha`` and ``number`` names the queued PR.
    """
    path = HERE / f"{name}.json"
    if not path.exists():
        raise KeyError(f"no event payload {name!r}; choose from {events()}")
    payload: dict[str, Any] = json.loads(path.read_text())
    owner, _, repo_name = repo.partition("/")
    old_owner = payload["repository"]["owner"]["login"]
    old_name = payload["repository"]["name"]
    base_ref = base_ref or default_branch
    kind = event_name(name)

    old: dict[str, str | None] = {"head_sha": None, "base_sha": None, "head_ref": None, "base_ref": None}
    old_number: int | None = None
    if kind == "pull_request":
        pull = payload["pull_request"]
        old = {"head_sha": pull["head"]["sha"], "base_sha": pull["base"]["sha"],
               "head_ref": pull["head"]["ref"], "base_ref": pull["base"]["ref"]}
        old_number = pull["number"]
    elif kind == "merge_group":
        group = payload["merge_group"]
        old = {"head_sha": group["head_sha"], "base_sha": group["base_sha"], "head_ref": None, "base_ref": None}
    elif kind == "push":
        old = {"head_sha": payload["after"], "base_sha": payload["before"], "head_ref": None, "base_ref": None}

    values: dict[str, str] = {}
    for key, new in (("head_sha", head_sha), ("base_sha", base_sha)):
        if new and old[key] and set(old[key] or "") != {"0"}:
            values[old[key] or ""] = new
    number_change = (old_number, number) if old_number is not None and number is not None else None
    change = _renamer(old_owner, old_name, owner, repo_name, fork_owner, values, number_change)
    payload = _walk(payload, change)
    _rename_repositories(payload, old_name, repo_name, default_branch)

    if kind == "pull_request":
        pull = payload["pull_request"]
        if number is not None:
            payload["number"] = pull["number"] = number
        pull["base"]["ref"] = base_ref
        pull["base"]["label"] = f"{owner}:{base_ref}"
        if head_ref:
            pull["head"]["ref"] = head_ref
            pull["head"]["label"] = f"{pull['head']['label'].split(':')[0]}:{head_ref}"
    elif kind == "merge_group":
        group = payload["merge_group"]
        group["base_ref"] = f"refs/heads/{base_ref}"
        group["head_ref"] = f"refs/heads/gh-readonly-queue/{base_ref}/pr-{number or 1}-{group['base_sha']}"
        group["head_commit"]["id"] = group["head_sha"]
    elif kind == "push":
        payload["ref"] = f"refs/heads/{head_ref or default_branch}"
        if base_sha:
            payload["before"] = base_sha
        if payload.get("head_commit"):
            payload["head_commit"]["id"] = payload["after"]
    elif kind == "workflow_dispatch":
        payload["ref"] = f"refs/heads/{head_ref or default_branch}"
    return payload


def _rename_repositories(node: Any, old_name: str, name: str, default_branch: str) -> None:
    """Repository objects: the new name, and the default branch GitHub reports."""
    if isinstance(node, dict):
        if "full_name" in node and "default_branch" in node:
            if node.get("name") == old_name:
                node["name"] = name
            node["default_branch"] = default_branch
            if "master_branch" in node:
                node["master_branch"] = default_branch
        for value in node.values():
            _rename_repositories(value, old_name, name, default_branch)
    elif isinstance(node, list):
        for item in node:
            _rename_repositories(item, old_name, name, default_branch)


def write_event(directory: Path, name: str, **substitutions: Any) -> tuple[str, Path]:
    """Write a payload to ``directory/event.json``; returns (GITHUB_EVENT_NAME, path)."""
    path = Path(directory) / "event.json"
    path.write_text(json.dumps(load_event(name, **substitutions), indent=2))
    return event_name(name), path
