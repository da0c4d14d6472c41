"""Regular-expression checks on the final output (RE2: linear time, no look-around)."""

from __future__ import annotations

from typing import Any

from casebank.check.describe import shorten, show, snippet
from casebank.check.kind import (ArgProblem, CheckKind, Env, Outcome, Subject, failed, output_of,
                                 passed)
from casebank.check.patterns import pattern_problem, search


def parse_pattern(args: Any) -> tuple[str, bool]:
    if isinstance(args, str):
        return args, False
    return args["pattern"], bool(args.get("ignore_case", False))


def validate_pattern(args: Any, env: Env) -> list[ArgProblem]:
    if isinstance(args, dict) and "pattern" not in args:
        return []  # the schema reports the missing key
    pattern, ignore_case = parse_pattern(args)
    problem = pattern_problem(pattern, ignore_case)
    if problem is None:
        return []
    field = ("pattern",) if isinstance(args, dict) else ()
    return [ArgProblem(field, problem[0], problem[1])]


def check_regex(args: Any, subject: Subject) -> Outcome:
    output = output_of(subject.sample)
    if isinstance(output, Outcome):
        return output
    pattern, ignore_case = parse_pattern(args)
    span = search(pattern, output, ignore_case)
    if span is None:
        return failed(f"the output does not match {show(pattern)}", pattern=pattern,
                      output=shorten(output, 500))
    return passed(f"the output matches {show(pattern)}: {snippet(output, *span)}",
                  pattern=pattern, match=shorten(output[span[0]:span[1]], 500))


def check_not_regex(args: Any, subject: Subject) -> Outcome:
    output = output_of(subject.sample)
    if isinstance(output, Outcome):
        return output
    pattern, ignore_case = parse_pattern(args)
    span = search(pattern, output, ignore_case)
    if span is None:
        return passed(f"the output does not match {show(pattern)}", pattern=pattern)
    return failed(f"the output matches {show(pattern)} at character {span[0] + 1}: "
                  f"{snippet(output, *span)}; the case forbids it", pattern=pattern,
                  match=shorten(output[span[0]:span[1]], 500))


REGEX = CheckKind("regex", "the output matches a regular expression (RE2)", check_regex,
                  validate_pattern)
NOT_REGEX = CheckKind("not_regex", "the output does not match a regular expression (RE2)",
                      check_not_regex, validate_pattern)
