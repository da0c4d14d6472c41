"""The summary of a run printed at the end of ``casebank run``: worst cases first.

Plain text, one row per case, so CI logs can be grepped; failing and erroring cases are
always listed, passing ones only up to ``PASSED_ROWS``. Each row says why, with the
``file:line`` of the expectation that failed.
"""

from __future__ import annotations

from collections import Counter
from typing import IO

from casebank.bank.case import SEVERITIES
from casebank.evidence import Evidence
from casebank.run.progress import samples_line
from casebank.run.result import NOT_RUN, CaseResult

ORDER = {"fail": 0, "error": 1, NOT_RUN: 2, "uncertain": 3, "pass": 4}
LABELS = {"fail": "FAIL", "error": "ERROR", NOT_RUN: "NOT RUN", "uncertain": "UNCERTAIN",
          "pass": "pass"}
PASSED_ROWS = 30
REASON_WIDTH = 220


def _one_line(text: str, width: int = REASON_WIDTH) -> str:
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return cleaned if len(cleaned) <= width else cleaned[: width - 1] + "…"


def why(result: CaseResult) -> tuple[str, str]:
    """(reason, file:line) for a case that did not pass; ("", path) for one that did."""
    if result.not_run_reason is not None:
        return result.not_run_reason, result.path
    for sample in result.samples:
        if sample.outcome == "pass":
            continue
        if sample.sample.error is not None:
            return f"sample {sample.sample.index + 1}: {sample.sample.error}", f"{result.path}:{result.line}"
        for check in sample.checks:
            if check.status != "pass":
                label = f"{check.name}: " if check.name else f"{check.kind}: "
                return (f"sample {sample.sample.index + 1}: {label}{check.message}",
                        f"{result.path}:{check.line}")
        if not sample.checks:
            return f"sample {sample.sample.index + 1}: the case has no checks", result.path
    return "", result.path


def worst_first(cases: list[CaseResult]) -> list[CaseResult]:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(cases, key=lambda c: (ORDER.get(c.outcome, 1), rank.get(c.severity, 9), c.case_id))


def counts_line(evidence: Evidence) -> str:
    counts = Counter(c.outcome for c in evidence.cases)
    missing = len(set(evidence.selected) - {c.case_id for c in evidence.cases})
    parts = [f"{counts['pass']} passed", f"{counts['fail']} failed", f"{counts['error']} errored"]
    if counts["uncertain"]:
        parts.append(f"{counts['uncertain']} uncertain")
    if counts[NOT_RUN] or missing:
        parts.append(f"{counts[NOT_RUN] + missing} not run")
    flaky = sum(1 for c in evidence.cases if c.flaky)
    if flaky:
        parts.append(f"{flaky} flaky")
    return f"{len(evidence.selected)} cases: " + ", ".join(parts)


def print_summary(evidence: Evidence, stream: IO[str], evidence_path: str | None = None) -> None:
    """Print the table (a second line under each case that did not pass, saying why and
    where), the counts and where the evidence is."""
    rows: list[tuple[str, str, str, str]] = []
    reasons: list[str] = []
    hidden = 0
    for result in worst_first(evidence.cases):
        if result.outcome == "pass" and not result.flaky:
            if sum(1 for r in rows if r[0] == "pass") >= PASSED_ROWS:
                hidden += 1
                continue
        reason, where = why(result)
        rows.append((LABELS.get(result.outcome, result.outcome.upper()), result.severity,
                     result.case_id, samples_line(result) if result.not_run_reason is None else ""))
        reasons.append(f"{where}: {_one_line(reason)}" if reason else "")
    if rows:
        header = ("outcome", "severity", "case", "samples")
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(), file=stream)
        for row, reason in zip(rows, reasons, strict=True):
            print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip(), file=stream)
            if reason:
                print(f"    {reason}", file=stream)
    if hidden:
        print(f"… and {hidden} more passed", file=stream)
    print(file=stream)
    print(counts_line(evidence), file=stream)
    runner = evidence.runner or {}
    if runner.get("retries") or (runner.get("concurrency") or {}).get("events"):
        conc = runner.get("concurrency") or {}
        reasons = ", ".join(f"{n}x {r}" for r, n in (runner.get("retry_reasons") or {}).items())
        line = f"target: {runner.get('requests', 0)} requests, {runner.get('retries', 0)} retries"
        line += f" ({reasons})" if reasons else ""
        if conc.get("lowest") != conc.get("max"):
            line += f"; concurrency lowered from {conc.get('max')} to {conc.get('lowest')} on 429s"
        print(line, file=stream)
    if evidence.interrupted:
        print("interrupted: the evidence is partial (complete: false)", file=stream)
    if evidence_path:
        print(f"evidence: {evidence_path}", file=stream)
