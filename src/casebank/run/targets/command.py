"""``kind: command``: run a program per sample; the case JSON goes to its stdin, the agent
response JSON comes back on its stdout (the same contract as ``http``, docs/targets.md).

A non-zero exit, a timeout or stdout that is not an agent response is an error outcome for
that sample, with the end of stderr kept in the message."""

from __future__ import annotations

import asyncio
import json
import shlex
import time
from dataclasses import dataclass, field
from typing import Any

from casebank.bank.case import Case
from casebank.run.agent_json import case_request, refuse_unusable, sample_from_response
from casebank.run.sample import SampleOutput
from casebank.run.targets.base import RunContext, TargetSource, cache_identity, compute_cost
from casebank.run.transport import HttpReply

DEFAULT_TIMEOUT_S = 120.0
STDERR_KEPT = 2000  # characters of stderr kept in an error message (the end: where errors are)


def _tail(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text if len(text) <= STDERR_KEPT else "…" + text[-STDERR_KEPT:]


@dataclass
class CommandTarget:
    name: str
    command: list[str]
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S
    prices: dict[str, float] | None = None
    cwd: str = "."
    kind: str = "command"

    def fingerprint(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "command": self.command, "model": self.model,
                "params": self.params}

    async def _execute(self, body: dict[str, Any], ctx: RunContext) -> HttpReply:
        async with ctx.transport.limiter:
            ctx.stats.requests += 1
            started = time.perf_counter()
            try:
                process = await asyncio.create_subprocess_exec(
                    *self.command, cwd=self.cwd, stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            except OSError as exc:
                return HttpReply(error=f"cannot start {shlex.join(self.command)}: {exc}",
                                 error_kind="target")
            try:
                stdout, stderr = await asyncio.wait_for(
                    process.communicate(json.dumps(body, ensure_ascii=False).encode()), self.timeout_s)
            except asyncio.TimeoutError:
                process.kill()
                _, stderr = await process.communicate()
                tail = _tail(stderr)
                return HttpReply(error=f"timeout after {self.timeout_s:g}s"
                                 + (f"; stderr: {tail}" if tail else ""), error_kind="timeout")
            except BaseException:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
                raise
            latency_ms = (time.perf_counter() - started) * 1000
        if process.returncode != 0:
            tail = _tail(stderr)
            return HttpReply(error=f"command exited with status {process.returncode}"
                             + (f"; stderr: {tail}" if tail else " (no stderr)"),
                             error_kind="target", latency_ms=latency_ms)
        try:
            data = json.loads(stdout)
        except ValueError as exc:
            tail = _tail(stderr)
            return HttpReply(error=f"stdout is not JSON ({exc}): {_tail(stdout)[:200]}"
                             + (f"; stderr: {tail}" if tail else ""),
                             error_kind="protocol", latency_ms=latency_ms)
        return HttpReply(data=data, status=0, latency_ms=latency_ms)

    async def run(self, case: Case, sample: int, ctx: RunContext) -> SampleOutput:
        body = case_request(case, sample, self.params)
        parts = {"target": cache_identity(self.fingerprint()), "request": body, "sample": sample}
        async def fetch() -> HttpReply:
            return refuse_unusable(await self._execute(body, ctx), sample)

        reply, cached = await ctx.cache.get(parts, fetch)
        if reply.data is None:  # no answer at all (exit status, timeout, not JSON)
            return SampleOutput(index=sample, error=reply.error, error_kind=reply.error_kind,
                                request=body, latency_ms=round(reply.latency_ms, 3))
        out = sample_from_response(reply.data, sample, round(reply.latency_ms, 3))
        out.request = body
        out.cached = cached
        if out.usage is not None:
            out.cost = compute_cost(out.usage.prompt_tokens, out.usage.completion_tokens, self.prices)
        return out


def from_config(source: TargetSource, raw: dict[str, Any], defaults: dict[str, Any]) -> CommandTarget:
    command = raw["command"]
    argv = shlex.split(command) if isinstance(command, str) else [str(part) for part in command]
    if not argv:
        raise source.problem("command", "the command is empty")
    return CommandTarget(
        name=source.name, command=argv, model=raw.get("model"),
        params=dict(raw.get("params") or {}),
        timeout_s=float(raw.get("timeout_s") or defaults.get("timeout_s") or DEFAULT_TIMEOUT_S),
        prices=raw.get("prices"), cwd=str(defaults.get("root", ".")))
