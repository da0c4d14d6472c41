"""Every user-facing flag is documented: each long option of each ``casebank`` command appears
in the docs pages the README's command table links for that command (or in its README row),
so a flag added without docs fails CI."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from casebank.cli import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def subcommand_parsers() -> dict[str, argparse.ArgumentParser]:
    [sub] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def long_options(parser: argparse.ArgumentParser) -> list[str]:
    return [option for action in parser._actions for option in action.option_strings
            if option.startswith("--") and option != "--help"]


def command_rows() -> dict[str, str]:
    """The README's command table: command name → its row."""
    rows: dict[str, str] = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        found = re.match(r"\| `casebank ([a-z-]+)", line)
        if found:
            rows[found.group(1)] = line
    return rows


def documented_in(command: str) -> tuple[list[Path], str]:
    """The docs pages the README row of ``command`` links, and their text with the row's."""
    row = command_rows()[command]
    pages = [ROOT / link for link in re.findall(r"\]\((docs/[\w.-]+\.md)\)", row)]
    return pages, row + "\n".join(page.read_text(encoding="utf-8") for page in pages)


def test_every_command_has_a_row_linking_its_docs() -> None:
    rows = command_rows()
    assert sorted(rows) == sorted(COMMANDS), "README.md's command table and casebank.cli differ"
    for command in COMMANDS:
        pages, _ = documented_in(command)
        assert pages, f"README.md: the row of `casebank {command}` links no docs/*.md page"
        for page in pages:
            assert page.is_file(), f"README.md links {page.relative_to(ROOT)}, which is missing"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_long_option_is_documented(command: str) -> None:
    parser = subcommand_parsers()[command]
    pages, text = documented_in(command)
    options = long_options(parser)
    assert options, f"casebank {command}: no long options read from its parser"
    missing = [option for option in options
               if not re.search(re.escape(option) + r"(?![\w-])", text)]
    where = ", ".join(str(page.relative_to(ROOT)) for page in pages)
    assert missing == [], (f"casebank {command}: {', '.join(missing)} not documented in "
                           f"{where} or its README row; document each with an example")
