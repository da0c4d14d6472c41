"""Approvals: a person's decision that a change loosening the bank or the policy may ship.

A change that deletes or loosens a case, or loosens the gate policy, holds the verdict. The
hold is cleared by an approval file committed with the change (guard the folder with
CODEOWNERS, docs/review.md):

- ``<review dir>/changes/cases/<case-id>.yaml`` for one case's change,
- ``<review dir>/changes/policy.yaml`` for the change to the ``gate:`` section.

Each names the fingerprint of exactly what was approved (the case file as changed, the case
deleted, the new ``gate:`` section), so editing it again needs a new approval.
``casebank review --approve-change`` writes them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema

from casebank import git
from casebank.errors import Problem
from casebank.gate import yamlfile

POLICY = "policy"
CHANGES = "changes"


@dataclass(frozen=True)
class Approval:
    subject: str  # "case <id>" or "policy"
    change: str  # sha256:<hex>, the fingerprint approved
    rationale: str
    reviewer: str
    date: str
    path: str

    def describe(self) -> str:
        return f"approved by {self.reviewer} on {self.date} in {self.path}: {self.rationale}"


def case_fingerprint(case_id: str, content_hash: str, *, deleted: bool = False) -> str:
    """What approving a case change names: the case as it now is, or its deletion."""
    kind = "deleted" if deleted else "case"
    return _sha(f"{kind}\0{case_id}\0{content_hash}")


def policy_fingerprint(gate: Any, judges: Any = None) -> str:
    """What approving a policy change names: the new ``gate:`` section, and the judges that
    grade ``judge`` checks (``judges_of``; None when the project has none), canonically."""
    text = "policy\0" + _canonical(gate)
    if judges:
        text += "\0judges\0" + _canonical(judges)
    return _sha(text)


def _canonical(value: Any) -> str:
    return json.dumps(yamlfile.plain(value), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))


def config_mapping(config_bytes: bytes) -> dict[str, Any]:
    """A casebank.yaml's bytes as a mapping (empty when it is not one)."""
    from casebank.bank.limits import Limits
    from casebank.bank.safeyaml import parse_yaml

    doc = parse_yaml("casebank.yaml", config_bytes, Limits())
    return doc.data if not isinstance(doc, list) and isinstance(doc.data, dict) else {}


def judges_of(config: dict[str, Any]) -> dict[str, Any] | None:
    """What grades ``judge`` checks in a casebank.yaml mapping: its ``judge:`` and the targets
    that can judge (kind openai); None when it has neither."""
    targets = config.get("targets") if isinstance(config.get("targets"), dict) else {}
    able = {name: t for name, t in targets.items() if isinstance(t, dict)
            and t.get("kind") == "openai"}
    if config.get("judge") is None and not able:
        return None
    return {"judge": config.get("judge"), "targets": able}


def policy_fingerprint_of(config_bytes: bytes) -> str:
    """``policy_fingerprint`` of the ``gate:`` section and the judges in a casebank.yaml."""
    raw = config_mapping(config_bytes)
    return policy_fingerprint(raw.get("gate"), judges_of(raw))


def _sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def subject_file(review_dir: str, subject: str) -> str:
    """Where the approval of ``subject`` ("policy" or "case <id>") lives."""
    if subject == POLICY:
        return f"{review_dir}/{CHANGES}/policy.yaml"
    return f"{review_dir}/{CHANGES}/cases/{subject.removeprefix('case ')}.yaml"


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("casebank").joinpath("schemas/review.schema.json").read_text("utf-8")
    whole = json.loads(text)
    return {"$schema": whole["$schema"], "$defs": whole["$defs"],
            "$ref": "#/$defs/approval"}


def parse_approval(path: str, data: bytes) -> Approval | list[Problem]:
    doc = yamlfile.load(data, source=path, max_bytes=64 * 1024)
    if isinstance(doc, Problem):
        return [doc]
    validator = jsonschema.Draft202012Validator(_schema())
    problems = [Problem(path, error.message, line=yamlfile.line_of(data, tuple(error.path)),
                        field=".".join(str(p) for p in error.path) or None)
                for error in validator.iter_errors(doc)]
    if problems:
        return sorted(problems, key=lambda p: (p.line or 0, p.field or ""))
    name = PurePosixPath(path)
    expected = POLICY if name.parent.name == CHANGES else f"case {name.stem}"
    if doc["approves"] != expected:
        return [Problem(path, f"approves {doc['approves']!r}, but this file is for "
                              f"{expected!r}", line=yamlfile.line_of(data, ("approves",)),
                        field="approves", hint="write approvals with casebank review "
                                               "--approve-change")]
    return Approval(subject=doc["approves"], change=doc["change"], rationale=doc["rationale"],
                    reviewer=doc["reviewer"], date=doc["date"], path=path)


def load_approvals_at(repo: Path, rev: str, review_dir: str) -> tuple[dict[str, Approval],
                                                                     list[Problem]]:
    """The approval files under ``review_dir/changes`` (repo-relative) at ``rev``."""
    folder = f"{review_dir}/{CHANGES}"
    names = [n for n in git.ls_files(repo, rev, folder)
             if n == f"{folder}/policy.yaml"
             or (PurePosixPath(n).parent == PurePosixPath(folder, "cases")
                 and n.endswith((".yaml", ".yml")))]
    return _collect((n, git.show(repo, rev, n) or b"") for n in sorted(names))


def _collect(files) -> tuple[dict[str, Approval], list[Problem]]:  # noqa: ANN001
    found: dict[str, Approval] = {}
    problems: list[Problem] = []
    for path, data in files:
        parsed = parse_approval(path, data)
        if isinstance(parsed, list):
            problems += parsed
        else:
            found[parsed.subject] = parsed
    return found, problems


def approval_document(subject: str, change: str, *, what: str, rationale: str, reviewer: str,
                      date: str) -> str:
    """The text of an approval file."""
    return "\n".join([
        f"# Approval of a change that loosens the gate: {what}.",
        "# Written by casebank review --approve-change; it applies only to exactly this change.",
        f"approves: {subject}",
        f"change: {change}",
        f"rationale: {json.dumps(rationale, ensure_ascii=False)}",
        f"reviewer: {json.dumps(reviewer, ensure_ascii=False)}",
        f"date: '{date}'",
    ]) + "\n"
