"""``kind: openai``: any OpenAI-compatible ``/v1/chat/completions`` endpoint, driven as an agent.

The agent loop: send the conversation with the case's tools as function definitions; when
the model calls tools, answer each call from the case's script (``casebank.run.tools``) and
send the answers back; when it answers in text while the case still has scripted
``user_replies``, send the next one as the user. Stop at a text answer with nothing left to
say, or after ``max_steps`` model turns (then ``final=False``). Every turn is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from casebank.bank.case import Case, Tool
from casebank.run.sample import SampleOutput, ToolCall, Turn, Usage
from casebank.run.targets.base import (
    RunContext,
    TargetSource,
    api_key_from_env,
    cache_identity,
    compute_cost,
)
from casebank.run.tools import answer_tool_call
from casebank.run.transport import PROTOCOL, HttpReply

DEFAULT_TIMEOUT_S = 60.0


@dataclass
class OpenAITarget:
    name: str
    base_url: str
    model: str
    params: dict[str, Any] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S
    prices: dict[str, float] | None = None
    api_key_env: str | None = None
    _api_key: str | None = field(default=None, repr=False)  # read from the environment, never kept elsewhere
    kind: str = "openai"

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    def fingerprint(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "base_url": self.base_url,
                "model": self.model, "params": self.params}

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._api_key,) if self._api_key else ()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def request_body(self, messages: list[dict[str, Any]], tools: tuple[Tool, ...] = ()) -> dict[str, Any]:
        body: dict[str, Any] = {**self.params, "model": self.model, "messages": messages}
        if tools:
            body["tools"] = [{"type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": t.parameters}}
                for t in tools]
        return body

    async def complete(self, body: dict[str, Any], ctx: RunContext,
                       key_extra: dict[str, Any]) -> tuple[HttpReply, bool]:
        """One chat completion through the cache: (reply, cached). A reply that is no chat
        completion is an error (``PROTOCOL``), never cached."""
        parts = {"target": cache_identity(self.fingerprint()), "request": body, **key_extra}

        async def fetch() -> HttpReply:
            reply = await ctx.transport.post_json(self.url, body, timeout_s=self.timeout_s,
                                                  headers=self._headers(), secrets=self.secrets)
            if reply.ok:
                try:
                    _message(reply.data)
                except ValueError as exc:
                    reply.error = f"response is not a chat completion: {exc}"
                    reply.error_kind = PROTOCOL
            return reply

        return await ctx.cache.get(parts, fetch)

    async def run(self, case: Case, sample: int, ctx: RunContext) -> SampleOutput:
        return await AgentLoop(self, case, sample, ctx).run()


def _message(data: Any) -> dict[str, Any]:
    """``choices[0].message`` of a chat completion, or ValueError saying what is wrong."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ValueError("no choices[0] in the response")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise ValueError("no choices[0].message in the response")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise ValueError("choices[0].message.content is not a string")
    calls = message.get("tool_calls") or []
    if not isinstance(calls, list) or not all(
            isinstance(c, dict) and isinstance(c.get("function"), dict)
            and isinstance(c["function"].get("name"), str) for c in calls):
        raise ValueError("choices[0].message.tool_calls is not a list of function calls")
    return message


def _add_usage(total: list[int | None], data: Any) -> None:
    usage = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(usage, dict):
        return
    for i, name in enumerate(("prompt_tokens", "completion_tokens", "total_tokens")):
        value = usage.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            total[i] = (total[i] or 0) + value


class AgentLoop:
    """One sample of one case against an OpenAI-compatible model (see the module docstring)."""

    def __init__(self, target: OpenAITarget, case: Case, sample: int, ctx: RunContext) -> None:
        self.target = target
        self.case = case
        self.sample = sample
        self.ctx = ctx
        self.tools = {t.name: t for t in case.input.tools}
        self.replies = list(case.input.user_replies)
        self.trajectory: list[Turn] = []
        self.usage: list[int | None] = [None, None, None]
        self.latency_ms = 0.0
        self.attempts = 1
        self.all_cached = True
        self.calls = 0
        messages: list[dict[str, Any]] = []
        if case.input.system:
            messages.append({"role": "system", "content": case.input.system})
        messages.extend({"role": m.role, "content": m.content} for m in case.input.messages)
        self.messages = messages
        self.first_len = len(messages)  # the request as the case states it, for the evidence

    def _output(self, **values: Any) -> SampleOutput:
        usage = None
        if any(v is not None for v in self.usage):
            usage = Usage(*self.usage)
        return SampleOutput(
            index=self.sample, trajectory=self.trajectory, usage=usage,
            latency_ms=round(self.latency_ms, 3), attempts=self.attempts,
            request=self.target.request_body(self.messages[: self.first_len], self.case.input.tools),
            cached=self.all_cached, steps=max((t.step for t in self.trajectory), default=0),
            cost=compute_cost(usage.prompt_tokens if usage else None,
                              usage.completion_tokens if usage else None, self.target.prices),
            **values)

    async def run(self) -> SampleOutput:
        last_text: str | None = None
        for step in range(1, max(1, self.case.input.max_steps) + 1):
            body = self.target.request_body(self.messages, self.case.input.tools)
            reply, cached = await self.target.complete(body, self.ctx, {"sample": self.sample})
            self.all_cached = self.all_cached and cached
            self.attempts = max(self.attempts, reply.attempts)
            self.latency_ms += reply.latency_ms
            if not reply.ok:
                return self._output(error=f"{reply.error} (model turn {step})",
                                    error_kind=reply.error_kind, final=False)
            try:
                message = _message(reply.data)
            except ValueError as exc:
                return self._output(error=f"response is not a chat completion: {exc} (model turn {step})",
                                    error_kind=PROTOCOL, final=False)
            _add_usage(self.usage, reply.data)
            text = message.get("content")
            if text:
                last_text = text
            raw_calls = message.get("tool_calls") or []
            if raw_calls:
                self._answer_calls(step, text, raw_calls)
                continue
            self.trajectory.append(Turn(role="assistant", content=text, step=step))
            self.messages.append({"role": "assistant", "content": text or ""})
            if self.replies:
                reply_text = self.replies.pop(0)
                self.trajectory.append(Turn(role="user", content=reply_text, step=step))
                self.messages.append({"role": "user", "content": reply_text})
                continue
            return self._output(output=text or "", final=True)
        return self._output(output=last_text, final=False)

    def _answer_calls(self, step: int, text: str | None, raw_calls: list[dict[str, Any]]) -> None:
        calls: list[ToolCall] = []
        sent_calls: list[dict[str, Any]] = []
        answers: list[dict[str, Any]] = []
        for raw in raw_calls:
            function = raw["function"]
            call_id = raw.get("id") or f"call_{self.calls}"
            answer = answer_tool_call(self.tools, function["name"], function.get("arguments"))
            calls.append(ToolCall(index=self.calls, step=step, name=function["name"],
                                  arguments=answer.arguments, result=answer.result,
                                  error=answer.error, id=call_id))
            sent_calls.append({"id": call_id, "type": "function",
                               "function": {"name": function["name"],
                                            "arguments": function.get("arguments") or ""}})
            answers.append({"role": "tool", "tool_call_id": call_id, "content": answer.content()})
            self.calls += 1
        self.trajectory.append(Turn(role="assistant", content=text, tool_calls=tuple(calls), step=step))
        self.messages.append({"role": "assistant", "content": text, "tool_calls": sent_calls})
        self.messages.extend(answers)


def from_config(source: TargetSource, raw: dict[str, Any], defaults: dict[str, Any]) -> OpenAITarget:
    """Build the target from its ``targets:`` entry (already schema-valid)."""
    key_env = raw.get("api_key_env")
    key = api_key_from_env(source, key_env)
    return OpenAITarget(
        name=source.name, base_url=raw["base_url"], model=raw["model"],
        params=dict(raw.get("params") or {}),
        timeout_s=float(raw.get("timeout_s") or defaults.get("timeout_s") or DEFAULT_TIMEOUT_S),
        prices=raw.get("prices"), api_key_env=key_env, _api_key=key)
