"""Structured-output checks: json, json_schema, json_path."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from casebank.check.jsonpath import PathError, parse_path
from casebank.check.result import ERROR, FAIL, PASS
from tests.check.build import Agent, check, context, text_sample

WIDGET = {"order_id": "A-5005", "status": "in_transit", "eta_days": 2,
          "items": [{"sku": "LAMP-1", "qty": 1}, {"sku": "a/b~c", "qty": 2}],
          "flags": {"gift": True}}
FENCED = "Here is the widget:\n```json\n" + json.dumps(WIDGET, indent=2) + "\n```\nAnything else?"

SCHEMA = {"type": "object", "required": ["order_id", "status", "eta_days"],
          "properties": {"order_id": {"type": "string", "pattern": "^A-[0-9]+$"},
                         "status": {"enum": ["processing", "in_transit", "delivered"]},
                         "eta_days": {"type": "integer", "minimum": 0}}}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "widget.schema.json").write_text(json.dumps(SCHEMA))
    (tmp_path / "schemas" / "broken.json").write_text("{not json")
    (tmp_path / "schemas" / "not-a-schema.json").write_text('{"type": 12}')
    return tmp_path


def test_json_accepts_plain_and_fenced_json():
    plain = check({"json": True}, text_sample(json.dumps(WIDGET)))
    assert (plain.status, plain.message) == (PASS, "the output is valid JSON (an object)")
    fenced = check({"json": True}, text_sample(FENCED))
    assert (fenced.status, fenced.message) == (PASS, "the ```json block is valid JSON (an object)")


def test_json_fails_on_prose_and_on_a_broken_block():
    prose = check({"json": True}, text_sample("Your order is on its way!"))
    assert prose.status == FAIL
    assert prose.message == ("the output is not valid JSON (Expecting value: line 1 column 1 "
                             "(char 0)); it starts with `Your order is on its way!`")
    broken = check({"json": True}, text_sample("```json\n{\"a\": 1,}\n```"))
    assert broken.status == FAIL
    assert broken.message.startswith("the ```json block is not valid JSON: Expecting property")
    assert check({"json": True}, text_sample(None)).status == ERROR


def test_json_schema_inline_and_from_a_file(project: Path):
    ctx = context(project)
    inline = check({"json_schema": {"schema": SCHEMA}}, text_sample(FENCED), ctx)
    assert (inline.status, inline.message) == (PASS, "the ```json block matches the inline schema")
    from_file = check({"json_schema": {"schema_file": "schemas/widget.schema.json"}},
                      text_sample(json.dumps(WIDGET)), ctx)
    assert from_file.status == PASS
    assert from_file.message == "the output matches `schemas/widget.schema.json`"


def test_json_schema_failure_names_every_offending_field(project: Path):
    wrong = {"order_id": "5005", "status": "lost", "eta_days": "soon"}
    result = check({"json_schema": {"schema_file": "schemas/widget.schema.json"}},
                   text_sample(json.dumps(wrong)), context(project))
    assert result.status == FAIL
    assert result.message == ("the output does not match `schemas/widget.schema.json`: "
                              "`$.eta_days`: 'soon' is not of type 'integer' (and 2 more problems)")
    assert result.evidence["problems"] == [
        "`$.eta_days`: 'soon' is not of type 'integer'",
        "`$.order_id`: '5005' does not match '^A-[0-9]+$'",
        "`$.status`: 'lost' is not one of ['processing', 'in_transit', 'delivered']",
    ]
    prose = check({"json_schema": {"schema": SCHEMA}}, text_sample("on its way"), context(project))
    assert prose.status == FAIL
    assert prose.message.startswith("the output is not valid JSON")


def test_json_schema_errors_when_the_schema_cannot_be_used(project: Path):
    ctx = context(project)
    missing = check({"json_schema": {"schema_file": "schemas/gone.json"}}, text_sample("{}"), ctx)
    assert missing.status == ERROR
    assert missing.message == ("schema file `schemas/gone.json` does not exist (paths are "
                               "relative to the project root)")
    broken = check({"json_schema": {"schema_file": "schemas/broken.json"}}, text_sample("{}"), ctx)
    assert broken.status == ERROR
    assert broken.message.startswith("schema file `schemas/broken.json` is not valid JSON:")
    bad = check({"json_schema": {"schema_file": "schemas/not-a-schema.json"}}, text_sample("{}"),
                ctx)
    assert bad.status == ERROR
    assert bad.message.startswith("`schemas/not-a-schema.json` is not a valid JSON Schema: 12 is "
                                  "not valid under any of the given schemas")
    outside = check({"json_schema": {"schema_file": "../etc/passwd"}}, text_sample("{}"), ctx)
    assert outside.status == ERROR
    assert outside.message == ("schema file '../etc/passwd' leaves the project; give a path "
                               "inside it")


def test_json_path_equals_in_matches_and_exists():
    out = text_sample(FENCED)
    ok = check({"json_path": {"path": "$.status", "equals": "in_transit"}}, out)
    assert (ok.status, ok.message) == (PASS, "`$.status` is `in_transit`")
    bad = check({"json_path": {"path": "$.order_id", "equals": "A-5006"}}, out)
    assert bad.status == FAIL
    assert bad.message == "`$.order_id` is `A-5005`; the case requires `A-5006`"
    pointer = check({"json_path": {"path": "/items/1/qty", "in": [2, 3]}}, out)
    assert (pointer.status, pointer.message) == (PASS, "`/items/1/qty` is `2`, one of `2`, `3`")
    not_in = check({"json_path": {"path": "$.items[0].qty", "in": [2, 3]}}, out)
    assert not_in.message == "`$.items[0].qty` is `1`; the case requires one of `2`, `3`"
    matches = check({"json_path": {"path": "$.items[-1].sku", "matches": "^a/"}}, out)
    assert matches.status == PASS
    no_match = check({"json_path": {"path": "$['items'][0]['sku']", "matches": "^a/"}}, out)
    assert no_match.message == "`$['items'][0]['sku']` is `LAMP-1`; the case requires it to match `^a/`"
    escaped = check({"json_path": {"path": "/items/1/sku", "equals": "a/b~c"}}, out)
    assert escaped.status == PASS
    exists = check({"json_path": {"path": "$.flags.gift"}}, out)
    assert (exists.status, exists.message) == (PASS, "`$.flags.gift` is present (`true`)")
    absent = check({"json_path": {"path": "$.internal_note", "exists": False}}, out)
    assert (absent.status, absent.message) == (PASS, "`$.internal_note` is absent")


def test_json_path_says_where_a_missing_path_stops():
    out = text_sample(json.dumps(WIDGET))
    missing = check({"json_path": {"path": "$.flags.express", "equals": True}}, out)
    assert missing.status == FAIL
    assert missing.message == ("`$.flags.express` is missing from the output: `$.flags` has no "
                               "key `express` (its keys: gift)")
    short = check({"json_path": {"path": "$.items[5].sku"}}, out)
    assert short.message == ("`$.items[5].sku` is missing from the output: `$.items` has 2 "
                             "items, no index 5")
    scalar = check({"json_path": {"path": "/status/code"}}, out)
    assert scalar.message == ("`/status/code` is missing from the output: `$.status` is a "
                              "string, not an object or array")
    # true is not 1: JSON types are compared strictly, numbers by value
    assert check({"json_path": {"path": "$.flags.gift", "equals": 1}}, out).status == FAIL
    assert check({"json_path": {"path": "$.eta_days", "equals": 2.0}}, out).status == PASS
    present = check({"json_path": {"path": "$.status", "exists": False}}, out)
    assert present.message == "`$.status` is present (`in_transit`); the case requires it to be absent"
    assert check({"json_path": {"path": "$.a"}}, text_sample("nope")).status == FAIL
    assert check({"json_path": {"path": "$.a"}}, text_sample(None)).status == ERROR


@pytest.mark.parametrize("path, steps", [
    ("$", []), ("", []), ("$.a.b[0]", ["a", "b", 0]), ("$['a b'][\"c\"]", ["a b", "c"]),
    ("/a~1b/c~0d/0", ["a/b", "c~d", "0"]), ("$.items[-1]", ["items", -1]),
    ("$['it\\'s']", ["it's"]),
])
def test_path_syntax(path, steps):
    assert parse_path(path) == steps


@pytest.mark.parametrize("path, message", [
    ("a.b", "a path starts with `$` (JSONPath, `$.a.b[0]`) or `/` (JSON Pointer, `/a/b/0`)"),
    ("$.a[*]", "`[*]` is neither an index nor a quoted key (wildcards and filters are not supported)"),
    ("$..a", "expected a key name after `.` at character 2"),
    ("$.a[0", "`[` at character 4 is never closed"),
    ("/a~2", "`a~2`: `~` must be written `~0` (and `/` as `~1`)"),
])
def test_path_syntax_errors(path, message):
    with pytest.raises(PathError) as info:
        parse_path(path)
    assert str(info.value) == message


def test_nan_and_infinity_are_not_json():
    # Python's json reads them, but they are not JSON: a client parsing the widget would fail.
    for text in ("NaN", '{"eta_days": Infinity}', "```json\n[-Infinity]\n```"):
        result = check({"json": True}, text_sample(text))
        assert result.status == FAIL, text
        assert "is not valid JSON" in result.message and "is not a JSON value" in result.message
    path = check({"json_path": {"path": "$.eta_days", "equals": 2}},
                 text_sample('{"eta_days": NaN}'))
    assert path.status == FAIL
    assert path.message.startswith("the output is not valid JSON (NaN is not a JSON value)")


def test_json_casebank_cannot_read_is_an_error_said_plainly():
    deep = check({"json": True}, text_sample("[" * 100_000 + "]" * 100_000))
    assert deep.status == ERROR
    assert deep.message == "the output is JSON nested too deeply for casebank to read"
    long = check({"json_path": {"path": "$.amount", "equals": 1}},
                 text_sample('{"amount": ' + "9" * 5000 + "}"))
    assert long.status == ERROR
    assert long.message == ("the output holds a number of 5,000 digits, more than casebank "
                            "reads (4,300)")


EVIL = r"(a+)+$"  # Python's backtracking `re` takes about a day on "a" * 40 + "!"


@pytest.mark.timeout(20)
def test_schema_patterns_run_in_linear_time():
    # JSON Schema `pattern` and `patternProperties` are regexes from a pull request too.
    slow = "a" * 40 + "!"
    started = time.perf_counter()
    value = check({"json_schema": {"schema": {"type": "string", "pattern": EVIL}}},
                  text_sample(json.dumps(slow)))
    assert value.status == FAIL
    assert value.message == f"the output does not match the inline schema: `$`: '{slow}' does " \
                            f"not match '{EVIL}'"
    keys = check({"json_schema": {"schema": {"type": "object", "patternProperties": {EVIL: {}},
                                             "additionalProperties": False}}},
                 text_sample(json.dumps({slow: 1, "aaa": 2})))
    assert keys.status == FAIL
    assert keys.message.endswith(f"'{slow}' does not match any of the regexes: '{EVIL}'")
    typed = check({"json_schema": {"schema": {"patternProperties": {"^a+$": {"type": "string"}}}}},
                  text_sample('{"aaa": 1, "b": 2}'))
    assert typed.status == FAIL and typed.message.endswith("`$.aaa`: 1 is not of type 'string'")
    refund = (Agent().call(("issue_refund", {"account_id": slow})).say("done").sample())
    args = check({"tool_args": {"tool": "issue_refund",
                                "args": {"account_id": {"schema": {"pattern": EVIL}}}}}, refund)
    assert args.status == FAIL
    assert time.perf_counter() - started < 5  # a bound against a hang, not a timing measurement


def test_schema_patterns_re2_cannot_run_are_load_errors():
    from casebank.check import validate_item
    problems = validate_item({"json_schema": {"schema": {"properties": {"id": {
        "pattern": "^(?!tmp-)"}}}}}, root=Path("."), read_file=lambda path: None)
    assert [(p.field, p.message) for p in problems] == [
        ("json_schema.schema", "not usable by casebank: invalid regular expression "
                               "'^(?!tmp-)': invalid perl operator: (?! (at "
                               "$.properties.id.pattern); schema patterns run on RE2, like regex "
                               "checks")]
    mixed = check({"json_schema": {"schema": {"patternProperties": {"^x-": {}},
                                              "unevaluatedProperties": False}}},
                  text_sample('{"x-a": 1}'))
    assert mixed.status == ERROR
    assert mixed.message == ("the inline schema is not usable by casebank: "
                             "`unevaluatedProperties` together with `patternProperties` is not "
                             "supported (at $.unevaluatedProperties); list the allowed properties "
                             "instead")
    extra = check({"json_schema": {"schema": {"properties": {"a": {}},
                                              "additionalProperties": False}}},
                  text_sample('{"a": 1, "b": 2}'))
    assert extra.message.endswith("Additional properties are not allowed ('b' was unexpected)")
