"""The gate: policy, the ship / hold / block verdict, the gate diff, review, bank integrity.

``decide`` is the pure decision; ``evaluate`` gathers its inputs for a change (policy and
bank from the base commit, reviews from the head, the baseline from a git note);
``record_baseline`` stores a run's evidence as the baseline of its commit.
"""

from casebank.gate.verdict import BLOCK, HOLD, SHIP, Coverage, Reason, Verdict  # noqa: I001
from casebank.gate.baseline import read_baseline, record_baseline
from casebank.gate.decide import decide
from casebank.gate.diff import compare
from casebank.gate.evaluate import evaluate
from casebank.gate.policy import Policy, parse_policy, policy_from_config

__all__ = ["BLOCK", "HOLD", "SHIP", "Coverage", "Policy", "Reason", "Verdict", "compare",
           "decide", "evaluate", "parse_policy", "policy_from_config", "read_baseline",
           "record_baseline"]
