"""Tool-use checks: tool_called, tool_not_called, max_tool_calls, max_steps, no_tool_after_final."""

from __future__ import annotations

from typing import Any

from casebank.check.describe import call_evidence, calls_made, ordinal, plural, show_call
from casebank.check.kind import ArgProblem, CheckKind, Env, Outcome, Subject, failed, passed
from casebank.check.toolnames import unknown_tool, unknown_tool_problems

MAX_LISTED = 5


def _bounds(args: Any) -> tuple[str, int, int | None]:
    if isinstance(args, str):
        return args, 1, None
    return args["tool"], args.get("min", 1), args.get("max")


def _tool_name(args: Any) -> str:
    return args if isinstance(args, str) else args["tool"]


def _name_field(args: Any) -> tuple[str | int, ...]:
    return ("tool",) if isinstance(args, dict) else ()


def validate_tool_called(args: Any, env: Env) -> list[ArgProblem]:
    tool, low, high = _bounds(args)
    problems = unknown_tool_problems([(_name_field(args), tool)], env)
    if high is not None and low > high:
        problems.append(ArgProblem((), f"`min` ({low}) is greater than `max` ({high}): no run "
                                       f"could pass"))
    return problems


def validate_tool_name(args: Any, env: Env) -> list[ArgProblem]:
    return unknown_tool_problems([(_name_field(args), _tool_name(args))], env)


def _steps(calls: list[Any]) -> str:
    return ", ".join(f"step {c.step}" for c in calls)


def check_tool_called(args: Any, subject: Subject) -> Outcome:
    tool, low, high = _bounds(args)
    if (problem := unknown_tool(tool, subject)) is not None:
        return problem
    calls = [c for c in subject.sample.tool_calls if c.name == tool]
    evidence = {"tool": tool, "count": len(calls), "min": low, "max": high,
                "calls": [call_evidence(c) for c in calls[:MAX_LISTED]]}
    if len(calls) < low:
        if not calls:
            return failed(f"`{tool}` was never called; the case requires "
                          f"{'it' if low == 1 else f'at least {low} calls'} "
                          f"({calls_made(subject.sample)})", **evidence)
        return failed(f"`{tool}` was called {plural(len(calls), 'time')} ({_steps(calls)}); "
                      f"the case requires at least {low}", **evidence)
    if high is not None and len(calls) > high:
        extra = calls[high]
        return failed(f"`{tool}` was called {plural(len(calls), 'time')}; the case allows at most "
                      f"{high}: the {ordinal(high + 1)} call was {show_call(extra)}", **evidence)
    where = f" ({_steps(calls)})" if calls else ""
    return passed(f"`{tool}` was called {plural(len(calls), 'time')}{where}", **evidence)


def check_tool_not_called(args: Any, subject: Subject) -> Outcome:
    tool = _tool_name(args)
    if (problem := unknown_tool(tool, subject)) is not None:
        return problem
    calls = [c for c in subject.sample.tool_calls if c.name == tool]
    evidence = {"tool": tool, "count": len(calls),
                "calls": [call_evidence(c) for c in calls[:MAX_LISTED]]}
    if not calls:
        return passed(f"`{tool}` was not called", **evidence)
    listed = "; ".join(show_call(c) for c in calls[:MAX_LISTED])
    more = f" and {len(calls) - MAX_LISTED} more" if len(calls) > MAX_LISTED else ""
    return failed(f"`{tool}` was called: {listed}{more}; the case forbids calling it", **evidence)


def check_max_tool_calls(args: Any, subject: Subject) -> Outcome:
    calls = subject.sample.tool_calls
    evidence = {"count": len(calls), "max": args}
    if len(calls) <= args:
        return passed(f"the agent made {plural(len(calls), 'tool call')} (at most {args})",
                      **evidence)
    extra = calls[args]
    return failed(f"the agent made {plural(len(calls), 'tool call')}; the case allows at most "
                  f"{args}: the {ordinal(args + 1)} was {show_call(extra)}",
                  first_extra=call_evidence(extra), **evidence)


def check_max_steps(args: Any, subject: Subject) -> Outcome:
    sample = subject.sample
    steps = max([sample.steps] + [turn.step for turn in sample.trajectory])
    evidence = {"steps": steps, "max": args}
    if steps <= args:
        return passed(f"the agent used {plural(steps, 'step')} (at most {args})", **evidence)
    over = [c for c in sample.tool_calls if c.step > args]
    detail = f": step {args + 1} called {show_call(over[0])}" if over else ""
    return failed(f"the agent used {plural(steps, 'step')}; the case allows at most {args}{detail}",
                  **evidence)


def check_no_tool_after_final(args: Any, subject: Subject) -> Outcome:
    """After a final answer (assistant text, no tool calls) no tool may be called until the
    user speaks again; and the run must end with a final answer, not mid-tool-use."""
    sample = subject.sample
    final_turn = None
    for turn in sample.trajectory:
        if turn.role == "user":
            final_turn = None
        elif turn.tool_calls and final_turn is not None:
            call = turn.tool_calls[0]
            answer = (final_turn.content or "").strip()
            return failed(f"{show_call(call)} was called after the final answer "
                          f"(step {final_turn.step}: \"{answer[:80]}\")",
                          call=call_evidence(call), final_step=final_turn.step)
        elif turn.role == "assistant" and not turn.tool_calls and (turn.content or "").strip():
            final_turn = turn
    calls = sample.tool_calls
    if not sample.final:
        last = f"; its last call was {show_call(calls[-1])}" if calls else ""
        return failed(f"the agent gave no final answer: it hit the step limit after "
                      f"{plural(sample.steps, 'step')}{last}", steps=sample.steps)
    return passed("no tool was called after the final answer")


TOOL_CALLED = CheckKind("tool_called", "a tool was called (optionally min / max times)",
                        check_tool_called, validate_tool_called)
TOOL_NOT_CALLED = CheckKind("tool_not_called", "a tool was never called", check_tool_not_called,
                            validate_tool_name)
MAX_TOOL_CALLS = CheckKind("max_tool_calls", "at most n tool calls in the whole run",
                           check_max_tool_calls)
MAX_STEPS = CheckKind("max_steps", "at most n model turns", check_max_steps)
NO_TOOL_AFTER_FINAL = CheckKind("no_tool_after_final",
                                "the run ends on a final answer and no tool is called after it",
                                check_no_tool_after_final)
