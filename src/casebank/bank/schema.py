"""The JSON Schemas shipped in ``casebank/schemas`` (``bank-schema/`` in the repo), compiled
once, and their errors turned into located problems a person can act on.

The case and config schemas refer to other stages' schemas (``checks.schema.json``,
``target.schema.json``, ``gate.schema.json``) by ``$id``. A ``$defs`` entry that does not
exist yet is read as ``{}`` (anything goes) until its owner writes it.
"""

from __future__ import annotations

import copy
import difflib
import functools
import importlib.resources
import json
import os
import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from casebank.bank.case import FieldPath, Position, render_field
from casebank.errors import Problem

BASE_URI = "https://casebank.dev/schema/"
CASE = "case.schema.json"
CONFIG = "config.schema.json"

_SENTENCE_END = re.compile(r"(?<!e\.g)(?<!i\.e)\.\s")
_TYPE_WORDS = {
    "string": "text",
    "object": "a mapping (key: value)",
    "array": "a list",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


@functools.cache
def schemas() -> dict[str, dict[str, Any]]:
    """Every ``*.schema.json`` shipped with casebank, by file name."""
    folder = importlib.resources.files("casebank") / "schemas"
    found: dict[str, dict[str, Any]] = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".schema.json"):
            found[entry.name] = json.loads(entry.read_text(encoding="utf-8"))
    return found


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


@functools.cache
def registry() -> Registry:
    """All shipped schemas by ``$id``."""
    return build_registry(schemas())


def build_registry(found: dict[str, dict[str, Any]]) -> Registry:
    """The schemas by ``$id``, with ``$defs`` that one refers to but that do not exist
    (yet) filled in as ``{}``."""
    resources = [
        (doc.get("$id", BASE_URI + name),
         Resource.from_contents(doc, default_specification=DRAFT202012))
        for name, doc in complete(found).items()
    ]
    return Registry().with_resources(resources)


def complete(found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Copies of the schemas, with every ``<name>.schema.json#/$defs/<x>`` that one of
    them refers to present (as ``{}`` when its owner has not written it yet)."""
    docs = {name: copy.deepcopy(doc) for name, doc in found.items()}
    for doc in list(docs.values()):
        for ref in _refs(doc):
            target, _, pointer = ref.partition("#")
            if not target or not pointer.startswith("/$defs/"):
                continue
            name = target.removeprefix(BASE_URI)
            other = docs.setdefault(name, {"$id": BASE_URI + name})
            defs = other.setdefault("$defs", {})
            defs.setdefault(pointer.removeprefix("/$defs/").split("/")[0], {})
    return docs


@functools.cache
def validator(name: str) -> Draft202012Validator:
    """The compiled validator of one shipped schema (``case.schema.json``...)."""
    resolved = registry().contents(BASE_URI + name)
    return Draft202012Validator(resolved, registry=registry())


@functools.cache
def fast_validator(name: str) -> Any | None:
    """jsonschema-rs's compiled validator for a first pass; None when it cannot compile the
    schemas or ``CASEBANK_PURE_SCHEMA`` is set (the pure-Python validator then does all the
    work). It only ever says "valid" quickly: every error is explained by the Python
    validator, which also answers where jsonschema-rs cannot (integers beyond 64 bits)."""
    if os.environ.get("CASEBANK_PURE_SCHEMA"):
        return None
    docs = complete(schemas())
    try:
        rs_registry = jsonschema_rs.Registry(
            [(doc.get("$id", BASE_URI + n), doc) for n, doc in docs.items()])
        return jsonschema_rs.Draft202012Validator(docs[name], registry=rs_registry)
    except Exception:  # noqa: BLE001 - an older or stricter jsonschema-rs: do without it
        return None


def is_valid(name: str, data: Any) -> bool:
    """Whether ``data`` is valid under the shipped schema ``name``, as fast as possible."""
    fast = fast_validator(name)
    if fast is not None:
        try:
            if fast.is_valid(data):
                return True
        except Exception:  # noqa: BLE001 - e.g. integers too large for it: ask jsonschema
            pass
    return validator(name).is_valid(data)


def locate(positions: dict[FieldPath, Position], field: FieldPath) -> Position | None:
    """Position of a field, else of its nearest ancestor that has one."""
    while True:
        pos = positions.get(field)
        if pos is not None or not field:
            return pos
        field = field[:-1]


def did_you_mean(word: str, known: Any) -> str | None:
    close = difflib.get_close_matches(word, sorted(str(k) for k in known), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def schema_problems(name: str, data: Any, positions: dict[FieldPath, Position],
                    path: str, under: FieldPath = ()) -> list[Problem]:
    """Every way ``data`` breaks the schema ``name``, located in the file ``path``.

    ``under`` prefixes field paths when ``data`` is a part of a larger document.
    Valid documents cost one fast pass; errors are only gathered for invalid ones.
    """
    if is_valid(name, data):
        return []
    check = validator(name)
    found: dict[tuple[Any, ...], Problem] = {}
    for error in check.iter_errors(data):
        for field, message, hint in _explain(error):
            full = under + field
            pos = locate(positions, full)
            problem = Problem(path, message, pos.line if pos else None,
                              pos.column if pos else None, render_field(full) or None, hint)
            found.setdefault((full, message), problem)
    return sorted(found.values(), key=lambda p: (p.line or 0, p.column or 0, p.field or ""))


Explained = tuple[FieldPath, str, str | None]


def _explain(error: ValidationError) -> list[Explained]:
    field: FieldPath = tuple(error.absolute_path)
    keyword = error.validator
    value = error.validator_value
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    about = _first_sentence(schema.get("description"))

    if keyword in ("additionalProperties", "unevaluatedProperties"):
        known = _known_keys(schema)
        extras = _unexpected(error, known)
        return [(field + (key,), f"unknown key `{key}`",
                 did_you_mean(key, known) or (f"allowed here: {', '.join(sorted(known))}"
                                              if known else None))
                for key in extras]
    if keyword == "required":
        props = schema.get("properties", {})
        return [(field, f"missing `{key}`",
                 _first_sentence(props.get(key, {}).get("description")) if isinstance(
                     props.get(key), dict) else None)
                for key in value if isinstance(instance, dict) and key not in instance]
    if keyword in ("oneOf", "anyOf"):
        return _explain_alternatives(error, about)
    if keyword == "type":
        wanted = value if isinstance(value, list) else [value]
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in wanted)
        return [(field, f"expected {words}, found {_describe(instance)}", about)]
    if keyword == "enum":
        options = ", ".join(str(v) for v in value)
        hint = did_you_mean(str(instance), value) if isinstance(instance, str) else None
        return [(field, f"`{_show(instance)}` is not one of: {options}", hint)]
    if keyword == "const":
        return [(field, f"expected `{_show(value)}`, found `{_show(instance)}`", about)]
    if keyword == "pattern":
        return [(field, f"`{_show(instance)}` is not in the expected form",
                 about or f"it must match the pattern {value}")]
    if keyword == "minItems":
        message = "must not be empty" if value == 1 else f"needs at least {value} items"
        return [(field, message, about)]
    if keyword == "maxItems":
        return [(field, f"has {len(instance)} items, at most {value} are allowed", about)]
    if keyword == "minLength":
        message = "must not be empty" if value == 1 else f"must be at least {value} characters"
        return [(field, message, about)]
    if keyword == "maxLength":
        return [(field, f"is {len(instance)} characters long, at most {value} are allowed",
                 about)]
    if keyword in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        words = {"minimum": "at least", "exclusiveMinimum": "more than",
                 "maximum": "at most", "exclusiveMaximum": "less than"}[keyword]
        return [(field, f"is {_show(instance)}, must be {words} {value}", about)]
    if keyword in ("minProperties", "maxProperties"):
        words = "at least" if keyword == "minProperties" else "at most"
        return [(field, f"has {len(instance)} keys, {words} {value} allowed here", about)]
    if keyword == "uniqueItems":
        return [(field, "has repeated items", about)]
    return [(field, error.message, about)]


def _explain_alternatives(error: ValidationError, about: str | None) -> list[Explained]:
    """For oneOf/anyOf: the alternative that came closest, or "none fits" with the spot's
    description when every alternative failed at the very top (wrong type or value)."""
    field: FieldPath = tuple(error.absolute_path)
    groups: dict[Any, list[ValidationError]] = {}
    for sub in error.context or []:
        shallow = len(sub.absolute_path) == len(error.absolute_path)
        if shallow and sub.validator in ("type", "const", "enum"):
            continue  # this alternative does not even have the right shape
        branch = sub.relative_schema_path[0] if sub.relative_schema_path else None
        groups.setdefault(branch, []).append(sub)
    if not groups:
        if not error.context:
            return [(field, "matches more than one of the allowed forms", about)]
        return [(field, f"`{_show(error.instance)}` is not valid here", about)]
    best = max(groups.values(),
               key=lambda errs: (max(len(e.absolute_path) for e in errs), -len(errs)))
    if len(groups) > 1 and max(len(e.absolute_path) for e in best) == len(field):
        # several alternatives fit the shape and each misses something at the top: no
        # single one is clearly meant, so say what is expected here instead
        return [(field, f"`{_show(error.instance)}` is not valid here", about)]
    return [item for sub in best for item in _explain(sub)]


def _known_keys(schema: dict[str, Any]) -> list[str]:
    keys = list(schema.get("properties", {}))
    for combinator in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(combinator, []):
            if isinstance(branch, dict):
                keys.extend(k for k in branch.get("properties", {}) if k not in keys)
    return keys


def _unexpected(error: ValidationError, known: list[str]) -> list[str]:
    instance = error.instance
    if not isinstance(instance, dict):
        return []
    patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})] if isinstance(
        error.schema, dict) else []
    extras = [k for k in instance if k not in known and not any(p.search(k) for p in patterns)]
    if extras:
        return extras
    return re.findall(r"'([^']*)'", error.message.split("(")[-1])  # from jsonschema's message


def _first_sentence(text: Any) -> str | None:
    if not isinstance(text, str) or not text:
        return None
    end = _SENTENCE_END.search(text)
    return text[: end.start() + 1] if end else text


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text `{_show(value)}`"
    return f"the number `{value}`"


def _show(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
