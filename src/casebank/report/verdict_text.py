"""A verdict for the terminal: plain, grep-able text, the same bytes for the same verdict.

Also a compact markdown rendering for ``casebank gate --format markdown`` (the PR comment
itself is built by ``casebank.report.markdown``).
"""

from __future__ import annotations

from casebank.gate.changes import CaseDelta, GateDiff
from casebank.gate.decide import cut_middle
from casebank.gate.verdict import BLOCK, HOLD, SHIP, Reason, Verdict

HEADLINES = {
    SHIP: "SHIP: every rule of the gate policy is met",
    HOLD: "HOLD: a person must decide before this ships",
    BLOCK: "BLOCK: a rule of the gate policy is violated",
}
_LIST_LIMIT = 50
DELTA_LIMIT = 200  # the words of a case in the gate diff: longer ones are cut in the middle


def _where(path: str | None, line: int | None) -> str:
    if not path:
        return ""
    return f"{path}:{line}" if line else path


def _one_line(text: str) -> str:
    """Model output and messages may hold newlines or terminal escapes: keep one clean line."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text.replace("\n", " "))
    return " ".join(cleaned.split())


def render_reason(reason: Reason) -> list[str]:
    where = _where(reason.path, reason.line)
    lines = [f"{reason.decision:<5}  {where + '  ' if where else ''}{_one_line(reason.message)}",
             f"       rule: {_one_line(reason.rule)}"]
    if reason.how_to_resolve:
        lines.append(f"       to resolve: {_one_line(reason.how_to_resolve)}")
    return lines


def _delta(delta: CaseDelta, has_baseline: bool = True) -> str:
    """One case of the diff; without a baseline there is no "before" to show."""
    change = delta.after or "not run"
    if has_baseline:
        change = f"{delta.before or 'new'} -> {change}"
    text = f"{delta.case_id} ({delta.severity}, {_where(delta.path, delta.line)}) {change}"
    if delta.message:
        text += f": {cut_middle(_one_line(delta.message), DELTA_LIMIT)}"
    return text


def render_diff(diff: GateDiff | None) -> list[str]:
    """The gate diff; no baseline is said in words, never shown as "no changes"."""
    if diff is None:
        return []
    if not diff.has_baseline:
        lines = ["Gate diff: no baseline, so no failure can be called new or fixed "
                 "(record one on the default branch, see docs/gate.md#the-baseline, or pass "
                 "--baseline PATH)."]
        if diff.flaky:
            lines.append(f"  flaky ({len(diff.flaky)}):")
            lines += [f"    {_delta(d, has_baseline=False)}" for d in diff.flaky[:_LIST_LIMIT]]
        return lines
    lines = [f"Gate diff against the baseline ({_one_line(diff.baseline or '')}):"]
    if diff.verdict_before is not None and diff.verdict_after is not None:
        word = "changed" if diff.verdict_changed else "unchanged"
        lines.append(f"  verdict {word}: {diff.verdict_before} -> {diff.verdict_after}")
    for title, deltas in (("new failures", diff.new_failures), ("fixed", diff.fixed),
                          ("still failing (known)", diff.still_failing), ("flaky", diff.flaky)):
        lines.append(f"  {title} ({len(deltas)})" + (":" if deltas else ""))
        lines += [f"    {_delta(d)}" for d in deltas[:_LIST_LIMIT]]
        if len(deltas) > _LIST_LIMIT:
            lines.append(f"    ... and {len(deltas) - _LIST_LIMIT} more")
    for title, changes in (("added cases", diff.added), ("removed cases", diff.removed),
                           ("modified cases", diff.modified)):
        lines.append(f"  {title} ({len(changes)})" + (":" if changes else ""))
        for change in changes[:_LIST_LIMIT]:
            what = f": {_one_line(change.summary())}" if title == "modified cases" else ""
            lines.append(f"    {change.case_id} ({_where(change.path, change.line)}){what}")
    return lines


def render_changes(verdict: Verdict) -> list[str]:
    lines: list[str] = []
    if verdict.bank_changes:
        lines.append("Bank changes in this change:")
        for change in verdict.bank_changes:
            mark = ("  [holds: bank erosion]" if change.holds
                    else "  [approved]" if change.erodes else "")
            where = _where(change.path, change.line)
            lines.append(f"  {change.change:<8}  {change.case_id} ({where}): "
                         f"{_one_line(change.summary())}{mark}")
    if verdict.policy_changes:
        lines.append("Policy changes in this change (the gate applied the base's policy):")
        for pc in verdict.policy_changes:
            mark = ("  [holds: loosens the gate]" if pc.holds
                    else "  [approved]" if pc.loosens else f"  [{pc.effect}]")
            lines.append(f"  {_where(pc.path, pc.line)}  {pc.field}: {_one_line(pc.message)}{mark}")
    return lines


def render_text(verdict: Verdict) -> str:
    """The whole verdict: decision, reasons (naming files), diff, changes, notes, coverage."""
    lines = [f"{HEADLINES[verdict.decision]} (exit {int(verdict.exit_code)})",
             f"Policy: {verdict.policy_source}"]
    if verdict.decision == HOLD:
        lines.append(f"On GitHub a HOLD concludes as: {verdict.hold_conclusion}")
    if verdict.reasons:
        lines.append("")
        for reason in verdict.reasons:
            lines += render_reason(reason)
    sections = [render_diff(verdict.diff), render_changes(verdict)]
    if verdict.notes:
        sections.append(["Notes:"] + [f"  - {_one_line(n)}" for n in verdict.notes])
    coverage = [f"Coverage: {verdict.coverage.statement()}"]
    for case_id, why in sorted(verdict.coverage.not_run.items())[:_LIST_LIMIT]:
        coverage.append(f"  not run: {case_id} ({_one_line(why)})")
    if len(verdict.coverage.not_run) > _LIST_LIMIT:
        coverage.append(f"  ... and {len(verdict.coverage.not_run) - _LIST_LIMIT} more not run")
    sections.append(coverage)
    for section in sections:
        if section:
            lines += [""] + section
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """Escape what would turn model-controlled text into markdown structure or mentions."""
    text = _one_line(text)
    for ch in "\\`*_[]<>|#":
        text = text.replace(ch, "\\" + ch)
    return text.replace("@", "@\u200b")


def render_markdown(verdict: Verdict) -> str:
    """The verdict as markdown (headline, reasons, diff, changes, notes, coverage)."""
    lines = [f"## casebank gate: {verdict.decision}", "", _md(HEADLINES[verdict.decision]), ""]
    for reason in verdict.reasons:
        where = f" (`{_where(reason.path, reason.line)}`)" if reason.path else ""
        text = f"- **{reason.decision}** {_md(reason.message)}{where}. Rule: {_md(reason.rule)}."
        if reason.how_to_resolve:
            text += f" To resolve: {_md(reason.how_to_resolve)}."
        lines.append(text)
    rest = render_diff(verdict.diff) + render_changes(verdict)
    if rest:
        lines += ["", "```text", *[line.replace("```", "'''") for line in rest], "```"]
    if verdict.notes:
        lines += [""] + [f"- {_md(n)}" for n in verdict.notes]
    lines += ["", f"**Coverage:** {_md(verdict.coverage.statement())}"]
    return "\n".join(lines) + "\n"
