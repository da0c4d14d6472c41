"""Check runs: created ``in_progress`` when the action starts, completed with the verdict.

The conclusion follows the verdict: SHIP → success, BLOCK → failure, HOLD → the policy's
``hold_conclusion`` (``action_required``, which blocks a required check, or ``neutral``).
Annotations go 50 per request (GitHub's limit): the first 50 with the completion, the rest
in further updates of the same run, which GitHub appends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from casebank.gate.verdict import BLOCK, HOLD, SHIP
from casebank.github.client import GitHubApi
from casebank.report.annotations import Annotation, batches
from casebank.report.markdown import CheckText

SUCCESS = "success"
FAILURE = "failure"
NEUTRAL = "neutral"
ACTION_REQUIRED = "action_required"
HOLD_CONCLUSIONS = (ACTION_REQUIRED, NEUTRAL)


def conclusion_for(decision: str, hold_conclusion: str = ACTION_REQUIRED) -> str:
    """The check run conclusion for a verdict."""
    if decision == SHIP:
        return SUCCESS
    if decision == BLOCK:
        return FAILURE
    if decision == HOLD:
        return hold_conclusion if hold_conclusion in HOLD_CONCLUSIONS else ACTION_REQUIRED
    raise ValueError(f"unknown verdict {decision!r}")


@dataclass
class CheckRun:
    """Our handle on one check run; ``run`` is None when GitHub did not create it."""

    name: str
    head_sha: str
    details_url: str | None = None
    run: Any = None  # github.CheckRun.CheckRun
    annotations_posted: int = 0
    completed: bool = False
    conclusion: str | None = None
    requests: list[str] = field(default_factory=list)

    @property
    def url(self) -> str | None:
        return getattr(self.run, "html_url", None) if self.run is not None else None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def start(api: GitHubApi, name: str, head_sha: str, details_url: str | None = None,
          summary: str = "casebank is running the cases.") -> CheckRun:
    """Create the check run as ``in_progress`` (so the PR shows it is coming)."""
    check = CheckRun(name=name, head_sha=head_sha, details_url=details_url)
    extra = {"details_url": details_url} if details_url else {}
    check.run = api.write(f"create check run {name!r}", lambda: api.repo.create_check_run(
        name=name, head_sha=head_sha, status="in_progress", started_at=_now(),
        output={"title": "Running", "summary": summary}, **extra))
    return check


def complete(api: GitHubApi, check: CheckRun, conclusion: str, output: CheckText,
             annotations: list[Annotation] | None = None) -> None:
    """Complete the run with its conclusion, output and all annotations (50 per request).

    When the in-progress run could not be created (a GitHub outage at the start), the
    completed run is created now instead.
    """
    parts = batches(annotations or [])
    first = parts[0] if parts else []
    body = output.to_github()
    extra = {"details_url": check.details_url} if check.details_url else {}
    with_first: dict[str, Any] = {**body, "annotations": [a.to_github() for a in first]}
    if check.run is not None:
        run = check.run
        ok = api.try_write(f"complete check run {check.name!r}", lambda: run.edit(
            status="completed", conclusion=conclusion, completed_at=_now(), output=with_first))
    else:
        check.run = api.write(f"create check run {check.name!r}", lambda: api.repo.create_check_run(
            name=check.name, head_sha=check.head_sha, status="completed", conclusion=conclusion,
            completed_at=_now(), output=with_first, **extra))
        ok = check.run is not None
    if not ok:
        return
    check.completed = True
    check.conclusion = conclusion
    check.annotations_posted = len(first)
    run = check.run
    for number, part in enumerate(parts[1:], start=2):
        more = {**body, "annotations": [a.to_github() for a in part]}
        if not api.try_write(f"add annotations (batch {number} of {len(parts)}) to "
                             f"{check.name!r}", lambda more=more: run.edit(output=more)):
            break
        check.annotations_posted += len(part)
