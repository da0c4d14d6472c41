"""An index of the bank at one commit: each case file's id and the files it names.

The changed suite asks two questions about the rest of the bank: "which cases read
prompts/agent.md?" and "does another case file use the id `refund-x`?". Answering them by
reading the bank would make a three-file pull request cost as much as the bank is large. The
index answers both by lookup, so the cost is the size of the change.

- It is keyed on the git tree ids of the bank folders, so it is built once per state of the
  bank (not per commit: commits that leave the bank alone share it) and never goes stale.
- It is built from the blobs in git by scanning the lines that can hold an id or a file name,
  not by parsing YAML (a fraction of validation's cost). A file whose file names the scan cannot
  be sure of (YAML aliases, tags, block scalars) is marked, and counts as a possible reader
  of every changed file; the changed suite parses every candidate, so the index may only ever
  add candidates, never lose one.
- It is a SQLite file in ``.casebank/index/`` (kept between runs; in CI, keep it with
  actions/cache to skip the one-time build).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from casebank import git
from casebank.bank.files import UnsafeReference, normalize_reference

FORMAT = "casebank-bank-index-1"
KEEP = 16  # index files kept per project; older ones are removed

# `file: x`, `schema_file: 'x'`, `{file: x}`, `"file": "x"`: any key ending in "file".
_FILE_KEY = re.compile(rb"""(?:^|[\s{,])["']?[A-Za-z_]*file["']?[ \t]*:(?=[ \t]|$)""",
                       re.MULTILINE)
_PLAIN_VALUE = re.compile(rb"""^(["']?)([^"'\s,}\]#]+)\1(?:[\s,}\]#]|$)""")
_ID_LINE = re.compile(rb"""^id:[ \t]*(["']?)([^"'#\s]+)\1[ \t]*(?:#.*)?$""", re.MULTILINE)
# YAML that could put a file name where a line scan does not see it.
_UNSURE = re.compile(rb"""(?:^|[\s\[{,:-])(?:[*&][A-Za-z0-9_-]|![!<A-Za-z0-9_-])"""
                     rb"""|^[ \t]*\?[ \t]|<<[ \t]*:""", re.MULTILINE)


@dataclass(frozen=True)
class Scan:
    """What the index knows of one case file."""

    id: str | None  # None: no plain top-level `id:` line
    id_line: int  # its line (1 when there is none)
    files: tuple[str, ...]  # project-relative names of files it may read
    unsure: bool  # the scan cannot rule out other file names


def scan(text: bytes) -> Scan:
    """The id and the file names a case file's text holds, by lines (no YAML parse)."""
    # The substring tests skip the regular expressions for most files (a 10x saving).
    unsure = any(mark in text for mark in (b"*", b"&", b"!", b"? ", b"?\t", b"<<")) and bool(
        _UNSURE.search(text))
    files = set()
    for match in _FILE_KEY.finditer(text) if b"file" in text else ():
        line_end = text.find(b"\n", match.end())
        value = text[match.end():line_end if line_end >= 0 else len(text)].strip()
        if value[:1] in (b"{", b"["):
            continue  # a mapping or list: the keys inside it are scanned on their own
        plain = _PLAIN_VALUE.match(value)
        if plain is None or value[:1] in (b"*", b"&", b"!"):
            unsure = True  # on the next lines (block scalar, nested value) or not plain
            continue
        try:
            files.add(normalize_reference(plain.group(2).decode("utf-8")))
        except (UnsafeReference, UnicodeDecodeError):
            continue  # parse_case reports it; it names no project file
    at = 0 if text.startswith(b"id:") else text.find(b"\nid:") + 1
    id_match = _ID_LINE.match(text, at) if at or text.startswith(b"id:") else None
    case_id = id_match.group(2).decode("utf-8", "replace") if id_match else None
    line = text.count(b"\n", 0, at) + 1 if id_match else 1
    return Scan(case_id, line, tuple(sorted(files)), unsure)


class BankIndex:
    """Lookups into the index of one state of the bank. Paths are git paths (like Case.path)."""

    def __init__(self, db: sqlite3.Connection, built: bool) -> None:
        self.db = db
        self.built = built  # True: built by this call (not found in the index folder)

    @property
    def case_files(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM cases").fetchone()[0])

    def readers(self, files: Iterable[str]) -> set[str]:
        """Case files that may read any of ``files`` (project-relative): those naming one of
        them, and those the scan was unsure of."""
        names = sorted(set(files))
        if not names:
            return set()
        marks = ",".join("?" * len(names))
        rows = self.db.execute(f"SELECT path FROM reads WHERE file IN ({marks}) "
                               "UNION SELECT path FROM cases WHERE unsure = 1", names)
        return {row[0] for row in rows}

    def users(self, ids: Iterable[str]) -> dict[str, list[tuple[str, int]]]:
        """(path, line) of the case files whose ``id:`` line gives each of ``ids``."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        found: dict[str, list[tuple[str, int]]] = {}
        for case_id, path, line in self.db.execute(
                f"SELECT id, path, line FROM cases WHERE id IN ({marks}) ORDER BY path", wanted):
            found.setdefault(case_id, []).append((path, line))
        return found

    def known(self, paths: Iterable[str]) -> set[str]:
        """Those of ``paths`` that are case files in this state of the bank."""
        wanted = sorted(set(paths))
        if not wanted:
            return set()
        marks = ",".join("?" * len(wanted))
        return {row[0] for row in self.db.execute(
            f"SELECT path FROM cases WHERE path IN ({marks})", wanted)}

    def close(self) -> None:
        self.db.close()


def open_index(top: Path, rev: str, folders: list[str], is_case_file: Callable[[str], bool],
               where: Path | None) -> BankIndex:
    """The index of the case files below ``folders`` (git paths) at ``rev``, read from
    ``where`` or built there (``where=None``: built in memory, not kept)."""
    trees = git.tree_entries(top, rev, folders)
    key = hashlib.sha256("\n".join([FORMAT, *(f"{kind} {oid} {name}" for kind, oid, name in trees)])
                         .encode()).hexdigest()[:40]
    if where is not None:
        path = where / f"bank-{key}.sqlite"
        if path.is_file():
            with contextlib.suppress(sqlite3.DatabaseError):
                db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                if db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone() == (FORMAT,):
                    return BankIndex(db, built=False)
                db.close()
    db = _build(top, rev, [name for _, _, name in trees], is_case_file)
    if where is not None:
        _keep(db, where, f"bank-{key}.sqlite")
    return BankIndex(db, built=True)


def _build(top: Path, rev: str, folders: list[str],
           is_case_file: Callable[[str], bool]) -> sqlite3.Connection:
    blobs = {name: oid for kind, oid, name in git.tree_entries(top, rev, folders, recursive=True)
             if kind == "blob" and is_case_file(name)}
    texts = git.read_blobs(top, sorted(set(blobs.values())))
    files = list(blobs)
    db = sqlite3.connect(":memory:")
    db.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE cases (path TEXT PRIMARY KEY, id TEXT, line INTEGER, unsure INTEGER);
        CREATE TABLE reads (file TEXT, path TEXT);
    """)
    db.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
    cases, reads = [], []
    for name in files:
        found = scan(texts.get(blobs[name]) or b"")
        cases.append((name, found.id, found.id_line, int(found.unsure)))
        reads += [(file, name) for file in found.files]
    db.executemany("INSERT INTO cases VALUES (?, ?, ?, ?)", cases)
    db.executemany("INSERT INTO reads VALUES (?, ?)", reads)
    db.executescript("CREATE INDEX reads_file ON reads (file); CREATE INDEX cases_id ON cases (id);")
    db.commit()
    return db


def _keep(db: sqlite3.Connection, where: Path, name: str) -> None:
    """Save the index as ``where/name`` (atomically), dropping the oldest beyond KEEP.
    An index folder that cannot be written only costs the next run a rebuild."""
    try:
        where.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".bank-", suffix=".sqlite", dir=where)
        os.close(handle)
        target = sqlite3.connect(temp)
        with target:
            db.backup(target)
        target.close()
        os.replace(temp, where / name)
        kept = sorted(where.glob("bank-*.sqlite"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except (OSError, sqlite3.Error):
        with contextlib.suppress(OSError, UnboundLocalError):
            Path(temp).unlink(missing_ok=True)
