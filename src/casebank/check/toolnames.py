"""Shared by the tool-policy checks: is a named tool one the case defines?"""

from __future__ import annotations

import difflib

from casebank.check.kind import ArgProblem, Env, Outcome, Subject, errored


def did_you_mean(name: str, known: list[str] | set[str] | frozenset[str]) -> str | None:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def unknown_tool_problems(names: list[tuple[tuple[str | int, ...], str]],
                          env: Env) -> list[ArgProblem]:
    """Problems for tool names the case does not define (only when the tools are known)."""
    if not env.tools:
        return []
    return [ArgProblem(field, f"the case defines no tool `{name}` (its tools: "
                       f"{', '.join(sorted(env.tools))})", did_you_mean(name, env.tools))
            for field, name in names if name not in env.tools]


def unknown_tool(name: str, subject: Subject) -> Outcome | None:
    """An error when the case lists its tools and ``name`` is not one of them.

    A misspelt tool name would make ``tool_not_called`` pass forever, so it is never
    treated as "not called". Cases without tools (an http agent with its own) skip this.
    """
    tools = [tool.name for tool in subject.case.input.tools]
    if not tools or name in tools:
        return None
    hint = did_you_mean(name, tools)
    return errored(f"the case defines no tool `{name}` (its tools: {', '.join(tools)})"
                   + (f"; {hint}" if hint else ""))
