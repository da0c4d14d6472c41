"""Budget checks: latency_ms, tokens, cost. Missing measurements are errors."""

from __future__ import annotations

from casebank.check.result import ERROR, FAIL, PASS
from tests.check.build import check, context, text_sample, usage


def test_latency():
    ok = check({"latency_ms": 2000}, text_sample("hi", latency_ms=1234.5))
    assert (ok.status, ok.message) == (PASS, "the sample took 1,234 ms (at most 2,000 ms)")
    slow = check({"latency_ms": {"max": 1000}}, text_sample("hi", latency_ms=1500))
    assert slow.status == FAIL
    assert slow.message == "the sample took 1,500 ms; the case allows at most 1,000 ms"
    cached = check({"latency_ms": 1000}, text_sample("hi", latency_ms=1500, cached=True))
    assert cached.message == ("the sample took 1,500 ms (measured when the answer was first "
                              "recorded); the case allows at most 1,000 ms")
    unknown = check({"latency_ms": 1000}, text_sample("hi"))
    assert unknown.status == ERROR
    assert unknown.message == ("the target reported no latency for this sample, so the latency "
                               "budget could not be checked")


def test_tokens():
    sample = text_sample("hi", usage=usage(1200, 300, 1500))
    ok = check({"tokens": {"prompt": 2000, "total": 1500}}, sample)
    assert (ok.status, ok.message) == (PASS, "the sample used 1,200 prompt, 1,500 total tokens, "
                                             "within the budget")
    over = check({"tokens": {"prompt": 1000, "completion": 200, "total": 5000}}, sample)
    assert over.status == FAIL
    assert over.message == ("the sample used 1,200 prompt tokens (at most 1,000); 300 completion "
                            "tokens (at most 200)")
    shorthand = check({"tokens": 1000}, sample)
    assert shorthand.message == "the sample used 1,500 total tokens (at most 1,000)"
    summed = check({"tokens": {"total": 1600}}, text_sample("hi", usage=usage(1200, 300)))
    assert summed.status == PASS  # total computed from prompt + completion


def test_tokens_without_usage_is_an_error():
    none = check({"tokens": {"total": 100}}, text_sample("hi"))
    assert none.status == ERROR
    assert none.message == ("the target reported no token usage, so the token budget could not "
                            "be checked")
    partial = check({"tokens": {"completion": 100}}, text_sample("hi", usage=usage(50, None)))
    assert partial.status == ERROR
    assert partial.message == ("the target reported no completion token count, so the token "
                               "budget could not be checked")


PRICES = {"prompt_per_1k": 0.0005, "completion_per_1k": 0.0015}


def test_cost_from_prices_in_the_context():
    sample = text_sample("hi", usage=usage(2000, 1000))
    ok = check({"cost": 0.01}, sample, context(prices=PRICES))
    assert (ok.status, ok.message) == (PASS, "the sample cost $0.002500 (at most $0.01)")
    over = check({"cost": {"max": 0.002}}, sample, context(prices=PRICES))
    assert over.status == FAIL
    assert over.message == ("the sample cost $0.002500 (2,000 prompt tokens × $0.0005/1k + "
                            "1,000 completion tokens × $0.0015/1k); the case allows at most $0.002")
    reported = check({"cost": 0.001}, text_sample("hi", cost=0.004))
    assert reported.message == ("the sample cost $0.004000 (reported by the runner); the case "
                                "allows at most $0.001")


def test_cost_without_prices_or_usage_is_an_error():
    no_prices = check({"cost": 1}, text_sample("hi", usage=usage(10, 10)))
    assert no_prices.status == ERROR
    assert no_prices.message == ("the cost could not be computed: the target has no prices "
                                 "configured (`prompt_per_1k` and `completion_per_1k` in USD)")
    no_usage = check({"cost": 1}, text_sample("hi"), context(prices=PRICES))
    assert no_usage.status == ERROR
    assert no_usage.message == ("the cost could not be computed: the target reported no prompt / "
                                "completion token usage")
