"""Answering the agent's tool calls with the case's scripted results.

The agent never reaches a real system: each call is answered by the first ``results``
entry of the tool whose ``when`` matches the arguments. Anything else (an unknown tool,
arguments that are not JSON or fail the tool's schema, no matching result) is answered
with an error the model can read, and the error is recorded on the ``ToolCall``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from casebank.check.re2_schema import validator_class

from casebank.bank.case import Tool
from casebank.run.transport import loads

_validators: dict[int, tuple[Tool, Draft202012Validator | None]] = {}


@dataclass(frozen=True)
class ToolAnswer:
    arguments: Any  # parsed arguments, or the raw string when they did not parse
    result: Any  # what the tool returned (None when ``error`` is set)
    error: str | None = None

    def content(self) -> str:
        """The tool message content sent back to the model."""
        if self.error is not None:
            return json.dumps({"error": self.error}, ensure_ascii=False)
        if isinstance(self.result, str):
            return self.result
        return json.dumps(self.result, ensure_ascii=False)


def _validator(tool: Tool) -> Draft202012Validator | None:
    cached = _validators.get(id(tool))
    if cached is not None and cached[0] is tool:
        return cached[1]
    try:
        # the tool's schema comes from a pull request and its patterns run on the model's
        # arguments: RE2, so no pattern can hang the run
        schema = tool.parameters or {}
        cls = validator_class(schema)
        cls.check_schema(schema)
        validator: Draft202012Validator | None = cls(schema)
    except SchemaError:
        validator = None  # the bank validator reports bad schemas; here we just don't check
    _validators[id(tool)] = (tool, validator)
    return validator


def _matches(when: dict[str, Any] | None, arguments: Any) -> bool:
    if when is None:
        return True
    if not isinstance(arguments, dict):
        return False
    return all(key in arguments and arguments[key] == value for key, value in when.items())


def _short(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def answer_tool_call(tools: dict[str, Tool], name: str, raw_arguments: Any) -> ToolAnswer:
    """Answer one tool call from the case's script (see the module docstring)."""
    arguments = raw_arguments
    if isinstance(raw_arguments, str):
        try:
            arguments = loads(raw_arguments) if raw_arguments.strip() else {}
        except ValueError as exc:
            why = f"{exc.msg} at character {exc.pos}" if isinstance(exc, json.JSONDecodeError) else exc
            return ToolAnswer(raw_arguments, None,
                              f"arguments of {name} are not valid JSON ({why}): {raw_arguments[:200]}")
    tool = tools.get(name)
    if tool is None:
        known = ", ".join(sorted(tools)) or "no tools"
        return ToolAnswer(arguments, None, f"unknown tool {name!r}: this case defines {known}")
    validator = _validator(tool)
    if validator is not None:
        problems = sorted(validator.iter_errors(arguments), key=lambda e: list(e.absolute_path))
        if problems:
            first = problems[0]
            where = "/".join(str(p) for p in first.absolute_path)
            return ToolAnswer(arguments, None,
                              f"arguments of {name} do not match its parameters schema"
                              f"{' at ' + where if where else ''}: {first.message[:300]}")
    for scripted in tool.results:
        if _matches(scripted.when, arguments):
            return ToolAnswer(arguments, scripted.result)
    scripted_when = [_short(r.when) for r in tool.results if r.when is not None]
    hint = f"; the case scripts results for {', '.join(scripted_when)}" if scripted_when else ""
    return ToolAnswer(arguments, None,
                      f"no scripted result for {name} with arguments {_short(arguments)}{hint}")
