"""Intake: the text of a new case file, from what is known when a lesson is first recorded.

The file is valid as written, so it can be committed and reviewed at once, but it states no
lesson yet: the user's message, the expectation and the description are placeholders marked
``TODO(casebank new)``. The placeholder expectation (``contains`` a text no model says) fails
whenever the case runs, so an unwritten case can never pass the gate, and
``casebank validate`` warns at each placeholder's line until its author replaces them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from casebank.bank.case import Case, FieldPath, Position, render_field
from casebank.bank.schema import locate
from casebank.errors import Problem

ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_ID_LENGTH = 60
# Marks every text of a new case file that its author still has to write.
PLACEHOLDER = "TODO(casebank new)"


@dataclass(frozen=True)
class NewCase:
    id: str
    title: str
    severity: str
    source: str
    ref: str | None = None
    owner: str | None = None
    date: str | None = None
    tags: tuple[str, ...] = ()
    url: str | None = None


def slugify(text: str, limit: int = MAX_ID_LENGTH) -> str:
    """``"Refund to the WRONG account!"`` -> ``refund-to-the-wrong-account``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    return slug or (words[0][:limit] if words else "case")


def free_id(wanted: str, taken: set[str]) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``... whichever is not taken."""
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted}-{n}" in taken:
        n += 1
    return f"{wanted}-{n}"


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def render(new: NewCase) -> str:
    """The commented YAML text of the new case file."""
    source = [f"  kind: {new.source}"]
    if new.ref:
        source.append(f"  ref: {_q(new.ref)}")
    if new.date:
        source.append(f"  date: {new.date}")
    if new.owner:
        source.append(f"  owner: {_q(new.owner)}")
    if new.url:
        source.append(f"  url: {_q(new.url)}")
    tags = ", ".join(_q(t) for t in new.tags)
    review = "on-fail" if new.severity in ("critical", "high") else "never"
    origin = new.ref or f"the {new.source.replace('-', ' ')}"
    user = _q(f"{PLACEHOLDER}: the user's message from {origin}")
    expect = _q(f"{PLACEHOLDER}: what the model must say")
    description = _q(f"{PLACEHOLDER}: what happened in {origin} and why this case exists")
    return f"""\
# A new case: what happened, and what the model or agent must (not) do from now on.
# Replace the three {PLACEHOLDER} texts below with the real lesson. Until then the
# case fails whenever it runs, and `casebank validate` warns at each of them.
# Format: docs/cases.md. Check kinds: docs/checks.md.
id: {new.id}
title: {_q(new.title)}
severity: {new.severity}
source:
{chr(10).join(source)}
tags: [{tags}]
# What happened and why this case exists, in a few sentences (reviewers read it):
description: {description}
# Who looks at the outputs: never | on-fail | always.
review: {review}
input:
  # The system prompt, inline or from a file (relative to the folder of casebank.yaml):
  # system: {{file: prompts/agent.md}}
  # The conversation that went wrong, oldest first, ending with the user's message, e.g.
  #   - user: "Hi, please refund order A-1042, the blender arrived broken."
  messages:
    - user: {user}
  # The tools the agent may call, each with scripted results (first match wins), e.g.
  # tools:
  #   - name: lookup_order
  #     description: Look up an order by its id.
  #     parameters: {{type: object, properties: {{order_id: {{type: string}}}}}}
  #     results:
  #       - when: {{order_id: A-1042}}
  #         result: {{order_id: A-1042, account_id: acct_personal_77}}
  #       - result: {{error: order not found}}
# Outputs vary: run the case several times; `all` of them must pass (or {{at_least: k}}).
samples: 3
pass: all
# What must (not) happen from now on, replacing the placeholder (which always fails), e.g.
#   - not_contains: acct_biz_12
#   - tool_order: [lookup_order, issue_refund]
#   - tool_args: {{tool: issue_refund, args: {{account_id: {{equals: acct_personal_77}}}}}}
expect:
  - contains: {expect}
"""


def placeholders(case: Case) -> list[Problem]:
    """A warning at every text of ``case`` that is still a ``casebank new`` placeholder."""
    return [_located(case.path, case.positions, field, "still the placeholder written by "
                     "`casebank new`", _TO_WRITE.get(str(field[0]), "write the real text"))
            for field in placeholder_fields(case.raw)]


def unwritten_input(path: str, raw: dict[str, Any],
                    positions: dict[FieldPath, Position]) -> list[Problem]:
    """Errors for a half-written case: its placeholder expectation (which always fails) is
    gone, but its input or another expectation is still a placeholder, so it could pass
    while testing a conversation or a rule nobody wrote."""
    fields = placeholder_fields(raw)
    if not fields or _still_failing(raw.get("expect")):
        return []
    return [_located(path, positions, field, "still the placeholder written by `casebank new`, "
                     "but the placeholder expectation that made this case fail is gone",
                     "write the real text: a case must not pass on a placeholder")
            for field in fields if field[0] in ("input", "expect")]


def placeholder_fields(node: Any, field: FieldPath = ()) -> list[FieldPath]:
    """Where ``node`` (a case document) holds a placeholder text."""
    if isinstance(node, str):
        return [field] if PLACEHOLDER in node else []
    if isinstance(node, dict):
        return [f for key, value in node.items() for f in placeholder_fields(value, field + (key,))]
    if isinstance(node, list):
        return [f for index, value in enumerate(node)
                for f in placeholder_fields(value, field + (index,))]
    return []


def _still_failing(expect: Any) -> bool:
    """Whether ``expect`` still has the placeholder check, which no sample passes."""
    return isinstance(expect, list) and any(
        isinstance(item, dict) and isinstance(item.get("contains"), str)
        and item["contains"].startswith(PLACEHOLDER) for item in expect)


def _located(path: str, positions: dict[FieldPath, Position], field: FieldPath, message: str,
             hint: str) -> Problem:
    pos = locate(positions, field)
    return Problem(path, message, pos.line if pos else 1, pos.column if pos else 1,
                   render_field(field) or None, hint)


_TO_WRITE = {
    "input": "paste the conversation that went wrong; until then the case fails when run",
    "expect": "state what must (not) happen (docs/checks.md); until then the case fails "
              "when run",
    "description": "say what happened and why this case exists; reviewers read it",
}
