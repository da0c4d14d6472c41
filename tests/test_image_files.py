"""Static checks on the action image's files, for machines without podman.

`.ci/image-test.sh` builds and runs the image; these tests catch the mistakes that would only
show up there (or on GitHub): a Dockerfile GitHub cannot run as a container action, a lock
file that leaves a dependency unpinned or contradicts pyproject.toml.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
LOCK = ROOT / "requirements" / "action.txt"
LOCK_SCRIPT = ROOT / "scripts" / "lock_action_requirements.sh"


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued RUN
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        instructions.append((keyword.upper(), " ".join(args.split())))
    assert not pending, "the Dockerfile ends inside a line continuation"
    return instructions


def locked_pins(text: str) -> dict[str, Version]:
    """Package name (canonical) → pinned version from a pip requirements file."""
    pins: dict[str, Version] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        assert match, f"requirements/action.txt:{number}: '{line}' is not an exact name==version pin"
        pins[canonicalize_name(match.group(1))] = Version(match.group(2))
    return pins


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(text) for text in project["dependencies"]]


# --- Dockerfile --------------------------------------------------------------------------------


def test_dockerfile_starts_from_an_overridable_base_image():
    instructions = dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8"))
    assert instructions[:2] == [("ARG", "BASE_IMAGE=python:3.12-slim"), ("FROM", "${BASE_IMAGE}")], (
        "the Dockerfile must open with ARG BASE_IMAGE=python:3.12-slim then FROM ${BASE_IMAGE}, "
        f"so CI can build it on a local base; it opens with {instructions[:2]}"
    )
    assert [k for k, _ in instructions].count("FROM") == 1, "one stage only"


def test_dockerfile_leaves_user_and_workdir_to_github():
    keywords = [keyword for keyword, _ in dockerfile_instructions(DOCKERFILE.read_text())]
    assert "USER" not in keywords, "GitHub runs container actions as root: no USER"
    assert "WORKDIR" not in keywords, "GitHub sets the working directory to /github/workspace: no WORKDIR"


def test_dockerfile_entrypoint_is_casebank_action():
    entrypoints = [args for keyword, args in dockerfile_instructions(DOCKERFILE.read_text())
                   if keyword == "ENTRYPOINT"]
    assert len(entrypoints) == 1, f"one ENTRYPOINT, found {len(entrypoints)}"
    assert json.loads(entrypoints[0]) == ["casebank", "action"], (
        f"ENTRYPOINT must be exec form [\"casebank\", \"action\"], is {entrypoints[0]}"
    )


def test_dockerfile_installs_the_lock_then_the_package_without_dependencies():
    runs = [args for keyword, args in dockerfile_instructions(DOCKERFILE.read_text()) if keyword == "RUN"]
    lock_at = next((i for i, run in enumerate(runs) if "-r /tmp/casebank/requirements/action.txt" in run), None)
    package_at = next((i for i, run in enumerate(runs) if "pip install --no-cache-dir --no-deps /tmp/casebank" in run), None)
    assert lock_at is not None, "the Dockerfile must pip install -r requirements/action.txt"
    assert package_at is not None, "the Dockerfile must install casebank itself with --no-deps"
    assert lock_at < package_at, "the pinned dependencies go in before the package"
    assert "pip check" in runs[package_at], "pip check must fail the build when the lock and the package disagree"


def test_dockerfile_trusts_the_workspace_for_any_home():
    runs = " ".join(args for keyword, args in dockerfile_instructions(DOCKERFILE.read_text()) if keyword == "RUN")
    assert "git config --system --add safe.directory '*'" in runs, (
        "the checkout is owned by the runner's uid, not root: git needs a system-wide safe.directory"
    )
    assert "command -v git" in runs, "git is installed only where the base image lacks it"


def test_dockerfile_copies_what_symlinks_in_src_point_at():
    # src/casebank/schemas links to bank-schema/: copying src alone left the schemas out of
    # the package, and `casebank validate` crashed in the image.
    copied = {Path(args.split()[0]).parts[0]
              for keyword, args in dockerfile_instructions(DOCKERFILE.read_text()) if keyword == "COPY"}
    for link in (ROOT / "src").rglob("*"):
        if link.is_symlink():
            target = link.resolve().relative_to(ROOT)
            assert target.parts[0] in copied, (
                f"{link.relative_to(ROOT)} points at {target}, which the Dockerfile does not COPY"
            )


def test_dockerignore_keeps_venv_and_git_history_out_of_the_context():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv"} <= ignored


def test_the_dockerfile_parser_joins_continuations_and_skips_comments():
    text = "# c\nARG A=1\nFROM ${A}\nRUN one \\\n    # inside\n    && two\nENTRYPOINT [\"x\"]\n"
    assert dockerfile_instructions(text) == [
        ("ARG", "A=1"), ("FROM", "${A}"), ("RUN", "one && two"), ("ENTRYPOINT", '["x"]')]


# --- the lock ----------------------------------------------------------------------------------


def test_lock_pins_every_line_exactly():
    pins = locked_pins(LOCK.read_text(encoding="utf-8"))
    assert len(pins) >= len(runtime_requirements())


def test_lock_parser_rejects_a_range():
    with pytest.raises(AssertionError, match=r"action.txt:2: 'httpx>=0.27' is not an exact"):
        locked_pins("rich==13.0\nhttpx>=0.27\n")


def test_lock_satisfies_pyproject_ranges():
    pins = locked_pins(LOCK.read_text(encoding="utf-8"))
    for requirement in runtime_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is a runtime dependency but not in requirements/action.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements/action.txt pins {requirement.name}=={pins[name]}, outside pyproject's "
            f"'{requirement}': rerun scripts/lock_action_requirements.sh"
        )


def test_lock_includes_what_requested_extras_bring_in():
    # ruamel.yaml[oldlibyaml] means ruamel.yaml.clib; the lock strips extras, so it must list it.
    pins = locked_pins(LOCK.read_text(encoding="utf-8"))
    for requirement in runtime_requirements():
        if not requirement.extras:
            continue
        dist = importlib.metadata.distribution(requirement.name)
        for text in dist.requires or []:
            needed = Requirement(text)
            if needed.marker is None:
                continue
            for extra in requirement.extras:
                if needed.marker.evaluate({"extra": extra}):
                    assert canonicalize_name(needed.name) in pins, (
                        f"{requirement} needs {needed.name}, missing from requirements/action.txt"
                    )


def test_lock_names_the_script_that_rebuilds_it():
    assert "scripts/lock_action_requirements.sh" in LOCK.read_text(encoding="utf-8")
    assert os.access(LOCK_SCRIPT, os.X_OK), f"{LOCK_SCRIPT} must be executable"


# --- scripts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("script", [".ci/image-test.sh", "scripts/lock_action_requirements.sh"])
def test_shell_scripts_parse(script):
    result = subprocess.run(["bash", "-n", str(ROOT / script)], capture_output=True, text=True)
    assert result.returncode == 0, f"{script}: {result.stderr}"
