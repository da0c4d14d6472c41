"""The decision: (policy, evidence, baseline, reviews, changes) -> SHIP / HOLD / BLOCK.

A pure function: it reads no clock, no file and no environment, and sorts everything, so the
same inputs give the same verdict byte for byte (``today`` is an argument for that reason).

How a case counts, in order:

1. not run -> BLOCK (unknown is never a pass); errored -> ``on_error``.
2. A review file whose hashes cover the case's current outputs decides: accept -> passed,
   reject -> failed (a reviewer may also reject an output the checks passed).
3. Still uncertain -> ``on_uncertain``; a ``review: always`` case, or a failing
   ``review: on-fail`` case, without a matching review -> HOLD (review required).
4. A failure with an active waiver does not count; an expired waiver is reported.
5. Every counted failure blocks unless a rule covering its case tolerates it (a rate, a
   minimum pass count, or ``block_on_any_failure: false``; critical cases only by a rule
   naming severity critical). Rate and count rules then block their whole group.
6. A counted failure that did not fail in the baseline -> ``new_failure``.

Then the run itself (changed or selected cases only -> HOLD: a full run is needed;
incomplete evidence -> BLOCK) and the change under review (bank erosion, a loosened
policy -> HOLD).

Each case gets one reason, whatever applies to it (a rule, a review, its erosion): the most
severe decision, every rule, the first failing check's words once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from casebank.check.result import ERROR, FAIL, PASS, UNCERTAIN
from casebank.evidence import Evidence
from casebank.gate import diff as gate_diff
from casebank.gate.changes import DELETED, BankChange, PolicyChange
from casebank.gate.policy import BLOCK as POLICY_BLOCK
from casebank.gate.policy import HOLD as POLICY_HOLD
from casebank.gate.policy import Policy, Waiver, percent
from casebank.gate.review import ACCEPT, Review, output_hashes
from casebank.gate.verdict import BLOCK, HOLD, SHIP, Coverage, Reason, Verdict
from casebank.run.result import NOT_RUN, CaseResult

_RANK = {BLOCK: 0, HOLD: 1, SHIP: 2}
_LIST_LIMIT = 20
# A failing check's words in a reason: longer ones are cut in the middle, so what the gate
# adds after them (a stale review, an expired waiver, a group's rate) stays in sight. The
# evidence, casebank run and the PR comment's case details have them whole.
CHECK_WORDS_LIMIT = 300


@dataclass
class _Judged:
    """How the gate counts one case after reviews and waivers."""

    case: CaseResult
    outcome: str  # as run: pass | fail | error | uncertain | not_run
    counted: str  # after a review: pass | fail | error | uncertain | not_run
    review: Review | None = None  # the review that decided it
    stale_review: Review | None = None  # a review for other outputs
    waiver: Waiver | None = None  # active waiver that keeps its failure from counting
    expired: Waiver | None = None  # expired waiver for a failure that now counts
    held: bool = False  # needs a person's review before it can ship

    @property
    def failing(self) -> bool:
        """A failure that counts against the rules."""
        return self.counted == FAIL and self.waiver is None


def decide(policy: Policy, evidence: Evidence, *, baseline: Evidence | None = None,
           reviews: dict[str, Review] | None = None,
           bank_changes: list[BankChange] | None = None,
           policy_changes: list[PolicyChange] | None = None,
           today: dt.date, baseline_label: str | None = None,
           notes: list[str] | None = None) -> Verdict:
    """The verdict for ``evidence`` under ``policy``.

    ``baseline`` is the evidence of the base (None: there is none, which is stated);
    ``reviews`` maps case ids to review files; ``bank_changes`` and ``policy_changes`` are
    what the change under review did to the bank and to the policy; ``today`` decides
    which waivers have expired; ``baseline_label`` says where the baseline came from;
    ``notes`` are added to the verdict's notes as they are.
    """
    reviews = reviews or {}
    bank_changes = sorted(bank_changes or [], key=lambda c: (c.path, c.case_id))
    policy_changes = sorted(policy_changes or [], key=lambda c: (c.line or 0, c.field, c.message))
    cases = _unique_sorted(evidence.cases)
    judged = [_judge(case, policy, reviews, today) for case in cases]
    reasons: list[Reason] = []
    notes = list(notes or [])

    before = {c.case_id: c.outcome for c in baseline.cases} if baseline is not None else None
    group_reasons, breaches = _rule_breaches(judged, policy, evidence, notes)
    eroded = {c.case_id: c for c in bank_changes if c.holds and c.change != DELETED}
    for item in judged:
        case_id = item.case.case_id
        findings = _findings(item, policy, before, breaches.get(case_id, []))
        change = eroded.get(case_id)
        if change is not None and findings:
            del eroded[case_id]  # said with the rest of the case
            findings.append(_Finding(HOLD, "bank erosion", f"was loosened by this change "
                                     f"({change.summary()})", _approve_how(change),
                                     shows_check=False))
        if findings:
            reasons.append(_case_reason(item, findings))
    reasons += group_reasons
    reasons += _run_reasons(evidence, judged)
    reasons += _change_reasons([c for c in bank_changes if c.case_id in eroded
                                or c.change == DELETED], policy_changes)
    notes += _review_notes(judged)
    notes += _approval_notes(bank_changes, policy_changes)
    notes += _waiver_notes(judged, policy, today)
    notes += _flaky_notes(judged)

    reasons = sorted(set(reasons), key=_reason_key)
    decision = min((r.decision for r in reasons), key=_RANK.__getitem__, default=SHIP)

    label = baseline_label or (_describe_baseline(baseline) if baseline is not None else None)
    if baseline is None:
        notes.append("no baseline: new failures cannot be told apart from known ones "
                     "(record one on the default branch, see docs/gate.md#the-baseline, or pass "
                     "--baseline PATH)")
        verdict_before = None
    else:
        verdict_before = decide(policy, baseline, reviews=reviews, today=today).decision
    diff = gate_diff.compare(evidence, baseline, bank_changes, baseline_label=label)
    diff = gate_diff.with_verdicts(diff, verdict_before, decision if baseline else None)

    return Verdict(
        decision=decision,
        reasons=reasons,
        coverage=_coverage(evidence, judged),
        notes=sorted(set(notes)),
        diff=diff,
        bank_changes=bank_changes,
        policy_changes=policy_changes,
        hold_conclusion=policy.hold_conclusion,
        policy_source=policy.source,
    )


def _unique_sorted(cases: list[CaseResult]) -> list[CaseResult]:
    by_id: dict[str, CaseResult] = {}
    for case in cases:
        by_id.setdefault(case.case_id, case)
    return [by_id[k] for k in sorted(by_id)]


def _judge(case: CaseResult, policy: Policy, reviews: dict[str, Review],
           today: dt.date) -> _Judged:
    outcome = case.outcome
    item = _Judged(case=case, outcome=outcome, counted=outcome)
    if outcome in (NOT_RUN, ERROR):
        return item
    review = reviews.get(case.case_id)
    needs_review = outcome == UNCERTAIN or case.review == "always" or (
        outcome == FAIL and case.review == "on-fail")
    if review is not None:
        if review.covers(output_hashes(case)):
            item.review = review
            item.counted = PASS if review.decision == ACCEPT else FAIL
        else:
            item.stale_review = review
    if item.review is None and needs_review:
        item.held = True
    if item.counted == FAIL:
        waivers = sorted(policy.waivers_for(case.case_id), key=lambda w: w.expires, reverse=True)
        active = [w for w in waivers if w.active(today)]
        if active:
            item.waiver = active[0]
            # the waiver is the person's decision on this known failure
            if case.review == "on-fail" and outcome == FAIL:
                item.held = False
        elif waivers:
            item.expired = waivers[0]
    return item


@dataclass(frozen=True)
class _Finding:
    """One thing that applies to a case. All of a case's findings make its one reason."""

    decision: str  # BLOCK or HOLD
    rule: str
    says: str  # of the case, after its id: "failed", "needs a person's review"
    how: str | None
    extra: str = ""  # said after the check's words: "; waiver expired on 2026-03-31"
    shows_check: bool = True  # the words of the first failing check belong to it


def _failure(case: CaseResult) -> tuple[str, int]:
    """The first thing that went wrong, in the check's words, and its line."""
    label, words, check_line = gate_diff.first_problem(case)
    words = cut_middle(words, CHECK_WORDS_LIMIT)
    if not label:
        return "", case.line
    if check_line is None:
        return f"{label}: {words}", case.line
    return f"{label} (line {check_line}): {words}", check_line


def cut_middle(text: str, limit: int) -> str:
    """``text`` of at most about ``limit`` characters: its start and its end, cut between
    words where it can be, joined by " … "."""
    if len(text) <= limit:
        return text
    head, tail = text[:limit * 3 // 4], text[-(limit // 4):]
    if " " in head[len(head) // 2:]:
        head = head.rsplit(" ", 1)[0]
    if " " in tail[:len(tail) // 2]:
        tail = tail.split(" ", 1)[1]
    return f"{head} … {tail}"


def _case_reason(item: _Judged, findings: list[_Finding]) -> Reason:
    """One reason for one case: the most severe decision, every rule that applies to it,
    and the first failing check's words said once."""
    findings = sorted(findings, key=lambda f: _RANK[f.decision])  # stable: keeps their order
    what, line = _failure(item.case)
    message = f"{item.case.case_id} " + " and ".join(dict.fromkeys(f.says for f in findings))
    if what and any(f.shows_check for f in findings):
        message += f": {what}"
    message += "".join(dict.fromkeys(f.extra for f in findings))
    how = "; or ".join(dict.fromkeys(f.how for f in findings if f.how))
    return _reason(findings[0].decision, "; ".join(dict.fromkeys(f.rule for f in findings)),
                   item, message, how or None, line)


def _reason(decision: str, rule: str, item: _Judged, message: str, how: str | None = None,
            line: int | None = None) -> Reason:
    case = item.case
    return Reason(decision=decision, rule=rule, message=message, case_id=case.case_id,
                  path=case.path, line=line if line is not None else case.line,
                  how_to_resolve=how)


def _review_how(case_id: str) -> str:
    return (f"read its outputs (under the case in the PR comment, or `samples[].output` in the evidence file), then record the decision: "
            f"casebank review {case_id} --decision accept|reject --rationale \"...\" "
            f"--reviewer @you, and commit the review file")


def _stale(item: _Judged) -> str:
    review = item.stale_review
    if review is None:
        return ""
    now = ", ".join(h[:19] for h in output_hashes(item.case))
    seen = ", ".join(h[:19] for h in review.outputs)
    return (f"; {review.path} reviewed a different output ({seen}…, now {now}…): "
            f"a new output needs a new review")


def _findings(item: _Judged, policy: Policy, before: dict[str, str] | None,
              breaches: list[tuple[str, str]]) -> list[_Finding]:
    """What applies to one case: its error, its uncertainty or review, and the rules its
    failure breaks (one by one, as part of a group over its limit, or as a new failure)."""
    case = item.case
    found = []
    if item.outcome == ERROR:
        found.append(_Finding(BLOCK if policy.on_error == POLICY_BLOCK else HOLD,
                              f"on_error: {policy.on_error}", "errored",
                              "fix the target or the check and re-run; an error is never a pass"))
    if item.counted == UNCERTAIN:
        found.append(_Finding(BLOCK if policy.on_uncertain == POLICY_BLOCK else HOLD,
                              "review required: uncertain result", "is uncertain",
                              _review_how(case.case_id), _stale(item)))
    elif item.held:
        why = "review: always" if case.review == "always" else "review: on-fail, and it failed"
        found.append(_Finding(HOLD, f"review required ({why})", "needs a person's review",
                              _review_how(case.case_id), _stale(item),
                              shows_check=item.outcome == FAIL))
    if not item.failing:
        return found
    says, how = _failed(item, before), _fail_how(item)
    expired = (f"; waiver expired on {item.expired.expires.isoformat()}"
               if item.expired is not None else "")
    rule = _blocking_rule(item, policy)
    if rule is not None:
        found.append(_Finding(BLOCK, rule, says, how, expired))
    found += [_Finding(BLOCK, rule, says, how, f"; {over}{expired}") for rule, over in breaches]
    if (rule is None and not breaches and before is not None and before.get(case.case_id) != FAIL
            and policy.new_failure in (POLICY_BLOCK, POLICY_HOLD)):
        found.append(_Finding(BLOCK if policy.new_failure == POLICY_BLOCK else HOLD,
                              f"new_failure: {policy.new_failure}", says, how, expired))
    return found


def _blocking_rule(item: _Judged, policy: Policy) -> str | None:
    """The rule that blocks this failure on its own; None when a rule tolerates it (a rate or
    count rule then decides for its whole group)."""
    case = item.case
    matching = policy.rules_for(case.severity, case.tags)
    blocking = [r for r in matching if r.block_on_any_failure is True]
    if blocking:
        return blocking[0].describe()
    if any(r.may_tolerate(case.severity) for r in matching):
        return None
    return f"{case.severity}: block on any failure (default)"


def _failed(item: _Judged, before: dict[str, str] | None) -> str:
    case = item.case
    text = "failed"
    if before is not None and before.get(case.case_id) != FAIL:
        text += f" ({_then(before.get(case.case_id))}: a new failure)"
    if item.review is not None:
        text += f" (rejected in {item.review.path} by {item.review.reviewer})"
    return text


def _fail_how(item: _Judged) -> str:
    how = "fix the model, prompt or agent so the case passes"
    if item.expired is not None:
        how += " (or renew the waiver with a new expiry date, which holds for review)"
    return how


def _rule_breaches(judged: list[_Judged], policy: Policy, evidence: Evidence,
                   notes: list[str]) -> tuple[list[Reason], dict[str, list[tuple[str, str]]]]:
    """Rate and count rules, which judge a group: reasons for the groups (too few passed) and,
    by case, the rate rules its failure breaks with how far (the case's reason says them)."""
    reasons = []
    breaches: dict[str, list[tuple[str, str]]] = {}
    whole_run = evidence.suite == "full" and evidence.complete
    for rule in policy.rules:
        group = [j for j in judged if j.outcome != NOT_RUN
                 and rule.matches(j.case.severity, j.case.tags)]
        failing = [j for j in group if j.failing]
        if rule.max_failure_rate is not None and group and failing:
            rate = len(failing) / len(group)
            if rate > rule.max_failure_rate:
                over = (f"{len(failing)} of {len(group)} {rule.group} cases failed "
                        f"({percent(rate)}), more than the {percent(rule.max_failure_rate)} "
                        "allowed")
                for item in failing:
                    breaches.setdefault(item.case.case_id, []).append((rule.describe(), over))
        if rule.min_pass is not None:
            passed = sum(1 for j in group if j.counted == PASS)
            if not whole_run:
                notes.append(f"{rule.describe()}: not checked, this run is not the full "
                             "suite")
            elif passed < rule.min_pass:
                reasons.append(Reason(
                    decision=BLOCK, rule=rule.describe(),
                    message=f"only {passed} of {len(group)} {rule.group} cases passed; the "
                            f"rule asks for at least {rule.min_pass}",
                    path=policy.source, line=rule.line,
                    how_to_resolve="fix the failing cases, or add cases to the group"))
    return reasons, breaches


def _then(was: str | None) -> str:
    if was is None:
        return "it is not in the baseline"
    return f"it was {_said(was)} in the baseline"


def _said(outcome: str) -> str:
    return {PASS: "passing", ERROR: "erroring", UNCERTAIN: "uncertain",
            NOT_RUN: "not run"}.get(outcome, outcome)


def _run_reasons(evidence: Evidence, judged: list[_Judged]) -> list[Reason]:
    reasons = []
    if evidence.suite != "full":
        ran = [j.case.case_id for j in judged]
        shown = _short_list(ran) or "none"
        what = "changed cases" if evidence.suite == "changed" else f"{evidence.suite} cases"
        reasons.append(Reason(
            decision=HOLD, rule=f"{evidence.suite} suite: full suite required",
            message=f"{what}: {shown}; full suite required before release",
            how_to_resolve="run the full bank (casebank run without --select/changed "
                           "selection) and gate that evidence"))
    if not evidence.complete:
        if evidence.shard:
            message = (f"evidence of shard {evidence.shard.get('index')} of "
                       f"{evidence.shard.get('count')} only")
            how = "merge every shard (casebank merge) and gate the merged evidence"
        elif evidence.interrupted:
            message = "the run was interrupted; its evidence is partial"
            how = "re-run the suite to the end"
        else:
            message = "the evidence is incomplete (the run did not finish)"
            how = "re-run the suite to the end"
        reasons.append(Reason(decision=BLOCK, rule="incomplete evidence: unknown is never a pass",
                              message=message, how_to_resolve=how))
    not_run: dict[str, list[str]] = {}
    for item in judged:
        if item.outcome == NOT_RUN:
            not_run.setdefault(item.case.not_run_reason or "not run", []).append(item.case.case_id)
    by_id = {j.case.case_id: j.case for j in judged}
    for why, ids in not_run.items():
        first = by_id[ids[0]]
        reasons.append(Reason(
            decision=BLOCK, rule="not run: unknown is never a pass",
            message=f"{len(ids)} case{'s' if len(ids) > 1 else ''} not run ({why}): "
                    f"{_short_list(ids)}",
            case_id=first.case_id if len(ids) == 1 else None,
            path=first.path if len(ids) == 1 else None,
            line=first.line if len(ids) == 1 else None,
            how_to_resolve="re-run so every selected case has a result; unknown is never a pass"))
    recorded = {j.case.case_id for j in judged}
    missing = sorted(set(evidence.selected) - recorded)
    if missing:
        reasons.append(Reason(
            decision=BLOCK, rule="not run: unknown is never a pass",
            message=f"{len(missing)} selected case{'s have' if len(missing) > 1 else ' has'} "
                    f"no result in the evidence: {_short_list(missing)}",
            how_to_resolve="re-run so every selected case has a result; unknown is never a pass"))
    return reasons


def _change_reasons(bank_changes: list[BankChange],
                    policy_changes: list[PolicyChange]) -> list[Reason]:
    reasons = []
    for change in bank_changes:
        if change.holds:
            reasons.append(Reason(
                decision=HOLD, rule="bank erosion", message=f"{change.case_id}: {change.summary()}",
                case_id=change.case_id, path=change.path, line=change.line,
                how_to_resolve=_approve_how(change)))
    for change in policy_changes:
        if change.holds:
            reasons.append(Reason(
                decision=HOLD, rule="policy loosened", message=f"{change.field}: {change.message}",
                path=change.path, line=change.line,
                how_to_resolve="if this is intended, a policy owner approves it: casebank review "
                               "--approve-policy --rationale \"...\" --reviewer @you, committed "
                               "with the change (this run is gated with the base's policy)"))
    return reasons


def _approve_how(change: BankChange) -> str:
    base = " --base <base>" if change.change == DELETED else ""
    return (f"if this is intended, a bank owner approves it: casebank review {change.case_id} "
            f"--approve-change --rationale \"...\" --reviewer @you{base}, committed with the "
            "change")


def _approval_notes(bank_changes: list[BankChange],
                    policy_changes: list[PolicyChange]) -> list[str]:
    notes = [f"{c.case_id}: {c.summary()}: {c.approval}" for c in bank_changes
             if c.erodes and c.approval]
    notes += [f"policy {c.field}: {c.message}: {c.approval}" for c in policy_changes
              if c.loosens and c.approval]
    return notes


def _review_notes(judged: list[_Judged]) -> list[str]:
    notes = []
    for item in judged:
        review = item.review
        if review is not None:
            word = "accepted" if review.decision == ACCEPT else "rejected"
            notes.append(f"{item.case.case_id} ({item.outcome}) {word} in {review.path} by "
                         f"{review.reviewer} on {review.date}: counted as "
                         f"{'passed' if item.counted == PASS else 'failed'}")
    return notes


def _waiver_notes(judged: list[_Judged], policy: Policy, today: dt.date) -> list[str]:
    notes = []
    by_id = {j.case.case_id: j for j in judged}
    for waiver in policy.waivers:
        item = by_id.get(waiver.case)
        until = waiver.expires.isoformat()
        if item is None:
            notes.append(f"waiver for {waiver.case}: no such case in this run")
        elif item.waiver == waiver:
            notes.append(f"{waiver.case} failed and is waived until {until} "
                         f"(owner {waiver.owner}: {waiver.reason})")
        elif not waiver.active(today):
            notes.append(f"waiver for {waiver.case} expired on {until}")
        elif item.counted == PASS:
            notes.append(f"waiver for {waiver.case} (until {until}) is not needed: the case "
                         "passes; remove it")
    return notes


def _flaky_notes(judged: list[_Judged]) -> list[str]:
    notes = []
    for item in judged:
        if item.case.flaky:
            outcomes = item.case.sample_outcomes
            notes.append(f"flaky: {item.case.case_id} ({outcomes.count(PASS)} of "
                         f"{len(outcomes)} samples passed; its rule needs "
                         f"{item.case.min_pass} of {item.case.samples_required}; "
                         f"counted as {item.outcome})")
    return notes


def _coverage(evidence: Evidence, judged: list[_Judged]) -> Coverage:
    outcomes = [j.counted for j in judged]  # after reviews
    not_run = {j.case.case_id: j.case.not_run_reason or "not run"
               for j in judged if j.outcome == NOT_RUN}
    recorded = {j.case.case_id for j in judged}
    for case_id in set(evidence.selected) - recorded:
        not_run[case_id] = "no result in the evidence"
    return Coverage(
        bank=evidence.bank_size or len(judged),
        selected=len(set(evidence.selected) | recorded),
        run=sum(1 for o in outcomes if o != NOT_RUN),
        passed=outcomes.count(PASS),
        failed=outcomes.count(FAIL),
        errored=outcomes.count(ERROR),
        uncertain=outcomes.count(UNCERTAIN),
        waived=sum(1 for j in judged if j.waiver is not None),
        held=sum(1 for j in judged if j.held),
        flaky=sum(1 for j in judged if j.case.flaky),
        not_run=dict(sorted(not_run.items())),
        suite=evidence.suite,
        changed_cases=tuple(sorted(recorded)) if evidence.suite == "changed" else (),
    )


def _describe_baseline(baseline: Evidence) -> str:
    parts = []
    if baseline.commit:
        parts.append(f"commit {baseline.commit[:12]}")
    model = baseline.target.get("name") or baseline.target.get("model")
    if model:
        parts.append(f"target {model}")
    if baseline.started_at:
        parts.append(f"run {baseline.started_at}")
    return ", ".join(parts) or "baseline evidence"


def _short_list(ids: list[str]) -> str:
    ids = sorted(ids)
    text = ", ".join(ids[:_LIST_LIMIT])
    if len(ids) > _LIST_LIMIT:
        text += f" and {len(ids) - _LIST_LIMIT} more"
    return text


def _reason_key(reason: Reason) -> tuple:
    return (_RANK[reason.decision], reason.path or "", reason.line or 0, reason.case_id or "",
            reason.rule, reason.message)
