"""The one sticky PR comment: found by its hidden marker, updated in place, copies removed.

A comment is ours when its body starts with ``<!-- casebank:comment -->`` and the line naming
our check (two workflows with different ``check-name`` inputs keep one comment each), and,
with an app token such as ``GITHUB_TOKEN``, a bot wrote it: anyone can paste the marker into
a comment, and that comment must be neither edited into our report (its author could edit it
back) nor deleted as a copy. All
pages of the PR's comments are read, because on a busy PR ours may not be on the first.
The oldest of ours is kept (its place in the conversation stays stable), the others deleted.

``comment: on-change`` updates only when the verdict or the set of cases that did not pass
changed (a hidden fingerprint in the body), and posts a first comment only when the verdict
is not SHIP: a quiet PR stays quiet until there is something to read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from casebank.gate.verdict import SHIP
from casebank.github.client import GitHubApi
from casebank.report.markdown import comment_marker

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
NOT_POSTED = "not posted"
FAILED = "failed"

_STATE = re.compile(r"<!-- casebank:state (\w+) -->")


@dataclass
class CommentResult:
    action: str  # created | updated | unchanged | not posted | failed
    url: str | None = None
    deleted: int = 0
    why: str = ""


def state_of(body: str) -> str | None:
    found = _STATE.search(body or "")
    return found.group(1) if found else None


def post(api: GitHubApi, pull_number: int, body: str, *, check_name: str, state: str,
         decision: str, mode: str = "always") -> CommentResult:
    """Create or update the sticky comment; delete extra copies. Never raises."""
    if api.read_only or not api.has_token:
        return CommentResult(NOT_POSTED, why="the token cannot write pull request comments")
    marker = comment_marker(check_name)
    issue = api.repo.get_issue(pull_number)  # lazy: no request
    comments: list[Any] | None = api.read(
        f"list the comments of pull request #{pull_number}", lambda: list(issue.get_comments()))
    if comments is None:
        if api.read_only:
            return CommentResult(NOT_POSTED, why="the token cannot read the pull request")
        comments = []  # listing failed: post anyway; the next run removes a duplicate
    ours = [c for c in comments if (c.body or "").startswith(marker)
            and (not api.posts_as_bot or c.user.type == "Bot")]
    keep, extra = (ours[0], ours[1:]) if ours else (None, [])
    deleted = 0
    for copy in extra:
        if api.try_write(f"delete duplicate comment {copy.id}", copy.delete):
            deleted += 1
    if mode == "on-change":
        if keep is not None and state_of(keep.body) == state:
            return CommentResult(UNCHANGED, keep.html_url, deleted,
                                 "verdict and failures are the same as in the comment")
        if keep is None and decision == SHIP:
            return CommentResult(NOT_POSTED, None, deleted,
                                 "comment: on-change posts once the verdict is not SHIP")
    if keep is not None:
        if api.try_write(f"update comment {keep.id}", lambda: keep.edit(body)):
            return CommentResult(UPDATED, keep.html_url, deleted)
        return CommentResult(FAILED, keep.html_url, deleted)
    created = api.write(f"comment on pull request #{pull_number}",
                        lambda: issue.create_comment(body))
    if created is None:
        return CommentResult(FAILED, None, deleted)
    return CommentResult(CREATED, created.html_url, deleted)
