"""Command-line entry point: parses arguments and dispatches to one module per command.

Each module in ``casebank.commands`` exposes ``NAME``, ``HELP``, ``add_arguments(parser)``
and ``run(args) -> int`` (an exit code from ``casebank.errors.ExitCode``). Adding a
command is one module plus one line in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from casebank import __version__
from casebank.errors import ExitCode, UserError

COMMANDS: list[str] = [
    "validate",
    "new",
    "run",
    "gate",
    "diff",
    "review",
    "merge",
    "action",
]


def _load(name: str):
    return importlib.import_module(f"casebank.commands.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="casebank",
        description="A git-native regression bank and release gate for AI models and agents.",
        epilog="Exit codes: 0 pass/SHIP, 1 failures/BLOCK, 2 usage or validation error, "
        "3 HOLD (a person must decide), 4 infrastructure error.",
    )
    parser.add_argument("--version", action="version", version=f"casebank {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = _load(name)
        cmd = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def _stdout_to_devnull() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout has no file descriptor (e.g. replaced in tests)
        pass
    finally:
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)  # argparse exits 2 on usage errors, as our table says
    except SystemExit:  # --help, --version, usage errors: their output may meet a closed pipe
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _stdout_to_devnull()
        raise
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    code: int | None = None
    try:
        code = int(args._run(args))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        # stdout was closed by the reader (`casebank run | head -1`): not a bug and nothing
        # to say. Later writes and the exit-time flush go to devnull. The exit code is the
        # command's own when it finished and only the last flush failed; 1 when the pipe
        # broke mid-command, whose result is then unknown (the convention of the Python
        # docs on SIGPIPE). Commands write their files before printing, so none is lost.
        _stdout_to_devnull()
        return code if code is not None else 1
    except UserError as err:
        print(f"casebank: {err.message}", file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem.render()}", file=sys.stderr)
        return int(err.exit_code)
    except KeyboardInterrupt:
        print("casebank: interrupted", file=sys.stderr)
        return int(ExitCode.INFRA)
    except Exception:  # a bug in casebank, not the user's fault: say so, keep the trace in a log
        log = os.path.join(os.environ.get("CASEBANK_LOG_DIR", ".casebank"), "crash.log")
        try:
            os.makedirs(os.path.dirname(log), exist_ok=True)
            with open(log, "a", encoding="utf-8") as fh:
                traceback.print_exc(file=fh)
            where = f"; details in {log}"
        except OSError:
            where = ""
            traceback.print_exc()
        print(f"casebank: internal error (a bug in casebank, please report it){where}",
              file=sys.stderr)
        return int(ExitCode.INFRA)
