"""Talking to GitHub: PyGithub with retries, and every failure kept as a value.

What GitHub answers never changes the verdict or the exit status. A call that fails after
its retries is recorded as an ``ApiFailure`` (reported in the step summary and the log) and
the action carries on. A 403 on a write that is not a rate limit means the token is
read-only (a pull request from a fork, or missing ``permissions:``): the remaining writes
are skipped and the verdict goes out through the step summary, the log and the exit code.

Retries (urllib3 underneath PyGithub): 5xx and connection errors with exponential backoff;
403/429 secondary rate limits after ``Retry-After`` or, with ``x-ratelimit-remaining: 0``,
until ``x-ratelimit-reset``. ``CASEBANK_GITHUB_BACKOFF`` (seconds, default 1) is the base
of every wait: backoff ``base × 2ⁿ``, the pause between writes GitHub asks for (1 × base),
and the cap on a wait GitHub requests (60 × base).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException
from github.Repository import Repository
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

T = TypeVar("T")

BACKOFF_ENV = "CASEBANK_GITHUB_BACKOFF"
RETRIES_ENV = "CASEBANK_GITHUB_RETRIES"
DEFAULT_RETRIES = 4
RETRY_STATUSES = (403, 429, 500, 502, 503, 504)

READ_ONLY = "read-only"
RATE_LIMITED = "rate-limited"
SERVER = "server error"
NETWORK = "network"
REJECTED = "rejected"


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def rate_limit_wait(headers: Any, now: float | None = None) -> float | None:
    """Seconds GitHub asks us to wait (``Retry-After`` or ``x-ratelimit-reset`` when the
    remaining budget is 0), or None when the response does not say."""
    retry_after = headers.get("Retry-After")
    if retry_after:
        seconds = _number(retry_after)
        if seconds is None:
            try:
                seconds = parsedate_to_datetime(retry_after).timestamp() - time.time()
            except (TypeError, ValueError):
                seconds = None
        if seconds is not None:
            return max(0.0, seconds)
    if headers.get("x-ratelimit-remaining") == "0":
        reset = _number(headers.get("x-ratelimit-reset"))
        if reset is not None:
            return max(0.0, reset - (time.time() if now is None else now))
    return None


class GitHubRetry(Retry):
    """Retry 5xx and GitHub's rate limits; never a plain 403 (a read-only token)."""

    def __init__(self, *, backoff: float = 1.0, **kwargs: Any) -> None:
        kwargs.setdefault("total", DEFAULT_RETRIES)
        kwargs.setdefault("status_forcelist", RETRY_STATUSES)
        kwargs.setdefault("allowed_methods", None)  # writes too: a 502 did not apply them
        kwargs.setdefault("raise_on_status", False)  # hand the last answer to PyGithub
        kwargs.setdefault("respect_retry_after_header", True)
        super().__init__(**kwargs)
        self.backoff = backoff

    def new(self, **kwargs: Any) -> GitHubRetry:
        kwargs.setdefault("backoff", self.backoff)
        return super().new(**kwargs)  # type: ignore[return-value]

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None,
                  _stacktrace: Any = None) -> Retry:
        if response is not None and response.status == 403 \
                and rate_limit_wait(response.headers) is None:
            # A 403 that is not a rate limit will not change on retry. Raising MaxRetryError
            # (with raise_on_status off) hands the response, body intact, to PyGithub.
            raise MaxRetryError(_pool, url or "", None)
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def sleep(self, response: Any = None) -> None:
        time.sleep(self.wait_seconds(response))

    def wait_seconds(self, response: Any = None) -> float:
        """The next wait: what GitHub asked for (capped), else exponential backoff."""
        cap = 60 * self.backoff
        if response is not None:
            asked = rate_limit_wait(response.headers)
            if asked is not None:
                return min(asked, cap)
            if response.status in (403, 429):
                return cap  # a rate limit without a hint: GitHub advises a minute
        attempts = max(1, len(self.history))
        return min(self.backoff * 2 ** (attempts - 1), cap)


@dataclass(frozen=True)
class ApiFailure:
    """A GitHub request that did not succeed after its retries."""

    action: str  # "create check run 'casebank / gate'"
    kind: str  # read-only | rate-limited | server error | network | rejected
    status: int | None = None
    message: str = ""

    def render(self) -> str:
        status = f"HTTP {self.status}" if self.status else self.kind
        text = f"could not {self.action}: {status}"
        return text + (f" ({self.message})" if self.message else "")


def classify(exc: Exception) -> tuple[str, int | None, str]:
    """(kind, status, message) of a failed call."""
    if isinstance(exc, GithubException):
        data = exc.data if isinstance(exc.data, dict) else {}
        message = str(data.get("message") or exc.data or "")[:300]
        status = exc.status
        if status in (403, 429) and ("rate limit" in message.lower()
                                     or rate_limit_wait(exc.headers or {}) is not None):
            return RATE_LIMITED, status, message
        if status == 403:
            return READ_ONLY, status, message
        if status and status >= 500:
            return SERVER, status, message
        return REJECTED, status, message
    return NETWORK, None, str(exc)[:300]


class GitHubApi:
    """One repository's REST API for the action. Calls never raise; failures are recorded."""

    def __init__(self, api_url: str, token: str | None, repository: str, *,
                 backoff: float | None = None, retries: int | None = None,
                 timeout: int = 30) -> None:
        self.backoff = backoff if backoff is not None else _env_float(BACKOFF_ENV, 1.0)
        retries = retries if retries is not None else int(_env_float(RETRIES_ENV, DEFAULT_RETRIES))
        self.repository = repository
        self.has_token = bool(token)
        # ghs_ is GitHub's prefix for app installation tokens (GITHUB_TOKEN among them): what
        # such a token writes is authored by the app's bot account.
        self.posts_as_bot = bool(token) and token.startswith("ghs_")
        self.failures: list[ApiFailure] = []
        self.read_only = False
        self.requests = 0
        self._github = Github(
            base_url=api_url, auth=Auth.Token(token) if token else None, timeout=timeout,
            retry=GitHubRetry(total=retries, backoff=self.backoff), per_page=100,
            seconds_between_requests=0.25 * self.backoff, seconds_between_writes=self.backoff,
            lazy=True)
        self._repo: Repository | None = None

    @property
    def repo(self) -> Repository:
        """The repository, without fetching it (lazy: no request until something is used)."""
        if self._repo is None:
            self._repo = self._github.get_repo(self.repository)
        return self._repo

    def read(self, action: str, call: Callable[[], T]) -> T | None:
        """Run a read; its result, or None (failure recorded; nothing is read without a token)."""
        if not self.has_token:
            return None
        return self._attempt(action, call)

    def write(self, action: str, call: Callable[[], T]) -> T | None:
        """Run a write unless the token is known to be read-only; result or None."""
        if not self.has_token:
            if not self.read_only:
                self.read_only = True
                self.failures.append(ApiFailure(action, READ_ONLY, None,
                                                "no github-token was given"))
            return None
        if self.read_only:
            return None
        return self._attempt(action, call)

    def try_write(self, action: str, call: Callable[[], Any]) -> bool:
        """Run a write whose result does not matter; whether it went through."""
        if not self.has_token or self.read_only:
            self.write(action, call)
            return False
        before = len(self.failures)
        self.write(action, call)
        return len(self.failures) == before

    def _attempt(self, action: str, call: Callable[[], T]) -> T | None:
        try:
            return call()
        except (GithubException, requests.RequestException, OSError) as exc:
            kind, status, message = classify(exc)
            if kind == READ_ONLY:
                self.read_only = True
            self.failures.append(ApiFailure(action, kind, status, message))
            return None

    def close(self) -> None:
        self._github.close()


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        return default
    return number if number >= 0 else default
