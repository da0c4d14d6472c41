"""``--record-outputs FILE.jsonl``: write what the target answered, for a ``replay`` target.

One line per sample, in case order then sample order (so a re-recording diffs cleanly):
``{"case", "sample", "output", "trajectory", "usage", "latency_ms", "steps", "final"}``,
plus ``"error"`` for a sample that errored (replaying it errors again, it never passes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from casebank.evidence import escape_surrogates, turn_dict
from casebank.run.sample import SampleOutput


def record_line(case_id: str, sample: SampleOutput) -> dict[str, Any]:
    record: dict[str, Any] = {"case": case_id, "sample": sample.index}
    if sample.error is not None:
        record["error"] = sample.error
    record.update({
        "output": sample.output,
        "trajectory": [turn_dict(t) for t in sample.trajectory],
        "usage": None if sample.usage is None else {
            "prompt_tokens": sample.usage.prompt_tokens,
            "completion_tokens": sample.usage.completion_tokens,
            "total_tokens": sample.usage.total_tokens},
        "latency_ms": sample.latency_ms, "steps": sample.steps, "final": sample.final,
    })
    return record


class RecordingWriter:
    """Writes each case's samples once the cases before it (in run order) are written."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        self._next = 0
        self._waiting: dict[int, list[str]] = {}

    def add(self, position: int, case_id: str, samples: list[SampleOutput]) -> None:
        """The samples of the case at ``position`` (0-based) in the run's case order."""
        self._waiting[position] = [escape_surrogates(json.dumps(record_line(case_id, s),
                                                                ensure_ascii=False))
                                   for s in sorted(samples, key=lambda s: s.index)]
        self._flush()

    def skip(self, position: int) -> None:
        """The case at ``position`` has nothing to record (not run)."""
        self._waiting[position] = []
        self._flush()

    def _flush(self) -> None:
        assert self._fh is not None
        while self._next in self._waiting:
            for line in self._waiting.pop(self._next):
                self._fh.write(line + "\n")
            self._next += 1
        self._fh.flush()

    def close(self) -> None:
        if self._fh is None:
            return
        for position in sorted(self._waiting):  # an interrupted run: keep what finished
            for line in self._waiting.pop(position):
                self._fh.write(line + "\n")
        self._fh.close()
        self._fh = None
