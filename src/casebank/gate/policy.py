"""The gate policy: the ``gate:`` section of casebank.yaml, validated, as a ``Policy``.

Schema: bank-schema/gate.schema.json (``$defs/gate``); reference: docs/gate.md.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from casebank.errors import Problem, UserError
from casebank.gate import yamlfile

BLOCK = "block"
HOLD = "hold"
RULES = "rules"
ACTION_REQUIRED = "action_required"
NEUTRAL = "neutral"
CRITICAL = "critical"


@dataclass(frozen=True)
class Rule:
    """A group of cases (severity AND tag; empty = any) and what its failures do."""

    index: int
    severities: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    block_on_any_failure: bool | None = None
    max_failure_rate: float | None = None
    min_pass: int | None = None
    line: int | None = None

    @property
    def group(self) -> str:
        """The group in words: "severity critical", "severity high, tag refunds", "all cases"."""
        parts = []
        if self.severities:
            parts.append("severity " + "/".join(self.severities))
        if self.tags:
            parts.append("tag " + "/".join(self.tags))
        return ", ".join(parts) or "all cases"

    @property
    def key(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return (tuple(sorted(self.severities)), tuple(sorted(self.tags)))

    def matches(self, severity: str, tags: list[str] | tuple[str, ...]) -> bool:
        if self.severities and severity not in self.severities:
            return False
        if self.tags and not set(self.tags) & set(tags):
            return False
        return True

    @property
    def tolerates(self) -> bool:
        """Failures in the group do not block one by one (a rate, a count, or false)."""
        if self.block_on_any_failure is not None:
            return not self.block_on_any_failure
        return self.max_failure_rate is not None or self.min_pass is not None

    def may_tolerate(self, severity: str) -> bool:
        """Critical cases are only tolerated by a rule that names severity critical."""
        return self.tolerates and (severity != CRITICAL or CRITICAL in self.severities)

    def describe(self) -> str:
        """The rule in words, e.g. "severity high: at most 10% failures"."""
        limits = []
        if self.block_on_any_failure is True:
            limits.append("block on any failure")
        elif self.block_on_any_failure is False:
            limits.append("failures do not block")
        if self.max_failure_rate is not None:
            limits.append(f"at most {percent(self.max_failure_rate)} failures")
        if self.min_pass is not None:
            limits.append(f"at least {self.min_pass} passing")
        return f"{self.group}: {', '.join(limits)}"


@dataclass(frozen=True)
class Waiver:
    case: str
    reason: str
    owner: str
    expires: dt.date
    line: int | None = None

    def active(self, today: dt.date) -> bool:
        """A waiver applies through its expiry day."""
        return today <= self.expires


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...] = ()
    on_error: str = BLOCK
    on_uncertain: str = HOLD
    new_failure: str = BLOCK
    hold_conclusion: str = ACTION_REQUIRED
    review_dir: str = "reviews"
    waivers: tuple[Waiver, ...] = ()
    source: str = "casebank.yaml"  # where it was read, for messages
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def rules_for(self, severity: str, tags: list[str] | tuple[str, ...]) -> list[Rule]:
        return [rule for rule in self.rules if rule.matches(severity, tags)]

    def waivers_for(self, case_id: str) -> list[Waiver]:
        return [w for w in self.waivers if w.case == case_id]


def percent(rate: float) -> str:
    text = f"{rate * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


@cache
def schema() -> dict[str, Any]:
    text = resources.files("casebank").joinpath("schemas/gate.schema.json").read_text("utf-8")
    return json.loads(text)


def parse_policy(raw: Any, *, source: str = "casebank.yaml", text: bytes | None = None,
                 prefix: tuple[str | int, ...] = ("gate",)) -> Policy:
    """Validate the ``gate:`` mapping ``raw`` (None: defaults) and build a ``Policy``.

    ``text`` is the whole file the section came from, used only to put line numbers on
    problems. Raises ``UserError`` (exit 2) listing every problem as file:line.
    """
    if raw is None:
        return Policy(source=source)
    raw = yamlfile.plain(raw)
    problems = _schema_problems(raw, source=source, text=text, prefix=prefix)
    if problems:
        raise UserError(f"invalid gate policy in {source}", problems)

    def line(*path: str | int) -> int | None:
        return yamlfile.line_of(text, prefix + path) if text is not None else None

    rules: list[Rule] = []
    seen: dict[tuple, Rule] = {}
    for index, item in enumerate(raw.get("rules", [])):
        rule = Rule(
            index=index,
            severities=_as_tuple(item.get("severity")),
            tags=_as_tuple(item.get("tag")),
            block_on_any_failure=item.get("block_on_any_failure"),
            max_failure_rate=item.get("max_failure_rate"),
            min_pass=item.get("min_pass"),
            line=line("rules", index),
        )
        if rule.key in seen:
            problems.append(_problem(source, rule.line, f"{_dotted(prefix)}.rules[{index}]",
                                     f"a second rule for {rule.group}",
                                     f"merge it with rules[{seen[rule.key].index}]"))
        seen.setdefault(rule.key, rule)
        rules.append(rule)

    waivers: list[Waiver] = []
    for index, item in enumerate(raw.get("waivers", [])):
        try:
            expires = dt.date.fromisoformat(item["expires"])
        except ValueError:
            problems.append(_problem(source, line("waivers", index, "expires"),
                                     f"{_dotted(prefix)}.waivers[{index}].expires",
                                     f"{item['expires']!r} is not a date", "write YYYY-MM-DD"))
            continue
        waiver = Waiver(case=item["case"], reason=item["reason"], owner=item["owner"],
                        expires=expires, line=line("waivers", index))
        if any(w.case == waiver.case for w in waivers):
            problems.append(_problem(source, waiver.line, f"{_dotted(prefix)}.waivers[{index}]",
                                     f"a second waiver for {waiver.case}",
                                     "keep one waiver per case"))
        waivers.append(waiver)
    if problems:
        raise UserError(f"invalid gate policy in {source}", problems)

    review = raw.get("review", {})
    review_dir = review.get("dir", "reviews").strip("/")
    if Path(review_dir).is_absolute() or ".." in Path(review_dir).parts:
        raise UserError(f"invalid gate policy in {source}", [_problem(
            source, line("review", "dir"), f"{_dotted(prefix)}.review.dir",
            f"{review_dir!r} leaves the project", "use a folder inside the project, e.g. reviews")])
    lines = {name: ln for name in ("on_error", "on_uncertain", "new_failure", "hold_conclusion",
                                   "review", "rules", "waivers")
             if name in raw and (ln := line(name)) is not None}
    return Policy(
        rules=tuple(rules),
        on_error=raw.get("on_error", BLOCK),
        on_uncertain=raw.get("on_uncertain", HOLD),
        new_failure=raw.get("new_failure", BLOCK),
        hold_conclusion=raw.get("hold_conclusion", ACTION_REQUIRED),
        review_dir=review_dir,
        waivers=tuple(sorted(waivers, key=lambda w: (w.case, w.expires))),
        source=source,
        lines=lines,
    )


def policy_from_yaml(data: bytes, *, source: str) -> Policy:
    """The policy in a whole casebank.yaml given as bytes (e.g. read at the base commit)."""
    from casebank.bank.limits import Limits
    from casebank.bank.safeyaml import parse_yaml

    doc = parse_yaml(source, data, Limits())
    if isinstance(doc, list):
        raise UserError(f"cannot read the gate policy in {source}", doc)
    raw = doc.data if isinstance(doc.data, dict) else {}
    return parse_policy(raw.get("gate"), source=source, text=data)


def policy_from_config(config: Any) -> Policy:
    """The policy of a loaded ``Config`` (its ``gate`` section, lines from its file)."""
    path = Path(config.path)
    try:
        text: bytes | None = path.read_bytes()
    except OSError:
        text = None
    source = getattr(config, "display_path", None) or path.as_posix()
    return parse_policy(config.gate or None, source=source, text=text)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(value)
    return (value,)


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problem(source: str, line: int | None, field_name: str, message: str,
             hint: str | None = None) -> Problem:
    return Problem(source, message, line=line, field=field_name, hint=hint)


def _schema_problems(raw: Any, *, source: str, text: bytes | None,
                     prefix: tuple[str | int, ...]) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(schema())
    problems = []
    for error in validator.iter_errors(raw):
        path = tuple(error.path)
        message, hint = _explain(error)
        line = yamlfile.line_of(text, prefix + path) if text is not None else None
        problems.append(_problem(source, line, _dotted(prefix + path), message, hint))
    return sorted(problems, key=lambda p: (p.line or 0, p.field or "", p.message))


def _explain(error: jsonschema.ValidationError) -> tuple[str, str | None]:
    """A message in the user's words for one schema error, with "did you mean" on typos."""
    if error.validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(known))
        hints = [f"did you mean {close[0]!r}?" for name in unknown
                 if (close := difflib.get_close_matches(name, known, n=1))]
        return (f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}",
                " ".join(hints) or f"known keys: {', '.join(known)}")
    if error.validator == "enum":
        return (f"{error.instance!r} is not allowed",
                f"use one of: {', '.join(map(str, error.validator_value))}")
    if error.validator == "anyOf" and isinstance(error.instance, dict):
        return ("a rule needs block_on_any_failure, max_failure_rate or min_pass",
                "e.g. max_failure_rate: 0.1")
    if error.validator == "oneOf":
        return (f"{error.instance!r} is not a severity/tag or a list of them",
                "severities: critical, high, medium, low")
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return f"missing {', '.join(missing)}", None
    if error.validator == "pattern" and isinstance(error.instance, str):
        return f"{error.instance!r} has the wrong form", _PATTERN_HINTS.get(error.validator_value)
    return error.message, None


_PATTERN_HINTS = {
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "write a date as YYYY-MM-DD",
    "^[a-z0-9][a-z0-9._-]*$": "a case id: lower-case letters, digits, - . _",
}
