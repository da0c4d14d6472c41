"""decide(): the verdict as a pure function of policy, evidence, baseline, reviews, changes."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import random

from casebank.gate.changes import DELETED, LOOSENED, MODIFIED, BankChange, CaseEdit, PolicyChange
from casebank.gate.decide import decide
from casebank.gate.policy import parse_policy
from casebank.gate.review import Review, output_hashes
from casebank.gate.serialize import verdict_json
from casebank.gate.verdict import BLOCK, HOLD, SHIP
from casebank.report.verdict_text import render_markdown, render_text
from tests.gate.builders import case, evidence

TODAY = dt.date(2026, 4, 1)


def policy(**gate):
    return parse_policy(gate or None)


def reasons(verdict, decision=None):
    return [r for r in verdict.reasons if decision is None or r.decision == decision]


def test_everything_passing_ships_with_coverage_and_states_missing_baseline():
    verdict = decide(policy(), evidence(case("a", "pass"), case("b", "pass", "pass")), today=TODAY)
    assert verdict.decision == SHIP
    assert verdict.exit_code == 0
    assert verdict.reasons == []
    assert verdict.coverage.statement() == (
        "2 cases in the bank; 2 selected, 2 run: 2 passed, 0 failed, 0 errored, 0 uncertain, "
        "0 waived, 0 held for review, 0 flaky; every selected case ran.")
    assert any(n.startswith("no baseline:") for n in verdict.notes)
    assert verdict.diff is not None and not verdict.diff.has_baseline


def test_critical_failure_blocks_by_default_naming_case_file_and_check():
    verdict = decide(policy(), evidence(case("refund", "fail", severity="critical")), today=TODAY)
    assert verdict.decision == BLOCK
    assert verdict.exit_code == 1
    (reason,) = reasons(verdict)
    assert reason.rule == "critical: block on any failure (default)"
    assert reason.path == "cases/refund.yaml" and reason.line == 12
    assert "refund failed: contains (line 12): the output does not contain 'refund'" in reason.message


def test_rate_rule_tolerates_failures_up_to_its_limit_then_blocks_the_group():
    gate = {"rules": [{"severity": "high", "max_failure_rate": 0.25}]}
    within = evidence(case("a", "fail"), case("b", "pass"), case("c", "pass"), case("d", "pass"))
    assert decide(policy(**gate), within, today=TODAY).decision == SHIP

    over = evidence(case("a", "fail"), case("b", "fail"), case("c", "pass"), case("d", "pass"))
    verdict = decide(policy(**gate), over, today=TODAY)
    assert verdict.decision == BLOCK
    assert [r.case_id for r in reasons(verdict)] == ["a", "b"]
    assert reasons(verdict)[0].rule == "severity high: at most 25% failures"
    assert "2 of 4 severity high cases failed (50%), more than the 25% allowed" in \
        reasons(verdict)[0].message


def test_tag_rule_cannot_tolerate_a_critical_case_but_a_critical_rule_can():
    tag_rule = {"rules": [{"tag": "refunds", "max_failure_rate": 0.9}]}
    ev = evidence(case("crit", "fail", severity="critical", tags=("refunds",)),
                  case("ok", "pass", severity="critical", tags=("refunds",)))
    verdict = decide(policy(**tag_rule), ev, today=TODAY)
    assert verdict.decision == BLOCK
    assert reasons(verdict)[0].rule == "critical: block on any failure (default)"

    crit_rule = {"rules": [{"severity": "critical", "max_failure_rate": 0.5}]}
    assert decide(policy(**crit_rule), ev, today=TODAY).decision == SHIP


def test_block_on_any_failure_rule_wins_over_a_tolerating_rule():
    gate = {"rules": [{"severity": "high", "max_failure_rate": 0.9},
                      {"tag": "payments", "block_on_any_failure": True}]}
    ev = evidence(case("a", "fail", tags=("payments",)), case("b", "pass"))
    verdict = decide(policy(**gate), ev, today=TODAY)
    assert verdict.decision == BLOCK
    assert reasons(verdict)[0].rule == "tag payments: block on any failure"


def test_active_waiver_keeps_a_failure_from_counting_and_says_so():
    gate = {"waivers": [{"case": "a", "reason": "vendor fix due, JIRA-12", "owner": "@ana",
                         "expires": "2026-04-01"}]}
    verdict = decide(policy(**gate), evidence(case("a", "fail", severity="critical")), today=TODAY)
    assert verdict.decision == SHIP
    assert verdict.coverage.waived == 1
    assert "a failed and is waived until 2026-04-01 (owner @ana: vendor fix due, JIRA-12)" in \
        verdict.notes


def test_active_waiver_stands_for_the_review_of_an_on_fail_case():
    gate = {"waivers": [{"case": "a", "reason": "r", "owner": "@ana", "expires": "2026-04-30"}]}
    ev = evidence(case("a", "fail", review="on-fail"))
    verdict = decide(policy(**gate), ev, today=TODAY)
    assert (verdict.decision, verdict.coverage.held, verdict.coverage.waived) == (SHIP, 0, 1)
    expired = decide(policy(**gate), ev, today=dt.date(2026, 5, 1))
    assert expired.decision == BLOCK
    assert [r.rule for r in expired.reasons] == [
        "high: block on any failure (default); review required (review: on-fail, and it failed)"]


def test_expired_waiver_blocks_and_says_when_it_expired():
    gate = {"waivers": [{"case": "a", "reason": "r", "owner": "@ana", "expires": "2026-03-31"}]}
    verdict = decide(policy(**gate), evidence(case("a", "fail", severity="critical")), today=TODAY)
    assert verdict.decision == BLOCK
    assert "waiver expired on 2026-03-31" in reasons(verdict)[0].message
    assert "waiver for a expired on 2026-03-31" in verdict.notes
    assert verdict.coverage.waived == 0


def test_uncertain_result_holds_until_reviewed():
    verdict = decide(policy(), evidence(case("judge", "uncertain")), today=TODAY)
    assert verdict.decision == HOLD
    assert verdict.exit_code == 3
    (reason,) = reasons(verdict)
    assert reason.rule == "review required: uncertain result"
    assert "casebank review judge --decision accept|reject" in reason.how_to_resolve
    assert verdict.coverage.held == 1

    strict = decide(policy(on_uncertain="block"), evidence(case("judge", "uncertain")),
                    today=TODAY)
    assert strict.decision == BLOCK


def _review(case_result, decision="accept", outputs=None):
    return Review(case_id=case_result.case_id, decision=decision, rationale="checked by hand",
                  reviewer="@lead", date="2026-04-01",
                  outputs=tuple(outputs or output_hashes(case_result)),
                  path=f"reviews/{case_result.case_id}.yaml")


def test_matching_review_decides_and_a_review_of_another_output_still_holds():
    judged = case("judge", "uncertain", output="The refund goes to acct_personal_77.")
    ev = evidence(judged)
    accepted = decide(policy(), ev, reviews={"judge": _review(judged)}, today=TODAY)
    assert accepted.decision == SHIP
    assert accepted.coverage.held == 0

    rejected = decide(policy(), ev, reviews={"judge": _review(judged, "reject")}, today=TODAY)
    assert rejected.decision == BLOCK
    assert "rejected in reviews/judge.yaml by @lead" in reasons(rejected)[0].message

    other = case("judge", "uncertain", output="The refund goes to acct_biz_12.")
    stale = decide(policy(), evidence(other), reviews={"judge": _review(judged)}, today=TODAY)
    assert stale.decision == HOLD
    assert "reviews/judge.yaml reviewed a different output" in reasons(stale)[0].message
    assert "a new output needs a new review" in reasons(stale)[0].message


def test_review_always_holds_a_passing_case_and_on_fail_holds_a_failing_one():
    always = decide(policy(), evidence(case("a", "pass", review="always")), today=TODAY)
    assert always.decision == HOLD
    assert reasons(always)[0].rule == "review required (review: always)"

    gate = {"rules": [{"severity": "high", "block_on_any_failure": False}]}
    on_fail = decide(policy(**gate), evidence(case("b", "fail", review="on-fail")), today=TODAY)
    assert on_fail.decision == HOLD
    assert reasons(on_fail)[0].rule == "review required (review: on-fail, and it failed)"

    passing = decide(policy(), evidence(case("c", "pass", review="on-fail")), today=TODAY)
    assert passing.decision == SHIP


def test_error_blocks_by_default_and_holds_when_the_policy_says_so():
    ev = evidence(case("a", "pass", error="timeout after 30s"))
    verdict = decide(policy(), ev, today=TODAY)
    assert verdict.decision == BLOCK
    assert reasons(verdict)[0].message == "a errored: sample 1: timeout after 30s"
    assert decide(policy(on_error="hold"), ev, today=TODAY).decision == HOLD


def test_changed_suite_never_ships_and_names_the_changed_cases():
    ev = evidence(case("b", "pass"), case("a", "pass"), suite="changed", bank_size=40)
    verdict = decide(policy(), ev, today=TODAY)
    assert verdict.decision == HOLD
    assert reasons(verdict)[0].message == "changed cases: a, b; full suite required before release"
    assert verdict.coverage.statement().endswith(
        "changed cases: a, b; full suite required before release.")
    assert verdict.coverage.bank == 40


def test_incomplete_evidence_and_cases_not_run_never_ship():
    ev = evidence(case("a", "pass"), case("b", not_run="run interrupted"), complete=False)
    ev.interrupted = True
    ev.selected.append("c")
    verdict = decide(policy(), ev, today=TODAY)
    assert verdict.decision == BLOCK
    assert {r.rule for r in reasons(verdict)} == {
        "incomplete evidence: unknown is never a pass", "not run: unknown is never a pass"}
    messages = [r.message for r in reasons(verdict)]
    assert "the run was interrupted; its evidence is partial" in messages
    assert "1 case not run (run interrupted): b" in messages
    assert "1 selected case has no result in the evidence: c" in messages
    assert verdict.coverage.not_run == {"b": "run interrupted", "c": "no result in the evidence"}


def test_new_failure_against_baseline_blocks_regardless_of_rate():
    gate = {"rules": [{"severity": "high", "max_failure_rate": 0.5}]}
    base = evidence(case("a", "pass"), case("b", "fail"), case("c", "pass"), case("d", "pass"))
    head = evidence(case("a", "fail"), case("b", "fail"), case("c", "pass"), case("d", "pass"))
    verdict = decide(policy(**gate), head, baseline=base, today=TODAY)
    assert verdict.decision == BLOCK
    (reason,) = reasons(verdict)
    assert reason.case_id == "a"
    assert reason.message.startswith("a failed (it was passing in the baseline: a new failure): "
                                     "contains (line 12)")
    assert [d.case_id for d in verdict.diff.new_failures] == ["a"]
    assert [d.case_id for d in verdict.diff.still_failing] == ["b"]
    assert (verdict.diff.verdict_before, verdict.diff.verdict_after) == (SHIP, BLOCK)

    by_rules = decide(policy(new_failure="rules", **gate), head, baseline=base, today=TODAY)
    assert by_rules.decision == SHIP


def test_fixed_and_flaky_cases_are_listed():
    gate = {"rules": [{"severity": "high", "max_failure_rate": 0.5}]}
    base = evidence(case("a", "fail"), case("b", "pass", "pass", "pass", min_pass=2))
    head = evidence(case("a", "pass"), case("b", "pass", "fail", "pass", min_pass=2))
    verdict = decide(policy(**gate), head, baseline=base, today=TODAY)
    assert verdict.decision == SHIP
    assert [d.case_id for d in verdict.diff.fixed] == ["a"]
    assert [d.case_id for d in verdict.diff.flaky] == ["b"]
    assert "flaky: b (2 of 3 samples passed; its rule needs 2 of 3; counted as pass)" in \
        verdict.notes


def test_min_pass_blocks_a_full_run_and_is_only_noted_on_a_changed_run():
    gate = {"rules": [{"tag": "refunds", "min_pass": 3}]}
    ev = evidence(case("a", "pass", tags=("refunds",)), case("b", "pass", tags=("refunds",)))
    verdict = decide(parse_policy(gate, text=b"gate:\n  rules:\n    - tag: refunds\n      min_pass: 3\n"),
                     ev, today=TODAY)
    assert verdict.decision == BLOCK
    (reason,) = reasons(verdict)
    assert reason.message == "only 2 of 2 tag refunds cases passed; the rule asks for at least 3"
    assert (reason.path, reason.line) == ("casebank.yaml", 3)

    changed = evidence(case("a", "pass", tags=("refunds",)), suite="changed")
    verdict = decide(parse_policy(gate), changed, today=TODAY)
    assert verdict.decision == HOLD
    assert "tag refunds: at least 3 passing: not checked, this run is not the full suite" in \
        verdict.notes


def test_bank_erosion_and_policy_loosening_hold_even_when_everything_passes():
    ev = evidence(case("a", "pass"))
    deleted = BankChange("old-case", DELETED, "cases/old-case.yaml", None, "critical")
    verdict = decide(policy(), ev, bank_changes=[deleted], today=TODAY)
    assert verdict.decision == HOLD
    assert reasons(verdict)[0].rule == "bank erosion"
    assert reasons(verdict)[0].message == "old-case: case deleted"

    loosened = PolicyChange("rules[severity high].max_failure_rate", LOOSENED,
                            "raised from 10% to 50%", "casebank.yaml", 7)
    verdict = decide(policy(), ev, policy_changes=[loosened], today=TODAY)
    assert verdict.decision == HOLD
    assert (reasons(verdict)[0].rule, reasons(verdict)[0].line) == ("policy loosened", 7)


def test_same_inputs_give_byte_identical_verdicts_whatever_the_order():
    gate = {"rules": [{"severity": "high", "max_failure_rate": 0.3}],
            "waivers": [{"case": "c", "reason": "r", "owner": "@o", "expires": "2026-01-01"}]}
    cases = [case("a", "fail"), case("b", "pass", "fail", "pass", min_pass=2),
             case("c", "fail", severity="critical"), case("d", "uncertain"),
             case("e", not_run="budget"), case("f", "pass", error="HTTP 500 after 3 attempts"),
             case("g", "pass", review="always")]
    base = evidence(*[case(c.case_id, "pass") for c in cases])
    ev = evidence(*cases)
    snapshot = copy.deepcopy(ev)
    first = decide(policy(**gate), ev, baseline=base, today=TODAY)
    shuffled = evidence(*random.Random(7).sample(cases, len(cases)))
    second = decide(policy(**gate), shuffled, baseline=base, today=TODAY)
    assert render_text(first) == render_text(second)
    assert verdict_json(first) == verdict_json(second)
    assert dataclasses.asdict(ev) == dataclasses.asdict(snapshot)  # inputs untouched
    assert first.decision == BLOCK


def test_a_case_is_said_once_with_everything_that_applies_to_it_most_severe_first():
    gate = {"rules": [{"severity": "high", "max_failure_rate": 0.3}]}
    base = evidence(case("a", "pass"), case("b", "pass"), case("c", "pass"))
    head = evidence(case("a", "fail", review="on-fail"), case("b", "pass"), case("c", "pass"))
    loosened = BankChange("a", MODIFIED, "cases/a.yaml", 9, "high", (CaseEdit(
        "expect[1] (not_contains)", LOOSENED, "check removed: not_contains 'acct_biz_12'"),))
    verdict = decide(policy(**gate), head, baseline=base, bank_changes=[loosened], today=TODAY)

    assert verdict.decision == BLOCK
    (reason,) = verdict.reasons
    assert (reason.decision, reason.case_id, reason.path, reason.line) == (
        BLOCK, "a", "cases/a.yaml", 12)
    assert reason.rule == ("severity high: at most 30% failures; review required (review: "
                           "on-fail, and it failed); bank erosion")
    assert reason.message == (
        "a failed (it was passing in the baseline: a new failure) and needs a person's review "
        "and was loosened by this change (check removed: not_contains 'acct_biz_12'): contains "
        "(line 12): the output does not contain 'refund' (fail); 1 of 3 severity high cases "
        "failed (33.3%), more than the 30% allowed")
    assert reason.how_to_resolve.startswith(
        "fix the model, prompt or agent so the case passes; or read its outputs")
    assert "casebank review a --approve-change" in reason.how_to_resolve
    check_words = "the output does not contain 'refund' (fail)"
    # the reasons say it once (the gate diff below them lists the new failure as well)
    text = render_text(verdict).split("\nGate diff")[0]
    markdown = render_markdown(verdict).split("```text")[0]
    assert text.count(check_words) == 1 and text.count("cases/a.yaml") == 1
    assert "HOLD " not in text
    assert markdown.count(check_words) == 1 and markdown.count("cases/a.yaml") == 1
    assert len(json.loads(verdict_json(verdict))["reasons"]) == 1
    assert verdict.coverage.held == 1  # the count is unchanged: it still waits for a review


def test_flaky_cases_without_a_baseline_say_how_many_samples_passed_not_new():
    verdict = decide(policy(), evidence(case("b", "pass", "fail", "pass", min_pass=2)),
                     today=TODAY)
    text = render_text(verdict)
    assert ("    b (high, cases/b.yaml:12) pass: 2 of 3 samples passed, its rule needs 2; a "
            "failing sample: contains: the output does not contain 'refund' (fail)") in text
    assert "new ->" not in text


def test_long_check_words_are_cut_in_the_middle_and_what_follows_them_stays():
    words = " ".join(f"word{i}" for i in range(200))
    long = case("a", "fail", severity="critical")
    long.samples[0].checks[0] = dataclasses.replace(long.samples[0].checks[0], message=words)
    gate = {"waivers": [{"case": "a", "reason": "r", "owner": "@o", "expires": "2026-03-31"}]}
    verdict = decide(policy(**gate), evidence(long), today=TODAY)
    (line,) = [ln for ln in render_text(verdict).splitlines() if ln.startswith("BLOCK  ")]
    assert len(line) < 400
    assert "a failed: contains (line 12): word0 word1" in line
    assert " … " in line and line.endswith(" word198 word199; waiver expired on 2026-03-31")
