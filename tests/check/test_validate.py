"""Load-time validation: the schema (what editors and the loader see) and validate_spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from casebank.bank.case import CheckSpec
from casebank.check import KINDS, files_under, referenced_files, validate_spec
from casebank.check.validate import checks_schema

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "support-agent"
TOOLS = ["lookup_order", "issue_refund", "request_confirmation", "delete_account"]


def problems(kind: str, args: Any, root: Path = EXAMPLE, name: str | None = None,
             tools: list[str] | None = TOOLS) -> list[tuple[str | None, str]]:
    found = validate_spec(CheckSpec(kind, args, 0, 12, name), root=root,
                          read_file=files_under(root), tools=tools)
    assert all(p.path == "" and p.line is None for p in found)  # the loader fills these
    return [(p.field, p.message + (f" ({p.hint})" if p.hint else "")) for p in found]


def item_validator() -> Draft202012Validator:
    schema = dict(checks_schema())
    schema["$ref"] = "#/$defs/check"
    return Draft202012Validator(schema)


def test_the_schema_is_valid_and_names_exactly_the_registered_kinds():
    schema = checks_schema()
    Draft202012Validator.check_schema(schema)
    assert schema == json.loads((REPO / "bank-schema" / "checks.schema.json").read_text())
    kinds = set(schema["$defs"]["check"]["properties"]) - {"name"}
    assert kinds == set(KINDS)


def _fields_without_description(node: Any, where: str) -> list[str]:
    missing = []
    if isinstance(node, dict):
        for key, sub in (node.get("properties") or {}).items():
            if "description" not in sub:
                missing.append(f"{where}.{key}")
        for key, sub in node.items():
            missing += _fields_without_description(sub, f"{where}.{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            missing += _fields_without_description(sub, f"{where}[{i}]")
    return missing


def test_every_field_has_a_description():
    schema = checks_schema()
    assert _fields_without_description(schema, "$") == []
    assert all("description" in d for d in schema["$defs"].values())


def test_every_example_case_expectation_is_valid():
    yaml = YAML(typ="safe")
    count = 0
    for path in sorted((EXAMPLE / "cases").glob("*.yaml")):
        doc = yaml.load(path.read_text())
        tools = [t["name"] for t in doc["input"].get("tools", [])]
        for item in doc["expect"]:
            assert list(item_validator().iter_errors(item)) == [], (path.name, item)
            kind = next(k for k in item if k != "name")
            assert problems(kind, item[kind], name=item.get("name"), tools=tools) == [], path.name
            count += 1
    assert count >= 10


def test_the_schema_rejects_two_kinds_in_one_item_and_unknown_keys():
    validator = item_validator()
    assert not validator.is_valid({"contains": "a", "regex": "b"})
    assert not validator.is_valid({"name": "x", "contains": "a", "regex": "b"})
    assert not validator.is_valid({"name": "only a name"})
    assert validator.is_valid({"name": "label", "contains": "a"})
    assert not validator.is_valid({"contains": {"text": "a", "ignorecase": True}})
    assert not validator.is_valid({"any_of": [{"contains": "a", "containz": "b"}]})
    assert not validator.is_valid({"tool_args": {"tool": "t", "args": {"a": {"equal": 1}}}})


@pytest.mark.parametrize("kind, args, expected", [
    ("contains", 5, [("contains", "must be a string or a mapping, not 5")]),
    ("contains", {"text": "a", "ignorecase": True},
     [("contains", "unknown key `ignorecase`; allowed: text, any, all, ignore_case "
                   "(did you mean `ignore_case`?)")]),
    ("contains", {"text": "a", "any": ["b"]},
     [("contains", "give exactly one of `text`, `any` or `all` (found text, any)")]),
    ("contains", "", [("contains", "must not be empty")]),
    ("not_contains", {"any": []}, [("not_contains.any", "needs at least 1 item")]),
    ("equals", {"ignore_case": True}, [("equals", "`text` is required")]),
    ("starts_with", "", [("starts_with", "every output starts with an empty text, so this check "
                                         "could never fail; give the text it must start with")]),
    ("starts_with", {"text": " ", "ignore_case": True},
     [("starts_with.text", "every output starts with an empty text, so this check could never "
                           "fail; give the text it must start with")]),
    ("max_length", {"max": 10, "unit": "pages"},
     [("max_length.unit", 'must be one of characters, words, lines, not "pages"')]),
    ("json", False, [("json", "must be true, not false")]),
    ("json_schema", {}, [("json_schema", "give exactly one of `schema` (inline) or "
                                         "`schema_file` (a path)")]),
    ("json_path", {"path": "items[0]", "equals": 1},
     [("json_path.path", "invalid path 'items[0]': a path starts with `$` (JSONPath, `$.a.b[0]`) "
                         "or `/` (JSON Pointer, `/a/b/0`)")]),
    ("json_path", {"path": "$.a", "equals": 1, "in": [1]},
     [("json_path", "give at most one of `equals`, `in`, `matches`, `exists` (found equals, in)")]),
    ("tool_called", {"tool": "lookup_order", "min": 2, "max": 1},
     [("tool_called", "`min` (2) is greater than `max` (1): no run could pass")]),
    ("tool_called", "lookup_ordr",
     [("tool_called", "the case defines no tool `lookup_ordr` (its tools: delete_account, "
                      "issue_refund, lookup_order, request_confirmation) (did you mean "
                      "`lookup_order`?)")]),
    ("tool_args", {"tool": "issue_refund", "call": "all", "args": {"a": {"equals": 1}}},
     [("tool_args.call", 'must be one of every, first, any, not "all"')]),
    ("tool_args", {"tool": "issue_refund", "args": {}}, [("tool_args.args", "must not be empty")]),
    ("tool_args", {"tool": "issue_refund", "args": {"amount": {"schema": {"type": "money"}}}},
     [("tool_args.args.amount.schema", "not a valid JSON Schema: 'money' is not valid under any "
                                       "of the given schemas (at $.type)")]),
    ("tool_order", ["lookup_order"], [("tool_order", "needs at least 2 items")]),
    ("tool_order", ["lookup_order", "lookup_order"],
     [("tool_order[1]", "`lookup_order` is listed twice; list each tool once")]),
    ("confirm_before", {"tool": "delete_account"},
     [("confirm_before", "give exactly one of `confirmation` (a tool) or `user_confirms: true`")]),
    ("confirm_before", {"tool": "delete_account", "confirmation": "request_confirmation",
                        "confirm_pattern": "^yes"},
     [("confirm_before.confirm_pattern", "`confirm_pattern` applies to `user_confirms` only")]),
    ("confirm_before", {"tool": "delete_account", "confirmation": "delete_account"},
     [("confirm_before.confirmation", "the confirmation tool cannot be the tool it guards")]),
    ("max_steps", 0, [("max_steps", "must be at least 1, not 0")]),
    ("latency_ms", {"max": -1}, [("latency_ms.max", "must be more than 0, not -1")]),
    ("tokens", {"input": 5}, [("tokens", "unknown key `input`; allowed: prompt, completion, total")]),
    ("cost", "cheap", [("cost", 'must be a number or a mapping, not "cheap"')]),
    ("judge", {"rubric": "ok", "threshold": 1.5},
     [("judge.threshold", "must be at most 1, not 1.5")]),
    ("judge", {"threshold": 0.5}, [("judge", "`rubric` is required")]),
    ("judge", "   ", [("judge", "the rubric is empty")]),
    ("not", {"contains": "a", "regex": "b"},
     [("not", "one check per item: found `contains`, `regex`; write each as its own `- ` item")]),
    ("any_of", [], [("any_of", "needs at least 1 item")]),
    ("any_of", [{"contains": "a"}, {"containz": "b"}],
     [("any_of[1]", "unknown check kind `containz` (did you mean `contains`?)")]),
    ("all_of", [{"name": "just a label"}],
     [("all_of[0]", "this check names no kind; add one, e.g. `contains: ...` (see docs/checks.md)")]),
    ("all_of", [{"any_of": [{"regex": "(a"}]}],
     [("all_of[0].any_of[0].regex", "invalid regular expression '(a': missing ): (a (casebank "
                                    "uses RE2 syntax: https://github.com/google/re2/wiki/Syntax)")]),
    ("frobnicate", 1, [(None, "unknown check kind `frobnicate` (see docs/checks.md for the list)")]),
])
def test_problems_name_the_field_and_say_what_to_do(kind, args, expected):
    assert problems(kind, args) == expected


@pytest.mark.parametrize("pattern, hint", [
    ("(?<=order )A-\\d+", "RE2 has no look-behind; match the preceding text too"),
    ("^(?!.*refund)", "RE2 has no negative look-ahead; use `not_regex` for what must not appear"),
    ("(a)\\1", "casebank uses RE2 syntax: https://github.com/google/re2/wiki/Syntax"),
    ("done\\Z", "write \\z for end of text"),
])
def test_patterns_python_accepts_but_re2_does_not_are_load_errors(pattern, hint):
    ((field, message),) = problems("regex", {"pattern": pattern})
    assert field == "regex.pattern"
    assert message.startswith(f"invalid regular expression {pattern!r}: ")
    assert message.endswith(f"({hint})")
    assert problems("not_regex", pattern)[0][0] == "not_regex"
    assert problems("json_path", {"path": "$.a", "matches": pattern})[0][0] == "json_path.matches"
    assert problems("tool_args", {"tool": "issue_refund", "args": {"a": {"matches": pattern}}}
                    )[0][0] == "tool_args.args.a.matches"


def test_schema_files_must_exist_inside_the_project_and_be_schemas(tmp_path: Path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "ok.json").write_text('{"type": "object"}')
    (tmp_path / "s" / "broken.json").write_text("{")
    (tmp_path / "s" / "bad.json").write_text('{"required": "id"}')
    (tmp_path.parent / "outside.json").write_text("{}")

    def check(path: str) -> list[tuple[str | None, str]]:
        return problems("json_schema", {"schema_file": path}, root=tmp_path)

    assert check("s/ok.json") == []
    assert check("s/missing.json") == [("json_schema.schema_file", "schema file `s/missing.json` "
                                        "does not exist (paths are relative to the project root)")]
    assert check("s/broken.json")[0][1].startswith("schema file `s/broken.json` is not valid JSON:")
    assert check("s/bad.json") == [("json_schema.schema_file", "schema file `s/bad.json` is not a "
                                    "valid JSON Schema: 'id' is not of type 'array' "
                                    "(at $.required)")]
    assert check("/etc/passwd") == [("json_schema.schema_file", "schema file '/etc/passwd' is "
                                     "absolute; give a path relative to the project root")]
    assert check("../outside.json") == [("json_schema.schema_file", "schema file "
                                         "'../outside.json' leaves the project; give a path "
                                         "inside it")]
    (tmp_path / "s" / "link.json").symlink_to(tmp_path.parent / "outside.json")
    assert check("s/link.json")[0][1].startswith("schema file `s/link.json` does not exist")


def test_tools_are_only_checked_when_the_caller_knows_them():
    assert problems("tool_not_called", "anything", tools=None) == []
    assert problems("tool_order", ["a", "lookup_order"])[0] == (
        "tool_order[0]", "the case defines no tool `a` (its tools: delete_account, issue_refund, "
                         "lookup_order, request_confirmation)")


def test_referenced_files_include_nested_schema_files():
    spec = CheckSpec("any_of", [{"json_schema": {"schema_file": "a.json"}},
                                {"not": {"json_schema": {"schema_file": "b.json"}}},
                                {"contains": "x"}], 0, 1)
    assert referenced_files(spec) == ["a.json", "b.json"]
    assert referenced_files(CheckSpec("contains", "x", 0, 1)) == []
