"""Annotations: a finding pinned to a line of a case file (or of the policy).

One annotation per expectation that did not pass, at the line of that expectation, so the
reviewer sees it next to the YAML in "Files changed". The same values feed GitHub check run
annotations (``to_github``) and, when the token cannot write, ``::error`` workflow commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from casebank.check.result import ERROR, FAIL, PASS, UNCERTAIN, CheckResult
from casebank.evidence import Evidence
from casebank.gate.verdict import BLOCK, HOLD, Verdict
from casebank.report import sanitize
from casebank.run.result import NOT_RUN, CaseResult

FAILURE = "failure"
WARNING = "warning"
NOTICE = "notice"

BATCH_SIZE = 50  # GitHub accepts at most 50 annotations per check run request
MESSAGE_LIMIT = 2000  # GitHub allows 64 KB; a reviewer reads a few lines
DETAILS_LIMIT = 4000
TITLE_LIMIT = 255


@dataclass(frozen=True)
class Annotation:
    path: str  # repo-relative, POSIX
    line: int
    level: str  # failure | warning | notice
    title: str
    message: str
    raw_details: str = ""

    def to_github(self) -> dict[str, Any]:
        """The check run API's annotation object."""
        item: dict[str, Any] = {
            "path": self.path,
            "start_line": self.line,
            "end_line": self.line,
            "annotation_level": self.level,
            "title": self.title[:TITLE_LIMIT],
            "message": self.message or self.title,
        }
        if self.raw_details:
            item["raw_details"] = self.raw_details
        return item


def batches(annotations: Sequence[Annotation], size: int = BATCH_SIZE) -> list[list[Annotation]]:
    """Split into requests of at most ``size`` annotations (GitHub's limit is 50)."""
    return [list(annotations[i:i + size]) for i in range(0, len(annotations), size)]


def for_run(evidence: Evidence, verdict: Verdict | None = None) -> list[Annotation]:
    """Every annotation of a run: failing expectations, then the verdict's located reasons.

    Ordered by severity of the finding (failures first), then file and line.
    """
    found: list[Annotation] = []
    for case in evidence.cases:
        found.extend(for_case(case))
    if verdict is not None:
        taken = {(a.path, a.line) for a in found}
        for reason in verdict.reasons:
            if not reason.path or reason.decision not in (BLOCK, HOLD):
                continue
            line = reason.line or 1
            if (reason.path, line) in taken:
                continue
            taken.add((reason.path, line))
            message = reason.message
            if reason.how_to_resolve:
                message += f"\nTo resolve: {reason.how_to_resolve}"
            found.append(Annotation(
                path=reason.path, line=line,
                level=FAILURE if reason.decision == BLOCK else WARNING,
                title=sanitize.plain(f"{reason.decision}: {reason.rule}", TITLE_LIMIT),
                message=sanitize.plain(message, MESSAGE_LIMIT)))
    order = {FAILURE: 0, WARNING: 1, NOTICE: 2}
    found.sort(key=lambda a: (order[a.level], a.path, a.line))
    return found


def for_case(case: CaseResult) -> list[Annotation]:
    """Annotations for one case: one per expectation that failed, errored or was uncertain."""
    outcome = case.outcome
    if outcome == NOT_RUN:
        return [Annotation(case.path, case.line, WARNING, _title(case, "not run"),
                           sanitize.plain(f"Selected but not run: {case.not_run_reason}",
                                          MESSAGE_LIMIT))]
    found: list[Annotation] = []
    total = len(case.samples)
    by_expectation: dict[int, list[tuple[int, CheckResult]]] = {}
    for sample_no, sample in enumerate(case.samples, start=1):
        for check in sample.checks:
            if check.status != PASS:
                by_expectation.setdefault(check.index, []).append((sample_no, check))
    for index in sorted(by_expectation):
        hits = by_expectation[index]
        first_sample, first = hits[0]
        statuses = {check.status for _, check in hits}
        status = FAIL if FAIL in statuses else ERROR if ERROR in statuses else UNCERTAIN
        if outcome == "pass":
            level = NOTICE  # the pass rule held; some samples missed: flaky
        else:
            level = FAILURE if status == FAIL else WARNING
        label = first.name or first.kind
        message = first.message
        if total > 1:
            message += f" ({status} in {len(hits)} of {total} samples)"
        if outcome == "pass":
            message += f"; the case passed its rule ({case.min_pass} of {case.samples_required})"
        output = case.samples[first_sample - 1].sample.output
        details = f"Output of sample {first_sample}:\n{output}" if output else ""
        found.append(Annotation(
            path=case.path, line=first.line or case.line, level=level,
            title=_title(case, f"expect[{index}] {label} {_verb(status)}"),
            message=sanitize.plain(message, MESSAGE_LIMIT),
            raw_details=sanitize.plain(details, DETAILS_LIMIT) if details else ""))
    errors = [(n, s.sample.error) for n, s in enumerate(case.samples, start=1) if s.sample.error]
    if errors:
        first_no, first_error = errors[0]
        message = f"sample {first_no}: {first_error}"
        if len(errors) > 1:
            message += f" ({len(errors)} of {total} samples errored)"
        found.append(Annotation(case.path, case.line, WARNING, _title(case, "target error"),
                                sanitize.plain(message, MESSAGE_LIMIT)))
    return found


def _verb(status: str) -> str:
    return {FAIL: "failed", ERROR: "errored", UNCERTAIN: "uncertain"}.get(status, status)


def _title(case: CaseResult, what: str) -> str:
    return sanitize.plain(f"{case.case_id} ({case.severity}): {what}", TITLE_LIMIT)
