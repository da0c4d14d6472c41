"""JUnit XML for any CI: one testcase per case, failures carry the check messages.

pass → a passing testcase; fail and uncertain → ``<failure>`` (type ``fail`` /
``uncertain``); error → ``<error>``; not run → ``<skipped>`` with the reason. Every message
names the case file and line of the expectation, as the terminal summary does.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from casebank.evidence import Evidence
from casebank.report.terminal import why
from casebank.run.result import NOT_RUN, CaseResult


# What XML 1.0 cannot hold (control characters such as terminal escapes, lone surrogates);
# model output quoted in check messages may carry them, and one makes the whole file unreadable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _details(result: CaseResult) -> str:
    lines = []
    for sample in result.samples:
        head = f"sample {sample.sample.index + 1}: {sample.outcome}"
        if sample.sample.error:
            lines.append(f"{head}: {sample.sample.error}")
            continue
        lines.append(head)
        for check in sample.checks:
            label = check.name or check.kind
            lines.append(f"  [{check.status}] {result.path}:{check.line} {label}: {check.message}")
    if result.not_run_reason:
        lines.append(result.not_run_reason)
    return "\n".join(lines)


def _seconds(result: CaseResult) -> float:
    return round(sum((s.sample.latency_ms or 0.0) for s in result.samples) / 1000, 3)


def to_xml(evidence: Evidence) -> ET.Element:
    cases = evidence.cases
    counts = {"fail": 0, "error": 0, NOT_RUN: 0}
    suite = ET.Element("testsuite", name="casebank")
    for result in cases:
        case = ET.SubElement(suite, "testcase", classname=f"casebank.{result.severity}",
                             name=result.case_id, file=result.path, line=str(result.line),
                             time=str(_seconds(result)))
        outcome = result.outcome
        reason, where = why(result)
        if outcome in ("fail", "uncertain"):
            counts["fail"] += 1
            failure = ET.SubElement(case, "failure", type=outcome,
                                    message=_xml(f"{where} {reason}".strip()))
            failure.text = _xml(_details(result))
        elif outcome == "error":
            counts["error"] += 1
            error = ET.SubElement(case, "error", type="error", message=_xml(f"{where} {reason}".strip()))
            error.text = _xml(_details(result))
        elif outcome == NOT_RUN:
            counts[NOT_RUN] += 1
            ET.SubElement(case, "skipped", message=_xml(reason))
    missing = sorted(set(evidence.selected) - {c.case_id for c in cases})
    for case_id in missing:  # selected but absent from the evidence: never silently dropped
        case = ET.SubElement(suite, "testcase", classname="casebank", name=case_id)
        ET.SubElement(case, "skipped", message="selected but not run")
    suite.set("tests", str(len(cases) + len(missing)))
    suite.set("failures", str(counts["fail"]))
    suite.set("errors", str(counts["error"]))
    suite.set("skipped", str(counts[NOT_RUN] + len(missing)))
    suite.set("timestamp", evidence.started_at)
    return suite


def write_junit(evidence: Evidence, path: str | Path) -> None:
    """Write the JUnit XML of a run to ``path`` (folders created as needed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = ET.ElementTree(ET.Element("testsuites"))
    tree.getroot().append(to_xml(evidence))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
