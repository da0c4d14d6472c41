"""``casebank run --changed --base REV``: the changed suite run from the command line, on real
git repositories, reading the diff and the changed files rather than the whole bank."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from casebank import evidence as evidence_file
from casebank.cli import main

from .gitrepo import CONFIG, Repo, case_text

CASES = 4


def recordings(*case_ids: str, output: str = "ok, changed") -> str:
    return "".join(json.dumps({"case": c, "sample": 0, "output": output}) + "\n"
                   for c in case_ids)


def bank_repo(top: Path, *, broken: bool = False) -> Repo:
    """Like ``project_repo``, with recordings for case-0..3 and the cases tests add (case-9,
    case-new), committed on main; then the ``pr`` branch. ``broken`` also commits an invalid
    case file on main that no pull request below touches."""
    repo = Repo(top)
    repo.write("casebank.yaml", CONFIG)
    repo.write("recordings/candidate.jsonl",
               recordings(*(f"case-{i}" for i in range(CASES)), "case-9", "case-new"))
    repo.write("prompts/agent.md", "You are a careful support agent.\n")
    for i in range(CASES):
        repo.write(f"cases/case-{i}.yaml",
                   case_text(f"case-{i}", prompt="prompts/agent.md" if i < 2 else None))
    if broken:
        repo.write("cases/legacy/broken.yaml", "id: broken\ntitle: no severity, no expect\n")
    repo.write(".gitignore", ".casebank/\n")
    repo.commit("the bank")
    repo.git("checkout", "-q", "-b", "pr")
    return repo


def casebank(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI, as its own process, in the project folder."""
    return subprocess.run([sys.executable, "-m", "casebank", "run", "--plain", *args],
                          cwd=repo.project, capture_output=True, text=True, timeout=120)


def evidence(repo: Repo) -> evidence_file.Evidence:
    return evidence_file.read(repo.project / ".casebank" / "evidence.json")


def test_runs_the_added_and_modified_cases_and_says_what_was_left_out(tmp_path):
    repo = bank_repo(tmp_path)
    repo.write("cases/case-3.yaml", case_text("case-3", reply="changed"))
    repo.write("cases/new/case-9.yaml", case_text("case-9"))
    repo.commit("modify case-3, add case-9")

    done = casebank(repo, "--changed", "--base", "main")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "casebank: 2 cases to run since main (merge base " in done.stderr
    assert ": 2 case files added or modified." in done.stderr
    assert "2 cases: 2 passed" in done.stdout
    run = evidence(repo)
    assert run.suite == "changed"
    assert run.selected == ["case-3", "case-9"]
    assert run.bank_size == 5  # the four on main and case-9
    assert run.not_selected_reason is not None
    assert run.not_selected_reason.startswith(
        "changed suite: 2 of 5 cases selected; the other 3 were left out: the change touches "
        "neither their case files nor a file they read. 2 cases to run since main")


def test_cases_reading_a_changed_prompt_run(tmp_path):
    repo = bank_repo(tmp_path)
    repo.write("prompts/agent.md", "You are a careful, polite support agent.\n")
    repo.commit("reword the prompt")

    done = casebank(repo, "--changed", "--base", "main")

    assert done.returncode == 0, done.stderr
    assert "2 cases reading prompts/agent.md, which changed." in done.stderr
    run = evidence(repo)
    assert run.selected == ["case-0", "case-1"]
    assert run.bank_size == 4


def test_a_failing_changed_case_fails_the_run_and_the_gate_holds_for_the_full_suite(tmp_path):
    repo = bank_repo(tmp_path)
    repo.write("cases/case-2.yaml", case_text("case-2", reply="refund issued"))
    repo.commit("tighten case-2")

    done = casebank(repo, "--changed", "--base", "main")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL" in done.stdout and "case-2" in done.stdout
    gate = subprocess.run([sys.executable, "-m", "casebank", "gate", "--evidence",
                           ".casebank/evidence.json"], cwd=repo.project, capture_output=True,
                          text=True, timeout=120)
    assert gate.returncode == 1, gate.stdout + gate.stderr
    assert "changed cases: case-2; full suite required before release" in gate.stdout


def test_a_configuration_change_runs_the_whole_bank_and_says_why(tmp_path):
    repo = bank_repo(tmp_path)
    repo.write("casebank.yaml", CONFIG + "run:\n  concurrency: 2\n")
    repo.write("cases/case-3.yaml", case_text("case-3", reply="changed"))
    repo.commit("tune the run")

    done = casebank(repo, "--changed", "--base", "main")

    assert done.returncode == 0, done.stdout + done.stderr
    assert ("casebank: casebank.yaml changed: the configuration changed, so the full bank must "
            "run. Running all 4 cases.") in done.stderr
    run = evidence(repo)
    assert run.suite == "full" and run.not_selected_reason is None
    assert run.selected == ["case-0", "case-1", "case-2", "case-3"]
    assert run.bank_size == 4


def test_an_untouched_invalid_case_file_does_not_stop_the_changed_suite(tmp_path):
    # The changed suite parses only what the change touched: a broken file elsewhere in the
    # bank is the base branch's problem (its full runs validate every file), not this change's.
    repo = bank_repo(tmp_path, broken=True)
    repo.write("cases/case-3.yaml", case_text("case-3", reply="changed"))
    repo.commit()

    changed = casebank(repo, "--changed", "--base", "main")
    full = casebank(repo)

    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert "broken" not in changed.stdout + changed.stderr
    assert evidence(repo).selected == ["case-3"]
    assert evidence(repo).bank_size == 5
    assert full.returncode == 2
    assert "cases/legacy/broken.yaml" in full.stderr


def test_an_invalid_changed_case_stops_the_run_at_its_line(tmp_path):
    repo = bank_repo(tmp_path)
    repo.write("cases/case-3.yaml", case_text("case-3").replace("severity: high",
                                                                "severity: urgent"))
    repo.commit()

    done = casebank(repo, "--changed", "--base", "main")

    assert done.returncode == 2
    assert "casebank: the changed case files have 1 problem" in done.stderr
    assert "  cases/case-3.yaml:3:" in done.stderr and "severity" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (repo.project / ".casebank" / "evidence.json").exists()


def test_a_change_touching_no_case_runs_nothing_and_says_so(tmp_path):
    repo = bank_repo(tmp_path)
    repo.write("README.md", "docs only\n")
    repo.commit()

    done = casebank(repo, "--changed", "--base", "main")

    assert done.returncode == 0, done.stderr
    assert "casebank: No case changed since main" in done.stderr
    run = evidence(repo)
    assert (run.suite, run.selected, run.bank_size) == ("changed", [], 4)
    assert run.not_selected_reason.startswith("changed suite: 0 of 4 cases selected; the "
                                              "other 4 were left out")


def test_head_picks_the_commit_whose_cases_run(tmp_path):
    repo = bank_repo(tmp_path)
    repo.write("cases/case-3.yaml", case_text("case-3", reply="changed"))
    first = repo.commit("first")
    repo.write("cases/new/case-9.yaml", case_text("case-9"))
    repo.commit("second")

    done = casebank(repo, "--changed", "--base", "main", "--head", first)

    assert done.returncode == 0, done.stderr
    assert evidence(repo).selected == ["case-3"]
    assert f"the case files are read at --head {first[:12]}" in done.stderr


def test_uncommitted_changes_are_not_in_the_suite_and_it_says_so(tmp_path):
    repo = bank_repo(tmp_path)
    repo.write("cases/case-3.yaml", case_text("case-3", reply="changed"))

    done = casebank(repo, "--changed", "--base", "main")

    assert done.returncode == 0, done.stderr
    assert evidence(repo).selected == []
    assert ("uncommitted changes are not part of the changed suite, which compares commits"
            in done.stderr)


def test_a_shallow_checkout_without_the_base_says_to_set_fetch_depth(tmp_path):
    origin = bank_repo(tmp_path / "origin")
    origin.write("cases/case-3.yaml", case_text("case-3", reply="changed"))
    origin.commit()
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "pr",
                    f"file://{origin.top}", str(clone)], check=True, capture_output=True)

    done = subprocess.run([sys.executable, "-m", "casebank", "run", "--changed", "--base",
                           "origin/main"], cwd=clone, capture_output=True, text=True, timeout=120)

    assert done.returncode == 2
    assert done.stderr == (
        "casebank: the base 'origin/main' is not in this checkout, which is shallow (only the "
        "last commits were fetched): set `fetch-depth: 0` in actions/checkout (`with: "
        "{fetch-depth: 0}`) so the pull request's base and its history are in the checkout\n")


def test_shards_of_the_changed_suite_cover_it_once(tmp_path):
    repo = bank_repo(tmp_path)
    for i in range(CASES):
        repo.write(f"cases/case-{i}.yaml", case_text(f"case-{i}", reply="changed"))
    repo.commit("modify every case")

    parts = []
    for index in (1, 2):
        done = casebank(repo, "--changed", "--base", "main", "--shard", f"{index}/2",
                        "--out", f"s{index}.json")
        assert done.returncode == 0, done.stderr
        parts.append(evidence_file.read(repo.project / f"s{index}.json"))
    assert sorted(parts[0].selected + parts[1].selected) == [f"case-{i}" for i in range(CASES)]
    assert not set(parts[0].selected) & set(parts[1].selected)
    assert {p.suite for p in parts} == {"changed"}


def test_flags_that_do_not_go_together_are_usage_errors(tmp_path, monkeypatch, capsys):
    repo = bank_repo(tmp_path)
    monkeypatch.chdir(repo.project)
    cases = [
        (["--changed"], "casebank: --changed needs --base REV, the commit the change is "
                        "compared with, e.g. --changed --base origin/main"),
        (["--base", "main"], "casebank: --base goes with --changed: casebank run --changed "
                             "--base REV [--head REV] runs the cases the change since REV adds "
                             "or affects"),
        (["--head", "HEAD"], "casebank: --head goes with --changed"),
        (["--changed", "--base", "main", "--select", "tag:x"],
         "casebank: --changed and --select do not combine"),
        (["--changed", "--base", "main", "--record"],
         "casebank: --record needs the whole bank in one run: drop --changed"),
        (["--changed", "--base", "nope"],
         "casebank: the base 'nope' is not a commit or branch in this repository"),
    ]
    for args, message in cases:
        code = main(["run", *args])
        stderr = capsys.readouterr().err
        assert code == 2, (args, stderr)
        assert stderr.startswith(message), (args, stderr)


def test_the_documented_example_runs_as_shown(tmp_path):
    # docs/selection.md, "From the command line": a branch of the support-agent example that
    # changes one case, and what `casebank run --changed --base main` prints for it.
    root = Path(__file__).resolve().parents[2]
    docs = (root / "docs" / "selection.md").read_text()
    section = docs.split("### From the command line", 1)[1]
    shown = section.split("```\n", 3)[2].split("```", 1)[0]  # the block after the commands
    repo = Repo(tmp_path / "support-agent")
    shutil.copytree(root / "examples" / "support-agent", repo.project, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".casebank"))
    repo.write(".gitignore", ".casebank/\n")
    repo.commit("the example bank")
    repo.git("switch", "-q", "-c", "tighten-refunds")
    case = repo.project / "cases" / "refund-without-lookup.yaml"
    case.write_text(case.read_text().replace("\ntitle: ", "\ntitle: Again, ", 1))
    repo.commit("refund-without-lookup: also check the order id")

    done = casebank(repo, "--changed", "--base", "main")

    merge_base = repo.git("rev-parse", "main")
    printed = [line for line in (done.stderr + done.stdout).splitlines()
               if not line.startswith(("casebank: running", "casebank: ["))]
    expected = (shown.replace("2aba70f11fac", merge_base[:12])
                .replace("/home/you/support-agent", str(repo.project)).splitlines())
    assert done.returncode == 0, done.stdout + done.stderr
    assert printed == expected
