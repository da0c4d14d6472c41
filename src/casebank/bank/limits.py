"""Limits that keep untrusted case files cheap to read (``limits:`` in casebank.yaml)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_FILE_BYTES = 1 << 20  # 1 MiB
DEFAULT_MAX_ALIAS_NODES = 10_000
MAX_DEPTH = 64  # nesting levels; real case files use fewer than 15


@dataclass(frozen=True)
class Limits:
    """``max_file_bytes`` caps every case file and every file it references;
    ``max_alias_nodes`` caps how many nodes YAML aliases (``*name``) may add when expanded."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_alias_nodes: int = DEFAULT_MAX_ALIAS_NODES
