"""The action's inputs (``INPUT_*``) and the runner's context (``GITHUB_*``), read once.

GitHub passes each ``with:`` input as ``INPUT_<NAME>``: upper-cased, spaces turned into
``_``, hyphens kept (``github-token`` → ``INPUT_GITHUB-TOKEN``). Shells cannot easily set
names with hyphens, so the underscore spelling (``INPUT_GITHUB_TOKEN``) is accepted too.
Command-line flags of ``casebank action`` override both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from casebank.errors import UserError

SUITES = ("auto", "changed", "full")
COMMENT_MODES = ("always", "on-change", "off")
FAIL_ON = ("block", "hold")
MODES = ("run", "merge")

DEFAULT_EVIDENCE = ".casebank/evidence.json"


@dataclass(frozen=True)
class Inputs:
    """The ``with:`` block of the workflow step (see action.yml for each one's meaning)."""

    config: str = "casebank.yaml"
    suite: str = "auto"
    target: str | None = None
    github_token: str | None = None
    check_name: str = "casebank"
    comment: str = "always"
    fail_on: str = "block"
    shard: str | None = None
    mode: str = "run"
    evidence: str = DEFAULT_EVIDENCE


@dataclass(frozen=True)
class Context:
    """What the runner tells every step about the workflow run."""

    api_url: str = "https://api.github.com"
    server_url: str = "https://github.com"
    repository: str | None = None  # owner/name
    event_name: str | None = None
    event_path: str | None = None
    sha: str | None = None
    workspace: Path = Path(".")
    step_summary: str | None = None
    output: str | None = None
    run_id: str | None = None

    @property
    def run_url(self) -> str | None:
        """The workflow run's page, where the logs, summary and artifacts are."""
        if self.repository and self.run_id:
            return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"
        return None


def _input(env: Mapping[str, str], name: str) -> str | None:
    for key in (f"INPUT_{name.upper().replace(' ', '_')}",
                f"INPUT_{name.upper().replace(' ', '_').replace('-', '_')}"):
        value = env.get(key)
        if value is not None and value.strip() != "":
            return value.strip()
    return None


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = _input(env, name)
    if value is None:
        return default
    if value.lower() not in choices:
        raise UserError(f"input {name}: {value!r} is not one of {', '.join(choices)} "
                        f"(set it in the step's with: block, e.g. {name}: {default})")
    return value.lower()


def read_inputs(env: Mapping[str, str] | None = None) -> Inputs:
    """The action inputs from ``INPUT_*`` variables, validated (UserError names the input)."""
    env = os.environ if env is None else env
    defaults = Inputs()
    check_name = _input(env, "check-name") or defaults.check_name
    if len(check_name) > 80:
        raise UserError(f"input check-name: {len(check_name)} characters; keep it under 80 "
                        "(GitHub shows it in the merge box)")
    return Inputs(
        config=_input(env, "config") or defaults.config,
        suite=_choice(env, "suite", SUITES, defaults.suite),
        target=_input(env, "target"),
        github_token=_input(env, "github-token") or env.get("GITHUB_TOKEN") or None,
        check_name=check_name,
        comment=_choice(env, "comment", COMMENT_MODES, defaults.comment),
        fail_on=_choice(env, "fail-on", FAIL_ON, defaults.fail_on),
        shard=_input(env, "shard"),
        mode=_choice(env, "mode", MODES, defaults.mode),
        evidence=_input(env, "evidence") or defaults.evidence,
    )


def override(inputs: Inputs, **values: str | None) -> Inputs:
    """Inputs with the given command-line values (None = not given) taking precedence."""
    given = {k: v for k, v in values.items() if v is not None}
    return replace(inputs, **given)


def read_context(env: Mapping[str, str] | None = None) -> Context:
    """The ``GITHUB_*`` variables a workflow step sees (defaults for a run outside Actions)."""
    env = os.environ if env is None else env

    def get(name: str) -> str | None:
        value = env.get(name)
        return value if value else None

    return Context(
        api_url=(get("GITHUB_API_URL") or Context.api_url).rstrip("/"),
        server_url=(get("GITHUB_SERVER_URL") or Context.server_url).rstrip("/"),
        repository=get("GITHUB_REPOSITORY"),
        event_name=get("GITHUB_EVENT_NAME"),
        event_path=get("GITHUB_EVENT_PATH"),
        sha=get("GITHUB_SHA"),
        workspace=Path(get("GITHUB_WORKSPACE") or os.getcwd()),
        step_summary=get("GITHUB_STEP_SUMMARY"),
        output=get("GITHUB_OUTPUT"),
        run_id=get("GITHUB_RUN_ID"),
    )
