"""Untrusted text (model output, check messages quoting it, case titles from a PR) → safe markdown.

Everything a model wrote, and everything a pull request author wrote, ends up in places
people trust: the PR comment, the check run, the job summary, the log. These functions make
sure such text is shown, never obeyed:

- ``@mentions`` do not notify anyone (a zero-width space follows the ``@``);
- HTML is shown as text, never rendered (``<``, ``>``, ``&`` become entities in prose);
- a fence inside the text cannot close ours (code blocks get a longer fence than any
  backtick run inside);
- lines starting with ``::`` cannot become workflow commands when printed to the log;
- control characters (terminal escapes), bidirectional overrides and lone surrogates are
  dropped; long texts are truncated with a note.
"""

from __future__ import annotations

import re

ZWSP = "\u200b"

# @user, @org/team: GitHub links (and notifies) an @ at the start or after any non-word
# character, a backslash, backtick, slash or another @ included; only emails are left alone.
_MENTION = re.compile(r"(?<!\w)@(?=[A-Za-z0-9])")
# A workflow command is a log line starting with "::" (leading whitespace allowed).
_COMMAND = re.compile(r"^(\s*):(?=:)", re.MULTILINE)
# C0/C1 controls except tab and newline (ESC too, so terminal colour codes go), bidirectional
# embeddings, overrides and isolates (they reorder what a reviewer reads), and lone
# surrogates, which JSON can spell ("\ud800") but UTF-8 cannot encode.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
# Markdown punctuation that can start emphasis, links, images, tables, strikethrough, code.
_MARKDOWN = re.compile(r"([\\`*_\[\]|~!#])")
_BACKTICKS = re.compile(r"`+")
_QUOTED = re.compile(r"`([^`]+)`")  # how check messages quote values (describe.show)


def clean(value: object) -> str:
    """Text with terminal escapes, control characters, bidirectional overrides and lone
    surrogates removed; CRLF becomes LF."""
    text = "" if value is None else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _ANSI.sub("", text))


def neutralize_mentions(text: str) -> str:
    """``@octocat`` → ``@\u200boctocat``: displayed the same, notifies nobody."""
    return _MENTION.sub("@" + ZWSP, text)


def neutralize_commands(text: str) -> str:
    """``::set-output`` at a line start → ``:\u200b:set-output``: inert in a runner's log."""
    return _COMMAND.sub(r"\1:" + ZWSP, text)


def truncate(text: str, limit: int, *, max_lines: int | None = None) -> str:
    """At most ``limit`` characters (and ``max_lines`` lines), with a note saying what was cut."""
    cut_chars = 0
    if max_lines is not None:
        lines = text.split("\n")
        if len(lines) > max_lines:
            kept = "\n".join(lines[:max_lines])
            cut_chars = len(text) - len(kept)
            text = kept
    if len(text) > limit:
        cut_chars += len(text) - limit
        text = text[:limit]
    if cut_chars:
        text = text.rstrip() + f"\n… truncated: {cut_chars:,} more characters in the evidence file"
    return text


def _one_line(value: object, limit: int) -> str:
    text = " ".join(clean(value).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN.sub(r"\\\1", text)
    return neutralize_commands(neutralize_mentions(text))


def inline(value: object, limit: int = 300) -> str:
    """Untrusted text for a markdown sentence, list item or table cell: one line, no markup.

    Newlines become spaces, HTML is escaped, markdown punctuation is backslash-escaped, so
    the text reads as written and cannot add links, images, headings or table columns.
    """
    return _escape(_one_line(value, limit))


def message(value: object, limit: int = 300) -> str:
    """A check or gate message for a sentence: ``inline``, except that its `quoted` parts
    (tool names, arguments, the text found) are shown as inline code, as the checks mean them.
    """
    text = _one_line(value, limit)
    parts, at = [], 0
    for quoted in _QUOTED.finditer(text):
        parts += [_escape(text[at:quoted.start()]), code(quoted.group(1), limit)]
        at = quoted.end()
    return "".join(parts) + _escape(text[at:])


def html(value: object, limit: int = 300) -> str:
    """Untrusted text inside an HTML element (``<summary>``): one line, escaped, no mentions."""
    text = _one_line(value, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return neutralize_commands(neutralize_mentions(text))


def code(value: object, limit: int = 120) -> str:
    """Untrusted text as inline code (an id, a path): one line, a fence longer than its backticks."""
    text = " ".join(clean(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = neutralize_mentions(text)
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(value: object, limit: int = 3000, *, max_lines: int = 60, info: str = "text") -> str:
    """Untrusted multi-line text as a fenced code block that nothing inside can close.

    The fence is one backtick longer than the longest backtick run in the text (at least
    three), so stray, broken or nested fences in model output stay inside the block.
    """
    text = truncate(clean(value), limit, max_lines=max_lines)
    text = neutralize_commands(neutralize_mentions(text))
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def plain(value: object, limit: int = 1000) -> str:
    """Untrusted text for plain-text places (check annotations, log lines): cleaned, inert."""
    text = truncate(clean(value), limit)
    return neutralize_commands(neutralize_mentions(text))


def html_comment(value: object) -> str:
    """Text safe inside ``<!-- ... -->`` (our hidden markers): no ``--``, no ``>``."""
    text = " ".join(clean(value).split())
    return text.replace("--", "\u2010\u2010").replace(">", "\u203a")
