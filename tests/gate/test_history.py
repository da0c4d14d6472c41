"""Reading a change from git: which cases it touched, including through the files they read."""

from __future__ import annotations

from pathlib import Path

from casebank.bank.config import load_config
from casebank.gate import history
from casebank.gate.changes import NEUTRAL, UNCLEAR
from tests.gate.scenario import CONFIG, Project

CASE = """\
id: order-widget
title: Order status widget JSON
severity: high
source: {kind: synthetic}
input:
  system: {file: prompts/agent.md}
  messages:
    - user: "Status of A-1042 as JSON"
expect:
  - json_schema: {schema_file: schemas/status.json}
"""


def changes(project: Project, base: str, head: str = "HEAD"):
    config = load_config(project.path / "casebank.yaml")
    found = history.bank_changes(
        history.project_of(config, project.path), history.resolve(
            history.project_of(config, project.path), base, "base"),
        project.git("rev-parse", head),
        base_config=(project.path / "casebank.yaml").read_bytes(),
        head_config=(project.path / "casebank.yaml").read_bytes(), rule_tags=frozenset(),
        limits=config.limits, review_dir="reviews")
    return found.changes


def setup(tmp_path: Path) -> tuple[Project, str]:
    p = Project(tmp_path / "repo" / "agents" / "support")
    p.config()
    p.write("cases/order-widget.yaml", CASE)
    p.write("prompts/agent.md", "You are a support agent.\n")
    p.write("schemas/status.json", '{"type": "object", "required": ["status"]}\n')
    p.case("other")
    return p, p.commit("bank")


def test_changed_prompt_is_listed_without_holding(tmp_path: Path):
    p, base = setup(tmp_path)
    p.write("prompts/agent.md", "You are a terse support agent.\n")
    p.commit("prompt")
    (change,) = changes(p, base)
    assert change.case_id == "order-widget" and not change.erodes
    assert [(e.effect, e.message) for e in change.edits] == [
        (NEUTRAL, "prompts/agent.md, read by the case, changed")]


def test_changed_schema_read_by_a_check_is_held_for_review(tmp_path: Path):
    p, base = setup(tmp_path)
    p.write("schemas/status.json", '{"type": "object"}\n')
    p.commit("schema")
    (change,) = changes(p, base)
    assert change.erodes
    assert [(e.effect, e.message) for e in change.edits] == [
        (UNCLEAR, "schemas/status.json, read by a check, changed: cannot tell whether it is "
                  "looser; review it")]


def test_project_in_a_subfolder_names_files_from_the_repository_top(tmp_path: Path):
    mono = Project(tmp_path / "mono")
    mono.write("support/casebank.yaml", CONFIG.format(gate="  on_error: block", default="v1",
                                                      extra=""))
    mono.write("support/cases/order-widget.yaml", CASE)
    mono.write("support/prompts/agent.md", "x\n")
    mono.write("support/schemas/status.json", "{}\n")
    first = mono.commit("monorepo with a casebank project in support/")
    (mono.path / "support/cases/order-widget.yaml").unlink()
    mono.commit("delete the case")
    config = load_config(mono.path / "support" / "casebank.yaml")
    project = history.project_of(config, mono.path)
    assert (project.config, project.folder) == ("support/casebank.yaml", "support")
    data = (mono.path / "support/casebank.yaml").read_bytes()
    found = history.bank_changes(project, first, mono.git("rev-parse", "HEAD"),
                                 base_config=data, head_config=data, rule_tags=frozenset(),
                                 limits=config.limits, review_dir="reviews")
    (change,) = found.changes
    assert (change.case_id, change.change, change.path) == (
        "order-widget", "deleted", "support/cases/order-widget.yaml")


def test_moving_the_bank_folder_away_from_cases_deletes_them(tmp_path: Path):
    p, _ = setup(tmp_path)
    p.write("active/keep.yaml", CASE.replace("id: order-widget", "id: keep"))
    p.commit("a second folder")
    base = p.git("rev-parse", "HEAD")
    old_config = (p.path / "casebank.yaml").read_bytes()
    p.write("casebank.yaml", old_config.decode().replace("bank: cases", "bank: active"))
    head = p.commit("only the active folder is the bank now")
    config = load_config(p.path / "casebank.yaml")
    project = history.project_of(config, p.path)
    found = history.bank_changes(project, base, head, base_config=old_config,
                                 head_config=(p.path / "casebank.yaml").read_bytes(),
                                 rule_tags=frozenset(), limits=config.limits,
                                 review_dir="reviews")
    assert sorted((c.case_id, c.change) for c in found.changes) == [
        ("keep", "added"), ("order-widget", "deleted"), ("other", "deleted")]
    assert all(c.erodes for c in found.changes if c.change == "deleted")
