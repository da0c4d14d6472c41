"""Composition: not, any_of, all_of. Unknown is never a pass, also when nested."""

from __future__ import annotations

import asyncio
from typing import Any

from casebank.bank.case import FieldPath
from casebank.check.kind import CheckKind, Outcome, Subject
from casebank.check.result import ERROR, FAIL, PASS, UNCERTAIN, CheckResult


def result_evidence(result: CheckResult) -> dict[str, Any]:
    """A nested check's result as it is kept in its parent's evidence."""
    return {"kind": result.kind, "name": result.name, "status": result.status,
            "message": result.message, "line": result.line, "confidence": result.confidence,
            "evidence": result.evidence}


def _not_children(args: Any) -> list[tuple[FieldPath, Any]]:
    return [((), args)]


def _list_children(args: Any) -> list[tuple[FieldPath, Any]]:
    return [((i,), item) for i, item in enumerate(args)] if isinstance(args, list) else []


async def _run_children(args: Any, subject: Subject, kind: str) -> list[CheckResult]:
    children = _not_children(args) if kind == "not" else _list_children(args)
    return list(await asyncio.gather(*(subject.evaluate(item, subject.field + (kind,) + rel)
                                       for rel, item in children)))


def _label(result: CheckResult) -> str:
    return f"{result.name} ({result.kind})" if result.name else f"`{result.kind}`"


async def check_not(args: Any, subject: Subject) -> Outcome:
    (child,) = await _run_children(args, subject, "not")
    evidence = {"checks": [result_evidence(child)]}
    if child.status == PASS:
        return Outcome(FAIL, f"the case requires this not to hold, but it did: {child.message}",
                       evidence)
    if child.status == FAIL:
        return Outcome(PASS, f"as required, this did not hold: {child.message}", evidence)
    return Outcome(child.status, f"undecided because {_label(child)} is {child.status}: "
                                 f"{child.message}", evidence, child.confidence)


def _listed(results: list[CheckResult]) -> str:
    return "; ".join(f"{i + 1}) {_label(r)}: {r.message}" for i, r in enumerate(results))


async def check_any_of(args: Any, subject: Subject) -> Outcome:
    results = await _run_children(args, subject, "any_of")
    evidence = {"checks": [result_evidence(r) for r in results]}
    n = len(results)
    held = [r for r in results if r.status == PASS]
    if held:
        return Outcome(PASS, f"{len(held)} of {n} alternatives held: {held[0].message}", evidence)
    statuses = {r.status for r in results}
    if statuses == {FAIL}:
        return Outcome(FAIL, f"none of the {n} alternatives held: {_listed(results)}", evidence)
    status = UNCERTAIN if UNCERTAIN in statuses else ERROR
    undecided = [r for r in results if r.status == status]
    return Outcome(status, f"no alternative held and {len(undecided)} of {n} could not be "
                           f"decided: {_listed(undecided)}", evidence)


async def check_all_of(args: Any, subject: Subject) -> Outcome:
    results = await _run_children(args, subject, "all_of")
    evidence = {"checks": [result_evidence(r) for r in results]}
    n = len(results)
    for status, verb in ((FAIL, "failed"), (ERROR, "could not be decided"),
                         (UNCERTAIN, "are uncertain")):
        bad = [r for r in results if r.status == status]
        if bad:
            verb = "is uncertain" if status == UNCERTAIN and len(bad) == 1 else verb
            return Outcome(status, f"{len(bad)} of {n} required checks {verb}: {_listed(bad)}",
                           evidence)
    return Outcome(PASS, f"all {n} checks held", evidence)


NOT = CheckKind("not", "the wrapped check does not hold", check_not, children=_not_children)
ANY_OF = CheckKind("any_of", "at least one of the listed checks holds", check_any_of,
                   children=_list_children)
ALL_OF = CheckKind("all_of", "every listed check holds", check_all_of, children=_list_children)
