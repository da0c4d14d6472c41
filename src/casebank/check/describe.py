"""How checks show values, calls and snippets of text in their messages."""

from __future__ import annotations

import json
from typing import Any

from casebank.run.sample import SampleOutput, ToolCall

MAX_SHOWN = 120


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def show(value: Any, limit: int = MAX_SHOWN) -> str:
    """A value as a person reads it in a message: strings bare, the rest as compact JSON."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
        except (TypeError, ValueError):
            text = repr(value)
    return f"`{shorten(text, limit)}`"


def show_call(call: ToolCall) -> str:
    """``\u0060issue_refund\u0060 (step 2) with {...}``: the call a message is about."""
    return f"`{call.name}` (step {call.step}) with {show(call.arguments)}"


def call_evidence(call: ToolCall) -> dict[str, Any]:
    return {"step": call.step, "index": call.index, "tool": call.name,
            "arguments": call.arguments, "result": call.result, "error": call.error}


def calls_made(sample: SampleOutput) -> str:
    """A short list of the calls made, for messages about calls that are missing."""
    calls = sample.tool_calls
    if not calls:
        return "no tool was called"
    shown = ", ".join(f"`{c.name}` (step {c.step})" for c in calls[:8])
    more = f" and {len(calls) - 8} more" if len(calls) > 8 else ""
    return f"calls made: {shown}{more}"


def snippet(text: str, start: int, end: int, context: int = 30, longest: int = 80) -> str:
    """The matched part of ``text`` with a little context, quoted; a match longer than
    ``longest`` characters is shown by its two ends and its length."""
    left = max(0, start - context)
    right = min(len(text), end + context)
    if end - start <= longest:
        piece, size = text[left:right], ""
    else:
        half = longest // 2
        piece = f"{text[left:start + half]} … {text[end - half:right]}"
        size = f" (a match of {end - start:,} characters)"
    piece = piece.replace("\n", " ")
    return f"\"{'…' if left else ''}{piece}{'…' if right < len(text) else ''}\"{size}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
