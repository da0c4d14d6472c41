"""casebank.yaml: validated with located problems, turned into a Config."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from casebank.bank.config import load_config
from casebank.bank.limits import Limits
from casebank.errors import UserError
from tests.bank.conftest import Project

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "support-agent" / "casebank.yaml"


def test_the_example_config_loads() -> None:
    config = load_config(EXAMPLE)
    assert config.root == EXAMPLE.parent
    assert config.bank_dirs == (EXAMPLE.parent / "cases",)
    assert set(config.targets) == {"agent-v1", "agent-v2", "live"}
    assert config.targets["agent-v1"]["kind"] == "replay"
    assert config.default_target == "agent-v2" and config.judge is None
    assert config.run["concurrency"] == 16
    assert config.gate["rules"][0]["severity"] == "critical"
    assert config.limits == Limits()
    assert len(config.config_hash) == 64


def test_missing_config_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        load_config(tmp_path / "casebank.yaml")
    assert "no casebank.yaml at" in err.value.message
    assert "pass --config PATH" in (err.value.problems[0].hint or "")


def test_validate_without_a_config_says_where_it_looked(tmp_path: Path) -> None:
    project = Project(tmp_path / "p")
    (project.root / "casebank.yaml").unlink()
    code, out, _ = project.cli("validate")
    assert code == 2
    assert out.startswith(f"casebank.yaml: not found in {project.root}")


def _problems(project: Project, text: str) -> list[str]:
    project.config(text)
    with pytest.raises(UserError) as err, contextlib.chdir(project.root):
        load_config("casebank.yaml")
    return [p.render() for p in err.value.problems]


def test_config_problems_are_located(project: Project) -> None:
    problems = _problems(project, "\n".join([
        "bnak: cases",
        "bank: [cases, missing]",
        "default_target: agent-v3",
        "targets:",
        "  agent-v2: {kind: replay, file: r.jsonl}",
        "limits: {max_file_bytes: 10}",
        ""]))
    assert "casebank.yaml:1:1: bnak: unknown key `bnak` (did you mean `bank`?)" in problems
    assert any(p.startswith("casebank.yaml:2:15: bank[1]: the bank folder `missing` does not "
                            "exist") for p in problems)
    assert ("casebank.yaml:3:1: default_target: no target named `agent-v3` (did you mean "
            "`agent-v2`?)") in problems
    assert any(p.startswith("casebank.yaml:6:10: limits.max_file_bytes: is 10, must be at "
                            "least 1024") for p in problems)


def test_bank_folder_may_not_leave_the_project(project: Project, tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    problems = _problems(project, "bank: ../outside\n")
    assert problems == ["casebank.yaml:1:1: bank: `../outside` leads outside the project "
                        "(write it relative to the folder holding casebank.yaml, e.g. "
                        "prompts/agent.md)"]


def test_config_yaml_is_read_safely(project: Project) -> None:
    problems = _problems(project, "bank: !!python/name:os.system cases\n")
    assert problems == ["casebank.yaml:1:7: bank: the tag `!!python/name:os.system` is not "
                        "allowed here (case files are plain data: remove the tag)"]


def test_limits_and_hash(project: Project) -> None:
    first = load_config(project.config("bank: cases\nlimits: {max_file_bytes: 4096, "
                                       "max_alias_nodes: 50}\n"))
    assert first.limits == Limits(max_file_bytes=4096, max_alias_nodes=50)
    same = load_config(project.config("# reformatted\nlimits:\n  max_alias_nodes: 50\n"
                                      "  max_file_bytes: 4096\nbank: cases\n"))
    other = load_config(project.config("bank: cases\n"))
    assert first.config_hash == same.config_hash != other.config_hash


def test_config_alias_limit_applies_to_cases(project: Project) -> None:
    project.config("bank: cases\nlimits: {max_alias_nodes: 5}\n")
    project.write("cases/a.yaml", "a: &a [1, 2, 3]\nb: [*a, *a]\n")
    code, out, _ = project.cli("validate")
    assert code == 2
    assert "cases/a.yaml:1:4: b[1]: aliases (*name) expand to more than 5 nodes" in out
