"""Review files: the output hash, the file format, and reading them from a folder or a commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

from casebank.gate.review import (
    Review,
    load_reviews,
    load_reviews_at,
    output_hashes,
    parse_review,
    review_document,
    sample_output_hash,
)
from casebank.run.sample import SampleOutput, ToolCall, Turn
from tests.gate.builders import case


def test_hash_covers_output_and_tool_calls_and_nothing_else():
    call = ToolCall(index=0, step=1, name="issue_refund", arguments={"account_id": "acct_77"})
    a = SampleOutput(index=0, output="done", trajectory=[Turn("tool", tool_calls=(call,))],
                     latency_ms=120.0)
    b = SampleOutput(index=2, output="done", trajectory=[Turn("tool", tool_calls=(call,))],
                     latency_ms=999.0, cached=True)
    assert sample_output_hash(a) == sample_output_hash(b)  # timing, index, cache: not output
    other = ToolCall(index=0, step=1, name="issue_refund", arguments={"account_id": "acct_12"})
    c = SampleOutput(index=0, output="done", trajectory=[Turn("tool", tool_calls=(other,))])
    assert sample_output_hash(a) != sample_output_hash(c)
    assert sample_output_hash(a).startswith("sha256:") and len(sample_output_hash(a)) == 71


def test_written_review_reads_back_and_covers_the_outputs_it_was_written_for():
    reviewed = case("judge-tone", "uncertain", "uncertain", output="We are sorry: refund issued.")
    text = review_document(reviewed, decision="accept", rationale='Tone is fine; "sorry" is ok',
                           reviewer="@lead", date="2026-04-01", commit="abc123", target="agent-v2")
    parsed = parse_review("reviews/judge-tone.yaml", text.encode())
    assert isinstance(parsed, Review)
    assert parsed.rationale == 'Tone is fine; "sorry" is ok'
    assert parsed.outputs == output_hashes(reviewed) and len(parsed.outputs) == 1
    assert parsed.covers(output_hashes(reviewed))
    changed = case("judge-tone", "uncertain", output="Refund issued.")
    assert not parsed.covers(output_hashes(changed))


def test_bad_review_files_are_reported_with_lines():
    bad = b"case: judge-tone\ndecision: maybe\nrationale: ''\nreviewer: '@x'\ndate: 2026-04-01\n" \
          b"outputs: [abc]\n"
    problems = parse_review("reviews/judge-tone.yaml", bad)
    assert [p.render() for p in problems] == [
        "reviews/judge-tone.yaml:2: decision: 'maybe' is not one of accept, reject",
        "reviews/judge-tone.yaml:3: rationale: '' should be non-empty",
        "reviews/judge-tone.yaml:6: outputs.0: 'abc' has the wrong form (expected "
        "^sha256:[0-9a-f]{64}$)",
    ]
    (missing,) = parse_review("reviews/judge-tone.yaml", b"case: judge-tone\n")
    assert missing.render() == ("reviews/judge-tone.yaml:1: missing decision, rationale, reviewer, date, outputs "
                              "(write review files with casebank review)")
    aliased = parse_review("reviews/x.yaml", b"a: &x [1]\nb: *x\n")
    assert aliased[0].render() == "reviews/x.yaml:2:4: YAML aliases (*name) are not allowed here"


def test_review_for_another_case_than_its_file_name_is_rejected():
    text = review_document(case("a", "fail"), decision="reject", rationale="wrong account",
                           reviewer="@lead", date="2026-04-01", commit=None, target=None)
    (problem,) = parse_review("reviews/b.yaml", text.encode())
    assert problem.render() == ("reviews/b.yaml:4: case: case 'a' does not match the file name "
                                "(name the file a.yaml, or fix case:)")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_reviews_load_from_the_work_tree_and_from_a_commit(tmp_path: Path):
    _git(tmp_path, "init", "-q", "-b", "main")
    folder = tmp_path / "reviews"
    folder.mkdir()
    text = review_document(case("a", "fail"), decision="accept", rationale="false positive",
                           reviewer="@lead", date="2026-04-01", commit=None, target=None)
    (folder / "a.yaml").write_text(text)
    (folder / "broken.yaml").write_text("case: [\n")
    reviews, problems = load_reviews(tmp_path, "reviews")
    assert list(reviews) == ["a"]
    assert [p.location() for p in problems] == ["reviews/broken.yaml:2:1"]

    (folder / "broken.yaml").unlink()
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "review")
    (folder / "a.yaml").unlink()
    reviews, problems = load_reviews_at(tmp_path, "HEAD", "reviews")
    assert list(reviews) == ["a"] and problems == []
    assert reviews["a"].path == "reviews/a.yaml"
