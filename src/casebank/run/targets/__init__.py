"""Targets: the model or agent a run sends cases to. One module per kind, one line in ``KINDS``.

``build_target(name, raw, ...)`` checks a ``targets:`` entry of casebank.yaml against
``bank-schema/target.schema.json#/$defs/target`` and builds the target; every problem is a
``UserError`` naming the file and the field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from casebank.errors import Problem, UserError
from casebank.run.targets import command, http, openai, replay
from casebank.bank.case import FieldPath, render_field
from casebank.run.targets.base import Locate, RunContext, Target, TargetSource

__all__ = ["KINDS", "RunContext", "Target", "TargetSource", "build_target", "validate_target",
           "validate_run_settings"]

Builder = Callable[[TargetSource, dict[str, Any], dict[str, Any]], Target]

KINDS: dict[str, Builder] = {
    "openai": openai.from_config,
    "http": http.from_config,
    "command": command.from_config,
    "replay": replay.from_config,
}

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "target.schema.json"


@cache
def _validator(definition: str) -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return Draft202012Validator({**schema, "$ref": f"#/$defs/{definition}"})


def _problems(definition: str, value: Any, source: TargetSource, prefix: FieldPath) -> list[Problem]:
    problems = []
    errors = sorted(_validator(definition).iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        message = error.message
        if error.validator == "additionalProperties":
            message += f" (allowed: {', '.join(sorted(error.schema.get('properties', {})))})"
        path = (*prefix, *error.absolute_path)
        if source.locate is not None:
            problems.append(source.locate(path, message, None))
        else:
            problems.append(Problem(source.config_path, message, field=render_field(path)))
    return problems


def validate_target(name: str, raw: Any, config_path: str = "casebank.yaml",
                    locate: Locate | None = None) -> list[Problem]:
    """Problems of one ``targets:`` entry (empty when it is valid)."""
    return _problems("target", raw, TargetSource(config_path, name, locate), ("targets", name))


def validate_run_settings(run: Any, config_path: str = "casebank.yaml",
                          locate: Locate | None = None) -> list[Problem]:
    """Problems of the ``run:`` section (empty when it is valid)."""
    return _problems("run", run or {}, TargetSource(config_path, "", locate), ("run",))


def build_target(name: str, targets: dict[str, Any], *, config_path: str = "casebank.yaml",
                 root: Path = Path("."), run_settings: dict[str, Any] | None = None,
                 locate: Locate | None = None) -> Target:
    """The target called ``name`` among the configured ``targets``; ``locate`` (usually
    ``Config.problem``) gives problems the line of the field in casebank.yaml."""
    if name not in targets:
        known = ", ".join(sorted(targets)) or "none are configured"
        raise UserError(f"no target named {name!r} in {config_path} (targets: {known})")
    raw = targets[name]
    problems = validate_target(name, raw, config_path, locate)
    if problems:
        raise UserError(f"target {name!r} in {config_path} is not valid", problems)
    defaults = {**(run_settings or {}), "root": root}
    return KINDS[raw["kind"]](TargetSource(config_path, name, locate), raw, defaults)
