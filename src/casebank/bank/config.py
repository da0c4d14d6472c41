"""casebank.yaml -> ``Config``: where the bank lives, the targets, run and gate settings.

The file is validated against ``bank-schema/config.schema.json`` (whose ``targets``,
``run`` and ``gate`` parts belong to their stages) plus what a schema cannot say: the
bank folders exist inside the project, and named targets are defined.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from casebank.bank.case import FieldPath, Position, render_field
from casebank.bank.files import UnsafeReference, normalize_reference, resolve
from casebank.bank.limits import DEFAULT_MAX_ALIAS_NODES, DEFAULT_MAX_FILE_BYTES, Limits
from casebank.bank.safeyaml import parse_yaml
from casebank.bank.schema import CONFIG, did_you_mean, locate, schema_problems
from casebank.errors import Problem, UserError

CONFIG_NAME = "casebank.yaml"


@dataclass(frozen=True)
class Config:
    """A validated casebank.yaml. ``root`` is the folder holding it (the project root);
    ``bank_dirs`` are absolute; ``targets`` are the raw target mappings by name."""

    path: Path
    root: Path
    bank_dirs: tuple[Path, ...]
    targets: dict[str, dict[str, Any]]
    default_target: str | None
    judge: str | None
    run: dict[str, Any]
    gate: dict[str, Any]
    limits: Limits
    config_hash: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    positions: dict[FieldPath, Position] = field(default_factory=dict, repr=False)
    display_path: str = CONFIG_NAME  # how problems name the file

    def problem(self, field: FieldPath, message: str, hint: str | None = None) -> Problem:
        """A problem located at ``field`` of casebank.yaml (for stages checking their part)."""
        pos = locate(self.positions, field)
        return Problem(self.display_path, message, pos.line if pos else None,
                       pos.column if pos else None, render_field(field) or None, hint)


def find_config(start: str | Path = ".") -> Path | None:
    """The nearest casebank.yaml in ``start`` (a folder or a file's folder) or above it."""
    here = Path(start).absolute()
    if not here.is_dir():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_config(path: str | Path = CONFIG_NAME) -> Config:
    """Read and validate casebank.yaml; raises UserError listing every problem."""
    file = Path(path)
    if file.is_dir():
        file = file / CONFIG_NAME
    if not file.is_file():
        raise UserError(f"no {CONFIG_NAME} at {file}", [Problem(
            str(file), "not found",
            hint="run casebank in the folder holding casebank.yaml, or pass --config PATH; "
            "docs/config.md shows a minimal one")])
    try:
        data = file.read_bytes()
    except OSError as err:
        raise UserError(f"cannot read {file}: {err.strerror or err}") from None
    root = file.absolute().parent
    shown = _display(file)
    doc = parse_yaml(shown, data, Limits())
    if isinstance(doc, list):
        raise UserError(f"{shown} is not valid", doc)
    raw = doc.data
    if not isinstance(raw, dict):
        raise UserError(f"{shown} is not valid", [Problem(
            shown, "casebank.yaml is a mapping of settings (bank:, targets:, ...)", 1, 1)])
    problems = schema_problems(CONFIG, raw, doc.positions, shown)
    config = Config(
        path=file.absolute(),
        root=root,
        bank_dirs=(),
        targets=raw.get("targets") if isinstance(raw.get("targets"), dict) else {},
        default_target=_text(raw.get("default_target")),
        judge=_text(raw.get("judge")),
        run=raw.get("run") if isinstance(raw.get("run"), dict) else {},
        gate=raw.get("gate") if isinstance(raw.get("gate"), dict) else {},
        limits=_limits(raw.get("limits")),
        config_hash=hashlib.sha256(json.dumps(
            raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
            default=str).encode()).hexdigest(),
        raw=raw,
        positions=doc.positions,
        display_path=shown,
    )
    dirs, more = _bank_dirs(config, raw.get("bank", "cases"))
    problems += more
    for key in ("default_target", "judge"):
        name = raw.get(key)
        if isinstance(name, str) and name not in config.targets:
            problems.append(config.problem((key,), f"no target named `{name}`",
                                           did_you_mean(name, config.targets)
                                           or _targets_hint(config)))
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise UserError(f"{shown} has {count}", sorted(
            problems, key=lambda p: (p.line or 0, p.column or 0)))
    return replace(config, bank_dirs=dirs)


def _bank_dirs(config: Config, given: Any) -> tuple[tuple[Path, ...], list[Problem]]:
    if isinstance(given, str):
        entries: list[tuple[FieldPath, Any]] = [(("bank",), given)]
    elif isinstance(given, list):
        entries = [(("bank", i), item) for i, item in enumerate(given)]
    else:
        return (), []  # the schema reports it
    root = config.root.resolve()
    dirs, problems = [], []
    for field_path, folder in entries:
        if not isinstance(folder, str) or not folder:
            continue
        try:
            clean = normalize_reference(folder)
        except UnsafeReference as err:
            problems.append(config.problem(field_path, err.message, err.hint))
            continue
        real = resolve(root / clean)
        if real is None:
            problems.append(config.problem(field_path, f"`{folder}` is a symlink loop",
                                           "point the link at a folder, or use the folder"))
        elif not real.is_relative_to(root):
            problems.append(config.problem(field_path, f"`{folder}` leads outside the project",
                                           "keep the bank inside the folder of casebank.yaml"))
        elif not real.is_dir():
            problems.append(config.problem(field_path, f"the bank folder `{folder}` does not "
                                           "exist", "create it, or fix the path (relative to "
                                           "the folder holding casebank.yaml)"))
        else:
            dirs.append(real)
    return tuple(dirs), problems


def _limits(given: Any) -> Limits:
    given = given if isinstance(given, dict) else {}
    size = given.get("max_file_bytes", DEFAULT_MAX_FILE_BYTES)
    aliases = given.get("max_alias_nodes", DEFAULT_MAX_ALIAS_NODES)
    return Limits(
        max_file_bytes=size if isinstance(size, int) else DEFAULT_MAX_FILE_BYTES,
        max_alias_nodes=aliases if isinstance(aliases, int) else DEFAULT_MAX_ALIAS_NODES,
    )


def _targets_hint(config: Config) -> str:
    if config.targets:
        return f"targets defined: {', '.join(config.targets)}"
    return "define it under `targets:` first"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _display(file: Path) -> str:
    """casebank.yaml named relative to the git work tree (for annotations), else as given."""
    try:
        from casebank import git

        top = git.root(file.absolute().parent)
    except ImportError:
        top = None
    if top is not None:
        try:
            return file.resolve().relative_to(top.resolve()).as_posix()
        except ValueError:
            pass
    try:
        return file.absolute().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return file.as_posix()
