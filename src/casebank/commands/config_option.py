"""``--config``, the same for every command: the file given, else the nearest casebank.yaml
in the current folder or any folder above it (as git finds .git)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

CONFIG_NAME = "casebank.yaml"


def add_config_argument(parser: argparse.ArgumentParser, *, paths: bool = False) -> None:
    """Add ``--config FILE``; ``paths``: the command takes PATHs, searched from the first."""
    where = "the current folder or above it" + (", or above the first PATH" if paths else "")
    parser.add_argument("--config", metavar="FILE", default=None,
                        help=f"the project's {CONFIG_NAME} (default: the nearest one in {where})")


def config_path(given: str | None, paths: Sequence[str] = ()) -> Path:
    """--config, else the nearest casebank.yaml above the first path or the current folder;
    none found is a usage error (exit 2) saying where casebank looked."""
    from casebank.bank.config import find_config
    from casebank.errors import Problem, UserError

    if given:
        return Path(given)
    start = paths[0] if paths else "."
    found = find_config(start)
    if found is None:
        where = Path(start).absolute()
        raise UserError(f"no {CONFIG_NAME} in {where} or any folder above it",
                        [Problem(CONFIG_NAME, f"not found in {where} or any folder above it",
                                 hint="pass --config PATH, or create one (docs/config.md "
                                 "shows a minimal one)")])
    return found
