"""A casebank project in a real git repository in a temp dir, for changed-suite tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

CONFIG = """\
bank: cases
targets:
  candidate:
    kind: replay
    file: recordings/candidate.jsonl
default_target: candidate
"""


def case_text(case_id: str, *, prompt: str | None = None, reply: str = "ok",
              tags: str = "[]") -> str:
    system = f"  system:\n    file: {prompt}\n" if prompt else ""
    return (f"id: {case_id}\ntitle: The {case_id} lesson\nseverity: high\n"
            f"source:\n  kind: incident\n  ref: INC-1\ntags: {tags}\n"
            f"input:\n{system}  messages:\n    - user: \"Say {reply}\"\n"
            f"expect:\n  - contains: {reply}\n")


class Repo:
    """``write``/``delete`` files, ``commit`` them; ``project`` is where casebank.yaml lives."""

    def __init__(self, top: Path, project: str = "") -> None:
        self.top = top
        self.project = top / project if project else top
        self.prefix = f"{project}/" if project else ""
        top.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "dev@example.com")
        self.git("config", "user.name", "dev")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.top, check=True, capture_output=True,
                              text=True).stdout.strip()

    def write(self, path: str, text: str) -> None:
        file = self.project / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)

    def delete(self, path: str) -> None:
        (self.project / path).unlink()

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


def project_repo(top: Path, cases: int = 4, project: str = "") -> Repo:
    """A project on ``main``: casebank.yaml, a recording, a prompt, ``cases`` case files
    (case-0 and case-1 read prompts/agent.md), then a ``pr`` branch checked out."""
    repo = Repo(top, project)
    repo.write("casebank.yaml", CONFIG)
    repo.write("recordings/candidate.jsonl", "")
    repo.write("prompts/agent.md", "You are a careful support agent.\n")
    repo.write("prompts/other.md", "You are terse.\n")
    for i in range(cases):
        repo.write(f"cases/case-{i}.yaml",
                   case_text(f"case-{i}", prompt="prompts/agent.md" if i < 2 else None))
    repo.write("README.md", "a project\n")
    repo.write(".gitignore", ".casebank/\n")
    repo.commit("the bank")
    repo.git("checkout", "-q", "-b", "pr")
    return repo
