"""``casebank gate``: SHIP / HOLD / BLOCK for an evidence file, or run the bank and gate it.

Exit codes: 0 SHIP; 1 BLOCK (a rule is violated, including errors, cases not run and
incomplete evidence: unknown is never a pass); 3 HOLD (a person must decide); 2 the config,
the policy, a review file or a flag is wrong; 4 the gate itself could not be computed
(git unreadable). See docs/gate.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from casebank.commands.config_option import add_config_argument, config_path
from casebank.errors import UserError

NAME = "gate"
HELP = "Decide SHIP / HOLD / BLOCK for a run (an evidence file, or run the bank now)."

DEFAULT_OUT = ".casebank/evidence.json"
FORMATS = ("text", "json", "markdown")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_argument(parser)
    source = parser.add_argument_group("what to gate (default: run the whole bank now)")
    source.add_argument("--evidence", metavar="PATH",
                        help="gate this evidence file (written by casebank run) instead of "
                             "running the bank")
    source.add_argument("--target", metavar="NAME",
                        help="when running: the target of casebank.yaml to run against "
                             "(default: its default_target)")
    source.add_argument("--concurrency", type=int, metavar="N",
                        help="when running: most requests in flight")
    source.add_argument("--no-cache", action="store_true",
                        help="when running: ask the target again even when an answer is cached")
    source.add_argument("--out", metavar="PATH",
                        help=f"when running: where to write the evidence (default: {DEFAULT_OUT}"
                             " in the folder of casebank.yaml)")
    change = parser.add_argument_group("gating a change")
    change.add_argument("--base", metavar="REV",
                        help="the base commit: the policy and the existing cases are read from "
                             "it, and its recorded baseline is compared with")
    change.add_argument("--head", metavar="REV",
                        help="the head commit whose review files count (default: HEAD)")
    change.add_argument("--baseline", metavar="PATH",
                        help="evidence of the base to compare with (default with --base: the "
                             "baseline recorded for it under refs/notes/casebank)")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="how to print the verdict (default: %(default)s)")
    parser.add_argument("--today", metavar="YYYY-MM-DD", type=_date,
                        help="decide waiver expiry as of this day (default: today), e.g. to "
                             "re-check an old verdict")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def run(args: argparse.Namespace) -> int:
    from casebank import evidence as evidence_io
    from casebank import git
    from casebank.bank.config import load_config
    from casebank.gate.baseline import from_file
    from casebank.gate.evaluate import evaluate

    if args.head and not args.base:
        raise UserError("--head needs --base (the commit the change is compared with)")
    if args.evidence and (args.target or args.out or args.no_cache or args.concurrency):
        raise UserError("--target, --out, --no-cache and --concurrency are for running the bank; "
                        "leave them out with --evidence")
    config = load_config(config_path(args.config))
    if args.evidence:
        evidence = evidence_io.read(args.evidence)
    else:
        evidence = _run_bank(config, args)
    baseline = label = None
    if args.baseline:
        found = from_file(args.baseline)
        baseline, label = found.evidence, found.label
    repo = git.root(config.root) or Path(config.root)
    verdict = evaluate(config, evidence, repo=repo, base=args.base, head=args.head,
                       baseline=baseline, baseline_label=label, today=args.today)
    sys.stdout.write(render(verdict, args.format))
    return int(verdict.exit_code)


def render(verdict, fmt: str) -> str:  # noqa: ANN001 - a Verdict
    """The verdict in one of ``FORMATS``."""
    from casebank.gate.serialize import verdict_json
    from casebank.report.verdict_text import render_markdown, render_text

    if fmt == "json":
        return verdict_json(verdict)
    if fmt == "markdown":
        return render_markdown(verdict)
    return render_text(verdict)


def _run_bank(config, args: argparse.Namespace):  # noqa: ANN001, ANN202 - Config -> Evidence
    """Run the whole bank (the gate is for releases: no selection) and return its evidence."""
    from casebank.bank.load import load_valid_bank
    from casebank.run import execute

    if args.concurrency is not None and args.concurrency < 1:
        raise UserError(f"--concurrency must be at least 1, not {args.concurrency}")
    bank = load_valid_bank(config)
    out = Path(args.out) if args.out else Path(config.root) / DEFAULT_OUT
    evidence = execute(config, list(bank.cases), target=args.target, suite="full",
                       bank_size=len(bank.cases), evidence_path=out,
                       concurrency=args.concurrency, use_cache=not args.no_cache,
                       progress=False if args.format != "text" else None)
    print(f"evidence: {out}", file=sys.stderr)
    return evidence
