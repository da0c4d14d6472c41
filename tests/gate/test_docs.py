"""The examples in docs/gate.md and docs/review.md are real: they parse and validate."""

from __future__ import annotations

import re
from pathlib import Path

from casebank.gate.approval import parse_approval
from casebank.gate.policy import policy_from_yaml
from casebank.gate.review import parse_review

DOCS = Path(__file__).resolve().parents[2] / "docs"


def yaml_blocks(name: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", (DOCS / name).read_text(encoding="utf-8"), re.S)


def test_policy_example_in_gate_docs_is_valid():
    (example,) = [b for b in yaml_blocks("gate.md") if b.startswith("gate:")]
    policy = policy_from_yaml(example.encode(), source="docs/gate.md")
    assert [r.describe() for r in policy.rules] == [
        "severity critical: block on any failure",
        "severity high/medium: at most 10% failures",
        "tag refunds: at least 12 passing",
        "severity low: failures do not block",
    ]
    assert policy.waivers[0].case == "order-status-widget-json"


def test_review_file_example_in_review_docs_is_valid():
    review_block = next(b for b in yaml_blocks("review.md") if "decision: accept" in b)
    review = parse_review("reviews/tone-judge.yaml", review_block.encode())
    assert not isinstance(review, list), [p.render() for p in review]
    assert review.decision == "accept" and len(review.outputs) == 1


def test_approval_example_in_review_docs_has_the_documented_fields():
    block = next(b for b in yaml_blocks("review.md") if b.startswith("# Approval"))
    # the example shortens the fingerprint; with a full one it validates
    full = block.replace("sha256:0c4f…", "sha256:" + "0c4f" * 16)
    approval = parse_approval("reviews/changes/cases/return-policy.yaml", full.encode())
    assert not isinstance(approval, list), [p.render() for p in approval]
    assert approval.subject == "case return-policy"
