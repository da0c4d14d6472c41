"""A throwaway casebank project in a temp folder, and the real CLI to run against it."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from casebank.cli import main

VALID_CASE = """\
id: CASE_ID
title: Refunds go to the account that paid
severity: high
source:
  kind: incident
  ref: INC-1
  date: 2026-01-02
  owner: "@payments"
tags: [refunds]
description: The agent refunded the wrong account.
review: on-fail
input:
  system:
    file: prompts/agent.md
  messages:
    - user: "Refund order A-1 please"
  tools:
    - name: lookup_order
      description: Look an order up.
      parameters:
        type: object
        properties:
          order_id: {type: string}
      results:
        - when: {order_id: A-1}
          result: {account_id: acct_1}
        - result: {error: not found}
samples: 2
pass: {at_least: 1}
expect:
  - contains: refund
  - name: looks the order up
    tool_called: lookup_order
"""


def valid_case(case_id: str = "refund-right-account") -> str:
    return VALID_CASE.replace("CASE_ID", case_id)


class Project:
    """A project folder: casebank.yaml, cases/, prompts/agent.md."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "cases").mkdir(parents=True)
        (root / "prompts").mkdir()
        (root / "prompts" / "agent.md").write_text("You are a support agent.\n")
        self.config("bank: cases\n")

    def config(self, text: str) -> Path:
        path = self.root / "casebank.yaml"
        path.write_text(text)
        return path

    def write(self, name: str, content: str | bytes) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    def cli(self, *args: str) -> tuple[int, str, str]:
        """Run ``casebank ARGS`` in-process from the project folder: (exit code, out, err)."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            with contextlib.chdir(self.root):
                try:
                    code = main(list(args))
                except SystemExit as exit:  # argparse's usage errors
                    code = int(exit.code or 0)
        return code, out.getvalue(), err.getvalue()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "project")
