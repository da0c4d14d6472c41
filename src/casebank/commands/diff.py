"""``casebank diff``: what changed between the baseline run and this run.

New failures, fixed, still failing, flaky, cases added / removed / modified (with what
changed in the case file, when ``--base`` lets git tell), and the verdict change. The
baseline is an evidence file (``--baseline``) or the one recorded for ``--base`` under
refs/notes/casebank; no baseline is said, never shown as "no changes".
Exit codes: 0 the diff was printed (whatever it shows), 2 bad input. See docs/gate.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from casebank.commands.config_option import add_config_argument, config_path
from casebank.errors import UserError

NAME = "diff"
HELP = "Compare a run with its baseline: new failures, fixed, flaky, bank changes."

DEFAULT_EVIDENCE = ".casebank/evidence.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--evidence", metavar="PATH",
                        help=f"this run's evidence (default: {DEFAULT_EVIDENCE} in the folder "
                             "of casebank.yaml)")
    base = parser.add_mutually_exclusive_group()
    base.add_argument("--baseline", metavar="PATH", help="the baseline's evidence file")
    base.add_argument("--base", metavar="REV",
                      help="the base commit: its recorded baseline (refs/notes/casebank), and "
                           "the case files changed since it")
    parser.add_argument("--head", metavar="REV", help="with --base: the head commit "
                                                       "(default: HEAD)")
    add_config_argument(parser)
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                        help="how to print the diff (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    import json

    from casebank import evidence as evidence_io
    from casebank import git
    from casebank.bank.config import load_config
    from casebank.gate.baseline import from_file
    from casebank.gate.evaluate import evaluate
    from casebank.gate.serialize import diff_dict, verdict_dict
    from casebank.report.verdict_text import render_changes, render_diff

    if args.head and not args.base:
        raise UserError("--head needs --base")
    config = load_config(config_path(args.config))
    path = Path(args.evidence) if args.evidence else Path(config.root) / DEFAULT_EVIDENCE
    head = evidence_io.read(path)
    baseline = label = None
    if args.baseline:
        found = from_file(args.baseline)
        baseline, label = found.evidence, found.label
    repo = git.root(config.root) or Path(config.root)
    verdict = evaluate(config, head, repo=repo, base=args.base, head=args.head,
                       baseline=baseline, baseline_label=label)
    assert verdict.diff is not None
    if args.format == "json":
        data = {"diff": diff_dict(verdict.diff),
                "bank_changes": verdict_dict(verdict)["bank_changes"],
                "policy_changes": verdict_dict(verdict)["policy_changes"]}
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        return 0
    lines = render_diff(verdict.diff) + render_changes(verdict)
    if args.format == "markdown":
        body = "\n".join(line.replace("```", "'''") for line in lines)
        sys.stdout.write(f"### casebank diff\n\n```text\n{body}\n```\n")
    else:
        sys.stdout.write("\n".join(lines) + "\n")
    return 0
