import subprocess

import pytest

from casebank.bank.config import load_config
from casebank.bank.load import load_bank
from casebank.errors import UserError
from casebank.select.changed import changed_suite

from .gitrepo import case_text, project_repo


def suite(repo, *, with_bank=False, base="main", head="HEAD"):
    config = load_config(repo.project / "casebank.yaml")
    bank = load_bank(config) if with_bank else None
    return changed_suite(repo.top, config, bank, base, head)


def ids(result):
    return [case.id for case in result.cases]


@pytest.fixture(params=[False, True], ids=["from-git", "from-bank"])
def with_bank(request):
    """Every behaviour holds both reading only the changed files and from a loaded bank."""
    return request.param


def test_added_and_modified_case_files_are_the_suite(tmp_path, with_bank):
    repo = project_repo(tmp_path)
    repo.write("cases/case-3.yaml", case_text("case-3", reply="changed"))
    repo.write("cases/new/case-9.yaml", case_text("case-9"))
    repo.write("README.md", "unrelated\n")
    repo.commit()
    result = suite(repo, with_bank=with_bank)
    assert ids(result) == ["case-3", "case-9"]
    assert not result.full_required
    assert result.changed_files == ["README.md", "cases/case-3.yaml", "cases/new/case-9.yaml"]
    assert result.deleted_case_paths == []
    assert result.bank_size == 5
    assert result.why.startswith("2 cases to run since ")
    assert result.why.endswith(": 2 case files added or modified.")


def test_cases_reading_a_changed_prompt_are_in_the_suite(tmp_path, with_bank):
    repo = project_repo(tmp_path)
    repo.write("prompts/agent.md", "You are a careful, polite support agent.\n")
    repo.commit()
    result = suite(repo, with_bank=with_bank)
    assert ids(result) == ["case-0", "case-1"]
    assert result.referencing == {"case-0": ["prompts/agent.md"], "case-1": ["prompts/agent.md"]}
    assert result.why.endswith(": 2 cases reading prompts/agent.md, which changed.")
    # the system prompt the cases carry is the new one
    assert result.cases[0].input.system == "You are a careful, polite support agent.\n"


def test_a_prompt_no_case_reads_selects_nothing(tmp_path, with_bank):
    repo = project_repo(tmp_path)
    repo.write("prompts/other.md", "You are verbose.\n")
    repo.commit()
    result = suite(repo, with_bank=with_bank)
    assert result.cases == [] and not result.full_required
    assert result.why.startswith("No case changed since ")
    assert result.why.endswith(": 1 file changed, none of them a case file or a file a case reads.")


def test_a_case_mentioning_a_prompt_in_its_text_only_is_not_selected(tmp_path):
    repo = project_repo(tmp_path)
    repo.write("cases/case-3.yaml", case_text("case-3").replace(
        "title: The case-3 lesson", "title: Unlike prompts/other.md, be brief"))
    repo.commit("mention")
    repo.git("checkout", "-q", "-b", "pr2")
    repo.write("prompts/other.md", "You are verbose.\n")
    repo.commit()
    assert suite(repo, base="pr").cases == []


def test_configuration_changes_require_the_full_bank(tmp_path, with_bank):
    repo = project_repo(tmp_path)
    repo.write("casebank.yaml", (repo.project / "casebank.yaml").read_text()
               + "run:\n  concurrency: 4\n")
    repo.write("cases/case-2.yaml", case_text("case-2", reply="changed"))
    repo.commit()
    result = suite(repo, with_bank=with_bank)
    assert result.full_required
    assert result.why == ("casebank.yaml changed: the configuration changed, so the full bank "
                          "must run.")
    assert ids(result) == ["case-2"]  # still listed, for the report


def test_a_file_the_configuration_names_requires_the_full_bank(tmp_path):
    repo = project_repo(tmp_path)
    repo.write("recordings/candidate.jsonl", '{"case": "case-0"}\n')
    repo.commit()
    result = suite(repo)
    assert result.full_required
    assert result.why.startswith("recordings/candidate.jsonl (named in casebank.yaml) changed")


def test_deleted_case_files_are_listed_not_run(tmp_path, with_bank):
    repo = project_repo(tmp_path)
    repo.delete("cases/case-3.yaml")
    repo.commit()
    result = suite(repo, with_bank=with_bank)
    assert result.cases == []
    assert result.deleted_case_paths == ["cases/case-3.yaml"]
    assert result.bank_size == 3
    assert result.why.endswith(": 1 case file deleted.")


def test_a_renamed_case_is_a_deletion_and_an_addition(tmp_path):
    repo = project_repo(tmp_path)
    (repo.project / "cases/refunds").mkdir()
    repo.git("mv", "cases/case-3.yaml", "cases/refunds/case-3.yaml")
    repo.commit()
    result = suite(repo)
    assert [c.path for c in result.cases] == ["cases/refunds/case-3.yaml"]
    assert result.deleted_case_paths == ["cases/case-3.yaml"]


def test_changes_on_the_base_branch_after_the_fork_are_not_the_prs(tmp_path):
    repo = project_repo(tmp_path)
    repo.write("cases/case-3.yaml", case_text("case-3", reply="mine"))
    repo.commit()
    repo.git("checkout", "-q", "main")
    repo.write("cases/case-2.yaml", case_text("case-2", reply="theirs"))
    repo.commit()
    repo.git("checkout", "-q", "pr")
    assert ids(suite(repo)) == ["case-3"]


def test_paths_are_relative_to_the_git_work_tree_when_the_project_is_a_subfolder(tmp_path,
                                                                                  with_bank):
    repo = project_repo(tmp_path, project="ml/agent")
    repo.write("prompts/agent.md", "New prompt.\n")
    repo.write("cases/case-3.yaml", case_text("case-3", reply="changed"))
    repo.commit()
    result = suite(repo, with_bank=with_bank)
    assert [c.path for c in result.cases] == [
        "ml/agent/cases/case-0.yaml", "ml/agent/cases/case-1.yaml", "ml/agent/cases/case-3.yaml"]
    assert result.changed_files == ["ml/agent/cases/case-3.yaml", "ml/agent/prompts/agent.md"]


def test_an_invalid_changed_case_is_a_user_error_with_its_problems(tmp_path):
    repo = project_repo(tmp_path)
    repo.write("cases/case-3.yaml", case_text("case-3").replace("severity: high",
                                                                "severity: urgent"))
    repo.commit()
    with pytest.raises(UserError) as info:
        suite(repo)
    assert info.value.message.startswith("the changed case files have 1 problem")
    rendered = [p.render() for p in info.value.problems]
    assert len(rendered) == 1 and rendered[0].startswith("cases/case-3.yaml:3:")
    assert "severity" in rendered[0]


def test_deleting_a_prompt_cases_still_read_is_an_error_naming_them(tmp_path):
    repo = project_repo(tmp_path)
    repo.delete("prompts/agent.md")
    repo.commit()
    with pytest.raises(UserError) as info:
        suite(repo)
    assert sorted(p.path for p in info.value.problems) == ["cases/case-0.yaml",
                                                           "cases/case-1.yaml"]
    assert all("`prompts/agent.md` does not exist" in p.message for p in info.value.problems)


def test_a_new_case_reusing_an_existing_id_is_an_error(tmp_path):
    repo = project_repo(tmp_path)
    repo.write("cases/copy.yaml", case_text("case-2", reply="copied"))
    repo.commit()
    with pytest.raises(UserError) as info:
        suite(repo)
    assert [p.render() for p in info.value.problems] == [
        "cases/copy.yaml:1:1: id: duplicate id `case-2`: cases/case-2.yaml:1 uses it too "
        "(ids are unique across the bank: rename one of them)"]


def test_a_shallow_clone_without_the_base_says_to_set_fetch_depth(tmp_path):
    origin = project_repo(tmp_path / "origin")
    origin.write("cases/case-3.yaml", case_text("case-3", reply="changed"))
    origin.commit()
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "pr",
                    f"file://{origin.top}", str(clone)], check=True, capture_output=True)
    config = load_config(clone / "casebank.yaml")
    with pytest.raises(UserError) as info:
        changed_suite(clone, config, None, "origin/main", "HEAD")
    assert info.value.message == (
        "the base 'origin/main' is not in this checkout, which is shallow (only the last commits "
        "were fetched): set `fetch-depth: 0` in actions/checkout (`with: {fetch-depth: 0}`) so "
        "the pull request's base and its history are in the checkout")
    assert info.value.exit_code == 2


def test_a_shallow_clone_with_the_base_tip_but_not_the_history_says_the_same(tmp_path):
    origin = project_repo(tmp_path / "origin")
    origin.write("cases/case-3.yaml", case_text("case-3", reply="changed"))
    origin.commit()
    origin.git("checkout", "-q", "main")
    origin.write("README.md", "moved on\n")
    origin.commit()
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-single-branch",
                    f"file://{origin.top}", str(clone)], check=True, capture_output=True)
    subprocess.run(["git", "checkout", "-q", "pr"], cwd=clone, check=True)
    with pytest.raises(UserError, match="which is shallow: set `fetch-depth: 0`"):
        changed_suite(clone, load_config(clone / "casebank.yaml"), None, "origin/main", "HEAD")


def test_an_unknown_base_in_a_full_clone_says_how_to_fetch_it(tmp_path):
    repo = project_repo(tmp_path)
    with pytest.raises(UserError, match=r"the base 'origin/release' is not a commit or branch in "
                                        r"this repository: fetch it \(`git fetch origin release`\)"):
        suite(repo, base="origin/release")


def test_outside_git_the_changed_suite_says_to_run_the_full_bank(tmp_path):
    (tmp_path / "cases").mkdir()
    (tmp_path / "casebank.yaml").write_text("bank: cases\n")
    config = load_config(tmp_path / "casebank.yaml")
    with pytest.raises(UserError, match="is not in a git repository: the changed suite compares "
                                        "two commits; run the full bank instead"):
        changed_suite(tmp_path, config, None, "main", "HEAD")


def test_a_symlinked_case_file_and_prompt_read_as_the_files_they_point_to(tmp_path, with_bank):
    # As in the work tree (casebank validate): a link reads as its target, not as its text.
    repo = project_repo(tmp_path)
    repo.write("shared/case-8.yaml", case_text("case-8", prompt="prompts/current.md"))
    repo.write("prompts/v2.md", "You are a careful, polite support agent.\n")
    (repo.project / "prompts" / "current.md").symlink_to("v2.md")
    (repo.project / "cases" / "case-8.yaml").symlink_to("../shared/case-8.yaml")
    repo.commit("link a shared case and a prompt")
    result = suite(repo, with_bank=with_bank)
    assert ids(result) == ["case-8"]
    assert result.cases[0].path == "cases/case-8.yaml"
    assert result.cases[0].input.system == "You are a careful, polite support agent.\n"


def test_a_changed_case_file_that_is_a_dangling_link_is_a_problem_at_its_path(tmp_path):
    repo = project_repo(tmp_path)
    (repo.project / "cases" / "gone.yaml").symlink_to("../shared/gone.yaml")
    repo.commit("a link to nothing")
    with pytest.raises(UserError) as info:
        suite(repo)
    assert [p.render() for p in info.value.problems] == [
        "cases/gone.yaml:1:1: this case file cannot be read at the head commit: a symlink that "
        "loops, points to a missing file or leads outside the repository (point the link at a "
        "file, or commit the file itself)"]
