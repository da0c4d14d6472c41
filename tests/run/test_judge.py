"""Judge checks get their answers from the configured openai target, through the runner."""

from __future__ import annotations

import asyncio

import casebank.check
from casebank.run.judge import JudgeError, standalone_judge
from tests.fakes.model_server import Fault, Rule
from tests.run.conftest import only_case, openai_target

VERDICT = '{"verdict": "pass", "confidence": 0.95, "rationale": "it greets the customer"}'


def _judge_project(project, server, judge_target):
    server.add_rule(Rule(system="You grade one answer", reply=VERDICT))
    project.write_config({"m": openai_target(server), "grader": judge_target}, "m", judge="grader",
                         run={"retries": 0})
    project.add_case("polite", "hello", expect=[{"judge": "The answer greets the customer."}])


def test_a_judge_check_passes_on_the_judges_verdict(project, server):
    _judge_project(project, server, openai_target(server, model="judge-model"))

    check = only_case(project.run()).samples[0].checks[0]

    assert check.status == "pass"
    assert check.message == "the judge says pass (confidence 0.95): it greets the customer"
    assert [r.body["model"] for r in server.requests] == ["test-model", "judge-model"]


def test_an_unreachable_judge_is_an_error_not_a_pass(project, server):
    _judge_project(project, server, {"kind": "openai", "base_url": "http://127.0.0.1:9/v1",
                                     "model": "judge-model"})

    result = only_case(project.run())

    check = result.samples[0].checks[0]
    assert result.outcome == "error" and check.status == "error"
    assert check.message.startswith("the judge call failed: JudgeError: judge grader: connection failed")


def test_a_new_judge_prompt_version_asks_the_judge_again(project, server, monkeypatch):
    _judge_project(project, server, openai_target(server, model="judge-model"))
    project.run()
    project.run()
    assert server.count == 2  # the agent and the judge, once each

    monkeypatch.setattr(casebank.check, "JUDGE_PROMPT_VERSION", "next")
    project.run()

    assert [r.body["model"] for r in server.requests] == ["test-model", "judge-model", "judge-model"]


def test_standalone_judge_answers_and_raises_on_failure(server):
    server.add_rule(Rule(reply=VERDICT))
    server.add_fault(Fault("status", status=400, user="bad", times=None))
    judge = standalone_judge({"j": openai_target(server)}, "j")

    answer = asyncio.run(judge([{"role": "user", "content": "grade this"}]))
    try:
        asyncio.run(judge([{"role": "user", "content": "bad"}]))
        raised = None
    except JudgeError as exc:
        raised = str(exc)

    assert answer == VERDICT
    assert raised == "judge j: HTTP 400 (not retried): injected HTTP 400"


def _confidence_project(project, server, run_settings):
    server.add_rule(Rule(system="You grade one answer", reply='{"verdict": "pass", '
                         '"confidence": 0.8, "rationale": "it greets the customer"}'))
    project.write_config({"m": openai_target(server), "grader": openai_target(server)}, "m",
                         judge="grader", run={"retries": 0, **run_settings})
    project.add_case("polite", "hello", expect=[{"judge": "The answer greets the customer."}])


def test_run_judge_threshold_makes_a_less_confident_verdict_uncertain(project, server):
    _confidence_project(project, server, {"judge_threshold": 0.9})

    check = only_case(project.run()).samples[0].checks[0]

    assert check.status == "uncertain"
    assert "below the threshold 0.90; a person must decide" in check.message


def test_without_run_judge_threshold_a_verdict_at_0_8_passes(project, server):
    _confidence_project(project, server, {})

    check = only_case(project.run()).samples[0].checks[0]

    assert check.status == "pass", check.message


def test_a_judge_checks_own_threshold_wins_over_the_runs(project, server):
    _confidence_project(project, server, {"judge_threshold": 0.9})
    project.add_case("polite", "hello", expect=[{"judge": {
        "rubric": "The answer greets the customer.", "threshold": 0.75}}])

    check = only_case(project.run()).samples[0].checks[0]

    assert check.status == "pass", check.message


def test_a_run_judge_threshold_above_1_is_a_config_error(project, server):
    _confidence_project(project, server, {"judge_threshold": 1.5})

    result = project.cli("run")

    assert result.returncode == 2
    assert ": run.judge_threshold: is 1.5, must be at most 1" in result.stderr
    assert result.stderr.splitlines()[1].strip().startswith("casebank.yaml:")  # file:line
