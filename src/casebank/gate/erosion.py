"""Bank erosion: what a change did to each case, and whether that makes the gate easier.

Deleting a case, lowering its severity or review, fewer samples, a weaker pass rule, a
removed check or a check made looser (a ``contains`` made ``ignore_case``, a budget raised)
is *loosened*: the verdict holds for a person. A changed regex or any other change whose
effect cannot be told is *unclear*, held the same way. Adding cases and tightening checks
never holds; a changed title, description or input is listed, not held.
"""

from __future__ import annotations

import json
from typing import Any

from casebank.bank.case import REVIEW_MODES, SEVERITIES, Case, CheckSpec
from casebank.gate.approval import case_fingerprint
from casebank.gate.policy import Rule
from casebank.gate.changes import (
    ADDED,
    DELETED,
    LOOSENED,
    MODIFIED,
    NEUTRAL,
    TIGHTENED,
    UNCLEAR,
    BankChange,
    CaseEdit,
)

TEXT_KINDS = ("contains", "not_contains")
REGEX_KINDS = ("regex", "not_regex")
# Keys whose number is an upper bound (raising it loosens) or a lower bound (lowering loosens).
UPPER_BOUND_KEYS = ("max", "max_length", "max_tool_calls", "max_steps", "latency_ms", "tokens",
                    "cost", "total", "prompt", "completion", "at_most", "max_calls")
LOWER_BOUND_KEYS = ("min", "min_confidence", "threshold", "at_least", "min_calls", "min_score")
NUMERIC_KINDS = ("max_length", "max_tool_calls", "max_steps", "latency_ms", "tokens", "cost")


def case_change(old: Case | None, new: Case | None, *,
                rule_tags: frozenset[str] = frozenset(),
                rules: tuple[Rule, ...] = ()) -> BankChange | None:
    """What happened to one case (matched by id) between the base and the head.

    ``rule_tags`` are the tags the base policy has rules for: removing one of them from a
    case can take it out of a stricter rule. ``rules`` are the base policy's rules: a tag
    added can bring the case under one that tolerates failures. None when nothing changed.
    """
    if old is None and new is None:
        return None
    if old is None:
        assert new is not None
        return BankChange(new.id, ADDED, new.path, new.line_of(("id",)), new.severity,
                          fingerprint=case_fingerprint(new.id, new.content_hash))
    if new is None:
        return BankChange(old.id, DELETED, old.path, None, old.severity,
                          fingerprint=case_fingerprint(old.id, old.content_hash, deleted=True))
    edits = case_edits(old, new, rule_tags=rule_tags, rules=rules)
    moved = old.path if old.path != new.path else None
    fingerprint = case_fingerprint(new.id, new.content_hash)
    if not edits and old.content_hash == new.content_hash:
        return None if moved is None else BankChange(new.id, MODIFIED, new.path,
                                                    new.line_of(("id",)), new.severity,
                                                    old_path=moved, fingerprint=fingerprint)
    if not edits:
        edits = [CaseEdit("file", NEUTRAL, "case file changed (nothing checked changed)")]
    line = _first_line(new, edits)
    return BankChange(new.id, MODIFIED, new.path, line, new.severity, tuple(edits), moved,
                      fingerprint=fingerprint)


def _first_line(case: Case, edits: list[CaseEdit]) -> int:
    for edit in edits:
        if edit.effect in (LOOSENED, UNCLEAR):
            return case.line_of(_field_path(edit.field))
    return case.line_of(("id",))


def _field_path(field: str) -> tuple[str | int, ...]:
    head = field.split(" ")[0]
    if head.startswith("expect[") and head.endswith("]"):
        return ("expect", int(head[len("expect["):-1]))
    if head == "pass":
        return ("pass",)
    return (head,)


def case_edits(old: Case, new: Case, *, rule_tags: frozenset[str] = frozenset(),
               rules: tuple[Rule, ...] = ()) -> list[CaseEdit]:
    """Every difference in what the case checks, each with its effect on the gate."""
    edits: list[CaseEdit] = []
    edits += _ordered("severity", old.severity, new.severity, SEVERITIES[::-1],
                      "severity lowered", "severity raised")
    edits += _ordered("review", old.review, new.review, REVIEW_MODES,
                      "review lowered", "review raised")
    edits += _rule_edits(old, new)
    edits += check_edits(old.expect, new.expect)
    edits += _tag_edits(old, new, rule_tags)
    edits += _now_tolerated(old, new, rules)
    if old.judge != new.judge:
        edits.append(CaseEdit("judge", UNCLEAR, f"judge changed from {old.judge or 'default'} "
                                                f"to {new.judge or 'default'}"))
    if _plain(old.raw.get("input")) != _plain(new.raw.get("input")):
        edits.append(CaseEdit("input", NEUTRAL, "input changed (prompt, messages or tools)"))
    elif old.input != new.input:
        edits.append(CaseEdit("input", NEUTRAL, "a file the input reads changed"))
    if (old.title, old.description, old.source) != (new.title, new.description, new.source):
        edits.append(CaseEdit("description", NEUTRAL, "title, description or source changed"))
    return edits


def _ordered(field: str, old: str, new: str, order: tuple[str, ...], lower: str,
             higher: str) -> list[CaseEdit]:
    """Compare two values of an ordered scale (weakest first)."""
    if old == new or old not in order or new not in order:
        return [] if old == new else [CaseEdit(field, UNCLEAR, f"{field} changed from {old} "
                                                                f"to {new}")]
    if order.index(new) < order.index(old):
        return [CaseEdit(field, LOOSENED, f"{lower} from {old} to {new}")]
    return [CaseEdit(field, TIGHTENED, f"{higher} from {old} to {new}")]


def _rule_text(samples: int, min_pass: int) -> str:
    if min_pass == samples:
        return f"all of {samples}"
    return f"at least {min_pass} of {samples}"


def _rule_edits(old: Case, new: Case) -> list[CaseEdit]:
    n0, k0 = old.rule.samples, old.rule.min_pass
    n1, k1 = new.rule.samples, new.rule.min_pass
    if (n0, k0) == (n1, k1):
        return []
    edits = []
    if n1 < n0:
        edits.append(CaseEdit("samples", LOOSENED, f"fewer samples: {n0} to {n1}"))
    if k1 < k0 or (n1 - k1) > (n0 - k0):
        edits.append(CaseEdit("pass", LOOSENED, f"weaker pass rule: {_rule_text(n0, k0)} to "
                                                f"{_rule_text(n1, k1)}"))
    if not edits:
        edits.append(CaseEdit("pass", TIGHTENED, f"stricter pass rule: {_rule_text(n0, k0)} to "
                                                 f"{_rule_text(n1, k1)}"))
    return edits


def _tag_edits(old: Case, new: Case, rule_tags: frozenset[str]) -> list[CaseEdit]:
    edits = []
    for tag in sorted(set(old.tags) - set(new.tags)):
        if tag in rule_tags:
            edits.append(CaseEdit("tags", LOOSENED, f"tag {tag} removed; the gate has a rule "
                                                    f"for {tag} cases"))
        else:
            edits.append(CaseEdit("tags", NEUTRAL, f"tag {tag} removed"))
    for tag in sorted(set(new.tags) - set(old.tags)):
        edits.append(CaseEdit("tags", NEUTRAL, f"tag {tag} added"))
    return edits


def _now_tolerated(old: Case, new: Case, rules: tuple[Rule, ...]) -> list[CaseEdit]:
    """A tag added brings the case under a rule that tolerates its failures (a rate, a count,
    or ``block_on_any_failure: false``): a failure that blocked may no longer."""
    if set(old.tags) == set(new.tags):
        return []
    return [CaseEdit("tags", LOOSENED, f"now covered by the rule '{rule.describe()}' (a tag "
                                       "added)")
            for rule in rules if rule.may_tolerate(new.severity)
            and rule.matches(new.severity, new.tags) and not rule.matches(old.severity, old.tags)]


def check_edits(old: tuple[CheckSpec, ...], new: tuple[CheckSpec, ...]) -> list[CaseEdit]:
    """Match expectations between versions (identical ones first, then by kind in order) and
    classify each difference."""
    old_left = list(old)
    new_left = list(new)
    for spec in list(new_left):
        twin = next((o for o in old_left if _same(o, spec)), None)
        if twin is not None:
            old_left.remove(twin)
            new_left.remove(spec)
    edits = []
    for spec in list(new_left):
        twin = next((o for o in old_left if o.kind == spec.kind and o.name == spec.name), None) \
            or next((o for o in old_left if o.kind == spec.kind), None)
        if twin is None:
            continue
        old_left.remove(twin)
        new_left.remove(spec)
        effect, message = classify(spec.kind, twin.args, spec.args)
        edits.append(CaseEdit(f"expect[{spec.index}] ({spec.kind})", effect, message))
    for spec in old_left:
        edits.append(CaseEdit(f"expect[{spec.index}] ({spec.kind})", LOOSENED,
                              f"check removed: {spec.kind} {_short(spec.args)}"))
    for spec in new_left:
        edits.append(CaseEdit(f"expect[{spec.index}] ({spec.kind})", TIGHTENED,
                              f"check added: {spec.kind} {_short(spec.args)}"))
    return sorted(edits, key=lambda e: (e.field, e.message))


def _same(a: CheckSpec, b: CheckSpec) -> bool:
    return a.kind == b.kind and a.name == b.name and _plain(a.args) == _plain(b.args)


def classify(kind: str, old: Any, new: Any) -> tuple[str, str]:
    """The effect of changing one check's arguments from ``old`` to ``new``."""
    if _plain(old) == _plain(new):
        return NEUTRAL, f"{kind}: renamed"
    if kind in REGEX_KINDS:
        return UNCLEAR, (f"{kind} changed from {_short(old)} to {_short(new)}: cannot tell "
                         "whether it is looser; review it")
    if kind in TEXT_KINDS:
        return _classify_texts(kind, old, new)
    if kind in NUMERIC_KINDS and isinstance(old, (int, float)) and isinstance(new, (int, float)):
        return _bound(kind, old, new, upper=True)
    if isinstance(old, dict) and isinstance(new, dict):
        return _classify_mapping(kind, old, new)
    return UNCLEAR, f"{kind} changed from {_short(old)} to {_short(new)}: review it"


def _bound(what: str, old: float, new: float, *, upper: bool) -> tuple[str, str]:
    looser = new > old if upper else new < old
    word = "raised" if new > old else "lowered"
    return (LOOSENED if looser else TIGHTENED), f"{what} {word} from {old} to {new}"


def _classify_mapping(kind: str, old: dict, new: dict) -> tuple[str, str]:
    """Key by key: known bounds and ignore_case are judged; anything else is unclear."""
    effects: list[tuple[str, str]] = []
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key), new.get(key)
        if _plain(a) == _plain(b):
            continue
        if key in ("ignore_case", "case_insensitive"):
            effects.append((LOOSENED, f"{kind} made {key}") if b else
                           (TIGHTENED, f"{kind} no longer {key}"))
        elif isinstance(a, (int, float)) and isinstance(b, (int, float)) and \
                not isinstance(a, bool) and key in UPPER_BOUND_KEYS + LOWER_BOUND_KEYS:
            effects.append(_bound(f"{kind}.{key}", a, b, upper=key in UPPER_BOUND_KEYS))
        elif key in ("name", "description"):
            continue
        else:
            effects.append((UNCLEAR, f"{kind}.{key} changed from {_short(a)} to {_short(b)}: "
                                     "review it"))
    if not effects:
        return NEUTRAL, f"{kind}: label changed"
    return _combine(effects)


def _combine(effects: list[tuple[str, str]]) -> tuple[str, str]:
    for effect in (LOOSENED, UNCLEAR, TIGHTENED, NEUTRAL):
        if any(e == effect for e, _ in effects):
            return effect, "; ".join(m for _, m in effects)
    return NEUTRAL, ""


def _texts(args: Any) -> tuple[set[str], str, bool] | None:
    if isinstance(args, str):
        return {args}, "all", False
    if not isinstance(args, dict):
        return None
    ignore_case = bool(args.get("ignore_case", False))
    if "text" in args:
        return {args["text"]}, "all", ignore_case
    for mode in ("any", "all"):
        if isinstance(args.get(mode), list):
            return set(args[mode]), mode, ignore_case
    return None


def _classify_texts(kind: str, old: Any, new: Any) -> tuple[str, str]:
    a, b = _texts(old), _texts(new)
    if a is None or b is None:
        return UNCLEAR, f"{kind} changed from {_short(old)} to {_short(new)}: review it"
    texts0, mode0, case0 = a
    texts1, mode1, case1 = b
    effects: list[tuple[str, str]] = []
    if case1 and not case0:
        effects.append((LOOSENED, f"{kind} made ignore_case"))
    elif case0 and not case1:
        effects.append((TIGHTENED, f"{kind} no longer ignore_case"))
    if len(texts0) == 1 and len(texts1) == 1:
        mode0 = mode1 = "all"  # one text: any and all mean the same
    if mode0 != mode1:
        looser_mode = "any" if kind == "contains" else "all"
        effects.append((LOOSENED if mode1 == looser_mode else TIGHTENED,
                        f"{kind} changed from {mode0} of to {mode1} of its texts"))
    removed = sorted(texts0 - texts1)
    added = sorted(texts1 - texts0)
    if removed or added:
        if kind == "not_contains" and mode1 == "all" and len(texts1) > 1:
            effects.append((UNCLEAR, f"{kind} texts changed ({_short(old)} to {_short(new)}): "
                                     "review it"))
        else:
            effects.append(_text_set_effect(kind, mode1, removed, added))
    return _combine(effects) if effects else (NEUTRAL, f"{kind}: label changed")


def _text_set_effect(kind: str, mode: str, removed: list[str], added: list[str]) -> tuple[str, str]:
    """Required texts (contains, all of) get looser when one is dropped, unless a longer text
    that includes it replaces it; forbidden texts (not_contains) get looser when one is
    dropped, unless a shorter text inside it replaces it; `any of` works the other way."""
    def covered(text: str) -> bool:
        if kind == "contains":
            return any(text in other for other in added)
        return any(other in text for other in added)

    what = f"{kind}: {', '.join(map(repr, removed))} removed" if removed else ""
    plus = f"{', '.join(map(repr, added))} added" if added else ""
    message = "; ".join(p for p in (what, plus) if p)
    if kind == "contains" and mode == "any":
        return (LOOSENED if added else TIGHTENED), message
    if all(covered(t) for t in removed):
        return TIGHTENED, message
    return LOOSENED, message


def _plain(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = repr(text) if isinstance(value, str) else text
    return text if len(text) <= limit else text[: limit - 1] + "…"
