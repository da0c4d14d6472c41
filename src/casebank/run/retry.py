"""When and how long to wait before asking the target again.

Retried: 429 (waiting what ``Retry-After`` says when the target sends it), 5xx, timeouts
and dropped or refused connections. Never retried: any other 4xx (the request itself is
wrong: a retry would fail the same way).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from casebank.errors import Problem, UserError

RETRIED_STATUS = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529})


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3  # extra attempts after the first
    backoff_s: float = 1.0  # first wait; doubles each attempt, with jitter
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 120.0  # a longer Retry-After is not waited for: the sample errors

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (attempt is 1-based)."""
        if retry_after is not None:
            return max(0.0, retry_after)
        base = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        return base * (0.5 + random.random() / 2)  # jitter: spread retries of a burst

    @classmethod
    def from_config(cls, run: dict[str, Any], where: str = "casebank.yaml") -> RetryPolicy:
        values = {}
        for name in ("retries", "backoff_s", "max_backoff_s", "max_retry_after_s"):
            if name in run and run[name] is not None:
                value = run[name]
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise UserError("invalid run settings", [Problem(
                        where, f"must be a number >= 0, not {value!r}", field=f"run.{name}")])
                values[name] = int(value) if name == "retries" else float(value)
        return cls(**values)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date; None if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
