"""``kind: command``: run a program per sample; the case JSON goes to its stdin, the agent
response JSON comes back on its stdout (the same contract as ``http``, docs/targets.md).

A non-zero exit, a timeout or stdout that is not an agent response is an error outcome for
that sample, with the end of stderr kept in the message."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from casebank.bank.case import Case
from casebank.run.agent_json import case_request, refuse_unusable, sample_from_response
from casebank.run.sample import SampleOutput
from casebank.run.targets.base import RunContext, TargetSource, cache_identity, compute_cost
from casebank.run.transport import MAX_RESPONSE_BYTES, HttpReply, snippet, loads, too_big

DEFAULT_TIMEOUT_S = 120.0
STDERR_KEPT = 2000  # characters of stderr kept in an error message (the end: where errors are)


def _tail(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text if len(text) <= STDERR_KEPT else "…" + text[-STDERR_KEPT:]


@dataclass
class _Output:
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytes = b""  # its end only
    too_big: bool = False  # stdout passed MAX_RESPONSE_BYTES (the program was killed)


async def _talk(process: asyncio.subprocess.Process, request: bytes, out: _Output) -> None:
    """Write ``request`` to the program's stdin while reading its stdout (at most
    ``MAX_RESPONSE_BYTES``) and the end of its stderr into ``out``; then wait for its exit."""
    assert process.stdin and process.stdout and process.stderr

    async def feed() -> None:
        try:
            process.stdin.write(request)
            await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # it stopped reading: its exit status and output say why
        finally:
            process.stdin.close()

    async def read_stdout() -> None:
        while chunk := await process.stdout.read(1 << 16):
            out.stdout += chunk
            if len(out.stdout) > MAX_RESPONSE_BYTES:
                out.too_big = True
                _kill(process)
                return

    async def read_stderr() -> None:
        while chunk := await process.stderr.read(1 << 16):
            out.stderr = (out.stderr + chunk)[-STDERR_KEPT * 4:]

    await asyncio.gather(feed(), read_stdout(), read_stderr())
    await process.wait()


def _kill(process: asyncio.subprocess.Process) -> None:
    """Kill the program and whatever it started (its process group)."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass  # gone already


def _exit_status(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = f" ({signal.Signals(-code).name})"
        except ValueError:
            name = ""
        return f"command was killed by signal {-code}{name}"
    return f"command exited with status {code}"


@dataclass
class CommandTarget:
    name: str
    command: list[str]
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S
    prices: dict[str, float] | None = None
    cwd: str = "."
    kind: str = "command"

    def fingerprint(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "command": self.command, "model": self.model,
                "params": self.params}

    async def _execute(self, body: dict[str, Any], ctx: RunContext) -> HttpReply:
        async with ctx.transport.limiter:
            ctx.stats.requests += 1
            started = time.perf_counter()
            try:  # its own process group: a timeout kills the programs it started, too
                process = await asyncio.create_subprocess_exec(
                    *self.command, cwd=self.cwd, stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                    start_new_session=True)
            except OSError as exc:
                return HttpReply(error=f"cannot start {shlex.join(self.command)}: {exc}",
                                 error_kind="target")
            out = _Output()
            try:
                await asyncio.wait_for(
                    _talk(process, json.dumps(body, ensure_ascii=False).encode(), out),
                    self.timeout_s)
            except asyncio.TimeoutError:
                _kill(process)
                await process.wait()
                tail = _tail(out.stderr)
                return HttpReply(error=f"timeout after {self.timeout_s:g}s"
                                 + (f"; stderr: {tail}" if tail else ""), error_kind="timeout")
            except BaseException:
                _kill(process)
                await process.wait()
                raise
            latency_ms = (time.perf_counter() - started) * 1000
        stdout, stderr = bytes(out.stdout), out.stderr
        if out.too_big:
            return HttpReply(error=too_big("what the command wrote to stdout"),
                             error_kind="protocol", latency_ms=latency_ms)
        if process.returncode != 0:
            tail = _tail(stderr)
            return HttpReply(error=_exit_status(process.returncode)
                             + (f"; stderr: {tail}" if tail else " (no stderr)"),
                             error_kind="target", latency_ms=latency_ms)
        try:
            data = loads(stdout)
        except ValueError as exc:
            tail = _tail(stderr)
            return HttpReply(error=f"stdout is not JSON ({exc}): {snippet(stdout[:1000], 200)}"
                             + (f"; stderr: {tail}" if tail else ""),
                             error_kind="protocol", latency_ms=latency_ms)
        return HttpReply(data=data, status=0, latency_ms=latency_ms)

    async def run(self, case: Case, sample: int, ctx: RunContext) -> SampleOutput:
        body = case_request(case, sample, self.params)
        parts = {"target": cache_identity(self.fingerprint()), "request": body, "sample": sample}
        async def fetch() -> HttpReply:
            return refuse_unusable(await self._execute(body, ctx), sample)

        reply, cached = await ctx.cache.get(parts, fetch)
        if reply.data is None:  # no answer at all (exit status, timeout, not JSON)
            return SampleOutput(index=sample, error=reply.error, error_kind=reply.error_kind,
                                request=body, latency_ms=round(reply.latency_ms, 3))
        out = sample_from_response(reply.data, sample, round(reply.latency_ms, 3))
        out.request = body
        out.cached = cached
        if out.usage is not None:
            out.cost = compute_cost(out.usage.prompt_tokens, out.usage.completion_tokens, self.prices)
        return out


def from_config(source: TargetSource, raw: dict[str, Any], defaults: dict[str, Any]) -> CommandTarget:
    command = raw["command"]
    argv = shlex.split(command) if isinstance(command, str) else [str(part) for part in command]
    if not argv:
        raise source.problem("command", "the command is empty")
    return CommandTarget(
        name=source.name, command=argv, model=raw.get("model"),
        params=dict(raw.get("params") or {}),
        timeout_s=float(raw.get("timeout_s") or defaults.get("timeout_s") or DEFAULT_TIMEOUT_S),
        prices=raw.get("prices"), cwd=str(defaults.get("root", ".")))
