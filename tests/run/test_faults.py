"""Every fault of the target ends as a retried success or a recorded error, never a pass."""

from __future__ import annotations

import socket

import pytest

from casebank.errors import ExitCode
from casebank.run import exit_code
from casebank.run.retry import RetryPolicy, parse_retry_after
from tests.fakes.model_server import Fault
from tests.run.conftest import only_case, openai_target


def _sample(evidence):
    return only_case(evidence).samples[0].sample


@pytest.mark.parametrize("fault", [
    Fault("status", status=429, times=2),
    Fault("status", status=429, retry_after="0", times=2),
    Fault("status", status=500, times=2),
    Fault("status", status=502, times=2),
    Fault("status", status=503, times=2),
    Fault("status", status=503, retry_after="0", times=2),
    Fault("drop", times=2),
    Fault("slow", delay_s=2, times=1),
], ids=["429", "429-retry-after", "500", "502", "503", "503-retry-after", "dropped-connection",
        "timeout"])
def test_transient_faults_are_retried_until_the_answer_passes(project, server, fault):
    server.add_fault(fault)
    project.write_config({"m": openai_target(server, timeout_s=0.5)}, "m")
    project.add_case("c", "hello", expect=[{"contains": "echo: hello"}])

    evidence = project.run()

    sample = _sample(evidence)
    assert only_case(evidence).outcome == "pass", sample.error
    assert sample.attempts == fault.times + 1
    assert server.count == fault.times + 1
    assert evidence.runner["retries"] == fault.times
    assert exit_code(evidence) == ExitCode.OK


@pytest.mark.parametrize("fault, message", [
    (Fault("status", status=500, times=None), "HTTP 500: injected HTTP 500 (gave up after 3 attempts)"),
    (Fault("status", status=429, retry_after="0", times=None),
     "HTTP 429 (rate limited): injected HTTP 429 (gave up after 3 attempts)"),
    (Fault("drop", times=None), "connection failed: Server disconnected (gave up after 3 attempts)"),
    (Fault("slow", delay_s=2, times=None), "timeout after 0.3s (gave up after 3 attempts)"),
    (Fault("malformed", times=None), "response is not JSON (Expecting value at character 25): "
     '{"choices": [{"message":'),
    (Fault("shape", times=None), "response is not a chat completion: no choices[0] in the response"),
    (Fault("shape", body={"choices": [{"message": {"content": 7}}]}, times=None),
     "response is not a chat completion: choices[0].message.content is not a string"),
], ids=["500", "429", "dropped", "timeout", "malformed-json", "empty-choices", "wrong-content"])
def test_persistent_faults_are_recorded_errors_never_passes(project, server, fault, message):
    server.add_fault(fault)
    project.write_config({"m": openai_target(server, timeout_s=0.3)}, "m", run={"retries": 2})
    project.add_case("c", "hello", expect=[{"not_contains": "anything"}])

    evidence = project.run()

    sample = _sample(evidence)
    assert sample.error == f"{message} (model turn 1)"
    assert only_case(evidence).outcome == "error"
    assert only_case(evidence).samples[0].checks == []  # no output: nothing to check
    assert exit_code(evidence) == ExitCode.INFRA


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_other_4xx_are_not_retried(project, server, status):
    server.add_fault(Fault("status", status=status, times=None))
    project.write_config({"m": openai_target(server)}, "m")
    project.add_case("c", "hello")

    sample = _sample(project.run())

    assert server.count == 1
    assert sample.error == f"HTTP {status} (not retried): injected HTTP {status} (model turn 1)"


def test_retry_after_is_honoured(project, server):
    server.add_fault(Fault("status", status=429, retry_after="1", times=1))
    project.write_config({"m": openai_target(server)}, "m", run={"backoff_s": 0})
    project.add_case("c", "hello")

    evidence = project.run()

    assert only_case(evidence).outcome == "pass"
    first, second = server.requests
    assert second.at - first.at >= 0.9  # waited what the server asked, not the 0 s backoff


def test_retry_after_parses_seconds_and_http_dates():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: now
    assert parse_retry_after("soon") is None
    assert RetryPolicy(backoff_s=100).delay(3, retry_after=2.5) == 2.5
    assert 0.5 <= RetryPolicy(backoff_s=1).delay(1) <= 1.0  # jittered around the backoff


def test_a_retry_after_longer_than_the_limit_is_not_waited_for(project, server):
    server.add_fault(Fault("status", status=429, retry_after="3600", times=None))
    project.write_config({"m": openai_target(server)}, "m", run={"max_retry_after_s": 5})
    project.add_case("c", "hello")

    sample = _sample(project.run())

    assert server.count == 1
    assert "the target asked to retry after 3600s, longer than run.max_retry_after_s (5s)" in sample.error


def test_sustained_429_lowers_concurrency_and_it_is_recorded(project, server):
    server.latency_ms = 20
    server.add_fault(Fault("status", status=429, retry_after="0", times=40))
    project.write_config({"m": openai_target(server)}, "m", run={"concurrency": 16, "retries": 10})
    for i in range(40):
        project.add_case(f"c{i}", f"hello {i}", expect=[{"contains": f"echo: hello {i}"}])

    evidence = project.run()

    assert {c.outcome for c in evidence.cases} == {"pass"}
    concurrency = evidence.runner["concurrency"]
    assert concurrency["max"] == 16
    assert concurrency["lowest"] < 16
    decreases = [e for e in concurrency["events"] if e["event"] == "decrease"]
    assert decreases and decreases[0] == {**decreases[0], "from": 16, "to": 8, "reason": "HTTP 429"}
    assert evidence.runner["retry_reasons"]["HTTP 429"] >= 1


def test_an_unreachable_target_makes_every_sample_an_error(project):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    project.write_config({"m": {"kind": "openai", "base_url": f"http://127.0.0.1:{port}/v1",
                                "model": "x"}}, "m", run={"retries": 1})
    project.add_case("a", "hello", samples=2)
    project.add_case("b", "hello")

    evidence = project.run()

    assert [c.outcome for c in evidence.cases] == ["error", "error"]
    for case in evidence.cases:
        for result in case.samples:
            assert result.sample.error_kind == "connection"
            assert result.sample.error.startswith("connection failed: Cannot connect to host 127.0.0.1")
    assert exit_code(evidence) == ExitCode.INFRA
    assert evidence.complete is True  # every case was attempted; the errors make it undecided
