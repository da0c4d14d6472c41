"""A real project in a real git repository, for scenario tests of the gate.

Cases are plain text checks; the target is ``replay`` (recorded outputs in a JSONL file), so
runs are real runs of the pipeline that need no model. ``gate()`` calls the real CLI.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from casebank.cli import main

CONFIG = """\
bank: cases
targets:
  v1:
    kind: replay
    file: recordings/v1.jsonl
  v2:
    kind: replay
    file: recordings/v2.jsonl
{extra}default_target: {default}
gate:
{gate}
"""

DEFAULT_GATE = """\
  rules:
    - severity: critical
      block_on_any_failure: true
    - severity: [high, medium, low]
      max_failure_rate: 0.5
"""


def case_yaml(case_id: str, *, severity: str = "high", must: str = "refund",
              must_not: str = "acct_biz_12", samples: int = 1, pass_rule: str = "all",
              review: str = "never", kind: str = "incident", tags: tuple[str, ...] = (),
              extra_expect: str = "") -> str:
    return f"""\
id: {case_id}
title: Lesson {case_id}
severity: {severity}
source:
  kind: {kind}
  ref: INC-{abs(hash(case_id)) % 9000 + 1000}
tags: [{", ".join(tags)}]
review: {review}
input:
  messages:
    - user: "Please refund order A-1042."
samples: {samples}
pass: {pass_rule}
expect:
  - contains: {must}
  - not_contains: {must_not}
{extra_expect}"""


@dataclass
class Result:
    code: int
    out: str
    err: str


class Project:
    """A casebank project at the top of a fresh git repository."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.write(".gitignore", ".casebank/\n")
        self.recordings: dict[str, dict[tuple[str, int], str]] = {"v1": {}, "v2": {}}

    def git(self, *args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=dev", "-c", "user.email=dev@example.com",
                               *args], cwd=self.path, check=True, capture_output=True,
                              text=True).stdout.strip()

    def write(self, rel: str, text: str) -> None:
        file = self.path / rel
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")

    def config(self, gate: str = DEFAULT_GATE, *, default: str = "v2", extra: str = "") -> None:
        """casebank.yaml with the replay targets v1 and v2 (plus ``extra`` target lines)."""
        self.write("casebank.yaml", CONFIG.format(gate=gate.rstrip("\n"), default=default,
                                                  extra=extra))

    def case(self, case_id: str, **kw) -> None:  # noqa: ANN003
        self.write(f"cases/{case_id}.yaml", case_yaml(case_id, **kw))

    def answer(self, target: str, case_id: str, *outputs: str) -> None:
        """The recorded outputs of ``target`` for ``case_id``, one per sample."""
        for index, text in enumerate(outputs):
            self.recordings[target][(case_id, index)] = text
        self._save(target)

    def _save(self, target: str) -> None:
        lines = [json.dumps({"case": c, "sample": s, "output": text})
                 for (c, s), text in sorted(self.recordings[target].items())]
        self.write(f"recordings/{target}.jsonl", "\n".join(lines) + "\n")

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    def gate(self, *args: str) -> Result:
        """``casebank gate --config <project>/casebank.yaml ARGS`` through the real CLI."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["gate", "--config", str(self.path / "casebank.yaml"), *args])
        return Result(code, out.getvalue(), err.getvalue())

    def record_baseline(self, target: str = "v1") -> str:
        """Run the bank at the current commit and record it as that commit's baseline, as
        the default branch's CI does."""
        from casebank.gate.baseline import record_baseline

        evidence = self.path / ".casebank" / f"baseline-{target}.json"
        result = self.gate("--target", target, "--out", str(evidence))
        assert result.code in (0, 1, 3), result.err
        commit = self.git("rev-parse", "HEAD")
        record_baseline(self.path, commit, evidence)
        return commit

    def cli(self, *args: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
        return Result(code, out.getvalue(), err.getvalue())
