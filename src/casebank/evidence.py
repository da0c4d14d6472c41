"""The evidence file: what a run did, case by case. Schema: bank-schema/results.schema.json.

Evidence is the only thing that flows from ``run`` to ``gate`` and ``report``: those stages
never re-run or re-read cases. It is JSON, written streaming (header, then cases as they
finish, then the footer); a file without its footer is an incomplete run.
"""

from __future__ import annotations

import functools
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from casebank.check.result import CheckResult
from casebank.errors import UserError
from casebank.run.result import CaseResult, SampleResult
from casebank.run.sample import SampleOutput, ToolCall, Turn, Usage

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


# -- reading and writing ------------------------------------------------------------------
#
# Layout (one JSON document, line-structured so a file cut off between cases still tells
# what ran):
#
#   {"header": {...every Evidence field but cases and the footer's...},
#   "cases": [
#   {case}
#   ,{case}
#   ],
#   "footer": {"finished_at": ..., "complete": ..., "interrupted": ..., "runner": {...}}}

FOOTER_FIELDS = ("finished_at", "complete", "interrupted", "runner")
_HEADER_FIELDS = ("format_version", "casebank_version", "commit", "dirty", "config_hash", "target",
                  "started_at", "suite", "bank_size", "selected", "not_selected_reason", "shard")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_surrogates(json_text: str) -> str:
    """JSON text with each lone surrogate spelled as its ``\\u`` escape. JSON can carry one
    (``"\\ud800"``, e.g. in a model's output) and Python keeps it, but UTF-8 cannot encode
    it raw: writing it would fail. Read back, the escape gives the same string."""
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)


def _dumps(value: Any) -> str:
    return escape_surrogates(json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                                        default=str))


def header_dict(evidence: Evidence) -> dict[str, Any]:
    return {name: getattr(evidence, name) for name in _HEADER_FIELDS}


def footer_dict(evidence: Evidence) -> dict[str, Any]:
    return {name: getattr(evidence, name) for name in FOOTER_FIELDS}


def _usage_dict(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens}


def tool_call_dict(call: ToolCall) -> dict[str, Any]:
    return {"index": call.index, "step": call.step, "id": call.id, "name": call.name,
            "arguments": call.arguments, "result": call.result, "error": call.error}


def turn_dict(turn: Turn) -> dict[str, Any]:
    out: dict[str, Any] = {"role": turn.role, "step": turn.step, "content": turn.content}
    if turn.tool_calls:
        out["tool_calls"] = [tool_call_dict(c) for c in turn.tool_calls]
    return out


def sample_output_dict(sample: SampleOutput) -> dict[str, Any]:
    return {
        "index": sample.index, "output": sample.output,
        "trajectory": [turn_dict(t) for t in sample.trajectory],
        "usage": _usage_dict(sample.usage), "latency_ms": sample.latency_ms,
        "error": sample.error, "error_kind": sample.error_kind, "request": sample.request,
        "cached": sample.cached, "attempts": sample.attempts, "steps": sample.steps,
        "final": sample.final, "cost": sample.cost,
    }


def check_result_dict(check: CheckResult) -> dict[str, Any]:
    return {"kind": check.kind, "name": check.name, "status": check.status,
            "message": check.message, "line": check.line, "index": check.index,
            "confidence": check.confidence, "evidence": check.evidence}


def case_result_dict(case: CaseResult) -> dict[str, Any]:
    """A case result as JSON-ready data (derived outcome and flaky included for readers)."""
    return {
        "case_id": case.case_id, "path": case.path, "title": case.title,
        "severity": case.severity, "source_kind": case.source_kind, "source_ref": case.source_ref,
        "owner": case.owner, "review": case.review, "content_hash": case.content_hash,
        "tags": list(case.tags), "line": case.line,
        "samples_required": case.samples_required, "min_pass": case.min_pass,
        "not_run_reason": case.not_run_reason,
        "outcome": case.outcome, "flaky": case.flaky,
        "samples": [{"outcome": s.outcome, **sample_output_dict(s.sample),
                     "checks": [check_result_dict(c) for c in s.checks]} for s in case.samples],
    }


def _tool_call(raw: dict[str, Any]) -> ToolCall:
    return ToolCall(index=raw["index"], step=raw["step"], name=raw["name"],
                    arguments=raw.get("arguments"), result=raw.get("result"),
                    error=raw.get("error"), id=raw.get("id"))


def turn_from_dict(raw: dict[str, Any]) -> Turn:
    return Turn(role=raw["role"], content=raw.get("content"), step=raw.get("step", 0),
                tool_calls=tuple(_tool_call(c) for c in raw.get("tool_calls") or ()))


def usage_from_dict(raw: dict[str, Any] | None) -> Usage | None:
    if raw is None:
        return None
    return Usage(prompt_tokens=raw.get("prompt_tokens"), completion_tokens=raw.get("completion_tokens"),
                 total_tokens=raw.get("total_tokens"))


def _sample_result(raw: dict[str, Any]) -> SampleResult:
    sample = SampleOutput(
        index=raw["index"], output=raw.get("output"),
        trajectory=[turn_from_dict(t) for t in raw.get("trajectory") or ()],
        usage=usage_from_dict(raw.get("usage")), latency_ms=raw.get("latency_ms"),
        error=raw.get("error"), error_kind=raw.get("error_kind"), request=raw.get("request"),
        cached=raw.get("cached", False), attempts=raw.get("attempts", 1),
        steps=raw.get("steps", 0), final=raw.get("final", True), cost=raw.get("cost"))
    checks = [CheckResult(kind=c["kind"], status=c["status"], message=c["message"], line=c["line"],
                          index=c["index"], evidence=c.get("evidence") or {},
                          confidence=c.get("confidence"), name=c.get("name"))
              for c in raw.get("checks") or ()]
    return SampleResult(sample=sample, checks=checks)


def case_result_from_dict(raw: dict[str, Any]) -> CaseResult:
    return CaseResult(
        case_id=raw["case_id"], path=raw["path"], title=raw["title"], severity=raw["severity"],
        source_kind=raw["source_kind"], review=raw["review"], content_hash=raw["content_hash"],
        samples_required=raw["samples_required"], min_pass=raw["min_pass"],
        tags=list(raw.get("tags") or ()), source_ref=raw.get("source_ref"), owner=raw.get("owner"),
        line=raw.get("line", 1), samples=[_sample_result(s) for s in raw.get("samples") or ()],
        not_run_reason=raw.get("not_run_reason"))


class EvidenceWriter:
    """Writes evidence as the run goes: the header at once, each case as it finishes, the
    footer at the end. A file without its footer reads back as ``complete=False``."""

    # Whole lines are written together at most this often (a write per case is a slow
    # syscall on some file systems), so a killed run leaves whole case lines behind.
    FLUSH_EVERY_S = 0.25

    def __init__(self, path: str | Path, evidence: Evidence) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        self._count = 0
        self._lines: list[str] = []
        self._flushed = time.monotonic()
        self._fh.write('{"header": ' + _dumps(header_dict(evidence)) + ',\n"cases": [\n')
        self._fh.flush()

    def add(self, case: CaseResult) -> None:
        assert self._fh is not None, "evidence writer already closed"
        self._lines.append(("," if self._count else "") + _dumps(case_result_dict(case)) + "\n")
        self._count += 1
        if time.monotonic() - self._flushed >= self.FLUSH_EVERY_S:
            self.flush()

    def flush(self) -> None:
        """Write the cases added so far to the file."""
        if self._fh is None:
            return
        if self._lines:
            self._fh.write("".join(self._lines))
            self._lines.clear()
        self._fh.flush()
        self._flushed = time.monotonic()

    def close(self, evidence: Evidence) -> None:
        """Write the footer (finished_at, complete, interrupted, runner) and close the file."""
        if self._fh is None:
            return
        self.flush()
        self._fh.write('],\n"footer": ' + _dumps(footer_dict(evidence)) + "}\n")
        self._fh.close()
        self._fh = None


def write(evidence: Evidence, path: str | Path) -> None:
    """Write a whole evidence object to ``path`` (same format as the streaming writer)."""
    writer = EvidenceWriter(path, evidence)
    for case in evidence.cases:
        writer.add(case)
    writer.close(evidence)


def _malformed(path: Path, what: str, line: int | None = None) -> UserError:
    where = f"{path}:{line}" if line else str(path)
    return UserError(f"{where}: evidence file is truncated or malformed: {what} "
                     "(re-run `casebank run` to write it again)")


def _recover(path: Path, text: str) -> dict[str, Any]:
    """Read a file whose footer is missing: header and whole case lines only. A last line cut
    off mid-way (the run was killed while writing it) is left out: its case has no result,
    which the gate reports as not run."""
    lines = text.split("\n")
    first = lines[0]
    if not (first.startswith('{"header": ') and first.endswith(",")):
        raise _malformed(path, "it does not start with an evidence header", 1)
    try:
        header = json.loads(first[len('{"header": '):-1])
    except ValueError as exc:
        raise _malformed(path, f"the header is not JSON ({exc.msg})", 1) from None
    if len(lines) < 2 or lines[1] != '"cases": [':
        raise _malformed(path, "the case list does not start on line 2", 2)
    cases: list[Any] = []
    for number, line in enumerate(lines[2:], start=3):
        if line == "" and number == len(lines):
            break  # the newline after the last whole case
        if line.startswith("]"):
            raise _malformed(path, "the footer is not valid JSON", number)
        try:
            cases.append(json.loads(line[1:] if line.startswith(",") else line))
        except ValueError as exc:
            if number == len(lines) and line:  # the last line, without its newline: cut off
                break
            raise _malformed(path, f"case line is cut off or not JSON ({exc.msg})", number) from None
    return {"header": header, "cases": cases, "footer": None}


def read(path: str | Path) -> Evidence:
    """Read an evidence file. A missing footer (a run that was cut off) gives
    ``complete=False``; anything unreadable raises ``UserError`` naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: evidence file not found (run `casebank run` first)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read evidence file: {exc}") from None
    if not text.strip():
        raise _malformed(path, "the file is empty")
    try:
        doc = json.loads(text)
    except ValueError:
        doc = _recover(path, text)
    if not isinstance(doc, dict) or not isinstance(doc.get("header"), dict):
        raise _malformed(path, "not a casebank evidence file (no \"header\" object)")
    return _from_document(path, doc)


@functools.cache
def _part_validators() -> dict[str, Any]:
    """Validators for the header, one case and the footer (results.schema.json)."""
    import jsonschema_rs

    from casebank.bank.schema import schemas

    schema = next(s for s in schemas().values()
                  if str(s.get("$id", "")).endswith("/results.schema.json"))
    return {part: jsonschema_rs.validator_for({"$ref": f"#/$defs/{part}",
                                               "$defs": schema["$defs"]})
            for part in ("header", "case", "footer")}


def _check_shape(path: Path, doc: dict[str, Any]) -> None:
    """Evidence can come from elsewhere (a fork's upload, a shard's artifact): check every
    part against the schema before trusting a field, and say where it is wrong."""
    validators = _part_validators()
    cases = doc.get("cases")
    if not isinstance(cases, list):
        raise _malformed(path, "`cases` is not a list")
    parts: list[tuple[str, str, Any]] = [("header", "header", doc["header"])]
    parts += [("case", f"cases[{i}]", case) for i, case in enumerate(cases)]
    if doc.get("footer") is not None:
        parts.append(("footer", "footer", doc["footer"]))
    for part, where, value in parts:
        error = next(validators[part].iter_errors(value), None)
        if error is not None:
            inside = "".join(f"[{p}]" if isinstance(p, int) else f".{p}"
                             for p in error.instance_path)
            raise _malformed(path, f"{where}{inside}: {error.message}")


def _from_document(path: Path, doc: dict[str, Any]) -> Evidence:
    header = doc["header"]
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise UserError(f"{path}: evidence format version {version!r} is not supported by this "
                        f"casebank (it reads version {FORMAT_VERSION}); re-run `casebank run`")
    _check_shape(path, doc)
    footer = doc.get("footer")
    try:
        evidence = Evidence(**{k: header[k] for k in _HEADER_FIELDS if k in header})
        evidence.cases = [case_result_from_dict(c) for c in doc.get("cases") or ()]
    except (KeyError, TypeError, AttributeError) as exc:
        raise _malformed(path, f"missing or wrong field {exc}") from None
    if isinstance(footer, dict):
        evidence.finished_at = footer.get("finished_at")
        evidence.complete = bool(footer.get("complete"))
        evidence.interrupted = bool(footer.get("interrupted"))
        evidence.runner = footer.get("runner") or {}
    else:
        evidence.complete = False
    return evidence
