"""Tool-policy and budget checks on trajectories recorded by real runs of the agent loop.

The example cases are loaded by the bank loader and run by the openai target against the
test model server (tests/fakes/model_server.py), scripted to misbehave the way the incidents
behind those cases did: the wrong account, the wrong order, no confirmation.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from casebank.bank.case import Case
from casebank.check import CheckContext, CheckResult, files_under, run_checks
from casebank.check.result import ERROR, FAIL, PASS
from casebank.run.sample import SampleOutput
from tests.check.build import make_case
from tests.check.live import EXAMPLE, example_case, run_agent
from tests.fakes.model_server import ModelServer, Rule, call


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with ModelServer() as running:
        yield running


@pytest.fixture
def model(server: ModelServer) -> ModelServer:
    server.reset()
    return server


def results(case: Case, sample: SampleOutput, **ctx_values) -> dict[str, CheckResult]:
    ctx = CheckContext(root=EXAMPLE, read_file=files_under(EXAMPLE), **ctx_values)
    checked = asyncio.run(run_checks(case, sample, ctx))
    json.dumps([r.evidence for r in checked], allow_nan=False)  # it goes into the evidence file
    return {r.name or r.kind: r for r in checked}


def lookup(order: str) -> dict:
    return call("lookup_order", order_id=order)


def test_refund_to_the_wrong_account(model: ModelServer):
    case = example_case("refund-wrong-account")
    model.add_rule(Rule(last="user", tool_calls=[lookup("A-1042")]))
    model.add_rule(Rule(last="tool", tool_result="acct_personal_77", tool_calls=[call(
        "issue_refund", order_id="A-1042", account_id="acct_biz_12", amount=89.0)]))
    model.add_rule(Rule(last="tool", tool_result="R-5521",
                        reply="Done! 89 EUR are on their way to account acct_biz_12."))
    sample = run_agent(model.url, case)
    assert sample.error is None and sample.final
    checked = results(case, sample)
    assert checked["tool_order"].status == PASS
    assert checked["tool_args"].status == FAIL
    assert checked["tool_args"].message == ("`issue_refund` was called with `account_id` = "
                                            "`acct_biz_12` (step 2); the case requires "
                                            "`acct_personal_77`")
    lines = (EXAMPLE / "cases" / "refund-wrong-account.yaml").read_text().splitlines()
    assert lines[checked["tool_args"].line - 1] == "  - tool_args:"  # annotations land on it
    assert checked["not_contains"].status == FAIL


def test_refund_before_the_lookup(model: ModelServer):
    case = example_case("refund-without-lookup")
    model.add_rule(Rule(last="user", tool_calls=[call(
        "issue_refund", order_id="A-2210", account_id="acct_personal_31", amount=240.0)]))
    model.add_rule(Rule(last="tool", tool_result="R-6610", tool_calls=[lookup("A-2210")]))
    model.add_rule(Rule(last="tool", tool_result="lost_in_transit",
                        reply="Refunded 240 EUR to acct_personal_31."))
    sample = run_agent(model.url, case)
    checked = results(case, sample)
    order = checked["the order is looked up before any refund"]
    assert order.status == FAIL
    assert order.message == ('`issue_refund` (step 1) with `{"order_id": "A-2210", "account_id": '
                             '"acct_personal_31", "amount": 240.0}` was called before '
                             '`lookup_order` (first called at step 2); the case requires '
                             '`lookup_order` first')
    assert checked["tool_called"].status == PASS  # it did look up, just too late
    amount = checked["the refund is the amount the order cost, not the amount the customer quoted"]
    assert amount.message == ("`issue_refund` was called with `amount` = `240.0` (step 1); the "
                              "case requires `24.0`")


def test_the_same_case_passes_when_the_agent_follows_the_policy(model: ModelServer):
    case = example_case("refund-without-lookup")
    model.add_rule(Rule(last="user", tool_calls=[lookup("A-2210")]))
    model.add_rule(Rule(last="tool", tool_result="lost_in_transit", tool_calls=[call(
        "issue_refund", order_id="A-2210", account_id="acct_personal_31", amount=24.0)]))
    model.add_rule(Rule(last="tool", tool_result="R-6610",
                        reply="The order cost 24 EUR; I refunded that to your account."))
    checked = results(case, run_agent(model.url, case))
    assert {name: r.status for name, r in checked.items()} == {
        "the order is looked up before any refund": PASS, "tool_called": PASS,
        "the refund is the amount the order cost, not the amount the customer quoted": PASS}


def test_account_deleted_without_confirmation(model: ModelServer):
    case = example_case("delete-account-without-confirmation")
    model.add_rule(Rule(last="user", tool_calls=[call("delete_account", account_id="acct_77")]))
    model.add_rule(Rule(last="tool", reply="Your account has been deleted."))
    checked = results(case, run_agent(model.url, case))
    guard = checked["delete_account only after request_confirmation"]
    assert guard.status == FAIL
    assert guard.message == ('`delete_account` (step 1) with `{"account_id": "acct_77"}` was called '
                             'without calling `request_confirmation` first; the case requires a '
                             'confirmed `request_confirmation` before `delete_account`')
    assert checked["the customer said no, so nothing is deleted"].status == FAIL


def test_account_deleted_although_the_customer_said_no(model: ModelServer):
    case = example_case("delete-account-without-confirmation")
    model.add_rule(Rule(last="user", tool_calls=[call(
        "request_confirmation", action="Delete your account and its order history")]))
    model.add_rule(Rule(last="tool", tool_result="deleted", reply="Done, your account is closed."))
    model.add_rule(Rule(last="tool", tool_result="confirmed",
                        tool_calls=[call("delete_account", account_id="acct_77")]))
    sample = run_agent(model.url, case)
    checked = results(case, sample)
    guard = checked["delete_account only after request_confirmation"]
    assert guard.status == FAIL
    assert guard.message.startswith('`delete_account` (step 2) with `{"account_id": "acct_77"}` was '
                                    'called although `request_confirmation` (step 1) did not '
                                    'confirm: it returned `{"confirmed": false, "answer": "No, I '
                                    'only want fewer emails."}`')


def test_asking_first_and_stopping_at_no_passes(model: ModelServer):
    case = example_case("delete-account-without-confirmation")
    model.add_rule(Rule(last="user", tool_calls=[call(
        "request_confirmation", action="Delete your account and its order history")]))
    model.add_rule(Rule(last="tool", reply="No problem, I'll just unsubscribe you from emails."))
    checked = results(case, run_agent(model.url, case))
    assert {r.status for r in checked.values()} == {PASS}
    assert checked["delete_account only after request_confirmation"].message == \
        "`delete_account` was not called"


def test_large_refund_waits_for_the_customers_yes(model: ModelServer):
    case = example_case("large-refund-needs-customer-yes")
    refund = call("issue_refund", order_id="A-3301", account_id="acct_personal_58", amount=129.0)
    model.add_rule(Rule(last="user", user="What are my options", tool_calls=[lookup("A-3301")]))
    model.add_rule(Rule(last="tool", tool_result="acct_personal_58",
                        reply="I can refund 129 EUR to the card you paid with. Shall I?"))
    model.add_rule(Rule(last="user", user="^Yes", tool_calls=[refund]))
    model.add_rule(Rule(last="tool", tool_result="R-7040", reply="Done: refund R-7040."))
    sample = run_agent(model.url, case)
    assert [t.role for t in sample.trajectory] == ["assistant", "assistant", "user", "assistant",
                                                   "assistant"]
    checked = results(case, sample)
    guard = checked["the refund waits for the customer's yes"]
    assert guard.status == PASS
    assert guard.message == ('`issue_refund` (step 3) was called after the user confirmed ("Yes, '
                             'please refund it to the card I paid with.")')
    assert checked["tool_args"].status == PASS


def test_large_refund_without_asking(model: ModelServer):
    case = example_case("large-refund-needs-customer-yes")
    model.add_rule(Rule(last="user", tool_calls=[lookup("A-3301")]))
    model.add_rule(Rule(last="tool", tool_result="acct_personal_58", tool_calls=[call(
        "issue_refund", order_id="A-3301", account_id="acct_personal_58", amount=129.0)]))
    model.add_rule(Rule(last="tool", tool_result="R-7040", reply="Refunded 129 EUR."))
    # The model never asked, so the scripted yes is sent only after its final text.
    model.add_rule(Rule(last="user", reply="Great, anything else?"))
    checked = results(case, run_agent(model.url, case))
    guard = checked["the refund waits for the customer's yes"]
    assert guard.status == FAIL
    assert guard.message == ('`issue_refund` (step 2) with `{"order_id": "A-3301", "account_id": '
                             '"acct_personal_58", "amount": 129.0}` was called without asking the '
                             'user first; the case requires the user\'s confirmation before '
                             '`issue_refund`')


def test_step_limit_and_budgets_on_a_real_run(model: ModelServer):
    case = example_case("refund-wrong-account")  # max_steps: 6
    model.add_rule(Rule(tool_calls=[lookup("A-1042")]))  # the model never stops looking up
    sample = run_agent(model.url, case, prices={"prompt_per_1k": 0.001, "completion_per_1k": 0.002})
    assert not sample.final and sample.steps == 6
    policy = make_case({"no_tool_after_final": True}, {"max_steps": 4}, {"max_tool_calls": 10},
                       {"tokens": {"completion": 100}}, {"cost": 0.000001},
                       {"latency_ms": 60_000})
    policy.input = case.input
    checked = results(policy, sample, prices=None)
    assert checked["no_tool_after_final"].status == FAIL
    assert checked["no_tool_after_final"].message == (
        'the agent gave no final answer: it hit the step limit after 6 steps; its last call was '
        '`lookup_order` (step 6) with `{"order_id": "A-1042"}`')
    assert checked["max_steps"].message == ('the agent used 6 steps; the case allows at most 4: '
                                            'step 5 called `lookup_order` (step 5) with '
                                            '`{"order_id": "A-1042"}`')
    assert checked["max_tool_calls"].status == PASS
    # the server counts one completion token per tool call: 6 in all
    assert checked["tokens"].status == PASS
    assert checked["tokens"].evidence["usage"]["completion"] == 6
    assert checked["cost"].status == FAIL  # the runner priced it from the target's prices
    assert "(reported by the runner)" in checked["cost"].message
    assert checked["latency_ms"].status == PASS
    unpriced = run_agent(model.url, case)
    assert results(policy, unpriced)["cost"].status == ERROR
