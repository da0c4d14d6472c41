"""Budget checks: latency_ms, tokens, cost. Missing measurements are errors, never passes."""

from __future__ import annotations

from typing import Any

from casebank.check.kind import ArgProblem, CheckKind, Env, Outcome, Subject, errored, failed, passed

TOKEN_KINDS = ("prompt", "completion", "total")


def _max(args: Any) -> float:
    return args if isinstance(args, (int, float)) else args["max"]


def check_latency(args: Any, subject: Subject) -> Outcome:
    limit = _max(args)
    latency = subject.sample.latency_ms
    if latency is None:
        return errored("the target reported no latency for this sample, so the latency budget "
                       "could not be checked")
    evidence = {"latency_ms": latency, "max": limit, "cached": subject.sample.cached}
    note = " (measured when the answer was first recorded)" if subject.sample.cached else ""
    if latency > limit:
        return failed(f"the sample took {latency:,.0f} ms{note}; the case allows at most "
                      f"{limit:,} ms", **evidence)
    return passed(f"the sample took {latency:,.0f} ms{note} (at most {limit:,} ms)", **evidence)


def token_counts(subject: Subject) -> dict[str, int | None] | None:
    usage = subject.sample.usage
    if usage is None:
        return None
    total = usage.total_tokens
    if total is None and usage.prompt_tokens is not None and usage.completion_tokens is not None:
        total = usage.prompt_tokens + usage.completion_tokens
    return {"prompt": usage.prompt_tokens, "completion": usage.completion_tokens, "total": total}


def _token_limits(args: Any) -> dict[str, int]:
    return {"total": args} if isinstance(args, int) else dict(args)


def check_tokens(args: Any, subject: Subject) -> Outcome:
    limits = _token_limits(args)
    counts = token_counts(subject)
    if counts is None:
        return errored("the target reported no token usage, so the token budget could not be "
                       "checked")
    missing = [k for k in TOKEN_KINDS if k in limits and counts[k] is None]
    if missing:
        return errored(f"the target reported no {' / '.join(missing)} token count, so the token "
                       f"budget could not be checked", usage=counts)
    over = [f"{counts[k]:,} {k} tokens (at most {limits[k]:,})" for k in TOKEN_KINDS
            if k in limits and counts[k] > limits[k]]
    evidence = {"usage": counts, "max": limits}
    if over:
        return failed(f"the sample used {'; '.join(over)}", **evidence)
    used = ", ".join(f"{counts[k]:,} {k}" for k in TOKEN_KINDS if k in limits)
    return passed(f"the sample used {used} tokens, within the budget", **evidence)


def validate_tokens(args: Any, env: Env) -> list[ArgProblem]:
    if isinstance(args, dict) and not any(k in args for k in TOKEN_KINDS):
        return [ArgProblem((), "give at least one of `prompt`, `completion`, `total`")]
    return []


def sample_cost(subject: Subject) -> tuple[float | None, str]:
    """The sample's cost in USD and where it came from, or None and why it is unknown."""
    if subject.sample.cost is not None:
        return subject.sample.cost, "reported by the runner"
    prices = subject.ctx.prices
    if not prices or "prompt_per_1k" not in prices or "completion_per_1k" not in prices:
        return None, ("the target has no prices configured (`prompt_per_1k` and "
                      "`completion_per_1k` in USD)")
    counts = token_counts(subject)
    if counts is None or counts["prompt"] is None or counts["completion"] is None:
        return None, "the target reported no prompt / completion token usage"
    cost = (counts["prompt"] * prices["prompt_per_1k"]
            + counts["completion"] * prices["completion_per_1k"]) / 1000
    return cost, (f"{counts['prompt']:,} prompt tokens × ${prices['prompt_per_1k']}/1k + "
                  f"{counts['completion']:,} completion tokens × "
                  f"${prices['completion_per_1k']}/1k")


def check_cost(args: Any, subject: Subject) -> Outcome:
    limit = _max(args)
    cost, basis = sample_cost(subject)
    if cost is None:
        return errored(f"the cost could not be computed: {basis}")
    evidence = {"cost_usd": cost, "max": limit, "basis": basis}
    if cost > limit:
        return failed(f"the sample cost ${cost:.6f} ({basis}); the case allows at most "
                      f"${limit}", **evidence)
    return passed(f"the sample cost ${cost:.6f} (at most ${limit})", **evidence)


LATENCY = CheckKind("latency_ms", "the sample answered within n milliseconds", check_latency)
TOKENS = CheckKind("tokens", "token usage within prompt / completion / total maxima",
                   check_tokens, validate_tokens)
COST = CheckKind("cost", "the sample cost at most so many USD", check_cost)
