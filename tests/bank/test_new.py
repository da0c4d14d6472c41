"""casebank new: an incident becomes a valid case file whose placeholders warn when validated
and fail when run, until its author writes the lesson."""

from __future__ import annotations

import datetime
import json
import sys

from casebank.bank.new import free_id, slugify
from tests.bank.conftest import Project

FLAGS = ["new", "--source", "incident", "--ref", "INC-2291", "--title",
         "Refund sent to the WRONG account!", "--severity", "critical", "--owner",
         "@payments", "--tags", "refunds,agent"]


ECHO_AGENT = """\
import json, sys
request = json.load(sys.stdin)
said = request["input"]["messages"][-1]["content"]
json.dump({"output": "I hear you: " + said}, sys.stdout)
"""


def _line(text: str, words: str) -> int:
    (number,) = [n for n, line in enumerate(text.splitlines(), 1)
                 if words in line and not line.lstrip().startswith("#")]
    return number


def test_new_writes_a_valid_case_whose_placeholders_warn_and_fail_until_written(
        project: Project) -> None:
    code, out, err = project.cli(*FLAGS)
    assert code == 0, err
    assert out == "cases/refund-sent-to-the-wrong-account.yaml\n"
    path = project.root / out.strip()
    text = path.read_text()
    assert "ref: \"INC-2291\"" in text and "owner: \"@payments\"" in text
    assert f"date: {datetime.date.today().isoformat()}" in text
    described = _line(text, "description: \"TODO(casebank new)")
    said = _line(text, "- user: \"TODO(casebank new): the user's message from INC-2291\"")
    expected = _line(text, "- contains: \"TODO(casebank new): what the model must say\"")
    assert (f"replace the TODO(casebank new) placeholders (lines {described}, {said}, "
            f"{expected})") in err

    # Fresh from `new` the case is valid (it can be committed), and validate says where
    # the lesson still has to be written.
    shown = "cases/refund-sent-to-the-wrong-account.yaml"
    code, out, _ = project.cli("validate")
    assert code == 0, out
    assert out.splitlines() == [
        f"{shown}:{described}:1: warning: description: still the placeholder written by "
        "`casebank new` (say what happened and why this case exists; reviewers read it)",
        f"{shown}:{said}:7: warning: input.messages[0].user: still the placeholder written by "
        "`casebank new` (paste the conversation that went wrong; until then the case fails "
        "when run)",
        f"{shown}:{expected}:5: warning: expect[0].contains: still the placeholder written "
        "by `casebank new` (state what must (not) happen (docs/checks.md); until then the "
        "case fails when run)",
        "casebank: 1 case valid, no problems, 3 warnings"]
    code, out, _ = project.cli("validate", "--format", "github")
    assert code == 0
    assert out.startswith(f"::warning file={shown},line={described},col=1,")
    code, out, _ = project.cli("validate", "--format", "json")
    report = json.loads(out)
    assert (code, report["ok"], report["problems"]) == (0, True, [])
    assert [w["line"] for w in report["warnings"]] == [described, said, expected]

    # Run as it is, even against an agent that answers anything, the case fails.
    project.write("agent.py", ECHO_AGENT)
    project.config(f"bank: cases\ntargets:\n  echo: {{kind: command, command: "
                   f"[{json.dumps(sys.executable)}, agent.py]}}\ndefault_target: echo\n")
    code, out, err = project.cli("run", "--plain")
    assert code == 1, out + err
    assert "FAIL      critical refund-sent-to-the-wrong-account (0/3 samples passed)" in err
    assert (f"{shown}:{expected}: sample 1: contains: the output does not contain "
            "`TODO(casebank new): what the model must say`") in out

    # Written, the case validates without a warning and passes on an agent that does it.
    path.write_text(text.replace("TODO(casebank new): what happened in INC-2291 and why this "
                                 "case exists", "The agent refunded the business account.")
                    .replace("TODO(casebank new): the user's message from INC-2291",
                             "Refund order A-1042 please")
                    .replace('- contains: "TODO(casebank new): what the model must say"',
                             "- contains: A-1042"))
    code, out, _ = project.cli("validate")
    assert (code, out) == (0, "casebank: 1 case valid, no problems\n")
    code, out, err = project.cli("run", "--plain")
    assert code == 0, out + err


def test_a_half_written_case_cannot_pass_on_a_placeholder(project: Project) -> None:
    """Once the failing placeholder expectation is replaced, a placeholder left in the
    conversation is an error: the case would pass while testing a message nobody wrote."""
    assert project.cli(*FLAGS)[0] == 0
    path = project.root / "cases" / "refund-sent-to-the-wrong-account.yaml"
    text = path.read_text()
    said = _line(text, "- user: \"TODO(casebank new)")
    path.write_text(text.replace('- contains: "TODO(casebank new): what the model must say"',
                                 "- not_contains: acct_biz_12"))
    code, out, _ = project.cli("validate")
    assert code == 2
    assert out.splitlines()[0] == (
        f"cases/refund-sent-to-the-wrong-account.yaml:{said}:7: input.messages[0].user: still "
        "the placeholder written by `casebank new`, but the placeholder expectation that made "
        "this case fail is gone (write the real text: a case must not pass on a placeholder)")


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
