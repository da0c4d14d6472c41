"""Regular expressions from case files, compiled with RE2 so no pattern can hang the gate.

RE2 matches in time linear in the input: patterns that backtrack exponentially in
Python's ``re`` (``(a+)+$``) cannot stall a run. The price is that look-around and
back-references are not supported; such patterns are rejected when the case is loaded.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import re2

MAX_PATTERN_MEMORY = 8 << 20  # bytes per compiled pattern (RE2's default)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

_HINTS = (
    ("(?=", "RE2 has no look-ahead; match the text itself or split into two checks"),
    ("(?!", "RE2 has no negative look-ahead; use `not_regex` for what must not appear"),
    ("(?<=", "RE2 has no look-behind; match the preceding text too"),
    ("(?<!", "RE2 has no look-behind; use `not_regex` for what must not appear"),
    ("\\Z", "write \\z for end of text"),
)


def _options(ignore_case: bool) -> re2.Options:
    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.log_errors = False
    options.max_mem = MAX_PATTERN_MEMORY
    return options


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str, ignore_case: bool = False) -> Any:
    """Compile with RE2; raises ``re2.error`` for invalid or unsupported patterns."""
    return re2.compile(pattern, _options(ignore_case))


def pattern_problem(pattern: Any, ignore_case: bool = False) -> tuple[str, str | None] | None:
    """Why ``pattern`` cannot be used, as ``(message, hint)``; None when it compiles."""
    if not isinstance(pattern, str):
        return "a regular expression must be a string", None
    try:
        compile_pattern(pattern, ignore_case)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        hint = next((h for token, h in _HINTS if token in pattern),
                    "casebank uses RE2 syntax: https://github.com/google/re2/wiki/Syntax")
        return f"invalid regular expression {pattern!r}: {reason}", hint
    return None


def search(pattern: str, text: str, ignore_case: bool = False) -> tuple[int, int] | None:
    """Span of the first match of ``pattern`` in ``text``, or None."""
    compiled = compile_pattern(pattern, ignore_case)
    try:
        match = compiled.search(text)
    except UnicodeEncodeError:
        # A lone surrogate (JSON can spell "\ud800") has no UTF-8 form for RE2: match it as
        # U+FFFD, one character for one, so positions stay right.
        match = compiled.search(_LONE_SURROGATE.sub("\ufffd", text))
    return match.span() if match else None
