"""What a change did to the gate policy, and whether it loosens it.

The gate always applies the base's policy; this list tells reviewers what the change would
do once merged. A lower threshold, a new or extended waiver, a rule removed, errors or new
failures no longer blocking: loosened (the verdict holds); another judge, or a judge target
defined differently: unclear (held the same way). Tightening is listed, never held.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from casebank.gate.changes import LOOSENED, NEUTRAL, TIGHTENED, UNCLEAR, PolicyChange
from casebank.gate.policy import Policy, Rule, percent

# Values from weakest to strictest.
_SCALES = {
    "on_error": ("hold", "block"),
    "on_uncertain": ("hold", "block"),
    "new_failure": ("rules", "hold", "block"),
    "hold_conclusion": ("neutral", "action_required"),
}


def compare_policies(old: Policy, new: Policy, *,
                     path: str = "casebank.yaml") -> list[PolicyChange]:
    """Every difference between the base's policy ``old`` and the head's policy ``new``."""
    changes: list[PolicyChange] = []

    def add(field: str, effect: str, message: str, line: int | None) -> None:
        changes.append(PolicyChange(field, effect, message, path, line))

    for name, scale in _SCALES.items():
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            effect = LOOSENED if scale.index(b) < scale.index(a) else TIGHTENED
            add(name, effect, f"changed from {a} to {b}", new.lines.get(name))
    if old.review_dir != new.review_dir:
        add("review.dir", UNCLEAR, f"review files moved from {old.review_dir}/ to "
                                   f"{new.review_dir}/", new.lines.get("review"))
    changes += _rule_changes(old, new, path)
    changes += _waiver_changes(old, new, path)
    return sorted(changes, key=lambda c: (c.field, c.message))


def _rule_changes(old: Policy, new: Policy, path: str) -> list[PolicyChange]:
    before = {rule.key: rule for rule in old.rules}
    after = {rule.key: rule for rule in new.rules}
    changes = []
    for key, rule in before.items():
        field = f"rules[{rule.group}]"
        if key not in after:
            effect = TIGHTENED if rule.tolerates else LOOSENED
            what = "a tolerance removed" if rule.tolerates else "rule removed"
            changes.append(PolicyChange(field, effect, f"{what}: {rule.describe()}", path,
                                        new.lines.get("rules")))
            continue
        changes += _one_rule(field, rule, after[key], path)
    for key, rule in after.items():
        if key not in before:
            effect = LOOSENED if rule.tolerates else TIGHTENED
            changes.append(PolicyChange(f"rules[{rule.group}]", effect,
                                        f"rule added: {rule.describe()}", path, rule.line))
    return changes


def _one_rule(field: str, old: Rule, new: Rule, path: str) -> list[PolicyChange]:
    changes = []

    def add(name: str, effect: str, message: str) -> None:
        changes.append(PolicyChange(f"{field}.{name}", effect, message, path, new.line))

    if old.block_on_any_failure != new.block_on_any_failure:
        was_strict = old.block_on_any_failure is True or not old.tolerates
        now_strict = new.block_on_any_failure is True or not new.tolerates
        effect = LOOSENED if was_strict and not now_strict else (
            TIGHTENED if now_strict and not was_strict else NEUTRAL)
        add("block_on_any_failure", effect,
            f"changed from {_show(old.block_on_any_failure)} to {_show(new.block_on_any_failure)}")
    if old.max_failure_rate != new.max_failure_rate:
        a, b = old.max_failure_rate, new.max_failure_rate
        if a is None:
            add("max_failure_rate", LOOSENED if new.tolerates and not old.tolerates else
                TIGHTENED, f"added: at most {percent(b or 0)} failures")
        elif b is None:
            add("max_failure_rate", TIGHTENED if not new.tolerates or old.tolerates else
                LOOSENED, f"removed (was at most {percent(a)} failures)")
        else:
            add("max_failure_rate", LOOSENED if b > a else TIGHTENED,
                f"{'raised' if b > a else 'lowered'} from {percent(a)} to {percent(b)}")
    if old.min_pass != new.min_pass:
        a, b = old.min_pass, new.min_pass
        if a is not None and (b is None or b < a):
            add("min_pass", LOOSENED, f"lowered from {a} to {b if b is not None else 'none'}")
        else:
            add("min_pass", TIGHTENED if old.tolerates or b is None else LOOSENED,
                f"raised from {a if a is not None else 'none'} to {b}")
    return changes


def _show(value: bool | None) -> str:
    return "unset" if value is None else str(value).lower()


def _waiver_changes(old: Policy, new: Policy, path: str) -> list[PolicyChange]:
    changes = []
    before = {w.case: w for w in old.waivers}
    after = {w.case: w for w in new.waivers}
    for case_id, waiver in after.items():
        field = f"waivers[{case_id}]"
        was = before.get(case_id)
        if was is None:
            changes.append(PolicyChange(field, LOOSENED,
                                        f"new waiver until {waiver.expires.isoformat()} "
                                        f"(owner {waiver.owner}: {waiver.reason})",
                                        path, waiver.line))
        elif waiver.expires > was.expires:
            changes.append(PolicyChange(field, LOOSENED,
                                        f"waiver extended from {was.expires.isoformat()} to "
                                        f"{waiver.expires.isoformat()}", path, waiver.line))
        elif waiver.expires < was.expires:
            changes.append(PolicyChange(field, TIGHTENED,
                                        f"waiver shortened from {was.expires.isoformat()} to "
                                        f"{waiver.expires.isoformat()}", path, waiver.line))
        elif (waiver.reason, waiver.owner) != (was.reason, was.owner):
            changes.append(PolicyChange(field, NEUTRAL, "reason or owner changed", path,
                                        waiver.line))
    for case_id, waiver in before.items():
        if case_id not in after:
            changes.append(PolicyChange(f"waivers[{case_id}]", TIGHTENED,
                                        f"waiver removed (was until {waiver.expires.isoformat()})",
                                        path, new.lines.get("waivers")))
    return changes


def compare_judges(old: dict[str, Any], new: dict[str, Any], used: set[str], *,
                   path: str = "casebank.yaml",
                   line_of: Callable[[tuple[str, ...]], int | None] = lambda field: None,
                   ) -> list[PolicyChange]:
    """The judge that grades ``judge`` checks, in the base's casebank.yaml mapping ``old`` and
    the head's ``new``: another default judge, or a judge target defined differently (another
    model, URL or params), may grade more leniently: unclear, held like a loosening.
    ``used`` names the judge targets the run asked (besides the default ``judge:``)."""
    changes = []
    before, after = old.get("judge"), new.get("judge")
    if before != after:
        changes.append(PolicyChange("judge", UNCLEAR, f"the default judge changed from "
                                    f"{before or 'none'} to {after or 'none'}: it may grade more "
                                    "leniently; review it", path, line_of(("judge",))))
    old_targets = old.get("targets") if isinstance(old.get("targets"), dict) else {}
    new_targets = new.get("targets") if isinstance(new.get("targets"), dict) else {}
    names = used | {name for name in (before, after) if isinstance(name, str)}
    for name in sorted(names):
        if name in old_targets and old_targets[name] != new_targets.get(name):
            changes.append(PolicyChange(f"targets.{name}", UNCLEAR, f"the judge target {name} "
                                        "changed (model, URL or params): it may grade more "
                                        "leniently; review it", path, line_of(("targets", name))))
    return changes
