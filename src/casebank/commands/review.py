"""``casebank review CASE-ID``: record a person's decision on a case's current outputs.

Writes ``reviews/<case-id>.yaml`` (the folder is ``gate.review.dir``) from the latest
evidence: the decision, the rationale, the reviewer, the date and the hashes of the sample
outputs reviewed. Commit it; the gate applies it while the outputs stay the same.
See docs/review.md. Exit codes: 0 written, 2 bad input (unknown case, nothing to review).
"""

from __future__ import annotations

import argparse
import datetime as dt
import posixpath
import sys
from pathlib import Path

from casebank.errors import UserError

NAME = "review"
HELP = "Record a reviewer's decision (accept / reject) on a case's current outputs."

DEFAULT_EVIDENCE = ".casebank/evidence.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("case_id", metavar="CASE-ID", help="the id of the case reviewed")
    parser.add_argument("--decision", required=True, choices=("accept", "reject"),
                        help="accept: the output is acceptable (the case counts as passed); "
                             "reject: it is wrong (the case counts as failed)")
    parser.add_argument("--rationale", required=True, help="why, for a later reader")
    parser.add_argument("--reviewer", required=True, metavar="@HANDLE", help="who decides")
    parser.add_argument("--evidence", metavar="PATH",
                        help=f"the run whose outputs were reviewed (default: {DEFAULT_EVIDENCE} "
                             "in the folder of casebank.yaml, written by casebank run)")
    parser.add_argument("--config", default="casebank.yaml",
                        help="casebank.yaml (default: %(default)s)")
    parser.add_argument("--date", metavar="YYYY-MM-DD", help="the review date (default: today)")


def run(args: argparse.Namespace) -> int:
    from casebank import evidence as evidence_io
    from casebank.bank.config import load_config
    from casebank.check.result import ERROR, PASS
    from casebank.gate.policy import policy_from_config
    from casebank.gate.review import output_hashes, parse_review, review_document
    from casebank.run.result import NOT_RUN

    if not args.rationale.strip():
        raise UserError("--rationale is empty: say why, for whoever reads this later")
    if not args.reviewer.strip():
        raise UserError("--reviewer is empty: name who decides, e.g. @alice")
    date = args.date or dt.date.today().isoformat()
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        raise UserError(f"--date {date!r} is not a date (YYYY-MM-DD)") from None
    config = load_config(Path(args.config))
    policy = policy_from_config(config)
    path = Path(args.evidence) if args.evidence else Path(config.root) / DEFAULT_EVIDENCE
    evidence = evidence_io.read(path)
    found = [c for c in evidence.cases if c.case_id == args.case_id]
    if not found:
        known = ", ".join(sorted(c.case_id for c in evidence.cases)[:10])
        raise UserError(f"case {args.case_id!r} is not in the evidence {path} (it has: "
                        f"{known or 'no cases'}); run it first: casebank run --select "
                        f"id:{args.case_id}")
    case = found[0]
    if case.outcome == NOT_RUN or not case.samples:
        raise UserError(f"{case.case_id} was not run in {path}: nothing to review")
    if case.outcome == ERROR and all(s.sample.error for s in case.samples):
        raise UserError(f"{case.case_id} errored in {path} (no output to review); fix the "
                        "target and run it again")
    target = evidence.target.get("name") or evidence.target.get("model")
    text = review_document(case, decision=args.decision, rationale=args.rationale.strip(),
                           reviewer=args.reviewer.strip(), date=date, commit=evidence.commit,
                           target=target)
    folder = Path(config.root) / policy.review_dir
    file = folder / f"{case.case_id}.yaml"
    shown = posixpath.join(posixpath.dirname(config.display_path), policy.review_dir,
                           file.name)
    checked = parse_review(shown, text.encode())
    if isinstance(checked, list):  # a bug: what we write must read back
        raise UserError("the review file would not be valid", checked)
    existed = file.exists()
    folder.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")
    hashes = output_hashes(case)
    print(f"{'replaced' if existed else 'wrote'} {shown}: {args.decision} {case.case_id} "
          f"({case.outcome}, {len(case.samples)} sample(s), {len(hashes)} distinct output(s))")
    if case.outcome == PASS and case.review != "always":
        print(f"note: {case.case_id} passes and its review is {case.review!r}: the gate does "
              "not need this review", file=sys.stderr)
    print("commit it with the change; the gate applies it while the outputs stay the same "
          "(see docs/review.md for CODEOWNERS on the review folder)")
    return 0
