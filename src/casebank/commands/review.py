"""``casebank review``: record a person's decision, as a file committed with the change.

- ``casebank review CASE-ID --decision accept|reject ...`` writes ``reviews/<case-id>.yaml``
  (the folder is ``gate.review.dir``) from the latest evidence: the decision, the rationale,
  the reviewer, the date and the hashes of the sample outputs reviewed. The gate applies it
  while the outputs stay the same.
- ``casebank review CASE-ID --approve-change ...`` approves a change that deletes or loosens
  the case (``reviews/changes/cases/<case-id>.yaml``); ``casebank review --approve-policy``
  approves a loosened ``gate:`` section (``reviews/changes/policy.yaml``).

See docs/review.md. Exit codes: 0 written, 2 bad input (unknown case, nothing to review).
"""

from __future__ import annotations

import argparse
import datetime as dt
import posixpath
import sys
from pathlib import Path
from typing import Any

from casebank.commands.config_option import add_config_argument, config_path
from casebank.errors import UserError

NAME = "review"
HELP = "Record a reviewer's decision on a case's outputs, or approve a loosening change."

DEFAULT_EVIDENCE = ".casebank/evidence.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("case_id", metavar="CASE-ID", nargs="?",
                        help="the id of the case reviewed (or whose change is approved)")
    parser.add_argument("--decision", choices=("accept", "reject"),
                        help="on the case's outputs: accept (acceptable, the case counts as "
                             "passed) or reject (wrong, the case counts as failed)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--approve-change", action="store_true",
                      help="approve this change to the case (deleted, or loosened) instead")
    what.add_argument("--approve-policy", action="store_true",
                      help="approve the change to the gate: section of casebank.yaml instead")
    parser.add_argument("--rationale", required=True, help="why, for a later reader")
    parser.add_argument("--reviewer", required=True, metavar="@HANDLE", help="who decides")
    parser.add_argument("--evidence", metavar="PATH",
                        help=f"the run whose outputs were reviewed (default: {DEFAULT_EVIDENCE} "
                             "in the folder of casebank.yaml, written by casebank run)")
    parser.add_argument("--base", metavar="REV",
                        help="with --approve-change for a deleted case: a commit that still "
                             "has it (e.g. origin/main)")
    add_config_argument(parser)
    parser.add_argument("--date", metavar="YYYY-MM-DD", help="the review date (default: today)")


def run(args: argparse.Namespace) -> int:
    from casebank.bank.config import load_config
    from casebank.gate.policy import policy_from_config

    if not args.rationale.strip():
        raise UserError("--rationale is empty: say why, for whoever reads this later")
    if not args.reviewer.strip():
        raise UserError("--reviewer is empty: name who decides, e.g. @alice")
    date = args.date or dt.date.today().isoformat()
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        raise UserError(f"--date {date!r} is not a date (YYYY-MM-DD)") from None
    if args.approve_policy:
        if args.case_id or args.decision:
            raise UserError("--approve-policy takes no CASE-ID and no --decision")
    elif not args.case_id:
        raise UserError("name the case: casebank review CASE-ID ...")
    elif args.approve_change and args.decision:
        raise UserError("--approve-change takes no --decision (it approves the change itself)")
    elif not args.approve_change and not args.decision:
        raise UserError("--decision accept|reject is required to review a case's outputs")
    config = load_config(config_path(args.config))
    policy = policy_from_config(config)
    folder = posixpath.dirname(config.display_path)
    if args.approve_policy:
        return _approve_policy(config, policy.review_dir, folder, args, date)
    if args.approve_change:
        return _approve_case(config, policy.review_dir, folder, args, date)
    return _review_outputs(config, policy.review_dir, folder, args, date)


def _write(config: Any, rel: str, folder: str, text: str) -> tuple[str, bool]:
    file = Path(config.root) / rel
    shown = posixpath.join(folder, rel) if folder else rel
    existed = file.exists()
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")
    return shown, existed


def _review_outputs(config: Any, review_dir: str, folder: str, args: argparse.Namespace,
                    date: str) -> int:
    from casebank import evidence as evidence_io
    from casebank.check.result import ERROR, PASS
    from casebank.gate.diff import first_problem
    from casebank.gate.review import output_hashes, parse_review, review_document
    from casebank.run.result import NOT_RUN

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
    if case.outcome == ERROR:  # the gate never lets a review decide an error
        label, words, _ = first_problem(case)
        raise UserError(f"{case.case_id} errored in {path} ({label}: {words}); a review "
                        "cannot make an error pass: fix the target or the check and run it again")
    target = evidence.target.get("name") or evidence.target.get("model")
    text = review_document(case, decision=args.decision, rationale=args.rationale.strip(),
                           reviewer=args.reviewer.strip(), date=date, commit=evidence.commit,
                           target=target)
    rel = f"{review_dir}/{case.case_id}.yaml"
    checked = parse_review(rel, text.encode())
    if isinstance(checked, list):  # a bug: what we write must read back
        raise UserError("the review file would not be valid", checked)
    shown, existed = _write(config, rel, folder, text)
    hashes = output_hashes(case)
    print(f"{'replaced' if existed else 'wrote'} {shown}: {args.decision} {case.case_id} "
          f"({case.outcome}, {len(case.samples)} sample(s), {len(hashes)} distinct output(s))")
    if case.outcome == PASS and case.review != "always" and args.decision == "accept":
        print(f"note: {case.case_id} passes and its review is {case.review!r}: the gate does "
              "not need this review", file=sys.stderr)
    print("commit it with the change; the gate applies it while the outputs stay the same "
          "(see docs/review.md for CODEOWNERS on the review folder)")
    return 0


def _approve_case(config: Any, review_dir: str, folder: str, args: argparse.Namespace,
                  date: str) -> int:
    from casebank import git
    from casebank.bank.load import load_valid_bank
    from casebank.gate import history
    from casebank.gate.approval import approval_document, case_fingerprint, subject_file

    bank = load_valid_bank(config)
    now = next((c for c in bank.cases if c.id == args.case_id), None)
    if now is not None:
        change, what = case_fingerprint(now.id, now.content_hash), f"case {now.id} as in {now.path}"
    else:
        if not args.base:
            raise UserError(f"{args.case_id!r} is not in the bank: to approve its deletion, "
                            "pass --base with a commit that still has it (e.g. origin/main)")
        project = history.project_of(config, git.root(config.root) or Path(config.root))
        base = history.resolve(project, args.base, "base")
        old = history.case_at(project, base, args.case_id)
        if old is None:
            raise UserError(f"no case {args.case_id!r} in the bank at {args.base} either")
        change = case_fingerprint(old.id, old.content_hash, deleted=True)
        what = f"case {old.id} deleted (was {old.path})"
    text = approval_document(f"case {args.case_id}", change, what=what,
                             rationale=args.rationale.strip(), reviewer=args.reviewer.strip(),
                             date=date)
    rel = subject_file(review_dir, f"case {args.case_id}")
    shown, existed = _write(config, rel, folder, text)
    print(f"{'replaced' if existed else 'wrote'} {shown}: approves {what}")
    print("commit it with the change; it applies to exactly this version of the case")
    return 0


def _approve_policy(config: Any, review_dir: str, folder: str, args: argparse.Namespace,
                    date: str) -> int:
    from casebank.gate.approval import (
        POLICY,
        approval_document,
        policy_fingerprint_of,
        subject_file,
    )

    change = policy_fingerprint_of(Path(config.path).read_bytes())
    text = approval_document("policy", change, what=f"the gate: section of {config.display_path}",
                             rationale=args.rationale.strip(), reviewer=args.reviewer.strip(),
                             date=date)
    shown, existed = _write(config, subject_file(review_dir, POLICY), folder, text)
    print(f"{'replaced' if existed else 'wrote'} {shown}: approves the gate: section of "
          f"{config.display_path} as it is now")
    print("commit it with the change; editing the gate: section again needs a new approval")
    return 0
