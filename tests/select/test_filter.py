import pytest

from casebank.errors import ExitCode, UserError
from casebank.select.filter import describe, select_cases

from .factory import make_case

BANK = [
    make_case("refund-wrong-account", severity="critical", tags=("refunds", "agent")),
    make_case("refund-partial", severity="high", tags=("refunds",), path="cases/pay/partial.yaml"),
    make_case("greeting-tone", severity="low", tags=("tone",), source="reviewer-override"),
    make_case("pii-leak", severity="critical", tags=("privacy",), source="red-team"),
    make_case("billing-address", severity="medium", tags=("billing",)),
]


def ids(cases):
    return [case.id for case in cases]


def test_no_expressions_selects_the_whole_bank_in_order():
    assert ids(select_cases(BANK, [])) == ids(BANK)


def test_id_glob_and_exact_id():
    assert ids(select_cases(BANK, ["id:refund-*"])) == ["refund-wrong-account", "refund-partial"]
    assert ids(select_cases(BANK, ["id:pii-leak"])) == ["pii-leak"]


def test_tag_matches_any_tag_of_the_case():
    assert ids(select_cases(BANK, ["tag:refunds"])) == ["refund-wrong-account", "refund-partial"]
    assert ids(select_cases(BANK, ["tag:agent"])) == ["refund-wrong-account"]


def test_severity_exact_and_at_least():
    assert ids(select_cases(BANK, ["severity:critical"])) == ["refund-wrong-account", "pii-leak"]
    assert ids(select_cases(BANK, ["severity:>=high"])) == [
        "refund-wrong-account", "refund-partial", "pii-leak"]
    assert ids(select_cases(BANK, ["severity:<medium"])) == ["greeting-tone"]
    assert ids(select_cases(BANK, ["severity:<=medium"])) == ["greeting-tone", "billing-address"]


def test_path_and_source():
    assert ids(select_cases(BANK, ["path:cases/pay/*"])) == ["refund-partial"]
    assert ids(select_cases(BANK, ["source:red-team"])) == ["pii-leak"]


def test_comma_is_or_and_a_bare_value_reuses_the_key():
    assert ids(select_cases(BANK, ["tag:tone,billing"])) == ["greeting-tone", "billing-address"]
    assert ids(select_cases(BANK, ["tag:tone,id:pii-*"])) == ["greeting-tone", "pii-leak"]


def test_repeated_select_is_and():
    assert ids(select_cases(BANK, ["tag:refunds", "severity:critical"])) == ["refund-wrong-account"]
    assert select_cases(BANK, ["tag:tone", "severity:critical"]) == []


def test_describe_reads_like_the_selection():
    assert describe(["tag:refunds,billing", "severity:>=high"]) == \
        "(tag:refunds OR tag:billing) AND severity:>=high"
    assert describe([]) == "every case"


@pytest.mark.parametrize(("expression", "why"), [
    ("owner:alice", "unknown key 'owner'"),
    ("refunds", "'refunds' has no key"),
    ("severity:>=urgent", "unknown severity 'urgent' (severities, worst first: critical, high, "
                          "medium, low)"),
    ("tag:", "tag: needs a value"),
    ("tag:a,,b", "there is an empty alternative between commas"),
    ("", "the expression is empty"),
    ("source:rumour", "unknown source kind 'rumour'"),
])
def test_bad_expressions_name_the_expression_and_the_allowed_forms(expression, why):
    with pytest.raises(UserError) as info:
        select_cases(BANK, ["tag:refunds", expression])
    message = info.value.message
    assert message.startswith(f"--select {expression!r}: {why}")
    assert "Allowed forms: id:GLOB, tag:NAME, severity:LEVEL, severity:>=LEVEL" in message
    assert info.value.exit_code == ExitCode.USAGE


def test_a_typo_fails_even_when_there_are_no_cases():
    with pytest.raises(UserError, match="unknown key 'tags'"):
        select_cases([], ["tags:refunds"])
