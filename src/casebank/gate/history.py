"""The base and the head of a change, read from git: the policy and the cases at each.

Only what the change touched is parsed (the case files git reports as changed, cases that
moved in or out of the bank folders, and cases reading a changed file), so a 3-file pull
request on a 10,000-case bank reads a handful of files, not the bank.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from casebank import git
from casebank.bank.case import Case
from casebank.bank.files import UnsafeReference, normalize_reference
from casebank.bank.limits import Limits
from casebank.bank.load import CASE_SUFFIXES, parse_case
from casebank.errors import Problem, UserError
from casebank.gate.approval import case_fingerprint, config_mapping
from casebank.gate.changes import MODIFIED, NEUTRAL, UNCLEAR, BankChange, CaseEdit
from casebank.gate.erosion import case_change
from casebank.gate.policy import Rule


@dataclass(frozen=True)
class Project:
    """Where the project sits in the repository."""

    repo: Path  # top of the git work tree
    config: str  # casebank.yaml, repo-relative POSIX path
    folder: str  # the project root (folder of casebank.yaml), repo-relative ("" = top)

    def path(self, ref: str) -> str:
        """A project-relative path as a repo-relative one."""
        return posixpath.join(self.folder, ref) if self.folder else ref


def project_of(config: Any, repo: Path) -> Project:
    """Locate ``config``'s casebank.yaml inside the git repository at ``repo``."""
    top = git.root(repo)
    if top is None:
        raise UserError(f"{repo} is not inside a git repository; --base/--head need one")
    try:
        rel = Path(config.path).resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        raise UserError(f"{config.path} is not inside the git repository at {top}") from None
    folder = posixpath.dirname(rel)
    return Project(repo=top, config=rel, folder=folder)


def resolve(project: Project, rev: str, what: str) -> str:
    """The full commit id of ``rev``; a clear error when the checkout lacks it."""
    commit = git.resolve_commit(project.repo, rev)
    if commit is None:
        raise UserError(f"the {what} commit {rev!r} is not in this checkout",
                        [Problem(str(project.repo), f"git cannot find {rev!r}",
                                 hint="fetch the whole history (actions/checkout with "
                                      "fetch-depth: 0) or pass an existing commit")])
    return commit


def config_at(project: Project, rev: str) -> bytes | None:
    return git.show(project.repo, rev, project.config)


def bank_dirs_at(project: Project, data: bytes | None) -> tuple[str, ...]:
    """The bank folders (repo-relative) named by a casebank.yaml's ``bank:`` (default cases)."""
    if data is None:
        return ()
    given = config_mapping(data).get("bank", "cases")
    folders = [given] if isinstance(given, str) else [g for g in given or [] if isinstance(g, str)]
    out = []
    for folder in folders:
        try:
            out.append(project.path(normalize_reference(folder)))
        except UnsafeReference:
            continue
    return tuple(sorted(set(out)))


def limits_at(data: bytes | None) -> Limits:
    """The ``limits:`` of a casebank.yaml's bytes, defaults for what it does not set. Case
    files of a commit are read with that commit's limits: a change lowering them must not
    make the base's cases unreadable (and so absent) to the gate."""
    given = config_mapping(data).get("limits") if data is not None else None
    if not isinstance(given, dict):
        return Limits()
    return dataclasses.replace(Limits(), **{
        f.name: given[f.name] for f in dataclasses.fields(Limits)
        if isinstance(given.get(f.name), int) and not isinstance(given.get(f.name), bool)})


def _case_files(project: Project, rev: str, dirs: tuple[str, ...]) -> set[str]:
    files: set[str] = set()
    for folder in dirs:
        for name in git.ls_files(project.repo, rev, folder):
            base = PurePosixPath(name).name
            hidden = any(part.startswith(".") for part in PurePosixPath(name).parts)
            if base.endswith(CASE_SUFFIXES) and not hidden:
                files.add(name)
    return files


def _reader(project: Project, rev: str):  # noqa: ANN202 - a ReadFile
    def read_file(ref: str) -> bytes | None:
        return git.show(project.repo, rev, project.path(normalize_reference(ref)))
    return read_file


def _cases_at(project: Project, rev: str, files: set[str], limits: Limits,
              problems: list[Problem]) -> dict[str, Case]:
    root = project.repo / project.folder if project.folder else project.repo
    cases: dict[str, Case] = {}
    for name in sorted(files):
        data = git.show(project.repo, rev, name)
        if data is None:
            continue
        parsed = parse_case(name, data, root=root, read_file=_reader(project, rev), limits=limits)
        if isinstance(parsed, list):
            problems.extend(parsed)
        else:
            cases.setdefault(parsed.id, parsed)
    return cases


def _grep(project: Project, rev: str, needle: str, dirs: tuple[str, ...]) -> set[str]:
    """Case files at ``rev`` whose text mentions ``needle`` (one git call)."""
    return set(git.grep_files(project.repo, rev, needle, dirs))


def case_at(project: Project, rev: str, case_id: str) -> Case | None:
    """The case ``case_id`` as it is at ``rev`` (None when no case file there has it)."""
    config = config_at(project, rev)
    dirs = bank_dirs_at(project, config)
    files = set(git.grep_files(project.repo, rev, case_id, dirs)) & _case_files(project, rev, dirs)
    return _cases_at(project, rev, files, limits_at(config), []).get(case_id)


@dataclass
class BankDiff:
    changes: list[BankChange]
    base_problems: list[Problem]  # base case files that no longer parse (e.g. older format)


def bank_changes(project: Project, base: str, head: str, *, base_config: bytes | None,
                 head_config: bytes | None, rule_tags: frozenset[str], limits: Limits,
                 review_dir: str, rules: tuple[Rule, ...] = ()) -> BankDiff:
    """Every case added, deleted or modified between the commits ``base`` and ``head``
    (``rule_tags`` and ``rules``: of the base policy, see ``erosion.case_change``)."""
    base_dirs = bank_dirs_at(project, base_config)
    head_dirs = bank_dirs_at(project, head_config)
    base_files = _case_files(project, base, base_dirs)
    head_files = _case_files(project, head, head_dirs)
    changed = {name for _, name in git.changed_files(project.repo, base, head)}
    touched_base = (base_files & changed) | (base_files - head_files)
    touched_head = (head_files & changed) | (head_files - base_files)

    # Files a case reads (prompts, schemas) that changed: the cases mentioning them.
    case_like = base_files | head_files | {project.config}
    reviews = project.path(review_dir) + "/"
    read_changes = sorted(n for n in changed if n not in case_like and not n.startswith(reviews)
                          and (not project.folder or n.startswith(project.folder + "/")))
    readers: dict[str, list[str]] = {}
    for name in read_changes:
        ref = name[len(project.folder) + 1:] if project.folder else name
        for file in _grep(project, head, ref, head_dirs) & head_files:
            readers.setdefault(file, []).append(ref)
            touched_head.add(file)
            if file in base_files:
                touched_base.add(file)

    problems: list[Problem] = []
    head_problems: list[Problem] = []
    before = _cases_at(project, base, touched_base, limits_at(base_config), problems)
    after = _cases_at(project, head, touched_head, limits, head_problems)
    if head_problems:
        raise UserError(f"the bank at {head[:12]} has problems; fix them first (casebank "
                        "validate lists them)", head_problems)
    changes = []
    for case_id in sorted(set(before) | set(after)):
        old, new = before.get(case_id), after.get(case_id)
        change = case_change(old, new, rule_tags=rule_tags, rules=rules)
        if new is not None and old is not None:
            change = _with_read_files(change, old, new, readers.get(new.path, []))
        if change is not None:
            changes.append(change)
    return BankDiff(changes, problems)


def _with_read_files(change: BankChange | None, old: Case, new: Case,
                     refs: list[str]) -> BankChange | None:
    """Say which read file changed: one used by a check (a schema) may loosen it."""
    edits = []
    checks = json.dumps([s.args for s in new.expect], default=str)
    for ref in sorted(set(refs) & (set(old.references) | set(new.references))):
        if f'"{ref}"' in checks:
            edits.append(CaseEdit("expect", UNCLEAR, f"{ref}, read by a check, changed: "
                                                     "cannot tell whether it is looser; review it"))
        else:
            edits.append(CaseEdit("input", NEUTRAL, f"{ref}, read by the case, changed"))
    if not edits:
        return change
    if change is None:
        return BankChange(new.id, MODIFIED, new.path, new.line_of(("id",)), new.severity,
                          tuple(edits), fingerprint=case_fingerprint(new.id, new.content_hash))
    generic = {("input", "a file the input reads changed"),
               ("file", "case file changed (nothing checked changed)")}
    kept = tuple(e for e in change.edits if (e.field, e.message) not in generic)
    return dataclasses.replace(change, edits=kept + tuple(edits))
