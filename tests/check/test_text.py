"""Text checks: contains, not_contains, equals, starts_with, regex, not_regex, max_length."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from casebank.check.result import ERROR, FAIL, PASS
from tests.check.build import check, text_sample

REPLY = "Your refund of 89 EUR for order A-1042 goes to acct_personal_77 within 30 days."


def test_contains_passes_fails_and_errors_without_output():
    ok = check({"contains": "acct_personal_77"}, text_sample(REPLY))
    assert ok.status == PASS
    assert ok.message == "the output contains `acct_personal_77`"

    bad = check({"contains": "acct_biz_12"}, text_sample(REPLY))
    assert bad.status == FAIL
    assert bad.message == "the output does not contain `acct_biz_12`"
    assert bad.evidence["missing"] == ["acct_biz_12"]

    none = check({"contains": "x"}, text_sample(None))
    assert none.status == ERROR
    assert none.message == "the sample has no output text to check"


def test_result_carries_the_line_index_and_name_of_the_expectation():
    result = check({"name": "mentions the account", "contains": "acct_personal_77"},
                   text_sample(REPLY), first_line=17)
    assert (result.kind, result.line, result.index, result.name) == (
        "contains", 17, 0, "mentions the account")


def test_contains_ignore_case_any_and_all():
    assert check({"contains": {"text": "REFUND", "ignore_case": True}},
                 text_sample(REPLY)).status == PASS
    assert check({"contains": {"text": "REFUND"}}, text_sample(REPLY)).status == FAIL

    any_ok = check({"contains": {"any": ["thirty days", "30 days"]}}, text_sample(REPLY))
    assert any_ok.status == PASS
    assert any_ok.message.startswith("the output contains `30 days`:")
    any_bad = check({"contains": {"any": ["thirty days", "one month"], "ignore_case": True}},
                    text_sample(REPLY))
    assert any_bad.status == FAIL
    assert any_bad.message == ("the output contains none of `thirty days` or `one month` "
                               "(ignoring case); the case requires at least one")

    all_bad = check({"contains": {"all": ["refund", "A-1042", "apology", "sorry"]}},
                    text_sample(REPLY))
    assert all_bad.status == FAIL
    assert all_bad.message == ("the output does not contain `apology` or `sorry` "
                               "(2 of 4 required texts are missing)")


def test_not_contains_names_where_the_forbidden_text_is():
    bad = check({"not_contains": "acct_personal_77"}, text_sample(REPLY))
    assert bad.status == FAIL
    assert bad.message == ('the output contains `acct_personal_77` at character 48: '
                           '"… EUR for order A-1042 goes to acct_personal_77 within 30 days."; '
                           'the case forbids it')
    assert check({"not_contains": "acct_biz_12"}, text_sample(REPLY)).message == \
        "the output does not contain `acct_biz_12`"
    assert check({"not_contains": "x"}, text_sample(None)).status == ERROR


def test_not_contains_any_and_all():
    leak = "Internal note: customer is a known ABUSER, chargeback pending."
    bad = check({"not_contains": {"any": ["abuser", "chargeback"], "ignore_case": True}},
                text_sample(leak))
    assert bad.status == FAIL
    assert "`abuser` at character 36" in bad.message
    assert "`chargeback` at character 44" in bad.message
    assert bad.evidence["found"] == ["abuser", "chargeback"]
    # `all`: forbidden only together
    together = check({"not_contains": {"all": ["chargeback", "refund"]}}, text_sample(leak))
    assert together.status == PASS
    assert together.message == ("the output does not contain all of `chargeback` and `refund` "
                                "together (`refund` is absent)")
    both = check({"not_contains": {"all": ["chargeback", "note"]}}, text_sample(leak))
    assert both.status == FAIL
    assert both.message.startswith("the output contains all of `chargeback` and `note`:")


def test_ignore_case_match_positions_are_right_for_non_ascii_text():
    result = check({"not_contains": {"text": "straße", "ignore_case": True}},
                   text_sample("Café an der STRASSE? Nein: Straße 5."))
    assert result.status == FAIL
    assert "at character 28" in result.message


def test_equals_ignores_outer_whitespace_and_says_where_it_differs():
    assert check({"equals": "REFUND_ISSUED"}, text_sample("  REFUND_ISSUED\n")).status == PASS
    assert check({"equals": {"text": "refund_issued", "ignore_case": True}},
                 text_sample("REFUND_ISSUED")).status == PASS
    bad = check({"equals": "REFUND_ISSUED"}, text_sample("REFUND_DENIED"))
    assert bad.status == FAIL
    assert bad.message == ("the output is `REFUND_DENIED`; the case requires exactly "
                           "`REFUND_ISSUED` (they differ from character 8)")
    assert check({"equals": "x"}, text_sample(None)).status == ERROR


def test_starts_with():
    assert check({"starts_with": "Your refund"}, text_sample("\n  " + REPLY)).status == PASS
    bad = check({"starts_with": "Sorry"}, text_sample(REPLY))
    assert bad.status == FAIL
    assert bad.message == ("the output starts with `Your refund of 89 EUR for`; the case requires "
                           "it to start with `Sorry`")
    assert check({"starts_with": {"text": "your REFUND", "ignore_case": True}},
                 text_sample(REPLY)).status == PASS
    assert check({"starts_with": "x"}, text_sample(None)).status == ERROR


def test_regex_and_not_regex():
    ok = check({"regex": r"acct_personal_\d+"}, text_sample(REPLY))
    assert ok.status == PASS
    assert ok.evidence["match"] == "acct_personal_77"
    bad = check({"regex": {"pattern": r"^sorry", "ignore_case": True}}, text_sample(REPLY))
    assert bad.status == FAIL
    assert bad.message == "the output does not match `^sorry`"
    assert check({"regex": {"pattern": "^YOUR", "ignore_case": True}},
                 text_sample(REPLY)).status == PASS

    leak = check({"not_regex": r"acct_\w+_\d+"}, text_sample(REPLY))
    assert leak.status == FAIL
    assert leak.message.startswith("the output matches `acct_\\w+_\\d+` at character 48:")
    assert leak.message.endswith("the case forbids it")
    assert check({"not_regex": r"\bIBAN\b"}, text_sample(REPLY)).message == \
        "the output does not match `\\bIBAN\\b`"
    assert check({"regex": "x"}, text_sample(None)).status == ERROR
    assert check({"not_regex": "x"}, text_sample(None)).status == ERROR


def test_a_catastrophic_pattern_finishes_at_once():
    pattern, text = r"(a+)+$", "a" * 40 + "!"
    # Python's backtracking `re` needs about a day for this (time doubles with each "a");
    # it runs in a subprocess that is killed after a second.
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run([sys.executable, "-c", f"import re; re.search({pattern!r}, {text!r})"],
                       timeout=1)
    started = time.perf_counter()
    result = check({"not_regex": pattern}, text_sample(text))
    elapsed = time.perf_counter() - started
    assert result.status == PASS
    assert result.message == "the output does not match `(a+)+$`"
    assert elapsed < 0.5  # a bound against a hang, not a timing measurement


def test_max_length_in_characters_words_and_lines():
    ok = check({"max_length": 200}, text_sample(REPLY))
    assert ok.status == PASS
    assert ok.message == "the output is 79 characters long (at most 200)"
    bad = check({"max_length": 40}, text_sample(REPLY))
    assert bad.status == FAIL
    assert bad.message == "the output is 79 characters long; the case allows at most 40"
    words = check({"max_length": {"max": 10, "unit": "words"}}, text_sample(REPLY))
    assert words.status == FAIL
    assert words.message == "the output is 14 words long; the case allows at most 10"
    lines = check({"max_length": {"max": 2, "unit": "lines"}}, text_sample("a\nb\nc"))
    assert lines.message == "the output is 3 lines long; the case allows at most 2"
    assert check({"max_length": 5}, text_sample(None)).status == ERROR


def test_text_checks_on_a_run_that_hit_the_step_limit_are_errors():
    from casebank.run.sample import SampleOutput
    cut = SampleOutput(index=0, output=None, final=False, steps=6)
    result = check({"not_contains": "acct_biz_12"}, cut)
    assert result.status == ERROR
    assert result.message == ("the agent gave no final answer: it hit the step limit after 6 "
                              "steps, so there is no output text to check")


def test_a_lone_surrogate_in_the_output_still_gets_a_decision():
    # JSON (a model's reply, a recording) can spell a lone surrogate ("\ud800"); RE2 takes
    # UTF-8, which cannot encode one. The checks must still decide, at the right position.
    output = "Refund \ud800 sent to ACCT_BIZ_12."
    leak = check({"not_contains": {"text": "acct_biz_12", "ignore_case": True}},
                 text_sample(output))
    assert leak.status == FAIL
    assert "`acct_biz_12` at character 18" in leak.message
    assert check({"regex": r"ACCT_\w+"}, text_sample(output)).status == PASS
    assert check({"not_regex": "IBAN"}, text_sample(output)).status == PASS


def test_a_long_match_is_quoted_shortly():
    # Messages and evidence land in the terminal, the evidence file and every report.
    output = "Your statement: " + "A" * 200_000 + " end."
    for item in ({"regex": "A+"}, {"not_regex": "A+"}, {"not_contains": "A" * 50_000}):
        result = check(item, text_sample(output))
        assert len(result.message) < 500, (item.keys(), len(result.message))
    assert len(repr(check({"regex": "A+"}, text_sample(output)).evidence)) < 1_000
    leak = check({"not_regex": "A+"}, text_sample(output))
    assert leak.message.startswith("the output matches `A+` at character 17: \"Your statement: AAAA")
    assert leak.message.endswith("AAAA end.\" (a match of 200,000 characters); the case forbids "
                                 "it")


def test_starts_with_ignores_leading_whitespace_on_both_sides():
    # The output's leading whitespace is ignored; a prefix written with some (a YAML block
    # scalar, a stray space) must not make the check impossible to pass.
    assert check({"starts_with": "  Your refund"}, text_sample(REPLY)).status == PASS
    assert check({"starts_with": "\nSorry"}, text_sample(REPLY)).status == FAIL
