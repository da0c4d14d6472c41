"""The case: one YAML file in the repo recording a lesson and what must (not) happen.

A ``Case`` is what every later stage reads. It is built by ``casebank.bank.load`` from a
validated file; later stages never re-read the YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("critical", "high", "medium", "low")
SOURCE_KINDS = ("incident", "reviewer-override", "red-team", "compliance", "escalation", "synthetic")
REVIEW_MODES = ("never", "on-fail", "always")

# A field path inside a document: ("expect", 2, "contains") for expect[2].contains.
FieldPath = tuple[str | int, ...]


def render_field(path: FieldPath) -> str:
    """``("expect", 2, "contains")`` -> ``expect[2].contains``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(frozen=True)
class Source:
    kind: str
    ref: str | None = None
    date: str | None = None
    owner: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class ScriptedResult:
    """What a scripted tool returns; ``when`` matches call arguments (None = default)."""

    result: Any
    when: dict[str, Any] | None = None


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON Schema of the arguments
    results: tuple[ScriptedResult, ...] = ()
    destructive: bool = False


@dataclass(frozen=True)
class Message:
    role: str  # system | user | assistant | tool
    content: str


@dataclass(frozen=True)
class CaseInput:
    system: str | None  # the system prompt text (already read from its file if it had one)
    messages: tuple[Message, ...]
    tools: tuple[Tool, ...] = ()
    max_steps: int = 8  # model turns allowed in the agent loop
    # Scripted replies of the simulated user, used when the assistant asks something
    # mid-run (e.g. "shall I delete it?"), consumed in order.
    user_replies: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckSpec:
    """One entry of ``expect:``: its kind, its arguments as written, and where it is."""

    kind: str
    args: Any
    index: int  # position in expect:
    line: int  # line of this expectation in the case file (for annotations)
    name: str | None = None  # optional label given by the author


@dataclass(frozen=True)
class PassRule:
    samples: int = 1
    min_pass: int = 1  # == samples for "all"

    @property
    def is_all(self) -> bool:
        return self.min_pass == self.samples


@dataclass
class Case:
    id: str
    path: str  # repo-relative POSIX path of the case file
    title: str
    severity: str
    source: Source
    input: CaseInput
    expect: tuple[CheckSpec, ...]
    rule: PassRule = field(default_factory=PassRule)
    tags: tuple[str, ...] = ()
    review: str = "never"
    description: str = ""
    judge: str | None = None  # default judge target for judge checks
    content_hash: str = ""  # sha256 of the file bytes (and of referenced files)
    references: tuple[str, ...] = ()  # repo-relative files this case reads (prompts, schemas)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # the validated document
    positions: dict[FieldPath, Position] = field(default_factory=dict, repr=False)

    def line_of(self, path: FieldPath) -> int:
        """Line of a field, falling back to its nearest ancestor, then line 1."""
        while path:
            pos = self.positions.get(path)
            if pos:
                return pos.line
            path = path[:-1]
        return 1
