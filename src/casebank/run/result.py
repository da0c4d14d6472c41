"""Per-sample and per-case outcomes. Unknown is never a pass."""

from __future__ import annotations

from dataclasses import dataclass, field

from casebank.check.result import ERROR, FAIL, PASS, UNCERTAIN, CheckResult
from casebank.run.sample import SampleOutput


@dataclass
class SampleResult:
    sample: SampleOutput
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """error if the target failed or any check errored; else fail, uncertain, pass."""
        if self.sample.error is not None:
            return ERROR
        statuses = {c.status for c in self.checks}
        if not self.checks or ERROR in statuses:
            return ERROR
        if FAIL in statuses:
            return FAIL
        if UNCERTAIN in statuses:
            return UNCERTAIN
        return PASS


def case_outcome(outcomes: list[str], samples: int, min_pass: int) -> str:
    """Apply the pass rule to sample outcomes.

    pass when at least ``min_pass`` samples passed (errored samples count as not passed);
    fail when so many failed that the rule can no longer be met; otherwise the missing
    evidence decides: uncertain if any sample was uncertain, else error. Fewer outcomes
    than ``samples`` (samples never run) count as errors.
    """
    passed = outcomes.count(PASS)
    failed = outcomes.count(FAIL)
    if passed >= min_pass:
        return PASS
    if failed > samples - min_pass:
        return FAIL
    if UNCERTAIN in outcomes:
        return UNCERTAIN
    return ERROR


def is_flaky(outcomes: list[str]) -> bool:
    """Mixed pass and fail across samples of one case."""
    return PASS in outcomes and FAIL in outcomes


NOT_RUN = "not_run"


@dataclass
class CaseResult:
    """Everything later stages need to know about one case's run, without the YAML."""

    case_id: str
    path: str
    title: str
    severity: str
    source_kind: str
    review: str
    content_hash: str
    samples_required: int  # the rule: at least min_pass of samples_required
    min_pass: int
    tags: list[str] = field(default_factory=list)
    source_ref: str | None = None
    owner: str | None = None
    line: int = 1  # line of the case's id, for annotations not tied to one expectation
    samples: list[SampleResult] = field(default_factory=list)
    not_run_reason: str | None = None  # set when the case was selected but not run

    @property
    def sample_outcomes(self) -> list[str]:
        return [s.outcome for s in self.samples]

    @property
    def outcome(self) -> str:
        if self.not_run_reason is not None:
            return NOT_RUN
        return case_outcome(self.sample_outcomes, self.samples_required, self.min_pass)

    @property
    def flaky(self) -> bool:
        return is_flaky(self.sample_outcomes)
