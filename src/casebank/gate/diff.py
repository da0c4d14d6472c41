"""The gate diff: what changed between the baseline run and this run, for code review."""

from __future__ import annotations

import dataclasses

from casebank.check.result import ERROR, FAIL, PASS, UNCERTAIN
from casebank.evidence import Evidence
from casebank.gate.changes import ADDED, DELETED, MODIFIED, BankChange, CaseDelta, GateDiff
from casebank.run.result import NOT_RUN, CaseResult


def compare(head: Evidence, base: Evidence | None, bank_changes: list[BankChange] | None = None,
            *, baseline_label: str | None = None) -> GateDiff:
    """Compare ``head`` with the ``base`` evidence (None: no baseline, which is stated).

    new failures fail now and did not fail in the base (including cases new to the base);
    fixed failed in the base and pass now; still failing failed in both; flaky had mixed
    samples now. Added / removed / modified cases come from ``bank_changes`` when given
    (what changed in the case file); otherwise from the evidence (by id and content hash).
    """
    now = _by_id(head.cases)
    before = _by_id(base.cases) if base is not None else {}
    new_failures, fixed, still_failing, flaky = [], [], [], []
    for case_id, case in now.items():
        old = before.get(case_id)
        old_outcome = old.outcome if old is not None else None
        delta = _delta(case, old_outcome)
        if case.flaky:
            flaky.append(delta)
        if base is None:
            continue
        if case.outcome == FAIL:
            (still_failing if old_outcome == FAIL else new_failures).append(delta)
        elif case.outcome == PASS and old_outcome == FAIL:
            fixed.append(delta)

    if bank_changes is not None:
        added = [c for c in bank_changes if c.change == ADDED]
        removed = [c for c in bank_changes if c.change == DELETED]
        modified = [c for c in bank_changes if c.change == MODIFIED]
    elif base is not None:
        added, removed, modified = _changes_from_evidence(head, base, now, before)
    else:
        added, removed, modified = [], [], []

    label = baseline_label if base is not None else None
    if base is not None and label is None:
        label = f"commit {base.commit[:12]}" if base.commit else "baseline evidence"
    return GateDiff(
        baseline=label,
        new_failures=tuple(new_failures),
        fixed=tuple(fixed),
        still_failing=tuple(still_failing),
        flaky=tuple(flaky),
        added=tuple(sorted(added, key=_change_key)),
        removed=tuple(sorted(removed, key=_change_key)),
        modified=tuple(sorted(modified, key=_change_key)),
    )


def with_verdicts(diff: GateDiff, before: str | None, after: str | None) -> GateDiff:
    """The diff with the verdicts of the baseline and of this run filled in."""
    return dataclasses.replace(diff, verdict_before=before, verdict_after=after)


def _by_id(cases: list[CaseResult]) -> dict[str, CaseResult]:
    out: dict[str, CaseResult] = {}
    for case in sorted(cases, key=lambda c: c.case_id):
        out.setdefault(case.case_id, case)
    return out


def _delta(case: CaseResult, before: str | None) -> CaseDelta:
    label, words, check_line = first_problem(case)
    message = f"{label}: {words}" if label else ""
    if case.flaky:
        outcomes = case.sample_outcomes
        counts = (f"{outcomes.count(PASS)} of {len(outcomes)} samples passed, its rule needs "
                  f"{case.min_pass}")
        message = f"{counts}; a failing sample: {message}" if message else counts
    return CaseDelta(case_id=case.case_id, path=case.path, line=check_line or case.line,
                     severity=case.severity, before=before, after=case.outcome, message=message)


def first_problem(case: CaseResult) -> tuple[str, str, int | None]:
    """The first thing that went wrong in ``case``: (what, in its own words, the line of the
    check), preferring a failed check, then a sample's error, then an uncertain check.
    ``("", "", None)`` when nothing did; the line is None when no check is to blame."""
    for wanted in (FAIL, ERROR, UNCERTAIN):
        for sample in case.samples:
            if wanted == ERROR and sample.sample.error is not None:
                return f"sample {sample.sample.index + 1}", sample.sample.error, None
            for check in sample.checks:
                if check.status == wanted:
                    return check.name or check.kind, check.message, check.line
    if case.outcome == NOT_RUN:
        return "not run", case.not_run_reason or "", None
    if case.samples and all(not s.checks for s in case.samples):
        return "checks", "no check result recorded", None
    return "", "", None


def _changes_from_evidence(head: Evidence, base: Evidence, now: dict[str, CaseResult],
                           before: dict[str, CaseResult]):
    """Added / removed / modified cases told from the two runs alone (no case files)."""
    added, removed, modified = [], [], []
    if base.suite == "full":
        added = [BankChange(c.case_id, ADDED, c.path, c.line, c.severity)
                 for k, c in now.items() if k not in before]
    if head.suite == "full":
        removed = [BankChange(c.case_id, DELETED, c.path, c.line, c.severity)
                   for k, c in before.items() if k not in now]
    for case_id, case in now.items():
        old = before.get(case_id)
        if old is not None and old.content_hash and case.content_hash != old.content_hash:
            modified.append(BankChange(case_id, MODIFIED, case.path, case.line, case.severity,
                                       old_path=old.path if old.path != case.path else None))
    return added, removed, modified


def _change_key(change: BankChange) -> tuple[str, str]:
    return (change.path, change.case_id)
