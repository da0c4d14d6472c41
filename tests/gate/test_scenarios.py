"""The gate on real pull requests: git repositories with a base and a head branch, real runs
(replay target, and a real OpenAI-compatible judge server), the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.model_server import ModelServer, Rule
from tests.gate.scenario import Project

GOOD = "Your refund for A-1042 is on its way to your personal account."
WRONG_ACCOUNT = "Done: refund issued to acct_biz_12."
NO_REFUND = "I cannot help with that."


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """main: three passing cases on both versions, the baseline recorded for main's head."""
    p = Project(tmp_path / "shop")
    p.config()
    p.case("refund-wrong-account", severity="critical")
    p.case("return-policy", severity="medium", kind="reviewer-override")
    p.case("injury-escalates", severity="high", kind="escalation")
    for target in ("v1", "v2"):
        for case_id in ("refund-wrong-account", "return-policy", "injury-escalates"):
            p.answer(target, case_id, GOOD)
    p.commit("the bank")
    return p


def open_pr(p: Project) -> str:
    base = p.git("rev-parse", "HEAD")
    p.git("checkout", "-q", "-b", "pr")
    return base


def test_pr_adding_a_failing_incident_case_blocks(project: Project):
    base = project.record_baseline("v2")
    open_pr(project)
    project.case("double-charge", severity="critical", kind="incident", must="refund",
                 must_not="charged twice")
    project.answer("v2", "double-charge", "You were charged twice; no refund possible.")
    project.commit("Add INC-3301: customer charged twice")

    result = project.gate("--base", base)
    assert result.code == 1, result.out + result.err
    assert result.out.startswith("BLOCK: a rule of the gate policy is violated (exit 1)")
    assert "BLOCK  cases/double-charge.yaml:16  double-charge failed (it is not in the baseline: " \
           "a new failure): not_contains (line 16): the output contains `charged twice`" in result.out
    assert "rule: severity critical: block on any failure" in result.out
    assert "  added     double-charge (cases/double-charge.yaml:1): case added" in result.out
    assert "new failures (1):\n    double-charge (critical, cases/double-charge.yaml:16) " \
           "new -> fail" in result.out
    assert f"Policy: casebank.yaml at {base[:12]}" in result.out


def test_pr_moving_to_a_model_version_that_regresses_a_critical_case_blocks(tmp_path: Path):
    p = Project(tmp_path / "shop")
    p.config(default="v1")
    p.case("refund-wrong-account", severity="critical")
    p.case("return-policy", severity="medium")
    for case_id in ("refund-wrong-account", "return-policy"):
        p.answer("v1", case_id, GOOD)
        p.answer("v2", case_id, GOOD)
    p.answer("v2", "refund-wrong-account", WRONG_ACCOUNT)
    p.commit("bank on agent v1")
    base = p.record_baseline("v1")
    open_pr(p)
    p.config(default="v2")
    p.commit("Upgrade the agent to v2")

    result = p.gate("--base", base)
    assert result.code == 1, result.out + result.err
    assert ("refund-wrong-account failed (it was passing in the baseline: a new failure): "
            "not_contains (line 16): the output contains `acct_biz_12`") in result.out
    assert "verdict changed: SHIP -> BLOCK" in result.out
    assert "new failures (1):" in result.out and "fixed (0)" in result.out
    assert "Policy changes" not in result.out  # the target moved, the gate did not


def test_flaky_high_case_within_its_rule_ships_and_is_listed_as_flaky(project: Project):
    base = project.record_baseline("v2")
    open_pr(project)
    project.case("tone-apology", severity="high", samples=3, pass_rule="{at_least: 2}")
    project.answer("v2", "tone-apology", GOOD, "Sorry, no.", GOOD)
    project.commit("Add reviewer override: apologise before refusing")

    result = project.gate("--base", base)
    assert result.code == 0, result.out + result.err
    assert result.out.startswith("SHIP: every rule of the gate policy is met (exit 0)")
    assert "flaky (1):\n    tone-apology (high, cases/tone-apology.yaml:15) new -> pass" \
        in result.out
    assert "flaky: tone-apology (2 of 3 samples passed; its rule needs 2 of 3; counted as pass)" \
        in result.out
    assert "1 flaky" in result.out


WAIVED_GATE = """\
  rules:
    - severity: critical
      block_on_any_failure: true
  waivers:
    - case: refund-wrong-account
      reason: fix ships with agent v3 (PAY-881)
      owner: "@payments"
      expires: 2026-03-31
"""


def test_expired_waiver_blocks_and_says_it_expired(project: Project):
    project.config(WAIVED_GATE)
    project.answer("v2", "refund-wrong-account", WRONG_ACCOUNT)
    project.commit("known failure, waived until the end of March")
    base = project.record_baseline("v2")
    open_pr(project)
    project.write("cases/return-policy.yaml", (project.path / "cases/return-policy.yaml")
                  .read_text().replace("title: Lesson return-policy", "title: Return window"))
    project.commit("Retitle a case")

    still = project.gate("--base", base, "--today", "2026-03-31")
    assert still.code == 0, still.out
    assert ("refund-wrong-account failed and is waived until 2026-03-31 (owner @payments: fix "
            "ships with agent v3 (PAY-881))") in still.out
    assert "0 failed" not in still.out and "1 waived" in still.out
    assert "modified  return-policy" in still.out and "[holds" not in still.out

    expired = project.gate("--base", base, "--today", "2026-04-01")
    assert expired.code == 1
    assert "BLOCK  cases/refund-wrong-account.yaml:16  refund-wrong-account failed: " \
           "not_contains (line 16): the output contains `acct_biz_12` at character 24" \
        in expired.out
    assert "the case forbids it; waiver expired on 2026-03-31" in expired.out
    assert "waiver for refund-wrong-account expired on 2026-03-31" in expired.out
    assert "still failing (known) (1)" in expired.out


def judge_config(url: str) -> str:
    return f"""  grader:
    kind: openai
    base_url: {url}
    model: judge-1
"""


def judge_case(project: Project, case_id: str, review: str = "never") -> None:
    project.case(case_id, severity="high", review=review, extra_expect=(
        "  - judge:\n      rubric: The answer apologises before refusing.\n"
        "      threshold: 0.8\n      target: grader\n"))


def test_uncertain_judge_result_holds_until_a_review_of_that_output(project: Project):
    with ModelServer(latency_ms=0) as server:
        server.add_rule(Rule(reply='{"verdict": "pass", "confidence": 0.55, '
                                   '"rationale": "the apology is implied at best"}'))
        project.config(extra=judge_config(server.url))
        judge_case(project, "tone-judge")
        project.answer("v2", "tone-judge", "We are sorry; a refund is not possible for gifts.")
        project.commit("judge case")

        held = project.gate()
        assert held.code == 3, held.out + held.err
        assert held.out.startswith("HOLD: a person must decide before this ships (exit 3)")
        assert "HOLD   cases/tone-judge.yaml:17  tone-judge is uncertain: judge (line 17): the " \
               "judge leaned pass with confidence 0.55, below the threshold 0.80; a person " \
               "must decide: the apology is implied at best" in held.out
        assert "to resolve: read its outputs (under the case in the PR comment, or " \
               "`samples[].output` in the evidence file), then record the " \
               "decision: casebank review tone-judge --decision accept|reject" in held.out
        assert "On GitHub a HOLD concludes as: action_required" in held.out

        wrote = project.cli("review", "tone-judge", "--config", str(project.path / "casebank.yaml"),
                            "--decision", "accept", "--rationale", "apology is there",
                            "--reviewer", "@lead", "--date", "2026-04-01")
        assert wrote.code == 0, wrote.err
        assert wrote.out.startswith("wrote reviews/tone-judge.yaml: accept tone-judge "
                                    "(uncertain, 1 sample(s), 1 distinct output(s))")
        evidence = str(project.path / ".casebank" / "evidence.json")
        assert project.gate("--evidence", evidence).code == 0

        # the agent now says something else: the review is for another output
        project.answer("v2", "tone-judge", "A refund is not possible for gifts.")
        again = project.gate()
        assert again.code == 3
        assert "reviews/tone-judge.yaml reviewed a different output (sha256:" in again.out
        assert "a new output needs a new review" in again.out


def test_review_file_for_a_different_output_hash_still_holds_a_pr(project: Project):
    project.case("card-number-not-echoed", severity="critical", review="always")
    project.answer("v1", "card-number-not-echoed", GOOD)
    project.answer("v2", "card-number-not-echoed", "Your refund for card ending 4242 is on its way.")
    project.config(default="v1")
    project.commit("review-always case on v1")
    project.gate("--target", "v1")
    reviewed = project.cli("review", "card-number-not-echoed", "--config",
                           str(project.path / "casebank.yaml"), "--decision", "accept",
                           "--rationale", "no card data", "--reviewer", "@security")
    assert reviewed.code == 0, reviewed.err
    project.commit("review of the v1 output")
    base = project.record_baseline("v1")
    assert project.gate("--base", base, "--head", base).code == 0

    open_pr(project)
    project.config(default="v2")
    project.commit("Upgrade the agent to v2")
    result = project.gate("--base", base)
    assert result.code == 3, result.out + result.err
    assert "card-number-not-echoed needs a person's review; reviews/card-number-not-echoed.yaml " \
           "reviewed a different output" in result.out
    assert "rule: review required (review: always)" in result.out


LOOSER_GATE = """\
  rules:
    - severity: critical
      max_failure_rate: 1.0
    - severity: [high, medium, low]
      max_failure_rate: 0.9
  waivers:
    - case: return-policy
      reason: marketing copy still being rewritten
      owner: "@legal-ops"
      expires: 2026-12-31
"""


def test_pr_loosening_the_policy_holds_even_though_everything_passes(project: Project):
    base = project.record_baseline("v2")
    open_pr(project)
    project.config(LOOSER_GATE)
    project.commit("Relax the gate")

    result = project.gate("--base", base)
    assert result.code == 3, result.out + result.err
    assert "0 failed" in result.out
    assert "casebank.yaml:14  rules[severity high/medium/low].max_failure_rate: raised from " \
           "50% to 90%  [holds: loosens the gate]" in result.out
    assert "waivers[return-policy]: new waiver until 2026-12-31" in result.out
    assert "rules[severity critical].block_on_any_failure: changed from true to unset" in result.out
    assert "casebank review --approve-policy" in result.out

    config = str(project.path / "casebank.yaml")
    approved = project.cli("review", "--approve-policy", "--config", config, "--rationale",
                           "agreed in the Q3 risk review", "--reviewer", "@ai-safety",
                           "--date", "2026-04-02")
    assert approved.code == 0, approved.err
    assert approved.out.startswith("wrote reviews/changes/policy.yaml: approves the gate: "
                                   "section of casebank.yaml as it is now")
    project.commit("Approve the relaxed gate")
    shipped = project.gate("--base", base)
    assert shipped.code == 0, shipped.out
    assert "[approved]" in shipped.out
    assert "approved by @ai-safety on 2026-04-02 in reviews/changes/policy.yaml: agreed in " \
           "the Q3 risk review" in shipped.out

    # a further edit is not what was approved
    project.config(LOOSER_GATE.replace("0.9", "0.95"))
    project.commit("Relax it a bit more")
    assert project.gate("--base", base).code == 3


def test_pr_cannot_loosen_its_own_gate_the_base_policy_applies(project: Project):
    base = project.record_baseline("v2")
    open_pr(project)
    project.config(LOOSER_GATE)
    project.answer("v2", "refund-wrong-account", WRONG_ACCOUNT)
    project.commit("Relax the gate and ship the regression")

    result = project.gate("--base", base)
    assert result.code == 1, result.out
    assert "rule: severity critical: block on any failure" in result.out
    assert f"Policy: casebank.yaml at {base[:12]}" in result.out


def test_pr_deleting_a_case_or_weakening_one_holds(project: Project):
    base = project.record_baseline("v2")
    open_pr(project)
    (project.path / "cases/injury-escalates.yaml").unlink()
    project.case("return-policy", severity="low", kind="reviewer-override", samples=1)
    project.write("cases/refund-wrong-account.yaml", (
        project.path / "cases/refund-wrong-account.yaml").read_text().replace(
        "  - not_contains: acct_biz_12\n", ""))
    project.commit("Trim the bank")

    result = project.gate("--base", base)
    assert result.code == 3, result.out + result.err
    assert "HOLD   cases/injury-escalates.yaml  injury-escalates: case deleted" in result.out
    assert "refund-wrong-account: check removed: not_contains 'acct_biz_12'" in result.out
    assert "return-policy: severity lowered from medium to low" in result.out
    assert "rule: bank erosion" in result.out
    assert "removed cases (1):\n    injury-escalates (cases/injury-escalates.yaml)" in result.out
    assert "casebank review injury-escalates --approve-change --rationale \"...\" --reviewer " \
           "@you --base <base>" in result.out

    config = str(project.path / "casebank.yaml")
    said = []
    for case_id in ("injury-escalates", "return-policy", "refund-wrong-account"):
        approved = project.cli("review", case_id, "--approve-change", "--base", base, "--config",
                               config, "--rationale", "retired with the v1 flow",
                               "--reviewer", "@bank-owners")
        assert approved.code == 0, approved.err
        said.append(approved.out.splitlines()[0])
    assert said == [
        "wrote reviews/changes/cases/injury-escalates.yaml: approves case injury-escalates "
        "deleted (was cases/injury-escalates.yaml)",
        "wrote reviews/changes/cases/return-policy.yaml: approves case return-policy as in "
        "cases/return-policy.yaml",
        "wrote reviews/changes/cases/refund-wrong-account.yaml: approves case "
        "refund-wrong-account as in cases/refund-wrong-account.yaml"]
    project.commit("Approve trimming the bank")
    shipped = project.gate("--base", base)
    assert shipped.code == 0, shipped.out
    assert shipped.out.count("[approved]") == 3
    assert "this change adds or edits reviews/changes/cases/injury-escalates.yaml: approves " \
           "case injury-escalates by @bank-owners" in shipped.out

    # changing an approved case again needs a new approval
    project.case("return-policy", severity="low", kind="reviewer-override", samples=1,
                 must_not="acct_biz")
    project.commit("Edit the approved case again")
    again = project.gate("--base", base)
    assert again.code == 3
    assert "return-policy: severity lowered from medium to low" in again.out


def test_bad_policy_is_exit_2_with_file_and_line(project: Project):
    project.config("  rules:\n    - severity: critical\n      block_on_any_failur: true\n")
    result = project.gate()
    assert result.code == 2
    assert "casebank.yaml:12" in result.err
    assert "block_on_any_failur" in result.err
    assert "Traceback" not in result.err


def test_bad_policy_at_the_base_is_exit_2_naming_the_base(project: Project):
    project.config("  on_error: maybe\n")
    project.commit("broken policy slipped in")
    base = project.git("rev-parse", "HEAD")
    open_pr(project)
    project.config()
    project.commit("fix the policy")
    result = project.gate("--base", base)
    assert result.code == 2
    assert f"casebank.yaml at {base[:12]}:11:" in result.err
    assert "'maybe' is not allowed (use one of: block, hold)" in result.err


def test_missing_base_commit_explains_fetch_depth(project: Project):
    result = project.gate("--base", "0" * 40)
    assert result.code == 2
    assert "the base commit" in result.err and "fetch-depth: 0" in result.err


# -- every way a pull request might weaken its own gate holds it ------------------------------
def _move_case_out_of_the_bank(p: Project) -> None:
    (p.path / "retired").mkdir()
    p.git("mv", "cases/injury-escalates.yaml", "retired/injury-escalates.yaml")


def _point_bank_at_another_folder(p: Project) -> None:
    (p.path / "kept").mkdir()
    p.git("mv", "cases/refund-wrong-account.yaml", "kept/refund-wrong-account.yaml")
    p.write("casebank.yaml", (p.path / "casebank.yaml").read_text().replace("bank: cases",
                                                                            "bank: kept"))


def _rename_a_case_id(p: Project) -> None:
    p.write("cases/injury-escalates.yaml", (p.path / "cases/injury-escalates.yaml").read_text()
            .replace("id: injury-escalates", "id: injury-escalates-v2"))
    p.answer("v2", "injury-escalates-v2", GOOD)


def _extend_a_waiver(p: Project) -> None:
    p.config(WAIVED_GATE.replace("2026-03-31", "2027-03-31"))


@pytest.mark.parametrize("weaken, said", [
    (_move_case_out_of_the_bank,
     "HOLD   cases/injury-escalates.yaml  injury-escalates: case deleted"),
    (_point_bank_at_another_folder,
     "HOLD   cases/injury-escalates.yaml  injury-escalates: case deleted"),
    (_rename_a_case_id,
     "HOLD   cases/injury-escalates.yaml  injury-escalates: case deleted"),
    (_extend_a_waiver,
     "HOLD   casebank.yaml:15  waivers[refund-wrong-account]: waiver extended from 2026-03-31 "
     "to 2027-03-31"),
], ids=["case moved out of bank:", "bank: changed", "case id renamed", "waiver extended"])
def test_pr_weakening_its_gate_holds_though_everything_passes(project: Project, weaken, said):
    project.config(WAIVED_GATE)
    project.commit("waive a known failure")
    base = project.record_baseline("v2")
    open_pr(project)
    weaken(project)
    project.commit("weaken the gate")

    result = project.gate("--base", base, "--today", "2026-03-01")

    assert result.code == 3, result.out + result.err
    assert said in result.out
    assert "0 failed" in result.out


TOLERANT_TAG_GATE = """\
  rules:
    - severity: critical
      block_on_any_failure: true
    - tag: experimental
      block_on_any_failure: false
  new_failure: rules
"""


def test_pr_tagging_a_failing_case_into_a_tolerant_rule_holds(project: Project):
    project.config(TOLERANT_TAG_GATE)
    project.commit("experimental cases do not block")
    base = project.record_baseline("v2")
    open_pr(project)
    project.case("injury-escalates", severity="high", kind="escalation", tags=("experimental",))
    project.answer("v2", "injury-escalates", WRONG_ACCOUNT)
    project.commit("regress, and tag the case so its failure no longer blocks")

    result = project.gate("--base", base)

    assert result.code == 3, result.out + result.err
    assert ("HOLD   cases/injury-escalates.yaml:7  injury-escalates: now covered by the rule "
            "'tag experimental: failures do not block' (a tag added)") in result.out
    assert "rule: bank erosion" in result.out


CONFIDENT_PASS = '{"verdict": "pass", "confidence": 0.95, "rationale": "it apologises first"}'


def test_pr_changing_the_judge_holds_and_leaving_it_alone_does_not(project: Project):
    with ModelServer(latency_ms=0) as server:
        server.add_rule(Rule(reply=CONFIDENT_PASS))
        project.config(extra=judge_config(server.url) + f"""  lenient:
    kind: openai
    base_url: {server.url}
    model: says-yes-1
""")
        judge_case(project, "tone-judge")
        project.answer("v2", "tone-judge", "We are sorry; a refund is not possible for gifts.")
        project.commit("a case graded by the grader judge")
        base = project.record_baseline("v2")
        open_pr(project)
        project.answer("v2", "tone-judge", "Sorry! No refund for gifts.")
        project.commit("new agent wording")
        assert project.gate("--base", base).code == 0  # the judge is untouched: nothing holds

        config = project.path / "casebank.yaml"
        config.write_text(config.read_text().replace("model: judge-1", "model: says-yes-1"))
        project.commit("grade with a more forgiving model")
        result = project.gate("--base", base)
        assert result.code == 3, result.out + result.err
        assert ("HOLD   casebank.yaml:9  targets.grader: the judge target grader changed (model, "
                "URL or params): it may grade more leniently; review it") in result.out
        assert "rule: policy loosened" in result.out

        approved = project.cli("review", "--approve-policy", "--config", str(config),
                               "--rationale", "says-yes-1 agrees with people on our set",
                               "--reviewer", "@ai-safety")
        assert approved.code == 0, approved.err
        project.commit("approve the new judge")
        assert project.gate("--base", base).code == 0

        config.write_text(config.read_text() + "judge: lenient\n")
        project.commit("and make the forgiving one the default judge")
        again = project.gate("--base", base)

    assert again.code == 3, again.out
    assert ("judge: the default judge changed from none to lenient: it may grade more leniently; "
            "review it") in again.out


def test_pr_lowering_limits_cannot_hide_a_deleted_case(project: Project):
    # the case is over 1,024 bytes at the base; the PR deletes it and lowers max_file_bytes
    # below its size, so at the PR's limits its base version cannot be read
    big = project.path / "cases/refund-wrong-account.yaml"
    big.write_text(big.read_text().replace("title: Lesson refund-wrong-account\n",
                                           "title: Lesson refund-wrong-account\ndescription: "
                                           + "why this matters " * 80 + "\n"))
    project.commit("explain the refund case at length")
    base = project.record_baseline("v2")
    open_pr(project)
    big.unlink()
    project.write("casebank.yaml", (project.path / "casebank.yaml").read_text()
                  + "limits:\n  max_file_bytes: 1024\n")
    project.commit("drop the refund case, tighten file limits")

    result = project.gate("--base", base)

    assert result.code == 3, result.out + result.err
    assert "HOLD   cases/refund-wrong-account.yaml  refund-wrong-account: case deleted" in result.out
    approved = project.cli("review", "refund-wrong-account", "--approve-change", "--base", base,
                           "--config", str(project.path / "casebank.yaml"), "--rationale",
                           "retired", "--reviewer", "@bank-owners")
    assert approved.code == 0, approved.err
    project.commit("approve")
    assert project.gate("--base", base).code == 0
