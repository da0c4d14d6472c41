"""The changed suite of a pull request: the cases a change touched, read without the whole bank.

Compared with the merge base of ``base`` and ``head`` (what GitHub shows as the pull
request's diff), the changed suite is

- the case files added or modified,
- the cases that read a file that changed (a prompt, a JSON schema: ``Case.references``),

and it asks for the full bank instead when casebank.yaml or a file it names changed (a replay
recording, a command target's program), because no subset can show what that does.

Cost: the git diff, the changed files, and lookups in an index of the bank at the merge base
(``casebank.select.index``: ids and the files each case names, built once per state of the
bank), then parsing only the changed case files and the few that name a changed file. A
three-file change costs about the same on a 10,000-case bank as on a 1,000-case bank.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from casebank import git
from casebank.bank.case import Case
from casebank.bank.config import Config
from casebank.bank.files import LINK_HINT, UnsafeReference, normalize_reference
from casebank.bank.load import CASE_SUFFIXES, Bank, parse_case
from casebank.errors import Problem, UserError
from casebank.select.index import BankIndex, open_index

FETCH_HINT = ("set `fetch-depth: 0` in actions/checkout (`with: {fetch-depth: 0}`) so the pull "
              "request's base and its history are in the checkout")


@dataclass
class ChangedSuite:
    """What a change touched. Paths are relative to the git work tree, like ``Case.path``."""

    cases: list[Case]  # to run, in bank order (by path)
    full_required: bool  # the configuration changed: the full bank must run
    why: str  # one sentence for people
    changed_files: list[str]
    deleted_case_paths: list[str]
    merge_base: str = ""
    head: str = ""
    bank_size: int = 0  # case files in the bank at head (counted, not parsed, without a Bank)
    referencing: dict[str, list[str]] = field(default_factory=dict)  # case id -> changed files it reads

    def not_selected_reason(self) -> str:
        """What a run of only these cases leaves out and why, for the evidence."""
        left = max(self.bank_size - len(self.cases), 0)
        return (f"changed suite: {len(self.cases)} of {_plural(self.bank_size, 'case')} "
                f"selected; the other {left} were left out: the change touches neither their "
                f"case files nor a file they read. {self.why}")


@dataclass(frozen=True)
class _Project:
    """Where the project (the folder of casebank.yaml) sits in the git work tree."""

    top: Path
    prefix: str  # "" or "examples/support-agent/"
    bank_dirs: tuple[str, ...]  # project-relative
    config_file: str  # project-relative

    def relative(self, git_path: str) -> str | None:
        return git_path[len(self.prefix):] if git_path.startswith(self.prefix) else None

    def is_case_file(self, rel: str) -> bool:
        """The bank loader's rule: *.yaml / *.yml below a bank folder, no hidden part."""
        if not rel.endswith(CASE_SUFFIXES) or any(p.startswith(".") for p in rel.split("/")):
            return False
        return any(rel.startswith(folder + "/") for folder in self.bank_dirs)

    def is_case_file_path(self, git_path: str) -> bool:
        rel = self.relative(git_path)
        return rel is not None and self.is_case_file(rel)


def changed_suite(repo: Path, config: Config, bank: Bank | None, base: str,
                  head: str = "HEAD", *, index_dir: Path | None = None) -> ChangedSuite:
    """The cases changed between the merge base of ``base`` and ``head``, and ``head``.

    With ``bank`` (already loaded) the cases are taken from it; with ``bank=None`` only the
    changed case files and the case files naming a changed file are read, from git at ``head``,
    using the bank index kept in ``index_dir`` (default: ``.casebank/index`` in the project).
    Raises ``UserError`` when the base is not in the checkout (a shallow clone), and when a
    changed case file is not valid (its problems listed).
    """
    project = _project(repo, config)
    head_commit = _commit(project.top, head, "head")
    merge_base = _merge_base(project.top, base, head_commit)
    changes = git.changed_files(project.top, merge_base, head_commit)
    changed_files = [path for _, path in changes]

    config_names = _config_references(config)
    full_reasons: list[str] = []
    touched: list[str] = []  # git paths of case files added or modified
    deleted: list[str] = []
    others: dict[str, str] = {}  # project-relative -> git path, of other changed project files
    for status, path in changes:
        rel = project.relative(path)
        if rel is None:
            continue
        if rel == project.config_file:
            full_reasons.append(f"{path} changed")
        elif rel in config_names:
            full_reasons.append(f"{path} (named in {project.config_file}) changed")
        elif project.is_case_file(rel):
            (deleted if status == "D" else touched).append(path)
        else:
            others[rel] = path

    if bank is not None:
        cases, referencing = _from_bank(bank, touched, others)
        bank_size = len(bank.cases)
    else:
        index = open_index(project.top, merge_base,
                           [project.prefix + folder for folder in project.bank_dirs],
                           project.is_case_file_path,
                           index_dir or config.root.resolve() / ".casebank" / "index")
        try:
            cases, referencing = _from_git(project, config, head_commit, index, touched,
                                           deleted, others)
            added = set(touched) - index.known(touched)
            bank_size = index.case_files + len(added) - len(deleted)
        finally:
            index.close()

    return ChangedSuite(
        cases=cases, full_required=bool(full_reasons),
        why=_why(full_reasons, cases, touched, referencing, deleted, changed_files, base,
                 merge_base),
        changed_files=changed_files, deleted_case_paths=deleted, merge_base=merge_base,
        head=head_commit, bank_size=bank_size, referencing=referencing)


# --- where things are ----------------------------------------------------------------------


def _project(repo: Path, config: Config) -> _Project:
    top = git.root(repo)
    if top is None:
        raise UserError(f"{repo} is not in a git repository: the changed suite compares two "
                        "commits; run the full bank instead")
    top = top.resolve()
    root = config.root.resolve()
    if not root.is_relative_to(top):
        raise UserError(f"{config.display_path} is outside the git work tree {top}")
    prefix = root.relative_to(top).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    bank_dirs = tuple(folder.resolve().relative_to(root).as_posix() for folder in config.bank_dirs)
    return _Project(top, prefix, bank_dirs, config.path.resolve().relative_to(root).as_posix())


def _commit(top: Path, rev: str, what: str) -> str:
    commit = git.resolve_commit(top, rev)
    if commit is None:
        raise UserError(f"the {what} {rev!r} is not a commit in this repository")
    return commit


def _merge_base(top: Path, base: str, head: str) -> str:
    shallow = git.is_shallow(top)
    if not git.has_commit(top, base):
        if shallow:
            raise UserError(f"the base {base!r} is not in this checkout, which is shallow (only "
                            f"the last commits were fetched): {FETCH_HINT}")
        raise UserError(f"the base {base!r} is not a commit or branch in this repository: fetch "
                        f"it (`git fetch origin {base.removeprefix('origin/')}`), or in GitHub "
                        f"Actions {FETCH_HINT}")
    found = git.merge_base(top, base, head)
    if found is None:
        if shallow:
            raise UserError(f"the history joining {base!r} and the head is not in this "
                            f"checkout, which is shallow: {FETCH_HINT}")
        raise UserError(f"{base!r} and the head share no history: is {base!r} the right base?")
    return found


def _config_references(config: Config) -> set[str]:
    """Project files casebank.yaml names: replay recordings, command targets' programs, any
    other string value that is a path to a file of the project."""
    names: set[str] = set()
    root = config.root.resolve()

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, str(k))
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif isinstance(value, str) and value and "://" not in value:
            try:
                clean = normalize_reference(value)
            except UnsafeReference:
                return
            # `file:` always names a file, even one this change deleted; other values only
            # when such a file exists (a command's "python" is not a path).
            if key == "file" or key.endswith("_file") or (root / clean).is_file():
                names.add(clean)

    walk(config.raw, "")
    return names


# --- the cases -----------------------------------------------------------------------------


def _from_bank(bank: Bank, touched: list[str], others: dict[str, str]
               ) -> tuple[list[Case], dict[str, list[str]]]:
    problems = [p for p in bank.problems if p.path in touched]
    if problems:
        raise _invalid(problems)
    touched_set = set(touched)
    cases, referencing = [], {}
    for case in bank.cases:
        reads = [others[ref] for ref in case.references if ref in others]
        if reads:
            referencing[case.id] = reads
        if reads or case.path in touched_set:
            cases.append(case)
    return sorted(cases, key=lambda case: case.path), referencing


def _from_git(project: _Project, config: Config, head: str, index: BankIndex,
              touched: list[str], deleted: list[str], others: dict[str, str]
              ) -> tuple[list[Case], dict[str, list[str]]]:
    reader = _GitReader(project, head)
    parsed = _parse(project, config, reader, touched)
    replaced = set(touched) | set(deleted)  # what the index says of these no longer holds
    _check_duplicate_ids(parsed, index, replaced)
    candidates = sorted(index.readers(others) - replaced)
    cases, referencing = list(parsed.values()), {}
    for case in [*cases, *_parse(project, config, reader, candidates).values()]:
        reads = [others[ref] for ref in case.references if ref in others]
        if reads:
            referencing[case.id] = reads
            if case.path not in parsed:
                cases.append(case)
    return sorted(cases, key=lambda case: case.path), referencing


def _parse(project: _Project, config: Config, reader: _GitReader,
           paths: list[str]) -> dict[str, Case]:
    # a symlinked case file reads as the file it points to, as in the work tree
    texts = git.read_files(project.top, reader.head, paths, follow_symlinks=True)
    cases: dict[str, Case] = {}
    problems: list[Problem] = []
    for path in paths:
        data = texts.get(path)
        if data is None:  # the diff lists it: a link that cannot be followed (or a submodule)
            problems.append(Problem(path, "this case file cannot be read at the head commit: a "
                                    "symlink that loops, points to a missing file or leads "
                                    "outside the repository", 1, 1, hint=LINK_HINT))
            continue
        if len(data) > config.limits.max_file_bytes:
            problems.append(Problem(path, f"file is {len(data):,} bytes, over the limit of "
                                    f"{config.limits.max_file_bytes:,} bytes", 1, 1,
                                    hint="split the case, or raise limits.max_file_bytes"))
            continue
        case = parse_case(path, data, root=config.root.resolve(), read_file=reader,
                          limits=config.limits)
        if isinstance(case, list):
            problems += case
        else:
            cases[path] = case
    if problems:
        raise _invalid(problems)
    return cases


def _check_duplicate_ids(parsed: dict[str, Case], index: BankIndex,
                         replaced: set[str]) -> None:
    """Changed cases whose id another case file uses (the others found by their ``id:`` line
    in the index)."""
    by_id: dict[str, Case] = {}
    problems = []
    for case in parsed.values():
        first = by_id.setdefault(case.id, case)
        if first is not case:
            problems.append(_duplicate(case, first.path, first.line_of(("id",))))
    for case_id, users in index.users(by_id).items():
        for path, line in users:
            if path not in replaced:
                problems.append(_duplicate(by_id[case_id], path, line))
    if problems:
        raise _invalid(problems)


def _duplicate(case: Case, other_path: str, other_line: int) -> Problem:
    pos = case.positions.get(("id",))
    return Problem(case.path, f"duplicate id `{case.id}`: {other_path}:{other_line} uses it too",
                   pos.line if pos else 1, pos.column if pos else 1, "id",
                   "ids are unique across the bank: rename one of them")


def _invalid(problems: list[Problem]) -> UserError:
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    return UserError(f"the changed case files have {count}; fix them (casebank validate lists "
                     "every problem)", problems)


class _GitReader:
    """``read_file`` for parse_case: project files at the head commit, each read once."""

    def __init__(self, project: _Project, head: str) -> None:
        self.project = project
        self.head = head
        self.cache: dict[str, bytes | None] = {}

    def __call__(self, ref: str) -> bytes | None:
        if ref not in self.cache:
            path = self.project.prefix + normalize_reference(ref)
            self.cache[ref] = git.read_files(self.project.top, self.head, [path],
                                             follow_symlinks=True)[path]
        return self.cache[ref]


# --- the sentence --------------------------------------------------------------------------


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _why(full_reasons: list[str], cases: list[Case], touched: list[str],
         referencing: dict[str, list[str]], deleted: list[str], changed_files: list[str],
         base: str, merge_base: str) -> str:
    since = f"since {base} (merge base {merge_base[:12]})"
    if full_reasons:
        shown = "; ".join(full_reasons[:3])
        if len(full_reasons) > 3:
            shown += f" and {len(full_reasons) - 3} more"
        return f"{shown}: the configuration changed, so the full bank must run."
    if not cases and not deleted:
        return (f"No case changed {since}: {_plural(len(changed_files), 'file')} changed, none "
                "of them a case file or a file a case reads.")
    parts = []
    if touched:
        parts.append(f"{_plural(len(touched), 'case file')} added or modified")
    if referencing:
        files = sorted({file for reads in referencing.values() for file in reads})
        shown = ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
        parts.append(f"{_plural(len(referencing), 'case')} reading {shown}, which changed")
    if deleted:
        parts.append(f"{_plural(len(deleted), 'case file')} deleted")
    return f"{_plural(len(cases), 'case')} to run {since}: " + "; ".join(parts) + "."
