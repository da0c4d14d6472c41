"""docs/checks.md documents every kind with an example that validates."""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml import YAML

from casebank.check import KINDS, files_under, validate_item

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "checks.md").read_text()
EXAMPLE = REPO / "examples" / "support-agent"  # schema_file examples point into it


def sections() -> dict[str, str]:
    """``### kind`` heading -> the text until the next heading."""
    parts = re.split(r"^#{2,3} ", DOC, flags=re.M)
    return {part.split("\n", 1)[0].strip(): part for part in parts[1:]}


def yaml_blocks(text: str) -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```", text, flags=re.M | re.S)


def test_every_kind_has_a_section_with_an_example_using_it():
    found = sections()
    for kind in KINDS:
        assert kind in found, f"docs/checks.md has no `### {kind}` section"
        blocks = yaml_blocks(found[kind])
        assert blocks, f"the `{kind}` section has no yaml example"
        assert any(re.search(rf"^\s*(- )?{kind}:", block, flags=re.M) for block in blocks), \
            f"the `{kind}` examples do not use it"


def test_every_example_validates():
    count = 0
    for block in yaml_blocks(DOC):
        for item in YAML(typ="safe").load(block)["expect"]:
            problems = validate_item(item, root=EXAMPLE, read_file=files_under(EXAMPLE))
            assert problems == [], (item, [p.render() for p in problems])
            count += 1
    assert count > len(KINDS)
