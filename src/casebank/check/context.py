"""What a check may use besides the case and the sample: files, the judge, prices."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

# Reads a project-relative POSIX path; returns None when the file does not exist.
ReadFile = Callable[[str], bytes | None]
# Sends chat messages to the judge model and returns its raw text answer.
JudgeFn = Callable[[list[dict[str, Any]]], Awaitable[str]]


@dataclass
class CheckContext:
    """Everything outside the case and the sample that a check may need.

    ``judge`` is the judge model (None: judge checks are errors); ``judges`` optionally maps
    judge target names to callables, for checks that name their own ``target``.
    ``prices`` holds ``prompt_per_1k`` and ``completion_per_1k`` in USD for cost checks.
    """

    root: Path
    read_file: ReadFile
    judge: JudgeFn | None = None
    prices: dict[str, float] | None = None
    judge_threshold: float = 0.7
    judges: dict[str, JudgeFn] = field(default_factory=dict)
    judge_target: str | None = None  # the name of the target behind ``judge``, if known


def files_under(root: Path) -> ReadFile:
    """A ``read_file`` that reads relative paths inside ``root`` and nothing outside it."""
    base = root.resolve()

    def read_file(path: str) -> bytes | None:
        rel = PurePosixPath(path)
        if rel.is_absolute() or ".." in rel.parts:
            return None
        full = (base / rel).resolve()
        if not full.is_relative_to(base) or not full.is_file():
            return None
        return full.read_bytes()

    return read_file
