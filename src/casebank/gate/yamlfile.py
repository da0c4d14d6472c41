"""Reading the small YAML files the gate owns (review files, a policy at the base commit).

Review files arrive in pull requests, so they are untrusted: size-limited, one mapping
document, no aliases, no custom tags, no duplicate keys. Line numbers are computed only
when there is a problem to report.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from casebank.errors import Problem

MAX_BYTES = 256 * 1024


class _Constructor(SafeConstructor):
    """Safe constructor that keeps dates as the strings written (validated later, with a
    line number, instead of failing inside the loader on 2026-02-30)."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)


def load(data: bytes, *, source: str, max_bytes: int = MAX_BYTES) -> dict[str, Any] | Problem:
    """One YAML mapping from ``data``, with dates as ISO strings; a Problem when it is not."""
    if len(data) > max_bytes:
        return Problem(source, f"file is {len(data)} bytes, more than the {max_bytes} allowed")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Problem(source, f"not UTF-8 text (byte {exc.start})", hint="save it as UTF-8")
    if "\x00" in text:
        return Problem(source, "binary file (contains NUL bytes)")
    yaml = YAML(typ="safe", pure=True)
    yaml.Constructor = _Constructor
    try:
        for event in yaml.parse(io.StringIO(text)):
            if isinstance(event, AliasEvent):
                mark = event.start_mark
                return Problem(source, "YAML aliases (*name) are not allowed here",
                               line=mark.line + 1, column=mark.column + 1)
        docs = list(yaml.load_all(io.StringIO(text)))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        if mark is None:
            return Problem(source, f"invalid YAML: {message}")
        return Problem(source, f"invalid YAML: {message}", line=mark.line + 1,
                       column=mark.column + 1)
    except YAMLError as exc:
        return Problem(source, f"invalid YAML: {exc}")
    if len(docs) != 1:
        return Problem(source, f"expected one YAML document, found {len(docs)}")
    doc = docs[0]
    if not isinstance(doc, dict):
        return Problem(source, "expected a mapping of keys to values at the top level", line=1)
    return plain(doc)


def plain(value: Any) -> Any:
    """Dates and datetimes as ISO strings, so schemas and comparisons see what was written."""
    if isinstance(value, dict):
        return {str(k) if isinstance(k, (dt.date, dt.datetime)) else k: plain(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def line_of(data: bytes | str | None, path: tuple[str | int, ...]) -> int | None:
    """1-based line of the value at ``path`` (falling back to its nearest ancestor).

    Works on the node tree (no construction), so it also locates values that would not
    construct, such as the date 2026-02-30. A mapping key's line is where the key is; a list
    item's line is where the item starts.
    """
    if data is None:
        return None
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    try:
        node = YAML(typ="safe", pure=True).compose(io.StringIO(text))
    except YAMLError:
        return None
    if node is None:
        return None
    line = 1
    for part in path:
        if isinstance(node, MappingNode) and isinstance(part, str):
            pair = next(((k, v) for k, v in node.value
                         if isinstance(k, ScalarNode) and k.value == part), None)
            if pair is None:
                break
            line = pair[0].start_mark.line + 1
            node = pair[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
