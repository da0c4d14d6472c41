"""tool_order: each listed tool is first called before the next one (in an earlier step)."""

from __future__ import annotations

from typing import Any

from casebank.check.describe import call_evidence, calls_made, show_call
from casebank.check.kind import ArgProblem, CheckKind, Env, Outcome, Subject, failed, passed
from casebank.check.toolnames import unknown_tool, unknown_tool_problems
from casebank.run.sample import ToolCall


def _first_calls(subject: Subject, tools: list[str]) -> dict[str, ToolCall]:
    first: dict[str, ToolCall] = {}
    for call in subject.sample.tool_calls:
        if call.name in tools and call.name not in first:
            first[call.name] = call
    return first


def check_tool_order(args: Any, subject: Subject) -> Outcome:
    tools: list[str] = list(args)
    for tool in tools:
        if (problem := unknown_tool(tool, subject)) is not None:
            return problem
    first = _first_calls(subject, tools)
    evidence = {"order": tools, "first_calls": {t: call_evidence(c) for t, c in first.items()}}
    for before, after in zip(tools, tools[1:]):
        a, b = first.get(before), first.get(after)
        if a is None:
            then = f", but {show_call(b)} was" if b else ""
            return failed(f"`{before}` was never called{then}; the case requires `{before}` "
                          f"before `{after}` ({calls_made(subject.sample)})", **evidence)
        if b is None:
            return failed(f"`{after}` was never called; the case requires it after `{before}` "
                          f"(first called at step {a.step}) ({calls_made(subject.sample)})",
                          **evidence)
        if b.index < a.index:
            return failed(f"{show_call(b)} was called before `{before}` (first called at step "
                          f"{a.step}); the case requires `{before}` first", **evidence)
        # Calls issued in the same model turn run blind to each other's results: a lookup in
        # the same step as the refund could not have informed it.
        if b.step == a.step and a.step > 0:
            return failed(f"{show_call(b)} was called in the same step as `{before}`, so it "
                          f"could not use `{before}`'s result; the case requires `{before}` "
                          f"in an earlier step", **evidence)
    steps = ", ".join(f"`{t}` (step {first[t].step})" for t in tools)
    return passed(f"tools were called in the required order: {steps}", **evidence)


def validate_tool_order(args: Any, env: Env) -> list[ArgProblem]:
    problems = []
    seen: set[str] = set()
    for i, tool in enumerate(args):
        if tool in seen:
            problems.append(ArgProblem((i,), f"`{tool}` is listed twice; list each tool once"))
        seen.add(tool)
    return problems + unknown_tool_problems([((i,), t) for i, t in enumerate(args)], env)


TOOL_ORDER = CheckKind("tool_order", "each tool's first call comes before the next tool's",
                       check_tool_order, validate_tool_order)
