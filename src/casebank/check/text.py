"""Text checks on the final output: contains, not_contains, equals, starts_with, max_length."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import re2

from casebank.check.describe import shorten, show, snippet
from casebank.check.kind import (ArgProblem, CheckKind, Env, Outcome, Subject, failed, output_of,
                                 passed)
from casebank.check.patterns import search


@dataclass(frozen=True)
class Texts:
    """What ``contains``/``not_contains`` look for: ``mode`` is ``all`` or ``any``."""

    texts: tuple[str, ...]
    mode: str
    ignore_case: bool


def parse_texts(args: Any) -> Texts:
    if isinstance(args, str):
        return Texts((args,), "all", False)
    ignore_case = bool(args.get("ignore_case", False))
    if "text" in args:
        return Texts((args["text"],), "all", ignore_case)
    mode = "any" if "any" in args else "all"
    return Texts(tuple(args[mode]), mode, ignore_case)


def find(text: str, needle: str, ignore_case: bool) -> tuple[int, int] | None:
    """Where ``needle`` first occurs in ``text`` (linear time also when ignoring case)."""
    if not ignore_case:
        at = text.find(needle)
        return (at, at + len(needle)) if at >= 0 else None
    return search(re2.escape(needle), text, ignore_case=True)


def validate_texts(args: Any, env: Env) -> list[ArgProblem]:
    if isinstance(args, dict):
        given = [key for key in ("text", "any", "all") if key in args]
        if len(given) != 1:
            return [ArgProblem((), "give exactly one of `text`, `any` or `all`"
                               + (f" (found {', '.join(given)})" if given else ""))]
    return []


def _found_list(output: str, texts: Texts) -> tuple[list[tuple[str, tuple[int, int]]], list[str]]:
    found: list[tuple[str, tuple[int, int]]] = []
    missing: list[str] = []
    for needle in texts.texts:
        span = find(output, needle, texts.ignore_case)
        if span is None:
            missing.append(needle)
        else:
            found.append((needle, span))
    return found, missing


def _case_note(texts: Texts) -> str:
    return " (ignoring case)" if texts.ignore_case else ""


def _join(texts: list[str], word: str = "or") -> str:
    shown = [show(t) for t in texts]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + f" {word} {shown[-1]}"


def check_contains(args: Any, subject: Subject) -> Outcome:
    output = output_of(subject.sample)
    if isinstance(output, Outcome):
        return output
    texts = parse_texts(args)
    found, missing = _found_list(output, texts)
    evidence = {"found": [n for n, _ in found], "missing": missing, "mode": texts.mode,
                "ignore_case": texts.ignore_case}
    note = _case_note(texts)
    if texts.mode == "any":
        if found:
            needle, span = found[0]
            return passed(f"the output contains {show(needle)}{note}: {snippet(output, *span)}",
                          **evidence)
        return failed(f"the output contains none of {_join(missing)}{note}; "
                      f"the case requires at least one", output=shorten(output, 500), **evidence)
    if missing:
        count = (f" ({len(missing)} of {len(texts.texts)} required texts are missing)"
                 if len(texts.texts) > 1 else "")
        return failed(f"the output does not contain {_join(missing, 'or')}{note}{count}",
                      output=shorten(output, 500), **evidence)
    return passed(f"the output contains {_join([n for n, _ in found], 'and')}{note}", **evidence)


def check_not_contains(args: Any, subject: Subject) -> Outcome:
    output = output_of(subject.sample)
    if isinstance(output, Outcome):
        return output
    texts = parse_texts(args)
    found, missing = _found_list(output, texts)
    evidence = {"found": [n for n, _ in found], "mode": texts.mode,
                "ignore_case": texts.ignore_case}
    note = _case_note(texts)
    where = "; ".join(f"{show(n)} at character {span[0] + 1}: {snippet(output, *span)}"
                      for n, span in found)
    # not_contains with a single text or `any`: no listed text may appear;
    # with `all`: the texts may not all appear together.
    if texts.mode == "all" and len(texts.texts) > 1:
        if missing:
            return passed(f"the output does not contain all of {_join(list(texts.texts), 'and')}"
                          f" together{note} ({show(missing[0])} is absent)", **evidence)
        return failed(f"the output contains all of {_join(list(texts.texts), 'and')}{note}: "
                      f"{where}", **evidence)
    if found:
        return failed(f"the output contains {where}{note}; the case forbids it", **evidence)
    return passed(f"the output does not contain {_join(list(texts.texts))}{note}", **evidence)


def _text_arg(args: Any) -> tuple[str, bool]:
    if isinstance(args, str):
        return args, False
    return args["text"], bool(args.get("ignore_case", False))


def _first_difference(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def check_equals(args: Any, subject: Subject) -> Outcome:
    output = output_of(subject.sample)
    if isinstance(output, Outcome):
        return output
    expected, ignore_case = _text_arg(args)
    got, want = output.strip(), expected.strip()
    if ignore_case:
        got_cmp, want_cmp = got.lower(), want.lower()
    else:
        got_cmp, want_cmp = got, want
    if got_cmp == want_cmp:
        return passed(f"the output equals {show(want)}", expected=want)
    at = _first_difference(got_cmp, want_cmp)
    return failed(f"the output is {show(got)}; the case requires exactly {show(want)} "
                  f"(they differ from character {at + 1})", expected=want, output=got)


def check_starts_with(args: Any, subject: Subject) -> Outcome:
    output = output_of(subject.sample)
    if isinstance(output, Outcome):
        return output
    expected, ignore_case = _text_arg(args)
    expected, got = expected.lstrip(), output.lstrip()
    head = got[: len(expected)]
    ok = head.lower() == expected.lower() if ignore_case else head == expected
    if ok:
        return passed(f"the output starts with {show(expected)}", expected=expected)
    return failed(f"the output starts with {show(got[: len(expected) + 20])}; the case requires "
                  f"it to start with {show(expected)}", expected=expected,
                  output=shorten(output, 500))


def validate_prefix(args: Any, env: Env) -> list[ArgProblem]:
    prefix = args if isinstance(args, str) else args.get("text") if isinstance(args, dict) else None
    if isinstance(prefix, str) and not prefix.strip():
        return [ArgProblem(() if isinstance(args, str) else ("text",),
                           "every output starts with an empty text, so this check could never "
                           "fail; give the text it must start with")]
    return []


def _length_arg(args: Any) -> tuple[int, str]:
    if isinstance(args, int):
        return args, "characters"
    return args["max"], args.get("unit", "characters")


def measure(text: str, unit: str) -> int:
    if unit == "words":
        return len(text.split())
    if unit == "lines":
        return len(text.splitlines())
    return len(text)


def check_max_length(args: Any, subject: Subject) -> Outcome:
    output = output_of(subject.sample)
    if isinstance(output, Outcome):
        return output
    limit, unit = _length_arg(args)
    length = measure(output, unit)
    evidence = {"length": length, "max": limit, "unit": unit}
    if length > limit:
        return failed(f"the output is {length:,} {unit} long; the case allows at most "
                      f"{limit:,}", **evidence)
    return passed(f"the output is {length:,} {unit} long (at most {limit:,})", **evidence)


CONTAINS = CheckKind("contains", "the output contains a text (or any / all of several)",
                     check_contains, validate_texts)
NOT_CONTAINS = CheckKind("not_contains", "the output does not contain a text",
                         check_not_contains, validate_texts)
EQUALS = CheckKind("equals", "the output is exactly a text (outer whitespace ignored)",
                   check_equals)
STARTS_WITH = CheckKind("starts_with", "the output starts with a text", check_starts_with,
                        validate_prefix)
MAX_LENGTH = CheckKind("max_length", "the output is at most so many characters, words or lines",
                       check_max_length)
