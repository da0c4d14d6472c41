"""Checks: the kinds of expectation a case can state, one module per family of kinds, one registry line per kind.

Public surface: ``validate_spec`` (load time), ``run_checks`` (per sample),
``CheckContext``, the registry ``KINDS`` and ``JUDGE_PROMPT_VERSION`` (for cache keys).
"""

from casebank.check.context import CheckContext, JudgeFn, ReadFile, files_under
from casebank.check.judge import JUDGE_PROMPT_VERSION, judge_messages
from casebank.check.kind import CheckKind
from casebank.check.registry import KINDS
from casebank.check.result import ERROR, FAIL, PASS, STATUSES, UNCERTAIN, CheckResult
from casebank.check.run import run_check, run_checks
from casebank.check.validate import referenced_files, validate_item, validate_spec

__all__ = [
    "CheckContext",
    "CheckKind",
    "CheckResult",
    "ERROR",
    "FAIL",
    "JUDGE_PROMPT_VERSION",
    "JudgeFn",
    "KINDS",
    "PASS",
    "ReadFile",
    "STATUSES",
    "UNCERTAIN",
    "files_under",
    "judge_messages",
    "referenced_files",
    "run_check",
    "run_checks",
    "validate_item",
    "validate_spec",
]
