"""The evidence file: written streaming, read back whole, cut-off and broken files."""

from __future__ import annotations

import json

import pytest

from casebank import evidence as evidence_file
from casebank.errors import UserError
from tests.run.conftest import openai_target


def _two_case_run(project, server):
    project.write_config({"m": openai_target(server)}, "m")
    project.add_case("a", "hello a", samples=2)
    project.add_case("b", "hello b", expect=[{"contains": "nope"}])
    return project.run()


def test_evidence_round_trips_with_everything_the_gate_needs(project, server):
    evidence = _two_case_run(project, server)
    path = project.root / ".casebank" / "evidence.json"

    read = evidence_file.read(path)

    assert read.complete is True and read.interrupted is False
    assert read.target == {"name": "m", "kind": "openai", "base_url": server.url,
                           "model": "test-model", "params": {}}
    assert read.config_hash == evidence.config_hash and len(read.config_hash) >= 12
    assert read.selected == ["a", "b"] and read.bank_size == 2
    by_id = {c.case_id: c for c in read.cases}
    assert by_id["a"].outcome == "pass" and by_id["b"].outcome == "fail"
    b = by_id["b"]
    assert (b.path, b.severity, b.source_kind, b.source_ref) == ("cases/b.yaml", "high", "incident", "INC-1")
    assert b.content_hash == next(c for c in evidence.cases if c.case_id == "b").content_hash
    sample = b.samples[0]
    assert sample.sample.output == "echo: hello b"
    assert sample.sample.request["messages"][-1] == {"role": "user", "content": "hello b"}
    assert sample.checks[0].message == "the output does not contain `nope`"
    assert sample.checks[0].line > 1
    assert read.runner["requests"] == 3


def test_a_file_cut_off_between_cases_reads_as_incomplete(project, server):
    _two_case_run(project, server)
    path = project.root / ".casebank" / "evidence.json"
    text = path.read_text()
    cut = project.root / "cut.json"
    cut.write_text(text[: text.index("\n],") + 1])  # header and both cases, no footer

    read = evidence_file.read(cut)

    assert read.complete is False and len(read.cases) == 2


def test_a_file_cut_off_inside_its_last_case_reads_as_incomplete_and_the_gate_blocks(project,
                                                                                     server):
    _two_case_run(project, server)
    text = (project.root / ".casebank" / "evidence.json").read_text()
    cut = project.root / "cut.json"
    cut.write_text(text[: text.index("\n],") - 20])  # killed while writing case b

    read = evidence_file.read(cut)

    assert read.complete is False and [c.case_id for c in read.cases] == ["a"]
    gate = project.cli("gate", "--evidence", str(cut))
    assert gate.returncode == 1, gate.stdout + gate.stderr
    assert "the evidence is incomplete (the run did not finish)" in gate.stdout
    assert "1 selected case has no result in the evidence: b" in gate.stdout


def test_a_garbled_case_line_inside_the_file_is_a_user_error_naming_it(project, server):
    _two_case_run(project, server)
    lines = (project.root / ".casebank" / "evidence.json").read_text().split("\n")
    lines[2] = lines[2][:-20]  # case a damaged, case b after it whole
    broken = project.root / "broken.json"
    broken.write_text("\n".join(lines[:4]) + "\n")

    with pytest.raises(UserError) as raised:
        evidence_file.read(broken)

    assert raised.value.message.startswith(f"{broken}:3: evidence file is truncated or "
                                           "malformed: case line is cut off or not JSON")


@pytest.mark.parametrize("content, message", [
    ("", "the file is empty"),
    ("not json at all", "it does not start with an evidence header"),
    ("[1, 2]", 'not a casebank evidence file (no "header" object)'),
    ('{"cases": []}', 'not a casebank evidence file (no "header" object)'),
])
def test_malformed_files_are_user_errors(tmp_path, content, message):
    path = tmp_path / "evidence.json"
    path.write_text(content)

    with pytest.raises(UserError) as raised:
        evidence_file.read(path)

    assert message in raised.value.message and str(path) in raised.value.message


def test_a_newer_format_is_refused(project, server):
    _two_case_run(project, server)
    path = project.root / ".casebank" / "evidence.json"
    doc = json.loads(path.read_text())
    doc["header"]["format_version"] = 99
    path.write_text(json.dumps(doc))

    with pytest.raises(UserError, match="evidence format version 99 is not supported"):
        evidence_file.read(path)


def test_missing_evidence_file_says_to_run_first(tmp_path):
    with pytest.raises(UserError, match=r"evidence file not found \(run `casebank run` first\)"):
        evidence_file.read(tmp_path / "nope.json")


def test_write_then_read_is_the_same_evidence(project, server):
    evidence = _two_case_run(project, server)
    copy = project.root / "copy.json"

    evidence_file.write(evidence, copy)

    again = evidence_file.read(copy)
    assert evidence_file.case_result_dict(again.cases[0]) == evidence_file.case_result_dict(evidence.cases[0])
    assert evidence_file.footer_dict(again) == json.loads(json.dumps(evidence_file.footer_dict(evidence)))


def test_forged_evidence_with_a_wrong_type_is_refused_naming_the_field(tmp_path):
    """Evidence can arrive from a fork's upload: a field of the wrong type is a clear error,
    never a crash deep in the report."""
    import json

    import pytest

    from casebank import evidence as evidence_io
    from casebank.errors import UserError

    from pathlib import Path

    good = Path(__file__).resolve().parents[2] / "examples" / "support-agent"
    source = tmp_path / "good.json"
    from casebank.cli import main
    assert main(["run", "--config", str(good / "casebank.yaml"), "--target", "agent-v1",
                 "--plain", "--no-cache", "--out", str(source)]) == 0
    doc = json.loads(source.read_text())
    doc["cases"][2]["samples"][0]["checks"][0]["line"] = "forty"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    with pytest.raises(UserError) as err:
        evidence_io.read(forged)
    assert "cases[2].samples[0].checks[0].line" in err.value.message
    assert '"forty" is not of type "integer"' in err.value.message
