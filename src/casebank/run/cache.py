"""The response cache: a re-run with nothing changed sends no request.

Content-addressed: the key is the SHA-256 of the target's fingerprint (kind, base URL,
model, params; never secrets), the full request and the sample index, so each of a case's
``samples: n`` is its own answer, and changing the prompt, a tool or a param misses.
Only answers are stored (one JSON file each, ``<dir>/ab/abcdef….json``); errors never are.
Concurrent identical requests are sent once: later callers wait for the first.
Files are written by a background thread (creating thousands of small files would otherwise
stall the event loop: 2-3x the wall time of a 2,000-case run); ``flush()`` waits for them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
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
        self._writer: ThreadPoolExecutor | None = None
        self._writes: set[Future[None]] = set()
        self._folders: set[Path] = set()

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
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="casebank-cache")
        text = json.dumps({"data": reply.data, "latency_ms": reply.latency_ms}, ensure_ascii=False)
        write = self._writer.submit(self._write, self._file(key), text)
        self._writes.add(write)
        write.add_done_callback(self._writes.discard)

    async def flush(self) -> None:
        """Wait until every answer is on disk (call before the run ends)."""
        if self._writes:
            await asyncio.gather(*(asyncio.wrap_future(w) for w in list(self._writes)))
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None

    def _write(self, path: Path, text: str) -> None:
        if path.parent not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(path.parent)
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
