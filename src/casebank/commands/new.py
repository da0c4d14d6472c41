"""casebank new: start a case file for a lesson just learned (an incident, a review...)."""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path

from casebank.bank.case import SEVERITIES, SOURCE_KINDS
from casebank.bank.config import load_config
from casebank.bank.files import project_reader
from casebank.bank.load import CASE_SUFFIXES, load_bank, parse_case
from casebank.bank.new import ID_PATTERN, PLACEHOLDER, NewCase, free_id, render, slugify
from casebank.commands.config_option import add_config_argument, config_path
from casebank.errors import ExitCode, Problem, UserError

NAME = "new"
HELP = ("Write a new, valid case file into the bank (provenance from the flags, a free id) "
        "whose conversation and expectation are TODO placeholders for you to replace; until "
        "you do, the case fails when run.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True, choices=SOURCE_KINDS,
                        help="where the lesson came from")
    parser.add_argument("--title", required=True,
                        help="one line saying what must (not) happen")
    parser.add_argument("--severity", required=True, choices=SEVERITIES,
                        help="how bad a regression of this case would be")
    parser.add_argument("--ref", help="ticket, incident or finding id, e.g. INC-2291")
    parser.add_argument("--owner", help="who answers for the case, e.g. @payments-oncall")
    parser.add_argument("--url", help="link to the write-up")
    parser.add_argument("--date", help="when it happened, YYYY-MM-DD (default: today)")
    parser.add_argument("--tags", default="", help="comma-separated labels, e.g. refunds,agent")
    parser.add_argument("--id", dest="case_id",
                        help="the case id (default: from the title); refused when taken")
    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    config = load_config(config_path(args.config))
    if not config.bank_dirs:
        raise UserError("casebank.yaml names no bank folder (bank:)")
    folder = config.bank_dirs[0]
    bank = load_bank(config)
    taken = {case.id for case in bank.cases}
    for bank_dir in config.bank_dirs:
        taken |= {p.stem for p in bank_dir.rglob("*") if p.suffix in CASE_SUFFIXES}
    if args.case_id:
        if not ID_PATTERN.match(args.case_id):
            raise UserError(f"--id `{args.case_id}` is not a slug: use lowercase letters, "
                            "digits and dashes, e.g. refund-wrong-account")
        if args.case_id in taken:
            raise UserError(f"--id `{args.case_id}` is already used in the bank; casebank new "
                            "does not overwrite cases: pick another id")
        case_id = args.case_id
    else:
        case_id = free_id(slugify(args.title), taken)
    date = args.date or datetime.date.today().isoformat()
    tags = tuple(t.strip() for t in args.tags.split(",") if t.strip())
    text = render(NewCase(id=case_id, title=args.title, severity=args.severity,
                          source=args.source, ref=args.ref, owner=args.owner, date=date,
                          tags=tags, url=args.url))
    path = folder / f"{case_id}.yaml"
    shown = _shown(path)
    problems = _flag_problems(shown, text, config.root, config)
    if problems:
        raise UserError("the flags make an invalid case; nothing was written", problems)
    try:
        with open(path, "x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:
        raise UserError(f"{shown} already exists; casebank new never overwrites a case") from None
    print(shown)
    lines = [str(n) for n, line in enumerate(text.splitlines(), 1)
             if PLACEHOLDER in line and not line.startswith("#")]
    print(f"next: replace the {PLACEHOLDER} placeholders (lines {', '.join(lines)}) with the "
          f"real lesson, then run: casebank validate {shown}", file=sys.stderr)
    return int(ExitCode.OK)


def _flag_problems(shown: str, text: str, root: Path, config: object) -> list[Problem]:
    """What makes the new case invalid (a bad --date, a tag with spaces...)."""
    limits = config.limits  # type: ignore[attr-defined]
    result = parse_case(shown, text.encode("utf-8"), root=root,
                        read_file=project_reader(root, limits), limits=limits)
    return result if isinstance(result, list) else []


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)
