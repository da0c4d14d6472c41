"""What a change did to the bank, the policy and the results: the data a verdict carries.

Plain values only (no git, no YAML): the gate fills them in, reports render them.
"""

from __future__ import annotations

from dataclasses import dataclass

# The effect of one edit on how hard the gate is to pass.
LOOSENED = "loosened"  # easier to pass: the verdict holds until a person looks
UNCLEAR = "unclear"  # cannot tell (a regex changed): held for review like a loosening
TIGHTENED = "tightened"  # harder to pass: never holds
NEUTRAL = "neutral"  # does not change what is checked (title, description, input wording)

HOLDING_EFFECTS = (LOOSENED, UNCLEAR)

# What happened to a case file.
ADDED = "added"
DELETED = "deleted"
MODIFIED = "modified"


@dataclass(frozen=True)
class CaseEdit:
    """One difference between a case at the base and at the head."""

    field: str  # "severity", "samples", "expect[1] (contains)", "input"
    effect: str  # LOOSENED | UNCLEAR | TIGHTENED | NEUTRAL
    message: str  # "severity lowered from critical to high"


@dataclass(frozen=True)
class BankChange:
    """A case added, deleted or modified by the change under review."""

    case_id: str
    change: str  # ADDED | DELETED | MODIFIED
    path: str  # the case file at the head (at the base for a deleted case)
    line: int | None = None
    severity: str | None = None
    edits: tuple[CaseEdit, ...] = ()
    old_path: str | None = None  # set when the case moved to another file
    fingerprint: str | None = None  # what an approval must name (gate.approval)
    approval: str | None = None  # "@lead in reviews/changes/cases/x.yaml" when approved

    @property
    def erodes(self) -> bool:
        """Deleted, or an edit that loosens (or may loosen) what the case checks."""
        return self.change == DELETED or any(e.effect in HOLDING_EFFECTS for e in self.edits)

    @property
    def holds(self) -> bool:
        """Erodes the bank and no approval file covers it."""
        return self.erodes and self.approval is None

    def summary(self) -> str:
        if self.change == DELETED:
            return "case deleted"
        if self.change == ADDED:
            return "case added"
        shown = ([e.message for e in self.edits if e.effect != NEUTRAL]
                 or [e.message for e in self.edits])
        text = "; ".join(shown) if shown else "case file changed"
        if self.old_path:
            text = f"moved from {self.old_path}; {text}"
        return text


@dataclass(frozen=True)
class PolicyChange:
    """One difference between the gate policy at the base and at the head."""

    field: str  # "rules[severity high].max_failure_rate", "waivers[refund-x]", "on_error"
    effect: str  # LOOSENED | UNCLEAR | TIGHTENED | NEUTRAL
    message: str
    path: str = "casebank.yaml"
    line: int | None = None  # in the head's casebank.yaml (None when the field was removed)
    approval: str | None = None  # "@lead in reviews/changes/policy.yaml" when approved

    @property
    def loosens(self) -> bool:
        return self.effect in HOLDING_EFFECTS

    @property
    def holds(self) -> bool:
        """Loosens the policy and no approval file covers it."""
        return self.loosens and self.approval is None


@dataclass(frozen=True)
class CaseDelta:
    """One case's outcome at the baseline and now, as the gate diff lists it."""

    case_id: str
    path: str
    line: int | None
    severity: str
    before: str | None  # outcome in the baseline (None: not in the baseline)
    after: str | None  # outcome now (None: not in this run)
    message: str = ""  # what failed, in the first failing check's words


@dataclass(frozen=True)
class GateDiff:
    """What changed between the baseline run and this run.

    ``baseline`` describes the baseline ("commit 1a2b3c4, target agent-v1"); None means there
    was no baseline, which reports must state, never render as "no changes".
    """

    baseline: str | None
    new_failures: tuple[CaseDelta, ...] = ()
    fixed: tuple[CaseDelta, ...] = ()
    still_failing: tuple[CaseDelta, ...] = ()
    flaky: tuple[CaseDelta, ...] = ()
    added: tuple[BankChange, ...] = ()
    removed: tuple[BankChange, ...] = ()
    modified: tuple[BankChange, ...] = ()
    verdict_before: str | None = None
    verdict_after: str | None = None

    @property
    def has_baseline(self) -> bool:
        return self.baseline is not None

    @property
    def verdict_changed(self) -> bool:
        return (self.verdict_before is not None and self.verdict_after is not None
                and self.verdict_before != self.verdict_after)

    @property
    def empty(self) -> bool:
        """No differences at all (only meaningful with a baseline)."""
        return not (self.new_failures or self.fixed or self.added or self.removed
                    or self.modified or self.verdict_changed)
