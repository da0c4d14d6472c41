"""Markdown for GitHub: the sticky PR comment, the check run texts, the job step summary.

Everything here reads a ``Verdict`` and its ``Evidence``; nothing re-runs or re-reads cases.
Text that came from a model or from a pull request (outputs, check messages, case titles,
ids, paths) goes through ``casebank.report.sanitize`` before it lands in markdown.

GitHub's limits are kept here, where the sizes are known: a comment body must be under
65,536 characters, a check run's summary and text at most 65,535 each, a step summary under
1 MiB. Sizes are measured in UTF-8 bytes, which is what GitHub counts for check runs and
never less than the characters it counts for comments. When the failing cases do not fit, the list is cut and says where the rest is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from casebank import __version__
from casebank.check.result import ERROR, FAIL, PASS, UNCERTAIN
from casebank.evidence import Evidence
from casebank.gate.changes import DELETED, CaseDelta
from casebank.gate.verdict import BLOCK, HOLD, SHIP, Verdict
from casebank.report import sanitize
from casebank.run.result import NOT_RUN, CaseResult

COMMENT_LIMIT = 65_535  # GitHub rejects comment bodies of 65,536 characters or more
CHECK_TEXT_LIMIT = 65_535  # check run output.summary / output.text: at most 65,535 bytes
STEP_SUMMARY_LIMIT = 1024 * 1024 - 1  # bytes; GitHub drops larger step summaries

COMMENT_MARKER = "<!-- casebank:comment -->"

VERDICT_ICON = {SHIP: "✅", HOLD: "⏸️", BLOCK: "⛔"}
OUTCOME_ICON = {PASS: "✅", FAIL: "❌", ERROR: "⚠️", UNCERTAIN: "❔", NOT_RUN: "⏭️"}
OUTCOME_WORD = {PASS: "passed", FAIL: "failed", ERROR: "errored", UNCERTAIN: "uncertain",
                NOT_RUN: "not run"}
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
OUTCOME_ORDER = {FAIL: 0, ERROR: 1, UNCERTAIN: 2, NOT_RUN: 3, PASS: 4}

EXCERPT_LIMIT = 1500  # characters of model output shown per failing case
MAX_REASONS = 25


@dataclass(frozen=True)
class Links:
    """Where things live on GitHub, for links and the pointer to the full evidence."""

    server_url: str = "https://github.com"
    repository: str | None = None
    head_sha: str | None = None
    run_url: str | None = None
    evidence_path: str | None = None
    artifact: str | None = None
    base_sha: str | None = None
    deleted: frozenset[str] = frozenset()  # files the change deletes: they exist at the base

    def file(self, path: str, line: int | None = None) -> str | None:
        """Blob URL of a repo file at the reported commit (at the base for a file the change
        deletes), or None when unknown."""
        commit = self.base_sha if path in self.deleted else self.head_sha
        if not (self.repository and commit):
            return None
        url = f"{self.server_url.rstrip('/')}/{self.repository}/blob/{commit}/{quote(path)}"
        return f"{url}#L{line}" if line else url


def _knowing_deletions(links: Links, verdict: Verdict) -> Links:
    """``links`` that point a deleted case's file at the base commit, not a 404 at the head."""
    kept = {c.path for c in verdict.bank_changes if c.change != DELETED}
    deleted = {c.path for c in verdict.bank_changes if c.change == DELETED} - kept
    return replace(links, deleted=frozenset(deleted)) if deleted else links


@dataclass(frozen=True)
class CheckText:
    """A check run's ``output``: title, summary and text (markdown)."""

    title: str
    summary: str
    text: str = ""

    def to_github(self) -> dict[str, str]:
        output = {"title": self.title, "summary": self.summary}
        if self.text:
            output["text"] = self.text
        return output


@dataclass(frozen=True)
class Counts:
    run: int = 0
    passed: int = 0
    failed: int = 0
    errored: int = 0
    uncertain: int = 0
    not_run: int = 0

    @classmethod
    def of(cls, cases: Sequence[CaseResult]) -> Counts:
        outcomes = [c.outcome for c in cases]
        return cls(run=sum(o != NOT_RUN for o in outcomes), passed=outcomes.count(PASS),
                   failed=outcomes.count(FAIL), errored=outcomes.count(ERROR),
                   uncertain=outcomes.count(UNCERTAIN), not_run=outcomes.count(NOT_RUN))

    def line(self) -> str:
        """``1 failed, 13 passed of 14 run`` (zero counts other than passed left out)."""
        parts = [f"{n} {word}" for n, word in ((self.failed, "failed"), (self.errored, "errored"),
                                               (self.uncertain, "uncertain")) if n]
        parts.append(f"{self.passed} passed")
        text = ", ".join(parts) + f" of {self.run} run"
        if self.not_run:
            text += f", {self.not_run} not run"
        return text


# --- pieces -----------------------------------------------------------------------------------


def link(text: str, url: str | None) -> str:
    """``[text](url)`` when there is a URL; ``text`` is already safe markdown."""
    return f"[{text}]({url})" if url else text


def location(path: str, line: int | None, links: Links) -> str:
    shown = sanitize.inline(f"{path}:{line}" if line else path, 200)
    return link(shown, links.file(path, line))


def headline(verdict: Verdict, counts: Counts, check_name: str = "casebank") -> str:
    name = sanitize.inline(check_name, 100)
    return f"## {VERDICT_ICON[verdict.decision]} {name}: {verdict.decision}\n\n{counts.line()}"


def why(verdict: Verdict, links: Links) -> str:
    """The reasons, blocking ones first, each with its file and how to resolve it."""
    order = {BLOCK: 0, HOLD: 1, SHIP: 2}
    reasons = sorted(verdict.reasons, key=lambda r: order.get(r.decision, 3))
    lines = []
    for reason in reasons[:MAX_REASONS]:
        text = f"- {VERDICT_ICON.get(reason.decision, '•')} **{sanitize.inline(reason.rule, 200)}**: "
        text += sanitize.message(reason.message, 600)
        if reason.path:
            text += f" ({location(reason.path, reason.line, links)})"
        if reason.how_to_resolve:
            text += f". To resolve: {sanitize.message(reason.how_to_resolve, 400)}"
        lines.append(text)
    if len(reasons) > MAX_REASONS:
        lines.append(f"- … and {len(reasons) - MAX_REASONS} more reasons (see the check run)")
    if not lines:
        lines.append(f"- Every rule of the gate policy is met ({_policy_source(verdict)}).")
    for note in verdict.notes[:MAX_REASONS]:
        lines.append(f"- ℹ️ {sanitize.inline(note, 600)}")
    return "### Why\n\n" + "\n".join(lines)


def gate_diff(verdict: Verdict, links: Links) -> str:
    """New failures, fixed cases and flaky cases compared with the baseline run."""
    diff = getattr(verdict, "diff", None)
    if diff is None:
        return ""
    if not diff.has_baseline:
        return ""  # the verdict's notes say why there is none and how to record one
    lines = [f"### Compared with the baseline ({sanitize.inline(diff.baseline, 200)})", ""]
    if diff.verdict_changed:
        lines.append(f"Verdict: {diff.verdict_before} → **{diff.verdict_after}**\n")
    for title, deltas in (("New failures", diff.new_failures), ("Fixed", diff.fixed),
                          ("Flaky", diff.flaky), ("Still failing", diff.still_failing)):
        if not deltas:
            continue
        shown = [_delta(d, links) for d in deltas[:30]]
        more = f" … and {len(deltas) - 30} more" if len(deltas) > 30 else ""
        lines.append(f"- **{title} ({len(deltas)})**: " + "; ".join(shown) + more)
    if len(lines) == 2:
        lines.append("No case changed its outcome.")
    return "\n".join(lines)


def bank_changes(verdict: Verdict, links: Links) -> str:
    """Cases added, removed, loosened or otherwise modified here, and gate policy changes."""
    changes = list(getattr(verdict, "bank_changes", []) or [])
    policy = list(getattr(verdict, "policy_changes", []) or [])
    if not changes and not policy:
        return ""
    groups: dict[str, list[str]] = {"Added": [], "Removed": [], "Loosened": [], "Modified": []}
    for change in changes:
        where = location(change.path, change.line, links)
        item = f"{sanitize.code(change.case_id)} ({sanitize.inline(change.severity or '?', 20)}, {where})"
        if change.change == "added":
            groups["Added"].append(item)
        elif change.change == "deleted":
            groups["Removed"].append(item)
        else:
            detail = sanitize.inline(change.summary(), 300)
            groups["Loosened" if change.erodes else "Modified"].append(f"{item}: {detail}")
    lines = ["### Bank changes in this pull request", ""]
    for title, items in groups.items():
        if items:
            shown = items[:30] + ([f"… and {len(items) - 30} more"] if len(items) > 30 else [])
            lines.append(f"- **{title} ({len(items)})**: " + "; ".join(shown))
    for change in policy[:30]:
        effect = "⚠️ loosens the gate" if change.loosens else sanitize.inline(change.effect, 20)
        lines.append(f"- **Policy** {sanitize.code(change.field)} "
                     f"({location(change.path, change.line, links)}): "
                     f"{sanitize.message(change.message, 300)} ({effect})")
    return "\n".join(lines)


def coverage(verdict: Verdict) -> str:
    return f"**Coverage:** {sanitize.inline(verdict.coverage.statement(), 3000)}"


def evidence_pointer(links: Links, evidence: Evidence | None = None) -> str:
    """Where the full evidence is: the workflow run, the artifact, the file."""
    parts = []
    if links.run_url:
        parts.append(f"[workflow run]({links.run_url})")
    if links.artifact:
        parts.append(f"artifact {sanitize.code(links.artifact)}")
    if links.evidence_path:
        parts.append(f"evidence file {sanitize.code(links.evidence_path)}")
    text = "Full evidence: " + (", ".join(parts) if parts else "the evidence file of this run")
    text += f" · casebank {__version__}"
    if links.head_sha:
        text += f" · commit {sanitize.code(links.head_sha[:12])}"
    if evidence is not None and evidence.target:
        model = evidence.target.get("model") or evidence.target.get("name")
        if model:
            text += f" · target {sanitize.code(model)}"
    return f"<sub>{text}</sub>"


def not_passing(cases: Sequence[CaseResult]) -> list[CaseResult]:
    """Cases that did not pass, worst first: failed, errored, uncertain, not run; by severity."""
    bad = [c for c in cases if c.outcome != PASS]
    return sorted(bad, key=lambda c: (OUTCOME_ORDER.get(c.outcome, 9),
                                      SEVERITY_ORDER.get(c.severity, 9), c.case_id))


def case_block(case: CaseResult, links: Links, excerpt: int = EXCERPT_LIMIT) -> str:
    """One case that did not pass, collapsed: its failing checks, then the output excerpt."""
    outcome = case.outcome
    summary = (f"{OUTCOME_ICON.get(outcome, '•')} <b>{sanitize.html(case.case_id, 120)}</b> · "
               f"{sanitize.html(case.severity, 20)} · {OUTCOME_WORD.get(outcome, outcome)}")
    if case.samples and len(case.samples) > 1:
        bad = sum(o != PASS for o in case.sample_outcomes)
        summary += f" in {bad} of {len(case.samples)} samples"
    summary += f" — {sanitize.html(case.title, 160)}"
    lines = ["<details>", f"<summary>{summary}</summary>", "",
             f"{location(case.path, case.line, links)} · source "
             f"{sanitize.inline(case.source_kind, 40)}"
             + (f" {sanitize.code(case.source_ref, 60)}" if case.source_ref else ""), ""]
    if outcome == NOT_RUN:
        lines.append(f"Not run: {sanitize.message(case.not_run_reason, 500)}")
    seen: set[int] = set()
    first_bad = None
    for number, sample in enumerate(case.samples, start=1):
        if sample.outcome != PASS and first_bad is None:
            first_bad = (number, sample)
        if sample.sample.error:
            lines.append(f"- ⚠️ sample {number}: {sanitize.message(sample.sample.error, 400)}")
        for check in sample.checks:
            if check.status == PASS or check.index in seen:
                continue
            seen.add(check.index)
            label = sanitize.inline(check.name or check.kind, 80)
            lines.append(f"- {OUTCOME_ICON.get(check.status, '•')} `expect[{check.index}]` "
                         f"{label} ({location(case.path, check.line, links)}): "
                         f"{sanitize.message(check.message, 600)}")
    if first_bad is not None and excerpt > 0:
        number, sample = first_bad
        calls = sample.sample.tool_calls
        if calls:
            trail = "\n".join(f"{c.step}. {c.name} {_json(c.arguments)}"
                              + (f"  → error: {c.error}" if c.error else "") for c in calls)
            lines += ["", f"Tool calls (sample {number}):", "",
                      sanitize.code_block(trail, excerpt // 2, max_lines=30)]
        if sample.sample.output:
            lines += ["", f"Output (sample {number}):", "",
                      sanitize.code_block(sample.sample.output, excerpt)]
    lines += ["", "</details>"]
    return "\n".join(lines)


def cases_section(cases: Sequence[CaseResult], links: Links, budget: int,
                  title: str = "Cases that did not pass") -> str:
    """The collapsed list of cases that did not pass, cut to ``budget`` characters."""
    bad = not_passing(cases)
    if not bad:
        return ""
    head = f"### {title} ({len(bad)})\n"
    reserve = 600  # room for the "… and N more" line
    parts = [head]
    used = size(head)
    shown = 0
    for case in bad:
        block = case_block(case, links)
        if used + size(block) + 1 > budget - reserve:
            block = case_block(case, links, excerpt=300)
        if used + size(block) + 1 > budget - reserve:
            break
        parts.append(block)
        used += size(block) + 1
        shown += 1
    if shown < len(bad):
        rest = bad[shown:]
        ids = ", ".join(sanitize.code(c.case_id, 60) for c in rest[:5])
        more = f" and {len(rest) - 5} others" if len(rest) > 5 else ""
        parts.append(f"… {len(rest)} more not shown here ({ids}{more}): "
                     "see the check run annotations and the full evidence.")
    return "\n".join(parts)


# --- whole documents ---------------------------------------------------------------------------


def comment_marker(check_name: str) -> str:
    """The hidden lines that make a comment ours (and this check's): the body starts with them."""
    return f"{COMMENT_MARKER}\n<!-- casebank:check {sanitize.html_comment(check_name)} -->"


def comment_state(verdict: Verdict, evidence: Evidence) -> str:
    """A fingerprint of what ``comment: on-change`` compares: the verdict and what failed."""
    bad = sorted(f"{c.case_id}={c.outcome}" for c in not_passing(evidence.cases))
    digest = hashlib.sha256("\n".join([verdict.decision, *bad]).encode("utf-8")).hexdigest()
    return digest[:16]


def state_line(state: str) -> str:
    return f"<!-- casebank:state {state} -->"


def comment(verdict: Verdict, evidence: Evidence, *, check_name: str, links: Links,
            limit: int = COMMENT_LIMIT) -> str:
    """The sticky PR comment, under ``limit`` characters whatever the evidence holds."""
    links = _knowing_deletions(links, verdict)
    counts = Counts.of(evidence.cases)
    top = "\n\n".join(p for p in (
        comment_marker(check_name) + "\n" + state_line(comment_state(verdict, evidence)),
        headline(verdict, counts, check_name), why(verdict, links), gate_diff(verdict, links),
        bank_changes(verdict, links)) if p)
    bottom = coverage(verdict) + "\n\n" + evidence_pointer(links, evidence)
    top = cap(top, limit // 2)
    budget = limit - size(top) - size(bottom) - 8
    middle = cases_section(evidence.cases, links, budget)
    return cap("\n\n".join(p for p in (top, middle, bottom) if p), limit)


def gate_check(verdict: Verdict, evidence: Evidence, links: Links) -> CheckText:
    """The ``<name> / gate`` check run: verdict, counts, why and where the evidence is in
    title and summary; the gate diff, bank changes, the cases that did not pass and coverage
    in the text (GitHub shows the two on one page, so nothing is said twice)."""
    links = _knowing_deletions(links, verdict)
    counts = Counts.of(evidence.cases)
    title = f"{verdict.decision}: {counts.line()}"
    summary = "\n\n".join([
        f"**{VERDICT_ICON[verdict.decision]} {verdict.decision}** — {counts.line()}",
        why(verdict, links), evidence_pointer(links, evidence)])
    summary = cap(summary, CHECK_TEXT_LIMIT)
    top = "\n\n".join(p for p in (gate_diff(verdict, links), bank_changes(verdict, links)) if p)
    top = cap(top, CHECK_TEXT_LIMIT // 2)
    bottom = coverage(verdict)
    budget = CHECK_TEXT_LIMIT - size(top) - size(bottom) - 8
    text = "\n\n".join(p for p in (top, cases_section(evidence.cases, links, budget), bottom) if p)
    return CheckText(title=_short(title, 200), summary=summary, text=cap(text, CHECK_TEXT_LIMIT))


def changed_check(cases: Sequence[CaseResult], why_selected: str, links: Links,
                  verdict: Verdict | None = None) -> CheckText:
    """The ``<name> / changed`` check run: how the cases this change touches fared."""
    if not cases:
        summary = ("No case in the bank is added or affected by this change. "
                   + sanitize.inline(why_selected, 2000))
        return CheckText(title="No changed cases", summary=cap(summary, CHECK_TEXT_LIMIT))
    counts = Counts.of(cases)
    title = f"{len(cases)} changed case{'s' if len(cases) != 1 else ''}: {counts.line()}"
    rows = ["| | case | severity | file |", "| --- | --- | --- | --- |"]
    for case in sorted(cases, key=lambda c: (OUTCOME_ORDER.get(c.outcome, 9), c.case_id))[:200]:
        rows.append(f"| {OUTCOME_ICON.get(case.outcome, '•')} {OUTCOME_WORD.get(case.outcome, '')} "
                    f"| {sanitize.code(case.case_id, 80)} | {sanitize.inline(case.severity, 20)} "
                    f"| {location(case.path, case.line, links)} |")
    if len(cases) > 200:
        rows.append(f"| | … and {len(cases) - 200} more | | |")
    parts = [f"**{title}**", sanitize.inline(why_selected, 2000)]
    if verdict is not None:
        parts.append(f"Gate on these cases alone: **{verdict.decision}**")
    parts += ["\n".join(rows), evidence_pointer(links)]
    summary = cap("\n\n".join(parts), CHECK_TEXT_LIMIT)
    text = cases_section(cases, links, CHECK_TEXT_LIMIT - 100, title="Changed cases that did not pass")
    return CheckText(title=_short(title, 200), summary=summary, text=text)


@dataclass
class SummaryExtras:
    """What the step summary says beyond the verdict: how reporting to GitHub went."""

    github_notes: list[str] = field(default_factory=list)
    changed: str = ""  # a line about the changed suite, when there was one


def step_summary(verdict: Verdict, evidence: Evidence, *, check_name: str, links: Links,
                 extras: SummaryExtras | None = None, limit: int = STEP_SUMMARY_LIMIT) -> str:
    """The job step summary (markdown, under 1 MiB in UTF-8)."""
    links = _knowing_deletions(links, verdict)
    extras = extras or SummaryExtras()
    counts = Counts.of(evidence.cases)
    notes = ""
    if extras.github_notes:
        notes = "### Reporting to GitHub\n\n" + "\n".join(f"- {n}" for n in extras.github_notes)
    top = "\n\n".join(p for p in (
        headline(verdict, counts, check_name), extras.changed, why(verdict, links),
        gate_diff(verdict, links), bank_changes(verdict, links)) if p)
    bottom = "\n\n".join(p for p in (coverage(verdict), notes, evidence_pointer(links, evidence)) if p)
    budget = limit - size(top) - size(bottom) - 8
    text = "\n\n".join(p for p in (top, cases_section(evidence.cases, links, budget), bottom) if p)
    return cap(text, limit - 1) + "\n"


# --- helpers -----------------------------------------------------------------------------------


def _delta(delta: CaseDelta, links: Links) -> str:
    text = f"{sanitize.code(delta.case_id, 80)} ({sanitize.inline(delta.severity, 20)}"
    if delta.path:
        text += f", {location(delta.path, delta.line, links)}"
    text += ")"
    if delta.message:
        text += f": {sanitize.message(delta.message, 200)}"
    return text


def _policy_source(verdict: Verdict) -> str:
    return sanitize.inline(getattr(verdict, "policy_source", "casebank.yaml"), 200)


def _json(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return str(value)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def size(text: str) -> int:
    """Size as GitHub measures its strictest limits: UTF-8 bytes (never fewer than characters)."""
    return len(text.encode("utf-8"))


def cap(text: str, limit: int) -> str:
    """Cut markdown at a line boundary to at most ``limit`` bytes, closing what the cut left open."""
    if size(text) <= limit:
        return text
    note = "\n\n… cut to fit GitHub's size limit; the full report is in the evidence."
    room = max(0, limit - size(note) - 200)
    cut = text.encode("utf-8")[:room].decode("utf-8", "ignore")
    cut = cut[: cut.rfind("\n")] if "\n" in cut else cut
    # Close an open code fence and <details> so the rest of the page renders normally.
    fence = _open_fence(cut)
    if fence:
        cut += "\n" + fence
    opened = cut.count("<details>") - cut.count("</details>")
    cut += "\n</details>" * max(0, opened)
    return cut + note


def _open_fence(text: str) -> str:
    """The backtick fence still open at the end of ``text`` ("" when none is)."""
    fence = ""
    for line in text.split("\n"):
        stripped = line.strip()
        run = len(stripped) - len(stripped.lstrip("`"))
        if not fence and run >= 3:
            fence = "`" * run
        elif fence and run >= len(fence) and stripped == "`" * run:
            fence = ""
    return fence
