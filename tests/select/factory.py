"""Build ``Case`` values directly, for tests that need many cases without YAML."""

from __future__ import annotations

import random

from casebank.bank.case import Case, CaseInput, Message, PassRule, Source, Tool


def make_case(case_id: str, *, severity: str = "high", tags: tuple[str, ...] = (),
              path: str | None = None, source: str = "incident", samples: int = 1,
              tools: int = 0, max_steps: int = 8) -> Case:
    tool_list = tuple(Tool(f"tool_{i}", "a tool", {"type": "object"}) for i in range(tools))
    return Case(
        id=case_id, path=path or f"cases/{case_id}.yaml", title=case_id, severity=severity,
        source=Source(source), input=CaseInput(None, (Message("user", "hi"),), tool_list, max_steps),
        expect=(), rule=PassRule(samples, samples), tags=tags)


def mixed_bank(size: int, seed: int = 7, prefix: str = "case") -> list[Case]:
    """A bank like a real one: most cases plain text with one sample, some agent cases with
    tool loops and several samples, so expected costs vary from 1 to 40."""
    rnd = random.Random(seed)
    cases = []
    for i in range(size):
        agent = rnd.random() < 0.4
        cases.append(make_case(
            f"{prefix}-{i:05d}-{rnd.randrange(1 << 20):05x}",
            samples=rnd.choice((1, 1, 1, 3, 5)),
            tools=1 if agent else 0, max_steps=rnd.choice((2, 4, 6, 8)) if agent else 8))
    return cases
