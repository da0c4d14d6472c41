"""The ``casebank`` entry point as a shell runs it: real subprocesses, real pipes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import casebank

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "support-agent" / "casebank.yaml"


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "CI": "true", "PYTHONPATH": str(REPO), **extra}
    env.pop("PYTHONUNBUFFERED", None)  # stdout buffered, as by default
    return {**env, **extra}


def _into_closed_pipe(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    """``casebank ARGS`` whose stdout is a pipe nobody reads any more (like `| head -1`
    after its line): the read end is closed before casebank starts, so every write fails."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "casebank", *args], cwd=cwd,
                              env=_env(**env),
                              stdout=write_end, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write_end)


def test_a_closed_stdout_keeps_the_run_exit_code_and_its_files(tmp_path: Path):
    junit = tmp_path / "junit.xml"
    evidence = tmp_path / "evidence.json"

    result = _into_closed_pipe(["run", "--config", str(EXAMPLE), "--target", "agent-v1",
                                "--out", str(evidence), "--junit", str(junit)], tmp_path)

    stderr = result.stderr.decode()
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    assert "BrokenPipe" not in stderr
    assert result.returncode == 0, stderr  # agent-v1 passes every case
    assert evidence.is_file() and junit.is_file()
    assert not (tmp_path / ".casebank" / "crash.log").exists()


def test_a_closed_unbuffered_stdout_stops_printing_with_exit_1(tmp_path: Path):
    # unbuffered, the pipe breaks mid-summary: the command did not finish, its code is unknown
    result = _into_closed_pipe(["run", "--config", str(EXAMPLE), "--target", "agent-v1",
                                "--out", str(tmp_path / "e.json")], tmp_path,
                               PYTHONUNBUFFERED="1")

    assert "internal error" not in result.stderr.decode()
    assert result.returncode == 1
    assert (tmp_path / "e.json").is_file()


def test_a_failing_run_into_a_closed_stdout_still_fails(tmp_path: Path):
    result = _into_closed_pipe(["run", "--config", str(EXAMPLE), "--target", "agent-v2",
                                "--out", str(tmp_path / "e.json")], tmp_path)

    assert result.returncode == 1
    assert "internal error" not in result.stderr.decode()


def test_run_piped_into_head_prints_its_first_line_quietly(tmp_path: Path):
    shell = (f"{sys.executable} -m casebank run --config {EXAMPLE} --target agent-v2 "
             f"--out {tmp_path / 'e.json'} --plain | head -1")

    result = subprocess.run(["bash", "-c", f"set -o pipefail; {shell}"], cwd=tmp_path,
                            env=_env(), capture_output=True, text=True, timeout=60)

    assert result.stdout.split() == ["outcome", "severity", "case", "samples"]
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert result.returncode == 1  # the run's own: agent-v2 fails cases, pipe or not


def test_help_into_a_closed_stdout_is_quiet(tmp_path: Path):
    result = _into_closed_pipe(["--help"], tmp_path)

    assert result.returncode == 0
    assert result.stderr.decode() == ""


def test_help_lists_every_command_and_the_exit_codes():
    result = subprocess.run([sys.executable, "-m", "casebank", "--help"], env=_env(),
                            capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    for command in ("validate", "new", "run", "gate", "diff", "review", "merge", "action"):
        assert f"    {command}" in result.stdout
    assert "Exit codes: 0 pass/SHIP, 1 failures/BLOCK" in " ".join(result.stdout.split())


def test_version_is_the_package_version():
    result = subprocess.run([sys.executable, "-m", "casebank", "--version"], env=_env(),
                            capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"casebank {casebank.__version__}"
