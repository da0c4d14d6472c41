"""Evidence built by hand for unit tests of the gate (scenario tests use real runs)."""

from __future__ import annotations

from casebank.check.result import CheckResult
from casebank.evidence import Evidence
from casebank.run.result import CaseResult, SampleResult
from casebank.run.sample import SampleOutput


def case(case_id: str, *statuses: str, severity: str = "high", tags: tuple[str, ...] = (),
         review: str = "never", min_pass: int | None = None, output: str | None = None,
         not_run: str | None = None, error: str | None = None) -> CaseResult:
    """A case whose samples had the given check statuses (one check per sample)."""
    samples = []
    for index, status in enumerate(statuses):
        text = output if output is not None else f"answer {index} of {case_id}"
        sample = SampleOutput(index=index, output=None if error else text, error=error)
        checks = [] if error else [CheckResult(
            kind="contains", status=status, line=12, index=0,
            message=f"the output does not contain 'refund' ({status})")]
        samples.append(SampleResult(sample=sample, checks=checks))
    count = max(len(statuses), 1)
    return CaseResult(
        case_id=case_id, path=f"cases/{case_id}.yaml", title=f"Title of {case_id}",
        severity=severity, source_kind="incident", review=review,
        content_hash=f"sha256:{case_id}", samples_required=count,
        min_pass=count if min_pass is None else min_pass, tags=list(tags), line=2,
        samples=samples, not_run_reason=not_run)


def evidence(*cases: CaseResult, suite: str = "full", complete: bool = True,
             commit: str = "a" * 40, bank_size: int | None = None) -> Evidence:
    return Evidence(
        casebank_version="0.1.0", commit=commit, dirty=False, config_hash="cfg",
        target={"kind": "replay", "name": "agent-v2"}, started_at="2026-04-01T10:00:00Z",
        finished_at="2026-04-01T10:01:00Z", suite=suite,
        bank_size=len(cases) if bank_size is None else bank_size,
        selected=[c.case_id for c in cases], complete=complete, cases=list(cases))
