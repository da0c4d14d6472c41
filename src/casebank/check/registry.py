"""Every check kind, by the key that names it in a case's ``expect:`` list.

A new kind is a ``CheckKind`` in its family's module (or a new module) plus one line here (and its entry in
``bank-schema/checks.schema.json`` and ``docs/checks.md``).
"""

from __future__ import annotations

from casebank.check import (budget, compose, confirm, judge, regex, structured, text, tool_args,
                            tool_order, tools)
from casebank.check.kind import CheckKind

KINDS: dict[str, CheckKind] = {kind.name: kind for kind in (
    # text
    text.CONTAINS,
    text.NOT_CONTAINS,
    text.EQUALS,
    text.STARTS_WITH,
    regex.REGEX,
    regex.NOT_REGEX,
    text.MAX_LENGTH,
    # structured output
    structured.JSON,
    structured.JSON_SCHEMA,
    structured.JSON_PATH,
    # agent tool policy
    tools.TOOL_CALLED,
    tools.TOOL_NOT_CALLED,
    tool_args.TOOL_ARGS,
    tool_order.TOOL_ORDER,
    confirm.CONFIRM_BEFORE,
    tools.MAX_TOOL_CALLS,
    tools.MAX_STEPS,
    tools.NO_TOOL_AFTER_FINAL,
    # budgets
    budget.LATENCY,
    budget.TOKENS,
    budget.COST,
    # judge
    judge.JUDGE,
    # composition
    compose.NOT,
    compose.ANY_OF,
    compose.ALL_OF,
)}
