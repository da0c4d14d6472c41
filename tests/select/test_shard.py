import random
from collections import Counter

import pytest

from casebank.errors import ExitCode, UserError
from casebank.select.shard import assign_shards, cases_for_shard, expected_cost, parse_shard

from .factory import make_case, mixed_bank


def test_parse_shard():
    assert parse_shard("2/4") == (2, 4)
    assert parse_shard(" 1/1 ") == (1, 1)


@pytest.mark.parametrize("text", ["0/4", "5/4", "2", "a/b", "2/0", "-1/4", "1/999", ""])
def test_parse_shard_rejects_bad_values_with_the_expected_form(text):
    with pytest.raises(UserError) as info:
        parse_shard(text)
    assert info.value.message == (f"--shard {text!r}: expected i/n with 1 <= i <= n <= 256, "
                                  "e.g. --shard 2/4 for the second of four shards")
    assert info.value.exit_code == ExitCode.USAGE


def test_expected_cost_is_samples_times_tool_steps():
    assert expected_cost(make_case("a", samples=3)) == 3  # no tools: one model turn a sample
    assert expected_cost(make_case("b", samples=3, tools=2, max_steps=6)) == 18


@pytest.mark.parametrize("count", range(1, 9))
def test_every_case_is_in_exactly_one_shard(count):
    bank = mixed_bank(600)
    seen = Counter(case.id for index in range(1, count + 1)
                   for case in cases_for_shard(bank, index, count))
    assert set(seen) == {case.id for case in bank}
    assert set(seen.values()) == {1}


def test_a_shard_keeps_the_banks_order():
    bank = mixed_bank(200)
    shard = cases_for_shard(bank, 2, 3)
    positions = [bank.index(case) for case in shard]
    assert positions == sorted(positions)


def test_shards_do_not_depend_on_the_banks_order():
    bank = mixed_bank(1000)
    shuffled = bank[:]
    random.Random(3).shuffle(shuffled)
    for count in (2, 5, 8):
        assert assign_shards(shuffled, count) == assign_shards(bank, count)


@pytest.mark.parametrize("count", [2, 4, 8])
def test_adding_cases_moves_almost_no_existing_case(count):
    bank = mixed_bank(2000)
    before = assign_shards(bank, count)
    one_more = assign_shards(bank + mixed_bank(1, seed=99, prefix="new"), count)
    assert sum(before[cid] != one_more[cid] for cid in before) <= 2
    # adding 5% of the bank moves well under 1% of the existing cases
    more = assign_shards(bank + mixed_bank(100, seed=98, prefix="new"), count)
    assert sum(before[cid] != more[cid] for cid in before) <= 20


@pytest.mark.parametrize("count", range(2, 9))
def test_shards_are_balanced_by_count_and_cost_on_a_10000_case_bank(count, big_bank):
    placed = assign_shards(big_bank, count)
    cases, cost = Counter(), Counter()
    for case in big_bank:
        cases[placed[case.id]] += 1
        cost[placed[case.id]] += expected_cost(case)
    fair_cases, fair_cost = len(big_bank) / count, sum(cost.values()) / count
    assert all(abs(cases[i] / fair_cases - 1) <= 0.10 for i in range(1, count + 1)), cases
    assert all(abs(cost[i] / fair_cost - 1) <= 0.10 for i in range(1, count + 1)), cost


@pytest.fixture(scope="module")
def big_bank():
    return mixed_bank(10_000)


def test_costly_cases_spread_out_on_a_small_bank():
    # ten agent cases of cost 40 and forty text cases of cost 1: balance the work, not the count
    bank = [make_case(f"agent-{i}", samples=5, tools=1, max_steps=8) for i in range(10)]
    bank += [make_case(f"text-{i}") for i in range(40)]
    loads = [sum(expected_cost(c) for c in cases_for_shard(bank, i, 2)) for i in (1, 2)]
    assert abs(loads[0] - loads[1]) <= 40  # at most one agent case apart


def test_shard_number_out_of_range_is_a_user_error():
    with pytest.raises(UserError, match=r"--shard 3/2: the shard number must be between 1 and 2"):
        cases_for_shard(mixed_bank(4), 3, 2)
