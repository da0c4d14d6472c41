"""Evidence and verdicts built by hand, for tests of the report parts (the end-to-end tests
run the real pipeline instead)."""

from __future__ import annotations

from casebank.check.result import CheckResult
from casebank.evidence import Evidence
from casebank.gate.verdict import Coverage, Reason, Verdict
from casebank.run.result import CaseResult, SampleResult
from casebank.run.sample import SampleOutput


def failing_case(case_id: str, *, expectations: int = 1, samples: int = 1, output: str = "ok",
                 severity: str = "critical", first_line: int = 40, status: str = "fail",
                 title: str | None = None) -> CaseResult:
    """A case whose every sample fails ``expectations`` checks (lines first_line, +1, ...)."""
    results = []
    for number in range(samples):
        checks = [CheckResult(kind="not_contains", status=status, line=first_line + i, index=i,
                              message=f"the output contains 'acct_biz_12' (check {i})")
                  for i in range(expectations)]
        results.append(SampleResult(SampleOutput(index=number, output=output), checks))
    return CaseResult(case_id=case_id, path=f"cases/{case_id}.yaml",
                      title=title or f"Title of {case_id}", severity=severity,
                      source_kind="incident", review="never", content_hash="sha256:x",
                      samples_required=samples, min_pass=samples, line=1, samples=results,
                      source_ref="INC-1")


def passing_case(case_id: str) -> CaseResult:
    checks = [CheckResult(kind="contains", status="pass", line=20, index=0, message="ok")]
    return CaseResult(case_id=case_id, path=f"cases/{case_id}.yaml", title=f"Title of {case_id}",
                      severity="high", source_kind="incident", review="never",
                      content_hash="sha256:y", samples_required=1, min_pass=1, line=1,
                      samples=[SampleResult(SampleOutput(index=0, output="fine"), checks)])


def evidence(*cases: CaseResult, suite: str = "full") -> Evidence:
    return Evidence(casebank_version="0.1.0", commit="a" * 40, dirty=False, config_hash="c",
                    target={"kind": "replay", "name": "agent-v2"},
                    started_at="2026-04-01T10:00:00Z", finished_at="2026-04-01T10:01:00Z",
                    suite=suite, bank_size=len(cases), selected=[c.case_id for c in cases],
                    complete=True, cases=list(cases))


def verdict(decision: str, ev: Evidence, *reasons: Reason) -> Verdict:
    outcomes = [c.outcome for c in ev.cases]
    coverage = Coverage(bank=len(ev.cases), selected=len(ev.cases), run=len(ev.cases),
                        passed=outcomes.count("pass"), failed=outcomes.count("fail"),
                        errored=outcomes.count("error"), uncertain=outcomes.count("uncertain"),
                        waived=0, held=0, flaky=0, suite=ev.suite)
    return Verdict(decision=decision, reasons=list(reasons), coverage=coverage)


def block_reason(case: CaseResult) -> Reason:
    return Reason(decision="BLOCK", rule="critical: block on any failure",
                  message=f"{case.case_id} failed", case_id=case.case_id, path=case.path,
                  line=case.samples[0].checks[0].line if case.samples else case.line,
                  how_to_resolve="fix the agent, or waive the case with a reason")
