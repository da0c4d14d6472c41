"""Applying a case's expectations to one sample."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from casebank.bank.case import Case, CheckSpec, FieldPath
from casebank.check.context import CheckContext
from casebank.check.kind import Subject
from casebank.check.registry import KINDS
from casebank.check.result import ERROR, CheckResult
from casebank.check.validate import NAME
from casebank.run.sample import SampleOutput


async def _evaluate(kind_name: str, args: Any, name: str | None, field: FieldPath, line: int,
                    index: int, case: Case, sample: SampleOutput,
                    ctx: CheckContext) -> CheckResult:
    async def evaluate_child(item: Any, child_field: FieldPath) -> CheckResult:
        position = case.positions.get(child_field)
        child_line = position.line if position else line
        if not isinstance(item, dict) or len([k for k in item if k != NAME]) != 1:
            return CheckResult("?", ERROR, f"not a valid check item: {item!r}", child_line, index)
        child_kind = next(k for k in item if k != NAME)
        return await _evaluate(child_kind, item[child_kind], item.get(NAME), child_field,
                               child_line, index, case, sample, ctx)

    kind = KINDS.get(kind_name)
    if kind is None:
        return CheckResult(kind_name, ERROR, f"unknown check kind `{kind_name}`", line, index,
                           name=name)
    subject = Subject(case, sample, ctx, field, evaluate_child)
    try:
        outcome = kind.check(args, subject)
        if inspect.isawaitable(outcome):
            outcome = await outcome
    except Exception as exc:  # a bug, or arguments that skipped validation: never a pass
        return CheckResult(kind_name, ERROR, f"casebank could not apply this `{kind_name}` check: "
                           f"{type(exc).__name__}: {exc}", line, index, name=name)
    return CheckResult(kind_name, outcome.status, outcome.message, line, index,
                       outcome.evidence, outcome.confidence, name)


async def run_check(spec: CheckSpec, case: Case, sample: SampleOutput,
                    ctx: CheckContext) -> CheckResult:
    """Apply one expectation to one sample."""
    return await _evaluate(spec.kind, spec.args, spec.name, ("expect", spec.index), spec.line,
                           spec.index, case, sample, ctx)


async def run_checks(case: Case, sample: SampleOutput, ctx: CheckContext) -> list[CheckResult]:
    """One ``CheckResult`` per ``expect:`` item, in order. Judge calls run concurrently."""
    return list(await asyncio.gather(*(run_check(spec, case, sample, ctx)
                                       for spec in case.expect)))
