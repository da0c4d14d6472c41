"""Fixtures for running cases: a real model server, real project folders, real casebank.yaml."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from casebank.bank.config import load_config
from casebank.bank.load import load_bank
from casebank.evidence import Evidence
from casebank.run import execute
from tests.fakes.model_server import ModelServer

REPO = Path(__file__).resolve().parents[2]
FAST_RUN = {"backoff_s": 0.01, "max_backoff_s": 0.05, "timeout_s": 5}


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with ModelServer() as running:
        yield running


def case_yaml(case_id: str, user: str = "hello", *, expect: list[Any] | None = None,
              tools: list[dict[str, Any]] | None = None, samples: int = 1, pass_rule: Any = "all",
              max_steps: int | None = None, user_replies: list[str] | None = None,
              system: str | None = "You are a support agent.", severity: str = "high") -> str:
    """A case file as JSON (valid YAML), so tests state cases as data."""
    doc: dict[str, Any] = {
        "id": case_id, "title": f"case {case_id}", "severity": severity,
        "source": {"kind": "incident", "ref": "INC-1"},
        "input": {"messages": [{"user": user}]},
        "samples": samples, "pass": pass_rule,
        "expect": expect or [{"contains": "echo"}],
    }
    if system is not None:
        doc["input"]["system"] = system
    if tools:
        doc["input"]["tools"] = tools
    if max_steps is not None:
        doc["input"]["max_steps"] = max_steps
    if user_replies:
        doc["input"]["user_replies"] = user_replies
    return json.dumps(doc, indent=2) + "\n"


@dataclass
class Project:
    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / "casebank.yaml"

    def write_config(self, targets: dict[str, Any], default_target: str | None = None,
                     run: dict[str, Any] | None = None, judge: str | None = None) -> None:
        doc: dict[str, Any] = {"bank": "cases", "targets": targets,
                               "run": {**FAST_RUN, **(run or {})}}
        if default_target:
            doc["default_target"] = default_target
        if judge:
            doc["judge"] = judge
        self.config_path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")

    def add_case(self, case_id: str, user: str = "hello", **kwargs: Any) -> None:
        folder = self.root / "cases"
        folder.mkdir(exist_ok=True)
        (folder / f"{case_id}.yaml").write_text(case_yaml(case_id, user, **kwargs), encoding="utf-8")

    def run(self, target: str | None = None, **kwargs: Any) -> Evidence:
        """``execute()`` on every case of the bank, evidence in the project's .casebank/."""
        config = load_config(self.config_path)
        bank = load_bank(config)
        assert not bank.problems, [p.render() for p in bank.problems]
        kwargs.setdefault("progress", False)
        kwargs.setdefault("evidence_path", self.root / ".casebank" / "evidence.json")
        return execute(config, bank.cases, target=target, bank_size=len(bank.cases), **kwargs)

    def cli(self, *args: str, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """``casebank ARGS`` in a real subprocess, from the project folder."""
        full_env = {**os.environ, "CI": "true", "PYTHONPATH": str(REPO), **(env or {})}
        return subprocess.run([sys.executable, "-m", "casebank", *args], cwd=self.root,
                              env=full_env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


def openai_target(server: ModelServer, **extra: Any) -> dict[str, Any]:
    return {"kind": "openai", "base_url": server.url, "model": "test-model", **extra}


def only_case(evidence: Evidence, case_id: str | None = None):
    cases = [c for c in evidence.cases if case_id is None or c.case_id == case_id]
    assert len(cases) == 1, [c.case_id for c in evidence.cases]
    return cases[0]
