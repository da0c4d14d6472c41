"""Structured-output checks: json, json_schema, json_path."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any

from jsonschema import exceptions as schema_errors

from casebank.check import jsonpath, re2_schema
from casebank.check.describe import plural, shorten, show
from casebank.check.kind import (ArgProblem, CheckKind, Env, Outcome, Subject, errored, failed,
                                 output_of, passed)
from casebank.check.patterns import pattern_problem, search
from casebank.check.values import one_of, same

MAX_SCHEMA_ERRORS = 20


MAX_INT_DIGITS = 4300  # Python's limit on reading a long integer


@dataclass(frozen=True)
class ParsedJson:
    ok: bool
    value: Any = None
    source: str = "the output"  # or "the ```json block"
    reason: str = ""
    unreadable: bool = False  # valid JSON casebank cannot read (too deep, a huge number)


class _Unreadable(Exception):
    """Valid JSON beyond what casebank reads."""


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise _Unreadable(f"holds a number of {len(digits.lstrip('-')):,} digits, more than "
                          f"casebank reads ({MAX_INT_DIGITS:,})")
    return int(digits)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _decode(text: str, source: str) -> ParsedJson:
    """``text`` as strict JSON: NaN and Infinity, which Python's json accepts, are not JSON."""
    try:
        return ParsedJson(True, json.loads(text, parse_int=_integer, parse_constant=_not_json),
                          source)
    except RecursionError:
        return ParsedJson(False, source=source, unreadable=True,
                          reason=f"{source} is JSON nested too deeply for casebank to read")
    except _Unreadable as exc:
        return ParsedJson(False, source=source, unreadable=True, reason=f"{source} {exc}")
    except ValueError as exc:  # json.JSONDecodeError, NaN / Infinity
        return ParsedJson(False, source=source, reason=str(exc))


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """``(language, body)`` of each ``` fenced block, found without regexes."""
    blocks = []
    at = 0
    while (start := text.find("```", at)) >= 0:
        line_end = text.find("\n", start)
        if line_end < 0:
            break
        end = text.find("```", line_end)
        if end < 0:
            break
        blocks.append((text[start + 3:line_end].strip().lower(), text[line_end + 1:end]))
        at = end + 3
    return blocks


def parse_json_output(text: str) -> ParsedJson:
    """The JSON in the output: the whole output, else the first ```json (or bare ```) block."""
    whole = _decode(text, "the output")
    if whole.ok or whole.unreadable:
        return whole
    blocks = _fenced_blocks(text)
    chosen = next((b for b in blocks if b[0] == "json"), None) or next(
        (b for b in blocks if b[0] == ""), None)
    if chosen is not None:
        block = _decode(chosen[1], "the ```json block" if chosen[0] == "json" else "the ``` block")
        if block.ok or block.unreadable:
            return block
        return replace(block, reason=f"{block.source} is not valid JSON: {block.reason}")
    return replace(whole, reason=f"the output is not valid JSON ({whole.reason}); it starts "
                   f"with {show(text.strip()[:60] or '(empty)')}")


def _json_of(subject: Subject) -> ParsedJson | Outcome:
    output = output_of(subject.sample)
    if isinstance(output, Outcome):
        return output
    parsed = parse_json_output(output)
    if not parsed.ok:
        return (errored if parsed.unreadable else failed)(parsed.reason,
                                                          output=shorten(output, 500))
    return parsed


def check_json(args: Any, subject: Subject) -> Outcome:
    parsed = _json_of(subject)
    if isinstance(parsed, Outcome):
        return parsed
    return passed(f"{parsed.source} is valid JSON ({jsonpath.kind_of(parsed.value)})",
                  source=parsed.source)


# --- json_schema -----------------------------------------------------------------------------

def _schema_file_problem(path: Any) -> str | None:
    if not isinstance(path, str) or not path:
        return "`schema_file` must be a path relative to the project root"
    pure = PurePosixPath(path)
    if pure.is_absolute() or "\\" in path or (len(path) > 1 and path[1] == ":"):
        return f"schema file {path!r} is absolute; give a path relative to the project root"
    if ".." in pure.parts:
        return f"schema file {path!r} leaves the project; give a path inside it"
    return None


def load_schema_file(path: str, read_file: Any) -> tuple[Any, str | None]:
    """The parsed schema file, or why it cannot be used."""
    problem = _schema_file_problem(path)
    if problem:
        return None, problem
    data = read_file(path)
    if data is None:
        return None, f"schema file `{path}` does not exist (paths are relative to the project root)"
    try:
        return json.loads(data), None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"schema file `{path}` is not valid JSON: {exc}"


@functools.lru_cache(maxsize=256)
def _validator(schema_text: str) -> Any:
    schema = json.loads(schema_text)
    cls = re2_schema.validator_class(schema)
    cls.check_schema(schema)
    return cls(schema)


def schema_validator(schema: Any) -> Any:
    """A validator for ``schema`` (cached, its regexes on RE2); raises ``SchemaError`` when
    it is not a schema."""
    return _validator(json.dumps(schema, sort_keys=True))


def schema_problem(schema: Any) -> str | None:
    try:
        schema_validator(schema)
    except schema_errors.SchemaError as exc:
        where = jsonpath.render(list(exc.absolute_path)) if exc.absolute_path else "the schema"
        return f"not a valid JSON Schema: {exc.message} (at {where})"
    return re2_schema.regex_problem(schema)


def schema_failures(schema: Any, value: Any) -> list[str]:
    """Every way ``value`` fails ``schema``, each with the JSONPath of the offending part."""
    errors = sorted(schema_validator(schema).iter_errors(value),
                    key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [f"`{jsonpath.render(list(e.absolute_path))}`: {e.message}" for e in errors]


def validate_json_schema(args: Any, env: Env) -> list[ArgProblem]:
    given = [key for key in ("schema", "schema_file") if key in args]
    if len(given) != 1:
        return [ArgProblem((), "give exactly one of `schema` (inline) or `schema_file` (a path)")]
    if "schema" in args:
        problem = schema_problem(args["schema"])
        return [ArgProblem(("schema",), problem)] if problem else []
    schema, problem = load_schema_file(args["schema_file"], env.read_file)
    if problem is None:
        problem = schema_problem(schema)
        if problem:
            problem = f"schema file `{args['schema_file']}` is {problem}"
    return [ArgProblem(("schema_file",), problem)] if problem else []


def check_json_schema(args: Any, subject: Subject) -> Outcome:
    if "schema_file" in args:
        schema, problem = load_schema_file(args["schema_file"], subject.ctx.read_file)
        if problem:
            return errored(problem)
        origin = f"`{args['schema_file']}`"
    else:
        schema, origin = args["schema"], "the inline schema"
    problem = schema_problem(schema)
    if problem:
        return errored(f"{origin} is {problem}")
    parsed = _json_of(subject)
    if isinstance(parsed, Outcome):
        return parsed
    try:
        failures = schema_failures(schema, parsed.value)
    except schema_errors.RefResolutionError as exc:  # pragma: no cover - jsonschema < 4.18
        return errored(f"{origin} has a $ref that cannot be resolved: {exc}")
    except Exception as exc:  # e.g. referencing.exceptions.Unresolvable
        return errored(f"{origin} could not be applied: {exc}")
    if not failures:
        return passed(f"{parsed.source} matches {origin}", schema=origin)
    more = f" (and {plural(len(failures) - 1, 'more problem')})" if len(failures) > 1 else ""
    return failed(f"{parsed.source} does not match {origin}: {failures[0]}{more}",
                  schema=origin, problems=failures[:MAX_SCHEMA_ERRORS])


# --- json_path -------------------------------------------------------------------------------

CONDITIONS = ("equals", "in", "matches", "exists")


def validate_json_path(args: Any, env: Env) -> list[ArgProblem]:
    problems = []
    try:
        jsonpath.parse_path(args["path"])
    except jsonpath.PathError as exc:
        problems.append(ArgProblem(("path",), f"invalid path {args['path']!r}: {exc}"))
    given = [key for key in CONDITIONS if key in args]
    if len(given) > 1:
        problems.append(ArgProblem((), f"give at most one of `equals`, `in`, `matches`, `exists` "
                                       f"(found {', '.join(given)})"))
    if "matches" in args:
        problem = pattern_problem(args["matches"])
        if problem:
            problems.append(ArgProblem(("matches",), problem[0], problem[1]))
    return problems


def check_json_path(args: Any, subject: Subject) -> Outcome:
    parsed = _json_of(subject)
    if isinstance(parsed, Outcome):
        return parsed
    path = args["path"]
    lookup = jsonpath.resolve(parsed.value, jsonpath.parse_path(path))
    evidence: dict[str, Any] = {"path": path, "found": lookup.found}
    if args.get("exists") is False:
        if lookup.found:
            return failed(f"`{path}` is present ({show(lookup.value)}); the case requires it to be "
                          f"absent", value=lookup.value, **evidence)
        return passed(f"`{path}` is absent", **evidence)
    if not lookup.found:
        return failed(f"`{path}` is missing from {parsed.source}: {lookup.why_missing}", **evidence)
    value = lookup.value
    evidence["value"] = value
    if "equals" in args:
        if same(value, args["equals"]):
            return passed(f"`{path}` is {show(value)}", **evidence)
        return failed(f"`{path}` is {show(value)}; the case requires {show(args['equals'])}",
                      **evidence)
    if "in" in args:
        options = ", ".join(show(o) for o in args["in"])
        if one_of(value, args["in"]):
            return passed(f"`{path}` is {show(value)}, one of {options}", **evidence)
        return failed(f"`{path}` is {show(value)}; the case requires one of {options}", **evidence)
    if "matches" in args:
        if not isinstance(value, str):
            return failed(f"`{path}` is {show(value)}, not a string, so it cannot match "
                          f"{show(args['matches'])}", **evidence)
        if search(args["matches"], value) is None:
            return failed(f"`{path}` is {show(value)}; the case requires it to match "
                          f"{show(args['matches'])}", **evidence)
        return passed(f"`{path}` is {show(value)}, which matches {show(args['matches'])}",
                      **evidence)
    return passed(f"`{path}` is present ({show(value)})", **evidence)


def _schema_files(args: Any) -> list[str]:
    return [args["schema_file"]] if isinstance(args, dict) and "schema_file" in args else []


JSON = CheckKind("json", "the output is valid JSON (also inside a ```json block)", check_json)
JSON_SCHEMA = CheckKind("json_schema", "the output's JSON matches a JSON Schema",
                        check_json_schema, validate_json_schema, files=_schema_files)
JSON_PATH = CheckKind("json_path", "a value in the output's JSON equals / is in / matches",
                      check_json_path, validate_json_path)
