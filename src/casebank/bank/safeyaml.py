"""Read untrusted YAML (case files arrive in pull requests) into plain data, safely and fast.

libyaml (ruamel's C parser) composes the node graph; one Python walk then builds plain
data (dict, list, str, int, float, bool, None) and a ``{field path: Position}`` map, and
rejects what a case file has no business containing: custom tags, duplicate keys, merge
keys, deep nesting, and aliases that expand beyond a small limit. Nothing is constructed
from a tag, so no YAML feature can run code or allocate more than the limits allow.

Timestamps stay the strings they were written as (``date: 2026-03-14`` is
``"2026-03-14"``), so every document is also valid JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from sys import intern
from typing import Any

from ruamel.yaml.cyaml import CParser
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import implicit_resolvers
from ruamel.yaml.tag import Tag

from casebank.bank.case import FieldPath, Position, render_field
from casebank.bank.limits import MAX_DEPTH, Limits
from casebank.errors import Problem

_T = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = _T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"
TIMESTAMP, MAP, SEQ, MERGE = _T + "timestamp", _T + "map", _T + "seq", _T + "merge"

# libyaml's composer recurses in C, one level per nested collection, and a file deep enough
# crashes the process (about 30,000 levels; `- - - - x` nests one list per two bytes). Every
# collection starts at one of these characters, so a file with fewer of them cannot be that
# deep; one with more has its depth measured on the event stream (no recursion) first.
_COLLECTION_MARKS = (b"[", b"{", b"-", b"?", b":")
_MARKS_WITHOUT_DEPTH_SCAN = 2000

# Byte order marks of the encodings a Windows editor may save a file in instead of UTF-8.
_WIDE_BOMS = ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"),
              (b"\xfe\xff", "UTF-16"), (b"\xff\xfe", "UTF-16"))


@dataclass(frozen=True)
class Document:
    """A YAML file as plain data, with the position of every field (mapping entries at
    their key, list items at the item)."""

    data: Any
    positions: dict[FieldPath, Position]


# ruamel's YAML 1.2 rules for plain scalars (``yes`` is a string, ``0o17`` an int), indexed
# by first character once, with one shared Tag per standard tag.
_TAGS: dict[str, Tag] = {}


def _shared(name: str) -> Tag:
    return _TAGS.setdefault(name, Tag(suffix=name))


_RULES: dict[str | None, list[tuple[Tag, Any]]] = {}
for _versions, _name, _regexp, _first in implicit_resolvers:
    if (1, 2) in _versions:
        for _char in _first or [None]:
            _RULES.setdefault(_char, []).append((_shared(_name), _regexp))
_ANY_FIRST = _RULES.pop(None, [])
_STR, _SEQ, _MAP = _shared(STR), _shared(SEQ), _shared(MAP)
_NAME_OF = {id(tag): name for name, tag in _TAGS.items()}


def _tag_of(node: Any) -> str:
    tag = node.ctag
    return _NAME_OF.get(id(tag)) or str(tag)


class _Composer(CParser):  # type: ignore[misc]
    """libyaml's parser and composer, resolving implicit tags by the YAML 1.2 rules.

    The same answers as ruamel's VersionedResolver, without its per-scalar overhead."""

    def descend_resolver(self, parent: Any, index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: Any, value: str, implicit: tuple[bool, bool]) -> Tag:
        if kind is ScalarNode:
            if implicit[0]:
                for tag, regexp in _RULES.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
                for tag, regexp in _ANY_FIRST:
                    if regexp.match(value):
                        return tag
            return _STR
        return _SEQ if kind is SequenceNode else _MAP


class _Stop(Exception):
    """A problem after which walking the file any further is pointless or unsafe."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def parse_yaml(path: str, data: bytes, limits: Limits) -> Document | list[Problem]:
    """Parse one YAML document from ``data`` (the bytes of the file at ``path``).

    Returns the document, or every problem found (each with line and column).
    """
    if len(data) > limits.max_file_bytes:
        return [Problem(path, f"file is {len(data):,} bytes, over the limit of "
                        f"{limits.max_file_bytes:,} bytes", 1, 1,
                        hint="split the case, or raise limits.max_file_bytes in casebank.yaml")]
    wide = _wide_encoding(data)
    if wide:
        return [Problem(path, f"this file is {wide} text, not UTF-8", 1, 1,
                        hint=f"save it as UTF-8, e.g. iconv -f {wide} -t UTF-8")]
    nul = data.find(b"\0")
    if nul >= 0:
        line, col = _line_col(data, nul)
        return [Problem(path, "this is a binary file (it contains a NUL byte), not YAML text",
                        line, col)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line, col = _line_col(data, err.start)
        return [Problem(path, f"not UTF-8 text: byte 0x{data[err.start]:02x} cannot be decoded",
                        line, col, hint="save the file as UTF-8")]
    if sum(data.count(mark) for mark in _COLLECTION_MARKS) > _MARKS_WITHOUT_DEPTH_SCAN:
        deep = _too_deep(path, data)
        if deep:
            return [deep]
    try:
        root = _Composer(data).get_single_node()
    except YAMLError as err:
        return [_syntax_problem(path, text, err)]
    except Exception:  # noqa: BLE001 - libyaml's composer has bugs on some bad input
        return [_pure_python_problem(path, text)]
    if root is None:
        return [Problem(path, "the file is empty", 1, 1)]
    walk = _Walk(path, limits, anchors=b"&" in data)
    try:
        value = walk.build(root, (), 0)
    except _Stop as stop:
        return [stop.problem]
    if walk.problems:
        return walk.problems
    walk.positions.setdefault((), _position(root))
    return Document(value, walk.positions)


def _wide_encoding(data: bytes) -> str | None:
    """"UTF-16" or "UTF-32" when ``data`` looks like text in one of them (by its byte order
    mark, or the zero bytes ASCII text has in them)."""
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            return name
    head = data[:64]
    if len(head) < 8 or not any(head):
        return None
    for width, name in ((4, "UTF-32"), (2, "UTF-16")):
        for text_at in range(width):  # big- or little-endian: where the ASCII byte sits
            if all(head[i] == 0 for i in range(len(head)) if i % width != text_at):
                return name
    return None


_POSITIONS: dict[tuple[int, int], Position] = {}


def _at(line: int, column: int) -> Position:
    """One shared Position per (line, column): a bank repeats them in every file."""
    pos = _POSITIONS.get((line, column))
    if pos is None:
        pos = Position(line, column)
        if line <= 2000 and column <= 200:  # keep the cache small whatever the input
            _POSITIONS[(line, column)] = pos
    return pos


# Field paths by value: every file of a bank has the same few hundred paths, and a bank
# keeps every case's position map (750,000 entries for 10,000 cases), so its keys are shared
# like its Positions. Bounded, whatever the input.
_PATHS: dict[FieldPath, FieldPath] = {}
_MAX_SHARED_PATHS = 50_000


def _shared_path(path: FieldPath) -> FieldPath:
    shared = _PATHS.get(path)
    if shared is None:
        shared = path
        if len(_PATHS) < _MAX_SHARED_PATHS:
            _PATHS[path] = path
    return shared


def _line_col(data: bytes | str, offset: int) -> tuple[int, int]:
    newline = b"\n" if isinstance(data, bytes) else "\n"
    line = data.count(newline, 0, offset) + 1  # type: ignore[arg-type]
    start = data.rfind(newline, 0, offset) + 1  # type: ignore[arg-type]
    return line, offset - start + 1


def _position(node: Any) -> Position:
    mark = node.start_mark
    return _at(mark.line + 1, mark.column + 1)


def _syntax_problem(path: str, text: str, err: YAMLError) -> Problem:
    if isinstance(err, ReaderError):
        line, col = _line_col(text, err.position)
        return Problem(path, f"character #x{err.character:04x} is not allowed in YAML "
                       f"({err.reason})", line, col)
    if not isinstance(err, MarkedYAMLError) or err.problem_mark is None:
        return Problem(path, f"YAML error: {err}", 1, 1)
    mark = err.problem_mark
    problem = str(err.problem or "")
    if "expected a single document" in str(err.context or ""):
        return Problem(path, "a second YAML document starts here: a case file holds exactly "
                       "one document", mark.line + 1, mark.column + 1,
                       hint="remove the `---` line and what follows, or move it to its own file")
    if _char_at(text, mark.line, mark.column) == "\t":
        return Problem(path, "a tab indents this line: YAML indents with spaces, never tabs",
                       mark.line + 1, mark.column + 1, hint="replace the tab with spaces")
    message = f"YAML syntax error: {problem}"
    if problem.startswith("found undefined alias"):
        message = "this alias (*name) refers to an anchor (&name) that is not defined before it"
    elif err.context and err.context_mark is not None:
        message += f" ({err.context} at line {err.context_mark.line + 1})"
    return Problem(path, message, mark.line + 1, mark.column + 1)


def _char_at(text: str, line: int, column: int) -> str:
    """The character at a 0-based line and column of ``text``, or ""."""
    start = 0
    for _ in range(line):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    end = text.find("\n", start)
    row = text[start:] if end < 0 else text[start:end]
    return row[column] if 0 <= column < len(row) else ""


def _pure_python_problem(path: str, text: str) -> Problem:
    """Ask ruamel's pure-Python composer for a located message (slow, error path only)."""
    from ruamel.yaml import YAML

    try:
        YAML(typ="safe", pure=True).compose(text)
    except YAMLError as err:
        return _syntax_problem(path, text, err)
    except Exception:  # noqa: BLE001
        pass
    return Problem(path, "the file could not be parsed as YAML", 1, 1)


def _too_deep(path: str, data: bytes) -> Problem | None:
    """Nesting deeper than MAX_DEPTH, measured on the event stream (no recursion)."""
    parser = _Composer(data)
    depth = 0
    try:
        while parser.check_event():
            event = parser.get_event()
            name = type(event).__name__
            if name in ("SequenceStartEvent", "MappingStartEvent"):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    return Problem(path, f"nested more than {MAX_DEPTH} levels deep",
                                   mark.line + 1, mark.column + 1)
            elif name in ("SequenceEndEvent", "MappingEndEvent"):
                depth -= 1
    except YAMLError:
        return None  # the composer reports the syntax error with its position
    return None


class _Walk:
    """One pass over the node graph: plain data, positions, and the checks above."""

    def __init__(self, path: str, limits: Limits, anchors: bool = True) -> None:
        self.path = path
        self.limits = limits
        self.positions: dict[FieldPath, Position] = {}
        self.problems: list[Problem] = []
        # id(collection) -> (value, expanded nodes, expanded characters)
        self.built: dict[int, tuple[Any, int, int]] = {}
        self.active: set[int] = set()  # collections being built (an alias to one is a cycle)
        # Scalars seen, to count those reached again through an alias: one 20 KB text
        # repeated by 60 aliases is a small file that expands to more than 1 MB. Only a
        # file with an anchor (&) can have aliases.
        self.scalars: set[int] | None = set() if anchors else None
        self.nodes = 0  # nodes visited, aliases expanded
        self.chars = 0  # characters of text visited, aliases expanded
        self.alias_nodes = 0
        self.alias_chars = 0

    def expanded(self, node: Any, field: FieldPath, nodes: int, chars: int) -> None:
        """Count what an alias adds; stop once aliases add more than the limits allow."""
        self.alias_nodes += nodes
        self.alias_chars += chars
        self.nodes += nodes
        self.chars += chars
        if self.alias_nodes > self.limits.max_alias_nodes:
            raise self.stop(node, field, f"aliases (*name) expand to more than "
                            f"{self.limits.max_alias_nodes:,} nodes",
                            "write the repeated parts out, or raise limits.max_alias_nodes "
                            "in casebank.yaml")
        if self.alias_chars > self.limits.max_file_bytes:
            raise self.stop(node, field, f"aliases (*name) expand to more than "
                            f"{self.limits.max_file_bytes:,} characters of text",
                            "write the repeated parts out, or raise limits.max_file_bytes "
                            "in casebank.yaml")

    def problem(self, node: Any, field: FieldPath, message: str, hint: str | None = None) -> None:
        mark = node.start_mark
        self.problems.append(Problem(self.path, message, mark.line + 1, mark.column + 1,
                                     render_field(field) or None, hint))

    def stop(self, node: Any, field: FieldPath, message: str, hint: str | None = None) -> _Stop:
        mark = node.start_mark
        return _Stop(Problem(self.path, message, mark.line + 1, mark.column + 1,
                             render_field(field) or None, hint))

    def build(self, node: Any, field: FieldPath, depth: int) -> Any:
        cls = node.__class__
        if cls is ScalarNode:
            if self.scalars is not None:
                key = id(node)
                if key in self.scalars:  # reached again through an alias
                    self.expanded(node, field, 1, len(node.value))
                    return self.scalar(node, field)
                self.scalars.add(key)
            self.nodes += 1
            self.chars += len(node.value)
            return self.scalar(node, field)
        key = id(node)
        seen = self.built.get(key)
        if seen is not None:  # reached again through an alias: count what it expands to
            self.expanded(node, field, seen[1], seen[2])
            return seen[0]
        if key in self.active:
            raise self.stop(node, field, "this alias refers to a collection that contains it "
                            "(a recursive structure)")
        if depth >= MAX_DEPTH:
            raise self.stop(node, (), f"nested more than {MAX_DEPTH} levels deep")
        if node.ctag is not _MAP and node.ctag is not _SEQ and _tag_of(node) not in (MAP, SEQ):
            self.problem(node, field, f"the tag `{show_tag(_tag_of(node))}` is not allowed here",
                         "case files are plain data: remove the tag")
        start, start_chars = self.nodes, self.chars
        self.nodes += 1
        self.active.add(key)
        if cls is MappingNode:
            value: Any = self.mapping(node, field, depth)
        elif cls is SequenceNode:
            value = self.sequence(node, field, depth)
        else:  # pragma: no cover - libyaml only composes the three node kinds
            raise self.stop(node, field, "unexpected YAML node")
        self.active.discard(key)
        self.built[key] = (value, self.nodes - start, self.chars - start_chars)
        return value

    def mapping(self, node: Any, field: FieldPath, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        positions = self.positions
        for key_node, value_node in node.value:
            if key_node.__class__ is not ScalarNode:
                self.problem(key_node, field, "a key must be plain text, not a list or mapping")
                continue
            tag = STR if key_node.ctag is _STR else _tag_of(key_node)
            if tag == MERGE:
                self.problem(key_node, field, "merge keys (<<) are not supported",
                             "write the keys out")
                continue
            if tag not in _KEY_TAGS:
                self.problem(key_node, field, f"the tag `{show_tag(tag)}` is not allowed here",
                             "case files are plain data: remove the tag")
                continue
            name = intern(key_node.value)  # the same few keys in every file of a bank
            child = _shared_path(field + (name,))
            if name in out:
                first = positions.get(child)
                where = f" (first at line {first.line})" if first else ""
                self.problem(key_node, child, f"duplicate key `{name}`{where}",
                             "keep one of them")
                continue
            mark = key_node.start_mark
            positions[child] = _at(mark.line + 1, mark.column + 1)
            self.nodes += 1
            self.chars += len(name)
            out[name] = self.build(value_node, child, depth + 1)
        return out

    def sequence(self, node: Any, field: FieldPath, depth: int) -> list[Any]:
        out: list[Any] = []
        positions = self.positions
        for index, item in enumerate(node.value):
            child = _shared_path(field + (index,))
            mark = item.start_mark
            positions[child] = _at(mark.line + 1, mark.column + 1)
            out.append(self.build(item, child, depth + 1))
        return out

    def scalar(self, node: Any, field: FieldPath) -> Any:
        if node.ctag is _STR:
            text = node.value
            return intern(text) if len(text) <= 32 else text  # tool names, types, enums...
        tag = _tag_of(node)
        text = node.value
        if tag == STR:
            return text
        make = _SCALARS.get(tag)
        if make is None:
            self.problem(node, field, f"the tag `{show_tag(tag)}` is not allowed here",
                         "case files are plain data: remove the tag")
            return None
        try:
            return make(text)
        except ValueError:  # e.g. an int of more than 4,300 digits, which Python refuses
            what = f"is not a valid {tag.rsplit(':', 1)[-1]}"
            if len(text) > 40:
                text, what = text[:39] + "…", f"{what} ({len(node.value):,} characters long)"
            self.problem(node, field, f"`{text}` {what}")
            return None


def show_tag(tag: str) -> str:
    """``tag:yaml.org,2002:python/object`` -> ``!!python/object``, as it was written."""
    return "!!" + tag[len(_T):] if tag.startswith(_T) else tag


def _int(text: str) -> int:
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    lower = digits.lower()
    for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if lower.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits, 10)


def _float(text: str) -> float:
    lower = text.replace("_", "").lower()
    if lower in (".inf", "+.inf"):
        return float("inf")
    if lower == "-.inf":
        return float("-inf")
    if lower == ".nan":
        return float("nan")
    return float(lower)


def _bool(text: str) -> bool:
    lower = text.lower()
    if lower == "true":
        return True
    if lower == "false":
        return False
    raise ValueError(text)


_SCALARS = {
    INT: _int,
    FLOAT: _float,
    BOOL: _bool,
    NULL: lambda text: None,
    TIMESTAMP: str,
}
_KEY_TAGS = frozenset((STR, INT, FLOAT, BOOL, NULL, TIMESTAMP))
