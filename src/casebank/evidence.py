"""The evidence file: what a run did, case by case. Schema: bank-schema/results.schema.json.

Evidence is the only thing that flows from ``run`` to ``gate`` and ``report``: those stages
never re-run or re-read cases. It is JSON, written streaming (header, then cases as they
finish, then the footer); a file without its footer is an incomplete run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from casebank.run.result import CaseResult

FORMAT_VERSION = 1


@dataclass
class Evidence:
    casebank_version: str
    commit: str | None
    dirty: bool
    config_hash: str
    target: dict[str, Any]  # fingerprint: kind, base_url, model, params (never secrets)
    started_at: str
    finished_at: str | None = None
    suite: str = "full"  # full | changed | selected
    bank_size: int = 0  # cases in the bank when the run started
    selected: list[str] = field(default_factory=list)  # ids selected for this run
    not_selected_reason: str | None = None  # e.g. "changed suite: 3 of 40 cases"
    shard: dict[str, int] | None = None  # {"index": 1, "count": 4}
    complete: bool = False  # False: interrupted, crashed, or shard of a larger run
    interrupted: bool = False
    cases: list[CaseResult] = field(default_factory=list)
    runner: dict[str, Any] = field(default_factory=dict)  # concurrency, retries, AIMD events
    format_version: int = FORMAT_VERSION
