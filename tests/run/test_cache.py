"""The response cache, independent samples, and secrets kept out of everything written."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from aiohttp import web

from casebank import evidence as evidence_file
from tests.fakes.model_server import Fault, Rule
from tests.run.conftest import only_case, openai_target
from tests.run.test_targets import serve


def test_a_rerun_with_nothing_changed_sends_no_request(project, server):
    project.write_config({"m": openai_target(server)}, "m")
    project.add_case("a", "hello a", samples=2)
    project.add_case("b", "hello b")
    first = project.run()
    assert server.count == 3
    assert first.runner["requests"] == 3

    second = project.run()

    assert server.count == 3  # nothing new reached the model
    assert second.runner["requests"] == 0 and second.runner["cache_hits"] == 3
    assert all(s.sample.cached for c in second.cases for s in c.samples)
    assert {c.case_id: c.outcome for c in second.cases} == {"a": "pass", "b": "pass"}
    assert len(list((project.root / ".casebank" / "cache").glob("*.pack"))) == 1


def test_a_damaged_cache_is_asked_again_not_trusted(project, server):
    project.write_config({"m": openai_target(server)}, "m")
    project.add_case("a", "hello a")
    project.add_case("b", "hello b")
    project.run()
    (pack,) = (project.root / ".casebank" / "cache").glob("*.pack")
    lines = pack.read_bytes().splitlines(keepends=True)
    pack.write_bytes(lines[0][:70] + b"{not json\n" + lines[1][:-20])  # one garbled, one cut off

    evidence = project.run()

    assert {c.outcome for c in evidence.cases} == {"pass"}
    assert evidence.runner["requests"] == 2 and server.count == 4


def test_no_cache_asks_again_and_a_changed_request_misses(project, server):
    project.write_config({"m": openai_target(server)}, "m")
    project.add_case("a", "hello a")
    project.run()
    project.run(use_cache=False)
    assert server.count == 2
    project.write_config({"m": openai_target(server, params={"temperature": 0.5})}, "m")
    project.run()
    assert server.count == 3  # a different param is a different fingerprint


def test_errors_are_never_cached(project, server):
    fault = server.add_fault(Fault("status", status=500, times=None))
    project.write_config({"m": openai_target(server)}, "m", run={"retries": 0})
    project.add_case("a", "hello")
    assert only_case(project.run()).outcome == "error"
    server.faults.remove(fault)

    evidence = project.run()

    assert only_case(evidence).outcome == "pass"
    assert evidence.runner["requests"] == 1 and evidence.runner["cache_hits"] == 0


def test_answers_that_are_errors_are_never_cached_either(project, server):
    # a 200 whose JSON is no chat completion, and an agent that answers with an error
    server.add_fault(Fault("shape", times=1))
    answers = iter([{"error": "the order database is down"}, {"output": "echo fine"}])

    async def agent(request: web.Request) -> web.Response:
        return web.json_response(next(answers))

    app = web.Application()
    app.router.add_post("/agent", agent)
    with serve(app) as url:
        project.write_config({"m": openai_target(server), "svc": {"kind": "http", "url": f"{url}/agent"}},
                             "m")
        project.add_case("a", "hello")
        first = {t: only_case(project.run(target=t)).samples[0].sample.error for t in ("m", "svc")}
        assert first == {
            "m": "response is not a chat completion: no choices[0] in the response (model turn 1)",
            "svc": "the agent reported an error: the order database is down"}

        again = {t: only_case(project.run(target=t)) for t in ("m", "svc")}

    assert {t: c.outcome for t, c in again.items()} == {"m": "pass", "svc": "pass"}
    assert not any(c.samples[0].sample.cached for c in again.values())
    assert server.count == 2


def test_concurrent_identical_requests_are_sent_once(project, server):
    server.latency_ms = 300  # both cases are in flight at the same time
    project.write_config({"m": openai_target(server)}, "m", run={"concurrency": 4})
    project.add_case("twin-1", "the same question")
    project.add_case("twin-2", "the same question")

    evidence = project.run(use_cache=False)

    assert server.count == 1
    assert [c.outcome for c in evidence.cases] == ["pass", "pass"]


def test_samples_are_independent_answers_not_copies(project, server):
    server.add_rule(Rule(reply="first answer: echo", times=1))
    server.add_rule(Rule(reply="other answer"))
    project.write_config({"m": openai_target(server)}, "m", run={"concurrency": 1})
    project.add_case("flaky", "hello", samples=3, pass_rule={"at_least": 1},
                     expect=[{"contains": "echo"}])

    evidence = project.run()

    result = only_case(evidence)
    assert server.count == 3
    assert sorted(s.sample.output for s in result.samples) == [
        "first answer: echo", "other answer", "other answer"]
    assert result.flaky and result.outcome == "pass"
    # a re-run replays each sample's own answer from the cache
    again = only_case(project.run())
    assert server.count == 3
    assert sorted(s.sample.output for s in again.samples) == sorted(s.sample.output for s in result.samples)


def test_the_api_key_never_appears_in_evidence_cache_recordings_or_output(project, server, monkeypatch):
    secret = "sk-test-DO-NOT-LEAK-4242"
    monkeypatch.setenv("TEST_MODEL_KEY", secret)
    server.add_fault(Fault("status", status=401, user="leak",
                           body={"error": {"message": f"Incorrect API key provided: {secret}"}}))
    project.write_config({"m": openai_target(server, api_key_env="TEST_MODEL_KEY")}, "m")
    project.add_case("ok", "hello")
    project.add_case("rejected", "leak please")

    result = project.cli("run", "--junit", "junit.xml", "--record-outputs", "rec.jsonl",
                         env={"TEST_MODEL_KEY": secret})

    assert result.returncode == 4, result.stderr
    assert {r.headers["Authorization"] for r in server.requests} == {f"Bearer {secret}"}
    written = [project.root / "junit.xml", project.root / "rec.jsonl",
               project.root / ".casebank" / "evidence.json",
               *(project.root / ".casebank" / "cache").iterdir()]
    assert len(written) == 4  # one cache pack
    for path in written:
        assert secret not in path.read_text(encoding="utf-8"), path
    assert secret not in result.stdout + result.stderr
    evidence = json.loads((project.root / ".casebank" / "evidence.json").read_text())
    rejected = next(c for c in evidence["cases"] if c["case_id"] == "rejected")
    assert rejected["samples"][0]["error"] == (
        "HTTP 401 (not retried): Incorrect API key provided: *** (model turn 1)")
    assert "TEST_MODEL_KEY" not in json.dumps(evidence["header"]["target"])


@pytest.mark.timeout(60)
def test_an_output_utf8_cannot_encode_is_kept_and_never_hangs_the_run(project, server):
    # JSON can spell a lone surrogate; Python keeps it, UTF-8 cannot write it raw. Two cases
    # ask the same question, so the second waits for the first one's answer.
    text = "card \ud800 number \x1b[31m4242\x1b[0m"
    server.latency_ms = 100
    server.add_rule(Rule(reply=text))
    project.write_config({"m": openai_target(server)}, "m", run={"concurrency": 4})
    project.add_case("twin-1", "the same question", expect=[{"not_contains": "4242"}])
    project.add_case("twin-2", "the same question", expect=[{"contains": "card"}])

    result = project.cli("run", "--junit", "junit.xml", "--record-outputs", "rec.jsonl")

    assert result.returncode == 1, result.stderr
    assert server.count == 1
    read = evidence_file.read(project.root / ".casebank" / "evidence.json")
    assert {c.case_id: c.outcome for c in read.cases} == {"twin-1": "fail", "twin-2": "pass"}
    assert {c.samples[0].sample.output for c in read.cases} == {text}
    (recorded, _) = [json.loads(line) for line in (project.root / "rec.jsonl").open()]
    assert recorded["output"] == text
    suite = ET.parse(project.root / "junit.xml").getroot().find("testsuite")  # well-formed XML
    assert suite.get("failures") == "1"
    failure = suite.find("testcase[@name='twin-1']/failure")
    assert "4242" in failure.get("message") and "\x1b" not in failure.text
    # and the answer was cached: a re-run asks nothing
    again = project.run()
    assert server.count == 1 and again.runner["cache_hits"] == 2
    assert {c.samples[0].sample.output for c in again.cases} == {text}
