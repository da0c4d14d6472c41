"""A small, safe subset of JSONPath and JSON Pointer for ``json_path`` checks.

JSONPath: ``$``, ``.name``, ``['name']`` / ``["name"]``, ``[3]``, ``[-1]`` (no wildcards,
filters or recursion: one path names one value). JSON Pointer (RFC 6901): ``/a/b/0``,
with ``~1`` for ``/`` and ``~0`` for ``~``; ``""`` is the whole document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Step = str | int


class PathError(ValueError):
    """The path is not in the supported syntax."""


def _is_name_char(ch: str, first: bool) -> bool:
    return ch == "_" or ch.isalpha() or (not first and (ch.isdigit() or ch == "-"))


def _parse_jsonpath(path: str) -> list[Step]:
    steps: list[Step] = []
    i, n = 1, len(path)
    while i < n:
        ch = path[i]
        if ch == ".":
            j = i + 1
            while j < n and _is_name_char(path[j], j == i + 1):
                j += 1
            if j == i + 1:
                raise PathError(f"expected a key name after `.` at character {i + 1}")
            steps.append(path[i + 1:j])
            i = j
        elif ch == "[":
            close = path.find("]", i)
            if close < 0:
                raise PathError(f"`[` at character {i + 1} is never closed")
            inner = path[i + 1:close].strip()
            if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                key = inner[1:-1]
                if inner[0] in key.replace("\\" + inner[0], ""):
                    raise PathError(f"unescaped quote in {inner}")
                steps.append(key.replace("\\" + inner[0], inner[0]).replace("\\\\", "\\"))
                i = close + 1
                continue
            try:
                steps.append(int(inner))
            except ValueError:
                hint = " (wildcards and filters are not supported)" if "*" in inner or "?" in inner else ""
                raise PathError(f"`[{inner}]` is neither an index nor a quoted key{hint}") from None
            i = close + 1
        else:
            raise PathError(f"unexpected `{ch}` at character {i + 1}; use `.key`, `['key']` or `[index]`")
    return steps


def _parse_pointer(path: str) -> list[Step]:
    steps: list[Step] = []
    for token in path.split("/")[1:]:
        if "~" in token.replace("~0", "").replace("~1", ""):
            raise PathError(f"`{token}`: `~` must be written `~0` (and `/` as `~1`)")
        steps.append(token.replace("~1", "/").replace("~0", "~"))
    return steps


def parse_path(path: str) -> list[Step]:
    """Steps of a JSONPath (``$.a.b[0]``) or JSON Pointer (``/a/b/0``); raises PathError."""
    if path == "" or path.startswith("/"):
        return _parse_pointer(path)
    if path.startswith("$"):
        return _parse_jsonpath(path)
    raise PathError("a path starts with `$` (JSONPath, `$.a.b[0]`) or `/` (JSON Pointer, `/a/b/0`)")


def render(steps: list[Step]) -> str:
    out = "$"
    for step in steps:
        if isinstance(step, int):
            out += f"[{step}]"
        elif step and all(_is_name_char(c, i == 0) for i, c in enumerate(step)):
            out += f".{step}"
        else:
            out += "['" + step.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return out


@dataclass(frozen=True)
class Lookup:
    found: bool
    value: Any = None
    why_missing: str = ""


def kind_of(value: Any) -> str:
    """"an object", "an array", "a string", "a boolean", "null" or "a number"."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def resolve(document: Any, steps: list[Step]) -> Lookup:
    """Follow ``steps`` into ``document``; say where the path stops when it does."""
    value = document
    for depth, step in enumerate(steps):
        here = render(steps[:depth])
        if isinstance(value, dict):
            key = str(step)
            if key not in value:
                keys = ", ".join(sorted(value)[:10]) or "none"
                return Lookup(False, why_missing=f"`{here}` has no key `{key}` (its keys: {keys})")
            value = value[key]
        elif isinstance(value, list):
            index = step if isinstance(step, int) else (int(step) if str(step).isdigit() else None)
            if index is None:
                return Lookup(False, why_missing=f"`{here}` is an array, not an object with key `{step}`")
            if not -len(value) <= index < len(value):
                return Lookup(False, why_missing=f"`{here}` has {len(value)} items, no index {index}")
            value = value[index]
        else:
            return Lookup(False, why_missing=f"`{here}` is {kind_of(value)}, not an object or array")
    return Lookup(True, value)
