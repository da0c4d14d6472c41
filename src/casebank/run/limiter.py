"""Concurrency that adapts to the target: AIMD (additive increase, multiplicative decrease).

Requests wait for a slot. When the target answers 429 the limit is halved (at most once per
``cooldown_s``, so one burst of 429s from requests already in flight counts once); after
``limit`` successful answers in a row it grows by one again, up to the configured maximum.
Every change is recorded for the evidence file.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

MAX_EVENTS = 200


@dataclass
class AimdLimiter:
    maximum: int
    minimum: int = 1
    cooldown_s: float = 1.0
    limit: int = 0
    lowest: int = 0
    in_flight: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    events_dropped: int = 0
    _successes: int = 0
    _last_decrease: float = float("-inf")
    _started: float = field(default_factory=time.monotonic)
    _waiters: deque[asyncio.Future[None]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.maximum = max(1, self.maximum)
        self.minimum = max(1, min(self.minimum, self.maximum))
        self.limit = self.limit or self.maximum
        self.lowest = self.limit

    async def acquire(self) -> None:
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was granted just as we were cancelled: hand it on
            else:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)

    async def __aenter__(self) -> AimdLimiter:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()

    def _record(self, event: str, old: int, reason: str) -> None:
        if len(self.events) >= MAX_EVENTS:
            self.events_dropped += 1
            return
        self.events.append({"at_s": round(time.monotonic() - self._started, 3), "event": event,
                            "from": old, "to": self.limit, "reason": reason})

    def on_throttled(self, reason: str = "HTTP 429") -> None:
        """The target said slow down: halve the limit (once per cooldown)."""
        self._successes = 0
        now = time.monotonic()
        if now - self._last_decrease < self.cooldown_s or self.limit <= self.minimum:
            return
        old = self.limit
        self.limit = max(self.minimum, self.limit // 2)
        self.lowest = min(self.lowest, self.limit)
        self._last_decrease = now
        self._record("decrease", old, reason)

    def on_success(self) -> None:
        """One good answer; after ``limit`` of them in a row, allow one more in flight."""
        if self.limit >= self.maximum:
            return
        self._successes += 1
        if self._successes >= self.limit:
            self._successes = 0
            old = self.limit
            self.limit += 1
            self._record("increase", old, f"{old} successful answers in a row")
            self._wake()

    def summary(self) -> dict[str, Any]:
        return {"max": self.maximum, "lowest": self.lowest, "final": self.limit,
                "events": self.events, "events_not_recorded": self.events_dropped}
