#!/usr/bin/env bash
# Rebuild requirements/action.txt: the exact versions of casebank's runtime dependencies
# (pyproject.toml [project] dependencies and everything they pull in) that the action image
# installs. Run from anywhere; pass pip-compile options through, e.g.
#   scripts/lock_action_requirements.sh                          # keep pins that still fit
#   scripts/lock_action_requirements.sh --upgrade                 # move every pin to the newest
#   scripts/lock_action_requirements.sh --upgrade-package aiohttp # move one
# pip-tools runs in a throwaway venv, pinned here so every rebuild resolves the same way.
set -euo pipefail

PIP_TOOLS_VERSION=7.6.2
PYTHON=${PYTHON:-python3}

root=$(cd "$(dirname "$0")/.." && pwd)
tools=$(mktemp -d "${TMPDIR:-/tmp}/casebank-lock.XXXXXX")
trap 'rm -rf "$tools"' EXIT

echo "lock: pip-tools $PIP_TOOLS_VERSION in a fresh venv ($("$PYTHON" --version))"
"$PYTHON" -m venv "$tools/venv"
"$tools/venv/bin/pip" install -q "pip-tools==$PIP_TOOLS_VERSION"

cd "$root"
echo "lock: resolving pyproject.toml dependencies into requirements/action.txt"
CUSTOM_COMPILE_COMMAND="scripts/lock_action_requirements.sh" \
  "$tools/venv/bin/pip-compile" --quiet --strip-extras --no-emit-index-url \
  --no-emit-find-links --no-emit-trusted-host --output-file requirements/action.txt \
  "$@" pyproject.toml
echo "lock: $(grep -c '==' requirements/action.txt) pins written to requirements/action.txt"
