"""The response cache: a re-run with nothing changed sends no request.

Content-addressed: the key is the SHA-256 of the target's fingerprint (kind, base URL,
model, params; never secrets), the full request and the sample index, so each of a case's
``samples: n`` is its own answer, and changing the prompt, a tool or a param misses.
Only answers are stored (one JSON file each, ``<dir>/ab/abcdef….json``); errors never are.
Concurrent identical requests are sent once: later callers wait for the first.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from casebank.run.stats import RunnerStats
from casebank.run.transport import HttpReply

CACHE_VERSION = 1


def cache_key(parts: dict[str, Any]) -> str:
    canonical = json.dumps({"v": CACHE_VERSION, **parts}, sort_keys=True, ensure_ascii=False,
                           separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ResponseCache:
    """``directory=None`` disables storage (``--no-cache``) but still sends duplicates once."""

    def __init__(self, directory: Path | None, stats: RunnerStats) -> None:
        self.directory = directory
        self.stats = stats
        self._pending: dict[str, asyncio.Future[HttpReply]] = {}

    def _file(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.json"

    def _load(self, key: str) -> HttpReply | None:
        if self.directory is None:
            return None
        try:
            with open(self._file(key), encoding="utf-8") as fh:
                stored = json.load(fh)
            return HttpReply(data=stored["data"], status=200, attempts=0,
                             latency_ms=float(stored.get("latency_ms") or 0.0))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or damaged: ask the target again (and overwrite it)

    def _store(self, key: str, reply: HttpReply) -> None:
        if self.directory is None:
            return
        path = self._file(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"data": reply.data, "latency_ms": reply.latency_ms}, ensure_ascii=False)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)  # readers never see half a file
        except OSError:
            Path(tmp).unlink(missing_ok=True)

    async def get(self, parts: dict[str, Any],
                  fetch: Callable[[], Awaitable[HttpReply]]) -> tuple[HttpReply, bool]:
        """The answer for ``parts`` and whether it came without a request (cached)."""
        key = cache_key(parts)
        stored = self._load(key)
        if stored is not None:
            self.stats.cache_hits += 1
            return stored, True
        pending = self._pending.get(key)
        if pending is not None:
            self.stats.cache_hits += 1
            return await asyncio.shield(pending), True
        future: asyncio.Future[HttpReply] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            reply = await fetch()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiting callers re-raise it themselves
            raise
        finally:
            self._pending.pop(key, None)
        if reply.ok:
            self._store(key, reply)
        future.set_result(reply)
        return reply, False
