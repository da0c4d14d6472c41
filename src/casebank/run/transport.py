"""POSTing JSON to a target: one pooled aiohttp session, retries, adaptive concurrency.

aiohttp's client is used directly: httpx's default pool spends several milliseconds of CPU
per request at high concurrency (12x the network floor at 64 requests in flight), while this
layout stays near the floor (see ``bench/run.py``). Every outcome is a value: ``HttpReply``
holds either the parsed JSON or the error, its kind and the number of attempts.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp

from casebank.run.limiter import AimdLimiter
from casebank.run.retry import RETRIED_STATUS, RetryPolicy, parse_retry_after
from casebank.run.stats import RunnerStats

TIMEOUT = "timeout"
HTTP = "http"
CONNECTION = "connection"
PROTOCOL = "protocol"

# No answer of a model or an agent is this big; a target sending more is broken, and reading
# it whole (cached, written to the evidence, at every concurrent request) would exhaust memory.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024


def too_big(what: str) -> str:
    return (f"{what} is larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MB: casebank stopped "
            "reading it (no answer is that big; check the target)")


@dataclass
class HttpReply:
    data: Any = None  # the parsed JSON body when ``error`` is None
    status: int | None = None
    error: str | None = None
    error_kind: str | None = None  # timeout | http | connection | protocol
    attempts: int = 1
    latency_ms: float = 0.0  # of the attempt that answered

    @property
    def ok(self) -> bool:
        return self.error is None


def loads(data: bytes | str) -> Any:
    """``json.loads``; JSON nested too deeply for Python to read is a ``ValueError`` too,
    like any other JSON that cannot be read (not a crash of casebank)."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("it is nested too deeply to read") from None


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret (an API key) in ``text`` by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def snippet(body: bytes, limit: int = 300) -> str:
    """The start of a body, for a message (an OpenAI-style error's own message if it is one)."""
    text = body.decode("utf-8", "replace").strip()
    try:  # OpenAI-style {"error": {"message": ...}} reads better than the raw JSON
        parsed = loads(text)
        message = parsed.get("error", {}).get("message") if isinstance(parsed, dict) else None
        if isinstance(message, str):
            text = message
    except (ValueError, AttributeError):
        pass
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _read(response: aiohttp.ClientResponse) -> bytes | None:
    """The body, or None when it is larger than ``MAX_RESPONSE_BYTES`` (counted after
    decompression: a small gzip body may unpack to gigabytes)."""
    length = None if response.headers.get("Content-Encoding") else response.content_length
    if length is not None:
        return await response.read() if length <= MAX_RESPONSE_BYTES else None
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class Transport:
    """Shared by every target of a run; create inside the event loop, ``await aclose()``."""

    def __init__(self, limiter: AimdLimiter, policy: RetryPolicy, stats: RunnerStats) -> None:
        self.limiter = limiter
        self.policy = policy
        self.stats = stats
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=True)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post_json(self, url: str, payload: Any, *, timeout_s: float,
                        headers: dict[str, str] | None = None,
                        secrets: Iterable[str] = ()) -> HttpReply:
        """POST ``payload`` as JSON; retry what is worth retrying (see ``casebank.run.retry``)."""
        body = json.dumps(payload, ensure_ascii=False).encode()
        send_headers = {"Content-Type": "application/json", "Accept": "application/json",
                        **(headers or {})}
        secrets = tuple(secrets)
        attempts = 0
        while True:
            attempts += 1
            reply, retry_after, reason = await self._attempt(url, body, send_headers, timeout_s)
            reply.attempts = attempts
            if reply.error is not None:
                reply.error = redact(reply.error, secrets)
            if reason is None:  # done: success or an error not worth retrying
                return reply
            if attempts > self.policy.retries:
                reply.error = f"{reply.error} (gave up after {attempts} attempts)"
                return reply
            if retry_after is not None and retry_after > self.policy.max_retry_after_s:
                reply.error = (f"{reply.error}: the target asked to retry after {retry_after:.0f}s, "
                               f"longer than run.max_retry_after_s ({self.policy.max_retry_after_s:.0f}s)")
                return reply
            self.stats.retried(reason)
            await asyncio.sleep(self.policy.delay(attempts, retry_after))

    async def _attempt(self, url: str, body: bytes, headers: dict[str, str],
                       timeout_s: float) -> tuple[HttpReply, float | None, str | None]:
        """One request: (reply, Retry-After seconds, retry reason or None when final)."""
        async with self.limiter:
            self.stats.requests += 1
            started = time.perf_counter()
            try:
                async with self._client().post(
                        url, data=body, headers=headers,
                        timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
                    raw = await _read(response)
                    status = response.status
                    retry_after_header = response.headers.get("Retry-After")
            except asyncio.TimeoutError:
                return (HttpReply(error=f"timeout after {timeout_s:g}s", error_kind=TIMEOUT),
                        None, TIMEOUT)
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
                text = str(exc) or type(exc).__name__
                return (HttpReply(error=f"connection failed: {text}", error_kind=CONNECTION),
                        None, "connection")
            latency_ms = (time.perf_counter() - started) * 1000
        if raw is None:
            return (HttpReply(status=status, error=too_big(f"the HTTP {status} response"),
                              error_kind=PROTOCOL, latency_ms=latency_ms), None, None)
        if status == 429:
            self.limiter.on_throttled()
            retry_after = parse_retry_after(retry_after_header)
            return (HttpReply(status=status, error=f"HTTP 429 (rate limited): {snippet(raw)}",
                              error_kind=HTTP, latency_ms=latency_ms), retry_after, "HTTP 429")
        if status in RETRIED_STATUS:  # a 503 may say when to come back, too
            return (HttpReply(status=status, error=f"HTTP {status}: {snippet(raw)}", error_kind=HTTP,
                              latency_ms=latency_ms), parse_retry_after(retry_after_header),
                    f"HTTP {status}")
        if status >= 300:
            return (HttpReply(status=status, error=f"HTTP {status} (not retried): {snippet(raw)}",
                              error_kind=HTTP, latency_ms=latency_ms), None, None)
        self.limiter.on_success()
        try:
            data = loads(raw)
        except ValueError as exc:
            why = f"{exc.msg} at character {exc.pos}" if isinstance(exc, json.JSONDecodeError) else str(exc)
            return (HttpReply(status=status, error=f"response is not JSON ({why}): {snippet(raw, 120)}",
                              error_kind=PROTOCOL, latency_ms=latency_ms), None, None)
        return HttpReply(data=data, status=status, latency_ms=latency_ms), None, None
