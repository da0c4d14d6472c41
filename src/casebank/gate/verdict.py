"""The verdict: one explicit decision with its reasons and what was (not) covered."""

from __future__ import annotations

from dataclasses import dataclass, field

from casebank.errors import ExitCode
from casebank.gate.changes import BankChange, GateDiff, PolicyChange

SHIP = "SHIP"
HOLD = "HOLD"
BLOCK = "BLOCK"

EXIT_CODES = {SHIP: ExitCode.OK, BLOCK: ExitCode.FAILURES, HOLD: ExitCode.HOLD}


@dataclass(frozen=True)
class Reason:
    """Why the verdict is what it is; each names the case file where there is one."""

    decision: str  # the decision this reason pushes towards: BLOCK or HOLD (or SHIP: info)
    rule: str  # e.g. "critical: block on any failure", "waiver expired", "review required"
    message: str
    case_id: str | None = None
    path: str | None = None
    line: int | None = None
    how_to_resolve: str | None = None


@dataclass(frozen=True)
class Coverage:
    """What the verdict is based on, and what it is not."""

    bank: int
    selected: int
    run: int
    passed: int
    failed: int
    errored: int
    uncertain: int
    waived: int
    held: int
    flaky: int
    not_run: dict[str, str] = field(default_factory=dict)  # case id -> why
    suite: str = "full"
    changed_cases: tuple[str, ...] = ()

    def statement(self) -> str:
        text = (f"{self.bank} cases in the bank; {self.selected} selected, {self.run} run: "
                f"{self.passed} passed, {self.failed} failed, {self.errored} errored, "
                f"{self.uncertain} uncertain, {self.waived} waived, {self.held} held for review, "
                f"{self.flaky} flaky")
        if self.not_run:
            text += f"; {len(self.not_run)} not run"
        else:
            text += "; every selected case ran"
        if self.suite == "changed":
            if self.changed_cases:
                shown = ", ".join(self.changed_cases[:20])
                if len(self.changed_cases) > 20:
                    shown += f" and {len(self.changed_cases) - 20} more"
                text += f"; changed cases: {shown}; full suite required before release"
            else:
                text += "; changed cases only: full suite required before release"
        elif self.suite != "full":
            text += f"; {self.suite} cases only: full suite required before release"
        return text + "."


@dataclass
class Verdict:
    decision: str  # SHIP | HOLD | BLOCK
    reasons: list[Reason]
    coverage: Coverage
    notes: list[str] = field(default_factory=list)  # e.g. "waiver for X expired on ..."
    diff: GateDiff | None = None  # against the baseline (diff.baseline None: there was none)
    bank_changes: list[BankChange] = field(default_factory=list)  # cases this change touched
    policy_changes: list[PolicyChange] = field(default_factory=list)  # gate: edits in this change
    hold_conclusion: str = "action_required"  # GitHub check conclusion for HOLD (or "neutral")
    policy_source: str = "casebank.yaml"  # where the policy applied was read (e.g. "... at <base>")

    @property
    def exit_code(self) -> ExitCode:
        return EXIT_CODES[self.decision]
