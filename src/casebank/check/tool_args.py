"""tool_args: the arguments of calls to a tool equal / match / are one of / satisfy a schema."""

from __future__ import annotations

from typing import Any

from casebank.check.describe import call_evidence, calls_made, show
from casebank.check.kind import ArgProblem, CheckKind, Env, Outcome, Subject, failed, passed
from casebank.check.patterns import pattern_problem, search
from casebank.check.structured import schema_failures, schema_problem
from casebank.check.toolnames import unknown_tool, unknown_tool_problems
from casebank.check.values import one_of, same
from casebank.run.sample import ToolCall

MAX_LISTED = 5
MISSING = object()


def requirement(matcher: dict[str, Any]) -> str:
    """What the case requires of one argument, in words."""
    parts = []
    if "equals" in matcher:
        parts.append(show(matcher["equals"]))
    if "one_of" in matcher:
        parts.append("one of " + ", ".join(show(v) for v in matcher["one_of"]))
    if "matches" in matcher:
        parts.append(f"a value matching {show(matcher['matches'])}")
    if "schema" in matcher:
        parts.append(f"a value satisfying the schema {show(matcher['schema'])}")
    return " and ".join(parts)


def _why_not(value: Any, matcher: dict[str, Any]) -> str | None:
    """None when ``value`` satisfies every condition of ``matcher``, else what is wrong."""
    if "equals" in matcher and not same(value, matcher["equals"]):
        return f"the case requires {show(matcher['equals'])}"
    if "one_of" in matcher and not one_of(value, matcher["one_of"]):
        return "the case requires one of " + ", ".join(show(v) for v in matcher["one_of"])
    if "matches" in matcher:
        if not isinstance(value, str):
            return f"the case requires a string matching {show(matcher['matches'])}"
        if search(matcher["matches"], value) is None:
            return f"the case requires a value matching {show(matcher['matches'])}"
    if "schema" in matcher:
        failures = schema_failures(matcher["schema"], value)
        if failures:
            return f"the case requires a value satisfying its schema: {failures[0]}"
    return None


def mismatch(call: ToolCall, wanted: dict[str, dict[str, Any]]) -> str | None:
    """The first way ``call``'s arguments break the case's rules, as a full sentence."""
    arguments = call.arguments
    if not isinstance(arguments, dict):
        first = next(iter(wanted))
        return (f"`{call.name}` was called with arguments that are not a JSON object (step "
                f"{call.step}): {show(arguments)}; the case requires `{first}` = "
                f"{requirement(wanted[first])}")
    for name, matcher in wanted.items():
        value = arguments.get(name, MISSING)
        if value is MISSING:
            return (f"`{call.name}` was called without `{name}` (step {call.step}); the case "
                    f"requires {requirement(matcher)}")
        why = _why_not(value, matcher)
        if why is not None:
            return (f"`{call.name}` was called with `{name}` = {show(value)} (step {call.step}); "
                    f"{why}")
    return None


def _summary(wanted: dict[str, dict[str, Any]]) -> str:
    return ", ".join(f"`{name}` = {requirement(m)}" for name, m in wanted.items())


def check_tool_args(args: Any, subject: Subject) -> Outcome:
    tool, which, wanted = args["tool"], args.get("call", "every"), args["args"]
    if (problem := unknown_tool(tool, subject)) is not None:
        return problem
    calls = [c for c in subject.sample.tool_calls if c.name == tool]
    evidence: dict[str, Any] = {"tool": tool, "call": which,
                                "calls": [call_evidence(c) for c in calls[:MAX_LISTED]]}
    if not calls:
        return failed(f"`{tool}` was never called, so its arguments could not be checked; the case "
                      f"requires a call with {_summary(wanted)} ({calls_made(subject.sample)})",
                      **evidence)
    if which == "first":
        calls = calls[:1]
    problems = [(c, why) for c in calls if (why := mismatch(c, wanted)) is not None]
    evidence["wrong"] = [{"step": c.step, "index": c.index, "why": why} for c, why in problems]
    steps = ", ".join(str(c.step) for c in calls)
    if which == "any":
        if len(problems) < len(calls):
            good = next(c for c in calls if all(c is not bad for bad, _ in problems))
            return passed(f"`{tool}` was called with {_summary(wanted)} (step {good.step})",
                          **evidence)
        listed = "; ".join(why for _, why in problems[:MAX_LISTED])
        return failed(f"no call to `{tool}` had the required arguments: {listed}", **evidence)
    if problems:
        extra = (f" ({len(problems)} of {len(calls)} calls are wrong)" if len(problems) > 1
                 else "")
        return failed(problems[0][1] + extra, **evidence)
    which_calls = "the first call" if which == "first" else (
        "the call" if len(calls) == 1 else "every call")
    return passed(f"{which_calls} to `{tool}` (step{'s' if len(calls) > 1 else ''} {steps}) had "
                  f"{_summary(wanted)}", **evidence)


def validate_tool_args(args: Any, env: Env) -> list[ArgProblem]:
    problems = unknown_tool_problems([(("tool",), args["tool"])], env)
    for name, matcher in args["args"].items():
        if "matches" in matcher:
            problem = pattern_problem(matcher["matches"])
            if problem:
                problems.append(ArgProblem(("args", name, "matches"), problem[0], problem[1]))
        if "schema" in matcher:
            problem = schema_problem(matcher["schema"])
            if problem:
                problems.append(ArgProblem(("args", name, "schema"), problem))
    return problems


TOOL_ARGS = CheckKind("tool_args", "calls to a tool had the required arguments",
                      check_tool_args, validate_tool_args)
