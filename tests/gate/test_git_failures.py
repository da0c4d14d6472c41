"""When git cannot answer for --base, the gate says so (exit 4) instead of guessing."""

from __future__ import annotations

from pathlib import Path

import pytest

from casebank import git
from casebank.errors import ExitCode, InfrastructureError
from tests.gate.scenario import Project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project(tmp_path / "shop")
    p.config()
    p.case("a-refund", severity="critical")
    p.answer("v1", "a-refund", "Your refund is on its way.")
    p.answer("v2", "a-refund", "Your refund is on its way.")
    return p


def _lose_object(project: Project, spec: str) -> None:
    """Delete the loose object ``spec`` names, as a damaged or partial clone lacks it."""
    sha = project.git("rev-parse", spec)
    (project.path / ".git" / "objects" / sha[:2] / sha[2:]).unlink()


def test_an_unreadable_base_policy_is_exit_4_not_first_setup(project: Project):
    base = project.commit("bank")
    project.write("casebank.yaml", (project.path / "casebank.yaml").read_text() + "# head\n")
    project.commit("head")
    _lose_object(project, f"{base}:casebank.yaml")

    result = project.gate("--target", "v1", "--base", base)

    assert result.code == ExitCode.INFRA, result.out + result.err
    assert f"casebank: git cannot read casebank.yaml at {base[:12]}" in result.err
    assert "git fsck" in result.err
    assert "first setup" not in result.out and "SHIP" not in result.out


def test_an_unknown_base_commit_is_still_a_usage_error(project: Project):
    project.commit("bank")

    result = project.gate("--target", "v1", "--base", "no-such-branch")

    assert result.code == ExitCode.USAGE
    assert "the base commit 'no-such-branch' is not in this checkout" in result.err


def test_show_tells_an_absent_file_from_an_unreadable_one(project: Project):
    base = project.commit("bank")
    _lose_object(project, f"{base}:cases/a-refund.yaml")

    assert git.show(project.path, base, "cases/nothing-here.yaml") is None
    assert git.show(project.path, "0" * 40, "casebank.yaml") is None
    with pytest.raises(InfrastructureError, match="git cannot read cases/a-refund.yaml"):
        git.show(project.path, base, "cases/a-refund.yaml")
