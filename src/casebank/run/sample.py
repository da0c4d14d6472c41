"""What one sample of a case produced: the output, the tool trajectory, usage, or an error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolCall:
    """One tool call the agent made, with the scripted result it got back.

    ``step`` is the 1-based model turn that issued the call; ``index`` is the 0-based
    position of the call in the whole trajectory. ``error`` is set when the call was
    unscripted, named an unknown tool or had arguments that failed the tool's schema.
    """

    index: int
    step: int
    name: str
    arguments: Any  # parsed JSON (dict) or the raw string when it did not parse
    result: Any = None
    error: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class Turn:
    """One entry of the trajectory, in order: assistant message, tool call, or user reply."""

    role: str  # assistant | tool | user
    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    step: int = 0


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


@dataclass
class SampleOutput:
    """What the target returned for one sample. ``error`` set means no trustworthy output."""

    index: int
    output: str | None = None
    trajectory: list[Turn] = field(default_factory=list)
    usage: Usage | None = None
    latency_ms: float | None = None
    error: str | None = None  # e.g. "timeout after 30s", "HTTP 500 after 3 attempts"
    error_kind: str | None = None  # timeout | http | connection | protocol | target | interrupted
    request: dict[str, Any] | None = None  # what was sent (never secrets)
    cached: bool = False
    attempts: int = 1
    steps: int = 0  # model turns used
    final: bool = True  # the model gave a final answer (False: step limit hit)
    cost: float | None = None

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [call for turn in self.trajectory for call in turn.tool_calls]
