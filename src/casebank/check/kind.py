"""The shape of a check kind: how it validates its arguments and how it judges a sample.

A kind is one ``CheckKind`` value in ``casebank.check.registry.KINDS``. Its ``check``
function returns an ``Outcome`` (never raises for a model's bad output); its ``validate``
function returns the problems with its arguments that the JSON Schema cannot express.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from casebank.bank.case import Case, FieldPath
from casebank.check.context import CheckContext, ReadFile
from casebank.check.result import ERROR, FAIL, PASS, CheckResult
from casebank.run.sample import SampleOutput


@dataclass(frozen=True)
class Outcome:
    """What a check decided about one sample, before it is placed in the case file."""

    status: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    confidence: float | None = None


def passed(message: str, **evidence: Any) -> Outcome:
    return Outcome(PASS, message, evidence)


def failed(message: str, **evidence: Any) -> Outcome:
    return Outcome(FAIL, message, evidence)


def errored(message: str, **evidence: Any) -> Outcome:
    return Outcome(ERROR, message, evidence)


@dataclass(frozen=True)
class Subject:
    """What one check looks at: the case, one sample of it, and the run's context.

    ``field`` is where the check sits in the case file (``("expect", 2)`` or, inside a
    composite, ``("expect", 2, "any_of", 0)``); ``evaluate`` runs a nested check item.
    """

    case: Case
    sample: SampleOutput
    ctx: CheckContext
    field: FieldPath
    evaluate: Callable[[Any, FieldPath], Awaitable[CheckResult]]


@dataclass(frozen=True)
class ArgProblem:
    """A problem with a check's arguments; ``field`` is relative to the kind's arguments."""

    field: FieldPath
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class Env:
    """What load-time validation may consult."""

    root: Path
    read_file: ReadFile
    tools: frozenset[str] | None = None  # the case's tool names, when the caller knows them


CheckFn = Callable[[Any, Subject], Outcome | Awaitable[Outcome]]
ValidateFn = Callable[[Any, Env], list[ArgProblem]]


def no_problems(args: Any, env: Env) -> list[ArgProblem]:
    return []


def no_files(args: Any) -> list[str]:
    return []


def no_children(args: Any) -> list[tuple[FieldPath, Any]]:
    return []


@dataclass(frozen=True)
class CheckKind:
    """One kind of expectation. ``children`` lists nested check items (composites only)
    as ``(path relative to the args, item)``; ``files`` lists project files it reads."""

    name: str
    summary: str
    check: CheckFn
    validate: ValidateFn = no_problems
    files: Callable[[Any], list[str]] = no_files
    children: Callable[[Any], list[tuple[FieldPath, Any]]] = no_children


def output_of(sample: SampleOutput) -> str | Outcome:
    """The sample's final text, or an error outcome saying why there is none."""
    if sample.output is not None:
        return sample.output
    if not sample.final:
        return errored(f"the agent gave no final answer: it hit the step limit after "
                       f"{sample.steps} steps, so there is no output text to check")
    return errored("the sample has no output text to check")
