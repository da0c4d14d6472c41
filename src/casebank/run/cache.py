"""The response cache: a re-run with nothing changed sends no request.

Content-addressed: the key is the SHA-256 of the target's fingerprint (kind, base URL,
model, params; never secrets), the full request and the sample index, so each of a case's
``samples: n`` is its own answer, and changing the prompt, a tool or a param misses.
Only answers are stored; errors never are. Concurrent identical requests are sent once:
later callers wait for the first.

Storage: each run appends its answers to its own pack file, ``<dir>/<time>-<pid>-<random>.pack``, one
line per answer: ``<key> <json>``. Opening the cache indexes every pack (keys and offsets
only, no JSON parsing); a hit is one read at a known offset. One file per run instead of one
per answer: creating thousands of small files stalled 2,000-case runs at 2-3x their wall
time. Runs at the same time never share a pack, and a line cut off by a crash is ignored.
Deleting the folder empties the cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from casebank.evidence import escape_surrogates
from casebank.run.stats import RunnerStats
from casebank.run.transport import HttpReply

CACHE_VERSION = 1
KEY_LENGTH = 64
SUFFIX = ".pack"


def cache_key(parts: dict[str, Any]) -> str:
    canonical = json.dumps({"v": CACHE_VERSION, **parts}, sort_keys=True, ensure_ascii=False,
                           separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class _Entry:
    pack: Path
    offset: int  # of the JSON, after "<key> "
    length: int  # of the JSON, without the newline


class ResponseCache:
    """``directory=None`` disables storage (``--no-cache``) but still sends duplicates once."""

    FLUSH_EVERY_S = 0.5

    def __init__(self, directory: Path | None, stats: RunnerStats) -> None:
        self.directory = directory
        self.stats = stats
        self._pending: dict[str, asyncio.Future[HttpReply]] = {}
        self._index: dict[str, _Entry] = {}
        self._readers: dict[Path, int] = {}
        self._pack: Path | None = None
        self._out: IO[bytes] | None = None
        self._written = 0  # bytes of our pack handed to the file object
        self._on_disk = 0  # bytes of our pack flushed
        self._flushed = time.monotonic()
        if directory is not None and directory.is_dir():
            for pack in sorted(directory.glob(f"*{SUFFIX}")):
                self._read_index(pack)

    def _read_index(self, pack: Path) -> None:
        offset = 0
        try:
            with open(pack, "rb") as fh:
                for line in fh:
                    size = len(line)
                    if line.endswith(b"\n") and size > KEY_LENGTH + 2 and line[KEY_LENGTH:KEY_LENGTH + 1] == b" ":
                        key = line[:KEY_LENGTH].decode("ascii", "replace")
                        self._index[key] = _Entry(pack, offset + KEY_LENGTH + 1, size - KEY_LENGTH - 2)
                    offset += size
        except OSError:
            pass

    def _load(self, key: str) -> HttpReply | None:
        entry = self._index.get(key)
        if entry is None:
            return None
        try:
            if entry.pack == self._pack and entry.offset + entry.length > self._on_disk:
                self._flush()
            fd = self._readers.get(entry.pack)
            if fd is None:
                fd = self._readers[entry.pack] = os.open(entry.pack, os.O_RDONLY)
            stored = json.loads(os.pread(fd, entry.length, entry.offset))
            return HttpReply(data=stored["data"], status=200, attempts=0,
                             latency_ms=float(stored.get("latency_ms") or 0.0))
        except (OSError, ValueError, KeyError, TypeError):
            self._index.pop(key, None)
            return None  # damaged or gone: ask the target again

    def _store(self, key: str, reply: HttpReply) -> None:
        if self.directory is None:
            return
        if self._out is None:
            name = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{os.urandom(3).hex()}{SUFFIX}"
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                self._out = open(self.directory / name, "xb", buffering=1 << 20)  # noqa: SIM115
            except OSError:  # cannot write the cache folder: run without storing
                self.directory = None
                return
            self._pack = self.directory / name
        body = escape_surrogates(json.dumps({"data": reply.data, "latency_ms": reply.latency_ms},
                                            ensure_ascii=False, separators=(",", ":"))).encode()
        line = key.encode() + b" " + body + b"\n"
        try:
            self._out.write(line)
        except OSError:  # a full disk: the run goes on, this answer is just not kept
            return
        self._index[key] = _Entry(self._pack, self._written + KEY_LENGTH + 1, len(body))
        self._written += len(line)
        if time.monotonic() - self._flushed >= self.FLUSH_EVERY_S:
            self._flush()

    def _flush(self) -> None:
        if self._out is not None:
            self._out.flush()
            self._on_disk = self._written
        self._flushed = time.monotonic()

    async def flush(self) -> None:
        """Put every answer on disk and release the files (call before the run ends)."""
        self._flush()
        if self._out is not None:
            self._out.close()
            self._out = None
        for fd in self._readers.values():
            os.close(fd)
        self._readers.clear()

    async def get(self, parts: dict[str, Any],
                  fetch: Callable[[], Awaitable[HttpReply]]) -> tuple[HttpReply, bool]:
        """The answer for ``parts`` and whether it came without a request (cached)."""
        key = cache_key(parts)
        stored = self._load(key) if self.directory is not None else None
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
        future.set_result(reply)  # first: callers waiting for it must never wait for the disk
        if reply.ok:
            self._store(key, reply)
        return reply, False
