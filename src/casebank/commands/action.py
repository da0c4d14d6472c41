"""``casebank action``: the GitHub Action's entry point (the image runs it), usable anywhere.

It reads the step's inputs from ``INPUT_*`` and the run from ``GITHUB_*`` environment
variables, exactly as in a workflow; flags override the inputs. See docs/github.md.
"""

from __future__ import annotations

import argparse
import sys

from casebank.github.inputs import COMMENT_MODES, FAIL_ON, MODES, SUITES, override, read_context, \
    read_inputs

NAME = "action"
HELP = ("Run as the GitHub Action: run the cases a pull request needs, gate them, and post "
        "check runs, one PR comment, the step summary and outputs (inputs from INPUT_*, "
        "context from GITHUB_*).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="casebank.yaml, relative to GITHUB_WORKSPACE "
                                         "(input config)")
    parser.add_argument("--suite", choices=SUITES, help="which cases to run (input suite)")
    parser.add_argument("--target", help="target from casebank.yaml to run (input target)")
    parser.add_argument("--check-name", dest="check_name", help="check run name prefix "
                                                                "(input check-name)")
    parser.add_argument("--comment", choices=COMMENT_MODES, help="PR comment (input comment)")
    parser.add_argument("--fail-on", dest="fail_on", choices=FAIL_ON,
                        help="which verdicts fail the step (input fail-on)")
    parser.add_argument("--shard", help="run shard i/n only (input shard)")
    parser.add_argument("--mode", choices=MODES, help="run the cases, or merge evidence files "
                                                      "(input mode)")
    parser.add_argument("--evidence", help="evidence file (or folder, in merge mode) "
                                           "(input evidence)")


def run(args: argparse.Namespace) -> int:
    inputs = override(read_inputs(), config=args.config, suite=args.suite, target=args.target,
                      check_name=args.check_name, comment=args.comment, fail_on=args.fail_on,
                      shard=args.shard, mode=args.mode, evidence=args.evidence)
    from casebank.github.action import run_action  # PyGithub: only when the action runs

    return run_action(inputs, read_context(), out=sys.stdout)
