"""``casebank run``: run the bank (or a selection of it) against a target, write the evidence.

Exit codes: 0 every case passed; 1 a case failed; 2 the config, the bank or a flag is wrong;
3 a case is uncertain (a person must look); 4 the run is incomplete (target errors, Ctrl-C).
See docs/running.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from casebank.errors import ExitCode, UserError

NAME = "run"
HELP = "Run cases against a target and write the evidence file (and JUnit XML)."

DEFAULT_OUT = ".casebank/evidence.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="casebank.yaml", help="casebank.yaml (default: %(default)s)")
    parser.add_argument("--target", metavar="NAME", help="a target of casebank.yaml (default: its default_target)")
    parser.add_argument("--select", metavar="EXPR", action="append", default=[],
                        help="only cases matching EXPR, e.g. id:refund-wrong-account, tag:refunds, "
                             "severity:>=high (comma = or; repeat the flag = and)")
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
    from casebank.bank.load import load_bank
    from casebank.report.junit import write_junit
    from casebank.report.terminal import print_summary
    from casebank.run import execute, exit_code
    from casebank.select.filter import describe, select_cases
    from casebank.select.shard import parse_shard

    if args.concurrency is not None and args.concurrency < 1:
        raise UserError(f"--concurrency must be at least 1, not {args.concurrency}")
    shard = parse_shard(args.shard) if args.shard else None
    config = load_config(Path(args.config))
    bank = load_bank(config)
    if bank.problems:
        raise UserError(f"the bank has {len(bank.problems)} problem(s); fix them first "
                        "(`casebank validate` lists them too)", list(bank.problems))
    cases = list(bank.cases)
    suite, reason = "full", None
    if args.select:
        cases = select_cases(cases, args.select)
        suite = "selected"
        reason = f"--select {describe(args.select)}: {len(cases)} of {len(bank.cases)} cases"
        if not cases:
            raise UserError(f"--select {describe(args.select)} matches none of the "
                            f"{len(bank.cases)} cases in the bank")
    if args.record:
        _check_recordable(config.root, suite, shard)
    out = Path(args.out) if args.out else Path(config.root) / DEFAULT_OUT
    evidence = execute(config, cases, target=args.target, suite=suite, bank_size=len(bank.cases),
                       evidence_path=out, concurrency=args.concurrency,
                       use_cache=not args.no_cache, shard=shard, progress=args.progress,
                       not_selected_reason=reason,
                       record_outputs=Path(args.record_outputs) if args.record_outputs else None)
    print_summary(evidence, sys.stdout, str(out))
    if args.junit:
        write_junit(evidence, args.junit)
        print(f"junit: {args.junit}")
    if args.record_outputs:
        print(f"recordings: {args.record_outputs}")
    code = exit_code(evidence)
    if args.record:
        _record(config.root, evidence, out, code)
    if code == ExitCode.INFRA:
        print("casebank: the run is incomplete (target errors or interrupted): exit 4",
              file=sys.stderr)
    return int(code)


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


def _record(root: Path, evidence, out: Path, code: ExitCode) -> None:
    from casebank.gate.baseline import NOTES_REF, record_baseline

    if code == ExitCode.INFRA or not evidence.complete or evidence.commit is None:
        # errored samples say nothing about the commit: comparing with them would hide
        # regressions as "still failing" or invent fixes
        print("casebank: not recorded as a baseline: the run is incomplete", file=sys.stderr)
        return
    record_baseline(root, evidence.commit, out)
    print(f"baseline: recorded for {evidence.commit[:12]} under {NOTES_REF} "
          f"(share it: git push origin {NOTES_REF})")
