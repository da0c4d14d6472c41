"""Untrusted model output must be shown, never obeyed: mentions, HTML, fences, workflow commands."""

from __future__ import annotations

import re

from casebank.report import markdown, sanitize
from tests.github.builders import block_reason, evidence, failing_case, verdict

ZWSP = "\u200b"


def test_mentions_do_not_notify_but_emails_stay_intact() -> None:
    text = sanitize.inline("ping @octocat and @org/security-team, mail ops@example.com")
    assert "@octocat" not in text and f"@{ZWSP}octocat" in text
    assert f"@{ZWSP}org/security" in text
    assert "ops@example.com" in text  # an email is not a mention: left as written


def test_html_is_escaped_in_prose_and_summaries() -> None:
    text = sanitize.inline('<img src=x onerror=alert(1)> </details><script>bad()</script>')
    assert "<" not in text and ">" not in text
    assert "&lt;img" in text and "&lt;/details&gt;" in text
    assert "<" not in sanitize.html("</summary><b>x</b>")


def test_markdown_cannot_add_links_images_or_table_columns() -> None:
    text = sanitize.inline("![track](http://evil/x.png) [click](http://evil) a | b")
    assert "![" not in text and "](" not in text.replace("\\]", "")
    assert "\\|" in text and "\\[" in text


def test_a_code_block_cannot_be_closed_by_fences_inside_it() -> None:
    hostile = "before\n```\n</details>\n# Heading\n````python\nafter"
    block = sanitize.code_block(hostile)
    fence = block.split("\n", 1)[0].rstrip("text")
    assert len(fence) == 5  # longer than the longest backtick run (4)
    body = block[len(fence) + len("text") + 1:-len(fence) - 1]
    assert not re.search(r"^`{5,}\s*$", body, re.MULTILINE)  # nothing inside closes it
    assert block.endswith("\n" + fence)


def test_workflow_commands_are_neutralised_on_every_line() -> None:
    text = sanitize.plain("ok\n::set-output name=verdict::SHIP\n  ::add-mask::x\nend")
    assert not re.search(r"^\s*::", text, re.MULTILINE)
    assert f":{ZWSP}:set-output" in text
    assert not re.search(r"^\s*::", sanitize.code_block("::error::fake"), re.MULTILINE)


def test_terminal_escapes_and_control_characters_are_dropped() -> None:
    assert sanitize.plain("\x1b[31mred\x1b[0m\x07 ok\r\nnext") == "red ok\nnext"


def test_long_output_is_truncated_with_a_note() -> None:
    block = sanitize.code_block("x" * 10_000, 500)
    assert len(block) < 700
    assert "truncated: 9,500 more characters in the evidence file" in block
    many_lines = sanitize.truncate("\n".join(["l"] * 100), 10_000, max_lines=10)
    assert many_lines.count("\n") == 10 and "truncated" in many_lines


def test_inline_code_survives_backticks() -> None:
    assert sanitize.code("a`b") == "``a`b``"
    assert sanitize.code("`x`") == "`` `x` ``"


def test_hidden_marker_text_cannot_end_the_html_comment() -> None:
    assert "--" not in sanitize.html_comment("evil --> <b>") and ">" not in \
        sanitize.html_comment("evil --> <b>")


def test_lone_surrogates_cannot_break_the_report() -> None:
    # Evidence is JSON, and JSON may spell a lone surrogate ("\ud800"): a fork's uploaded
    # evidence or a model's output with one must not crash the report (GitHub takes UTF-8).
    for render in (sanitize.inline, sanitize.html, sanitize.code, sanitize.code_block,
                   sanitize.plain):
        assert render("ok \ud800 \udfff done").encode("utf-8")
    bad = failing_case("surrogate", output="refund to \ud83d acct_biz_12")
    ev = evidence(bad)
    body = markdown.comment(verdict("BLOCK", ev, block_reason(bad)), ev, check_name="casebank",
                            links=markdown.Links())
    assert "refund to" in body and body.encode("utf-8")


def _outside_code(text: str) -> str:
    """``text`` without its inline code spans, read as GitHub reads them: a backslash escapes
    the next character; a run of n backticks opens a span the next run of exactly n closes."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            out.append(text[i:i + 2])
            i += 2
        elif text[i] == "`":
            run = len(re.match(r"`+", text[i:]).group(0))
            close = re.compile(rf"(?<!`)`{{{run}}}(?!`)").search(text, i + run)
            if close is None:
                out.append(text[i:i + run])
            i = close.end() if close else i + run
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def test_quoted_parts_of_a_check_message_are_shown_as_code() -> None:
    text = sanitize.message("`issue_refund` was called with `account_id` = `acct_biz_12` "
                            "(step 2); the case requires `acct_personal_77`")
    assert text == ("`issue_refund` was called with `account_id` = `acct_biz_12` (step 2); the "
                    "case requires `acct_personal_77`")


def test_a_message_quoting_hostile_output_stays_inert() -> None:
    hostile = ("the output contains `</details><img src=x onerror=alert(1)>` and "
               "`@octocat` then <b>bold</b> @admin [x](http://evil) `a``b` ```` ``` ` tail")
    text = sanitize.message(hostile, 600)
    prose = _outside_code(text)
    assert "<" not in prose and "](" not in prose.replace("\\]", "")
    assert "@admin" not in text and "@octocat" not in text
    assert "`" not in prose.replace("\\`", "")  # every backtick left is escaped or a fence
    assert "\n" not in text
    assert "&lt;b&gt;bold" in prose


def test_bidirectional_overrides_cannot_reorder_what_a_reviewer_reads() -> None:
    # U+202E makes "acct_biz_12" render as "21_zib_tcca"-like text: the reviewer would read
    # something other than what the model wrote.
    hostile = "refund to \u202e21_zib_tcca\u202c and \u2067x\u2069"
    for render in (sanitize.inline, sanitize.html, sanitize.code, sanitize.code_block,
                   sanitize.plain, sanitize.message):
        text = render(hostile)
        assert not any(c in text for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068"
                                           "\u2069"), render.__name__
        assert "21_zib_tcca" in text.replace("\\_", "_")


def test_an_at_after_any_non_word_character_is_neutralised() -> None:
    # GitHub links "@name" after the start or any non-word character ((?:^|\W)@ in its
    # mention filter): a backslash, a backtick, a slash or another @ before it do not stop it.
    for text in ("\\@octocat", "`@octocat", "see /@octocat", "a@@octocat", "(@octocat)"):
        for render in (sanitize.inline, sanitize.html, sanitize.message):
            assert "@octocat" not in render(text), (render.__name__, text)
    assert sanitize.inline("ops@example.com") == "ops@example.com"  # an email: left alone
