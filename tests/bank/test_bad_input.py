"""Every class of bad case file is refused by `casebank validate` with exit 2 and a message
naming the file, the line and what is wrong; nothing ever ends in a traceback."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from casebank.bank.case import Case
from casebank.bank.files import project_reader
from casebank.bank.limits import Limits
from casebank.bank.load import parse_case
from tests.bank.conftest import Project, valid_case

BASE = valid_case()


def replace(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1)


LAUGHS = "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
    for i in range(9)
)
BILLION_LAUGHS = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + LAUGHS

# (what, file content, line of the problem, words the message must contain)
BAD_FILES = [
    ("yaml syntax error", replace("severity: high", "severity: [high"), 4, "YAML syntax error"),
    ("duplicate key", replace("tags: [refunds]", "tags: [refunds]\nseverity: low"), 10,
     "duplicate key `severity` (first at line 3)"),
    ("not a mapping", "- id: refund\n- title: x\n", 1, "a case file is a mapping"),
    ("two documents", BASE + "---\nid: other\n", 34, "a second YAML document"),
    ("billion laughs", BILLION_LAUGHS, 4, "aliases (*name) expand to more than 10,000 nodes"),
    ("recursive alias", replace("tags: [refunds]", "tags: &t [*t]"), 9, "recursive structure"),
    ("undefined alias", replace("tags: [refunds]", "tags: *nothing"), 9,
     "refers to an anchor (&name) that is not defined"),
    ("python tag", replace("title: Refunds", "title: !!python/object/apply:os.system Refunds"),
     2, "the tag `!!python/object/apply:os.system` is not allowed"),
    ("custom tag", replace("tags: [refunds]", "tags: !vault [refunds]"), 9,
     "the tag `!vault` is not allowed"),
    ("merge key", replace("source:\n", "source:\n  <<: {kind: incident}\n"), 5,
     "merge keys (<<) are not supported"),
    ("not utf-8", replace("The agent", "The agent\xe9").encode("latin-1"), 10, "not UTF-8 text"),
    ("binary", b"id: x\x00\x01\x02\n", 1, "binary file"),
    ("deep nesting", "id: x\nd: " + "[" * 5000 + "]" * 5000 + "\n", 2,
     "nested more than 64 levels deep"),
    ("unknown key", replace("severity: high", "sevrity: high"), 3,
     "unknown key `sevrity` (did you mean `severity`?)"),
    ("unknown nested key", replace("  ref: INC-1", "  reff: INC-1"), 6,
     "source.reff: unknown key `reff` (did you mean `ref`?)"),
    ("wrong enum", replace("severity: high", "severity: urgent"), 3,
     "`urgent` is not one of: critical, high, medium, low"),
    ("missing field", replace("title: Refunds go to the account that paid\n", ""), 1,
     "missing `title`"),
    ("absolute file", replace("file: prompts/agent.md", "file: /etc/passwd"), 14,
     "`/etc/passwd` is an absolute path"),
    ("escaping file", replace("file: prompts/agent.md", "file: prompts/../../secret.md"), 14,
     "leads outside the project"),
    ("missing file", replace("file: prompts/agent.md", "file: prompts/nope.md"), 14,
     "`prompts/nope.md` does not exist"),
    ("regex that does not compile", replace("  - contains: refund", "  - regex: \"(unclosed\""),
     31, "expect[0].regex"),
    ("unknown check kind", replace("  - contains: refund", "  - containz: refund"), 31,
     "unknown check kind `containz`"),
    ("at_least over samples", replace("pass: {at_least: 1}", "pass: {at_least: 3}"), 29,
     "needs 3 passing samples but only 2 are run"),
    # found reviewing the bank stage with hostile files
    ("NUL in a file reference", replace("file: prompts/agent.md", 'file: "prompts/agent.md\\0"'),
     14, "`prompts/agent.md\\u0000` contains a control character"),
    ("NUL in a schema_file", replace("  - contains: refund",
                                     '  - json_schema: {schema_file: "a\\0.json"}'), 31,
     "`a\\u0000.json` contains a control character"),
    ("one long string repeated by aliases",
     replace("description: The agent refunded the wrong account.",
             'description: &d "' + "x" * 20_000 + '"\n'
             "tags: [" + ", ".join(["*d"] * 60) + "]").replace("tags: [refunds]\n", ""),
     9, "tags[52]: aliases (*name) expand to more than 1,048,576 characters"),
    ("UTF-16", BASE.encode("utf-16"), 1, "this file is UTF-16 text, not UTF-8"),
    ("UTF-16 without a BOM", BASE.encode("utf-16-be"), 1, "this file is UTF-16 text, not UTF-8"),
    ("a tab indents", replace("  kind: incident", "\tkind: incident"), 5,
     "a tab indents this line: YAML indents with spaces"),
    ("null document", "~\n", 1, "a case file is a mapping of keys (id:, title:, input:, "
     "expect: ...), not null"),
    ("a number too long to read", replace("samples: 2", "samples: " + "9" * 5000), 28,
     "samples: `" + "9" * 39 + "…` is not a valid int (5,000 characters long)"),
    ("10,000 checks", BASE + "".join(f"  - contains: w{i}\n" for i in range(10_000)), 30,
     "expect: holds 10,002 checks (counting those inside any_of, all_of and not), more than "
     "the 200 a case may have"),
    ("checks nested in any_of", replace("  - contains: refund", "  - any_of:\n" + "".join(
        f"      - regex: \"\\\\p{{L}}{{{i}}}\"\n" for i in range(300))), 30,
     "expect: holds 302 checks (counting those inside any_of, all_of and not)"),
    ("a date that does not exist", replace("date: 2026-01-02", "date: 2026-02-30"), 7,
     "`2026-02-30` is not a date"),
]


@pytest.mark.parametrize("what, content, line, words", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_case_file_is_refused_with_file_line_and_reason(
        project: Project, what: str, content: str | bytes, line: int, words: str) -> None:
    project.write("cases/bad.yaml", content)
    code, out, err = project.cli("validate")
    assert code == 2, out + err
    lines = [ln for ln in out.splitlines() if ln.startswith(f"cases/bad.yaml:{line}:")]
    assert any(words in ln for ln in lines), f"expected line {line} to say {words!r}:\n{out}"
    assert "Traceback" not in out + err


def test_file_over_the_size_limit_is_refused_without_parsing(project: Project) -> None:
    project.config("bank: cases\nlimits: {max_file_bytes: 2048}\n")
    project.write("cases/big.yaml", BASE + "# padding\n" * 300)
    code, out, _ = project.cli("validate")
    assert code == 2
    assert out.startswith("cases/big.yaml:1:1: file is 3,745 bytes")
    assert "over the limit of 2,048 bytes" in out


def test_referenced_file_over_the_size_limit_is_refused(project: Project) -> None:
    project.config("bank: cases\nlimits: {max_file_bytes: 2048}\n")
    project.write("prompts/agent.md", "x" * 5000)
    project.write("cases/ok.yaml", BASE)
    code, out, _ = project.cli("validate")
    assert code == 2
    assert "cases/ok.yaml:14:" in out and "`prompts/agent.md` is 5,000 bytes" in out


def test_symlink_leading_outside_the_project_is_refused(project: Project, tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("top secret")
    os.symlink(secret, project.root / "prompts" / "link.md")
    project.write("cases/bad.yaml", replace("file: prompts/agent.md", "file: prompts/link.md"))
    code, out, _ = project.cli("validate")
    assert code == 2
    assert "cases/bad.yaml:14:" in out
    assert "`prompts/link.md` is a symlink leading outside the project" in out


def test_case_file_symlinked_from_outside_is_refused(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(BASE)
    os.symlink(outside, project.root / "cases" / "linked.yaml")
    code, out, _ = project.cli("validate")
    assert code == 2
    assert "cases/linked.yaml:1:1: this case file is a symlink leading outside the project" in out


def test_duplicate_ids_report_both_files(project: Project) -> None:
    project.write("cases/a.yaml", BASE)
    project.write("cases/team/b.yaml", BASE)
    code, out, _ = project.cli("validate")
    assert code == 2
    assert ("cases/a.yaml:1:1: id: duplicate id `refund-right-account`: "
            "cases/team/b.yaml:1 uses it too") in out
    assert ("cases/team/b.yaml:1:1: id: duplicate id `refund-right-account`: "
            "cases/a.yaml:1 uses it too") in out


def test_every_problem_is_printed_not_just_the_first(project: Project) -> None:
    project.write("cases/a.yaml", replace("severity: high", "sevrity: high"))
    project.write("cases/b.yaml", valid_case("other").replace("kind: incident", "kind: rumour"))
    code, out, _ = project.cli("validate")
    assert code == 2
    assert "cases/a.yaml:3:1: sevrity: unknown key" in out
    assert "cases/a.yaml:1:1: missing `severity`" in out
    assert "cases/b.yaml:5:3: source.kind: `rumour` is not one of" in out
    assert "3 problems in 2 files" in out


def test_bad_files_end_in_exit_2_through_the_installed_command(project: Project) -> None:
    project.write("cases/laughs.yaml", BILLION_LAUGHS)
    project.write("cases/binary.yaml", b"\x00\xff\xfe")
    proc = subprocess.run([sys.executable, "-m", "casebank", "validate"], cwd=project.root,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "cases/laughs.yaml:4:" in proc.stdout and "cases/binary.yaml:1:1:" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_nesting_without_brackets_is_refused_not_a_crash(project: Project) -> None:
    """`- - - - x` nests a list per two bytes; libyaml's composer recurses in C and crashed
    (segmentation fault) on 100,000 levels, so the depth is measured first for this too."""
    project.write("cases/deep.yaml", "id: x\nd:\n" + "- " * 100_000 + "a\n")
    project.write("cases/keys.yaml", "id: y\nd:\n" + "? " * 100_000 + "a\n")
    proc = subprocess.run([sys.executable, "-m", "casebank", "validate"], cwd=project.root,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "cases/deep.yaml:3:127: nested more than 64 levels deep" in proc.stdout
    assert "cases/keys.yaml:3:129: nested more than 64 levels deep" in proc.stdout


def _mutations(text: bytes, count: int) -> list[bytes]:
    rng = random.Random(2291)
    specials = [b"[", b"{", b"&a ", b"*a", b"!", b"!!binary ", b"%", b"@", b":", b"- ", b"\n",
                b"\t", b'"', b"'", b"---\n", b"? ", b"|", b">", b"\xff", b"\x00", b"#", b"<<: "]
    out = []
    for _ in range(count):
        data = bytearray(text)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(data))
            choice = rng.random()
            if choice < 0.3:
                del data[at:at + rng.randint(1, 20)]
            elif choice < 0.7:
                data[at:at] = rng.choice(specials)
            else:
                data = data[:at]
                if not data:
                    data = bytearray(b"x")
        out.append(bytes(data))
    return out


def test_no_mangled_case_file_raises(project: Project) -> None:
    """Hundreds of mangled variants of a valid case: each is a Case or located problems."""
    reader = project_reader(project.root, Limits())
    for data in _mutations(BASE.encode(), 400):
        result = parse_case("cases/x.yaml", data, root=project.root, read_file=reader,
                            limits=Limits())
        if isinstance(result, Case):
            continue
        assert result, data
        for problem in result:
            assert problem.path == "cases/x.yaml"
            assert problem.line is not None and problem.line >= 1, (problem, data)


def test_symlink_loops_are_refused_not_a_crash(project: Project) -> None:
    """A loop made pathlib raise RuntimeError: an internal error, exit 4."""
    project.write("cases/ok.yaml", replace("file: prompts/agent.md", "file: prompts/loop.md"))
    os.symlink("loop.md", project.root / "prompts" / "loop.md")
    os.symlink("b.yaml", project.root / "cases" / "a.yaml")
    os.symlink("a.yaml", project.root / "cases" / "b.yaml")
    os.symlink("missing.yaml", project.root / "cases" / "dangling.yaml")
    code, out, err = project.cli("validate")
    assert code == 2, out + err
    assert out.splitlines() == [
        "cases/a.yaml:1:1: this case file is a symlink loop (point the link at a file, or "
        "commit the file itself)",
        "cases/b.yaml:1:1: this case file is a symlink loop (point the link at a file, or "
        "commit the file itself)",
        "cases/dangling.yaml:1:1: this case file is a symlink to a file that does not exist "
        "(point the link at a file, or commit the file itself)",
        "cases/ok.yaml:14:5: input.system.file: `prompts/loop.md` is a symlink loop (point "
        "the link at a file, or commit the file itself)",
        "casebank: 4 problems in 4 files (1 checked, 0 cases valid)"]
    code, out, _ = project.cli("validate", "cases/a.yaml")
    assert code == 2 and out.startswith("cases/a.yaml:1:1: this case file is a symlink loop")


def test_a_bank_folder_that_is_a_symlink_loop_is_refused(project: Project) -> None:
    os.symlink("loop", project.root / "loop")
    project.config("bank: [cases, loop]\n")
    code, out, err = project.cli("validate")
    assert code == 2, out + err
    assert out.startswith("casebank.yaml:1:15: bank[1]: `loop` is a symlink loop")


def test_a_tool_schema_pattern_re2_cannot_run_is_refused(project):
    project.config("bank: cases\n")
    text = valid_case("lookback").replace(
        "          order_id: {type: string}\n",
        "          order_id: {type: string, pattern: '(?<=A)-[0-9]+'}\n", 1)
    assert "(?<=A)" in text
    project.write("cases/lookback.yaml", text)
    code, out, err = project.cli("validate")
    assert code == 2
    assert "cases/lookback.yaml:" in out + err
    assert "RE2" in out + err
