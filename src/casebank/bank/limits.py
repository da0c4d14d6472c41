"""Limits that keep untrusted case files cheap to read (``limits:`` in casebank.yaml)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_FILE_BYTES = 1 << 20  # 1 MiB
DEFAULT_MAX_ALIAS_NODES = 10_000
MAX_DEPTH = 64  # nesting levels; real case files use fewer than 15
# Checks in one case, nested ones included; real cases have fewer than 20. Validating a
# check can cost tens of milliseconds (compiling an RE2 pattern such as \p{L}{1000}), so a
# 1 MiB file of them would take most of an hour.
MAX_CHECKS = 200


@dataclass(frozen=True)
class Limits:
    """``max_file_bytes`` caps every case file and every file it references;
    ``max_alias_nodes`` caps how many nodes YAML aliases (``*name``) may add when expanded."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_alias_nodes: int = DEFAULT_MAX_ALIAS_NODES
