"""Parsing the gate: section: defaults, and every mistake named by file:line."""

from __future__ import annotations

import datetime as dt

import pytest

from casebank.errors import UserError
from casebank.gate.policy import parse_policy, policy_from_yaml


def problems_of(text: str) -> list[str]:
    with pytest.raises(UserError) as info:
        policy_from_yaml(text.encode(), source="casebank.yaml")
    return [p.render() for p in info.value.problems]


def test_no_gate_section_gives_the_strict_defaults():
    policy = policy_from_yaml(b"bank: cases\n", source="casebank.yaml")
    assert (policy.on_error, policy.on_uncertain, policy.new_failure, policy.hold_conclusion,
            policy.review_dir, policy.rules, policy.waivers) == (
        "block", "hold", "block", "action_required", "reviews", (), ())


def test_full_policy_is_read_with_lines():
    text = """bank: cases
gate:
  on_error: hold
  new_failure: rules
  hold_conclusion: neutral
  review: {dir: reviews/ai}
  rules:
    - severity: critical
      block_on_any_failure: true
    - severity: [high, medium]
      tag: refunds
      max_failure_rate: 0.1
  waivers:
    - case: refund-wrong-account
      reason: fix ships with agent v3 (PAY-881)
      owner: "@payments"
      expires: 2026-05-01
"""
    policy = policy_from_yaml(text.encode(), source="casebank.yaml")
    assert policy.on_error == "hold" and policy.new_failure == "rules"
    assert policy.hold_conclusion == "neutral" and policy.review_dir == "reviews/ai"
    critical, high = policy.rules
    assert critical.describe() == "severity critical: block on any failure"
    assert high.describe() == "severity high/medium, tag refunds: at most 10% failures"
    assert (critical.line, high.line) == (8, 10)
    assert high.matches("medium", ["refunds", "x"]) and not high.matches("medium", ["x"])
    (waiver,) = policy.waivers
    assert waiver.expires == dt.date(2026, 5, 1) and waiver.line == 14
    assert waiver.active(dt.date(2026, 5, 1)) and not waiver.active(dt.date(2026, 5, 2))


def test_unknown_key_is_named_with_line_and_a_suggestion():
    text = "bank: cases\ngate:\n  rules:\n    - severity: high\n      max_failur_rate: 0.2\n"
    assert problems_of(text) == [
        "casebank.yaml:4: gate.rules[0]: a rule needs block_on_any_failure, max_failure_rate or "
        "min_pass (e.g. max_failure_rate: 0.1)",
        "casebank.yaml:4: gate.rules[0]: unknown key 'max_failur_rate' (did you mean "
        "'max_failure_rate'?)",
    ]


def test_bad_values_are_each_reported():
    text = """gate:
  on_error: pass
  rules:
    - severity: urgent
      max_failure_rate: 1.5
  waivers:
    - case: a
      reason: r
      owner: "@o"
      expires: next week
"""
    assert problems_of(text) == [
        "casebank.yaml:2: gate.on_error: 'pass' is not allowed (use one of: block, hold)",
        "casebank.yaml:4: gate.rules[0].severity: 'urgent' is not a severity/tag or a list of "
        "them (severities: critical, high, medium, low)",
        "casebank.yaml:5: gate.rules[0].max_failure_rate: 1.5 is greater than the maximum of 1",
        "casebank.yaml:10: gate.waivers[0].expires: 'next week' has the wrong form (write a "
        "date as YYYY-MM-DD)",
    ]


def test_impossible_date_duplicate_rule_and_duplicate_waiver():
    text = """gate:
  rules:
    - {severity: high, max_failure_rate: 0.1}
    - {severity: high, block_on_any_failure: true}
  waivers:
    - {case: a, reason: r, owner: o, expires: 2026-02-30}
    - {case: b, reason: r, owner: o, expires: 2026-03-01}
    - {case: b, reason: r, owner: o, expires: 2026-04-01}
"""
    assert problems_of(text) == [
        "casebank.yaml:4: gate.rules[1]: a second rule for severity high (merge it with rules[0])",
        "casebank.yaml:6: gate.waivers[0].expires: '2026-02-30' is not a date (write YYYY-MM-DD)",
        "casebank.yaml:8: gate.waivers[2]: a second waiver for b (keep one waiver per case)",
    ]


def test_review_dir_may_not_leave_the_project():
    assert problems_of("gate:\n  review:\n    dir: ../elsewhere\n") == [
        "casebank.yaml:3: gate.review.dir: '../elsewhere' leaves the project (use a folder "
        "inside the project, e.g. reviews)"]


def test_invalid_yaml_names_the_line():
    assert problems_of("gate:\n  rules: [\n") == [
        "casebank.yaml:3:1: YAML syntax error: did not find expected node content (while "
        "parsing a flow node at line 3)"]


def test_parse_policy_accepts_dates_already_parsed_by_a_yaml_loader():
    policy = parse_policy({"waivers": [{"case": "a", "reason": "r", "owner": "o",
                                        "expires": dt.date(2026, 1, 2)}]})
    assert policy.waivers[0].expires == dt.date(2026, 1, 2)
