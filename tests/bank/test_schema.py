"""The shipped schemas: valid, documented, accepting every example case, and tolerant of
other stages' parts that do not exist yet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from casebank.bank import schema
from casebank.bank.case import SEVERITIES, SOURCE_KINDS
from casebank.bank.config import load_config
from casebank.bank.load import load_bank
from tests.bank.conftest import Project, valid_case

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "support-agent"


@pytest.mark.parametrize("name", [schema.CASE, schema.CONFIG])
def test_schema_is_a_valid_2020_12_schema_with_an_id(name: str) -> None:
    doc = json.loads((REPO / "bank-schema" / name).read_text())
    Draft202012Validator.check_schema(doc)
    assert doc["$id"] == schema.BASE_URI + name
    assert doc == schema.schemas()[name]  # shipped inside the package via the symlink


def _undocumented(node: Any, where: str) -> list[str]:
    missing = []
    if isinstance(node, dict):
        for key, sub in node.get("properties", {}).items():
            if not (isinstance(sub, dict) and ("description" in sub or "$ref" in sub)):
                missing.append(f"{where}.{key}")
        for key, sub in node.items():
            missing += _undocumented(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for index, sub in enumerate(node):
            missing += _undocumented(sub, f"{where}[{index}]")
    return missing


@pytest.mark.parametrize("name", [schema.CASE, schema.CONFIG])
def test_every_field_has_a_description(name: str) -> None:
    doc = schema.schemas()[name]
    assert _undocumented(doc, "") == []
    for ref_target in doc.get("$defs", {}).values():
        assert "description" in ref_target


def test_every_example_case_is_valid_and_the_bank_covers_every_kind() -> None:
    bank = load_bank(load_config(EXAMPLE / "casebank.yaml"))
    assert [p.render() for p in bank.problems] == []
    assert len(bank.cases) >= 12
    assert {c.severity for c in bank.cases} == set(SEVERITIES)
    assert {c.source.kind for c in bank.cases} == set(SOURCE_KINDS)
    for case in bank.cases:
        assert case.source.ref and case.description.strip(), case.id
        assert case.path == f"examples/support-agent/cases/{case.id}.yaml"
    tools = {t.name for c in bank.cases for t in c.input.tools}
    assert {"lookup_order", "issue_refund", "switch_account", "request_confirmation",
            "delete_account", "escalate_to_human"} <= tools


def test_missing_defs_of_other_schemas_are_read_as_anything() -> None:
    base = schema.BASE_URI
    case = {"$id": base + "case.schema.json", "type": "object",
            "properties": {"expect": {"items": {"$ref": "checks.schema.json#/$defs/check"}},
                           "run": {"$ref": "target.schema.json#/$defs/run"}}}
    checks: dict[str, Any] = {"$id": base + "checks.schema.json", "$defs": {}}
    doc = {"expect": [{"anything": 1}], "run": {"x": 1}}
    validator = Draft202012Validator(case, registry=schema.build_registry(
        {"case.schema.json": case, "checks.schema.json": checks}))
    assert validator.is_valid(doc)  # no $defs/check yet, no target.schema.json at all
    checks["$defs"]["check"] = {"type": "object", "required": ["contains"]}
    validator = Draft202012Validator(case, registry=schema.build_registry(
        {"case.schema.json": case, "checks.schema.json": checks}))
    assert not validator.is_valid(doc)  # once written, it applies


def test_pure_python_validation_gives_the_same_answers(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write("cases/good.yaml", valid_case("good"))
    project.write("cases/bad.yaml", valid_case("bad").replace("severity: high", "sevrity: 1"))
    fast = project.cli("validate")
    monkeypatch.setenv("CASEBANK_PURE_SCHEMA", "1")
    schema.fast_validator.cache_clear()
    try:
        assert schema.fast_validator(schema.CASE) is None
        pure = project.cli("validate")
    finally:
        monkeypatch.delenv("CASEBANK_PURE_SCHEMA")
        schema.fast_validator.cache_clear()
    assert fast == pure
    assert fast[0] == 2 and "cases/bad.yaml:3:1: sevrity: unknown key" in fast[1]


def test_numbers_the_fast_validator_cannot_hold_fall_back(project: Project) -> None:
    project.write("cases/big.yaml", valid_case().replace("samples: 2", "samples: " + "9" * 40))
    code, out, _ = project.cli("validate")
    assert code == 2 and "cases/big.yaml:28:1: samples: is 9999" in out


def test_the_complete_case_in_the_docs_is_valid() -> None:
    import re

    from casebank.bank.case import Case
    from casebank.bank.files import project_reader
    from casebank.bank.limits import Limits
    from casebank.bank.load import parse_case

    doc = (REPO / "docs" / "cases.md").read_text()
    block = re.search(r"## A complete case\n\n```yaml\n(.*?)```", doc, re.S)
    assert block
    case = parse_case("docs/cases.md", block.group(1).encode(), root=EXAMPLE,
                      read_file=project_reader(EXAMPLE, Limits()), limits=Limits())
    assert isinstance(case, Case), case
    assert case.input.system and "Kestrel Home" in case.input.system
