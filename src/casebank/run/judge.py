"""The judge model for ``judge`` checks: an ``openai`` target asked one chat completion.

``Judges`` hands the checks a callable per judge target name, built on first use, with its
answers cached like any other request (the judge prompt version is part of the key, so a
new prompt never reuses old verdicts).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from casebank.errors import UserError
from casebank.run.cache import ResponseCache
from casebank.run.limiter import AimdLimiter
from casebank.run.retry import RetryPolicy
from casebank.run.stats import RunnerStats
from casebank.run.targets import build_target
from casebank.run.targets.base import Locate, RunContext
from casebank.run.targets.openai import OpenAITarget, _message
from casebank.run.transport import Transport

JudgeFn = Callable[[list[dict[str, Any]]], Awaitable[str]]


class JudgeError(Exception):
    """The judge could not answer (unreachable, HTTP error, not a chat completion)."""


class Judges:
    """Judge callables by target name, for ``CheckContext.judge`` / ``CheckContext.judges``."""

    def __init__(self, targets: dict[str, Any], ctx: RunContext, *, config_path: str,
                 run_settings: dict[str, Any], locate: Locate | None = None) -> None:
        self._targets = targets
        self._ctx = ctx
        self._config_path = config_path
        self._run_settings = run_settings
        self._built: dict[str, OpenAITarget] = {}
        self._locate = locate

    def names(self) -> list[str]:
        """Configured targets that can judge (kind openai)."""
        return [name for name, raw in self._targets.items()
                if isinstance(raw, dict) and raw.get("kind") == "openai"]

    def _target(self, name: str) -> OpenAITarget:
        target = self._built.get(name)
        if target is None:
            built = build_target(name, self._targets, config_path=self._config_path,
                                 root=self._ctx.root, run_settings=self._run_settings,
                                 locate=self._locate)
            if not isinstance(built, OpenAITarget):
                raise UserError(f"judge target {name!r} must be of kind openai, not {built.kind}")
            target = self._built[name] = built
        return target

    def judge(self, name: str) -> JudgeFn:
        """The callable asking judge target ``name``; raises ``JudgeError`` when it fails."""
        async def ask(messages: list[dict[str, Any]]) -> str:
            from casebank.check import JUDGE_PROMPT_VERSION

            try:
                target = self._target(name)
            except UserError as err:
                raise JudgeError(err.message + "".join(f"; {p.render()}" for p in err.problems)) from None
            body = target.request_body(messages)
            reply, _ = await target.complete(body, self._ctx,
                                             {"judge_prompt_version": JUDGE_PROMPT_VERSION})
            if not reply.ok:
                raise JudgeError(f"judge {name}: {reply.error}")
            try:
                return _message(reply.data).get("content") or ""
            except ValueError as exc:
                raise JudgeError(f"judge {name}: response is not a chat completion: {exc}") from None

        return ask

    def all(self) -> dict[str, JudgeFn]:
        return {name: self.judge(name) for name in self.names()}


def standalone_judge(targets: dict[str, Any], name: str, *, root: Path = Path("."),
                     cache_dir: Path | None = None) -> JudgeFn:
    """A judge callable outside a run (for tools and tests): each call opens its own
    connection pool, with the default retry policy; ``cache_dir`` caches its answers."""
    async def ask(messages: list[dict[str, Any]]) -> str:
        stats = RunnerStats()
        transport = Transport(AimdLimiter(4), RetryPolicy(), stats)
        ctx = RunContext(transport, ResponseCache(cache_dir, stats), stats, root)
        try:
            return await Judges(targets, ctx, config_path="casebank.yaml", run_settings={}).judge(name)(messages)
        finally:
            await ctx.cache.flush()
            await transport.aclose()

    return ask
