"""Exit codes and the one error type for problems the user can fix.

Every command uses the same table (documented in README.md):

====  =====================================================================
code  meaning
====  =====================================================================
0     pass / SHIP
1     failures / BLOCK
2     usage or validation error (the user's input)
3     HOLD (a person must decide)
4     infrastructure error (target or GitHub unreachable, run incomplete)
====  =====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURES = 1
    USAGE = 2
    HOLD = 3
    INFRA = 4


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input, located as precisely as we can.

    ``path`` is the file (repo-relative where possible), ``line``/``column`` are 1-based,
    ``field`` is the dotted field path inside the document (``expect[2].contains``).
    """

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    field: str | None = None
    hint: str | None = None

    def location(self) -> str:
        loc = self.path
        if self.line is not None:
            loc += f":{self.line}"
            if self.column is not None:
                loc += f":{self.column}"
        return loc

    def render(self) -> str:
        text = f"{self.location()}: "
        if self.field:
            text += f"{self.field}: "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class UserError(Exception):
    """A problem the user can fix. The CLI prints it (one line per problem) and exits 2.

    Raise it at the edges (CLI arguments, config files); inside the pipeline, problems
    are values (``Problem``) collected and returned.
    """

    def __init__(self, message: str, problems: list[Problem] | None = None,
                 exit_code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        self.exit_code = exit_code


class InfrastructureError(UserError):
    """The target, GitHub or git could not be reached or the run could not complete (exit 4)."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message, problems, ExitCode.INFRA)
