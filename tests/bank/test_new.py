"""casebank new: an incident becomes a case file that validate accepts once filled in."""

from __future__ import annotations

import datetime

from casebank.bank.new import free_id, slugify
from tests.bank.conftest import Project

FLAGS = ["new", "--source", "incident", "--ref", "INC-2291", "--title",
         "Refund sent to the WRONG account!", "--severity", "critical", "--owner",
         "@payments", "--tags", "refunds,agent"]


def test_new_then_fill_in_then_validate(project: Project) -> None:
    code, out, err = project.cli(*FLAGS)
    assert code == 0, err
    assert out == "cases/refund-sent-to-the-wrong-account.yaml\n"
    path = project.root / out.strip()
    text = path.read_text()
    assert "ref: \"INC-2291\"" in text and "owner: \"@payments\"" in text
    assert f"date: {datetime.date.today().isoformat()}" in text
    lines = text.splitlines()
    messages = lines.index("  messages: []") + 1
    expect = lines.index("expect: []") + 1
    assert f"input.messages (line {messages}) and expect (line {expect})" in err

    # Fresh from `new`, the case states no lesson yet: validate says exactly what to fill.
    code, out, _ = project.cli("validate")
    assert code == 2
    assert out.splitlines()[:2] == [
        f"cases/refund-sent-to-the-wrong-account.yaml:{messages}:3: input.messages: must not "
        "be empty (The conversation so far, oldest first, ending with a user message: "
        "`- user: text` / `- assistant: text`.)",
        f"cases/refund-sent-to-the-wrong-account.yaml:{expect}:1: expect: must not be empty "
        "(What every sample must satisfy: a list of checks, each a mapping with exactly one "
        "check kind (e.g. `- contains: refund`) and an optional `name:`.)"]

    path.write_text(text.replace("  messages: []", '  messages:\n    - user: "Refund A-1"')
                    .replace("expect: []", "expect:\n  - not_contains: acct_biz_12"))
    code, out, _ = project.cli("validate")
    assert (code, out) == (0, "casebank: 1 case valid, no problems\n")


def test_new_picks_a_free_id_and_never_overwrites(project: Project) -> None:
    assert project.cli(*FLAGS)[0] == 0
    code, out, _ = project.cli(*FLAGS)
    assert (code, out) == (0, "cases/refund-sent-to-the-wrong-account-2.yaml\n")
    project.write("cases/taken.yaml", "not even a case")
    code, out, err = project.cli(*FLAGS, "--id", "taken")
    assert code == 2 and out == ""
    assert "--id `taken` is already used in the bank" in err
    assert (project.root / "cases" / "taken.yaml").read_text() == "not even a case"


def test_new_refuses_flags_that_make_an_invalid_case(project: Project) -> None:
    code, _, err = project.cli(*FLAGS[:-2], "--tags", "has space", "--date", "last week")
    assert code == 2
    assert "nothing was written" in err
    assert "tags[0]: `has space` is not in the expected form" in err
    assert "source.date: `last week` is not in the expected form" in err
    assert not list((project.root / "cases").iterdir())
    code, _, err = project.cli(*FLAGS, "--id", "Not A Slug")
    assert code == 2 and "is not a slug" in err


def test_new_refuses_unknown_source_kinds(project: Project) -> None:
    code, _, err = project.cli("new", "--source", "rumour", "--title", "x", "--severity", "low")
    assert code == 2 and "invalid choice: 'rumour'" in err


def test_slugs_and_free_ids() -> None:
    assert slugify("Refund to the WRONG account (again)!") == "refund-to-the-wrong-account-again"
    assert slugify("Café crème: ça coûte 5 €") == "cafe-creme-ca-coute-5"
    assert slugify("!!!") == "case"
    assert len(slugify("word " * 40)) <= 60
    assert free_id("a", {"a", "a-2"}) == "a-3" and free_id("b", {"a"}) == "b"
