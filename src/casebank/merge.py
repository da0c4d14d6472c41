"""Combine the evidence of n shards (``casebank run --shard i/n``) into the evidence of one run.

Merging refuses anything that could turn a partial run into a pass: a shard missing or given
twice, shards of different shard counts, commits, configurations, targets or casebank versions,
a case run by two shards. The merged evidence is complete only when every shard ran to its end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from casebank.errors import Problem, UserError
from casebank.evidence import Evidence

# Fields every shard of one run has in common, with how to show a value in a message.
_SAME_RUN_FIELDS: dict[str, Callable[[Any], str]] = {
    "commit": lambda v: (v or "no commit")[:12],
    "config_hash": lambda v: (v or "none")[:12],
    "target": lambda v: _show_target(v),
    "casebank_version": str,
    "format_version": str,
    "suite": str,
    "bank_size": lambda v: f"{v} cases in the bank",
}
_FIELD_WORDS = {
    "commit": "commit", "config_hash": "configuration (casebank.yaml) hash", "target": "target",
    "casebank_version": "casebank version", "format_version": "evidence format",
    "suite": "suite", "bank_size": "bank size",
}


def _show_target(target: dict[str, Any] | None) -> str:
    if not target:
        return "no target"
    shown = [str(target[key]) for key in ("name", "kind", "model", "base_url") if target.get(key)]
    return " ".join(shown) or "target fingerprint " + str(sorted(target.items()))[:60]


def _label(evidence: Evidence) -> str:
    shard = evidence.shard or {}
    return f"{shard.get('index', '?')}/{shard.get('count', '?')}"


def merge_evidence(parts: list[Evidence], names: list[str] | None = None) -> Evidence:
    """The evidence of the whole run made of ``parts``, one per shard, in any order.

    ``names`` (the files the parts were read from) are used in error messages. Raises
    ``UserError`` (exit 2), naming the files, when the parts are not exactly the n shards of
    one run.
    """
    if not parts:
        raise UserError("casebank merge needs the evidence files of every shard; none were given")
    names = names or [f"evidence #{i}" for i in range(1, len(parts) + 1)]
    if len(names) != len(parts):
        raise ValueError("one name per part")
    named = list(zip(names, parts, strict=True))

    unsharded = [name for name, part in named if not part.shard]
    if unsharded:
        raise UserError("not the evidence of a shard: " + ", ".join(unsharded),
                        [Problem(name, "has no shard i/n", hint="casebank merge combines the "
                                 "evidence of casebank run --shard i/n, one file per shard")
                         for name in unsharded])

    counts = {part.shard["count"] for part in parts}
    if len(counts) > 1:
        raise UserError("the shards were cut differently (different shard counts); run every "
                        "shard with the same --shard i/N",
                        [Problem(name, f"shard {_label(part)}") for name, part in named])
    count = counts.pop()

    by_index: dict[int, list[str]] = {}
    for name, part in named:
        by_index.setdefault(part.shard["index"], []).append(name)
    problems = [Problem(name, f"shard {index}/{count} is also in {', '.join(others)}")
                for index, files in sorted(by_index.items()) if len(files) > 1
                for name, others in [(files[0], files[1:])]]
    if problems:
        raise UserError("a shard was given twice; give each shard's evidence once", problems)
    out_of_range = [name for name, part in named if not 1 <= part.shard["index"] <= count]
    if out_of_range:
        raise UserError("shard numbers out of range: " + ", ".join(out_of_range))
    missing = [index for index in range(1, count + 1) if index not in by_index]
    if missing:
        listed = ", ".join(f"{index}/{count}" for index in missing)
        raise UserError(
            f"shard {listed} missing: merging without it would pass cases that never ran; rerun "
            "the missing shard or download its evidence (got "
            + ", ".join(f"{_label(part)} from {name}" for name, part in sorted(
                named, key=lambda item: item[1].shard["index"])) + ")")

    problems, differing = [], []
    for field, show in _SAME_RUN_FIELDS.items():
        values = [getattr(part, field) for part in parts]
        if any(value != values[0] for value in values):
            differing.append(_FIELD_WORDS[field])
            problems += [Problem(name, f"{_FIELD_WORDS[field]}: {show(getattr(part, field))} "
                                       f"(shard {_label(part)})") for name, part in named]
    if problems:
        raise UserError("the shards are not of the same run: they differ in "
                        + ", ".join(differing), problems)

    owner: dict[str, str] = {}
    problems = []
    for name, part in named:
        for case_id in dict.fromkeys([*part.selected, *(c.case_id for c in part.cases)]):
            if case_id in owner:
                problems.append(Problem(name, f"case {case_id} is also in {owner[case_id]}"))
            owner[case_id] = name
    if problems:
        raise UserError("a case is in two shards: the shards were cut from different selections",
                        problems[:20])

    return _combine(sorted(parts, key=lambda part: part.shard["index"]))


def shard_finished(part: Evidence) -> bool:
    """The shard ran to its end: its footer was written, it was not interrupted, and every
    case it selected has a result. (A shard's own ``complete`` is always False: it is not a
    whole run.)"""
    ran = {case.case_id for case in part.cases}
    return part.finished_at is not None and not part.interrupted and set(part.selected) <= ran


def _combine(parts: list[Evidence]) -> Evidence:
    first = parts[0]
    cases = sorted((case for part in parts for case in part.cases),
                   key=lambda case: (case.path, case.case_id))
    paths = {case.case_id: case.path for case in cases}
    selected = sorted((case_id for part in parts for case_id in part.selected),
                      key=lambda case_id: (paths.get(case_id, ""), case_id))
    finished = [part.finished_at for part in parts]
    return Evidence(
        casebank_version=first.casebank_version,
        commit=first.commit,
        dirty=any(part.dirty for part in parts),
        config_hash=first.config_hash,
        target=first.target,
        started_at=min(part.started_at for part in parts),
        finished_at=None if None in finished else max(f for f in finished if f is not None),
        suite=first.suite,
        bank_size=first.bank_size,
        selected=selected,
        not_selected_reason=first.not_selected_reason,
        shard=None,
        complete=all(shard_finished(part) for part in parts),
        interrupted=any(part.interrupted for part in parts),
        cases=cases,
        runner={"shards": [{"shard": part.shard, **part.runner} for part in parts]},
        format_version=first.format_version,
    )
