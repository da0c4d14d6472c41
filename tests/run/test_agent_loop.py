"""The openai target's agent loop against a real OpenAI-compatible server."""

from __future__ import annotations

import json

from casebank.errors import ExitCode
from casebank.run import exit_code
from tests.fakes.model_server import Rule, call
from tests.run.conftest import only_case, openai_target

LOOKUP = {
    "name": "lookup_order",
    "description": "Look up an order.",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}},
                   "required": ["order_id"]},
    "results": [
        {"when": {"order_id": "A-1042"}, "result": {"order_id": "A-1042", "account_id": "acct_personal_77"}},
    ],
}
REFUND = {
    "name": "issue_refund",
    "description": "Refund an order.",
    "destructive": True,
    "parameters": {"type": "object", "properties": {"account_id": {"type": "string"}},
                   "required": ["account_id"]},
    "results": [{"result": {"refund_id": "R-5521", "status": "issued"}}],
}


def test_tool_calls_are_answered_from_the_script_and_the_trajectory_is_recorded(project, server):
    server.add_rule(Rule(last="user", tool_calls=[call("lookup_order", order_id="A-1042")]))
    server.add_rule(Rule(last="tool", tool_result="acct_personal_77", match=lambda b: len(b["messages"]) == 4,
                         reply="Checking", tool_calls=[call("issue_refund", account_id="acct_personal_77")]))
    server.add_rule(Rule(last="tool", tool_result="R-5521", reply="Refund R-5521 issued."))
    project.write_config({"m": openai_target(server, params={"temperature": 0})}, "m")
    project.add_case("refund", "refund A-1042", tools=[LOOKUP, REFUND], expect=[{"contains": "R-5521"}])

    evidence = project.run()

    result = only_case(evidence)
    assert result.outcome == "pass"
    sample = result.samples[0].sample
    assert sample.output == "Refund R-5521 issued."
    assert sample.final is True and sample.steps == 3
    assert [(t.role, t.content, t.step) for t in sample.trajectory] == [
        ("assistant", None, 1), ("assistant", "Checking", 2), ("assistant", "Refund R-5521 issued.", 3)]
    calls = sample.tool_calls
    assert [(c.index, c.step, c.name, c.arguments, c.result, c.error) for c in calls] == [
        (0, 1, "lookup_order", {"order_id": "A-1042"},
         {"order_id": "A-1042", "account_id": "acct_personal_77"}, None),
        (1, 2, "issue_refund", {"account_id": "acct_personal_77"},
         {"refund_id": "R-5521", "status": "issued"}, None),
    ]
    # usage is summed over the three model turns (the server counts words)
    assert server.count == 3
    assert sample.usage is not None and sample.usage.total_tokens == (
        sample.usage.prompt_tokens + sample.usage.completion_tokens)
    # completion words per turn: a call (1), "Checking" and a call (2), the reply (3)
    assert sample.usage.completion_tokens == 1 + 2 + 3
    # the model saw the tools as functions, params, and the scripted result as a tool message
    first = server.requests[0].body
    assert first["temperature"] == 0 and first["model"] == "test-model"
    assert [t["function"]["name"] for t in first["tools"]] == ["lookup_order", "issue_refund"]
    second = server.requests[1].body["messages"]
    assert second[-1]["role"] == "tool" and json.loads(second[-1]["content"])["account_id"] == "acct_personal_77"
    assert second[-1]["tool_call_id"] == second[-2]["tool_calls"][0]["id"]
    # the request as the case states it is in the evidence
    assert sample.request["messages"][0] == {"role": "system", "content": "You are a support agent."}


def test_an_unscripted_call_gets_an_error_result_that_is_recorded(project, server):
    server.add_rule(Rule(last="user", tool_calls=[call("lookup_order", order_id="Z-9")]))
    server.add_rule(Rule(last="tool", reply="I could not find that order."))
    project.write_config({"m": openai_target(server)}, "m")
    project.add_case("unscripted", "where is Z-9", tools=[LOOKUP], expect=[{"contains": "could not"}])

    sample = only_case(project.run()).samples[0].sample

    (only,) = sample.tool_calls
    assert only.result is None
    assert only.error.startswith('no scripted result for lookup_order with arguments {"order_id": "Z-9"}')
    assert 'the case scripts results for {"order_id": "A-1042"}' in only.error
    sent = server.requests[1].body["messages"][-1]
    assert json.loads(sent["content"]) == {"error": only.error}


def test_unknown_tools_bad_json_and_schema_violations_are_recorded_errors(project, server):
    server.add_rule(Rule(last="user", tool_calls=[
        call("delete_everything"), call("lookup_order", "{not json"), call("lookup_order", order_id=42),
        call("lookup_order", "[" * 5000 + "]" * 5000)]))
    server.add_rule(Rule(last="tool", reply="done"))
    project.write_config({"m": openai_target(server)}, "m")
    project.add_case("bad-calls", "go", tools=[LOOKUP], expect=[{"contains": "done"}])

    calls = only_case(project.run()).samples[0].sample.tool_calls

    assert [c.error for c in calls] == [
        "unknown tool 'delete_everything': this case defines lookup_order",
        "arguments of lookup_order are not valid JSON (Expecting property name enclosed in double "
        "quotes at character 1): {not json",
        "arguments of lookup_order do not match its parameters schema at order_id: "
        "42 is not of type 'string'",
        "arguments of lookup_order are not valid JSON (it is nested too deeply to read): " + "[" * 200,
    ]
    assert calls[1].arguments == "{not json"


def test_the_step_limit_ends_the_loop_without_a_final_answer_and_the_case_fails(project, server):
    # a model that keeps calling tools, saying a little each time: nothing it said is an answer
    server.add_rule(Rule(reply="Let me check that.", tool_calls=[call("lookup_order", order_id="A-1042")]))
    project.write_config({"m": openai_target(server)}, "m")
    project.add_case("loops", "go", tools=[LOOKUP], max_steps=3, expect=[{"not_contains": "secret"}])
    project.add_case("loops-tools", "go on", tools=[LOOKUP, REFUND], max_steps=3,
                     expect=[{"tool_not_called": "issue_refund"}])

    evidence = project.run()

    for case_id in ("loops", "loops-tools"):
        result = only_case(evidence, case_id)
        sample = result.samples[0]
        assert sample.sample.final is False and sample.sample.steps == 3
        assert len(sample.sample.tool_calls) == 3
        assert result.outcome == "fail"
        (case_check, no_answer) = sample.checks
        assert case_check.status == "pass"  # true of the turns it took, but it never finished
        assert (no_answer.kind, no_answer.status, no_answer.index) == ("final_answer", "fail", 1)
        assert no_answer.message == (
            "the agent gave no final answer: it stopped after 3 model turns without one (the case "
            "allows max_steps 3); a run that never finishes is never a pass")
    assert server.count == 6
    assert exit_code(evidence) == ExitCode.FAILURES


def test_scripted_user_replies_continue_the_conversation(project, server):
    server.add_rule(Rule(last="user", user="^refund", reply="That is 129 EUR. Shall I go ahead?"))
    server.add_rule(Rule(last="user", user="^Yes", tool_calls=[call("issue_refund", account_id="acct_1")]))
    server.add_rule(Rule(last="tool", reply="Done, refund R-5521."))
    project.write_config({"m": openai_target(server)}, "m")
    project.add_case("confirm", "refund my grinder", tools=[REFUND], user_replies=["Yes, go ahead."],
                     expect=[{"contains": "R-5521"}])

    sample = only_case(project.run()).samples[0].sample

    assert [(t.role, t.content) for t in sample.trajectory] == [
        ("assistant", "That is 129 EUR. Shall I go ahead?"),
        ("user", "Yes, go ahead."),
        ("assistant", None),
        ("assistant", "Done, refund R-5521."),
    ]
    assert sample.final is True
    assert server.requests[1].body["messages"][-1] == {"role": "user", "content": "Yes, go ahead."}


def test_a_catastrophic_pattern_in_a_tool_schema_cannot_hang_the_run(project, server):
    # the schema comes from a pull request, the argument from the model: with Python's re,
    # (a+)+$ against 'a'*40 + '!' takes longer than the universe; on RE2 it is instant
    lookup = {**LOOKUP, "parameters": {
        "type": "object", "required": ["order_id"],
        "properties": {"order_id": {"type": "string", "pattern": "^(a+)+$"}}}}
    server.add_rule(Rule(last="user", tool_calls=[call("lookup_order", order_id="a" * 40 + "!")]))
    server.add_rule(Rule(last="tool", reply="That order id is not valid."))
    project.write_config({"m": openai_target(server)}, "m")
    project.add_case("hostile-pattern", "look up my order", tools=[lookup],
                     expect=[{"contains": "not valid"}])

    sample = only_case(project.run()).samples[0].sample

    (only,) = sample.tool_calls
    assert only.error is not None and "does not match" in only.error
