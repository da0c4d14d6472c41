"""casebank validate: check casebank.yaml and the case files, print every problem."""

from __future__ import annotations

import argparse
import json
import sys

from casebank.bank.config import CONFIG_NAME, Config, load_config
from casebank.bank.load import Bank, load_bank
from casebank.commands.config_option import add_config_argument, config_path
from casebank.errors import ExitCode, Problem, UserError

NAME = "validate"
HELP = ("Check casebank.yaml and the case files (schema, references, duplicate ids) and print "
        "every problem. Exit 0 when clean, 2 when not.")
FORMATS = ("text", "json", "github")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="case files or folders to check (default: the whole bank)")
    add_config_argument(parser, paths=True)
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (default), json, or github (workflow commands that "
                        "annotate the case files in a pull request)")


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    try:
        config: Config = load_config(config_path(args.config, args.paths))
    except UserError as err:
        if err.exit_code != ExitCode.USAGE:
            raise
        problems = err.problems or [Problem(args.config or CONFIG_NAME, err.message)]
        emit(problems, None, args.format, out)
        return int(ExitCode.USAGE)
    bank = load_bank(config, args.paths or None)
    if args.paths and not bank.files and not bank.problems:
        bank.problems.append(Problem(" ".join(args.paths), "no case files (*.yaml, *.yml) here"))
    emit(bank.problems, bank, args.format, out)
    return int(ExitCode.USAGE if bank.problems else ExitCode.OK)


def emit(problems: list[Problem], bank: Bank | None, fmt: str, out: object) -> None:
    """Print the problems, then the bank's warnings, in ``fmt`` (text | json | github), then
    a one-line summary. Warnings never change the exit code."""
    write = out.write  # type: ignore[attr-defined]
    warnings = bank.warnings if bank else []
    summary = _summary(problems, warnings, bank)
    if fmt == "json":
        write(json.dumps({
            "ok": not problems,
            "cases": len(bank.cases) if bank else 0,
            "files": bank.files if bank else [],
            "problems": [_as_json(p) for p in problems],
            "warnings": [_as_json(w) for w in warnings],
        }, indent=2) + "\n")
        return
    for problem in problems:
        write((github_annotation(problem) if fmt == "github" else problem.render()) + "\n")
    for warning in warnings:
        write((github_annotation(warning, "warning") if fmt == "github"
               else render_warning(warning)) + "\n")
    if fmt == "github":
        print(summary, file=sys.stderr)
    else:
        write(summary + "\n")


def render_warning(warning: Problem) -> str:
    """``file:line:col: warning: field: message (hint)``, the way compilers print them."""
    location = warning.location()
    return f"{location}: warning: {warning.render()[len(location) + 2:]}"


def _summary(problems: list[Problem], warnings: list[Problem], bank: Bank | None) -> str:
    if bank is None:
        return f"casebank: {len(problems)} problem{'s' if len(problems) != 1 else ''} " \
               f"in {CONFIG_NAME}; the cases were not checked"
    cases = f"{len(bank.cases)} case{'s' if len(bank.cases) != 1 else ''}"
    warned = f", {_count(len(warnings), 'warning')}" if warnings else ""
    if not problems:
        return f"casebank: {cases} valid, no problems{warned}"
    files = len({p.path for p in problems})
    return (f"casebank: {_count(len(problems), 'problem')} in {_count(files, 'file')} "
            f"({len(bank.files)} checked, {cases} valid){warned}")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _as_json(problem: Problem) -> dict[str, object]:
    return {"path": problem.path, "line": problem.line, "column": problem.column,
            "field": problem.field, "message": problem.message, "hint": problem.hint}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(problem: Problem, level: str = "error") -> str:
    """``::error file=…,line=…,col=…::message`` (or ``::warning``): GitHub shows it on that
    line of the PR."""
    props = [f"file={_escape_property(problem.path)}"]
    if problem.line is not None:
        props.append(f"line={problem.line}")
        if problem.column is not None:
            props.append(f"col={problem.column}")
    props.append(f"title={_escape_property('casebank: ' + (problem.field or 'invalid file'))}")
    message = problem.message + (f" ({problem.hint})" if problem.hint else "")
    return f"::{level} {','.join(props)}::{_escape_data(message)}"
