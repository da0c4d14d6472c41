"""``kind: http``: the team's own agent service. casebank POSTs the case, the service runs its
agent (answering tool calls from the scripted results it was sent) and returns the final
output and the trajectory. The contract is in docs/targets.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from casebank.bank.case import Case
from casebank.run.agent_json import case_request, refuse_unusable, sample_from_response
from casebank.run.sample import SampleOutput
from casebank.run.targets.base import (
    RunContext,
    TargetSource,
    api_key_from_env,
    cache_identity,
    compute_cost,
)
from casebank.run.transport import HttpReply

DEFAULT_TIMEOUT_S = 120.0


@dataclass
class HttpTarget:
    name: str
    url: str
    model: str | None = None  # a label for the agent version, part of the fingerprint
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S
    prices: dict[str, float] | None = None
    api_key_env: str | None = None
    _api_key: str | None = field(default=None, repr=False)
    kind: str = "http"

    def fingerprint(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "base_url": self.url, "model": self.model,
                "params": self.params}

    async def run(self, case: Case, sample: int, ctx: RunContext) -> SampleOutput:
        body = case_request(case, sample, self.params)
        headers = dict(self.headers)
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        secrets = (self._api_key,) if self._api_key else ()
        parts = {"target": cache_identity(self.fingerprint()), "request": body, "sample": sample}

        async def fetch() -> HttpReply:
            return refuse_unusable(await ctx.transport.post_json(
                self.url, body, timeout_s=self.timeout_s, headers=headers, secrets=secrets), sample)

        reply, cached = await ctx.cache.get(parts, fetch)
        if reply.data is None:  # no answer at all (HTTP error, timeout, not JSON)
            return SampleOutput(index=sample, error=reply.error, error_kind=reply.error_kind,
                                request=body, attempts=reply.attempts, latency_ms=reply.latency_ms)
        out = sample_from_response(reply.data, sample, round(reply.latency_ms, 3))
        out.request = body
        out.cached = cached
        out.attempts = max(1, reply.attempts)
        if out.usage is not None:
            out.cost = compute_cost(out.usage.prompt_tokens, out.usage.completion_tokens, self.prices)
        return out


def from_config(source: TargetSource, raw: dict[str, Any], defaults: dict[str, Any]) -> HttpTarget:
    key_env = raw.get("api_key_env")
    key = api_key_from_env(source, key_env)
    return HttpTarget(
        name=source.name, url=raw["url"], model=raw.get("model"),
        params=dict(raw.get("params") or {}), headers=dict(raw.get("headers") or {}),
        timeout_s=float(raw.get("timeout_s") or defaults.get("timeout_s") or DEFAULT_TIMEOUT_S),
        prices=raw.get("prices"), api_key_env=key_env, _api_key=key)
