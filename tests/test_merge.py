import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from casebank import evidence as evidence_file
from casebank.check.result import FAIL, PASS, CheckResult
from casebank.errors import UserError
from casebank.evidence import Evidence
from casebank.merge import merge_evidence
from casebank.run.result import CaseResult, SampleResult
from casebank.run.sample import SampleOutput

COMMIT = "3f1c2a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a"


def case_result(case_id: str, status: str = PASS, severity: str = "high") -> CaseResult:
    check = CheckResult(kind="contains", status=status, message=f"{case_id}: {status}", line=9,
                        index=0)
    return CaseResult(case_id=case_id, path=f"cases/{case_id}.yaml", title=case_id,
                      severity=severity, source_kind="incident", review="never",
                      content_hash="sha256:" + case_id, samples_required=1, min_pass=1,
                      samples=[SampleResult(SampleOutput(index=0, output="ok"), [check])])


def evidence(cases: list[CaseResult], shard: tuple[int, int] | None = None, **changes) -> Evidence:
    base = Evidence(casebank_version="0.1.0", commit=COMMIT, dirty=False, config_hash="c0ffee",
                    target={"name": "agent-v2", "kind": "openai", "model": "m-2"},
                    started_at="2026-04-01T10:00:00Z", finished_at="2026-04-01T10:05:00Z",
                    suite="full", bank_size=6, selected=[c.case_id for c in cases],
                    shard={"index": shard[0], "count": shard[1]} if shard else None,
                    complete=True, cases=cases, runner={"requests": len(cases)})
    return replace(base, **changes)


ALL = [case_result(f"case-{i}", FAIL if i == 4 else PASS, "critical" if i < 2 else "high")
       for i in range(6)]


def shards(count: int = 3) -> list[Evidence]:
    """The shards of ALL as the runner writes them: finished, but never complete on their own."""
    return [evidence([c for j, c in enumerate(ALL) if j % count == i], (i + 1, count),
                     started_at=f"2026-04-01T10:0{i}:00Z", finished_at=f"2026-04-01T10:1{i}:00Z",
                     complete=False)
            for i in range(count)]


def test_merging_every_shard_gives_the_whole_run_complete():
    parts = shards()
    merged = merge_evidence(list(reversed(parts)), ["c.json", "b.json", "a.json"])
    assert merged.shard is None and merged.complete and not merged.interrupted
    assert [c.case_id for c in merged.cases] == [f"case-{i}" for i in range(6)]
    assert merged.selected == [f"case-{i}" for i in range(6)]
    assert (merged.started_at, merged.finished_at) == ("2026-04-01T10:00:00Z",
                                                        "2026-04-01T10:12:00Z")
    assert [s["shard"]["index"] for s in merged.runner["shards"]] == [1, 2, 3]
    assert (merged.commit, merged.config_hash, merged.bank_size) == (COMMIT, "c0ffee", 6)


def test_merged_evidence_equals_the_unsharded_run_apart_from_timing_and_runner():
    single = evidence(ALL)
    merged = merge_evidence(shards(4))
    keep = {"runner", "started_at", "finished_at"}
    single_doc = {k: v for k, v in evidence_file.header_dict(single).items() if k not in keep}
    merged_doc = {k: v for k, v in evidence_file.header_dict(merged).items() if k not in keep}
    assert merged_doc == single_doc
    assert [evidence_file.case_result_dict(c) for c in merged.cases] == \
        [evidence_file.case_result_dict(c) for c in single.cases]


def test_a_missing_shard_is_an_error_naming_what_was_given():
    one, _, three = shards()
    with pytest.raises(UserError) as info:
        merge_evidence([three, one], ["shard-3.json", "shard-1.json"])
    assert info.value.message == (
        "shard 2/3 missing: merging without it would pass cases that never ran; rerun the "
        "missing shard or download its evidence (got 1/3 from shard-1.json, 3/3 from shard-3.json)")
    assert info.value.exit_code == 2


def test_a_shard_given_twice_is_an_error_naming_both_files():
    one, two, three = shards()
    with pytest.raises(UserError) as info:
        merge_evidence([one, two, two, three], ["1.json", "2.json", "2-again.json", "3.json"])
    assert info.value.message == "a shard was given twice; give each shard's evidence once"
    assert [p.render() for p in info.value.problems] == ["2.json: shard 2/3 is also in 2-again.json"]


def test_shards_of_different_commits_are_rejected_with_each_files_commit():
    one, two, three = shards()
    two = replace(two, commit="9" * 40)
    with pytest.raises(UserError) as info:
        merge_evidence([one, two, three], ["a.json", "b.json", "c.json"])
    assert info.value.message == "the shards are not of the same run: they differ in commit"
    assert [p.render() for p in info.value.problems] == [
        "a.json: commit: 3f1c2a9b8d7e (shard 1/3)",
        "b.json: commit: 999999999999 (shard 2/3)",
        "c.json: commit: 3f1c2a9b8d7e (shard 3/3)"]


@pytest.mark.parametrize(("field", "value", "words"), [
    ("config_hash", "deadbeef", "configuration (casebank.yaml) hash"),
    ("target", {"name": "agent-v1", "kind": "openai", "model": "m-1"}, "target"),
    ("casebank_version", "0.2.0", "casebank version"),
    ("suite", "changed", "suite"),
    ("bank_size", 7, "bank size"),
])
def test_shards_of_different_configs_targets_or_versions_are_rejected(field, value, words):
    parts = shards()
    parts[2] = replace(parts[2], **{field: value})
    with pytest.raises(UserError, match=re.escape(f"they differ in {words}") + "$"):
        merge_evidence(parts)


def test_different_shard_counts_are_rejected():
    parts = shards(3)[:2] + shards(2)[1:]
    with pytest.raises(UserError) as info:
        merge_evidence(parts, ["a.json", "b.json", "c.json"])
    assert "different shard counts" in info.value.message
    assert [p.render() for p in info.value.problems] == [
        "a.json: shard 1/3", "b.json: shard 2/3", "c.json: shard 2/2"]


def test_an_unsharded_run_cannot_be_merged():
    with pytest.raises(UserError, match="not the evidence of a shard: full.json"):
        merge_evidence([shards(2)[0], evidence(ALL)], ["s1.json", "full.json"])


def test_a_case_in_two_shards_is_rejected():
    one, two = shards(2)
    two = replace(two, cases=[*two.cases, one.cases[0]], selected=[*two.selected, "case-0"])
    with pytest.raises(UserError) as info:
        merge_evidence([one, two], ["1.json", "2.json"])
    assert "the shards were cut from different selections" in info.value.message
    assert [p.render() for p in info.value.problems] == ["2.json: case case-0 is also in 1.json"]


def test_an_interrupted_shard_makes_the_merged_run_incomplete():
    one, two, three = shards()
    two = replace(two, interrupted=True)
    merged = merge_evidence([one, two, three])
    assert not merged.complete and merged.interrupted


def test_a_shard_missing_a_selected_case_makes_the_merged_run_incomplete():
    one, two = shards(2)
    two = replace(two, cases=two.cases[:-1])  # selected, never written
    merged = merge_evidence([one, two])
    assert not merged.complete and not merged.interrupted
    assert "case-5" in merged.selected and "case-5" not in [c.case_id for c in merged.cases]


def test_nothing_to_merge():
    with pytest.raises(UserError, match="none were given"):
        merge_evidence([])


# -- the command ----------------------------------------------------------------------------

def casebank(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "casebank", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=60)


def test_merge_command_reads_a_downloaded_artifacts_folder(tmp_path):
    for part in shards(3):
        folder = tmp_path / "evidence" / f"casebank-shard-{part.shard['index']}"
        evidence_file.write(part, folder / "evidence.json")
    done = casebank("merge", "evidence", "--out", "merged.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"merged 3 shards into merged.json: 6 cases, commit {COMMIT[:12]}\n"
    merged = evidence_file.read(tmp_path / "merged.json")
    assert merged.complete and merged.shard is None
    assert [c.outcome for c in merged.cases] == ["pass"] * 4 + ["fail", "pass"]


def test_merge_command_fails_with_exit_2_on_a_missing_shard(tmp_path):
    one, _, three = shards()
    evidence_file.write(one, tmp_path / "s1.json")
    evidence_file.write(three, tmp_path / "s3.json")
    done = casebank("merge", "s1.json", "s3.json", "--out", "merged.json", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("casebank: shard 2/3 missing: merging without it would pass")
    assert not (tmp_path / "merged.json").exists()


def test_merge_command_names_a_file_that_does_not_exist(tmp_path):
    done = casebank("merge", "nope.json", "--out", "merged.json", cwd=tmp_path)
    assert done.returncode == 2
    assert "nope.json: evidence file not found" in done.stderr


def test_merge_command_writes_an_incomplete_run_but_exits_4(tmp_path):
    one, two = shards(2)
    evidence_file.write(one, tmp_path / "s1.json")
    evidence_file.write(two, tmp_path / "s2.json")
    # cut shard 2 off after its header and first case, as a cancelled job leaves it
    lines = (tmp_path / "s2.json").read_text().split("\n")
    (tmp_path / "s2.json").write_text("\n".join(lines[:3]) + "\n")
    done = casebank("merge", "s1.json", "s2.json", "--out", "merged.json", cwd=tmp_path)
    assert done.returncode == 4
    assert "but the run is incomplete: s2.json did not finish" in done.stderr
    merged = json.loads((tmp_path / "merged.json").read_text())
    assert merged["footer"]["complete"] is False
    assert len(merged["cases"]) == 4


# -- end to end: the gate cannot tell a merged sharded run from a single run -----------------

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "support-agent"


@pytest.fixture(scope="module")
def example_repo(tmp_path_factory):
    """The bundled example bank, committed in a git repository of its own."""
    import shutil

    top = tmp_path_factory.mktemp("example")
    shutil.copytree(EXAMPLE, top, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".casebank"))
    for args in (["init", "-q"], ["add", "-A"],
                 ["-c", "user.email=dev@example.com", "-c", "user.name=dev", "commit", "-q",
                  "-m", "bank"]):
        subprocess.run(["git", *args], cwd=top, check=True, capture_output=True)
    return top


def cli(capsys, *args: str) -> tuple[int, str]:
    from casebank.cli import main

    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().out


@pytest.mark.parametrize("target", ["agent-v1", "agent-v2"])
def test_gate_on_merged_shards_equals_gate_on_a_single_run(example_repo, tmp_path, capsys,
                                                           target):
    config = str(example_repo / "casebank.yaml")
    run = ["run", "--config", config, "--target", target, "--plain"]
    single = tmp_path / "single.json"
    cli(capsys, *run, "--out", str(single))
    for index in (1, 2, 3):
        cli(capsys, *run, "--shard", f"{index}/3", "--out", str(tmp_path / f"shard-{index}.json"))
    sizes = [len(evidence_file.read(tmp_path / f"shard-{i}.json").cases) for i in (1, 2, 3)]
    assert sum(sizes) == len(evidence_file.read(single).cases) and min(sizes) > 0

    code, _ = cli(capsys, "merge", *(str(tmp_path / f"shard-{i}.json") for i in (3, 1, 2)),
                  "--out", str(tmp_path / "merged.json"))
    assert code == 0
    for form in ("text", "json", "markdown"):
        gate = ["gate", "--config", config, "--format", form, "--today", "2026-04-01"]
        single_code, single_out = cli(capsys, *gate, "--evidence", str(single))
        merged_code, merged_out = cli(capsys, *gate, "--evidence", str(tmp_path / "merged.json"))
        assert merged_out == single_out
        assert merged_code == single_code
    # the demo's regressed agent-v2 is blocked, agent-v1 is not
    assert (single_code == 1) == (target == "agent-v2")


def test_gate_on_an_unmerged_shard_never_ships(example_repo, tmp_path, capsys):
    config = str(example_repo / "casebank.yaml")
    shard = tmp_path / "shard-1.json"
    cli(capsys, "run", "--config", config, "--target", "agent-v1", "--plain", "--shard", "1/2",
        "--out", str(shard))
    code, _ = cli(capsys, "gate", "--config", config, "--evidence", str(shard))
    assert code != 0


# -- the matrix workflow example ---------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
MATRIX = ROOT / "examples" / "workflows" / "casebank-matrix.yml"


def test_the_matrix_workflow_passes_githubs_schema():
    checker = Path(sys.executable).parent / "check-jsonschema"
    done = subprocess.run([str(checker), "--builtin-schema", "vendor.github-workflows",
                           str(MATRIX)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_matrix_workflow_shards_uploads_and_merges_with_the_actions_inputs():
    from casebank.github.inputs import read_inputs
    from ruamel.yaml import YAML

    load = YAML(typ="safe").load
    workflow = load(MATRIX.read_text())
    inputs = load((ROOT / "action.yml").read_text())["inputs"]
    shard_job, gate_job = workflow["jobs"]["shard"], workflow["jobs"]["gate"]
    count = len(shard_job["strategy"]["matrix"]["shard"])

    def casebank_step(job):
        [step] = [s for s in job["steps"] if s.get("uses", "").startswith("casebank/casebank@")]
        assert set(step["with"]) <= set(inputs), set(step["with"]) - set(inputs)
        return step["with"]

    run, merge = casebank_step(shard_job), casebank_step(gate_job)
    assert run["shard"] == "${{ matrix.shard }}/" + str(count)
    assert run["mode"] == "run" and merge["mode"] == "merge"
    assert all(s.get("with", {}).get("fetch-depth") == 0 for job in (shard_job, gate_job)
               for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    [upload] = [s for s in shard_job["steps"] if s["uses"].startswith("actions/upload-artifact@")]
    [download] = [s for s in gate_job["steps"]
                  if s["uses"].startswith("actions/download-artifact@")]
    assert run["evidence"].startswith(upload["with"]["path"])
    assert download["with"]["path"] == merge["evidence"]
    assert download["with"]["merge-multiple"] is True
    assert upload["with"]["name"].replace("${{ matrix.shard }}", "*") == download["with"]["pattern"]
    assert shard_job["strategy"]["fail-fast"] is False
    assert gate_job["needs"] == "shard" and "cancelled()" in gate_job["if"]
    assert gate_job["permissions"]["checks"] == "write"
    assert gate_job["permissions"]["pull-requests"] == "write"
    # the inputs as the action reads them are valid (the shard value with a real number)
    env = {f"INPUT_{k.upper()}": str(v).replace("${{ matrix.shard }}", "2") for k, v in run.items()}
    assert read_inputs({**env, "INPUT_GITHUB-TOKEN": "t"}).shard == f"2/{count}"
