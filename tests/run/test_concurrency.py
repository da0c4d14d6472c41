"""How many requests casebank keeps in flight: the configured bound, --concurrency, and
AIMD growing back after the target stops answering 429."""

from __future__ import annotations

import asyncio
import json

import pytest

from casebank.run.limiter import AimdLimiter
from tests.fakes.model_server import Fault, ModelServer
from tests.run.conftest import Project, openai_target


@pytest.fixture
def slow_server():
    # each answer takes a while, so requests overlap as much as casebank lets them
    with ModelServer(latency_ms=40) as running:
        yield running


def _bank(project: Project, server: ModelServer, run: dict | None = None) -> None:
    project.write_config({"m": openai_target(server)}, "m", run=run)
    for n in range(4):
        project.add_case(f"case-{n}", f"question {n}", samples=4)  # 16 requests


def test_never_more_requests_in_flight_than_run_concurrency(project, slow_server):
    _bank(project, slow_server, run={"concurrency": 3})

    evidence = project.run()

    assert slow_server.count == 16
    assert slow_server.max_in_flight == 3  # reached, never passed
    assert all(r.in_flight <= 3 for r in slow_server.requests)
    assert evidence.runner["concurrency"]["max"] == 3


def test_the_concurrency_flag_wins_over_the_config(project, slow_server):
    _bank(project, slow_server, run={"concurrency": 8})

    result = project.cli("run", "--concurrency", "2")

    assert result.returncode == 0, result.stdout + result.stderr
    assert slow_server.count == 16
    assert slow_server.max_in_flight == 2
    doc = json.loads((project.root / ".casebank" / "evidence.json").read_text())
    assert doc["footer"]["runner"]["concurrency"]["max"] == 2


def test_aimd_grows_back_to_the_maximum_after_429s_stop(project, server):
    # the first answers are 429 (retried at once); then the target answers normally
    server.add_fault(Fault("status", status=429, retry_after="0", times=3))
    project.write_config({"m": openai_target(server)}, "m", run={"concurrency": 4})
    for n in range(6):
        project.add_case(f"case-{n}", f"question {n}", samples=4)

    evidence = project.run()

    assert all(c.outcome == "pass" for c in evidence.cases)
    aimd = evidence.runner["concurrency"]
    assert aimd["lowest"] < 4, aimd
    assert aimd["final"] == 4, aimd
    kinds = [e["event"] for e in aimd["events"]]
    assert kinds[0] == "decrease" and kinds[-1] == "increase", kinds


def test_aimd_halves_on_429_then_adds_one_per_limit_successes():
    limiter = AimdLimiter(8, cooldown_s=0)

    limiter.on_throttled()
    assert limiter.limit == 4
    steps = []
    for _ in range(4 + 5 + 6 + 7):
        limiter.on_success()
        steps.append(limiter.limit)

    assert steps[3] == 5 and steps[8] == 6 and steps[14] == 7 and steps[-1] == 8
    assert limiter.summary()["final"] == 8 and limiter.summary()["lowest"] == 4
    limiter.on_success()
    assert limiter.limit == 8  # never above the maximum


def test_a_waiting_request_starts_as_soon_as_the_limit_grows():
    async def scenario() -> list[str]:
        limiter = AimdLimiter(2, cooldown_s=0)
        limiter.on_throttled()  # limit 1
        await limiter.acquire()
        seen = []
        waiting = asyncio.ensure_future(limiter.acquire())
        await asyncio.sleep(0)
        seen.append("waiting" if not waiting.done() else "started")
        limiter.on_success()  # 1 success at limit 1: limit 2, the waiter gets its slot
        await asyncio.sleep(0)
        seen.append("started" if waiting.done() else "waiting")
        seen.append(f"in flight {limiter.in_flight}")
        return seen

    assert asyncio.run(scenario()) == ["waiting", "started", "in flight 2"]
