"""``casebank run``: run the bank (or a selection of it) against a target, write the evidence.

Exit codes: 0 every case passed; 1 a case failed; 2 the config, the bank or a flag is wrong;
3 a case is uncertain (a person must look); 4 the run is incomplete (target errors, Ctrl-C).
See docs/running.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from casebank.commands.config_option import add_config_argument, config_path
from casebank.errors import ExitCode, UserError

if TYPE_CHECKING:
    from casebank.bank.case import Case
    from casebank.bank.config import Config

NAME = "run"
HELP = "Run cases against a target and write the evidence file (and JUnit XML)."

DEFAULT_OUT = ".casebank/evidence.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    parser.add_argument("--target", metavar="NAME", help="a target of casebank.yaml (default: its default_target)")
    parser.add_argument("--select", metavar="EXPR", action="append", default=[],
                        help="only cases matching EXPR, e.g. id:refund-wrong-account, tag:refunds, "
                             "severity:>=high (comma = or; repeat the flag = and)")
    parser.add_argument("--changed", action="store_true",
                        help="only the cases the change since --base adds or affects (case files "
                             "added or modified, cases reading a changed file); the whole bank "
                             "when the configuration changed. Reads the git diff, not the bank")
    parser.add_argument("--base", metavar="REV",
                        help="with --changed: the commit the change is compared with (from its "
                             "merge base with --head), e.g. origin/main")
    parser.add_argument("--head", metavar="REV",
                        help="with --changed: the commit whose case files run (default: HEAD)")
    parser.add_argument("--shard", metavar="I/N", help="run shard I of N of the selected cases")
    parser.add_argument("--concurrency", type=int, metavar="N",
                        help="most requests in flight (default: run.concurrency, else 8)")
    parser.add_argument("--no-cache", action="store_true",
                        help="ask the target again even when an answer is cached")
    parser.add_argument("--out", metavar="PATH",
                        help=f"evidence file (default: {DEFAULT_OUT} in the folder of casebank.yaml)")
    parser.add_argument("--junit", metavar="PATH", help="also write JUnit XML here")
    parser.add_argument("--record-outputs", metavar="FILE.jsonl",
                        help="write every sample's output and trajectory as replay recordings")
    parser.add_argument("--record", action="store_true",
                        help="store the evidence as the baseline of the current commit (a git note "
                             "under refs/notes/casebank) for later gate diffs; needs a full, "
                             "complete run on a clean work tree (use it on the default branch)")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--progress", dest="progress", action="store_true", default=None,
                       help="show a progress bar (default: on a terminal, unless CI=true)")
    shown.add_argument("--plain", dest="progress", action="store_false", default=None,
                       help="one plain line per finished case instead of a bar")


def run(args: argparse.Namespace) -> int:
    from casebank.bank.config import load_config
    from casebank.bank.load import load_valid_bank
    from casebank.report.junit import write_junit
    from casebank.report.terminal import print_summary
    from casebank.run import execute, exit_code
    from casebank.select.filter import describe, select_cases
    from casebank.select.shard import parse_shard

    if args.concurrency is not None and args.concurrency < 1:
        raise UserError(f"--concurrency must be at least 1, not {args.concurrency}")
    _check_changed_flags(args)
    shard = parse_shard(args.shard) if args.shard else None
    config = load_config(config_path(args.config))
    if args.changed:
        cases, suite, bank_size, reason = _changed(config, args.base, args.head)
    else:
        bank = load_valid_bank(config)
        cases, bank_size = list(bank.cases), len(bank.cases)
        suite, reason = "full", None
    if args.select:
        cases = select_cases(cases, args.select)
        suite = "selected"
        reason = f"--select {describe(args.select)}: {len(cases)} of {bank_size} cases"
        if not cases:
            raise UserError(f"--select {describe(args.select)} matches none of the "
                            f"{bank_size} cases in the bank")
    if args.record:
        _check_recordable(config.root, suite, shard)
    out = Path(args.out) if args.out else Path(config.root) / DEFAULT_OUT
    evidence = execute(config, cases, target=args.target, suite=suite, bank_size=bank_size,
                       evidence_path=out, concurrency=args.concurrency,
                       use_cache=not args.no_cache, shard=shard, progress=args.progress,
                       not_selected_reason=reason,
                       record_outputs=Path(args.record_outputs) if args.record_outputs else None)
    # files first, then the terminal: a closed stdout (`| head`) cannot lose the JUnit XML
    # or the baseline
    code = exit_code(evidence)
    if args.junit:
        write_junit(evidence, args.junit)
    recorded = _record(config.root, evidence, out, code) if args.record else None
    print_summary(evidence, sys.stdout, str(out))
    if args.junit:
        print(f"junit: {args.junit}")
    if args.record_outputs:
        print(f"recordings: {args.record_outputs}")
    if recorded:
        print(recorded)
    if code == ExitCode.INFRA:
        print("casebank: the run is incomplete (target errors or interrupted): exit 4",
              file=sys.stderr)
    return int(code)


def _check_changed_flags(args: argparse.Namespace) -> None:
    """--changed needs --base; --base and --head mean nothing without it (exit 2)."""
    if args.changed:
        if not args.base:
            raise UserError("--changed needs --base REV, the commit the change is compared "
                            "with, e.g. --changed --base origin/main")
        if args.select:
            raise UserError("--changed and --select do not combine: the changed suite is "
                            "already a selection; use one of them")
        if args.record:
            raise UserError("--record needs the whole bank in one run: drop --changed")
    elif args.base or args.head:
        flag = "--base" if args.base else "--head"
        raise UserError(f"{flag} goes with --changed: casebank run --changed --base REV "
                        "[--head REV] runs the cases the change since REV adds or affects")


def _changed(config: Config, base: str, head: str | None
             ) -> tuple[list[Case], str, int, str | None]:
    """(cases, suite, bank size, why the rest was left out) of the changed suite.

    Reads the git diff, the changed files and the bank index, not the bank; only when the
    configuration changed (no subset can show what that does) is the whole bank loaded.
    """
    from casebank import git
    from casebank.bank.load import load_valid_bank
    from casebank.select.changed import changed_suite

    found = changed_suite(Path(config.root), config, None, base, head or "HEAD")
    checkout = git.head_commit(config.root)
    if found.full_required:
        bank = load_valid_bank(config)
        _note(f"{found.why} Running all {len(bank.cases)} cases.")
        return list(bank.cases), "full", len(bank.cases), None
    _note(found.why)
    if checkout is not None and found.head != checkout:
        _note(f"the case files are read at --head {found.head[:12]}; casebank.yaml and the "
              f"targets come from the checkout ({checkout[:12]})")
    elif git.is_dirty(config.root):
        _note("uncommitted changes are not part of the changed suite, which compares commits "
              "(the merge base with --base and HEAD): commit them to include them")
    return found.cases, "changed", found.bank_size, found.not_selected_reason()


def _note(text: str) -> None:
    print(f"casebank: {text}", file=sys.stderr)


def _check_recordable(root: Path, suite: str, shard: tuple[int, int] | None) -> None:
    """Refuse --record before running when the result could not be a baseline."""
    from casebank import git

    if suite != "full" or shard is not None:
        raise UserError("--record needs the whole bank in one run: drop --select and --shard")
    if git.head_commit(root) is None:
        raise UserError(f"--record needs a git repository with a commit; {root} has none")
    if git.is_dirty(root):
        raise UserError("--record needs a clean work tree: the baseline must describe the "
                        "commit, so commit or stash your changes first")


def _record(root: Path, evidence, out: Path, code: ExitCode) -> str | None:
    """Store the baseline; the line to print on stdout when it was stored."""
    from casebank.gate.baseline import NOTES_REF, record_baseline

    if code == ExitCode.INFRA or not evidence.complete or evidence.commit is None:
        # errored samples say nothing about the commit: comparing with them would hide
        # regressions as "still failing" or invent fixes
        print("casebank: not recorded as a baseline: the run is incomplete", file=sys.stderr)
        return None
    record_baseline(root, evidence.commit, out)
    return (f"baseline: recorded for {evidence.commit[:12]} under {NOTES_REF} "
            f"(share it: git push origin {NOTES_REF})")
