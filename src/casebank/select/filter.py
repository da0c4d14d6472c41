"""``--select`` expressions: which cases of the bank a run covers.

One expression is one or more terms joined by commas, any of which may match (OR)::

    id:refund-*                 case id, shell-style glob
    tag:refunds                 a tag of the case (glob allowed: tag:pay*)
    severity:critical           exactly this severity
    severity:>=high             this severity or worse (also >, <=, <)
    path:cases/payments/*       the case file's repo-relative path (glob)
    source:incident             the kind of lesson the case records

A term without a key reuses the key before it: ``tag:refunds,billing`` is
``tag:refunds,tag:billing``. Repeating ``--select`` narrows: every expression must match (AND).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass

from casebank.bank.case import SEVERITIES, SOURCE_KINDS, Case
from casebank.errors import UserError

ALLOWED_FORMS = ("id:GLOB", "tag:NAME", "severity:LEVEL", "severity:>=LEVEL", "path:GLOB",
                 "source:KIND")
# SEVERITIES lists the worst first; a larger rank is more severe.
_RANK = {name: len(SEVERITIES) - i for i, name in enumerate(SEVERITIES)}
_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "=": lambda a, b: a == b,
    "": lambda a, b: a == b,
}


@dataclass(frozen=True)
class Term:
    """One ``key:value`` alternative of an expression."""

    key: str
    value: str

    def matches(self, case: Case) -> bool:
        if self.key == "id":
            return fnmatch.fnmatchcase(case.id, self.value)
        if self.key == "tag":
            return any(fnmatch.fnmatchcase(tag, self.value) for tag in case.tags)
        if self.key == "path":
            return fnmatch.fnmatchcase(case.path, self.value)
        if self.key == "source":
            return case.source.kind == self.value
        op, level = _split_comparison(self.value)
        return _COMPARISONS[op](_RANK.get(case.severity, 0), _RANK[level])

    def __str__(self) -> str:
        return f"{self.key}:{self.value}"


def _split_comparison(value: str) -> tuple[str, str]:
    for op in (">=", "<=", ">", "<", "="):
        if value.startswith(op):
            return op, value[len(op):].strip()
    return "", value


def _error(expression: str, why: str) -> UserError:
    return UserError(f"--select {expression!r}: {why}. Allowed forms: "
                     f"{', '.join(ALLOWED_FORMS)}; join alternatives with a comma "
                     "(tag:refunds,tag:billing) and repeat --select to require all of them.")


def parse_expression(expression: str) -> tuple[Term, ...]:
    """Parse one ``--select`` expression into its OR-ed terms (UserError when malformed)."""
    if not expression.strip():
        raise _error(expression, "the expression is empty")
    terms: list[Term] = []
    key: str | None = None
    for raw in expression.split(","):
        part = raw.strip()
        if not part:
            raise _error(expression, "there is an empty alternative between commas")
        name, sep, value = part.partition(":")
        if sep:
            key, value = name.strip().lower(), value.strip()
        elif key is None:
            raise _error(expression, f"{part!r} has no key")
        else:
            value = part
        if key not in ("id", "tag", "severity", "path", "source"):
            raise _error(expression, f"unknown key {key!r}")
        if not value:
            raise _error(expression, f"{key}: needs a value")
        if key == "severity":
            op, level = _split_comparison(value)
            if level not in _RANK:
                raise _error(expression, f"unknown severity {level!r} (severities, worst first: "
                                         f"{', '.join(SEVERITIES)})")
            value = f"{op}{level}"
        if key == "source" and value not in SOURCE_KINDS:
            raise _error(expression, f"unknown source kind {value!r} (kinds: "
                                     f"{', '.join(SOURCE_KINDS)})")
        terms.append(Term(key, value))
    return tuple(terms)


def select_cases(cases: list[Case], expressions: list[str]) -> list[Case]:
    """The cases matching every expression (AND), each expression matching any of its terms.

    All expressions are parsed before any case is looked at, so a typo fails even on an
    empty bank. No expressions selects every case. The bank's order is kept.
    """
    parsed = [parse_expression(expression) for expression in expressions]
    return [case for case in cases
            if all(any(term.matches(case) for term in terms) for terms in parsed)]


def describe(expressions: list[str]) -> str:
    """A one-line statement of the selection, for reports: ``tag:refunds AND severity:>=high``."""
    parts = []
    for expression in expressions:
        terms = [str(term) for term in parse_expression(expression)]
        parts.append(terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")")
    return " AND ".join(parts) if parts else "every case"
