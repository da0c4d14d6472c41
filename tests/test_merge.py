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
