import pytest

from casebank.bank.config import load_config
from casebank.select.changed import changed_suite
from casebank.select.index import scan

from .gitrepo import case_text, project_repo


@pytest.mark.parametrize(("text", "files", "unsure"), [
    (b"id: a\ninput:\n  system:\n    file: prompts/agent.md\n", ("prompts/agent.md",), False),
    (b"id: a\ninput:\n  system: {file: prompts/a.md}\nexpect:\n"
     b"  - {schema_file: 'schemas/s.json', \"file\": b.md}\n",
     ("b.md", "prompts/a.md", "schemas/s.json"), False),
    (b"id: a\nexpect:\n  - json_schema:\n      schema_file: \"./schemas/o.json\"  # widget\n",
     ("schemas/o.json",), False),
    (b"id: a\ninput:\n  system:\n    file:\n      prompts/x.md\n", (), True),  # next line
    (b"id: a\np: &p prompts/x.md\ninput:\n  system:\n    file: *p\n", (), True),  # alias
    (b"id: a\ninput:\n  system:\n    file: !!str prompts/x.md\n", (), True),  # a tag
    (b"id: a\nexpect:\n  - regex: \"a.*b\"\n  - contains: \"R&D! ok\"\n", (), False),
    (b"id: a\ninput:\n  tools:\n    - parameters:\n        properties:\n"
     b"          file: {type: string}\n", (), False),
])
def test_scan_finds_every_file_name_or_says_it_is_unsure(text, files, unsure):
    found = scan(text)
    assert (found.files, found.unsure) == (files, unsure)
    assert found.id == "a"


def test_scan_reads_quoted_ids_and_their_line():
    found = scan(b"# a comment\nid: 'refund-x'  # the id\ntitle: t\n")
    assert (found.id, found.id_line) == ("refund-x", 2)
    assert scan(b"{id: flow-style}").id is None  # not a plain line: never claimed


def index_files(repo):
    return sorted(p.name for p in (repo.project / ".casebank" / "index").glob("bank-*.sqlite"))


def suite(repo, **kwargs):
    config = load_config(repo.project / "casebank.yaml")
    return changed_suite(repo.top, config, None, "main", "HEAD", **kwargs)


def test_the_index_is_kept_per_state_of_the_bank_and_reused(tmp_path):
    repo = project_repo(tmp_path)
    repo.write("prompts/agent.md", "Changed.\n")
    repo.commit()
    first = suite(repo)
    kept = index_files(repo)
    assert len(kept) == 1
    assert [c.id for c in suite(repo).cases] == [c.id for c in first.cases] == ["case-0", "case-1"]
    # main moves on without touching the bank: same bank state, same index
    repo.git("checkout", "-q", "main")
    repo.write("README.md", "docs only\n")
    repo.commit()
    repo.git("checkout", "-q", "pr")
    repo.git("merge", "-q", "--no-edit", "main")
    suite(repo)
    assert index_files(repo) == kept
    # a new case on main is a new state of the bank: a new index, which knows the case
    repo.git("checkout", "-q", "main")
    repo.write("cases/case-7.yaml", case_text("case-7", prompt="prompts/agent.md"))
    repo.commit()
    repo.git("checkout", "-q", "pr")
    repo.git("merge", "-q", "--no-edit", "main")
    assert [c.id for c in suite(repo).cases] == ["case-0", "case-1", "case-7"]
    assert len(index_files(repo)) == 2


def test_a_case_naming_its_prompt_through_a_yaml_alias_is_still_found(tmp_path):
    repo = project_repo(tmp_path)
    repo.git("checkout", "-q", "main")
    repo.write("cases/case-3.yaml", case_text("case-3", prompt="*prompt")
               .replace("title:", "description: &prompt prompts/other.md\ntitle:"))
    repo.commit()
    repo.git("checkout", "-q", "pr")
    repo.git("merge", "-q", "--no-edit", "main")
    repo.write("prompts/other.md", "Changed.\n")
    repo.commit()
    found = suite(repo)
    assert [c.id for c in found.cases] == ["case-3"]
    assert found.cases[0].input.system == "Changed.\n"


def test_a_damaged_index_is_rebuilt_and_an_unwritable_folder_only_costs_a_rebuild(tmp_path):
    repo = project_repo(tmp_path)
    repo.write("prompts/agent.md", "Changed.\n")
    repo.commit()
    suite(repo)
    [name] = index_files(repo)
    (repo.project / ".casebank" / "index" / name).write_bytes(b"not a database")
    assert [c.id for c in suite(repo).cases] == ["case-0", "case-1"]
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the index folder would be")
    assert [c.id for c in suite(repo, index_dir=blocked / "index").cases] == ["case-0", "case-1"]
