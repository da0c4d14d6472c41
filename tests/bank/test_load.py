"""Case files become Case values with everything later stages need."""

from __future__ import annotations

import subprocess
from pathlib import Path

from casebank.bank.case import Case, Message, PassRule, Position
from casebank.bank.config import load_config
from casebank.bank.files import project_reader
from casebank.bank.limits import Limits
from casebank.bank.load import load_bank, parse_case
from tests.bank.conftest import Project, valid_case


def test_a_valid_case_becomes_a_case(project: Project) -> None:
    project.write("cases/refund.yaml", valid_case())
    bank = load_bank(load_config(project.root / "casebank.yaml"))
    assert bank.problems == []
    assert bank.files == ["cases/refund.yaml"]
    (case,) = bank.cases
    assert case.id == "refund-right-account"
    assert case.path == "cases/refund.yaml"
    assert case.severity == "high" and case.review == "on-fail"
    assert case.source.kind == "incident" and case.source.ref == "INC-1"
    assert case.source.date == "2026-01-02"  # kept as written, not a date object
    assert case.input.system == "You are a support agent.\n"  # read from prompts/agent.md
    assert case.input.messages == (Message("user", "Refund order A-1 please"),)
    (tool,) = case.input.tools
    assert tool.name == "lookup_order" and tool.destructive is False
    assert tool.results[0].when == {"order_id": "A-1"}
    assert tool.results[1].when is None and tool.results[1].result == {"error": "not found"}
    assert case.input.max_steps == 8
    assert case.rule == PassRule(samples=2, min_pass=1)
    assert [(s.kind, s.args, s.index, s.line, s.name) for s in case.expect] == [
        ("contains", "refund", 0, 31, None),
        ("tool_called", "lookup_order", 1, 32, "looks the order up"),
    ]
    assert case.references == ("prompts/agent.md",)
    assert case.positions[("input", "tools", 0, "name")] == Position(18, 7)
    assert case.line_of(("expect", 1, "tool_called")) == 33
    assert case.line_of(("input", "tools", 0, "results", 0, "result", "deep")) == 26


def test_defaults_apply_when_fields_are_left_out(project: Project) -> None:
    text = "\n".join([
        "id: minimal", "title: Says hello", "severity: low", "source: {kind: synthetic}",
        "input:", "  messages:", "    - user: hi", "expect:", "  - contains: hello", ""])
    case = parse_case("cases/minimal.yaml", text.encode(), root=project.root,
                      read_file=lambda ref: None, limits=Limits())
    assert isinstance(case, Case)
    assert case.rule == PassRule(samples=1, min_pass=1) and case.rule.is_all
    assert case.review == "never" and case.tags == () and case.input.system is None
    assert case.input.tools == () and case.references == ()


def test_pass_all_needs_every_sample(project: Project) -> None:
    text = valid_case().replace("pass: {at_least: 1}", "pass: all").replace("samples: 2",
                                                                            "samples: 5")
    case = parse_case("c.yaml", text.encode(), root=project.root,
                      read_file=lambda ref: b"prompt", limits=Limits())
    assert isinstance(case, Case) and case.rule == PassRule(samples=5, min_pass=5)


def test_content_hash_covers_the_referenced_files(project: Project) -> None:
    data = valid_case().encode()
    prompts = {"prompts/agent.md": b"v1"}
    first = parse_case("c.yaml", data, root=project.root, read_file=prompts.get,
                       limits=Limits())
    prompts["prompts/agent.md"] = b"v2"
    second = parse_case("c.yaml", data, root=project.root, read_file=prompts.get,
                        limits=Limits())
    third = parse_case("c.yaml", data + b"# a comment\n", root=project.root,
                       read_file=prompts.get, limits=Limits())
    assert isinstance(first, Case) and isinstance(second, Case) and isinstance(third, Case)
    assert len({first.content_hash, second.content_hash, third.content_hash}) == 3
    assert second.input.system == "v2"


def test_parse_case_reads_references_through_the_given_reader(project: Project) -> None:
    """The gate loads base-commit cases from `git show`: nothing touches the work tree."""
    asked: list[str] = []

    def from_commit(ref: str) -> bytes | None:
        asked.append(ref)
        return {"prompts/agent.md": b"prompt at the base commit"}.get(ref)

    case = parse_case("cases/x.yaml", valid_case().encode(), root=Path("/nonexistent"),
                      read_file=from_commit, limits=Limits())
    assert isinstance(case, Case)
    assert asked == ["prompts/agent.md"] and case.input.system == "prompt at the base commit"
    missing = parse_case("cases/x.yaml", valid_case().encode(), root=Path("/nonexistent"),
                         read_file=lambda ref: None, limits=Limits())
    assert isinstance(missing, list)
    assert missing[0].render().startswith(
        "cases/x.yaml:14:5: input.system.file: `prompts/agent.md` does not exist")


def test_check_files_are_references_and_are_checked(project: Project) -> None:
    project.write("schemas/answer.json", '{"type": "object"}')
    text = valid_case().replace("  - contains: refund",
                                "  - json_schema: {schema_file: schemas/answer.json}")
    project.write("cases/json.yaml", text)
    bank = load_bank(load_config(project.root))
    assert bank.problems == []
    assert bank.cases[0].references == ("prompts/agent.md", "schemas/answer.json")
    project.write("cases/json.yaml", text.replace("schemas/answer.json", "../answer.json"))
    bank = load_bank(load_config(project.root))
    assert [p.render() for p in bank.problems] == [
        "cases/json.yaml:31:19: expect[0].json_schema.schema_file: `../answer.json` leads "
        "outside the project (write it relative to the folder holding casebank.yaml, "
        "e.g. prompts/agent.md)"]


def test_tool_definitions_are_checked(project: Project) -> None:
    text = valid_case().replace("order_id: {type: string}", "order_id: {type: strng}") \
        .replace("- when: {order_id: A-1}", "- when: {order: A-1}")
    problems = parse_case("c.yaml", text.encode(), root=project.root,
                          read_file=lambda ref: b"p", limits=Limits())
    assert isinstance(problems, list)
    rendered = "\n".join(p.render() for p in problems)
    assert "c.yaml:20:7: input.tools[0].parameters: not a valid JSON Schema" in rendered
    assert ("c.yaml:25:18: input.tools[0].results[0].when.order: `order` is not an argument "
            "of this tool, so this result would never match (did you mean `order_id`?)"
            in rendered)


def test_conversation_must_end_with_the_user(project: Project) -> None:
    text = valid_case().replace('    - user: "Refund order A-1 please"\n',
                                '    - user: "Refund order A-1 please"\n    - assistant: "Sure"\n')
    problems = parse_case("c.yaml", text.encode(), root=project.root,
                          read_file=lambda ref: b"p", limits=Limits())
    assert isinstance(problems, list)
    assert problems[0].render() == ("c.yaml:17:7: input.messages[1]: the conversation must "
                                    "end with a user message, which the model answers")


def test_only_the_given_paths_are_loaded(project: Project) -> None:
    project.write("cases/a.yaml", valid_case("a"))
    project.write("cases/b.yaml", valid_case("b"))
    project.write("cases/c.yaml", "id: [broken")
    config = load_config(project.root / "casebank.yaml")
    bank = load_bank(config, [str(project.root / "cases" / "b.yaml")])
    assert [c.id for c in bank.cases] == ["b"] and bank.problems == []
    whole = load_bank(config)
    assert sorted(c.id for c in whole.cases) == ["a", "b"]
    assert [p.path for p in whole.problems] == ["cases/c.yaml"]


def test_several_bank_folders(project: Project) -> None:
    project.config("bank: [cases, more/cases]\n")
    project.write("cases/a.yaml", valid_case("a"))
    project.write("more/cases/b.yaml", valid_case("b"))
    bank = load_bank(load_config(project.root / "casebank.yaml"))
    assert bank.files == ["cases/a.yaml", "more/cases/b.yaml"] and bank.problems == []


def test_paths_are_relative_to_the_git_work_tree(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    project = Project(repo / "evals")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    project.write("cases/a.yaml", valid_case("a").replace("severity: high", "severity: hi"))
    bank = load_bank(load_config(project.root / "casebank.yaml"))
    assert bank.files == ["evals/cases/a.yaml"]
    assert bank.problems[0].path == "evals/cases/a.yaml"
    code, out, _ = project.cli("validate", "--format", "github")
    assert code == 2
    assert out.startswith("::error file=evals/cases/a.yaml,line=3,col=1,"
                          "title=casebank%3A severity::`hi` is not one of")


def test_judge_checks_need_a_judge_target(project: Project) -> None:
    judged = valid_case().replace("  - contains: refund",
                                  "  - judge: {rubric: The reply is polite.}")
    project.write("cases/a.yaml", judged)
    code, out, _ = project.cli("validate")
    assert code == 2
    assert ("cases/a.yaml:31:5: expect[0].judge: this judge check has no judge model (set "
            "`judge:` (a target name) in casebank.yaml or in this case)") in out
    project.write("cases/a.yaml", judged.replace("review: on-fail", "review: on-fail\n"
                                                 "judge: grader"))
    code, out, _ = project.cli("validate")
    assert code == 2 and "cases/a.yaml:12:1: judge: no target named `grader`" in out


# Items whose shape is right but whose meaning is not (and a few that are fine): the loader
# checks their arguments without validate_item's second schema pass, and must say the same.
MEANING_ITEMS = [
    '- regex: "(unclosed"',
    '- regex: {pattern: "a(?=b)", ignore_case: true}',
    '- not: {regex: "(?<!x)y"}',
    '- any_of:\n    - tool_called: lookup_ordr\n    - all_of:\n        - not_regex: "\\\\1"\n'
    '        - contains: fine',
    '- tool_args: {tool: refund, args: {amount: {matches: "(("}}}',
    '- tool_order: [lookup_order, issue_refund]',
    '- json_schema: {schema_file: prompts/missing.schema.json}',
    '- json_schema: {schema: {type: nonsense}}',
    '- json_schema: {schema: {type: string, pattern: "a(?=b)"}}',
    '- json_path: {path: "$.a[", equals: 1}',
    '- confirm_before: {tool: lookup_order, confirm_pattern: "(yes"}',
    '- name: fine\n    contains: {any: [a, b], ignore_case: true}',
    '- max_length: {max: 10, unit: words}',
]


def test_argument_checks_match_validate_item(project: Project) -> None:
    """A case the schema passes skips validate_item's repeated shape check (a third of the
    loading time of a big bank); its problems must be exactly those validate_item finds,
    which is what the loader asks for when the case schema failed elsewhere."""
    reader = project_reader(project.root, Limits())
    for item in MEANING_ITEMS:
        text = valid_case().replace("  - contains: refund", "  " + item)
        clean = parse_case("c.yaml", text.encode(), root=project.root, read_file=reader,
                           limits=Limits())
        broken = parse_case("c.yaml", text.replace("severity: high", "severity: 7").encode(),
                            root=project.root, read_file=reader, limits=Limits())
        assert isinstance(broken, list)
        full = [p for p in broken if p.field != "severity"]
        assert (clean if isinstance(clean, list) else []) == full, item


def test_an_expect_item_of_the_wrong_shape_is_explained_not_skipped(project: Project) -> None:
    """The case schema's errors under expect are left to the checks stage's wording, which
    must still run for them (not the argument checks alone, which assume a valid shape)."""
    text = valid_case().replace("  - contains: refund", "  - contains: refund\n    regex: x")
    problems = parse_case("c.yaml", text.encode(), root=project.root,
                          read_file=lambda ref: b"prompt", limits=Limits())
    assert isinstance(problems, list)
    assert [p.render() for p in problems] == [
        "c.yaml:31:5: expect[0]: one check per item: found `contains`, `regex`; write each as its "
        "own `- ` item"]


def test_cases_share_what_every_file_repeats(project: Project) -> None:
    """A big bank keeps every case's position map and text: field paths, short values and
    a prompt that many cases read are one object each, not one per case (peak memory for
    10,000 cases went from 290 to 215 MiB, bench/validate.py)."""
    project.write("cases/a.yaml", valid_case("a"))
    project.write("cases/b.yaml", valid_case("b"))
    first, second = load_bank(load_config(project.root / "casebank.yaml")).cases
    paths = {path: path for path in second.positions}
    assert all(paths[path] is path for path in first.positions)
    assert first.input.system is second.input.system
    assert first.input.tools[0].name is second.input.tools[0].name
