"""casebank's runtime needs only what pyproject.toml's dependencies name; the clients it was
benchmarked against (httpx, httpx-aiohttp) are the `bench` extra, not in the action image."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_ONLY = ("httpx", "httpx-aiohttp")


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_httpx_is_the_bench_extra_not_a_runtime_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    assert not _names(project["dependencies"]) & set(BENCH_ONLY)
    assert set(BENCH_ONLY) <= _names(project["optional-dependencies"]["bench"])


def test_the_action_image_does_not_pin_httpx():
    lock = (ROOT / "requirements" / "action.txt").read_text()

    for name in (*BENCH_ONLY, "httpcore", "anyio"):
        assert not re.search(rf"^{name}==", lock, re.MULTILINE), f"{name} is pinned into the image"


def test_casebank_itself_never_imports_httpx():
    importing = [str(p.relative_to(ROOT)) for p in (ROOT / "src" / "casebank").rglob("*.py")
                 if re.search(r"^\s*(import|from)\s+httpx", p.read_text(), re.MULTILINE)]

    assert importing == []


def test_the_transport_bench_says_which_extra_it_needs():
    # httpx made unimportable, as on an install without the bench extra
    code = ("import runpy, sys; sys.modules['httpx'] = None; "
            "sys.argv = ['bench/run.py', '--transports']; "
            "runpy.run_path('bench/run.py', run_name='__main__')")

    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})

    assert result.returncode == 1
    assert ("--transports compares httpx and httpx-aiohttp with aiohttp, but httpx is not "
            "installed: pip install -e '.[bench]'") in result.stderr
    assert "Traceback" not in result.stderr
