"""A verdict as plain JSON-ready data (``casebank gate --format json``)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from casebank.gate.changes import GateDiff
from casebank.gate.verdict import Verdict


def verdict_dict(verdict: Verdict) -> dict[str, Any]:
    """Every field of the verdict, plus its exit code and coverage statement."""
    data = dataclasses.asdict(verdict)
    data["exit_code"] = int(verdict.exit_code)
    data["coverage"]["statement"] = verdict.coverage.statement()
    data["coverage"]["changed_cases"] = list(verdict.coverage.changed_cases)
    for change, out in zip(verdict.bank_changes, data["bank_changes"]):
        out["erodes"], out["holds"] = change.erodes, change.holds
    for change, out in zip(verdict.policy_changes, data["policy_changes"]):
        out["loosens"], out["holds"] = change.loosens, change.holds
    if verdict.diff is not None:
        data["diff"] = diff_dict(verdict.diff)
    return data


def diff_dict(diff: GateDiff) -> dict[str, Any]:
    data = dataclasses.asdict(diff)
    data["has_baseline"] = diff.has_baseline
    data["verdict_changed"] = diff.verdict_changed
    return data


def verdict_json(verdict: Verdict) -> str:
    return json.dumps(verdict_dict(verdict), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

