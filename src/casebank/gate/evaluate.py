"""The gate for a change: policy and bank from the base, reviews and evidence from the head.

``evaluate`` is what ``casebank gate`` and the GitHub action call. It gathers the inputs
(from git and files) and hands them to the pure ``decide``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import posixpath
from pathlib import Path
from typing import Any

from casebank import git
from casebank.errors import UserError
from casebank.evidence import Evidence
from casebank.gate import baseline as baselines
from casebank.gate import history
from casebank.gate.approval import (
    POLICY,
    Approval,
    config_mapping,
    load_approvals_at,
    policy_fingerprint_of,
)
from casebank.gate.changes import BankChange, PolicyChange
from casebank.gate.decide import decide
from casebank.gate.policy import Policy, policy_from_config, policy_from_yaml
from casebank.gate.policy_changes import compare_judges, compare_policies
from casebank.gate.review import Review, load_reviews, load_reviews_at
from casebank.gate.verdict import Verdict


def evaluate(config: Any, evidence: Evidence, *, repo: Path, base: str | None = None,
             head: str | None = None, baseline: Evidence | None = None,
             baseline_label: str | None = None, today: dt.date | None = None) -> Verdict:
    """The verdict for ``evidence`` of the project ``config``.

    With ``base`` (a commit), the policy and the existing cases are read from the base (a
    change cannot weaken its own gate): the change's policy edits and bank erosion are listed
    and hold the verdict when they loosen it; the baseline defaults to the evidence recorded
    for the base (git note under refs/notes/casebank). ``head`` (default HEAD) is the commit
    whose review files count. Without ``base``, the policy of ``config`` applies as is.
    """
    today = today or dt.date.today()
    notes: list[str] = []
    head_policy = policy_from_config(config)
    policy = head_policy
    policy_changes: list[PolicyChange] = []
    bank_changes = None
    if base is None:
        reviews = _reviews_from_tree(config, policy)
    else:
        project = history.project_of(config, Path(repo))
        base_commit = history.resolve(project, base, "base")
        head_commit = history.resolve(project, head or "HEAD", "head")
        base_config = history.config_at(project, base_commit)
        head_config = history.config_at(project, head_commit)
        if base_config is None:
            notes.append(f"{project.config} does not exist at the base {base_commit[:12]}: the "
                         "gate uses this change's own policy (first setup)")
        else:
            policy = policy_from_yaml(base_config,
                                      source=f"{project.config} at {base_commit[:12]}")
            policy_changes = compare_policies(policy, head_policy, path=project.config)
            policy_changes += compare_judges(
                config_mapping(base_config), config.raw, _judges_asked(evidence),
                path=project.config, line_of=lambda field: config.problem(field, "").line)
        rule_tags = frozenset(tag for rule in policy.rules for tag in rule.tags)
        found = history.bank_changes(project, base_commit, head_commit, base_config=base_config,
                                     head_config=head_config, rule_tags=rule_tags,
                                     limits=config.limits, review_dir=policy.review_dir,
                                     rules=policy.rules)
        bank_changes = found.changes
        for problem in found.base_problems:
            notes.append(f"at the base, {problem.render()} (compared as if absent)")
        reviews = _reviews_at(project, head_commit, policy)
        approvals, problems = load_approvals_at(project.repo, head_commit,
                                                project.path(policy.review_dir))
        if problems:
            raise UserError(f"{len(problems)} problem(s) in the approval files at "
                            f"{head_commit[:12]}", problems)
        bank_changes = [_approve_case(c, approvals) for c in bank_changes]
        if head_config is not None:
            policy_changes = _approve_policy(policy_changes, approvals,
                                             policy_fingerprint_of(head_config))
        notes += _decisions_in_change(project, base_commit, head_commit, policy.review_dir,
                                      reviews, approvals)
        if baseline is None:
            recorded = baselines.from_note(project.repo, base_commit)
            baseline, baseline_label = recorded.evidence, recorded.label
            if recorded.evidence is None:
                notes.append(recorded.label)
    return decide(policy, evidence, baseline=baseline, reviews=reviews,
                  bank_changes=bank_changes, policy_changes=policy_changes, today=today,
                  baseline_label=baseline_label, notes=notes)


def _judges_asked(evidence: Evidence) -> set[str]:
    """The judge targets named by the judge checks of a run (the default one is ``judge:``)."""
    return {check.evidence["target"] for case in evidence.cases for sample in case.samples
            for check in sample.checks
            if check.kind == "judge" and isinstance(check.evidence.get("target"), str)}


def _approve_case(change: BankChange, approvals: dict[str, Approval]) -> BankChange:
    approval = approvals.get(f"case {change.case_id}")
    if approval is None or not change.erodes or approval.change != change.fingerprint:
        return change
    return dataclasses.replace(change, approval=approval.describe())


def _approve_policy(changes: list[PolicyChange], approvals: dict[str, Approval],
                    fingerprint: str) -> list[PolicyChange]:
    approval = approvals.get(POLICY)
    if approval is None or approval.change != fingerprint:
        return changes
    return [dataclasses.replace(c, approval=approval.describe()) if c.loosens else c
            for c in changes]


def _decisions_in_change(project: history.Project, base: str, head: str, review_dir: str,
                         reviews: dict[str, Review], approvals: dict[str, Approval]) -> list[str]:
    """Review and approval files this change adds or edits: reviewers should see them."""
    folder = project.path(review_dir) + "/"
    touched = {name for status, name in git.changed_files(project.repo, base, head)
               if name.startswith(folder) and status != "D"}
    notes = [f"this change adds or edits {r.path}: {r.decision} {r.case_id} by {r.reviewer}"
             for r in reviews.values() if r.path in touched]
    notes += [f"this change adds or edits {a.path}: approves {a.subject} by {a.reviewer}"
              for a in approvals.values() if a.path in touched]
    return notes


def _reviews_from_tree(config: Any, policy: Policy) -> dict[str, Review]:
    shown = posixpath.dirname(getattr(config, "display_path", "") or "")
    reviews, problems = load_reviews(Path(config.root), policy.review_dir, shown=shown)
    if problems:
        raise UserError(f"{len(problems)} problem(s) in the review files", problems)
    return reviews


def _reviews_at(project: history.Project, commit: str, policy: Policy) -> dict[str, Review]:
    reviews, problems = load_reviews_at(project.repo, commit, project.path(policy.review_dir))
    if problems:
        raise UserError(f"{len(problems)} problem(s) in the review files at {commit[:12]}",
                        problems)
    return reviews
