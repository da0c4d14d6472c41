"""The comment, check run texts and step summary: what reviewers read, within GitHub's limits."""

from __future__ import annotations

from casebank.report import markdown
from casebank.report.markdown import Links
from tests.github.builders import block_reason, evidence, failing_case, passing_case, verdict

LINKS = Links(repository="octo/bank", head_sha="c" * 40,
              run_url="https://github.com/octo/bank/actions/runs/99",
              evidence_path=".casebank/evidence.json")


def test_comment_states_verdict_why_failing_case_and_coverage() -> None:
    bad = failing_case("refund-wrong-account", output="Refunded to acct_biz_12. @octocat")
    ev = evidence(bad, passing_case("greeting"))
    body = markdown.comment(verdict("BLOCK", ev, block_reason(bad)), ev, check_name="casebank",
                            links=LINKS)
    assert body.startswith("<!-- casebank:comment -->\n<!-- casebank:check casebank -->")
    assert "## ⛔ casebank: BLOCK" in body
    assert "1 failed, 1 passed of 2 run" in body
    assert "critical: block on any failure" in body
    assert "To resolve: fix the agent" in body
    assert "<summary>❌ <b>refund-wrong-account</b> · critical · failed — Title of" in body
    assert "https://github.com/octo/bank/blob/" + "c" * 40 + "/cases/refund-wrong-account.yaml#L40" \
        in body
    assert "Refunded to acct_biz_12." in body and "@octocat" not in body  # mention neutralised
    assert "**Coverage:** 2 cases in the bank" in body
    assert "[workflow run](https://github.com/octo/bank/actions/runs/99)" in body


def test_comment_stays_under_githubs_limit_and_says_what_was_cut() -> None:
    cases = [failing_case(f"case-{i:03}", expectations=3, output="é" * 5000) for i in range(80)]
    ev = evidence(*cases)
    body = markdown.comment(verdict("BLOCK", ev, *[block_reason(c) for c in cases]), ev,
                            check_name="casebank", links=LINKS)
    assert len(body) < 65_536
    assert "more not shown here" in body
    assert body.count("<details>") == body.count("</details>")
    assert markdown._open_fence(body) == ""


def test_check_texts_fit_in_65535_bytes_even_with_multibyte_output() -> None:
    cases = [failing_case(f"case-{i:03}", output="😀" * 3000) for i in range(60)]
    ev = evidence(*cases)
    text = markdown.gate_check(verdict("BLOCK", ev, *[block_reason(c) for c in cases]), ev, LINKS)
    assert text.title.startswith("BLOCK: 60 failed, 0 passed of 60 run")
    assert len(text.summary.encode()) <= 65_535 and len(text.text.encode()) <= 65_535
    assert "Full evidence:" in text.summary


def test_the_gate_check_says_coverage_and_where_the_evidence_is_once() -> None:
    # GitHub shows a check run's summary and text one after the other, on one page.
    bad = failing_case("refund-wrong-account")
    ev = evidence(bad, passing_case("greeting"))
    text = markdown.gate_check(verdict("BLOCK", ev, block_reason(bad)), ev, LINKS)
    page = text.summary + "\n" + text.text
    assert page.count("**Coverage:**") == 1 and page.count("Full evidence:") == 1
    assert "**Coverage:**" in text.text and "Full evidence:" in text.summary
    assert "<summary>❌ <b>refund-wrong-account</b>" in text.text


def test_step_summary_under_one_mebibyte() -> None:
    cases = [failing_case(f"case-{i:04}", output="x" * 20_000) for i in range(400)]
    ev = evidence(*cases)
    text = markdown.step_summary(verdict("BLOCK", ev), ev, check_name="casebank", links=LINKS,
                                 extras=markdown.SummaryExtras(github_notes=["token read-only"]))
    assert len(text.encode()) < 1024 * 1024
    assert "### Reporting to GitHub\n\n- token read-only" in text


def test_state_changes_only_with_verdict_or_failures() -> None:
    ev = evidence(failing_case("a"), passing_case("b"))
    same = evidence(failing_case("a", output="different words"), passing_case("b"))
    other = evidence(passing_case("a"), passing_case("b"))
    state = markdown.comment_state(verdict("BLOCK", ev), ev)
    assert state == markdown.comment_state(verdict("BLOCK", same), same)
    assert state != markdown.comment_state(verdict("SHIP", other), other)
    assert state != markdown.comment_state(verdict("HOLD", ev), ev)


def test_changed_check_lists_the_changed_cases() -> None:
    bad = failing_case("new-incident")
    text = markdown.changed_check([bad, passing_case("edited")], "2 cases changed", LINKS)
    assert text.title == "2 changed cases: 1 failed, 1 passed of 2 run"
    assert "| ❌ failed | `new-incident` | critical |" in text.summary
    assert markdown.changed_check([], "no case file changed", LINKS).title == "No changed cases"


def test_a_deleted_case_links_to_the_base_commit_where_its_file_still_exists() -> None:
    from dataclasses import replace

    from casebank.gate.changes import BankChange
    from casebank.gate.verdict import Reason

    ev = evidence(passing_case("greeting"))
    deleted = BankChange("refund-wrong-account", "deleted", "cases/refund-wrong-account.yaml",
                         severity="critical")
    erosion = Reason(decision="HOLD", rule="bank erosion", message="refund-wrong-account: "
                     "case deleted", case_id="refund-wrong-account",
                     path="cases/refund-wrong-account.yaml")
    held = replace(verdict("HOLD", ev, erosion), bank_changes=[deleted])
    links = replace(LINKS, base_sha="b" * 40)
    at_base = "https://github.com/octo/bank/blob/" + "b" * 40 + "/cases/refund-wrong-account.yaml"
    for text in (markdown.comment(held, ev, check_name="casebank", links=links),
                 markdown.gate_check(held, ev, links).text,
                 markdown.gate_check(held, ev, links).summary):
        assert "c" * 40 + "/cases/refund-wrong-account.yaml" not in text  # a 404 at the head
    body = markdown.comment(held, ev, check_name="casebank", links=links)
    assert f"**Removed (1)**: `refund-wrong-account` (critical, [cases/refund-wrong-account.yaml]" \
           f"({at_base}))" in body
    assert f"case deleted ([cases/refund-wrong-account.yaml]({at_base}))" in body
    unknown_base = markdown.comment(held, ev, check_name="casebank", links=LINKS)
    assert "c" * 40 + "/cases/refund-wrong-account.yaml" not in unknown_base
