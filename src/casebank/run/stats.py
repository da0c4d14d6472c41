"""Counters the runner keeps for the evidence file (``Evidence.runner``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunnerStats:
    requests: int = 0  # requests sent to targets, retries included
    cache_hits: int = 0  # answers taken from the response cache
    retries: int = 0
    retry_reasons: Counter[str] = field(default_factory=Counter)  # "HTTP 429": 3, "timeout": 1

    def retried(self, reason: str) -> None:
        self.retries += 1
        self.retry_reasons[reason] += 1

    def summary(self) -> dict[str, Any]:
        return {"requests": self.requests, "cache_hits": self.cache_hits, "retries": self.retries,
                "retry_reasons": dict(self.retry_reasons)}
