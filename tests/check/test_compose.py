"""Composition: not, any_of, all_of, nested, with the children's results in the evidence."""

from __future__ import annotations

import asyncio

from casebank.bank.case import Position
from casebank.check import run_checks
from casebank.check.result import ERROR, FAIL, PASS, UNCERTAIN
from tests.check.build import check, context, make_case, text_sample

REPLY = "Your refund of 89 EUR goes to acct_personal_77."


def test_not_swaps_pass_and_fail_and_keeps_undecided():
    bad = check({"not": {"contains": "acct_personal_77"}}, text_sample(REPLY))
    assert bad.status == FAIL
    assert bad.message == ("the case requires this not to hold, but it did: the output contains "
                           "`acct_personal_77`")
    assert bad.evidence["checks"][0]["status"] == PASS
    ok = check({"not": {"regex": "acct_biz_\\d+"}}, text_sample(REPLY))
    assert (ok.status, ok.message) == (PASS, "as required, this did not hold: the output does "
                                             "not match `acct_biz_\\d+`")
    undecided = check({"not": {"contains": "x"}}, text_sample(None))
    assert undecided.status == ERROR  # not(unknown) is still unknown, never a pass
    assert undecided.message == ("undecided because `contains` is error: the sample has no "
                                 "output text to check")


def test_any_of():
    ok = check({"any_of": [{"contains": "thirty days"}, {"regex": "\\b89 EUR\\b"}]},
               text_sample(REPLY))
    assert ok.status == PASS
    assert ok.message == ('1 of 2 alternatives held: the output matches `\\b89 EUR\\b`: '
                          '"Your refund of 89 EUR goes to acct_personal_77."')
    bad = check({"any_of": [{"contains": "sorry"}, {"name": "apology", "contains": "apolog"}]},
                text_sample(REPLY))
    assert bad.status == FAIL
    assert bad.message == ("none of the 2 alternatives held: 1) `contains`: the output does not "
                           "contain `sorry`; 2) apology (contains): the output does not contain "
                           "`apolog`")
    undecided = check({"any_of": [{"contains": "x"}, {"latency_ms": 5}]}, text_sample("y"))
    assert undecided.status == ERROR
    assert undecided.message.startswith("no alternative held and 1 of 2 could not be decided: "
                                        "1) `latency_ms`: the target reported no latency")


def test_all_of():
    ok = check({"all_of": [{"contains": "refund"}, {"max_length": 100}]}, text_sample(REPLY))
    assert (ok.status, ok.message) == (PASS, "all 2 checks held")
    bad = check({"all_of": [{"contains": "refund"}, {"max_length": 10}, {"latency_ms": 1}]},
                text_sample(REPLY))
    assert bad.status == FAIL
    assert bad.message == ("1 of 3 required checks failed: 1) `max_length`: the output is 47 "
                           "characters long; the case allows at most 10")
    errored = check({"all_of": [{"contains": "refund"}, {"latency_ms": 1}]}, text_sample(REPLY))
    assert errored.status == ERROR


def test_nested_composites_and_uncertain_children():
    async def unsure(messages):
        return '{"verdict": "pass", "confidence": 0.4, "rationale": "hard to tell"}'

    item = {"all_of": [{"contains": "refund"},
                       {"any_of": [{"contains": "sorry"}, {"judge": "The reply is apologetic."}]}]}
    result = check(item, text_sample(REPLY), context(judge=unsure))
    assert result.status == UNCERTAIN
    inner = result.evidence["checks"][1]
    assert inner["kind"] == "any_of" and inner["status"] == UNCERTAIN
    assert inner["evidence"]["checks"][1]["evidence"]["rationale"] == "hard to tell"


def test_children_carry_their_own_line_when_the_loader_knows_it():
    case = make_case({"any_of": [{"contains": "a"}, {"contains": "refund"}]}, first_line=30)
    case.positions[("expect", 0, "any_of", 1)] = Position(32, 9)
    (result,) = asyncio.run(run_checks(case, text_sample(REPLY), context()))
    assert result.line == 30
    lines = [child["line"] for child in result.evidence["checks"]]
    assert lines == [30, 32]  # the first falls back to its parent's line


def test_every_expectation_gets_one_result_in_order():
    case = make_case({"contains": "refund"}, {"not_contains": "acct_biz_12"},
                     {"all_of": [{"max_length": 10}]}, first_line=20)
    results = asyncio.run(run_checks(case, text_sample(REPLY), context()))
    assert [(r.kind, r.index, r.line, r.status) for r in results] == [
        ("contains", 0, 20, PASS), ("not_contains", 1, 23, PASS), ("all_of", 2, 26, FAIL)]


def test_a_check_that_crashes_is_an_error_result_not_an_exception():
    case = make_case({"contains": {"texts": ["a"]}})  # arguments that skipped validation
    (result,) = asyncio.run(run_checks(case, text_sample(REPLY), context()))
    assert result.status == ERROR
    assert result.message == "casebank could not apply this `contains` check: KeyError: 'all'"
