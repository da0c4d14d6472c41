"""Load-time validation of one ``expect:`` item: its shape (the JSON Schema) and its meaning
(regexes compile in RE2, schema files exist and are schemas, bounds make sense, ...)."""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Collection
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from casebank.bank.case import CheckSpec, FieldPath, render_field
from casebank.check.context import ReadFile
from casebank.check.kind import Env
from casebank.check.registry import KINDS
from casebank.errors import Problem

NAME = "name"
TYPE_WORDS = {"string": "a string", "object": "a mapping", "array": "a list",
              "integer": "a whole number", "number": "a number", "boolean": "true or false",
              "null": "null"}


@functools.cache
def checks_schema() -> dict[str, Any]:
    """bank-schema/checks.schema.json, as shipped inside the package."""
    text = resources.files("casebank").joinpath("schemas/checks.schema.json").read_text("utf-8")
    return json.loads(text)


@functools.cache
def _item_validator() -> Draft202012Validator:
    schema = dict(checks_schema())
    schema["$ref"] = "#/$defs/check"
    return Draft202012Validator(schema)


def _kinds_hint(key: str) -> str | None:
    close = difflib.get_close_matches(key, list(KINDS), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def item_kind(item: Any) -> tuple[str | None, list[tuple[str, str | None]]]:
    """The one check kind an ``expect:`` item names, or what is wrong with its keys."""
    if not isinstance(item, dict):
        return None, [("a check is a mapping with one check kind as its key, e.g. "
                       "`- contains: refund`", None)]
    keys = [key for key in item if key != NAME]
    unknown = [key for key in keys if key not in KINDS]
    if unknown:
        return None, [(f"unknown check kind `{key}`", _kinds_hint(str(key))
                       or "see docs/checks.md for the list") for key in unknown]
    if not keys:
        return None, [("this check names no kind; add one, e.g. `contains: ...` "
                       "(see docs/checks.md)", None)]
    if len(keys) > 1:
        return None, [(f"one check per item: found {', '.join(f'`{k}`' for k in keys)}; "
                       f"write each as its own `- ` item", None)]
    return keys[0], []


def _walk_kinds(item: Any, path: FieldPath, out: list[Problem], items: set[FieldPath],
                bad: set[FieldPath]) -> None:
    items.add(path)
    kind, problems = item_kind(item)
    if problems:
        bad.add(path)
    for message, hint in problems:
        out.append(Problem("", message, field=render_field(path) or None, hint=hint))
    if kind is not None:
        for rel, child in KINDS[kind].children(item[kind]):
            _walk_kinds(child, path + (kind,) + rel, out, items, bad)


def _schema_message(error: ValidationError) -> tuple[str, str | None]:
    validator, value, instance = error.validator, error.validator_value, error.instance
    if validator == "additionalProperties" and isinstance(instance, dict):
        allowed = list(error.schema.get("properties", {}))
        extra = [k for k in instance if k not in allowed]
        hint = None
        if extra:
            close = difflib.get_close_matches(str(extra[0]), allowed, n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`?" if close else None
        return (f"unknown key{'s' if len(extra) > 1 else ''} "
                f"{', '.join(f'`{k}`' for k in extra)}; allowed: {', '.join(allowed)}", hint)
    if validator == "type":
        types = [value] if isinstance(value, str) else list(value)
        words = " or ".join(TYPE_WORDS.get(t, t) for t in types)
        return f"must be {words}, not {json.dumps(instance)[:60]}", None
    if validator == "required":
        missing = [k for k in value if isinstance(instance, dict) and k not in instance]
        return f"`{missing[0] if missing else value[0]}` is required", None
    if validator == "enum":
        return (f"must be one of {', '.join(map(str, value))}, not {json.dumps(instance)}",
                None)
    if validator == "const":
        return f"must be {json.dumps(value)}, not {json.dumps(instance)[:60]}", None
    if validator == "minItems":
        return f"needs at least {value} item{'s' if value > 1 else ''}", None
    if validator in ("minimum", "exclusiveMinimum"):
        word = "at least" if validator == "minimum" else "more than"
        return f"must be {word} {value}, not {instance}", None
    if validator == "maximum":
        return f"must be at most {value}, not {instance}", None
    if validator in ("minLength", "minProperties"):
        return "must not be empty", None
    return error.message, None


def _schema_problems(item: Any, items: set[FieldPath], bad: set[FieldPath]) -> list[Problem]:
    problems = []
    for error in _item_validator().iter_errors(item):
        for leaf in _leaves(error):
            path = tuple(leaf.absolute_path)
            # Items whose keys are wrong are already reported by _walk_kinds, in words.
            if path in bad or (path in items and leaf.validator in (
                    "minProperties", "maxProperties", "additionalProperties")):
                continue
            message, hint = _schema_message(leaf)
            problems.append(Problem("", message, field=render_field(path) or None, hint=hint))
    unique = {(p.field, p.message): p for p in problems}
    return list(unique.values())


def _leaves(error: ValidationError) -> list[ValidationError]:
    return [error] if not error.context else [e for c in error.context for e in _leaves(c)]


def _semantic_problems(item: dict[str, Any], path: FieldPath, env: Env) -> list[Problem]:
    kind_name = next(key for key in item if key != NAME)
    kind = KINDS[kind_name]
    args = item[kind_name]
    out = [Problem("", p.message, field=render_field(path + (kind_name,) + p.field), hint=p.hint)
           for p in kind.validate(args, env)]
    for rel, child in kind.children(args):
        out += _semantic_problems(child, path + (kind_name,) + rel, env)
    return out


def validate_item(item: Any, *, root: Path, read_file: ReadFile,
                  tools: Collection[str] | None = None) -> list[Problem]:
    """Problems with one ``expect:`` item as written (a mapping); fields relative to it."""
    problems: list[Problem] = []
    items: set[FieldPath] = set()
    bad: set[FieldPath] = set()
    _walk_kinds(item, (), problems, items, bad)
    problems += _schema_problems(item, items, bad)
    if problems:
        return problems
    env = Env(root, read_file, frozenset(tools) if tools is not None else None)
    return _semantic_problems(item, (), env)


def validate_spec(spec: CheckSpec, *, root: Path, read_file: ReadFile,
                  tools: Collection[str] | None = None) -> list[Problem]:
    """Load-time validation of one expectation: shape and meaning, every problem at once.

    ``Problem.path``/``line`` are left empty for the loader to fill; ``field`` is relative
    to the expect item (``regex.pattern``, ``any_of[1].tool_args.args.amount``). Pass the
    case's tool names as ``tools`` to catch misspelt tool names at load time.
    """
    item: dict[str, Any] = {spec.kind: spec.args}
    if spec.name is not None:
        item[NAME] = spec.name
    return validate_item(item, root=root, read_file=read_file, tools=tools)


def referenced_files(spec: CheckSpec) -> list[str]:
    """Project files this expectation reads (e.g. ``json_schema.schema_file``), for the
    case's content hash and reference checks."""
    files: list[str] = []

    def visit(kind_name: str, args: Any) -> None:
        kind = KINDS.get(kind_name)
        if kind is None:
            return
        files.extend(kind.files(args))
        for _, child in kind.children(args):
            if isinstance(child, dict):
                for key, value in child.items():
                    if key != NAME:
                        visit(key, value)

    visit(spec.kind, spec.args)
    return files
