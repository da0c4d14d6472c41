"""The job step summary (``GITHUB_STEP_SUMMARY``) and step outputs (``GITHUB_OUTPUT``).

Both are files the runner reads after the step. Outputs use the heredoc form
(``name<<DELIMITER``) with a random delimiter, so a value with newlines (or one trying to
smuggle in another output) stays one value.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path

from casebank.report.markdown import STEP_SUMMARY_LIMIT


def write_step_summary(path: str | None, markdown: str) -> bool:
    """Append ``markdown`` to the step summary file; False when there is none to write."""
    if not path:
        return False
    data = markdown.encode("utf-8")
    if len(data) > STEP_SUMMARY_LIMIT:  # markdown.step_summary keeps it smaller already
        data = data[:STEP_SUMMARY_LIMIT].decode("utf-8", "ignore").encode("utf-8")
    with open(path, "ab") as fh:
        fh.write(data)
    return True


def write_outputs(path: str | None, outputs: Mapping[str, object]) -> bool:
    """Append step outputs in the multiline-safe form; False when there is no output file."""
    if not path:
        return False
    lines = []
    for name, value in outputs.items():
        text = "" if value is None else str(value)
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        while delimiter in text:
            delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        lines.append(f"{name}<<{delimiter}\n{text}\n{delimiter}\n")
    with Path(path).open("a", encoding="utf-8") as fh:
        fh.write("".join(lines))
    return True
