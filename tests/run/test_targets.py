"""command, http and replay targets, including their failures."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiohttp import web

from casebank.errors import ExitCode, UserError
from casebank.run import exit_code
from casebank.run.targets import validate_target
from tests.run import reference_agent
from tests.run.conftest import only_case

AGENT = str(Path(reference_agent.__file__).resolve())
LOOKUP = {
    "name": "lookup_order", "description": "Look up an order.",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
    "results": [{"when": {"order_id": "A-1"}, "result": {"account_id": "acct_77"}}],
}


@contextmanager
def serve(app: web.Application) -> Iterator[str]:
    """Serve an aiohttp app on 127.0.0.1 in a thread; yields its base URL."""
    ready = threading.Event()
    state: dict[str, object] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        runner = web.AppRunner(app, shutdown_timeout=0.2)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.SockSite(runner, sock).start())
        state.update(loop=loop, url=f"http://127.0.0.1:{sock.getsockname()[1]}")
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield str(state["url"])
    finally:
        state["loop"].call_soon_threadsafe(state["loop"].stop)  # type: ignore[attr-defined]
        thread.join(10)


# -- command ---------------------------------------------------------------------------------
def test_command_target_receives_the_case_and_its_answer_is_checked(project):
    project.write_config({"agent": {"kind": "command", "command": [sys.executable, AGENT]}}, "agent")
    project.add_case("tool", "look it up", tools=[LOOKUP], expect=[{"contains": "acct_77"}],
                     samples=2)

    evidence = project.run()

    result = only_case(evidence)
    assert result.outcome == "pass"
    sample = result.samples[1].sample
    assert sample.output == 'done: {"account_id": "acct_77"}'
    (call,) = sample.tool_calls
    assert (call.name, call.arguments, call.result) == ("lookup_order", {"order_id": "A-1"},
                                                       {"account_id": "acct_77"})
    assert sample.usage.total_tokens == sample.usage.prompt_tokens + sample.usage.completion_tokens
    assert sample.request["sample"] == 1 and sample.request["input"]["tools"][0]["results"]
    assert evidence.target == {"name": "agent", "kind": "command", "command": [sys.executable, AGENT],
                               "model": None, "params": {}}


@pytest.mark.parametrize("user, message", [
    ("crash", "command exited with status 3; stderr: Traceback: agent blew up on purpose"),
    ("garbage", "stdout is not JSON (Expecting value: line 1 column 1 (char 0)): this is not json"),
    ("sleep", "timeout after 0.5s"),
    ("shape", 'agent response has the wrong shape: "output" must be a string, not int'),
    ("refuse", "the agent reported an error: the agent refused: policy engine unavailable"),
])
def test_command_failures_are_errors_with_stderr_kept(project, user, message):
    project.write_config({"agent": {"kind": "command", "command": [sys.executable, AGENT],
                                    "timeout_s": 0.5}}, "agent")
    project.add_case("c", user)

    evidence = project.run()

    assert only_case(evidence).samples[0].sample.error == message
    assert only_case(evidence).outcome == "error"
    assert exit_code(evidence) == ExitCode.INFRA


def test_a_command_that_cannot_start_is_an_error(project):
    project.write_config({"agent": {"kind": "command", "command": "./no-such-agent --flag"}}, "agent")
    project.add_case("c", "hello")

    error = only_case(project.run()).samples[0].sample.error

    assert error.startswith("cannot start ./no-such-agent --flag: ")


# -- http --------------------------------------------------------------------------------------
def test_http_target_posts_the_case_and_reads_output_and_trajectory(project):
    with serve(reference_agent.app()) as url:
        project.write_config({"svc": {"kind": "http", "url": f"{url}/agent", "model": "agent-7"}}, "svc")
        project.add_case("tool", "look it up", tools=[LOOKUP], expect=[{"contains": "acct_77"}])
        project.add_case("plain", "hi there", expect=[{"contains": "echo: hi there (sample 0)"}])
        project.add_case("broken", "garbage")

        evidence = project.run()

    outcomes = {c.case_id: c.outcome for c in evidence.cases}
    assert outcomes == {"tool": "pass", "plain": "pass", "broken": "error"}
    tool = only_case(evidence, "tool").samples[0].sample
    assert [c.name for c in tool.tool_calls] == ["lookup_order"]
    broken = only_case(evidence, "broken").samples[0].sample
    assert broken.error == "response is not JSON (Expecting value at character 0): <html>oops</html>"
    assert evidence.target["model"] == "agent-7"


def test_http_target_errors_are_retried_like_any_target(project):
    calls = {"n": 0}

    async def flaky(request: web.Request) -> web.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return web.json_response({"error": "warming up"}, status=503)
        return web.json_response(reference_agent.respond(await request.json()))

    app = web.Application()
    app.router.add_post("/agent", flaky)
    with serve(app) as url:
        project.write_config({"svc": {"kind": "http", "url": f"{url}/agent"}}, "svc")
        project.add_case("c", "hello")
        evidence = project.run()

    assert only_case(evidence).outcome == "pass"
    assert calls["n"] == 2 and evidence.runner["retry_reasons"] == {"HTTP 503": 1}


# -- replay ------------------------------------------------------------------------------------
def _record(case: str, sample: int, output: str) -> str:
    return json.dumps({"case": case, "sample": sample, "output": output, "trajectory": [
        {"role": "assistant", "content": output}], "usage": {"prompt_tokens": 3, "completion_tokens": 2},
        "latency_ms": 812}) + "\n"


def test_replay_grades_recorded_outputs_and_a_missing_sample_is_an_error(project):
    (project.root / "rec.jsonl").write_text(
        _record("a", 0, "echo one") + _record("a", 1, "echo two") + _record("b", 0, "echo b"))
    project.write_config({"rec": {"kind": "replay", "file": "rec.jsonl"}}, "rec")
    project.add_case("a", samples=3, pass_rule={"at_least": 2})
    project.add_case("b")
    project.add_case("c")

    evidence = project.run()

    a, b, c = (only_case(evidence, x) for x in "abc")
    assert b.outcome == "pass" and b.samples[0].sample.latency_ms == 812
    assert [s.outcome for s in a.samples] == ["pass", "pass", "error"]
    assert a.samples[2].sample.error == ("no recording for case a sample 2 in rec.jsonl (it has "
                                         "samples 0, 1; record again with --record-outputs)")
    assert a.outcome == "pass"  # 2 of 3 passed, as its rule asks; the missing one is still an error
    assert c.outcome == "error"
    assert c.samples[0].sample.error.startswith("no recording for case c sample 0 in rec.jsonl (it has none")
    assert exit_code(evidence) == ExitCode.INFRA


def test_a_bad_recordings_file_is_a_user_error_naming_the_line(project):
    (project.root / "rec.jsonl").write_text(_record("a", 0, "x") + '{"case": "a"}\n')
    project.write_config({"rec": {"kind": "replay", "file": "rec.jsonl"}}, "rec")
    project.add_case("a")

    with pytest.raises(UserError) as raised:
        project.run()

    (problem,) = raised.value.problems
    assert problem.render() == ('rec.jsonl:2: each line needs "case" (a case id) and "sample" '
                                '(0-based index)')


def test_a_missing_recordings_file_is_a_user_error(project):
    project.write_config({"rec": {"kind": "replay", "file": "gone.jsonl"}}, "rec")
    project.add_case("a")

    with pytest.raises(UserError) as raised:
        project.run()

    rendered = raised.value.problems[0].render()
    assert rendered.startswith(f"{project.config_path}:")  # with the line of the field
    assert ": targets.rec.file: recordings file gone.jsonl not found" in rendered


def test_an_invalid_target_entry_is_exit_2_naming_file_line_and_field(project):
    project.write_config({"m": {"kind": "openai", "base_url": "ftp://x", "modle": "gpt"}}, "m")
    project.add_case("a")

    result = project.cli("run")

    assert result.returncode == 2
    assert "casebank.yaml:4:5: targets.m: missing `model`" in result.stderr
    assert "targets.m.base_url" in result.stderr and "Traceback" not in result.stderr


def test_target_entries_are_checked_against_the_target_schema():
    problems = validate_target("m", {"kind": "command", "command": [], "timeout_s": 0})
    rendered = sorted(p.render() for p in problems)
    assert rendered == ["casebank.yaml: targets.m.command: [] is not valid under any of the given schemas",
                        "casebank.yaml: targets.m.timeout_s: 0 is less than or equal to the minimum of 0"]
    assert validate_target("r", {"kind": "replay", "file": "x.jsonl"}) == []


def test_an_agent_that_reports_no_final_answer_fails_whatever_its_checks_say(project):
    async def unfinished(request: web.Request) -> web.Response:
        return web.json_response({"output": "still looking it up", "final": False, "steps": 6})

    app = web.Application()
    app.router.add_post("/agent", unfinished)
    with serve(app) as url:
        project.write_config({"svc": {"kind": "http", "url": f"{url}/agent"}}, "svc")
        project.add_case("c", "hello", expect=[{"not_contains": "secret"}], max_steps=6)
        evidence = project.run()

    result = only_case(evidence)
    assert result.outcome == "fail"
    assert [(c.kind, c.status) for c in result.samples[0].checks] == [
        ("not_contains", "pass"), ("final_answer", "fail")]
    assert result.samples[0].checks[1].message.startswith(
        "the agent gave no final answer: it stopped after 6 model turns without one")


# -- what a broken target may send ----------------------------------------------------------------
BIG = 33 * 1024 * 1024  # past the 32 MB any answer may have


@pytest.mark.parametrize("chunked", [False, True])
def test_a_huge_http_answer_is_an_error_not_read_whole(project, chunked):
    async def huge(request: web.Request) -> web.StreamResponse:
        body = b'{"output": "' + b"x" * BIG + b'"}'
        if not chunked:
            return web.Response(body=body, content_type="application/json")
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), 1 << 20):
            await response.write(body[start:start + (1 << 20)])
        return response

    app = web.Application()
    app.router.add_post("/agent", huge)
    with serve(app) as url:
        project.write_config({"svc": {"kind": "http", "url": f"{url}/agent"}}, "svc",
                             run={"retries": 0})
        project.add_case("c", "hello", expect=[{"not_contains": "secret"}])
        evidence = project.run()

    result = only_case(evidence)
    assert result.outcome == "error"
    assert result.samples[0].sample.error == (
        "the HTTP 200 response is larger than 32 MB: casebank stopped reading it (no answer is "
        "that big; check the target)")


WRITES_FOREVER = """\
import sys
sys.stdin.read()
while True:
    sys.stdout.write("garbage " * 8192)
"""
KILLS_ITSELF = """\
import os, signal, sys
sys.stdin.read()
sys.stdout.write('{"output": "half an ans')
sys.stdout.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""
LEAVES_A_CHILD = """\
import subprocess, sys, time
sys.stdin.read()
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # inherits stdout
time.sleep(60)
"""


@pytest.mark.timeout(60)
@pytest.mark.parametrize("program, timeout_s, message", [
    (WRITES_FOREVER, 60, "what the command wrote to stdout is larger than 32 MB: casebank "
                         "stopped reading it (no answer is that big; check the target)"),
    (KILLS_ITSELF, 60, "command was killed by signal 9 (SIGKILL) (no stderr)"),
    (LEAVES_A_CHILD, 0.5, "timeout after 0.5s"),
])
def test_a_command_that_floods_is_killed_or_hangs_ends_as_an_error(project, program, timeout_s,
                                                                    message):
    (project.root / "agent.py").write_text(program)
    project.write_config({"agent": {"kind": "command", "command": [sys.executable, "agent.py"],
                                    "timeout_s": timeout_s}}, "agent")
    project.add_case("c", "hello", expect=[{"not_contains": "secret"}])

    evidence = project.run()

    result = only_case(evidence)
    assert result.outcome == "error"
    assert result.samples[0].sample.error == message


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("body, why", [
    (b'{"output": ' + DEEP + b"}", "it is nested too deeply to read"),
    (b'{"output": "caf\xe9 \xff"}', "'utf-8' codec can't decode byte 0xe9 in position 15: "
                                      "invalid continuation byte"),
], ids=["nested-too-deeply", "not-utf-8"])
def test_unreadable_json_is_said_never_a_crash(project, body, why):
    (project.root / "body.bin").write_bytes(body)
    (project.root / "agent.py").write_text(
        "import sys\nsys.stdin.read()\nsys.stdout.buffer.write(open('body.bin', 'rb').read())\n")

    async def agent(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/agent", agent)
    with serve(app) as url:
        project.write_config({"svc": {"kind": "http", "url": f"{url}/agent"},
                              "cmd": {"kind": "command", "command": [sys.executable, "agent.py"]}},
                             "svc")
        project.add_case("c", "hello")
        errors = {t: only_case(project.run(target=t)).samples[0].sample.error for t in ("svc", "cmd")}

    assert errors["svc"].startswith(f'response is not JSON ({why}): {{"output": ')
    assert errors["cmd"].startswith(f'stdout is not JSON ({why}): {{"output": ')
