"""``--shard i/n``: split the selected cases into n parts that CI jobs run side by side.

How a case finds its shard (see docs/scale.md for the measurements):

1. Every case ranks the n shards by a hash of (case id, shard number): rendezvous hashing.
   On its own this makes a case's shard depend on nothing but its id, so adding or removing
   cases never moves another case, but balance is only statistical.
2. To bound the imbalance, cases are placed one by one in the order of the hash of their id
   (never the bank's order) and each goes to the best-ranked shard that still has room:
   neither its expected cost (samples x tool steps) nor its number of cases may exceed the
   fair share of the whole selection by more than a small slack. This is consistent hashing
   with bounded loads.

The trade-off: the slack is what keeps a case in its favourite shard. The cases placed before
a new case's hash position keep their shard exactly; later cases move only when a shard's room
ran out at a different moment, which with this slack is rare (a handful per thousand added).
Every case lands in exactly one shard for any n, and the result does not depend on the order
in which the cases are given.
"""

from __future__ import annotations

import hashlib
import math

from casebank.bank.case import Case
from casebank.errors import UserError

MAX_SHARDS = 256
# Fair share is exceeded by at most this fraction (of cost, and of case count).
SLACK = 0.04


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` -> ``(2, 4)``; UserError naming the value when it is not ``i/n`` with 1 <= i <= n."""
    index_text, sep, count_text = text.strip().partition("/")
    try:
        index, count = int(index_text), int(count_text)
    except ValueError:
        index = count = 0
    if not sep or count < 1 or count > MAX_SHARDS or not 1 <= index <= count:
        raise UserError(f"--shard {text!r}: expected i/n with 1 <= i <= n <= {MAX_SHARDS}, "
                        "e.g. --shard 2/4 for the second of four shards")
    return index, count


def expected_cost(case: Case) -> int:
    """What running a case costs, in model turns: samples x tool steps (1 step without tools)."""
    steps = case.input.max_steps if case.input.tools else 1
    return max(1, case.rule.samples) * max(1, steps)


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def _ranking(case_id: str, count: int) -> list[int]:
    """Shards (0-based) from the case's favourite to its least favourite."""
    return sorted(range(count), key=lambda shard: (-_digest(f"{case_id}\0{shard}"), shard))


def assign_shards(cases: list[Case], count: int) -> dict[str, int]:
    """Case id -> its shard (1-based) among ``count`` shards."""
    if count < 1:
        raise ValueError("count must be at least 1")
    if count == 1:
        return {case.id: 1 for case in cases}
    costs = {case.id: expected_cost(case) for case in cases}
    total_cost, total_cases = sum(costs.values()), len(costs)
    # A shard stays open while it holds less than its fair share plus slack (of cost and of
    # cases), so it overshoots by at most one case.
    cost_room = total_cost / count * (1 + SLACK)
    case_room = math.ceil(total_cases / count * (1 + SLACK))
    cost_load = [0] * count
    case_load = [0] * count
    placed: dict[str, int] = {}
    for case_id in sorted(costs, key=lambda cid: (_digest(cid), cid)):
        cost = costs[case_id]
        ranking = _ranking(case_id, count)
        chosen = next((shard for shard in ranking
                       if case_load[shard] < case_room and cost_load[shard] < cost_room), None)
        if chosen is None:  # one shard full of cheap cases, the others of costly ones
            chosen = min(ranking, key=lambda shard: max(case_load[shard] / case_room,
                                                        cost_load[shard] / cost_room))
        cost_load[chosen] += cost
        case_load[chosen] += 1
        placed[case_id] = chosen + 1
    return placed


def cases_for_shard(cases: list[Case], index: int, count: int) -> list[Case]:
    """The cases of shard ``index`` (1-based) of ``count``, in the order they were given."""
    if not 1 <= index <= count:
        raise UserError(f"--shard {index}/{count}: the shard number must be between 1 and {count}")
    placed = assign_shards(cases, count)
    return [case for case in cases if placed[case.id] == index]
