"""``kind: replay``: outputs recorded elsewhere (another CI job, ``casebank run
--record-outputs``), graded here without calling any model. One JSON object per line:

    {"case": "refund-wrong-account", "sample": 0, "output": "...", "trajectory": [...],
     "usage": {...}, "latency_ms": 812}

A sample with no recording is an error for that sample, never a pass."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from casebank.bank.case import Case
from casebank.errors import Problem, UserError
from casebank.run.agent_json import sample_from_response
from casebank.run.sample import SampleOutput
from casebank.run.targets.base import RunContext, TargetSource, compute_cost


@dataclass
class ReplayTarget:
    name: str
    file: str  # as configured, relative to the project root
    records: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict, repr=False)
    digest: str = ""  # sha256 of the recordings: a different file is a different target
    prices: dict[str, float] | None = None
    kind: str = "replay"

    def fingerprint(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "file": self.file, "sha256": self.digest}

    async def run(self, case: Case, sample: int, ctx: RunContext) -> SampleOutput:
        record = self.records.get((case.id, sample))
        if record is None:
            recorded = sorted(s for (c, s) in self.records if c == case.id)
            have = (f"it has samples {', '.join(map(str, recorded))}" if recorded
                    else "it has none for this case")
            return SampleOutput(index=sample, error=f"no recording for case {case.id} sample {sample} "
                                f"in {self.file} ({have}; record again with --record-outputs)",
                                error_kind="target")
        out = sample_from_response(record, sample, None)
        if out.usage is not None:
            out.cost = compute_cost(out.usage.prompt_tokens, out.usage.completion_tokens, self.prices)
        return out


def load_recordings(path: Path, shown: str) -> dict[tuple[str, int], dict[str, Any]]:
    """Recordings by (case id, sample); a bad line is a UserError naming file:line."""
    records: dict[tuple[str, int], dict[str, Any]] = {}
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise UserError(f"cannot read recordings {shown}: {exc.strerror or exc}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise UserError("bad recordings file", [Problem(
                    shown, f"not a JSON object ({exc.args[0]})", line=number)]) from None
            if (not isinstance(record, dict) or not isinstance(record.get("case"), str)
                    or isinstance(record.get("sample"), bool) or not isinstance(record.get("sample"), int)):
                raise UserError("bad recordings file", [Problem(
                    shown, "each line needs \"case\" (a case id) and \"sample\" (0-based index)",
                    line=number)])
            records[(record["case"], record["sample"])] = record
    return records


def from_config(source: TargetSource, raw: dict[str, Any], defaults: dict[str, Any]) -> ReplayTarget:
    root = Path(defaults.get("root", "."))
    file = raw["file"]
    path = (root / file).resolve()
    if not path.is_relative_to(root.resolve()):
        raise source.problem("file", f"{file} is outside the project folder {root}")
    if not path.is_file():
        raise source.problem("file", f"recordings file {file} not found (looked in {root})",
                             hint="record it with `casebank run --target LIVE --record-outputs FILE`")
    records = load_recordings(path, file)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return ReplayTarget(name=source.name, file=file, records=records, digest=digest,
                        prices=raw.get("prices"))
