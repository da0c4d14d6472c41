"""The YAML examples of docs/cases.md and docs/config.md are valid: a reader copies them."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from casebank.bank.case import Case
from casebank.bank.config import load_config
from casebank.bank.files import project_reader
from casebank.bank.limits import Limits
from casebank.bank.load import parse_case
from casebank.bank.safeyaml import parse_yaml
from casebank.bank.schema import schemas

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "support-agent"
CASE_KEYS = set(schemas()["case.schema.json"]["properties"])
INPUT_KEYS = set(schemas()["case.schema.json"]["$defs"]["input"]["properties"])


def yaml_blocks(doc: str) -> list[tuple[int, str]]:
    """Every ```yaml block of a Markdown text (also those indented in a list), with its line."""
    found = []
    for match in re.finditer(r"^( *)```yaml\n(.*?)^\1```", doc, re.M | re.S):
        line = doc.count("\n", 0, match.start()) + 1
        found.append((line, textwrap.dedent(match.group(2))))
    return found


def load(text: str) -> Any:
    """A block as casebank reads it (dates stay text); None for one holding only comments."""
    doc = parse_yaml("docs", text.encode(), Limits())
    if isinstance(doc, list):
        assert [p.message for p in doc] == ["the file is empty"], doc
        return None
    return doc.data


def _tool(name: str) -> dict[str, Any]:
    return {"name": name, "parameters": {"type": "object"}, "results": [{"result": True}]}


def _complete_case() -> dict[str, Any]:
    """The complete case of docs/cases.md, with every tool the other examples name."""
    (first, text), *_ = yaml_blocks((REPO / "docs" / "cases.md").read_text())
    case = load(text)
    assert case["id"] == "refund-wrong-account", f"docs/cases.md:{first} is not the complete case"
    case["input"]["tools"] += [_tool("delete_account"), _tool("request_confirmation"),
                               _tool("escalate_to_human")]
    return case


CASE_BLOCKS = yaml_blocks((REPO / "docs" / "cases.md").read_text())


@pytest.mark.parametrize("line, text", CASE_BLOCKS, ids=[f"cases.md:{n}" for n, _ in CASE_BLOCKS])
def test_every_yaml_example_in_cases_md_validates(line: int, text: str) -> None:
    """A whole case validates as it is; a part of one (`input:`, `tools:`, `expect:`...)
    validates in place of that part of the complete case."""
    example = load(text)
    if example is None:
        assert text.lstrip().startswith("# yaml-language-server: $schema="), text
        return
    if "repos" in example:  # the pre-commit configuration: it names the hook we publish
        hooks = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text())
        used = {h["id"] for repo in example["repos"] for h in repo["hooks"]}
        assert used <= {h["id"] for h in hooks}
        return
    case = _complete_case()
    if "id" in example:
        case = example
    elif set(example) <= CASE_KEYS:
        for key, value in example.items():
            case[key] = {**case[key], **value} if key == "input" else value
    elif set(example) <= INPUT_KEYS:
        given = {tool["name"]: tool for tool in example.pop("tools", [])}
        case["input"]["tools"] = [given.pop(t["name"], t) for t in case["input"]["tools"]]
        case["input"]["tools"] += list(given.values())
        case["input"].update(example)
    else:
        pytest.fail(f"docs/cases.md:{line}: not a case or a part of one: {sorted(example)}")
    result = parse_case(f"docs/cases.md:{line}", json.dumps(case).encode(), root=EXAMPLE,
                        read_file=project_reader(EXAMPLE, Limits()), limits=Limits())
    assert isinstance(result, Case), [p.render() for p in result]


CONFIG_BLOCKS = yaml_blocks((REPO / "docs" / "config.md").read_text())


@pytest.mark.parametrize("line, text", CONFIG_BLOCKS,
                         ids=[f"config.md:{n}" for n, _ in CONFIG_BLOCKS])
def test_every_yaml_example_in_config_md_validates(tmp_path: Path, line: int,
                                                   text: str) -> None:
    for folder in ("cases/payments", "cases/support", "recordings"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    (tmp_path / "recordings" / "agent-v1.jsonl").write_text("")
    (tmp_path / "casebank.yaml").write_text(text)
    load_config(tmp_path / "casebank.yaml")  # raises UserError listing what is wrong


def test_the_examples_are_found() -> None:
    assert len(CASE_BLOCKS) >= 8 and len(CONFIG_BLOCKS) >= 3
    assert any(t.startswith("description: \"TODO(casebank new)") for _, t in CASE_BLOCKS)
