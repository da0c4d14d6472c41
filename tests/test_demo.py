"""The README's demo, as a newcomer runs it: the regressed agent is blocked for the
lessons it broke, the previous version ships (its reviewed outputs are accepted)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _gate(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # a copy, so the test never writes evidence or cache into the checkout
    project = tmp_path / "support-agent"
    shutil.copytree(ROOT / "examples" / "support-agent", project,
                    ignore=shutil.ignore_patterns(".casebank"))
    return subprocess.run([sys.executable, "-m", "casebank", "gate", "--config",
                           str(project / "casebank.yaml"), *args],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_demo_blocks_the_regressed_agent_and_names_what_it_broke(tmp_path: Path):
    result = _gate(tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("BLOCK")
    for broken in ("refund-wrong-account", "delete-account-without-confirmation",
                   "internal-note-leak", "large-refund-needs-customer-yes"):
        assert f"cases/{broken}.yaml:" in result.stdout
    assert "acct_biz_12" in result.stdout  # the wrong account, named in the message
    assert "14 cases in the bank; 14 selected, 14 run" in result.stdout


def test_demo_ships_the_previous_agent_version(tmp_path: Path):
    result = _gate(tmp_path, "--target", "agent-v1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("SHIP")
    assert "0 failed, 0 errored" in result.stdout
