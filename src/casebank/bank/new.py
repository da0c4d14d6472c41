"""Intake: the text of a new case file, from what is known when a lesson is first recorded.

The file carries the provenance (source, severity, owner) and commented examples, but its
``input.messages`` and ``expect`` lists are empty on purpose: a case that passes without
stating what must happen would give the gate false confidence, so ``casebank validate``
fails, pointing at those two lines, until the author fills them in.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_ID_LENGTH = 60
# The problems a fresh case file is expected to have until its author fills it in.
TO_FILL = ("input.messages", "expect")


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
    return f"""\
# A new case: what happened, and what the model or agent must (not) do from now on.
# To finish it, fill in the two empty lists below (input.messages and expect), then run
#   casebank validate <this file>
# Format: docs/cases.md. Check kinds: docs/checks.md.
id: {new.id}
title: {_q(new.title)}
severity: {new.severity}
source:
{chr(10).join(source)}
tags: [{tags}]
# What happened and why this case exists, in a few sentences (reviewers read it):
description: ""
# Who looks at the outputs: never | on-fail | always.
review: {review}
input:
  # The system prompt, inline or from a file (relative to the folder of casebank.yaml):
  # system: {{file: prompts/agent.md}}
  # The conversation that went wrong, oldest first, ending with the user's message, e.g.
  #   - user: "Hi, please refund order A-1042, the blender arrived broken."
  messages: []
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
# What must (not) happen from now on: at least one check, e.g.
#   - not_contains: acct_biz_12
#   - tool_order: [lookup_order, issue_refund]
#   - tool_args: {{tool: issue_refund, args: {{account_id: {{equals: acct_personal_77}}}}}}
expect: []
"""
