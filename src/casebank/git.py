"""Small git questions, each answered by one function (GitPython underneath).

No git object model leaks out of this module: callers get strings, bytes and paths.
"""

from __future__ import annotations

from pathlib import Path

import git
from git.exc import BadName, GitCommandError, InvalidGitRepositoryError, NoSuchPathError


def _repo(path: str | Path) -> git.Repo:
    return git.Repo(path, search_parent_directories=True)


def root(path: str | Path = ".") -> Path | None:
    """Top of the work tree containing ``path``, or None outside a git repository."""
    try:
        return Path(_repo(path).working_tree_dir or path)
    except (InvalidGitRepositoryError, NoSuchPathError):
        return None


def head_commit(path: str | Path = ".") -> str | None:
    try:
        return _repo(path).head.commit.hexsha
    except (InvalidGitRepositoryError, NoSuchPathError, ValueError):
        return None


def is_dirty(path: str | Path = ".") -> bool:
    try:
        return _repo(path).is_dirty(untracked_files=False)
    except (InvalidGitRepositoryError, NoSuchPathError):
        return False


def has_commit(path: str | Path, rev: str) -> bool:
    return resolve_commit(path, rev) is not None


def resolve_commit(path: str | Path, rev: str) -> str | None:
    """The full id of the commit ``rev`` names; None when this repository does not have it
    (a full 40-hex id is checked too, not trusted)."""
    try:
        return _repo(path).git.rev_parse("--verify", "--quiet", f"{rev}^{{commit}}").strip() or None
    except (BadName, ValueError, GitCommandError):
        return None


def show(path: str | Path, rev: str, file: str) -> bytes | None:
    """Bytes of ``file`` (repo-relative, POSIX) at ``rev``; None when it does not exist there.

    Raises InfrastructureError (exit 4) when ``rev`` has the file but git cannot read it (a
    damaged repository, a partial clone missing the object): taking an unreadable file for
    an absent one would make, say, the base's gate policy silently "not exist yet".
    """
    try:
        # exact bytes: GitPython strips a trailing newline unless told not to
        return _repo(path).git.show(f"{rev}:{file}", stdout_as_string=False,
                                    strip_newline_in_stdout=False)
    except GitCommandError as err:
        if resolve_commit(path, rev) is None:
            return None  # no such commit: nothing exists there
        try:
            entry = _repo(path).git.ls_tree(rev, "--", file)
        except GitCommandError as tree_err:
            err = tree_err  # the commit's tree itself cannot be read
        else:
            if not entry or entry.split()[1] == "commit":  # absent, or a submodule
                return None
        from casebank.errors import InfrastructureError, Problem

        why = (err.stderr or "").strip().removeprefix("stderr:").strip(" '\n") or str(err)
        raise InfrastructureError(f"git cannot read {file} at {rev[:12]}", [Problem(
            str(path), why, hint="the repository is damaged or misses objects (a partial or "
            "interrupted clone?): check it with git fsck, or clone or fetch it again")]) from None


def ls_files(path: str | Path, rev: str, under: str = "") -> list[str]:
    """Files (repo-relative) present at ``rev``, optionally below the folder ``under``."""
    args = ["-r", "--name-only", rev]
    if under:
        args += ["--", under]
    out = _repo(path).git.ls_tree(*args)
    return [line for line in out.splitlines() if line]


def grep_files(path: str | Path, rev: str, text: str, under: list[str] | tuple[str, ...]) -> list[str]:
    """Files below the folders ``under`` at ``rev`` whose content contains ``text``."""
    if not under:
        return []
    try:
        out = _repo(path).git.grep("-l", "-F", "-e", text, rev, "--", *under)
    except GitCommandError:  # exit 1: nothing found
        return []
    prefix = f"{rev}:"
    return [line[len(prefix):] for line in out.splitlines() if line.startswith(prefix)]


def merge_base(path: str | Path, a: str, b: str) -> str | None:
    try:
        return _repo(path).git.merge_base(a, b).strip() or None
    except GitCommandError:
        return None


def changed_files(path: str | Path, base: str, head: str) -> list[tuple[str, str]]:
    """(status, path) for files changed between ``base`` and ``head`` (A/M/D/R...; renames
    are reported as a delete of the old path and an add of the new one)."""
    out = _repo(path).git.diff("--name-status", "--no-renames", base, head)
    changes = []
    for line in out.splitlines():
        status, _, name = line.partition("\t")
        if name:
            changes.append((status[:1], name))
    return changes


def is_shallow(path: str | Path) -> bool:
    """The checkout holds only part of the history (``actions/checkout`` without fetch-depth: 0)."""
    try:
        return _repo(path).git.rev_parse("--is-shallow-repository").strip() == "true"
    except GitCommandError:
        return False


def tree_entries(path: str | Path, rev: str, under: list[str],
                 recursive: bool = False) -> list[tuple[str, str, str]]:
    """(type, object id, repo-relative path) at ``rev`` of the folders or files ``under``, or
    with ``recursive`` of every file below them. Missing paths are left out."""
    if not under:
        return []
    args = ["-r"] if recursive else []
    out = _repo(path).git.ls_tree(*args, "--full-tree", rev, "--", *under)
    entries = []
    for line in out.splitlines():
        meta, _, name = line.partition("\t")
        parts = meta.split()
        if len(parts) == 3 and name:
            entries.append((parts[1], parts[2], name))
    return entries


def read_files(path: str | Path, rev: str, files: list[str], *,
               follow_symlinks: bool = False) -> dict[str, bytes | None]:
    """Bytes of each of ``files`` (repo-relative) at ``rev`` in one git process; None for a file
    that does not exist there (or is not a regular file). With ``follow_symlinks``, a symlink
    reads as the file it points to, like the work tree (None when it leaves the repository,
    loops or dangles); without, as the link's text."""
    specs = [f"{rev}:{file}" for file in files]
    return dict(zip(files, _cat_files(path, specs, follow_symlinks), strict=True))


def read_blobs(path: str | Path, ids: list[str]) -> dict[str, bytes | None]:
    """Bytes of each blob by its object id, in one git process (faster than by path)."""
    return dict(zip(ids, _cat_files(path, ids), strict=True))


def _cat_files(path: str | Path, specs: list[str],
               follow_symlinks: bool = False) -> list[bytes | None]:
    if not specs:
        return []
    import subprocess

    top = _repo(path).working_tree_dir
    request = "".join(f"{spec}\n" for spec in specs).encode("utf-8")
    command = ["git", "cat-file", "--batch", *(["--follow-symlinks"] if follow_symlinks else [])]
    out = subprocess.run(command, cwd=top, input=request, capture_output=True,
                         check=True).stdout
    found: list[bytes | None] = []
    at = 0
    for _ in specs:
        end = out.index(b"\n", at)
        header = out[at:end].split()
        at = end + 1
        if len(header) == 3 and header[1] in (b"blob", b"tree", b"commit", b"tag"):
            size = int(header[2])
            found.append(out[at:at + size] if header[1] == b"blob" else None)
            at += size + 1  # the content, then a newline
        elif len(header) == 2 and header[0] in (b"symlink", b"loop", b"dangling", b"notdir"):
            # --follow-symlinks could not follow: the link's text or the name follows
            found.append(None)
            at += int(header[1]) + 1
        else:
            found.append(None)  # "<name> missing" / "ambiguous"
    return found


# -- notes: evidence recorded per commit (refs/notes/casebank) ----------------------------------

_IDENTITY = {"GIT_AUTHOR_NAME": "casebank", "GIT_AUTHOR_EMAIL": "casebank@localhost",
             "GIT_COMMITTER_NAME": "casebank", "GIT_COMMITTER_EMAIL": "casebank@localhost"}


def _identity_env(repo: git.Repo) -> dict[str, str] | None:
    """A fallback identity for the notes commit when git has none configured (fresh CI)."""
    try:
        repo.git.config("user.email")
        return None
    except GitCommandError:
        return _IDENTITY


def add_note(path: str | Path, ref: str, commit: str, data: bytes) -> None:
    """Attach ``data`` as the note of ``commit`` under ``ref``, replacing an existing note."""
    import tempfile

    repo = _repo(path)
    with tempfile.NamedTemporaryFile(prefix="casebank-note-", delete=False) as fh:
        fh.write(data)
    try:
        repo.git.notes(f"--ref={ref}", "add", "-f", "-F", fh.name, commit,
                       env=_identity_env(repo))
    finally:
        Path(fh.name).unlink(missing_ok=True)


def read_note(path: str | Path, ref: str, commit: str) -> bytes | None:
    """The note of ``commit`` under ``ref``; None when there is none."""
    try:
        return _repo(path).git.notes(f"--ref={ref}", "show", commit, stdout_as_string=False,
                                     strip_newline_in_stdout=False)
    except GitCommandError:
        return None


def fetch_ref(path: str | Path, remote: str, ref: str, into: str | None = None) -> bool:
    """Fetch ``ref`` from ``remote`` (force-updating ``into``, default the same name)."""
    try:
        _repo(path).git.fetch(remote, f"+{ref}:{into or ref}")
        return True
    except GitCommandError:
        return False


def push_ref(path: str | Path, remote: str, ref: str) -> bool:
    """Push ``ref`` to ``remote``; False when the remote refused (e.g. not a fast-forward)."""
    try:
        _repo(path).git.push(remote, f"{ref}:{ref}")
        return True
    except GitCommandError:
        return False


def merge_notes(path: str | Path, ref: str, other: str) -> None:
    """Merge the notes ref ``other`` into ``ref``, keeping ``ref``'s note on conflicts."""
    repo = _repo(path)
    repo.git.notes(f"--ref={ref}", "merge", "-s", "ours", other, env=_identity_env(repo))
