"""The JSON a casebank run exchanges with agents it does not drive itself.

``http`` and ``command`` targets receive ``case_request(...)`` and answer with an agent
response; ``replay`` recordings hold the same response plus ``case`` and ``sample``. The
contract is documented in docs/targets.md.
"""

from __future__ import annotations

from typing import Any

from casebank.bank.case import Case
from casebank.run.sample import SampleOutput, ToolCall, Turn, Usage
from casebank.run.transport import HttpReply

PROTOCOL = "protocol"
TARGET = "target"


def case_request(case: Case, sample: int, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """What an agent service or command receives for one sample of a case."""
    return {
        "case": case.id,
        "sample": sample,
        "input": {
            "system": case.input.system,
            "messages": [{"role": m.role, "content": m.content} for m in case.input.messages],
            "tools": [
                {"name": t.name, "description": t.description, "parameters": t.parameters,
                 "destructive": t.destructive,
                 "results": [{"when": r.when, "result": r.result} for r in t.results]}
                for t in case.input.tools
            ],
            "max_steps": case.input.max_steps,
            "user_replies": list(case.input.user_replies),
        },
        "params": params or {},
    }


class ShapeError(ValueError):
    """The agent's JSON is not an agent response; the message says what is wrong."""


def _usage(raw: Any) -> Usage | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ShapeError(f"usage must be an object, not {type(raw).__name__}")
    values = {}
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = raw.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ShapeError(f"usage.{name} must be an integer, not {value!r}")
        values[name] = value
    if values["total_tokens"] is None and None not in (values["prompt_tokens"], values["completion_tokens"]):
        values["total_tokens"] = values["prompt_tokens"] + values["completion_tokens"]
    return Usage(**values)


def _trajectory(raw: Any) -> list[Turn]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ShapeError(f"trajectory must be a list, not {type(raw).__name__}")
    turns: list[Turn] = []
    index = 0
    step = 0
    for position, entry in enumerate(raw):
        if not isinstance(entry, dict) or entry.get("role") not in ("assistant", "tool", "user"):
            raise ShapeError(f"trajectory[{position}] must be an object with role "
                             "assistant, tool or user")
        content = entry.get("content")
        if content is not None and not isinstance(content, str):
            raise ShapeError(f"trajectory[{position}].content must be a string or null")
        if entry["role"] == "assistant":
            step = entry.get("step") or step + 1
        calls = []
        for number, call in enumerate(entry.get("tool_calls") or ()):
            if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                raise ShapeError(f"trajectory[{position}].tool_calls[{number}] needs a name")
            calls.append(ToolCall(index=index, step=entry.get("step") or step, name=call["name"],
                                  arguments=call.get("arguments"), result=call.get("result"),
                                  error=call.get("error"), id=call.get("id")))
            index += 1
        turns.append(Turn(role=entry["role"], content=content, tool_calls=tuple(calls),
                          step=entry.get("step") or step))
    return turns


def sample_from_response(doc: Any, sample: int, latency_ms: float | None) -> SampleOutput:
    """A ``SampleOutput`` from an agent response; a wrong shape becomes a protocol error."""
    try:
        if not isinstance(doc, dict):
            raise ShapeError(f"expected a JSON object, got {type(doc).__name__}")
        error = doc.get("error")
        if error is not None:
            return SampleOutput(index=sample, error=f"the agent reported an error: {error}",
                                error_kind=TARGET, latency_ms=latency_ms,
                                trajectory=_trajectory(doc.get("trajectory")))
        if "output" not in doc:
            raise ShapeError("missing \"output\" (the agent's final answer, a string)")
        output = doc["output"]
        if output is not None and not isinstance(output, str):
            raise ShapeError(f"\"output\" must be a string, not {type(output).__name__}")
        trajectory = _trajectory(doc.get("trajectory"))
        usage = _usage(doc.get("usage"))
        recorded_latency = doc.get("latency_ms")
        if isinstance(recorded_latency, int | float) and not isinstance(recorded_latency, bool):
            latency_ms = float(recorded_latency)
        steps = doc.get("steps")
        if not isinstance(steps, int):
            steps = max((t.step for t in trajectory), default=0)
        return SampleOutput(index=sample, output=output, trajectory=trajectory, usage=usage,
                            latency_ms=latency_ms, steps=steps, final=bool(doc.get("final", True)))
    except ShapeError as exc:
        return SampleOutput(index=sample, error=f"agent response has the wrong shape: {exc}",
                            error_kind=PROTOCOL, latency_ms=latency_ms)


def refuse_unusable(reply: HttpReply, sample: int) -> HttpReply:
    """``reply`` marked as an error when its JSON is no usable agent response (a wrong shape,
    or the agent reporting an error), so the cache never keeps it: a re-run asks again. Its
    data stays, for the sample to record what the agent said."""
    if reply.ok:
        out = sample_from_response(reply.data, sample, None)
        if out.error is not None:
            reply.error, reply.error_kind = out.error, out.error_kind
    return reply
