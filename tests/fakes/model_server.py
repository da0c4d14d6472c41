"""A real OpenAI-compatible chat-completions server on 127.0.0.1, for tests and the bench.

Test infrastructure, not product. It speaks ``POST /v1/chat/completions`` over real HTTP
(aiohttp), answers from scripted **rules**, injects **faults**, and records every request.

In-process (runs in a background thread; use it from a pytest fixture)::

    from tests.fakes.model_server import Fault, ModelServer, Rule, call

    with ModelServer(latency_ms=0) as server:
        server.add_rule(Rule(user="refund", tool_calls=[call("lookup_order", order_id="A-1042")]))
        server.add_rule(Rule(last="tool", tool_result="acct_personal_77",
                             tool_calls=[call("issue_refund", account_id="acct_personal_77")]))
        server.add_rule(Rule(last="tool", reply="Your refund R-5521 is on its way."))
        server.add_fault(Fault("status", status=429, retry_after="0", times=2))
        base_url = server.url          # "http://127.0.0.1:PORT/v1", an openai target's base_url
        ...                            # run casebank against it
        assert server.count == 5       # requests received (including faulted ones)
        server.requests[0].body        # the parsed JSON body of the first request

As a subprocess (the bench)::

    python -m tests.fakes.model_server --port 0 --latency-ms 50 [--script rules.json]

prints ``http://127.0.0.1:PORT/v1`` as its first stdout line and serves until killed.
``GET /stats`` returns ``{"count": N, "max_in_flight": M}``; ``POST /reset`` clears them.

Answering a request (the first match wins, in the order added):

1. **Faults** (``Fault``) with uses left whose conditions match: ``status`` (an HTTP error,
   optionally with ``Retry-After``), ``slow`` (wait ``delay_s`` then answer normally: use it
   to go past the client's timeout), ``drop`` (close the connection without a response),
   ``malformed`` (200 with a body that is not JSON), ``shape`` (200 with JSON that is not a
   chat completion, ``body`` or ``{"choices": []}``).
2. **Rules** (``Rule``) with uses left whose conditions match: the next assistant turn is
   ``tool_calls`` (a list of ``call(name, **arguments)``; pass a string as arguments to send
   them raw) and/or ``reply`` text, or whatever ``respond(body) -> message`` returns.
3. Otherwise the default reply: ``default_reply`` if set, else ``"echo: <last user message>"``.

Conditions, shared by rules and faults (all given ones must hold; regular expressions are
searched with ``re.search``, case-sensitive): ``system`` (the system prompt), ``user`` (the
last user message), ``tool_result`` (the content of the last tool message), ``last`` (role of
the last message: ``user`` / ``tool`` / ``assistant``), ``tool_called`` (a tool of that name
was already called in the conversation), ``model`` (exact model name), ``match(body) -> bool``.
``times`` limits how often a rule or fault is used (``None``: always).

Usage in responses is counted in words: prompt = words of all messages, completion = words
of the reply (+1 per tool call), so summed usage is predictable in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Body = dict[str, Any]


def call(name: str, arguments: str | None = None, /, **kwargs: Any) -> dict[str, Any]:
    """One scripted tool call: ``call("lookup_order", order_id="A-1042")``.

    Pass a string as the second positional argument to send raw (possibly invalid) arguments.
    """
    return {"name": name, "arguments": arguments if arguments is not None else json.dumps(kwargs)}


@dataclass(kw_only=True)
class _When:
    system: str | None = None
    user: str | None = None
    tool_result: str | None = None
    last: str | None = None
    tool_called: str | None = None
    model: str | None = None
    match: Callable[[Body], bool] | None = None
    times: int | None = None
    used: int = 0

    def matches(self, body: Body) -> bool:
        if self.times is not None and self.used >= self.times:
            return False
        messages = body.get("messages") or []
        if self.model is not None and body.get("model") != self.model:
            return False
        if self.system is not None and not re.search(self.system, _content(messages, "system", first=True)):
            return False
        if self.user is not None and not re.search(self.user, _content(messages, "user")):
            return False
        if self.tool_result is not None and not re.search(self.tool_result, _content(messages, "tool")):
            return False
        if self.last is not None and (not messages or messages[-1].get("role") != self.last):
            return False
        if self.tool_called is not None and self.tool_called not in _called_tools(messages):
            return False
        if self.match is not None and not self.match(body):
            return False
        return True


@dataclass
class Rule(_When):
    """The next assistant turn when the conditions match (see the module docstring)."""

    reply: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    respond: Callable[[Body], dict[str, Any]] | None = None

    def message(self, body: Body) -> dict[str, Any]:
        if self.respond is not None:
            return self.respond(body)
        message: dict[str, Any] = {"role": "assistant", "content": self.reply}
        if self.tool_calls:
            message["tool_calls"] = [
                {"id": f"call_{i}", "type": "function",
                 "function": {"name": c["name"], "arguments": c["arguments"]}}
                for i, c in enumerate(self.tool_calls)
            ]
        return message


FAULT_KINDS = ("status", "slow", "drop", "malformed", "shape")


@dataclass
class Fault(_When):
    """A failure injected instead of (or, for ``slow``, before) the normal answer."""

    kind: str = "status"
    status: int = 500
    retry_after: str | None = None
    body: Any = None
    delay_s: float = 5.0
    times: int | None = field(default=1, kw_only=True)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}, not {self.kind!r}")


@dataclass
class RecordedRequest:
    body: Body | None  # None when the body was not JSON
    headers: dict[str, str]
    in_flight: int  # requests being served when this one arrived (itself included)
    answer: str = ""  # "rule" | "default" | "fault:<kind>"
    at: float = field(default_factory=time.monotonic)


def _content(messages: list[dict[str, Any]], role: str, first: bool = False) -> str:
    found = [m for m in messages if m.get("role") == role]
    if not found:
        return ""
    content = (found[0] if first else found[-1]).get("content")
    return content if isinstance(content, str) else json.dumps(content)


def _called_tools(messages: list[dict[str, Any]]) -> set[str]:
    names = set()
    for m in messages:
        for c in m.get("tool_calls") or []:
            names.add((c.get("function") or {}).get("name"))
    return names


def _words(text: Any) -> int:
    return len(text.split()) if isinstance(text, str) else 0


class ModelServer:
    """The server; a context manager running it in a background thread (see module doc)."""

    def __init__(self, latency_ms: float = 0, host: str = "127.0.0.1", port: int = 0,
                 default_reply: str | None = None) -> None:
        self.latency_ms = latency_ms
        self.host = host
        self.port = port
        self.default_reply = default_reply
        self.rules: list[Rule] = []
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []
        self.record_requests = True
        self.count = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()

    # -- scripting -------------------------------------------------------------------------
    def add_rule(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def reset(self) -> None:
        """Forget rules, faults, recorded requests and counters."""
        with self._lock:
            self.rules.clear()
            self.faults.clear()
            self.requests.clear()
            self.count = 0
            self.max_in_flight = 0

    def load_script(self, script: dict[str, Any]) -> None:
        """Add rules and faults from JSON: ``{"rules": [{...Rule fields}], "faults": [...]}``."""
        for raw in script.get("rules", []):
            self.add_rule(Rule(**raw))
        for raw in script.get("faults", []):
            self.add_fault(Fault(**raw))

    @property
    def url(self) -> str:
        """Base URL for an openai target: ``http://127.0.0.1:PORT/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    # -- serving -----------------------------------------------------------------------------
    def _pick(self, body: Body) -> tuple[Fault | None, Rule | None]:
        with self._lock:
            for fault in self.faults:
                if fault.matches(body):
                    fault.used += 1
                    return fault, None
            for rule in self.rules:
                if rule.matches(body):
                    rule.used += 1
                    return None, rule
        return None, None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        with self._lock:
            self.count += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            record = RecordedRequest(body, dict(request.headers), self.in_flight)
            if self.record_requests:
                self.requests.append(record)
        try:
            if self.latency_ms:
                await asyncio.sleep(self.latency_ms / 1000)
            if not isinstance(body, dict):
                record.answer = "bad-request"
                return web.json_response({"error": {"message": "body is not a JSON object"}}, status=400)
            fault, rule = self._pick(body)
            if fault is not None:
                record.answer = f"fault:{fault.kind}"
                if fault.kind == "slow":
                    await asyncio.sleep(fault.delay_s)
                    fault_rule = self._pick_rule_only(body)
                    return self._completion(body, fault_rule)
                return self._fault_response(request, fault)
            record.answer = "rule" if rule else "default"
            return self._completion(body, rule)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _pick_rule_only(self, body: Body) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(body):
                    rule.used += 1
                    return rule
        return None

    def _fault_response(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.kind == "status":
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            payload = fault.body if fault.body is not None else {
                "error": {"message": f"injected HTTP {fault.status}", "type": "injected"}}
            return web.json_response(payload, status=fault.status, headers=headers)
        if fault.kind == "malformed":
            text = fault.body if isinstance(fault.body, str) else '{"choices": [{"message": '
            return web.Response(text=text, content_type="application/json")
        if fault.kind == "shape":
            payload = fault.body if fault.body is not None else {"choices": []}
            return web.json_response(payload)
        # drop: close the socket without answering
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=499)  # never reaches the client: the socket is gone

    def _completion(self, body: Body, rule: Rule | None) -> web.Response:
        messages = body.get("messages") or []
        if rule is not None:
            message = rule.message(body)
        else:
            text = self.default_reply
            if text is None:
                text = "echo: " + _content(messages, "user")
            message = {"role": "assistant", "content": text}
        prompt = sum(_words(m.get("content")) for m in messages)
        completion = _words(message.get("content")) + len(message.get("tool_calls") or [])
        payload = {
            "id": f"chatcmpl-{self.count}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "test-model"),
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion},
        }
        return web.Response(body=json.dumps(payload).encode(), content_type="application/json")

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response({"count": self.count, "max_in_flight": self.max_in_flight})

    async def _reset(self, request: web.Request) -> web.Response:
        with self._lock:
            self.count = 0
            self.max_in_flight = 0
            self.requests.clear()
        return web.json_response({"ok": True})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/stats", self._stats)
        app.router.add_post("/reset", self._reset)
        return app

    async def start(self) -> None:
        """Start serving on the current event loop (sets ``port`` when it was 0)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False,
                                     handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.SockSite(self._runner, sock, backlog=1024).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def __enter__(self) -> ModelServer:
        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start())
            self._ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=serve, name="model-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("model server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="OpenAI-compatible test model server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--default-reply", default=None)
    parser.add_argument("--script", default=None, help="JSON file with rules and faults")
    parser.add_argument("--no-record", action="store_true", help="count requests but keep no bodies")
    args = parser.parse_args(argv)
    server = ModelServer(latency_ms=args.latency_ms, port=args.port, default_reply=args.default_reply)
    server.record_requests = not args.no_record
    if args.script:
        with open(args.script, encoding="utf-8") as fh:
            server.load_script(json.load(fh))

    async def serve() -> None:
        await server.start()
        print(server.url, flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
