"""JSON Schema validation whose regular expressions run on RE2, in time linear in the input.

jsonschema applies ``pattern`` and ``patternProperties`` (and, through them,
``additionalProperties``) with Python's backtracking ``re``: a schema from a pull request
with ``"pattern": "(a+)+$"`` would hang the gate on a long model output. The validators
made here apply those keywords with RE2. ``unevaluatedProperties`` consults
``patternProperties`` through ``re`` deep inside jsonschema, so a schema using both is
refused (``regex_problem``), like any pattern RE2 cannot compile.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema import ValidationError, validators

from casebank.check.jsonpath import render
from casebank.check.patterns import pattern_problem, search


def _matches(pattern: str, text: str) -> bool:
    return search(pattern, text) is not None


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not _matches(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: dict[str, Any], instance: Any,
                        schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _matches(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, additional: Any, instance: Any,
                           schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = [key for key in instance if key not in properties
              and not any(_matches(pattern, key) for pattern in patterns)]
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        shown = ", ".join(repr(extra) for extra in sorted(extras, key=str))
        if patterns:
            verb = "does" if len(extras) == 1 else "do"
            regexes = ", ".join(repr(pattern) for pattern in sorted(patterns))
            yield ValidationError(f"{shown} {verb} not match any of the regexes: {regexes}")
        else:
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(f"Additional properties are not allowed ({shown} {verb} "
                                  "unexpected)")


_KEYWORDS = {"pattern": _pattern, "patternProperties": _pattern_properties,
             "additionalProperties": _additional_properties}


def validator_class(schema: Any) -> Any:
    """The jsonschema validator class for ``schema``'s draft, with RE2 regexes."""
    return validators.extend(validators.validator_for(schema), _KEYWORDS)


def regex_problem(schema: Any) -> str | None:
    """Why ``schema``'s regexes cannot run on RE2 (with where they are), or None."""
    found: list[tuple[list[str | int], str]] = []
    unevaluated: list[list[str | int]] = []

    def walk(node: Any, where: list[str | int]) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.append((where + ["pattern"], node["pattern"]))
            if isinstance(node.get("patternProperties"), dict):
                found.extend((where + ["patternProperties", key], key)
                             for key in node["patternProperties"])
            if "unevaluatedProperties" in node:
                unevaluated.append(where + ["unevaluatedProperties"])
            for key, value in node.items():
                walk(value, where + [key])
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, where + [i])

    walk(schema, [])
    for where, pattern in found:
        problem = pattern_problem(pattern)
        if problem is not None:
            return (f"not usable by casebank: {problem[0]} (at {render(where)}); schema "
                    "patterns run on RE2, like regex checks")
    if found and unevaluated:
        return ("not usable by casebank: `unevaluatedProperties` together with "
                f"`patternProperties` is not supported (at {render(unevaluated[0])}); list the "
                "allowed properties instead")
    return None
