"""Showing a run as it goes: a rich progress bar on a terminal, plain lines in CI.

Plain lines (``CI=true`` or no terminal) go to stderr, one per finished case, so a log can
be grepped: ``casebank: [  3/14] FAIL   critical refund-wrong-account (0/3 samples passed)``.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from typing import IO, Protocol

from casebank.run.result import NOT_RUN, CaseResult


class Progress(Protocol):
    def start(self, total: int, target: str) -> None: ...
    def case_done(self, result: CaseResult) -> None: ...
    def finish(self) -> None: ...


def use_bar(stream: IO[str]) -> bool:
    """The bar on an interactive terminal, unless CI=true."""
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def samples_line(result: CaseResult) -> str:
    if result.not_run_reason is not None:
        return result.not_run_reason
    outcomes = result.sample_outcomes
    text = f"{outcomes.count('pass')}/{result.samples_required} samples passed"
    if result.min_pass != result.samples_required:
        text += f", needs {result.min_pass}"
    if result.flaky:
        text += ", flaky"
    return text


class PlainProgress:
    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = 0
        self.done = 0

    def start(self, total: int, target: str) -> None:
        self.total = total
        print(f"casebank: running {total} case{'s' if total != 1 else ''} against {target}",
              file=self.stream, flush=True)

    def case_done(self, result: CaseResult) -> None:
        self.done += 1
        width = len(str(self.total))
        outcome = result.outcome.upper() if result.outcome != NOT_RUN else "NOT-RUN"
        print(f"casebank: [{self.done:>{width}}/{self.total}] {outcome:<9} {result.severity:<8} "
              f"{result.case_id} ({samples_line(result)})", file=self.stream, flush=True)

    def finish(self) -> None:
        pass


class BarProgress:
    def __init__(self, stream: IO[str] | None = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = Console(file=stream or sys.stderr)
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=self.console, transient=True)
        self.counts: Counter[str] = Counter()
        self.task = None

    def _description(self) -> str:
        c = self.counts
        return (f"[green]{c['pass']} pass[/] [red]{c['fail']} fail[/] "
                f"[yellow]{c['error'] + c[NOT_RUN]} error[/] [magenta]{c['uncertain']} uncertain[/]")

    def start(self, total: int, target: str) -> None:
        self.console.print(f"casebank: running {total} cases against {target}")
        self.bar.start()
        self.task = self.bar.add_task(self._description(), total=total)

    def case_done(self, result: CaseResult) -> None:
        self.counts[result.outcome] += 1
        if self.task is not None:
            self.bar.update(self.task, advance=1, description=self._description())

    def finish(self) -> None:
        self.bar.stop()


def make_progress(progress: bool | None) -> Progress:
    """``None``: decide from the environment; ``True``: bar; ``False``: plain lines."""
    if progress is None:
        progress = use_bar(sys.stderr)
    return BarProgress() if progress else PlainProgress()
