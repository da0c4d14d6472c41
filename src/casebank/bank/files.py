"""Files a case refers to (``file:``, ``schema_file:``): paths relative to the project root
(the folder holding casebank.yaml) that must stay inside it."""

from __future__ import annotations

import errno
import json
import posixpath
import re
from collections.abc import Callable
from pathlib import Path

from casebank.bank.limits import Limits

# Reads a project-relative POSIX path; None when the file does not exist. May raise
# UnsafeReference when the path exists but must not be read (e.g. a symlink leading out).
ReadFile = Callable[[str], bytes | None]

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UnsafeReference(Exception):
    """A referenced path that must not be read, with what to do about it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def normalize_reference(ref: str) -> str:
    """``ref`` as a clean project-relative POSIX path; raises UnsafeReference when it is
    absolute or leaves the project."""
    hint = "write it relative to the folder holding casebank.yaml, e.g. prompts/agent.md"
    if _CONTROL.search(ref):  # a NUL made the path functions raise, a newline splits lines
        raise UnsafeReference(f"`{json.dumps(ref, ensure_ascii=False)[1:-1]}` contains a "
                              "control character", "name the file in printable characters")
    if "\\" in ref:
        raise UnsafeReference(f"`{ref}` uses backslashes", "separate folders with /")
    if ref.startswith(("/", "~")) or _DRIVE.match(ref):
        raise UnsafeReference(f"`{ref}` is an absolute path", hint)
    clean = posixpath.normpath(ref)
    if clean == ".." or clean.startswith("../"):
        raise UnsafeReference(f"`{ref}` leads outside the project", hint)
    if clean in (".", ""):
        raise UnsafeReference(f"`{ref}` is not a file", hint)
    return clean


LINK_HINT = "point the link at a file, or commit the file itself"


def is_symlink_loop(err: BaseException) -> bool:
    """Whether ``Path.resolve`` failed on a symlink loop (RuntimeError up to Python 3.12)."""
    return isinstance(err, RuntimeError) or getattr(err, "errno", None) == errno.ELOOP


def resolve(path: Path) -> Path | None:
    """``path`` with every symlink followed, or None when they loop."""
    try:
        return path.resolve()
    except (OSError, RuntimeError) as err:
        if is_symlink_loop(err):
            return None
        raise


def project_reader(root: Path, limits: Limits) -> ReadFile:
    """A cached ``read_file`` for files in the work tree under ``root``; symlinks may be
    followed only while they stay inside it."""
    base = root.resolve()
    cache: dict[str, bytes | None] = {}

    def read_file(ref: str) -> bytes | None:
        if ref in cache:
            return cache[ref]
        path = base / normalize_reference(ref)
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError) as err:
            if is_symlink_loop(err):
                raise UnsafeReference(f"`{ref}` is a symlink loop", LINK_HINT) from None
            cache[ref] = None  # missing, or a broken link
            return None
        if not real.is_relative_to(base):
            raise UnsafeReference(f"`{ref}` is a symlink leading outside the project",
                                  "commit the file itself inside the project")
        if not real.is_file():
            raise UnsafeReference(f"`{ref}` is not a file")
        size = real.stat().st_size
        if size > limits.max_file_bytes:
            raise UnsafeReference(f"`{ref}` is {size:,} bytes, over the limit of "
                                  f"{limits.max_file_bytes:,} bytes",
                                  "raise limits.max_file_bytes in casebank.yaml")
        data = real.read_bytes()
        cache[ref] = data
        return data

    return read_file
