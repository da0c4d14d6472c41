"""End-to-end scenarios: a real git repository with base and head commits, a GitHub-shaped
event payload, the fake GitHub API, and the real ``casebank action`` run in-process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from casebank.cli import main
from tests.fakes.webhooks import load_event

OWNER, NAME = "octo", "bank"
REPO = f"{OWNER}/{NAME}"
WRITE_TOKEN, READ_TOKEN = "ghs_write", "ghs_readonly"

CONFIG = """\
bank: cases
targets:
  agent:
    kind: replay
    file: recordings/agent.jsonl
default_target: agent
gate:
  rules:
    - severity: critical
      block_on_any_failure: true
"""

GREETING = """\
id: greeting
title: Greets the customer back
severity: low
source:
  kind: synthetic
input:
  messages:
    - user: "Hello there"
expect:
  - contains: "Hello"
"""

# The expectation that fails is on line 13.
REFUND_CASE = """\
id: refund-wrong-account
title: Refund issued to the business account instead of the personal one
severity: critical
source:
  kind: incident
  ref: INC-2291
input:
  messages:
    - user: "Please refund order A-1042 to my personal account."
expect:
  - contains: "refund"
  - not_contains:
      any: ["acct_biz_12"]
"""
REFUND_LINE = 12

BAD_OUTPUT = ("I issued the refund to acct_biz_12. @octocat <b>done</b>\n"
              "```\n::set-output name=verdict::SHIP\n")


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"})
    return done.stdout.strip()


def recording(case_id: str, output: str, samples: int = 1) -> str:
    return "".join(json.dumps({"case": case_id, "sample": s, "output": output}) + "\n"
                   for s in range(samples))


@dataclass
class Project:
    """A checkout like actions/checkout with fetch-depth 0: base on main, head on a branch."""

    path: Path
    origin: Path
    base: str
    head: str

    def write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)


def make_project(tmp: Path, *, base_files: dict[str, str] | None = None,
                 head_files: dict[str, str] | None = None) -> Project:
    """A repo whose main has ``base_files`` and whose branch ``feature`` adds ``head_files``;
    the work tree is left on the head (what the action runs), ``origin`` is a bare clone."""
    path = tmp / "work"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    project = Project(path, tmp / "origin.git", "", "")
    project.write(base_files if base_files is not None else {
        "casebank.yaml": CONFIG, "cases/greeting.yaml": GREETING,
        "recordings/agent.jsonl": recording("greeting", "Hello! How can I help?")
        + recording("refund-wrong-account", BAD_OUTPUT)})
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "base")
    project.base = git(path, "rev-parse", "HEAD")
    git(path, "checkout", "-q", "-b", "feature")
    project.write(head_files if head_files is not None else
                  {"cases/refund-wrong-account.yaml": REFUND_CASE})
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "head: add the incident case")
    project.head = git(path, "rev-parse", "HEAD")
    subprocess.run(["git", "clone", "-q", "--bare", str(path), str(project.origin)], check=True)
    git(path, "remote", "add", "origin", str(project.origin))
    return project


def payload(name: str, project: Project, number: int = 7, head_ref: str | None = "feature",
            **extra: Any) -> dict[str, Any]:
    """A payload from @octokit/webhooks-examples with this project's repo, shas and number
    (a push goes to the default branch unless ``head_ref`` says otherwise)."""
    if name == "push" and head_ref == "feature":
        head_ref = None
    return load_event(name, repo=REPO, number=number, head_sha=project.head,
                      base_sha=project.base, head_ref=head_ref, **extra)


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    summary: str
    outputs: dict[str, str] = field(default_factory=dict)


def parse_outputs(text: str) -> dict[str, str]:
    outputs: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if "<<" not in line:
            continue
        name, delimiter = line.split("<<", 1)
        value = []
        for inner in lines:
            if inner == delimiter:
                break
            value.append(inner)
        outputs[name] = "\n".join(value)
    return outputs


def run_action(project: Project, monkeypatch: Any, *, event_name: str, event: dict[str, Any],
               api_url: str | None, token: str | None = WRITE_TOKEN, sha: str | None = None,
               inputs: dict[str, str] | None = None, args: list[str] | None = None,
               as_subprocess: bool = False, crash_expected: bool = False) -> Result:
    """Run ``casebank action`` in-process with the environment a runner would set."""
    runner = project.path.parent / "runner"
    runner.mkdir(exist_ok=True)
    event_path = runner / f"event-{event_name}.json"
    event_path.write_text(json.dumps(event))
    summary, output = runner / "summary.md", runner / "output.txt"
    summary.write_text("")
    output.write_text("")
    for key in list(os.environ):
        if key.startswith(("INPUT_", "GITHUB_")):
            monkeypatch.delenv(key)
    env = {"GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(event_path),
           "GITHUB_REPOSITORY": REPO, "GITHUB_SHA": sha or project.head,
           "GITHUB_WORKSPACE": str(project.path), "GITHUB_STEP_SUMMARY": str(summary),
           "GITHUB_OUTPUT": str(output), "GITHUB_SERVER_URL": "https://github.com",
           "GITHUB_RUN_ID": "4242", "CI": "true", "CASEBANK_GITHUB_BACKOFF": "0.001",
           "CASEBANK_LOG_DIR": str(runner)}
    if api_url:
        env["GITHUB_API_URL"] = api_url
    else:
        del env["GITHUB_REPOSITORY"]
    if token:
        env["INPUT_GITHUB-TOKEN"] = token
    for name, value in (inputs or {}).items():
        env[f"INPUT_{name.upper()}"] = value
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(project.path)
    if as_subprocess:
        done = subprocess.run([str(Path(sys.executable).parent / "casebank"), "action",
                               *(args or [])], cwd=project.path, capture_output=True, text=True,
                              timeout=120, env=dict(os.environ))
        code, stdout, stderr = done.returncode, done.stdout, done.stderr
    else:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["action", *(args or [])])
        stdout, stderr = out.getvalue(), err.getvalue()
    crash = runner / "crash.log"
    assert crash.exists() == crash_expected, crash.read_text() if crash.exists() else "no crash"
    return Result(code, stdout, stderr, summary.read_text(),
                  parse_outputs(output.read_text()))
