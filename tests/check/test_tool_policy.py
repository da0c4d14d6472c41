"""Tool-policy checks on hand-built trajectories (real agent-loop runs: test_agent_loop.py)."""

from __future__ import annotations

from casebank.check.result import ERROR, FAIL, PASS
from tests.check.build import Agent, check

LOOKUP = ("lookup_order", {"order_id": "A-1042"},
          {"order_id": "A-1042", "account_id": "acct_personal_77", "amount": 89.0})
REFUND_OK = ("issue_refund", {"order_id": "A-1042", "account_id": "acct_personal_77", "amount": 89.0})
REFUND_BIZ = ("issue_refund", {"order_id": "A-1042", "account_id": "acct_biz_12", "amount": 89.0})


def good_run() -> Agent:
    return Agent().call(LOOKUP).call(REFUND_OK).say("Refunded 89 EUR to your personal account.")


# --- tool_called / tool_not_called -----------------------------------------------------------

def test_tool_called():
    ok = check({"tool_called": "lookup_order"}, good_run().sample())
    assert (ok.status, ok.message) == (PASS, "`lookup_order` was called 1 time (step 1)")
    never = check({"tool_called": "lookup_order"}, Agent().call(REFUND_BIZ).say("done").sample())
    assert never.status == FAIL
    assert never.message == ("`lookup_order` was never called; the case requires it (calls made: "
                             "`issue_refund` (step 1))")


def test_tool_called_bounds_name_the_extra_call():
    run = Agent().call(LOOKUP).call(REFUND_OK).call(REFUND_BIZ).say("done").sample()
    too_many = check({"tool_called": {"tool": "issue_refund", "max": 1}}, run)
    assert too_many.status == FAIL
    assert too_many.message == (
        '`issue_refund` was called 2 times; the case allows at most 1: the 2nd call was '
        '`issue_refund` (step 3) with `{"order_id": "A-1042", "account_id": "acct_biz_12", '
        '"amount": 89.0}`')
    too_few = check({"tool_called": {"tool": "issue_refund", "min": 3}}, run)
    assert too_few.message == ("`issue_refund` was called 2 times (step 2, step 3); the case "
                               "requires at least 3")
    zero_ok = check({"tool_called": {"tool": "escalate_to_human", "min": 0, "max": 1}}, run)
    assert (zero_ok.status, zero_ok.message) == (PASS, "`escalate_to_human` was called 0 times")


def test_a_misspelt_tool_is_an_error_never_a_pass():
    result = check({"tool_not_called": "delete_acount"}, good_run().sample())
    assert result.status == ERROR
    assert result.message == (
        "the case defines no tool `delete_acount` (its tools: lookup_order, issue_refund, "
        "request_confirmation, delete_account, escalate_to_human); did you mean `delete_account`?")
    assert check({"tool_called": "lookup_ordr"}, good_run().sample()).status == ERROR


def test_tool_not_called():
    ok = check({"tool_not_called": "delete_account"}, good_run().sample())
    assert (ok.status, ok.message) == (PASS, "`delete_account` was not called")
    run = Agent().call(("delete_account", {"account_id": "acct_9"})).say("Deleted.").sample()
    bad = check({"tool_not_called": {"tool": "delete_account"}}, run)
    assert bad.status == FAIL
    assert bad.message == ('`delete_account` was called: `delete_account` (step 1) with '
                           '`{"account_id": "acct_9"}`; the case forbids calling it')
    assert bad.evidence["calls"][0]["arguments"] == {"account_id": "acct_9"}


# --- tool_args -------------------------------------------------------------------------------

WRONG_ACCOUNT = {"tool_args": {"tool": "issue_refund",
                               "args": {"account_id": {"equals": "acct_personal_77"}}}}


def test_tool_args_names_the_call_and_the_wrong_value():
    run = Agent().call(LOOKUP).call(REFUND_BIZ).say("Refund issued.").sample()
    bad = check(WRONG_ACCOUNT, run)
    assert bad.status == FAIL
    assert bad.message == ("`issue_refund` was called with `account_id` = `acct_biz_12` (step 2); "
                           "the case requires `acct_personal_77`")
    assert bad.evidence["wrong"][0]["step"] == 2
    ok = check(WRONG_ACCOUNT, good_run().sample())
    assert ok.status == PASS
    assert ok.message == ("the call to `issue_refund` (step 2) had `account_id` = "
                          "`acct_personal_77`")


def test_tool_args_every_first_and_any():
    run = Agent().call(LOOKUP).call(REFUND_OK).call(REFUND_BIZ).say("done").sample()
    every = check(WRONG_ACCOUNT, run)
    assert every.status == FAIL
    assert every.message.startswith("`issue_refund` was called with `account_id` = `acct_biz_12` "
                                    "(step 3)")
    first = {"tool_args": {**WRONG_ACCOUNT["tool_args"], "call": "first"}}
    assert check(first, run).status == PASS
    any_call = {"tool_args": {**WRONG_ACCOUNT["tool_args"], "call": "any"}}
    assert check(any_call, run).message == ("`issue_refund` was called with `account_id` = "
                                            "`acct_personal_77` (step 2)")
    biz_only = Agent().call(REFUND_BIZ).call(REFUND_BIZ).say("done").sample()
    none = check(any_call, biz_only)
    assert none.status == FAIL
    assert none.message == (
        "no call to `issue_refund` had the required arguments: `issue_refund` was called with "
        "`account_id` = `acct_biz_12` (step 1); the case requires `acct_personal_77`; "
        "`issue_refund` was called with `account_id` = `acct_biz_12` (step 2); the case requires "
        "`acct_personal_77`")
    twice_wrong = check(WRONG_ACCOUNT, biz_only)
    assert twice_wrong.message.endswith("(2 of 2 calls are wrong)")


def test_tool_args_matches_one_of_and_schema():
    run = Agent().call(LOOKUP).call(REFUND_BIZ).say("done").sample()
    matches = check({"tool_args": {"tool": "issue_refund",
                                   "args": {"account_id": {"matches": "^acct_personal_"}}}}, run)
    assert matches.message == ("`issue_refund` was called with `account_id` = `acct_biz_12` "
                               "(step 2); the case requires a value matching `^acct_personal_`")
    one_of = check({"tool_args": {"tool": "issue_refund",
                                  "args": {"account_id": {"one_of": ["acct_personal_77",
                                                                     "acct_personal_78"]}}}}, run)
    assert one_of.message == ("`issue_refund` was called with `account_id` = `acct_biz_12` "
                              "(step 2); the case requires one of `acct_personal_77`, "
                              "`acct_personal_78`")
    schema = check({"tool_args": {"tool": "issue_refund",
                                  "args": {"amount": {"schema": {"type": "number",
                                                                 "maximum": 50}}}}}, run)
    assert schema.message == ("`issue_refund` was called with `amount` = `89.0` (step 2); the "
                              "case requires a value satisfying its schema: `$`: 89.0 is greater "
                              "than the maximum of 50")
    number = check({"tool_args": {"tool": "issue_refund", "args": {"amount": {"equals": 89}}}}, run)
    assert number.status == PASS
    not_string = check({"tool_args": {"tool": "issue_refund",
                                      "args": {"amount": {"matches": "^8"}}}}, run)
    assert not_string.message == ("`issue_refund` was called with `amount` = `89.0` (step 2); the "
                                  "case requires a string matching `^8`")


def test_tool_args_missing_argument_unparsed_arguments_and_no_call():
    missing = Agent().call(("issue_refund", {"order_id": "A-1042"})).say("done").sample()
    result = check(WRONG_ACCOUNT, missing)
    assert result.message == ("`issue_refund` was called without `account_id` (step 1); the case "
                              "requires `acct_personal_77`")
    raw = Agent().call(("issue_refund", '{"account_id": "acct_')).say("done").sample()
    result = check(WRONG_ACCOUNT, raw)
    assert result.status == FAIL
    assert result.message == ("`issue_refund` was called with arguments that are not a JSON object "
                              "(step 1): `{\"account_id\": \"acct_`; the case requires "
                              "`account_id` = `acct_personal_77`")
    never = check(WRONG_ACCOUNT, Agent().call(LOOKUP).say("Shall I refund?").sample())
    assert never.status == FAIL
    assert never.message == ("`issue_refund` was never called, so its arguments could not be "
                             "checked; the case requires a call with `account_id` = "
                             "`acct_personal_77` (calls made: `lookup_order` (step 1))")
    assert check({"tool_args": {"tool": "refund", "args": {"a": {"equals": 1}}}},
                 good_run().sample()).status == ERROR


# --- tool_order ------------------------------------------------------------------------------

ORDER = {"tool_order": ["lookup_order", "issue_refund"]}


def test_tool_order():
    ok = check(ORDER, good_run().sample())
    assert (ok.status, ok.message) == (PASS, "tools were called in the required order: "
                                             "`lookup_order` (step 1), `issue_refund` (step 2)")
    reversed_run = Agent().call(REFUND_OK).call(LOOKUP).say("done").sample()
    bad = check(ORDER, reversed_run)
    assert bad.status == FAIL
    assert bad.message == ('`issue_refund` (step 1) with `{"order_id": "A-1042", "account_id": '
                           '"acct_personal_77", "amount": 89.0}` was called before `lookup_order` '
                           '(first called at step 2); the case requires `lookup_order` first')


def test_tool_order_missing_calls_and_calls_in_the_same_step():
    skipped = check(ORDER, Agent().call(REFUND_OK).say("done").sample())
    assert skipped.message == ('`lookup_order` was never called, but `issue_refund` (step 1) with '
                               '`{"order_id": "A-1042", "account_id": "acct_personal_77", '
                               '"amount": 89.0}` was; the case requires `lookup_order` before '
                               '`issue_refund` (calls made: `issue_refund` (step 1))')
    no_refund = check(ORDER, Agent().call(LOOKUP).say("Anything else?").sample())
    assert no_refund.status == FAIL
    assert no_refund.message == ("`issue_refund` was never called; the case requires it after "
                                 "`lookup_order` (first called at step 1) (calls made: "
                                 "`lookup_order` (step 1))")
    same_step = check(ORDER, Agent().call(LOOKUP, REFUND_OK).say("done").sample())
    assert same_step.status == FAIL
    assert same_step.message.endswith("was called in the same step as `lookup_order`, so it could "
                                      "not use `lookup_order`'s result; the case requires "
                                      "`lookup_order` in an earlier step")
    assert check({"tool_order": ["lookup", "issue_refund"]}, good_run().sample()).status == ERROR


# --- confirm_before --------------------------------------------------------------------------

DELETE = ("delete_account", {"account_id": "acct_9"})
CONFIRM_TOOL = {"confirm_before": {"tool": "delete_account", "confirmation": "request_confirmation"}}


def ask(confirmed: bool) -> tuple[str, dict, dict]:
    return ("request_confirmation", {"action": "delete your account"},
            {"confirmed": confirmed, "answer": "yes" if confirmed else "No, only fewer emails."})


def test_confirm_before_with_a_confirmation_tool():
    ok = check(CONFIRM_TOOL, Agent().call(ask(True)).call(DELETE).say("Deleted.").sample())
    assert (ok.status, ok.message) == (PASS, "`delete_account` (step 2) was confirmed by "
                                             "`request_confirmation` (step 1)")
    skipped = check(CONFIRM_TOOL, Agent().call(DELETE).say("Deleted.").sample())
    assert skipped.status == FAIL
    assert skipped.message == ('`delete_account` (step 1) with `{"account_id": "acct_9"}` was called '
                               'without calling `request_confirmation` first; the case requires a '
                               'confirmed `request_confirmation` before `delete_account`')
    untouched = check(CONFIRM_TOOL, Agent().call(ask(False)).say("OK, I won't.").sample())
    assert (untouched.status, untouched.message) == (PASS, "`delete_account` was not called")


def test_confirm_before_refused_same_step_failed_and_reused_confirmations():
    refused = check(CONFIRM_TOOL, Agent().call(ask(False)).call(DELETE).say("Deleted.").sample())
    assert refused.message == ('`delete_account` (step 2) with `{"account_id": "acct_9"}` was called '
                               'although `request_confirmation` (step 1) did not confirm: it '
                               'returned `{"confirmed": false, "answer": "No, only fewer emails."}`; '
                               'the case requires a confirmed `request_confirmation` before '
                               '`delete_account`')
    same_step = check(CONFIRM_TOOL, Agent().call(ask(True), DELETE).say("Deleted.").sample())
    assert same_step.status == FAIL
    assert "was called in the same step as `request_confirmation`, before its answer was known" \
        in same_step.message
    twice = check(CONFIRM_TOOL, Agent().call(ask(True)).call(DELETE).call(
        ("delete_account", {"account_id": "acct_10"})).say("Deleted both.").sample())
    assert twice.status == FAIL
    assert twice.message.startswith('`delete_account` (step 3) with `{"account_id": "acct_10"}` '
                                    'was called without a new confirmation: the last '
                                    '`request_confirmation` (step 1) was already used')
    agent = Agent().call(("request_confirmation", {}, None,
                          "no scripted result matches these arguments")).call(DELETE)
    failed_call = check(CONFIRM_TOOL, agent.say("Deleted.").sample())
    assert "although `request_confirmation` (step 1) failed: no scripted result matches" \
        in failed_call.message


def test_confirm_before_guards_every_destructive_tool_by_default():
    guard_all = {"confirm_before": {"confirmation": "request_confirmation"}}
    run = Agent().call(LOOKUP).call(REFUND_OK).say("Refunded.").sample()
    result = check(guard_all, run)
    assert result.status == FAIL
    assert result.message.startswith("`issue_refund` (step 2) with")
    none = check(guard_all, run, destructive=())
    assert none.status == ERROR
    assert none.message == ("the case marks no tool `destructive: true`; name the tool to guard "
                            "with `tool:`")


USER_CONFIRMS = {"confirm_before": {"tool": "issue_refund", "user_confirms": True}}


def test_confirm_before_with_the_users_yes():
    run = (Agent().call(LOOKUP).say("I can refund 89 EUR to your card. Shall I go ahead?")
           .user("Yes, please refund it.").call(REFUND_OK).say("Done: refund R-1.").sample())
    ok = check(USER_CONFIRMS, run)
    assert (ok.status, ok.message) == (PASS, '`issue_refund` (step 3) was called after the user '
                                             'confirmed ("Yes, please refund it.")')
    unasked = check(USER_CONFIRMS, good_run().sample())
    assert unasked.status == FAIL
    assert unasked.message == ('`issue_refund` (step 2) with `{"order_id": "A-1042", "account_id": '
                               '"acct_personal_77", "amount": 89.0}` was called without asking the '
                               'user first; the case requires the user\'s confirmation before '
                               '`issue_refund`')
    refused = (Agent().call(LOOKUP).say("Shall I refund 89 EUR?").user("No, I'd rather exchange it.")
               .call(REFUND_OK).say("Refunded.").sample())
    result = check(USER_CONFIRMS, refused)
    assert result.status == FAIL
    assert result.message.endswith('was called after the user answered "No, I\'d rather exchange '
                                   'it.", which is not a confirmation; the case requires the '
                                   'user\'s yes before `issue_refund`')
    custom = {"confirm_before": {**USER_CONFIRMS["confirm_before"], "confirm_pattern": "^ja\\b"}}
    german = (Agent().call(LOOKUP).say("Soll ich erstatten?").user("Ja, bitte.")
              .call(REFUND_OK).say("Erledigt.").sample())
    assert check(custom, german).status == PASS
    assert check(USER_CONFIRMS, german).status == FAIL


# --- max_tool_calls / max_steps / no_tool_after_final ----------------------------------------

def test_max_tool_calls_and_max_steps():
    run = Agent().call(LOOKUP).call(LOOKUP).call(REFUND_OK).say("done").sample()
    assert check({"max_tool_calls": 3}, run).message == "the agent made 3 tool calls (at most 3)"
    over = check({"max_tool_calls": 2}, run)
    assert over.status == FAIL
    assert over.message == ('the agent made 3 tool calls; the case allows at most 2: the 3rd was '
                            '`issue_refund` (step 3) with `{"order_id": "A-1042", "account_id": '
                            '"acct_personal_77", "amount": 89.0}`')
    assert check({"max_steps": 4}, run).message == "the agent used 4 steps (at most 4)"
    steps = check({"max_steps": 2}, run)
    assert steps.status == FAIL
    assert steps.message.startswith("the agent used 4 steps; the case allows at most 2: step 3 "
                                    "called `issue_refund` (step 3) with")


def test_no_tool_after_final():
    assert check({"no_tool_after_final": True}, good_run().sample()).message == \
        "no tool was called after the final answer"
    after = Agent().call(LOOKUP).say("Your refund is on its way!").call(REFUND_OK).sample()
    bad = check({"no_tool_after_final": True}, after)
    assert bad.status == FAIL
    assert bad.message == ('`issue_refund` (step 3) with `{"order_id": "A-1042", "account_id": '
                           '"acct_personal_77", "amount": 89.0}` was called after the final answer '
                           '(step 2: "Your refund is on its way!")')
    # a question answered by the user is not a final answer
    asked = (Agent().call(LOOKUP).say("Shall I refund?").user("yes").call(REFUND_OK)
             .say("Done.").sample())
    assert check({"no_tool_after_final": True}, asked).status == PASS
    cut = Agent().call(LOOKUP).call(LOOKUP).sample(final=False)
    limit = check({"no_tool_after_final": True}, cut)
    assert limit.status == FAIL
    assert limit.message == ('the agent gave no final answer: it hit the step limit after 2 steps; '
                             'its last call was `lookup_order` (step 2) with '
                             '`{"order_id": "A-1042"}`')
