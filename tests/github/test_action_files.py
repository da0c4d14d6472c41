"""action.yml, the example workflows and docs/github.md agree with each other and with GitHub."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from casebank.github.inputs import Inputs, read_inputs

ROOT = Path(__file__).resolve().parents[2]
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def load(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text())


WORKFLOWS = sorted(str(path.relative_to(ROOT))
                   for folder in ("examples/workflows", ".github/workflows")
                   for path in (ROOT / folder).glob("*.yml"))


@pytest.mark.parametrize(("schema", "files"), [
    ("vendor.github-actions", ["action.yml"]),
    ("vendor.github-workflows", WORKFLOWS),  # issue #6: every workflow, the project's CI too
])
def test_files_pass_githubs_schemas(schema: str, files: list[str]) -> None:
    done = subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", schema, *files], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_input_reaches_casebank_and_is_documented() -> None:
    action = load(ROOT / "action.yml")
    assert action["runs"] == {"using": "docker", "image": "Dockerfile"}
    docs = (ROOT / "docs" / "github.md").read_text()
    env = {}
    for name, spec in action["inputs"].items():
        assert f"| `{name}` |" in docs, f"input {name} is not in docs/github.md"
        env[f"INPUT_{name.upper()}"] = str(spec.get("default", ""))
    env["INPUT_GITHUB-TOKEN"] = "token"
    parsed = read_inputs(env)  # the defaults action.yml declares are valid inputs
    assert parsed == Inputs(github_token="token")
    for name in action["outputs"]:
        assert f"| `{name}` |" in docs, f"output {name} is not in docs/github.md"


def test_example_workflow_has_what_the_action_needs() -> None:
    workflow = load(ROOT / "examples/workflows/casebank.yml")
    assert {"pull_request", "merge_group", "push"} <= set(workflow["on"])
    assert "concurrency" in workflow
    gate = workflow["jobs"]["gate"]
    assert gate["permissions"] == {"contents": "read", "checks": "write", "pull-requests": "write"}
    checkout = gate["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0


def test_fork_safe_workflow_never_runs_the_pull_requests_code() -> None:
    workflow = load(ROOT / "examples/workflows/casebank-fork-safe.yml")
    assert list(workflow["on"]) == ["workflow_run"]
    [job] = workflow["jobs"].values()
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert "ref" not in checkout.get("with", {})  # the default branch, not the fork's head
    action = next(s for s in job["steps"] if s.get("uses", "").startswith("casebank/"))
    assert action["with"]["mode"] == "merge"
    download = next(s for s in job["steps"] if "download-artifact" in s.get("uses", ""))
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    scripts = " ".join(s.get("run", "") for s in job["steps"])
    assert "${{" not in scripts  # no untrusted expression interpolated into a shell
