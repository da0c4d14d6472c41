"""Bank erosion and policy loosening: what a change did, and whether the gate holds for it."""

from __future__ import annotations

import dataclasses

from casebank.bank.case import Case, CaseInput, CheckSpec, Message, PassRule, Source
from casebank.gate.changes import ADDED, DELETED, LOOSENED, NEUTRAL, TIGHTENED, UNCLEAR
from casebank.gate.erosion import case_change, classify
from casebank.gate.policy import parse_policy
from casebank.gate.policy_changes import compare_policies


def make(*expect: tuple[str, object], severity: str = "critical", samples: int = 3,
         min_pass: int = 3, review: str = "on-fail", tags: tuple[str, ...] = ("refunds",),
         path: str = "cases/refund.yaml", message: str = "refund A-1042") -> Case:
    specs = tuple(CheckSpec(kind=k, args=a, index=i, line=20 + i) for i, (k, a) in enumerate(expect))
    raw_input = {"messages": [{"user": message}]}
    return Case(id="refund", path=path, title="Refund to the wrong account", severity=severity,
                source=Source(kind="incident", ref="INC-2291"),
                input=CaseInput(system=None, messages=(Message("user", message),)),
                expect=specs, rule=PassRule(samples, min_pass), tags=tags, review=review,
                content_hash="sha256:" + repr((expect, severity, samples, min_pass, review, tags, message)),
                raw={"input": raw_input})


BASE = make(("tool_order", ["lookup_order", "issue_refund"]), ("not_contains", "acct_biz_12"),
            ("contains", "refund"))


def edits(new: Case, old: Case = BASE, **kw) -> list[tuple[str, str, str]]:
    change = case_change(old, new, **kw)
    assert change is not None
    return [(e.field, e.effect, e.message) for e in change.edits]


def test_added_and_deleted_cases():
    added = case_change(None, BASE)
    assert (added.change, added.erodes) == (ADDED, False)
    deleted = case_change(BASE, None)
    assert (deleted.change, deleted.erodes, deleted.summary()) == (DELETED, True, "case deleted")


def test_unchanged_case_is_no_change():
    assert case_change(BASE, make(*[(s.kind, s.args) for s in BASE.expect])) is None


def test_lowered_severity_and_review_erode_raised_ones_do_not():
    lowered = case_change(BASE, dataclasses.replace(BASE, severity="high", review="never"))
    assert lowered.erodes
    assert [(e.field, e.effect, e.message) for e in lowered.edits] == [
        ("severity", LOOSENED, "severity lowered from critical to high"),
        ("review", LOOSENED, "review lowered from on-fail to never")]
    raised = case_change(dataclasses.replace(BASE, severity="high"), BASE)
    assert not raised.erodes
    assert raised.edits[0].message == "severity raised from high to critical"


def test_fewer_samples_and_weaker_pass_rule_erode():
    new = dataclasses.replace(BASE, rule=PassRule(samples=1, min_pass=1))
    assert edits(new) == [("samples", LOOSENED, "fewer samples: 3 to 1"),
                          ("pass", LOOSENED, "weaker pass rule: all of 3 to all of 1")]
    new = dataclasses.replace(BASE, rule=PassRule(samples=3, min_pass=2))
    assert edits(new) == [("pass", LOOSENED, "weaker pass rule: all of 3 to at least 2 of 3")]
    new = dataclasses.replace(BASE, rule=PassRule(samples=5, min_pass=5))
    assert edits(new) == [("pass", TIGHTENED, "stricter pass rule: all of 3 to all of 5")]


def test_removed_check_erodes_added_check_tightens():
    fewer = make(("tool_order", ["lookup_order", "issue_refund"]), ("contains", "refund"))
    change = case_change(BASE, fewer)
    assert change.erodes
    assert [(e.effect, e.message) for e in change.edits] == [
        (LOOSENED, "check removed: not_contains 'acct_biz_12'")]
    more = make(*[(s.kind, s.args) for s in BASE.expect], ("max_tool_calls", 4))
    change = case_change(BASE, more)
    assert not change.erodes
    assert [(e.effect, e.message) for e in change.edits] == [
        (TIGHTENED, "check added: max_tool_calls 4")]


def test_contains_made_ignore_case_erodes():
    new = make(("tool_order", ["lookup_order", "issue_refund"]), ("not_contains", "acct_biz_12"),
               ("contains", {"text": "refund", "ignore_case": True}))
    assert edits(new) == [("expect[2] (contains)", LOOSENED, "contains made ignore_case")]


def test_changed_regex_is_listed_for_review():
    old = make(("regex", r"R-\d{4}"))
    new = make(("regex", r"R-\d+"))
    change = case_change(old, new)
    assert change.erodes
    (edit,) = change.edits
    assert edit.effect == UNCLEAR
    assert edit.message == ("regex changed from 'R-\\\\d{4}' to 'R-\\\\d+': cannot tell whether it "
                            "is looser; review it")


def test_text_and_budget_changes_are_judged_by_direction():
    assert classify("contains", "refund", "refund issued") == (
        TIGHTENED, "contains: 'refund' removed; 'refund issued' added")
    assert classify("contains", "refund issued", "refund")[0] == LOOSENED
    assert classify("contains", {"all": ["a", "b"]}, {"any": ["a", "b"]})[0] == LOOSENED
    assert classify("not_contains", "acct_biz_12", "acct_biz")[0] == TIGHTENED
    assert classify("not_contains", {"any": ["x", "y"]}, {"any": ["x"]})[0] == LOOSENED
    assert classify("max_tool_calls", 4, 6) == (LOOSENED, "max_tool_calls raised from 4 to 6")
    assert classify("latency_ms", {"max": 2000}, {"max": 1500}) == (
        TIGHTENED, "latency_ms.max lowered from 2000 to 1500")
    assert classify("tool_args", {"tool": "issue_refund", "args": {"a": 1}},
                    {"tool": "issue_refund", "args": {"a": 2}})[0] == UNCLEAR


def test_check_moved_within_the_list_is_no_change():
    reordered = make(("contains", "refund"), ("tool_order", ["lookup_order", "issue_refund"]),
                     ("not_contains", "acct_biz_12"))
    change = case_change(BASE, reordered)
    assert change is None or not change.erodes


def test_input_change_is_listed_not_held_and_tag_removal_holds_only_under_a_tag_rule():
    new = make(*[(s.kind, s.args) for s in BASE.expect], message="refund order A-1043")
    change = case_change(BASE, new)
    assert not change.erodes
    assert [(e.effect, e.message) for e in change.edits] == [
        (NEUTRAL, "input changed (prompt, messages or tools)")]
    untagged = dataclasses.replace(BASE, tags=())
    assert not case_change(BASE, untagged).erodes
    assert case_change(BASE, untagged, rule_tags=frozenset({"refunds"})).erodes


def test_tag_added_under_a_rule_that_tolerates_failures_holds():
    rules = parse_policy({"rules": [
        {"tag": "experimental", "max_failure_rate": 0.5},
        {"tag": "payments", "block_on_any_failure": True}]}).rules
    high = dataclasses.replace(BASE, severity="high")
    tolerated = dataclasses.replace(high, tags=("refunds", "experimental"))
    assert edits(tolerated, high, rules=rules) == [
        ("tags", NEUTRAL, "tag experimental added"),
        ("tags", LOOSENED, "now covered by the rule 'tag experimental: at most 50% failures' "
                           "(a tag added)")]
    # a stricter rule, or a rule that cannot tolerate a critical case, does not loosen it
    assert not case_change(high, dataclasses.replace(high, tags=("refunds", "payments")),
                           rules=rules).erodes
    assert not case_change(BASE, dataclasses.replace(BASE, tags=("refunds", "experimental")),
                           rules=rules).erodes


def test_moved_case_is_a_modification_not_a_deletion():
    moved = dataclasses.replace(BASE, path="cases/payments/refund.yaml")
    change = case_change(BASE, moved)
    assert change.old_path == "cases/refund.yaml" and not change.erodes


# -- policy changes -----------------------------------------------------------------------


def policy_changes(old: dict, new: dict) -> list[tuple[str, str, str]]:
    return [(c.field, c.effect, c.message)
            for c in compare_policies(parse_policy(old), parse_policy(new))]


def test_raised_threshold_new_waiver_and_removed_rule_loosen():
    old = {"rules": [{"severity": "critical", "block_on_any_failure": True},
                     {"severity": "high", "max_failure_rate": 0.1}]}
    new = {"rules": [{"severity": "high", "max_failure_rate": 0.3}],
           "waivers": [{"case": "a", "reason": "r", "owner": "@o", "expires": "2026-06-01"}]}
    assert policy_changes(old, new) == [
        ("rules[severity critical]", LOOSENED,
         "rule removed: severity critical: block on any failure"),
        ("rules[severity high].max_failure_rate", LOOSENED, "raised from 10% to 30%"),
        ("waivers[a]", LOOSENED, "new waiver until 2026-06-01 (owner @o: r)"),
    ]


def test_tightening_is_listed_but_never_loosens():
    old = {"on_error": "hold", "rules": [{"severity": "high", "max_failure_rate": 0.3}],
           "waivers": [{"case": "a", "reason": "r", "owner": "@o", "expires": "2026-06-01"}]}
    new = {"on_error": "block", "rules": [{"severity": "high", "max_failure_rate": 0.1},
                                          {"tag": "refunds", "block_on_any_failure": True}]}
    changes = compare_policies(parse_policy(old), parse_policy(new))
    assert not any(c.loosens for c in changes)
    assert [(c.field, c.message) for c in changes] == [
        ("on_error", "changed from hold to block"),
        ("rules[severity high].max_failure_rate", "lowered from 30% to 10%"),
        ("rules[tag refunds]", "rule added: tag refunds: block on any failure"),
        ("waivers[a]", "waiver removed (was until 2026-06-01)"),
    ]


def test_softer_error_handling_and_extended_waiver_loosen():
    waiver = {"case": "a", "reason": "r", "owner": "@o", "expires": "2026-06-01"}
    old = {"new_failure": "block", "waivers": [waiver]}
    new = {"new_failure": "rules", "hold_conclusion": "neutral",
           "waivers": [dict(waiver, expires="2026-09-01")]}
    assert policy_changes(old, new) == [
        ("hold_conclusion", LOOSENED, "changed from action_required to neutral"),
        ("new_failure", LOOSENED, "changed from block to rules"),
        ("waivers[a]", LOOSENED, "waiver extended from 2026-06-01 to 2026-09-01"),
    ]
