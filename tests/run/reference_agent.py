"""A tiny reference implementation of the agent contract of docs/targets.md.

It receives the case request (``case``, ``sample``, ``input`` with the scripted tools,
``params``) and answers ``{output, trajectory, usage}``. Its "agent" calls the first tool
with the arguments of that tool's first scripted ``when``, answers the call from the script,
and replies ``done: <result>``. Usable both ways:

- as a ``command`` target: ``python reference_agent.py`` (request on stdin, response on stdout);
- as an ``http`` target: ``python reference_agent.py --serve`` prints its URL and serves
  ``POST /agent``.

The last user message can ask for a failure, for the tests: ``crash`` (exit 3 with stderr),
``garbage`` (stdout is not JSON), ``sleep`` (takes 30 s), ``shape`` (``output`` is a number),
``refuse`` (reports ``error``).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def _scripted(tool: dict[str, Any], arguments: dict[str, Any]) -> Any:
    for entry in tool.get("results") or []:
        when = entry.get("when")
        if when is None or all(arguments.get(k) == v for k, v in when.items()):
            return entry.get("result")
    return {"error": "no scripted result"}


def respond(request: dict[str, Any]) -> dict[str, Any]:
    """The agent: one tool call (if the case has tools), then a final answer."""
    messages = request["input"]["messages"]
    last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    if "refuse" in last_user:
        return {"error": "the agent refused: policy engine unavailable"}
    if "shape" in last_user:
        return {"output": 42}
    trajectory: list[dict[str, Any]] = []
    answer = f"echo: {last_user} (sample {request['sample']})"
    tools = request["input"]["tools"]
    if tools:
        tool = tools[0]
        first = (tool.get("results") or [{}])[0]
        arguments = first.get("when") or {}
        result = _scripted(tool, arguments)
        trajectory.append({"role": "assistant", "content": None, "tool_calls": [
            {"name": tool["name"], "arguments": arguments, "result": result}]})
        answer = f"done: {json.dumps(result)}"
    trajectory.append({"role": "assistant", "content": answer})
    words = sum(len(str(m["content"]).split()) for m in messages)
    return {"output": answer, "trajectory": trajectory,
            "usage": {"prompt_tokens": words, "completion_tokens": len(answer.split())}}


def _command() -> int:
    request = json.load(sys.stdin)
    last_user = request["input"]["messages"][-1]["content"]
    if "crash" in last_user:
        print("Traceback: agent blew up on purpose", file=sys.stderr)
        return 3
    if "garbage" in last_user:
        print("this is not json")
        return 0
    if "sleep" in last_user:
        time.sleep(30)
    json.dump(respond(request), sys.stdout)
    return 0


def app() -> Any:
    from aiohttp import web

    async def agent(request: web.Request) -> web.Response:
        body = await request.json()
        last_user = body["input"]["messages"][-1]["content"]
        if "garbage" in last_user:
            return web.Response(text="<html>oops</html>", content_type="text/html")
        return web.json_response(respond(body))

    application = web.Application()
    application.router.add_post("/agent", agent)
    return application


if __name__ == "__main__":
    raise SystemExit(_command())
