"""Case files -> ``Case`` values, or every problem with them, located by file:line:column.

``parse_case`` works on bytes, so a case can come from the work tree or from a base commit
(``git show``); ``load_bank`` finds and loads every case of a project and checks what only
the whole bank can (duplicate ids, judges that casebank.yaml must define).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import gc
import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from casebank.bank.case import (Case, CaseInput, CheckSpec, FieldPath, Message, PassRule,
                                Position, ScriptedResult, Source, Tool, render_field)
from casebank.bank.config import Config
from casebank.bank.files import (LINK_HINT, ReadFile, UnsafeReference, normalize_reference,
                                 project_reader, resolve)
from casebank.bank.limits import MAX_CHECKS, Limits
from casebank.bank.new import PLACEHOLDER, placeholders, unwritten_input
from casebank.bank.safeyaml import parse_yaml
from casebank.bank.schema import CASE, did_you_mean, locate, schema_problems
from casebank.errors import Problem, UserError
from casebank.check.re2_schema import regex_problem

CASE_SUFFIXES = (".yaml", ".yml")
FILE_KEYS = ("file", "schema_file")  # check arguments that name a project file


@dataclass
class Bank:
    """The cases of a project, the problems found loading them, and the files read.

    ``warnings`` do not make the bank invalid: they point at what a person should still
    look at, such as the placeholders of a case just written by ``casebank new``.
    """

    cases: list[Case] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_case(path: str, data: bytes, *, root: Path, read_file: ReadFile,
               limits: Limits) -> Case | list[Problem]:
    """One case from the bytes of its file, or every problem with it.

    ``path`` is how the file is named in problems and in ``Case.path``; ``read_file`` reads
    files the case refers to, by their path relative to the project ``root``.
    """
    doc = parse_yaml(path, data, limits)
    if isinstance(doc, list):
        return doc
    raw = doc.data
    if not isinstance(raw, dict):
        return [Problem(path, "a case file is a mapping of keys (id:, title:, input:, expect: "
                        f"...), not {_kind_of(raw)}", 1, 1)]
    reader = _CaseReader(path, root, read_file, limits, doc.positions)
    return reader.case(raw, data)


class _CaseReader:
    """Everything parse_case checks after the YAML itself, problems collected as it goes."""

    def __init__(self, path: str, root: Path, read_file: ReadFile, limits: Limits,
                 positions: dict[FieldPath, Position]) -> None:
        self.path = path
        self.root = root
        self.read_file = read_file
        self.limits = limits
        self.positions = positions
        self.problems: list[Problem] = []
        self.references: dict[str, bytes] = {}

    def problem(self, field: FieldPath, message: str, hint: str | None = None) -> None:
        pos = locate(self.positions, field)
        self.problems.append(Problem(self.path, message, pos.line if pos else None,
                                     pos.column if pos else None, render_field(field) or None,
                                     hint))

    def case(self, raw: dict[str, Any], data: bytes) -> Case | list[Problem]:
        validate = _check_validators()
        checks = _count_checks(raw.get("expect"), validate.kinds)
        if checks > MAX_CHECKS:  # before validating any of them: each may be costly
            self.problem(("expect",), f"holds {checks:,} checks (counting those inside "
                         f"any_of, all_of and not), more than the {MAX_CHECKS} a case may have",
                         "split it into several cases, each a lesson of its own")
            return self.problems
        schema = schema_problems(CASE, raw, self.positions, self.path)
        schema_ok = not schema
        if validate.item is not None:  # the checks stage explains expect items in its words
            schema = [p for p in schema if not (p.field or "").startswith("expect[")]
        self.problems += schema
        system = self.system_prompt(raw.get("input"))
        tools = self.tools(raw.get("input"))
        specs = self.expectations(raw.get("expect"), tools, validate, schema_ok)
        self.rules(raw)
        if PLACEHOLDER.encode() in data:  # left by `casebank new`
            self.problems += unwritten_input(self.path, raw, self.positions)
        if self.problems:
            return sorted(self.problems, key=lambda p: (p.line or 0, p.column or 0))
        return self.build(raw, data, system, specs)

    # --- files --------------------------------------------------------------------------

    def read(self, ref: Any, field: FieldPath) -> bytes | None:
        """The bytes of a referenced file, or None after recording why not."""
        if not isinstance(ref, str) or not ref:
            return None  # the schema reports it
        try:
            clean = normalize_reference(ref)
            data = self.read_file(clean)
        except UnsafeReference as err:
            self.problem(field, err.message, err.hint)
            return None
        if data is None:
            self.problem(field, f"`{ref}` does not exist",
                         "paths are relative to the folder holding casebank.yaml")
            return None
        if len(data) > self.limits.max_file_bytes:
            self.problem(field, f"`{ref}` is {len(data):,} bytes, over the limit of "
                         f"{self.limits.max_file_bytes:,} bytes",
                         "raise limits.max_file_bytes in casebank.yaml")
            return None
        self.references[clean] = data
        return data

    def system_prompt(self, given: Any) -> str | None:
        if not isinstance(given, dict):
            return None
        system = given.get("system")
        if isinstance(system, str):
            return system
        if not isinstance(system, dict) or "file" not in system:
            return None
        field = ("input", "system", "file")
        data = self.read(system["file"], field)
        if data is None:
            return None
        try:
            return _text_of(data)
        except UnicodeDecodeError:
            self.problem(field, f"`{system['file']}` is not UTF-8 text", "save it as UTF-8")
            return None

    # --- tools --------------------------------------------------------------------------

    def tools(self, given: Any) -> list[str]:
        """Names of the case's tools, after checking their schemas and scripted results."""
        if not isinstance(given, dict) or not isinstance(given.get("tools"), list):
            return []
        names: dict[str, int] = {}
        for index, tool in enumerate(given["tools"]):
            if not isinstance(tool, dict):
                continue
            field = ("input", "tools", index)
            name = tool.get("name")
            if isinstance(name, str):
                if name in names:
                    first = locate(self.positions, ("input", "tools", names[name]))
                    where = f" (first at line {first.line})" if first else ""
                    self.problem(field + ("name",), f"tool `{name}` is defined twice{where}",
                                 "give each tool one entry")
                else:
                    names[name] = index
            params = tool.get("parameters")
            if isinstance(params, dict):
                self.tool_parameters(params, field + ("parameters",))
                self.scripted_results(tool.get("results"), params, field)
        return list(names)

    def tool_parameters(self, params: dict[str, Any], field: FieldPath) -> None:
        if params.get("type", "object") != "object":
            self.problem(field + ("type",), "a tool's parameters are an object schema",
                         "write `type: object` and list the arguments under `properties:`")
        problem = _schema_problem(json.dumps(params, sort_keys=True, default=str))
        if problem:
            self.problem(field, f"not a valid JSON Schema: {problem}")
        elif (regex := regex_problem(params)) is not None:
            self.problem(field, regex)

    def scripted_results(self, results: Any, params: dict[str, Any], field: FieldPath) -> None:
        known = params.get("properties")
        if not isinstance(results, list) or not isinstance(known, dict):
            return
        for index, entry in enumerate(results):
            when = entry.get("when") if isinstance(entry, dict) else None
            if not isinstance(when, dict):
                continue
            for arg in when:
                if arg not in known:
                    self.problem(field + ("results", index, "when", arg),
                                 f"`{arg}` is not an argument of this tool, so this result "
                                 "would never match",
                                 did_you_mean(arg, known) or
                                 f"its arguments: {', '.join(known) or 'none'}")

    # --- expectations -------------------------------------------------------------------

    def expectations(self, items: Any, tools: list[str], validate: _Validators,
                     schema_ok: bool) -> list[CheckSpec]:
        if not isinstance(items, list):
            return []
        specs = []
        for index, item in enumerate(items):
            field: FieldPath = ("expect", index)
            spec = self.spec(item, index)
            if spec is not None:
                specs.append(spec)
            mine = self.check_files(item, spec, field, validate)
            theirs: list[Problem] = []
            quiet = _quiet_reader(self.read_file)
            if validate.meaning is not None and schema_ok:
                theirs = validate.meaning(item, root=self.root, read_file=quiet, tools=tools)
            elif validate.item is not None:
                theirs = validate.item(item, root=self.root, read_file=quiet, tools=tools)
            elif validate.spec is not None and spec is not None and schema_ok:
                theirs = validate.spec(spec, root=self.root, read_file=quiet)
            for problem in theirs:
                placed = self.place(problem, field)
                if placed.field not in mine:  # the file problem is already reported, in full
                    self.problems.append(placed)
        return specs

    def spec(self, item: Any, index: int) -> CheckSpec | None:
        if not isinstance(item, dict):
            return None
        kinds = [key for key in item if key != "name"]
        if len(kinds) != 1:
            return None
        name = item.get("name")
        pos = self.positions.get(("expect", index))
        return CheckSpec(kind=kinds[0], args=item[kinds[0]], index=index,
                         line=pos.line if pos else 1,
                         name=name if isinstance(name, str) else None)

    def check_files(self, item: Any, spec: CheckSpec | None, field: FieldPath,
                    validate: _Validators) -> set[str]:
        """Read the files a check names; returns the fields where a problem was reported."""
        found = list(_file_arguments(item, field))
        if spec is not None and validate.files is not None:
            named = {ref for _, ref in found}
            found += [(field, ref) for ref in validate.files(spec) if ref not in named]
        before = len(self.problems)
        for where, ref in found:
            self.read(ref, where)
        return {p.field for p in self.problems[before:] if p.field}

    def place(self, problem: Problem, base: FieldPath) -> Problem:
        """A problem from the checks stage (field relative to the item), put in this file."""
        field = base + _parse_field(problem.field) if problem.field else base
        pos = locate(self.positions, field)
        return dataclasses.replace(
            problem, path=self.path,
            line=problem.line if problem.line is not None else (pos.line if pos else None),
            column=problem.column if problem.column is not None else (pos.column if pos else None),
            field=render_field(field) or None)

    # --- rules the schema cannot state --------------------------------------------------

    def rules(self, raw: dict[str, Any]) -> None:
        source = raw.get("source")
        date = source.get("date") if isinstance(source, dict) else None
        if isinstance(date, str) and _DATE.match(date):  # else the schema says what is wrong
            try:
                datetime.date.fromisoformat(date)
            except ValueError:
                self.problem(("source", "date"), f"`{date}` is not a date",
                             "write the day it happened as YYYY-MM-DD")
        samples = raw.get("samples", 1)
        rule = raw.get("pass")
        if isinstance(rule, dict) and isinstance(rule.get("at_least"), int) \
                and isinstance(samples, int) and rule["at_least"] > samples:
            self.problem(("pass", "at_least"),
                         f"needs {rule['at_least']} passing samples but only {samples} "
                         f"{'is' if samples == 1 else 'are'} run",
                         "lower at_least or raise samples")
        given = raw.get("input")
        messages = given.get("messages") if isinstance(given, dict) else None
        if isinstance(messages, list) and messages and isinstance(messages[-1], dict) \
                and "assistant" in messages[-1] and len(messages[-1]) == 1:
            self.problem(("input", "messages", len(messages) - 1),
                         "the conversation must end with a user message, which the model "
                         "answers")

    # --- the Case -----------------------------------------------------------------------

    def build(self, raw: dict[str, Any], data: bytes, system: str | None,
              specs: list[CheckSpec]) -> Case:
        given = raw["input"]
        samples = raw.get("samples", 1)
        rule = raw.get("pass", "all")
        min_pass = samples if rule == "all" else rule["at_least"]
        digest = hashlib.sha256(data)
        for ref in sorted(self.references):
            digest.update(b"\0" + ref.encode() + b"\0" + self.references[ref])
        return Case(
            id=raw["id"],
            path=self.path,
            title=raw["title"],
            severity=raw["severity"],
            source=Source(**raw["source"]),
            input=CaseInput(
                system=system,
                messages=tuple(Message(role, text) for item in given["messages"]
                               for role, text in item.items()),
                tools=tuple(_tool(tool) for tool in given.get("tools", [])),
                max_steps=given.get("max_steps", 8),
                user_replies=tuple(given.get("user_replies", [])),
            ),
            expect=tuple(specs),
            rule=PassRule(samples=samples, min_pass=min_pass),
            tags=tuple(raw.get("tags", [])),
            review=raw.get("review", "never"),
            description=raw.get("description", ""),
            judge=raw.get("judge"),
            content_hash=digest.hexdigest(),
            references=tuple(sorted(self.references)),
            raw=raw,
            positions=self.positions,
        )


def _tool(raw: dict[str, Any]) -> Tool:
    return Tool(
        name=raw["name"],
        description=raw.get("description", ""),
        parameters=raw["parameters"],
        results=tuple(ScriptedResult(result=r["result"], when=r.get("when"))
                      for r in raw["results"]),
        destructive=raw.get("destructive", False),
    )


@dataclass(frozen=True)
class _Validators:
    item: Callable[..., list[Problem]] | None
    spec: Callable[..., list[Problem]] | None
    files: Callable[[CheckSpec], list[str]] | None
    # validate_item without its shape (JSON Schema) pass, for items the case schema passed
    meaning: Callable[..., list[Problem]] | None = None
    kinds: dict[str, Any] = field(default_factory=dict)  # the check kinds, by name


@functools.cache
def _check_validators() -> _Validators:
    """The checks stage's load-time validation, when it is installed."""
    try:
        from casebank import check
    except ImportError:
        return _Validators(None, None, None)
    meaning = None
    if getattr(check, "KINDS", None) is not None:
        meaning = functools.partial(_argument_problems, check.KINDS)
    return _Validators(getattr(check, "validate_item", None),
                       getattr(check, "validate_spec", None),
                       getattr(check, "referenced_files", None), meaning,
                       getattr(check, "KINDS", None) or {})


def _count_checks(items: Any, kinds: dict[str, Any]) -> int:
    """How many checks ``expect:`` holds, those nested in composites (any_of...) included."""
    if not isinstance(items, list):
        return 0
    count = 0
    pending = list(items)
    while pending:
        item = pending.pop()
        count += 1
        names = [key for key in item if key != "name"] if isinstance(item, dict) else []
        if len(names) == 1 and names[0] in kinds:
            pending += [child for _, child in kinds[names[0]].children(item[names[0]])]
    return count


def _argument_problems(kinds: dict[str, Any], item: dict[str, Any], *, root: Path,
                       read_file: Callable[[str], bytes | None],
                       tools: list[str]) -> list[Problem]:
    """What ``casebank.check.validate_item`` finds in an ``expect:`` item whose shape the
    case schema has already checked (it includes the checks schema): only what each kind's
    ``validate`` says about its arguments, nested items included. validate_item would check
    the shape again, which cost a third of the loading time of a big bank."""
    from casebank.check.kind import Env

    env = Env(root, read_file, frozenset(tools))
    found: list[Problem] = []

    def visit(node: dict[str, Any], field: FieldPath) -> None:
        name = next(key for key in node if key != "name")
        kind = kinds[name]
        args = node[name]
        found.extend(Problem("", p.message, field=render_field(field + (name,) + p.field),
                             hint=p.hint) for p in kind.validate(args, env))
        for rel, child in kind.children(args):
            visit(child, field + (name,) + rel)

    visit(item, ())
    return found


def _quiet_reader(read_file: ReadFile) -> Callable[[str], bytes | None]:
    def read(ref: str) -> bytes | None:
        try:
            return read_file(normalize_reference(ref))
        except UnsafeReference:
            return None
    return read


def _file_arguments(node: Any, field: FieldPath) -> list[tuple[FieldPath, str]]:
    found: list[tuple[FieldPath, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in FILE_KEYS and isinstance(value, str):
                found.append((field + (key,), value))
            else:
                found += _file_arguments(value, field + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _file_arguments(value, field + (index,))
    return found


_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_FIELD_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def _parse_field(text: str) -> FieldPath:
    """``a.b[2].c`` -> ("a", "b", 2, "c"), the inverse of render_field."""
    return tuple(int(index) if index else name for index, name in _FIELD_PART.findall(text))


@functools.lru_cache(maxsize=1024)
def _schema_problem(schema_json: str) -> str | None:
    try:
        Draft202012Validator.check_schema(json.loads(schema_json))
    except SchemaError as err:
        where = render_field(tuple(err.absolute_path))
        return f"{err.message}" + (f" (at {where})" if where else "")
    return None


@functools.lru_cache(maxsize=32)
def _text_of(data: bytes) -> str:
    """One decoded copy of a prompt file that many cases share (read_file caches its bytes)."""
    return data.decode("utf-8")


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a single text"
    if value is None:
        return "null"
    return f"`{json.dumps(value)}`"


# --- the whole bank -------------------------------------------------------------------------


def load_bank(config: Config, paths: Sequence[str] | None = None) -> Bank:
    """Load the bank of ``config`` (or only the case files/folders in ``paths``, relative
    to the current directory), with every problem found, including duplicate ids."""
    # Loading builds many long-lived containers and no reference cycles; the cyclic GC
    # would rescan the growing heap again and again (a third of the time for a big bank).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load_bank(config, paths)
    finally:
        if collecting:
            gc.enable()


def load_valid_bank(config: Config) -> Bank:
    """The whole bank, for commands that run it: any problem stops them (``UserError``,
    exit 2), each problem at its file:line."""
    bank = load_bank(config)
    if bank.problems:
        raise UserError(f"the bank has {len(bank.problems)} problem(s); fix them first "
                        "(`casebank validate` lists them too)", list(bank.problems))
    return bank


def _load_bank(config: Config, paths: Sequence[str] | None) -> Bank:
    bank = Bank()
    root = config.root.resolve()
    namer = _display_namer(root)
    files, bank.problems = _case_files(config, root, paths, namer)
    reader = project_reader(root, config.limits)
    by_id: dict[str, Case] = {}
    for file in files:
        name = namer(file)
        bank.files.append(name)
        data = _read_case(file, name, config.limits)
        if isinstance(data, Problem):
            bank.problems.append(data)
            continue
        case = parse_case(name, data, root=root, read_file=reader, limits=config.limits)
        if isinstance(case, list):
            bank.problems += case
            continue
        first = by_id.get(case.id)
        if first is not None:
            bank.problems += _duplicate(case, first) + _duplicate(first, case)
            continue
        by_id[case.id] = case
        bank.problems += _judge_problems(case, config)
        if PLACEHOLDER.encode() in data:  # cheap: a written case skips the walk
            bank.warnings += placeholders(case)
        bank.cases.append(case)
    return bank


def _duplicate(case: Case, other: Case) -> list[Problem]:
    pos = case.positions.get(("id",))
    other_line = other.line_of(("id",))
    return [Problem(case.path, f"duplicate id `{case.id}`: {other.path}:{other_line} uses it "
                    "too", pos.line if pos else 1, pos.column if pos else 1, "id",
                    "ids are unique across the bank: rename one of them")]


def _judge_problems(case: Case, config: Config) -> list[Problem]:
    problems = []

    def problem(field: FieldPath, message: str, hint: str | None) -> None:
        pos = locate(case.positions, field)
        problems.append(Problem(case.path, message, pos.line if pos else None,
                                pos.column if pos else None, render_field(field), hint))

    if case.judge is not None and case.judge not in config.targets:
        problem(("judge",), f"no target named `{case.judge}` in casebank.yaml",
                did_you_mean(case.judge, config.targets)
                or "judge names one of the `targets:` of casebank.yaml")
    for spec in case.expect:
        if spec.kind != "judge":
            continue
        target = spec.args.get("target") if isinstance(spec.args, dict) else None
        if target is None and case.judge is None and config.judge is None:
            problem(("expect", spec.index, "judge"), "this judge check has no judge model",
                    "set `judge:` (a target name) in casebank.yaml or in this case")
        elif isinstance(target, str) and target not in config.targets:
            problem(("expect", spec.index, "judge", "target"),
                    f"no target named `{target}` in casebank.yaml",
                    did_you_mean(target, config.targets))
    return problems


def _display_namer(root: Path) -> Callable[[Path], str]:
    """Names files relative to the git work tree (so annotations land on them in a PR), or
    to the project root outside git."""
    base = root
    try:
        from casebank import git

        top = git.root(root)
        if top is not None:
            base = top.resolve()
    except ImportError:  # git itself is not installed
        pass

    def name(path: Path) -> str:
        for anchor in (base, root):
            try:
                return path.relative_to(anchor).as_posix()
            except ValueError:
                continue
        return path.as_posix()

    return name


def _case_files(config: Config, root: Path, paths: Sequence[str] | None,
                namer: Callable[[Path], str]) -> tuple[list[Path], list[Problem]]:
    problems: list[Problem] = []
    found: dict[Path, None] = {}
    if paths is None:
        for folder in config.bank_dirs:
            for file in _walk(folder):
                found.setdefault(file, None)
    else:
        for given in paths:
            path = Path(given).absolute()
            if not os.path.lexists(path):
                problems.append(Problem(given, "no such file or folder"))
                continue
            real = resolve(path)
            if real is None:
                problems.append(Problem(given, "this case file is a symlink loop", 1, 1,
                                        hint=LINK_HINT))
                continue
            if not real.is_relative_to(root):
                problems.append(Problem(given, f"is outside the project ({namer(root) or '.'}"
                                        " holds casebank.yaml)",
                                        hint="pass --config for the project it belongs to"))
                continue
            if real.is_dir():  # the bank's files below it (not casebank.yaml, reviews...)
                for folder in config.bank_dirs:
                    inside = real if real.is_relative_to(folder) else folder
                    if inside.is_relative_to(real):
                        for file in _walk(inside):
                            found.setdefault(file, None)
            else:
                found.setdefault(real, None)
    files = []
    for file in found:
        real = resolve(file)
        if real is None:
            problems.append(Problem(namer(file), "this case file is a symlink loop", 1, 1,
                                    hint=LINK_HINT))
        elif not real.is_relative_to(root):
            problems.append(Problem(namer(file), "this case file is a symlink leading outside "
                                    "the project", 1, 1, hint="commit the file itself"))
        elif file.is_symlink() and not real.exists():
            problems.append(Problem(namer(file), "this case file is a symlink to a file that "
                                    "does not exist", 1, 1, hint=LINK_HINT))
        elif not real.is_file():
            problems.append(Problem(namer(file), "not a regular file", 1, 1))
        else:
            files.append(file)
    return sorted(files), sorted(problems, key=lambda p: p.path)  # not in os.walk's order


def _walk(folder: Path) -> list[Path]:
    files = []
    for top, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [Path(top) / n for n in names if n.endswith(CASE_SUFFIXES)
                  and not n.startswith(".")]
    return files


def _read_case(path: Path, name: str, limits: Limits) -> bytes | Problem:
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            return Problem(name, f"file is {size:,} bytes, over the limit of "
                           f"{limits.max_file_bytes:,} bytes", 1, 1,
                           hint="split the case, or raise limits.max_file_bytes in casebank.yaml")
        return path.read_bytes()
    except OSError as err:
        return Problem(name, f"cannot be read: {err.strerror or err}")
