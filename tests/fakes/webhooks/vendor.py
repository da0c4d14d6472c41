#!/usr/bin/env python3
"""Regenerate the event payloads in this folder from the npm package ``@octokit/webhooks-examples``.

The package holds example webhook payloads recorded from GitHub (file ``api.github.com/index.json``).
We keep one example per event the action handles, drop ``installation`` (GitHub Actions does not
put it in ``GITHUB_EVENT_PATH``) and derive a fork pull request from ``pull_request.opened``,
because the package has none. Provenance goes to ``SOURCE``.

Usage:
    python tests/fakes/webhooks/vendor.py                      # the version recorded in SOURCE
    python tests/fakes/webhooks/vendor.py --version latest
    python tests/fakes/webhooks/vendor.py --index node_modules/@octokit/webhooks-examples/api.github.com/index.json

Never run at test time.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@octokit/webhooks-examples"
SOURCE_FILE = "api.github.com/index.json"
HERE = Path(__file__).resolve().parent
FORK_OWNER = "contributor"

# output file → (event name, action or None for events without actions, ref prefix or None)
SELECTION: dict[str, tuple[str, str | None, str | None]] = {
    "pull_request.opened.json": ("pull_request", "opened", None),
    "pull_request.synchronize.json": ("pull_request", "synchronize", None),
    "merge_group.checks_requested.json": ("merge_group", "checks_requested", None),
    "push.json": ("push", None, "refs/heads/"),
    "workflow_dispatch.json": ("workflow_dispatch", None, None),
}


def pick(examples: dict[str, list[dict[str, Any]]], event: str, action: str | None,
         ref_prefix: str | None) -> tuple[int, dict[str, Any]]:
    """The first example of an event (with that action / a ref under ref_prefix) and its index."""
    for index, example in enumerate(examples[event]):
        if action is not None and example.get("action") != action:
            continue
        if ref_prefix is not None and not str(example.get("ref", "")).startswith(ref_prefix):
            continue
        return index, example
    raise SystemExit(f"no {event} example with action={action} ref={ref_prefix}")


def trim(example: dict[str, Any]) -> dict[str, Any]:
    """What GitHub Actions would write to GITHUB_EVENT_PATH: no ``installation``."""
    return {key: value for key, value in example.items() if key != "installation"}


def fork_of(opened: dict[str, Any]) -> dict[str, Any]:
    """A pull_request.opened payload whose head branch lives in a fork owned by FORK_OWNER."""
    payload = copy.deepcopy(opened)
    head = payload["pull_request"]["head"]
    original_owner = head["repo"]["owner"]["login"]
    original_full = head["repo"]["full_name"]
    fork_full = f"{FORK_OWNER}/{head['repo']['name']}"
    text = json.dumps(head).replace(original_full, fork_full).replace(
        f'/users/{original_owner}', f"/users/{FORK_OWNER}").replace(f'"login": "{original_owner}"', f'"login": "{FORK_OWNER}"')
    head = json.loads(text)
    head["label"] = f"{FORK_OWNER}:{head['ref']}"
    head["repo"]["fork"] = True
    head["repo"]["id"] = head["repo"]["id"] + 1
    head["repo"]["node_id"] = head["repo"]["node_id"] + "Fork"
    head["user"]["html_url"] = head["user"]["html_url"].replace(original_owner, FORK_OWNER)
    head["repo"]["owner"]["html_url"] = head["repo"]["owner"]["html_url"].replace(original_owner, FORK_OWNER)
    payload["pull_request"]["head"] = head
    payload["pull_request"]["user"] = copy.deepcopy(head["user"])
    payload["pull_request"]["author_association"] = "FIRST_TIME_CONTRIBUTOR"
    payload["sender"] = copy.deepcopy(head["user"])
    return payload


def write(index_path: Path) -> None:
    """Write the payloads and SOURCE from the package's index.json."""
    raw = index_path.read_bytes()
    examples = {entry["name"]: entry["examples"] for entry in json.loads(raw)}
    version = json.loads((index_path.parent.parent / "package.json").read_text())["version"]
    lines = [
        f"package: {PACKAGE}",
        f"version: {version}",
        f"source: {SOURCE_FILE}",
        f"source_sha256: {hashlib.sha256(raw).hexdigest()}",
        "generator: tests/fakes/webhooks/vendor.py",
        "changes: 'installation' removed (Actions event payloads do not carry it)",
    ]
    for name, (event, action, ref_prefix) in SELECTION.items():
        index, example = pick(examples, event, action, ref_prefix)
        (HERE / name).write_text(json.dumps(trim(example), indent=2) + "\n")
        lines.append(f"{name}: {event} example #{index}")
        if name == "pull_request.opened.json":
            (HERE / "pull_request.opened.fork.json").write_text(json.dumps(fork_of(trim(example)), indent=2) + "\n")
            lines.append(f"pull_request.opened.fork.json: derived from {event} example #{index}: head moved to a "
                         f"fork owned by {FORK_OWNER!r} (the package has no fork pull request)")
    (HERE / "SOURCE").write_text("\n".join(lines) + "\n")
    print(f"wrote {len(SELECTION) + 1} payloads to {HERE}")


def recorded_version() -> str:
    """The version in SOURCE, or ``latest``."""
    source = HERE / "SOURCE"
    if source.exists():
        for line in source.read_text().splitlines():
            if line.startswith("version:"):
                return line.split(":", 1)[1].strip()
    return "latest"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help=f"an existing {SOURCE_FILE} inside node_modules/{PACKAGE}")
    parser.add_argument("--version", help="package version to install (default: the one in SOURCE)")
    args = parser.parse_args(argv)
    if args.index:
        write(args.index)
        return 0
    with tempfile.TemporaryDirectory(prefix="casebank-webhooks-") as tmp:
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", tmp,
                        f"{PACKAGE}@{args.version or recorded_version()}"], check=True)
        write(Path(tmp) / "node_modules" / PACKAGE / SOURCE_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
