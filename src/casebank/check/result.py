"""The result of applying one expectation to one sample."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASS = "pass"
FAIL = "fail"
ERROR = "error"  # the check could not be decided (bad output shape, missing usage, judge down)
UNCERTAIN = "uncertain"  # decided with too little confidence: a person must look

STATUSES = (PASS, FAIL, ERROR, UNCERTAIN)


@dataclass(frozen=True)
class CheckResult:
    kind: str
    status: str
    message: str  # what a person can act on
    line: int  # line of the expectation in the case file
    index: int  # position in expect:
    evidence: dict[str, Any] = field(default_factory=dict)
    confidence: float | None = None
    name: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == PASS
