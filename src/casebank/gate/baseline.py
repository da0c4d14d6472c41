"""The baseline: evidence of the base commit, from a file or from a git note.

``record_baseline`` (called by the action on a push to the default branch) stores the run's
evidence as the note of its commit under ``refs/notes/casebank``; the gate of a later change
reads the note of its base commit. Notes travel with ``git fetch/push`` of that ref only, so
CI fetches them first (``fetch_baselines``) and pushes after recording (``push_baselines``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from casebank import evidence as evidence_io
from casebank import git
from casebank.errors import UserError
from casebank.evidence import Evidence

NOTES_REF = "refs/notes/casebank"
_REMOTE_COPY = "refs/notes/casebank-remote"


@dataclass(frozen=True)
class Baseline:
    """Evidence to compare with, and where it came from (``evidence`` None: none found)."""

    evidence: Evidence | None
    label: str  # "evidence file base.json (commit 1a2b3c4d5e6f)" or why there is none


def record_baseline(repo: str | Path, commit: str, evidence_path: str | Path) -> None:
    """Store the evidence file as the baseline of ``commit`` (replacing an earlier one).

    Refuses incomplete evidence: a partial run must never become what later changes are
    compared with.
    """
    path = Path(evidence_path)
    recorded = evidence_io.read(path)
    if not recorded.complete:
        raise UserError(f"{path}: the run is incomplete; only a complete run can be recorded "
                        "as a baseline")
    if not git.has_commit(repo, commit):
        raise UserError(f"cannot record a baseline: {commit!r} is not a commit in {repo}")
    git.add_note(repo, NOTES_REF, commit, path.read_bytes())


def read_baseline(repo: str | Path, commit: str) -> Evidence | None:
    """The evidence recorded for ``commit``, or None when there is none."""
    data = git.read_note(repo, NOTES_REF, commit)
    if data is None:
        return None
    with tempfile.TemporaryDirectory(prefix="casebank-baseline-") as tmp:
        path = Path(tmp) / f"{commit[:12]}.json"
        path.write_bytes(data)
        try:
            return evidence_io.read(path)
        except UserError as err:
            raise UserError(f"the baseline recorded for {commit[:12]} under {NOTES_REF} is "
                            f"unreadable ({err.message}); record it again") from None


def from_file(path: str | Path) -> Baseline:
    """The baseline given as an evidence file."""
    found = evidence_io.read(path)
    about = _about(found, with_commit=True)
    return Baseline(found, f"evidence file {path}" + (f" ({about})" if about else ""))


def from_note(repo: str | Path, commit: str) -> Baseline:
    """The baseline recorded for ``commit``; ``evidence`` None (with why) when there is none."""
    found = read_baseline(repo, commit)
    if found is None:
        return Baseline(None, f"no baseline recorded for {commit[:12]} under {NOTES_REF} "
                              "(record one on the default branch and push the notes, see "
                              "docs/gate.md#the-baseline, or pass --baseline PATH)")
    about = _about(found, with_commit=False)
    return Baseline(found, f"recorded for commit {commit[:12]} in {NOTES_REF}"
                    + (f", {about}" if about else ""))


def _about(found: Evidence, *, with_commit: bool) -> str:
    parts = []
    if with_commit and found.commit:
        parts.append(f"commit {found.commit[:12]}")
    name = found.target.get("name") or found.target.get("model")
    if name:
        parts.append(f"target {name}")
    return ", ".join(parts)


def fetch_baselines(repo: str | Path, remote: str = "origin") -> bool:
    """Fetch the recorded baselines from ``remote`` (False when it has none yet)."""
    return git.fetch_ref(repo, remote, NOTES_REF)


def push_baselines(repo: str | Path, remote: str = "origin") -> bool:
    """Push the recorded baselines, merging the remote's first if someone pushed meanwhile."""
    if git.push_ref(repo, remote, NOTES_REF):
        return True
    if not git.fetch_ref(repo, remote, NOTES_REF, into=_REMOTE_COPY):
        return False
    git.merge_notes(repo, NOTES_REF, _REMOTE_COPY)
    return git.push_ref(repo, remote, NOTES_REF)
