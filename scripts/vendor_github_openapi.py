#!/usr/bin/env python3
"""Regenerate tests/fakes/github_openapi/ from GitHub's official OpenAPI description.

The fake GitHub server (tests/fakes/github_api.py) validates every request against the
operations casebank calls. Those operations come from the npm package ``@octokit/openapi``
(file ``generated/api.github.com.json``, GitHub's own rest-api-description plus Octokit
metadata). The full file is 13 MB, so we vendor a trimmed extract: only the operations in
OPERATIONS, the components they reference (transitively), without examples.

Usage:
    scripts/vendor_github_openapi.py                       # the version recorded in VERSION
    scripts/vendor_github_openapi.py --version latest      # upgrade
    scripts/vendor_github_openapi.py --spec node_modules/@octokit/openapi/generated/api.github.com.json

Without ``--spec`` the package is installed into a temporary directory with
``npm install --prefix TMP @octokit/openapi@VERSION``. Never run at test time.
To support a new call in the fake, add it to OPERATIONS, rerun, and commit the result.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@octokit/openapi"
SOURCE_FILE = "generated/api.github.com.json"
OUT_DIR = Path(__file__).resolve().parent.parent / "tests" / "fakes" / "github_openapi"

# (method, path) of every operation the fake serves. Keep in sync with ROUTES in github_api.py.
OPERATIONS: list[tuple[str, str]] = [
    ("get", "/repos/{owner}/{repo}"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("post", "/repos/{owner}/{repo}/check-runs"),
    ("get", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
    ("patch", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
    ("get", "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations"),
    ("get", "/repos/{owner}/{repo}/commits/{ref}"),
    ("get", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("get", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("patch", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("delete", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
]

# Operation-level keys worth keeping; the rest (tags, x-github, long descriptions) is noise here.
OPERATION_KEYS = ("operationId", "summary", "externalDocs", "parameters", "requestBody", "responses")


def strip_examples(node: Any) -> Any:
    """Drop ``example``/``examples`` (documentation only) everywhere except inside ``properties``."""
    if isinstance(node, list):
        return [strip_examples(item) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            result[key] = {name: strip_examples(sub) for name, sub in value.items()}
        elif key in ("example", "examples"):
            continue
        else:
            result[key] = strip_examples(value)
    return result


def collect_refs(node: Any, found: set[str]) -> None:
    """Add every ``$ref`` string under node to found."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            collect_refs(value, found)
    elif isinstance(node, list):
        for item in node:
            collect_refs(item, found)


def resolve_pointer(document: dict[str, Any], ref: str) -> Any:
    """Follow a local JSON pointer such as ``#/components/schemas/check-run``."""
    if not ref.startswith("#/"):
        raise SystemExit(f"unsupported non-local $ref {ref!r}")
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    """Build the trimmed OpenAPI document holding OPERATIONS and what they reference."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path in OPERATIONS:
        try:
            operation = spec["paths"][path][method]
        except KeyError:
            raise SystemExit(f"{method.upper()} {path} is not in the spec any more") from None
        kept = {key: operation[key] for key in OPERATION_KEYS if key in operation}
        paths.setdefault(path, {})[method] = strip_examples(kept)

    components: dict[str, dict[str, Any]] = {}
    pending: set[str] = set()
    collect_refs(paths, pending)
    done: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in done:
            continue
        done.add(ref)
        parts = ref[2:].split("/")
        if parts[0] != "components" or len(parts) != 3:
            raise SystemExit(f"unexpected $ref {ref!r}")
        target = strip_examples(resolve_pointer(spec, ref))
        components.setdefault(parts[1], {})[parts[2]] = target
        collect_refs(target, pending)

    return {
        "openapi": spec["openapi"],
        "info": {
            "title": spec["info"]["title"],
            "version": spec["info"]["version"],
            "description": "Trimmed extract for casebank's fake GitHub server; "
            "regenerate with scripts/vendor_github_openapi.py, do not edit by hand.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {kind: dict(sorted(items.items())) for kind, items in sorted(components.items())},
    }


def install_package(version: str, prefix: Path) -> Path:
    """npm-install the package into prefix and return the path of the spec file."""
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix), f"{PACKAGE}@{version}"],
        check=True,
    )
    return prefix / "node_modules" / PACKAGE / SOURCE_FILE


def recorded_version() -> str:
    """The package version written in the current VERSION file, or ``latest``."""
    version_file = OUT_DIR / "VERSION"
    if version_file.exists():
        for line in version_file.read_text().splitlines():
            if line.startswith("version:"):
                return line.split(":", 1)[1].strip()
    return "latest"


def package_version(spec_path: Path) -> str:
    """Read the version from the package.json next to generated/."""
    package_json = spec_path.parent.parent / "package.json"
    return str(json.loads(package_json.read_text())["version"])


def write_extract(spec_path: Path) -> None:
    """Write operations.json and VERSION from the spec file at spec_path."""
    raw = spec_path.read_bytes()
    document = extract(json.loads(raw))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "operations.json").write_text(json.dumps(document, indent=1, sort_keys=False) + "\n")
    (OUT_DIR / "VERSION").write_text(
        f"package: {PACKAGE}\n"
        f"version: {package_version(spec_path)}\n"
        f"source: {SOURCE_FILE}\n"
        f"source_sha256: {hashlib.sha256(raw).hexdigest()}\n"
        f"operations: {len(OPERATIONS)}\n"
        "generator: scripts/vendor_github_openapi.py\n"
    )
    print(f"wrote {OUT_DIR}/operations.json ({len(OPERATIONS)} operations)")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", type=Path, help=f"an existing {SOURCE_FILE} inside node_modules/{PACKAGE}")
    parser.add_argument("--version", help="package version to install (default: the one in VERSION)")
    args = parser.parse_args(argv)
    if args.spec:
        write_extract(args.spec)
        return 0
    with tempfile.TemporaryDirectory(prefix="casebank-openapi-") as tmp:
        write_extract(install_package(args.version or recorded_version(), Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
