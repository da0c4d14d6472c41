"""casebank validate's output formats, and the pre-commit hook that runs it."""

from __future__ import annotations

import json
from pathlib import Path

from ruamel.yaml import YAML

from casebank.commands.validate import github_annotation
from casebank.errors import Problem
from tests.bank.conftest import Project, valid_case

REPO = Path(__file__).resolve().parents[2]


def _bad_project(project: Project) -> None:
    project.write("cases/ok.yaml", valid_case("ok"))
    project.write("cases/bad.yaml", valid_case("bad").replace("severity: high", "severity: hi"))


def test_text_format(project: Project) -> None:
    _bad_project(project)
    code, out, _ = project.cli("validate")
    assert code == 2
    assert out.splitlines() == [
        "cases/bad.yaml:3:1: severity: `hi` is not one of: critical, high, medium, low "
        "(did you mean `high`?)",
        "casebank: 1 problem in 1 file (2 checked, 1 case valid)"]


def test_json_format(project: Project) -> None:
    _bad_project(project)
    code, out, _ = project.cli("validate", "--format", "json")
    assert code == 2
    report = json.loads(out)
    assert report["ok"] is False and report["cases"] == 1
    assert report["files"] == ["cases/bad.yaml", "cases/ok.yaml"]
    assert report["problems"] == [{
        "path": "cases/bad.yaml", "line": 3, "column": 1, "field": "severity",
        "message": "`hi` is not one of: critical, high, medium, low",
        "hint": "did you mean `high`?"}]


def test_github_format(project: Project) -> None:
    _bad_project(project)
    code, out, err = project.cli("validate", "--format", "github")
    assert code == 2
    assert out == ("::error file=cases/bad.yaml,line=3,col=1,title=casebank%3A severity::"
                   "`hi` is not one of: critical, high, medium, low (did you mean `high`?)\n")
    assert "1 problem in 1 file" in err


def test_github_annotation_escapes_what_workflow_commands_reserve() -> None:
    problem = Problem("cases/a,b:c.yaml", "50% done\nnext line", 2, 5, "expect[0]")
    assert github_annotation(problem) == (
        "::error file=cases/a%2Cb%3Ac.yaml,line=2,col=5,title=casebank%3A expect[0]::"
        "50%25 done%0Anext line")


def test_clean_bank_exits_0(project: Project) -> None:
    project.write("cases/ok.yaml", valid_case("ok"))
    assert project.cli("validate") == (0, "casebank: 1 case valid, no problems\n", "")


def test_paths_select_files_and_folders(project: Project) -> None:
    _bad_project(project)
    assert project.cli("validate", "cases/ok.yaml")[0] == 0
    assert project.cli("validate", "cases")[0] == 2
    code, out, _ = project.cli("validate", "prompts")
    assert code == 2 and "prompts: no case files (*.yaml, *.yml) here" in out
    code, out, _ = project.cli("validate", "cases/nope.yaml")
    assert code == 2 and "cases/nope.yaml: no such file or folder" in out


def test_config_found_above_the_given_path(project: Project, tmp_path: Path) -> None:
    project.write("cases/ok.yaml", valid_case("ok"))
    outside = Project(tmp_path / "other")
    code, out, _ = outside.cli("validate", str(project.root / "cases" / "ok.yaml"))
    assert (code, out) == (0, "casebank: 1 case valid, no problems\n")


def test_pre_commit_hook_runs_validate() -> None:
    hooks = YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "casebank-validate"]
    assert hook["entry"] == "casebank validate" and hook["language"] == "python"
    assert hook["pass_filenames"] is False  # duplicate ids need the whole bank
