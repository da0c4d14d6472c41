"""Real runs for check tests: example cases loaded by the bank loader, run by the openai
target's agent loop against the test model server, judged by the runner's judge targets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from casebank.bank.case import Case
from casebank.bank.files import project_reader
from casebank.bank.limits import Limits
from casebank.bank.load import parse_case
from casebank.run.cache import ResponseCache
from casebank.run.judge import Judges
from casebank.run.limiter import AimdLimiter
from casebank.run.retry import RetryPolicy
from casebank.run.sample import SampleOutput
from casebank.run.stats import RunnerStats
from casebank.run.targets.base import RunContext
from casebank.run.targets.openai import OpenAITarget
from casebank.run.transport import Transport

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "support-agent"
T = TypeVar("T")


def example_case(name: str) -> Case:
    """An example case, loaded and validated the way `casebank run` loads it."""
    path = EXAMPLE / "cases" / f"{name}.yaml"
    case = parse_case(f"cases/{name}.yaml", path.read_bytes(), root=EXAMPLE,
                      read_file=project_reader(EXAMPLE, Limits()), limits=Limits())
    assert isinstance(case, Case), case
    return case


def with_context(body: Callable[[RunContext], Awaitable[T]]) -> T:
    """Run ``body`` with a real transport (no retries, no disk cache), closed afterwards."""
    async def main() -> T:
        stats = RunnerStats()
        transport = Transport(AimdLimiter(4), RetryPolicy(retries=0), stats)
        try:
            return await body(RunContext(transport, ResponseCache(None, stats), stats, EXAMPLE))
        finally:
            await transport.aclose()
    return asyncio.run(main())


def run_agent(base_url: str, case: Case, prices: dict[str, float] | None = None) -> SampleOutput:
    """One sample of ``case`` through the real agent loop against ``base_url``."""
    target = OpenAITarget(name="agent", base_url=base_url, model="agent-model", prices=prices)
    return with_context(lambda ctx: target.run(case, 0, ctx))


def judges(base_url: str, ctx: RunContext) -> Judges:
    targets: dict[str, Any] = {"house-judge": {"kind": "openai", "base_url": base_url,
                                               "model": "judge-model"}}
    return Judges(targets, ctx, config_path="casebank.yaml", run_settings={"retries": 0})
