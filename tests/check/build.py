"""Building cases and samples for check tests, and running one check on them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from casebank.bank.case import (Case, CaseInput, CheckSpec, Message, Position, ScriptedResult,
                                Source, Tool)
from casebank.check import CheckContext, CheckResult, run_checks
from casebank.check.context import files_under
from casebank.run.sample import SampleOutput, ToolCall, Turn, Usage

TOOLS = ("lookup_order", "issue_refund", "request_confirmation", "delete_account",
         "escalate_to_human")


def tool(name: str, destructive: bool = False) -> Tool:
    return Tool(name=name, description=f"{name} tool", parameters={"type": "object"},
                results=(ScriptedResult({"ok": True}),), destructive=destructive)


def make_case(*items: dict[str, Any], tools: tuple[str, ...] = TOOLS,
              destructive: tuple[str, ...] = ("issue_refund", "delete_account"),
              system: str | None = "You are a support agent.", judge: str | None = None,
              first_line: int = 40) -> Case:
    """A case whose ``expect:`` is ``items``; item i sits on line ``first_line + 3*i``."""
    specs = []
    positions = {}
    for i, item in enumerate(items):
        name = item.get("name")
        kind = next(k for k in item if k != "name")
        line = first_line + 3 * i
        specs.append(CheckSpec(kind, item[kind], i, line, name))
        positions[("expect", i)] = Position(line, 5)
    return Case(id="test-case", path="cases/test-case.yaml", title="a test case", severity="high",
                source=Source("incident"),
                input=CaseInput(system=system, messages=(Message("user", "Refund order A-1042"),),
                                tools=tuple(tool(t, t in destructive) for t in tools)),
                expect=tuple(specs), judge=judge, positions=positions)


class Agent:
    """Builds a trajectory the way the agent loop records it: one model turn per step."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []
        self.step = 0
        self.index = 0
        self.last_text: str | None = None

    def call(self, *calls: tuple[Any, ...], text: str | None = None) -> Agent:
        """One model turn calling these tools: ``(name, arguments[, result[, error]])``."""
        self.step += 1
        made = []
        for spec in calls:
            name, arguments = spec[0], spec[1]
            result = spec[2] if len(spec) > 2 else {"ok": True}
            error = spec[3] if len(spec) > 3 else None
            made.append(ToolCall(index=self.index, step=self.step, name=name, arguments=arguments,
                                 result=None if error else result, error=error))
            self.index += 1
        self.turns.append(Turn("assistant", text, tuple(made), self.step))
        return self

    def say(self, text: str) -> Agent:
        """One model turn answering in text."""
        self.step += 1
        self.turns.append(Turn("assistant", text, (), self.step))
        self.last_text = text
        return self

    def user(self, text: str) -> Agent:
        """The scripted user's reply to the assistant's last text."""
        self.turns.append(Turn("user", text, (), self.step))
        return self

    def sample(self, final: bool = True, **values: Any) -> SampleOutput:
        values.setdefault("output", self.last_text)
        return SampleOutput(index=0, trajectory=self.turns, steps=self.step, final=final, **values)


def text_sample(output: str | None, **values: Any) -> SampleOutput:
    return SampleOutput(index=0, output=output, **values)


def context(root: Path | None = None, **values: Any) -> CheckContext:
    root = root or Path(__file__).parent
    return CheckContext(root=root, read_file=files_under(root), **values)


def check(item: dict[str, Any], sample: SampleOutput, ctx: CheckContext | None = None,
          **case_values: Any) -> CheckResult:
    """Run one expect item on one sample (of a case built by ``make_case``)."""
    case = make_case(item, **case_values)
    (result,) = asyncio.run(run_checks(case, sample, ctx or context()))
    json.dumps(result.evidence, allow_nan=False)  # evidence goes into the JSON evidence file
    return result


def usage(prompt: int | None, completion: int | None, total: int | None = None) -> Usage:
    return Usage(prompt, completion, total)
