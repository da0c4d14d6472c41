"""Workflow commands on stdout (``::error file=…,line=…::message``): the verdict's reach when
the token cannot write check runs (a pull request from a fork).

The runner turns at most 10 errors (and 10 warnings, 10 notices) per step into annotations,
so the first few findings are emitted one by one and the rest are summarised in one line
pointing at the step summary. Values are escaped as the runner expects, so a message can
never end the command early or start a new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from casebank.report import sanitize
from casebank.report.annotations import FAILURE, NOTICE, WARNING, Annotation

PER_STEP_LIMIT = 10  # the runner shows at most this many of each level per step
COMMAND = {FAILURE: "error", WARNING: "warning", NOTICE: "notice"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, *, file: str | None = None, line: int | None = None,
            title: str | None = None) -> str:
    """One workflow command line (no trailing newline)."""
    props = []
    if file:
        props.append(f"file={escape_property(file)}")
    if line:
        props.append(f"line={line}")
    if title:
        props.append(f"title={escape_property(sanitize.plain(title, 200))}")
    head = f"::{COMMAND.get(level, level)}"
    if props:
        head += " " + ",".join(props)
    return f"{head}::{escape_data(sanitize.plain(message, 2000))}"


def emit_annotations(annotations: Sequence[Annotation], out: TextIO,
                     limit: int = PER_STEP_LIMIT) -> int:
    """Print annotations as workflow commands, at most ``limit`` per level; the rest are
    counted in one last command of that level. Returns how many were printed one by one."""
    printed = 0
    for level in (FAILURE, WARNING, NOTICE):
        items = [a for a in annotations if a.level == level]
        if not items:
            continue
        shown = items if len(items) <= limit else items[:limit - 1]
        for item in shown:
            out.write(command(level, item.message, file=item.path, line=item.line,
                              title=item.title) + "\n")
        printed += len(shown)
        if len(shown) < len(items):
            rest = len(items) - len(shown)
            out.write(command(level, f"{rest} more findings of this level: see the job summary "
                              "and the evidence file", title=f"casebank: {rest} more") + "\n")
    out.flush()
    return printed
