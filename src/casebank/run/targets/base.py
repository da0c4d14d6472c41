"""What every target kind provides, and what the runner lends it for a run."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from casebank.bank.case import Case, FieldPath, render_field
from casebank.errors import Problem, UserError
from casebank.run.cache import ResponseCache
from casebank.run.sample import SampleOutput
from casebank.run.stats import RunnerStats
from casebank.run.transport import Transport


@dataclass
class RunContext:
    """Shared by every sample of a run: one connection pool, one cache, one set of counters."""

    transport: Transport
    cache: ResponseCache
    stats: RunnerStats
    root: Path


class Target(Protocol):
    """The model or agent under test. One module per kind in ``casebank.run.targets``."""

    name: str
    kind: str
    prices: dict[str, float] | None

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the target's behaviour: kind, base URL, model, params. Never secrets."""
        ...

    async def run(self, case: Case, sample: int, ctx: RunContext) -> SampleOutput:
        """Run sample ``sample`` (0-based) of ``case``; every failure is a value, never raised."""
        ...


# Locates a field of casebank.yaml: (field path, message, hint) -> Problem with its line.
Locate = Callable[[FieldPath, str, "str | None"], Problem]


@dataclass(frozen=True)
class TargetSource:
    """Where a target's settings came from, for messages: the config file and the target name."""

    config_path: str
    name: str
    locate: Locate | None = None

    def field_problem(self, field: FieldPath, message: str, hint: str | None = None) -> Problem:
        path: FieldPath = ("targets", self.name, *field)
        if self.locate is not None:
            return self.locate(path, message, hint)
        return Problem(self.config_path, message, field=render_field(path), hint=hint)

    def problem(self, field: str, message: str, hint: str | None = None) -> UserError:
        return UserError(f"target {self.name!r} is not usable",
                         [self.field_problem((field,) if field else (), message, hint)])


def api_key_from_env(source: TargetSource, key_env: str | None) -> str | None:
    """The API key in the environment variable ``key_env`` (None: the target needs none)."""
    if not key_env:
        return None
    key = os.environ.get(key_env)
    if not key:
        raise source.problem("api_key_env", f"environment variable {key_env} is not set",
                             hint=f"export {key_env}=... with the API key, or remove api_key_env "
                                  "for an endpoint that needs no key")
    return key


def cache_identity(fingerprint: dict[str, Any]) -> dict[str, Any]:
    """The fingerprint without the target's name: two names for one model share answers."""
    return {k: v for k, v in fingerprint.items() if k != "name"}


def compute_cost(prompt_tokens: int | None, completion_tokens: int | None,
                 prices: dict[str, float] | None) -> float | None:
    """USD cost from usage and ``prices`` (``prompt_per_1k``, ``completion_per_1k``)."""
    if not prices or prompt_tokens is None or completion_tokens is None:
        return None
    return round(prompt_tokens / 1000 * float(prices.get("prompt_per_1k", 0))
                 + completion_tokens / 1000 * float(prices.get("completion_per_1k", 0)), 8)
