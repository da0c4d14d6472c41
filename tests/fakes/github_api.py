"""A local fake of GitHub's REST API that holds every request to GitHub's own OpenAPI contract.

It is a real HTTP server on 127.0.0.1, so the action talks to it exactly as it talks to GitHub
(through PyGithub, with ``GITHUB_API_URL`` pointing here). Every request is matched to an
operation of the vendored extract of GitHub's OpenAPI description
(``tests/fakes/github_openapi/operations.json``, from the npm package ``@octokit/openapi``; see
``VERSION`` there and ``scripts/vendor_github_openapi.py``). Path and query parameters and the JSON
body are validated with jsonschema; unknown body keys are rejected as GitHub does. On top of the
description the fake enforces what GitHub enforces but the description leaves out:

- issue comment ``body``: not blank, at most 65,536 characters;
- check run ``output.summary`` / ``output.text``: at most 65,535 bytes (GitHub counts UTF-8 bytes);
  ``output.title`` at most 255 characters (a conservative limit: GitHub documents none);
- at most 50 annotations per request; each with ``start_line`` >= 1, ``end_line`` >= ``start_line``,
  a valid ``annotation_level``, columns only on single-line annotations, ``title`` <= 255 characters,
  ``message`` / ``raw_details`` <= 64 KiB;
- ``status: completed`` or ``completed_at`` needs a ``conclusion``; a ``conclusion`` with a
  ``status`` other than ``completed`` is refused (GitHub sets completed itself when status is omitted);
- a check run's ``head_sha`` must be a commit the fake knows (seed with ``add_pull``/``add_commit``).

A violation gets HTTP 422 with a GitHub-shaped body (``message``, ``errors``, ``documentation_url``)
and is recorded in ``fake.violations``; an unknown route gets 404 and is recorded too. Tests of
the action should end with ``assert fake.violations == []``.

Usage::

    from tests.fakes.github_api import FakeGitHub

    with FakeGitHub() as fake:
        fake.add_token("t-write", write=True)
        fake.add_token("t-read", write=False)           # a fork PR's token: writes get 403
        fake.add_pull("octo", "bank", 7, head_sha=HEAD, base_sha=BASE)
        env = {"GITHUB_API_URL": fake.url, "INPUT_GITHUB-TOKEN": "t-write", ...}
        ...run the action...
        assert fake.violations == []
        [run] = fake.check_runs("octo", "bank")         # CheckRun records, in creation order
        assert run.conclusion == "failure" and run.annotations[0]["start_line"] == 12
        [comment] = fake.comments("octo", "bank", 7)    # IssueComment records, oldest first

API summary (all methods are thread-safe):

- ``FakeGitHub(path_prefix="", html_url="https://github.com", check_responses=True)``: a context
  manager; ``.url`` is the API root (``http://127.0.0.1:PORT`` plus ``path_prefix``, e.g.
  ``"/api/v3"`` to look like GitHub Enterprise Server).
- Seeding: ``add_token(token, write=True, login="github-actions[bot]")``;
  ``add_repo(owner, repo, default_branch="main", private=False)``;
  ``add_commit(owner, repo, sha, branch=None, message=...)`` (for push / merge_group heads);
  ``add_pull(owner, repo, number, head_sha, base_sha, head_ref="feature", base_ref=None, title=...,
  body="", user="octocat", fork_owner=None, merge_commit_sha=None, draft=False)`` (creates the repo,
  the base and head commits and, with ``fork_owner``, a fork holding the head branch);
  ``add_issue(owner, repo, number, title=..., body="", user="octocat")``;
  ``add_comment(owner, repo, number, body, login="octocat")`` (a comment already on the PR).
- Faults, each consumed by the next matching requests (``method`` and ``path_contains`` narrow
  which ones; ``times`` how many): ``fail_next(status=502, times=1, ...)``;
  ``secondary_rate_limit_next(times=1, retry_after=1, status=403, ...)`` (GitHub's "You have
  exceeded a secondary rate limit" with ``retry-after``);
  ``primary_rate_limit_next(times=1, status=429, reset_after=1, ...)`` (``x-ratelimit-remaining: 0``
  and ``x-ratelimit-reset``). ``pending_faults()`` counts those not yet consumed.
- Auth: ``Authorization: token X`` or ``Bearer X``. No or an unknown token → 401
  ``Bad credentials``/``Requires authentication``; a write (POST/PATCH/PUT/DELETE) with a
  read-only token → 403 ``Resource not accessible by integration``.
- Records: ``requests`` (``RecordedRequest(method, path, query, headers, json_body, status)``,
  path without the prefix; faulted and refused requests included), ``violations``
  (``Violation(method, path, operation, field, message, source)``), ``response_errors`` (the fake's own
  responses that do not match the description: a bug in the fake, keep it empty),
  ``check_runs(owner, repo)`` (``CheckRun``: name, head_sha, status, conclusion, output,
  annotations as sent, updates), ``comments(owner, repo, number)`` (``IssueComment``: id, body,
  user), ``calls(method=None, path_contains=None)``, ``operation_of(method, path)``.

PyGithub waits 0.25 s between requests and 1 s between writes by default; in tests pass
``seconds_between_requests=0, seconds_between_writes=0`` (or the action's equivalent) to stay fast.

Operations served: GET repo, pull, issue, commit; POST/GET/PATCH check run; GET check run
annotations; GET check runs for a ref (a sha, a branch, ``pull/N/head``); GET/POST issue
comments (paginated with ``per_page``/``page`` and a ``Link`` header); GET/PATCH/DELETE an
issue comment. Query parameters the operation does not declare are violations too.
Event payloads for ``GITHUB_EVENT_PATH`` are in ``tests.fakes.webhooks``. To add one, add it to
``scripts/vendor_github_openapi.py``, regenerate the extract and add a handler to ``HANDLERS``.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

EXTRACT_DIR = Path(__file__).resolve().parent / "github_openapi"
DOCS = "https://docs.github.com/rest"
SECONDARY_RATE_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID."
)
PRIMARY_RATE_LIMIT_MESSAGE = "API rate limit exceeded for installation ID 1."
COMMENT_BODY_MAX_CHARS = 65_536
OUTPUT_TEXT_MAX_BYTES = 65_535
OUTPUT_TITLE_MAX_CHARS = 255
ANNOTATIONS_PER_REQUEST = 50
ANNOTATION_TITLE_MAX_CHARS = 255
ANNOTATION_DETAILS_MAX_BYTES = 64 * 1024
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
ACTIONS_BOT = "github-actions[bot]"


# --------------------------------------------------------------------------------------------
# The contract: the vendored OpenAPI 3.0 extract as jsonschema validators
# --------------------------------------------------------------------------------------------

SCHEMA_BASE_URI = "urn:casebank:github-openapi"
OPENAPI_ONLY_KEYWORDS = {"nullable", "discriminator", "xml", "externalDocs", "example", "examples"}
HTTP_METHODS = ("get", "post", "patch", "put", "delete")
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    """ISO 8601 with date, time and zone, as GitHub's ``YYYY-MM-DDTHH:MM:SSZ``."""
    if not isinstance(value, str):
        return True
    if "T" not in value:
        raise ValueError(f"{value!r} has no time part")
    if datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return True


def to_json_schema(node: Any) -> Any:
    """Convert an OpenAPI 3.0 schema to JSON Schema 2020-12.

    ``nullable: true`` becomes a union with ``null``; OpenAPI-only keywords are dropped;
    ``$ref``s are made absolute so they resolve in the registered extract.
    """
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key == "$ref":
            out[key] = SCHEMA_BASE_URI + value
        elif key in OPENAPI_ONLY_KEYWORDS or key.startswith("x-"):
            continue
        else:
            out[key] = to_json_schema(value)
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


def close_objects(schema: Any) -> Any:
    """Forbid keys a request schema does not list (GitHub: '"x" is not a permitted key.').

    Follows ``properties`` and ``items`` only: combinator branches (anyOf/oneOf) constrain
    the same object and say ``additionalProperties: true`` on purpose.
    """
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if "properties" in out:
        out["properties"] = {name: close_objects(sub) for name, sub in out["properties"].items()}
        out.setdefault("additionalProperties", False)
    if isinstance(out.get("items"), dict):
        out["items"] = close_objects(out["items"])
    return out


@dataclass(frozen=True)
class Parameter:
    """One path or query parameter of an operation."""

    name: str
    location: str
    required: bool
    validator: Draft202012Validator


@dataclass(frozen=True)
class Operation:
    """One (method, path) of the extract, with validators for its inputs and responses."""

    method: str
    path: str
    operation_id: str
    docs_url: str
    pattern: re.Pattern[str]
    parameters: tuple[Parameter, ...]
    body: Draft202012Validator | None
    body_required: bool
    responses: dict[int, Draft202012Validator | None]


def _follow(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def _path_pattern(path: str) -> re.Pattern[str]:
    regex = ""
    for piece in re.split(r"(\{[^}]+\})", path):
        if piece.startswith("{"):
            name = piece[1:-1]
            # a git ref may contain slashes (heads/feature/x)
            regex += f"(?P<{name}>.+)" if name == "ref" else f"(?P<{name}>[^/]+)"
        else:
            regex += re.escape(piece)
    return re.compile(f"^{regex}$")


@functools.cache
def load_operations(extract_dir: Path = EXTRACT_DIR) -> tuple[Operation, ...]:
    """Load the vendored extract into Operations with ready-made validators (once per process)."""
    document = json.loads((extract_dir / "operations.json").read_text())
    converted = {"components": {"schemas": to_json_schema(document["components"].get("schemas", {}))}}
    registry: Registry = Registry().with_resource(
        SCHEMA_BASE_URI, Resource(contents=converted, specification=DRAFT202012)
    )

    def validator(schema: Any) -> Draft202012Validator:
        return Draft202012Validator(schema, registry=registry, format_checker=FORMATS)

    operations: list[Operation] = []
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            if method not in HTTP_METHODS:
                continue
            parameters = []
            for raw in spec.get("parameters", []):
                param = _follow(document, raw)
                parameters.append(
                    Parameter(
                        name=param["name"],
                        location=param["in"],
                        required=bool(param.get("required", False)),
                        validator=validator(to_json_schema(param.get("schema", {}))),
                    )
                )
            body, body_required = None, False
            if "requestBody" in spec:
                request_body = _follow(document, spec["requestBody"])
                body_required = bool(request_body.get("required", False))
                schema = request_body["content"]["application/json"]["schema"]
                body = validator(close_objects(to_json_schema(schema)))
            responses: dict[int, Draft202012Validator | None] = {}
            for status, raw_response in spec.get("responses", {}).items():
                content = _follow(document, raw_response).get("content", {}).get("application/json")
                responses[int(status)] = validator(to_json_schema(content["schema"])) if content else None
            operations.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    operation_id=spec["operationId"],
                    docs_url=spec.get("externalDocs", {}).get("url", DOCS),
                    pattern=_path_pattern(path),
                    parameters=tuple(parameters),
                    body=body,
                    body_required=body_required,
                    responses=responses,
                )
            )
    return tuple(operations)


def _field_name(path: Iterable[str | int], extra: str | None = None) -> str:
    text = ""
    for item in path:
        text += f"[{item}]" if isinstance(item, int) else (f".{item}" if text else str(item))
    if extra:
        text = f"{text}.{extra}" if text else extra
    return text


def schema_problems(error: ValidationError) -> list[tuple[str, str]]:
    """(field, GitHub-style message) pairs for one jsonschema error."""
    where = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        return [
            (_field_name(where, name), f'"{_field_name(where, name)}" is not a permitted key.')
            for name in sorted(set(error.instance) - known)
        ]
    if error.validator == "required":
        match = re.match(r"'([^']+)' is a required property", error.message)
        name = _field_name(where, match.group(1) if match else None)
        return [(name, f'"{name}" wasn\'t supplied.')]
    name = _field_name(where) or "(body)"
    if error.validator in ("maxItems", "minItems") and isinstance(error.instance, list):
        return [(name, f"For '{name}': {len(error.instance)} items, {error.validator} is {error.validator_value}.")]
    if error.validator == "maxLength" and isinstance(error.instance, str):
        # GitHub's own wording for this schema check
        return [(name, f"Only {error.validator_value} characters are allowed; {len(error.instance)} were supplied.")]
    if error.validator in ("anyOf", "oneOf") and error.context:
        reasons = sorted({sub.message for sub in error.context})
        return [(name, f"For '{name}': no variant of {error.validator} matches ({'; '.join(reasons)[:500]}).")]
    message = error.message if len(error.message) < 300 else error.message[:300] + "..."
    return [(name, f"For '{name}': {message}")]


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


class RecordedRequest(NamedTuple):
    """One request the fake answered. ``path`` is without the ``path_prefix``."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json_body: Any
    status: int


@dataclass(frozen=True)
class Violation:
    """A request GitHub would refuse (or that has no operation in the description).

    ``source`` says which contract: ``openapi`` (the description's schemas and parameters),
    ``github`` (what GitHub enforces beyond it) or ``route`` (no such operation, bad JSON).
    """

    method: str
    path: str
    operation: str | None
    field: str | None
    message: str
    source: str = "openapi"

    def __str__(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        return f"{self.method} {self.path} ({self.operation or 'no operation'}){where}: {self.message}"


@dataclass
class Fault:
    """A canned failure answered instead of the next ``times`` matching requests."""

    status: int
    times: int
    method: str | None
    path_contains: str | None
    body: dict[str, Any]
    headers: Callable[[], dict[str, str]]

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request."""
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path_contains is None or self.path_contains in path


# --------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------


@dataclass
class Repo:
    """A repository the fake knows."""

    owner: str
    name: str
    id: int
    default_branch: str
    private: bool
    created_at: str
    commits: set[str] = field(default_factory=set)
    branches: dict[str, str] = field(default_factory=dict)
    fork_of: Repo | None = None

    def resolve(self, ref: str) -> str | None:
        """The commit a ref names: a known sha, a branch, ``heads/x`` or ``refs/heads/x``."""
        if ref in self.commits:
            return ref
        return self.branches.get(ref.removeprefix("refs/").removeprefix("heads/"))

    @property
    def full_name(self) -> str:
        """``owner/name``."""
        return f"{self.owner}/{self.name}"


@dataclass
class PullRequest:
    """A pull request; it is also an issue with the same number."""

    repo: Repo
    number: int
    id: int
    issue_id: int
    head_sha: str
    base_sha: str
    head_ref: str
    base_ref: str
    head_repo: Repo
    title: str
    body: str
    user: str
    merge_commit_sha: str | None
    draft: bool
    created_at: str


@dataclass
class Issue:
    """A plain issue."""

    repo: Repo
    number: int
    id: int
    title: str
    body: str
    user: str
    created_at: str


@dataclass
class CheckRun:
    """A check run as stored: ``output`` holds title/summary/text/images, annotations accumulate."""

    id: int
    owner: str
    repo: str
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    started_at: str | None
    completed_at: str | None
    details_url: str | None
    external_id: str
    output: dict[str, Any]
    annotations: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    updates: int = 0


@dataclass
class IssueComment:
    """An issue or pull request comment."""

    id: int
    owner: str
    repo: str
    issue_number: int
    body: str
    user: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Token:
    """A registered token and what it may do."""

    value: str
    write: bool
    login: str


@dataclass
class _Incoming:
    """A request as parsed: its operation (if any), parameters, body and what is wrong with it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any = None
    operation: Operation | None = None
    params: dict[str, str] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    reject_status: int | None = None


@dataclass
class Reply:
    """What a handler answers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class Refusal(Exception):
    """Raised by a handler for a request GitHub would refuse with a 422 (recorded as a violation)."""

    def __init__(self, field_name: str | None, message: str, resource: str, top_message: str | None = None):
        super().__init__(message)
        self.field = field_name
        self.message = message
        self.resource = resource
        self.top_message = top_message


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode().rstrip("=")


def _stable_id(text: str) -> int:
    return 1_000_000 + zlib.crc32(text.encode()) % 90_000_000


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeGitHub:
    """A fake GitHub REST API on 127.0.0.1 that validates requests against GitHub's OpenAPI description."""

    def __init__(
        self,
        *,
        path_prefix: str = "",
        html_url: str = "https://github.com",
        check_responses: bool = True,
    ) -> None:
        self.path_prefix = path_prefix.rstrip("/")
        self.html_url = html_url.rstrip("/")
        self.check_responses = check_responses
        self.operations = load_operations()
        self.requests: list[RecordedRequest] = []
        self.violations: list[Violation] = []
        self.response_errors: list[str] = []
        self._lock = threading.RLock()
        self._tokens: dict[str, Token] = {}
        self._repos: dict[tuple[str, str], Repo] = {}
        self._pulls: dict[tuple[str, str, int], PullRequest] = {}
        self._issues: dict[tuple[str, str, int], Issue] = {}
        self._check_runs: dict[int, CheckRun] = {}
        self._comments: dict[int, IssueComment] = {}
        self._faults: list[Fault] = []
        self._commit_messages: dict[str, str] = {}
        self._next_id = {"repo": 700_000_001, "pull": 1_900_000_001, "issue": 2_500_000_001,
                         "check_run": 30_000_000_001, "comment": 2_600_000_001}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> FakeGitHub:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Listen on a free port of 127.0.0.1 in a background thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, reply_headers, payload = fake._handle(self.command, self.path, headers, raw)
                self.send_response(status)
                for name, value in reply_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload:
                    self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-github", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the server."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        """The API root, for ``GITHUB_API_URL`` or ``Github(base_url=...)``."""
        assert self._server is not None, "FakeGitHub is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.path_prefix}"

    # ---- seeding ---------------------------------------------------------------------------

    def add_token(self, token: str, *, write: bool = True, login: str = ACTIONS_BOT) -> None:
        """Register a token; ``write=False`` is a fork PR's read-only token."""
        with self._lock:
            self._tokens[token] = Token(token, write, login)

    def add_repo(self, owner: str, repo: str, *, default_branch: str = "main", private: bool = False) -> None:
        """Create a repository (no-op if it exists)."""
        with self._lock:
            self._repo(owner, repo, default_branch=default_branch, private=private)

    def add_commit(self, owner: str, repo: str, sha: str, *, branch: str | None = None,
                   message: str = "Add a case") -> None:
        """Make ``sha`` a commit of the repository (check runs may be created on it); ``branch`` points at it."""
        with self._lock:
            found = self._repo(owner, repo)
            found.commits.add(sha)
            self._commit_messages[sha] = message
            if branch:
                found.branches[branch] = sha

    def add_pull(
        self,
        owner: str,
        repo: str,
        number: int,
        head_sha: str,
        base_sha: str,
        *,
        head_ref: str = "feature",
        base_ref: str | None = None,
        title: str = "Add a case",
        body: str = "",
        user: str = "octocat",
        fork_owner: str | None = None,
        merge_commit_sha: str | None = None,
        draft: bool = False,
    ) -> None:
        """Open a pull request; with ``fork_owner`` its head branch lives in ``fork_owner/repo``."""
        with self._lock:
            base_repo = self._repo(owner, repo)
            base_repo.commits.update({head_sha, base_sha})
            base_repo.branches.setdefault(base_ref or base_repo.default_branch, base_sha)
            if merge_commit_sha:
                base_repo.commits.add(merge_commit_sha)
                base_repo.branches[f"pull/{number}/merge"] = merge_commit_sha
            head_repo = base_repo
            if fork_owner:
                head_repo = self._repo(fork_owner, repo, default_branch=base_repo.default_branch)
                head_repo.fork_of = base_repo
                head_repo.commits.update({head_sha, base_sha})
            # like GitHub, the base repository has the head commit under refs/pull/N/head
            base_repo.branches[f"pull/{number}/head"] = head_sha
            head_repo.branches[head_ref] = head_sha
            self._pulls[(owner.lower(), repo.lower(), number)] = PullRequest(
                repo=base_repo,
                number=number,
                id=self._new_id("pull"),
                issue_id=self._new_id("issue"),
                head_sha=head_sha,
                base_sha=base_sha,
                head_ref=head_ref,
                base_ref=base_ref or base_repo.default_branch,
                head_repo=head_repo,
                title=title,
                body=body,
                user=user,
                merge_commit_sha=merge_commit_sha,
                draft=draft,
                created_at=_now(),
            )

    def add_issue(self, owner: str, repo: str, number: int, *, title: str = "An issue", body: str = "",
                  user: str = "octocat") -> None:
        """Open a plain issue."""
        with self._lock:
            self._issues[(owner.lower(), repo.lower(), number)] = Issue(
                repo=self._repo(owner, repo), number=number, id=self._new_id("issue"),
                title=title, body=body, user=user, created_at=_now(),
            )

    def add_comment(self, owner: str, repo: str, number: int, body: str, *, login: str = "octocat") -> int:
        """Put a comment on an issue or pull request (e.g. a stale sticky comment); returns its id."""
        with self._lock:
            found = self._repo_key(owner, repo)
            if found is None or self._issue_like(found, number) is None:
                raise KeyError(f"{owner}/{repo}#{number} does not exist; add_pull or add_issue first")
            return self._create_comment(found, number, body, login).id

    # ---- faults ----------------------------------------------------------------------------

    def fail_next(self, status: int = 502, times: int = 1, method: str | None = None,
                  path_contains: str | None = None) -> None:
        """Answer the next ``times`` matching requests with ``status`` (a server error by default)."""
        body = {"message": "Server Error"} if status >= 500 else {"message": f"Fault {status}", "documentation_url": DOCS}
        self._add_fault(Fault(status, times, method, path_contains, body, dict))

    def secondary_rate_limit_next(self, times: int = 1, retry_after: int = 1, status: int = 403,
                                  method: str | None = None, path_contains: str | None = None) -> None:
        """Answer like GitHub's secondary rate limit: 403 with ``retry-after``."""
        body = {
            "message": SECONDARY_RATE_LIMIT_MESSAGE,
            "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/"
            "rate-limits-for-the-rest-api#about-secondary-rate-limits",
        }
        self._add_fault(Fault(status, times, method, path_contains, body, lambda: {"retry-after": str(retry_after)}))

    def primary_rate_limit_next(self, times: int = 1, status: int = 429, reset_after: int = 1,
                                method: str | None = None, path_contains: str | None = None) -> None:
        """Answer like an exhausted primary rate limit: ``x-ratelimit-remaining: 0`` and a reset time."""
        body = {
            "message": PRIMARY_RATE_LIMIT_MESSAGE,
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        }

        def headers() -> dict[str, str]:
            return {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-used": "5000",
                "x-ratelimit-reset": str(int(time.time()) + reset_after),
                "x-ratelimit-resource": "core",
            }

        self._add_fault(Fault(status, times, method, path_contains, body, headers))

    def pending_faults(self) -> int:
        """How many fault answers are still to be given."""
        with self._lock:
            return sum(fault.times for fault in self._faults)

    def _add_fault(self, fault: Fault) -> None:
        if fault.times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(fault)

    # ---- inspection ------------------------------------------------------------------------

    def check_runs(self, owner: str, repo: str) -> list[CheckRun]:
        """Check runs of a repository in creation order (copies)."""
        with self._lock:
            return [copy.deepcopy(run) for run in self._check_runs.values()
                    if (run.owner.lower(), run.repo.lower()) == (owner.lower(), repo.lower())]

    def comments(self, owner: str, repo: str, number: int) -> list[IssueComment]:
        """Comments on an issue or pull request, oldest first (copies)."""
        with self._lock:
            return [copy.deepcopy(comment) for comment in self._comments.values()
                    if (comment.owner.lower(), comment.repo.lower(), comment.issue_number)
                    == (owner.lower(), repo.lower(), number)]

    def operation_of(self, method: str, path: str) -> str | None:
        """The operationId a request would be served by (``None``: not in the extract)."""
        operation, _ = self._route(method.upper(), path)
        return operation.operation_id if operation else None

    def calls(self, method: str | None = None, path_contains: str | None = None) -> list[RecordedRequest]:
        """Recorded requests, optionally narrowed by method and a path substring."""
        with self._lock:
            return [r for r in self.requests
                    if (method is None or r.method == method.upper())
                    and (path_contains is None or path_contains in r.path)]

    # ---- request handling ------------------------------------------------------------------

    def _handle(self, method: str, raw_path: str, headers: dict[str, str], raw_body: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            incoming = self._parse(method, raw_path, raw_body)
            fault = self._take_fault(method, incoming.path)
            reply = self._answer(incoming, headers, fault)
            self.violations.extend(incoming.violations)
            if fault is None and incoming.operation is not None and self.check_responses:
                self._check_response(incoming.operation, reply)
            self.requests.append(RecordedRequest(method, incoming.path, incoming.query, headers, incoming.body, reply.status))
            return self._encode(reply)

    def _parse(self, method: str, raw_path: str, raw_body: bytes) -> _Incoming:
        """Route and validate a request; every problem becomes a violation with the status GitHub gives."""
        split = urlsplit(raw_path)
        incoming = _Incoming(method, split.path, dict(parse_qsl(split.query, keep_blank_values=True)))

        def refuse(status: int, message: str, field_name: str | None = None, source: str = "route") -> None:
            operation_id = incoming.operation.operation_id if incoming.operation else None
            incoming.violations.append(Violation(method, incoming.path, operation_id, field_name, message, source))
            incoming.reject_status = incoming.reject_status or status

        prefix = self.path_prefix
        if prefix and not (incoming.path == prefix or incoming.path.startswith(prefix + "/")):
            refuse(404, f"path does not start with {prefix}")
            return incoming
        incoming.path = incoming.path[len(prefix):]
        incoming.operation, incoming.params = self._route(method, incoming.path)
        if incoming.operation is None:
            refuse(404, "no such operation in GitHub's REST API description (extract)")
        if raw_body:
            try:
                incoming.body = json.loads(raw_body)
            except ValueError as error:
                refuse(400, f"body is not valid JSON: {error}")
        if incoming.operation is not None and not incoming.violations:
            for violation in self._validate(incoming.operation, incoming.path, incoming.params, incoming.query, incoming.body):
                # a path parameter that does not fit means no route: GitHub answers 404
                status = 404 if (violation.field or "").startswith("path:") else 422
                refuse(status, violation.message, violation.field, violation.source)
        return incoming

    def _answer(self, incoming: _Incoming, headers: dict[str, str], fault: Fault | None) -> Reply:
        operation = incoming.operation
        if fault is not None:
            return Reply(fault.status, fault.body, fault.headers())
        if operation is None:
            return _not_found()
        denied = self._authorize(incoming.method, headers, operation)
        if denied is not None:
            return denied
        if incoming.reject_status == 400:
            return Reply(400, {"message": "Problems parsing JSON", "documentation_url": operation.docs_url})
        if incoming.reject_status == 404:
            return _not_found(operation.docs_url)
        if incoming.violations:
            return self._unprocessable(operation, incoming.violations, resource=None)
        context = _Context(operation, incoming.params, incoming.query, incoming.body, headers)
        try:
            return HANDLERS[operation.operation_id](self, context)
        except Refusal as refusal:
            refused = Violation(incoming.method, incoming.path, operation.operation_id, refusal.field,
                                refusal.message, "github")
            incoming.violations.append(refused)
            return self._unprocessable(operation, [refused], refusal.resource, refusal.top_message)

    def _route(self, method: str, path: str) -> tuple[Operation | None, dict[str, str]]:
        # the most literal template wins: /commits/{ref}/check-runs over /commits/{ref}
        best: tuple[int, Operation, dict[str, str]] | None = None
        for operation in self.operations:
            match = operation.pattern.match(path)
            if match and operation.method == method:
                literal = len(re.sub(r"\{[^}]+\}", "", operation.path))
                if best is None or literal > best[0]:
                    best = (literal, operation, {name: unquote(value) for name, value in match.groupdict().items()})
        return (best[1], best[2]) if best else (None, {})

    def _validate(self, operation: Operation, path: str, params: dict[str, str], query: dict[str, str],
                  body: Any) -> list[Violation]:
        found: list[Violation] = []

        def add(field_name: str | None, message: str, source: str = "openapi") -> None:
            found.append(Violation(operation.method, path, operation.operation_id, field_name, message, source))

        declared_query = {p.name for p in operation.parameters if p.location == "query"}
        for name in sorted(set(query) - declared_query):
            add(f"query:{name}", f"unknown query parameter {name!r} (the operation takes {sorted(declared_query)})")
        for param in operation.parameters:
            source = params if param.location == "path" else query if param.location == "query" else None
            if source is None:
                continue
            if param.name not in source:
                if param.required:
                    add(f"{param.location}:{param.name}", f"required {param.location} parameter {param.name!r} is missing")
                continue
            value = _coerce(source[param.name], param.validator.schema)
            for error in param.validator.iter_errors(value):
                add(f"{param.location}:{param.name}", f"{param.location} parameter {param.name}={source[param.name]!r}: {error.message}")

        if operation.body is None:
            if body is not None:
                add("(body)", "this operation takes no request body")
            return found
        if body is None:
            if operation.body_required:
                add("(body)", "a JSON request body is required")
            return found
        problems: list[tuple[str, str]] = []
        for error in sorted(operation.body.iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
            problems.extend(schema_problems(error))
        rules: list[tuple[str, str]] = []
        if isinstance(body, dict):
            try:
                rules = GITHUB_RULES.get(operation.operation_id, _no_rules)(body)
            except (TypeError, KeyError, AttributeError):
                pass  # the schema problems already say what is wrong with the shape
        # a rule says it better than the schema about the same field, or than an anyOf at the top
        explained = {name for name, _ in rules}
        problems = [(name, message) for name, message in problems
                    if name not in explained and not (rules and name == "(body)")]
        for field_name, message in problems:
            add(field_name, message)
        for field_name, message in rules:
            add(field_name, message, "github")
        return found

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.matches(method, path):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _authorize(self, method: str, headers: dict[str, str], operation: Operation) -> Reply | None:
        authorization = headers.get("authorization", "")
        scheme, _, value = authorization.partition(" ")
        if not authorization:
            return Reply(401, {"message": "Requires authentication", "documentation_url": DOCS, "status": "401"})
        token = self._tokens.get(value.strip()) if scheme.lower() in ("token", "bearer") else None
        if token is None:
            return Reply(401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"})
        if method in WRITE_METHODS and not token.write:
            return Reply(403, {"message": "Resource not accessible by integration",
                               "documentation_url": operation.docs_url, "status": "403"})
        return None

    def _unprocessable(self, operation: Operation, violations: list[Violation], resource: str | None,
                       top_message: str | None = None) -> Reply:
        resource = resource or RESOURCES.get(operation.operation_id, "Resource")
        schema_style = any(v.source == "openapi" for v in violations)
        message = top_message or (
            "Invalid request.\n\n" + "\n".join(v.message for v in violations) if schema_style else "Validation Failed"
        )
        errors = [{"resource": resource, "code": "invalid" if v.source == "openapi" else "custom",
                   "field": v.field or "", "message": v.message} for v in violations]
        return Reply(422, {"message": message, "errors": errors, "documentation_url": operation.docs_url, "status": "422"})

    def _check_response(self, operation: Operation, reply: Reply) -> None:
        if reply.status not in operation.responses:
            if reply.status < 400:
                self.response_errors.append(f"{operation.operation_id}: status {reply.status} is not in the description")
            return
        validator = operation.responses[reply.status]
        if validator is None:
            if reply.body is not None:
                self.response_errors.append(f"{operation.operation_id}: {reply.status} must have no body")
            return
        for error in validator.iter_errors(reply.body):
            where = _field_name(list(error.absolute_path)) or "(response)"
            self.response_errors.append(f"{operation.operation_id} {reply.status} {where}: {error.message[:300]}")

    def _encode(self, reply: Reply) -> tuple[int, dict[str, str], bytes]:
        headers = {
            "x-github-request-id": f"FAKE:{len(self.requests):06d}",
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-reset": str(int(time.time()) + 3600),
            "x-github-api-version-selected": "2022-11-28",
        }
        headers.update(reply.headers)
        if reply.body is None:
            return reply.status, headers, b""
        headers["content-type"] = "application/json; charset=utf-8"
        return reply.status, headers, json.dumps(reply.body).encode()

    # ---- state helpers ---------------------------------------------------------------------

    def _new_id(self, kind: str) -> int:
        value = self._next_id[kind]
        self._next_id[kind] += 1
        return value

    def _repo(self, owner: str, name: str, *, default_branch: str = "main", private: bool = False) -> Repo:
        key = (owner.lower(), name.lower())
        if key not in self._repos:
            self._repos[key] = Repo(owner, name, self._new_id("repo"), default_branch, private, _now())
        return self._repos[key]

    def _repo_key(self, owner: str, name: str) -> Repo | None:
        return self._repos.get((owner.lower(), name.lower()))

    def _issue_like(self, repo: Repo, number: int) -> PullRequest | Issue | None:
        key = (repo.owner.lower(), repo.name.lower(), number)
        return self._pulls.get(key) or self._issues.get(key)

    def _create_comment(self, repo: Repo, number: int, body: str, login: str) -> IssueComment:
        now = _now()
        comment = IssueComment(self._new_id("comment"), repo.owner, repo.name, number, body, login, now, now)
        self._comments[comment.id] = comment
        return comment

    # ---- JSON shapes -----------------------------------------------------------------------

    def _api(self, path: str) -> str:
        return self.url + path

    def user_json(self, login: str) -> dict[str, Any]:
        """A ``simple-user``."""
        is_bot = login.endswith("[bot]")
        user_id = 41898282 if login == ACTIONS_BOT else _stable_id(login)
        api = self._api(f"/users/{login}")
        return {
            "login": login, "id": user_id, "node_id": _node_id("Bot" if is_bot else "User", user_id),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4", "gravatar_id": "",
            "url": api, "html_url": f"{self.html_url}/{'apps/' + login[:-5] if is_bot else login}",
            "followers_url": f"{api}/followers", "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}", "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions", "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos", "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events", "type": "Bot" if is_bot else "User",
            "site_admin": False, "user_view_type": "public",
        }

    def app_json(self) -> dict[str, Any]:
        """The GitHub Actions app (a ``nullable-integration``), author of checks made with GITHUB_TOKEN."""
        return {
            "id": 15368, "slug": "github-actions", "client_id": "Iv1.05c79e9ad1f6bdfa",
            "node_id": "MDM6QXBwMTUzNjg=", "owner": self.user_json("github"), "name": "GitHub Actions",
            "description": "Automate your workflow from idea to production",
            "external_url": "https://help.github.com/en/actions", "html_url": f"{self.html_url}/apps/github-actions",
            "created_at": "2018-07-30T09:30:17Z", "updated_at": "2019-12-10T19:04:12Z",
            "permissions": {"checks": "write", "contents": "write", "issues": "write", "metadata": "read",
                            "pull_requests": "write", "statuses": "write"},
            "events": ["check_run", "check_suite", "pull_request", "push"],
        }

    def repo_json(self, repo: Repo, *, full: bool = False) -> dict[str, Any]:
        """A ``repository`` (or ``full-repository`` with ``full=True``)."""
        api = self._api(f"/repos/{repo.full_name}")
        html = f"{self.html_url}/{repo.full_name}"
        host = urlsplit(self.html_url).hostname or "github.com"
        data: dict[str, Any] = {
            "id": repo.id, "node_id": _node_id("Repository", repo.id), "name": repo.name,
            "full_name": repo.full_name, "private": repo.private, "owner": self.user_json(repo.owner),
            "html_url": html, "description": None, "fork": repo.fork_of is not None, "url": api,
            "archive_url": f"{api}/{{archive_format}}{{/ref}}", "assignees_url": f"{api}/assignees{{/user}}",
            "blobs_url": f"{api}/git/blobs{{/sha}}", "branches_url": f"{api}/branches{{/branch}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}", "comments_url": f"{api}/comments{{/number}}",
            "commits_url": f"{api}/commits{{/sha}}", "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "contents_url": f"{api}/contents/{{+path}}", "contributors_url": f"{api}/contributors",
            "deployments_url": f"{api}/deployments", "downloads_url": f"{api}/downloads",
            "events_url": f"{api}/events", "forks_url": f"{api}/forks",
            "git_commits_url": f"{api}/git/commits{{/sha}}", "git_refs_url": f"{api}/git/refs{{/sha}}",
            "git_tags_url": f"{api}/git/tags{{/sha}}", "git_url": f"git://{host}/{repo.full_name}.git",
            "issue_comment_url": f"{api}/issues/comments{{/number}}", "issue_events_url": f"{api}/issues/events{{/number}}",
            "issues_url": f"{api}/issues{{/number}}", "keys_url": f"{api}/keys{{/key_id}}",
            "labels_url": f"{api}/labels{{/name}}", "languages_url": f"{api}/languages",
            "merges_url": f"{api}/merges", "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}", "pulls_url": f"{api}/pulls{{/number}}",
            "releases_url": f"{api}/releases{{/id}}", "ssh_url": f"git@{host}:{repo.full_name}.git",
            "stargazers_url": f"{api}/stargazers", "statuses_url": f"{api}/statuses/{{sha}}",
            "subscribers_url": f"{api}/subscribers", "subscription_url": f"{api}/subscription",
            "tags_url": f"{api}/tags", "teams_url": f"{api}/teams", "trees_url": f"{api}/git/trees{{/sha}}",
            "clone_url": f"{html}.git", "mirror_url": None, "hooks_url": f"{api}/hooks", "svn_url": html,
            "homepage": None, "language": "Python", "forks_count": 0, "forks": 0, "stargazers_count": 0,
            "watchers_count": 0, "watchers": 0, "size": 128, "default_branch": repo.default_branch,
            "open_issues_count": len([k for k in self._pulls if k[:2] == (repo.owner.lower(), repo.name.lower())]),
            "is_template": False, "topics": [], "has_issues": True, "has_projects": True, "has_wiki": True,
            "has_pages": False, "has_downloads": True, "has_discussions": False, "archived": False,
            "disabled": False, "visibility": "private" if repo.private else "public",
            "pushed_at": repo.created_at, "created_at": repo.created_at, "updated_at": repo.created_at,
            "permissions": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
            "allow_forking": True, "web_commit_signoff_required": False, "license": None,
        }
        data["open_issues"] = data["open_issues_count"]
        if full:
            data["network_count"] = 0
            data["subscribers_count"] = 0
            if repo.fork_of is not None:
                data["parent"] = data["source"] = self.repo_json(repo.fork_of)
        return data

    def pull_json(self, pull: PullRequest) -> dict[str, Any]:
        """A ``pull-request``."""
        repo = pull.repo
        api = self._api(f"/repos/{repo.full_name}")
        html = f"{self.html_url}/{repo.full_name}/pull/{pull.number}"

        def side(ref: str, sha: str, side_repo: Repo) -> dict[str, Any]:
            return {"label": f"{side_repo.owner}:{ref}", "ref": ref, "sha": sha,
                    "user": self.user_json(side_repo.owner), "repo": self.repo_json(side_repo)}

        def link(href: str) -> dict[str, str]:
            return {"href": href}

        comments = sum(1 for c in self._comments.values()
                       if (c.owner.lower(), c.repo.lower(), c.issue_number) == (repo.owner.lower(), repo.name.lower(), pull.number))
        return {
            "url": f"{api}/pulls/{pull.number}", "id": pull.id, "node_id": _node_id("PullRequest", pull.id),
            "html_url": html, "diff_url": f"{html}.diff", "patch_url": f"{html}.patch",
            "issue_url": f"{api}/issues/{pull.number}", "commits_url": f"{api}/pulls/{pull.number}/commits",
            "review_comments_url": f"{api}/pulls/{pull.number}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}", "comments_url": f"{api}/issues/{pull.number}/comments",
            "statuses_url": f"{api}/statuses/{pull.head_sha}", "number": pull.number, "state": "open",
            "locked": False, "title": pull.title, "user": self.user_json(pull.user), "body": pull.body or None,
            "labels": [], "milestone": None, "active_lock_reason": None, "created_at": pull.created_at,
            "updated_at": pull.created_at, "closed_at": None, "merged_at": None,
            "merge_commit_sha": pull.merge_commit_sha, "assignee": None, "assignees": [],
            "requested_reviewers": [], "requested_teams": [],
            "head": side(pull.head_ref, pull.head_sha, pull.head_repo),
            "base": side(pull.base_ref, pull.base_sha, repo),
            "_links": {
                "self": link(f"{api}/pulls/{pull.number}"), "html": link(html),
                "issue": link(f"{api}/issues/{pull.number}"), "comments": link(f"{api}/issues/{pull.number}/comments"),
                "review_comments": link(f"{api}/pulls/{pull.number}/comments"),
                "review_comment": link(f"{api}/pulls/comments{{/number}}"),
                "commits": link(f"{api}/pulls/{pull.number}/commits"), "statuses": link(f"{api}/statuses/{pull.head_sha}"),
            },
            "author_association": "CONTRIBUTOR", "auto_merge": None, "draft": pull.draft, "merged": False,
            "mergeable": True, "rebaseable": True, "mergeable_state": "clean", "merged_by": None,
            "comments": comments, "review_comments": 0, "maintainer_can_modify": False, "commits": 1,
            "additions": 1, "deletions": 0, "changed_files": 1,
        }

    def issue_json(self, item: PullRequest | Issue) -> dict[str, Any]:
        """An ``issue`` (a pull request seen through the issues API has ``pull_request``)."""
        repo = item.repo
        api = self._api(f"/repos/{repo.full_name}/issues/{item.number}")
        is_pull = isinstance(item, PullRequest)
        issue_id = item.issue_id if isinstance(item, PullRequest) else item.id
        html = f"{self.html_url}/{repo.full_name}/{'pull' if is_pull else 'issues'}/{item.number}"
        data: dict[str, Any] = {
            "id": issue_id, "node_id": _node_id("PullRequest" if is_pull else "Issue", issue_id), "url": api,
            "repository_url": self._api(f"/repos/{repo.full_name}"),
            "labels_url": f"{api}/labels{{/name}}", "comments_url": f"{api}/comments", "events_url": f"{api}/events",
            "html_url": html, "number": item.number, "state": "open", "state_reason": None, "title": item.title,
            "body": item.body or None, "user": self.user_json(item.user), "labels": [], "assignee": None,
            "assignees": [], "milestone": None, "locked": False, "active_lock_reason": None,
            "comments": len(self._comment_list(repo, item.number)), "closed_at": None,
            "created_at": item.created_at, "updated_at": item.created_at, "author_association": "CONTRIBUTOR",
        }
        if isinstance(item, PullRequest):
            data["draft"] = item.draft
            data["pull_request"] = {
                "url": self._api(f"/repos/{repo.full_name}/pulls/{item.number}"), "html_url": html,
                "diff_url": f"{html}.diff", "patch_url": f"{html}.patch", "merged_at": None,
            }
        return data

    def comment_json(self, comment: IssueComment) -> dict[str, Any]:
        """An ``issue-comment``."""
        full_name = f"{comment.owner}/{comment.repo}"
        repo = self._repo_key(comment.owner, comment.repo)
        kind = "pull" if repo and isinstance(self._issue_like(repo, comment.issue_number), PullRequest) else "issues"
        return {
            "id": comment.id, "node_id": _node_id("IssueComment", comment.id),
            "url": self._api(f"/repos/{full_name}/issues/comments/{comment.id}"),
            "html_url": f"{self.html_url}/{full_name}/{kind}/{comment.issue_number}#issuecomment-{comment.id}",
            "body": comment.body, "user": self.user_json(comment.user),
            "created_at": comment.created_at, "updated_at": comment.updated_at,
            "issue_url": self._api(f"/repos/{full_name}/issues/{comment.issue_number}"),
            "author_association": "NONE",
            "performed_via_github_app": self.app_json() if comment.user == ACTIONS_BOT else None,
            "reactions": {"url": self._api(f"/repos/{full_name}/issues/comments/{comment.id}/reactions"),
                          "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "confused": 0, "heart": 0,
                          "hooray": 0, "eyes": 0, "rocket": 0},
        }

    def check_run_json(self, run: CheckRun) -> dict[str, Any]:
        """A ``check-run``."""
        api = self._api(f"/repos/{run.owner}/{run.repo}/check-runs/{run.id}")
        html = f"{self.html_url}/{run.owner}/{run.repo}/runs/{run.id}"
        repo = self._repo_key(run.owner, run.repo)
        pulls = []
        for pull in self._pulls.values():
            # GitHub lists only PRs whose head is in this repository: fork PRs are left out
            if repo is not None and pull.repo is repo and pull.head_repo is repo and pull.head_sha == run.head_sha:
                pulls.append({
                    "id": pull.id, "number": pull.number, "url": self._api(f"/repos/{repo.full_name}/pulls/{pull.number}"),
                    "head": {"ref": pull.head_ref, "sha": pull.head_sha,
                             "repo": {"id": repo.id, "url": self._api(f"/repos/{repo.full_name}"), "name": repo.name}},
                    "base": {"ref": pull.base_ref, "sha": pull.base_sha,
                             "repo": {"id": repo.id, "url": self._api(f"/repos/{repo.full_name}"), "name": repo.name}},
                })
        return {
            "id": run.id, "head_sha": run.head_sha, "node_id": _node_id("CheckRun", run.id),
            "external_id": run.external_id, "url": api, "html_url": html, "details_url": run.details_url or html,
            "status": run.status, "conclusion": run.conclusion, "started_at": run.started_at,
            "completed_at": run.completed_at, "name": run.name,
            "output": {"title": run.output.get("title"), "summary": run.output.get("summary"),
                       "text": run.output.get("text"), "annotations_count": len(run.annotations),
                       "annotations_url": f"{api}/annotations"},
            "check_suite": {"id": _stable_id(f"{run.owner}/{run.repo}@{run.head_sha}")},
            "app": self.app_json(), "pull_requests": pulls,
        }

    def commit_json(self, repo: Repo, sha: str) -> dict[str, Any]:
        """A ``commit`` (without files: the fake does not know the diff)."""
        api = self._api(f"/repos/{repo.full_name}")
        person = {"name": "Octo Cat", "email": "octocat@example.com", "date": repo.created_at}
        return {
            "url": f"{api}/commits/{sha}", "sha": sha, "node_id": _node_id("Commit", _stable_id(sha)),
            "html_url": f"{self.html_url}/{repo.full_name}/commit/{sha}", "comments_url": f"{api}/commits/{sha}/comments",
            "commit": {
                "url": f"{api}/git/commits/{sha}", "author": person, "committer": person,
                "message": self._commit_messages.get(sha, "A commit"), "comment_count": 0,
                "tree": {"sha": sha[::-1], "url": f"{api}/git/trees/{sha[::-1]}"},
                "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                                 "verified_at": None},
            },
            "author": self.user_json("octocat"), "committer": self.user_json("octocat"),
            "parents": [], "stats": {"additions": 0, "deletions": 0, "total": 0}, "files": [],
        }

    def annotation_json(self, run: CheckRun, annotation: dict[str, Any]) -> dict[str, Any]:
        """A ``check-annotation``."""
        return {
            "path": annotation["path"],
            "blob_href": f"{self.html_url}/{run.owner}/{run.repo}/blob/{run.head_sha}/{annotation['path']}",
            "start_line": annotation["start_line"], "end_line": annotation["end_line"],
            "start_column": annotation.get("start_column"), "end_column": annotation.get("end_column"),
            "annotation_level": annotation["annotation_level"], "title": annotation.get("title"),
            "message": annotation["message"], "raw_details": annotation.get("raw_details"),
        }

    def _comment_list(self, repo: Repo, number: int) -> list[IssueComment]:
        key = (repo.owner.lower(), repo.name.lower(), number)
        return [c for c in self._comments.values() if (c.owner.lower(), c.repo.lower(), c.issue_number) == key]

    def paginate(self, context: _Context, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
        """GitHub's page-number pagination: ``per_page`` (default 30, at most 100), ``page`` and ``Link``."""
        per_page = min(max(int(context.query.get("per_page", 30)), 1), 100)
        page = max(int(context.query.get("page", 1)), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page: page * per_page]
        if last == 1:
            return chunk, {}

        def page_url(number: int) -> str:
            return f"{self.url}{context.path}?{urlencode({**context.query, 'page': number})}"

        links = []
        if page < last:
            links += [f'<{page_url(page + 1)}>; rel="next"', f'<{page_url(last)}>; rel="last"']
        if page > 1:
            links += [f'<{page_url(page - 1)}>; rel="prev"', f'<{page_url(1)}>; rel="first"']
        return chunk, {"link": ", ".join(links)}


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    """Turn a path/query string into the type its schema asks for, when it is one."""
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "integer" in kinds and re.fullmatch(r"-?\d+", value):
        return int(value)
    if "boolean" in kinds and value in ("true", "false"):
        return value == "true"
    return value


def _not_found(docs_url: str = DOCS) -> Reply:
    return Reply(404, {"message": "Not Found", "documentation_url": docs_url, "status": "404"})


def _no_rules(body: dict[str, Any]) -> list[tuple[str, str]]:
    return []


# --------------------------------------------------------------------------------------------
# What GitHub enforces beyond the description
# --------------------------------------------------------------------------------------------


def comment_rules(body: dict[str, Any]) -> list[tuple[str, str]]:
    """Issue comment body: not blank, at most 65,536 characters."""
    text = body.get("body", "")
    if not text.strip():
        return [("body", "Body cannot be blank")]
    if len(text) > COMMENT_BODY_MAX_CHARS:
        return [("body", f"Body is too long (maximum is {COMMENT_BODY_MAX_CHARS} characters, got {len(text)})")]
    return []


def check_run_rules(body: dict[str, Any]) -> list[tuple[str, str]]:
    """Check run status/conclusion consistency, output sizes and annotation shape."""
    problems: list[tuple[str, str]] = []
    status = body.get("status")
    if status == "completed" and "conclusion" not in body:
        problems.append(("conclusion", "conclusion is required when status is completed"))
    if "completed_at" in body and "conclusion" not in body:
        problems.append(("conclusion", "conclusion is required when completed_at is given"))
    if "conclusion" in body and status not in (None, "completed"):
        problems.append(("status", f"a conclusion needs status completed, not {status!r}"))
    if body.get("conclusion") == "stale":
        problems.append(("conclusion", "only GitHub can set the conclusion stale"))
    output = body.get("output") or {}
    title = output.get("title")
    if isinstance(title, str) and len(title) > OUTPUT_TITLE_MAX_CHARS:
        problems.append(("output.title", f"title is longer than {OUTPUT_TITLE_MAX_CHARS} characters ({len(title)})"))
    for name in ("summary", "text"):
        value = output.get(name)
        if isinstance(value, str) and len(value.encode()) > OUTPUT_TEXT_MAX_BYTES:
            problems.append((f"output.{name}",
                             f"{name} exceeds a maximum bytesize of {OUTPUT_TEXT_MAX_BYTES} ({len(value.encode())} bytes)"))
    annotations = output.get("annotations") or []
    if len(annotations) > ANNOTATIONS_PER_REQUEST:
        problems.append(("output.annotations",
                         f"at most {ANNOTATIONS_PER_REQUEST} annotations per request, got {len(annotations)}"))
    for index, annotation in enumerate(annotations):
        where = f"output.annotations[{index}]"
        start, end = annotation["start_line"], annotation["end_line"]
        if start < 1:
            problems.append((f"{where}.start_line", f"start_line must be at least 1, got {start}"))
        if end < start:
            problems.append((f"{where}.end_line", f"end_line {end} is before start_line {start}"))
        if ("start_column" in annotation or "end_column" in annotation) and start != end:
            problems.append((f"{where}.start_column", "columns are only allowed when start_line equals end_line"))
        if len(annotation.get("title") or "") > ANNOTATION_TITLE_MAX_CHARS:
            problems.append((f"{where}.title", f"annotation title is longer than {ANNOTATION_TITLE_MAX_CHARS} characters"))
        for name in ("message", "raw_details"):
            if len((annotation.get(name) or "").encode()) > ANNOTATION_DETAILS_MAX_BYTES:
                problems.append((f"{where}.{name}", f"annotation {name} is larger than 64 KB"))
    return problems


GITHUB_RULES: dict[str, Callable[[dict[str, Any]], list[tuple[str, str]]]] = {
    "checks/create": check_run_rules,
    "checks/update": check_run_rules,
    "issues/create-comment": comment_rules,
    "issues/update-comment": comment_rules,
}
RESOURCES = {
    "checks/create": "CheckRun",
    "checks/update": "CheckRun",
    "issues/create-comment": "IssueComment",
    "issues/update-comment": "IssueComment",
}


# --------------------------------------------------------------------------------------------
# Handlers, one per operation
# --------------------------------------------------------------------------------------------


@dataclass
class _Context:
    operation: Operation
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    headers: dict[str, str]

    @property
    def path(self) -> str:
        """The request path (without query or prefix), rebuilt from the operation template."""
        return re.sub(r"\{([^}]+)\}", lambda m: self.params[m.group(1)], self.operation.path)




def _repo_or_none(fake: FakeGitHub, context: _Context) -> Repo | None:
    return fake._repo_key(context.params["owner"], context.params["repo"])


def get_repo(fake: FakeGitHub, context: _Context) -> Reply:
    repo = _repo_or_none(fake, context)
    return Reply(200, fake.repo_json(repo, full=True)) if repo else _not_found()


def get_pull(fake: FakeGitHub, context: _Context) -> Reply:
    repo = _repo_or_none(fake, context)
    pull = repo and fake._pulls.get((repo.owner.lower(), repo.name.lower(), int(context.params["pull_number"])))
    return Reply(200, fake.pull_json(pull)) if pull else _not_found()


def get_issue(fake: FakeGitHub, context: _Context) -> Reply:
    repo = _repo_or_none(fake, context)
    item = repo and fake._issue_like(repo, int(context.params["issue_number"]))
    return Reply(200, fake.issue_json(item)) if item else _not_found()


def _apply_check_run(run: CheckRun, body: dict[str, Any]) -> None:
    for name in ("name", "details_url", "external_id", "started_at", "status", "conclusion", "completed_at"):
        if name in body:
            setattr(run, name, body[name])
    if "actions" in body:
        run.actions = list(body["actions"])
    if "conclusion" in body:
        run.status = "completed"
    if run.status == "completed" and run.completed_at is None:
        run.completed_at = _now()
    if "output" in body:
        output = body["output"]
        for name in ("title", "summary", "text", "images"):
            if name in output:
                run.output[name] = output[name]
        run.annotations.extend(copy.deepcopy(output.get("annotations", [])))


def create_check_run(fake: FakeGitHub, context: _Context) -> Reply:
    repo = _repo_or_none(fake, context)
    if repo is None:
        return _not_found()
    body = context.body
    if body["head_sha"] not in repo.commits:
        raise Refusal("head_sha", f"No commit found for SHA: {body['head_sha']}", "CheckRun",
                      top_message=f"No commit found for SHA: {body['head_sha']}")
    run = CheckRun(
        id=fake._new_id("check_run"), owner=repo.owner, repo=repo.name, name=body["name"],
        head_sha=body["head_sha"], status="queued", conclusion=None, started_at=_now(), completed_at=None,
        details_url=None, external_id="", output={}, annotations=[], actions=[],
    )
    _apply_check_run(run, body)
    fake._check_runs[run.id] = run
    return Reply(201, fake.check_run_json(run))


def _check_run_or_none(fake: FakeGitHub, context: _Context) -> CheckRun | None:
    run = fake._check_runs.get(int(context.params["check_run_id"]))
    repo = _repo_or_none(fake, context)
    if run is None or repo is None or (run.owner, run.repo) != (repo.owner, repo.name):
        return None
    return run


def get_check_run(fake: FakeGitHub, context: _Context) -> Reply:
    run = _check_run_or_none(fake, context)
    return Reply(200, fake.check_run_json(run)) if run else _not_found()


def update_check_run(fake: FakeGitHub, context: _Context) -> Reply:
    run = _check_run_or_none(fake, context)
    if run is None:
        return _not_found()
    _apply_check_run(run, context.body)
    run.updates += 1
    return Reply(200, fake.check_run_json(run))


def list_annotations(fake: FakeGitHub, context: _Context) -> Reply:
    run = _check_run_or_none(fake, context)
    if run is None:
        return _not_found()
    page, headers = fake.paginate(context, [fake.annotation_json(run, a) for a in run.annotations])
    return Reply(200, page, headers)


def list_check_runs_for_ref(fake: FakeGitHub, context: _Context) -> Reply:
    repo = _repo_or_none(fake, context)
    if repo is None:
        return _not_found()
    sha = repo.resolve(context.params["ref"])
    if sha is None:
        raise Refusal("ref", f"No commit found for SHA: {context.params['ref']}", "Commit",
                      top_message=f"No commit found for SHA: {context.params['ref']}")
    runs = [r for r in fake._check_runs.values() if (r.owner, r.repo) == (repo.owner, repo.name) and r.head_sha == sha]
    if "check_name" in context.query:
        runs = [r for r in runs if r.name == context.query["check_name"]]
    if "status" in context.query:
        runs = [r for r in runs if r.status == context.query["status"]]
    if context.query.get("filter", "latest") == "latest":
        latest: dict[str, CheckRun] = {}
        for run in runs:
            latest[run.name] = run
        runs = list(latest.values())
    runs.sort(key=lambda r: r.id, reverse=True)
    page, headers = fake.paginate(context, [fake.check_run_json(r) for r in runs])
    return Reply(200, {"total_count": len(runs), "check_runs": page}, headers)


def get_commit(fake: FakeGitHub, context: _Context) -> Reply:
    repo = _repo_or_none(fake, context)
    if repo is None:
        return _not_found()
    sha = repo.resolve(context.params["ref"])
    if sha is None:
        raise Refusal("ref", f"No commit found for SHA: {context.params['ref']}", "Commit",
                      top_message=f"No commit found for SHA: {context.params['ref']}")
    return Reply(200, fake.commit_json(repo, sha))


def list_comments(fake: FakeGitHub, context: _Context) -> Reply:
    repo = _repo_or_none(fake, context)
    number = int(context.params["issue_number"])
    if repo is None or fake._issue_like(repo, number) is None:
        return _not_found()
    comments = fake._comment_list(repo, number)
    if "since" in context.query:
        since = datetime.fromisoformat(context.query["since"].replace("Z", "+00:00"))
        comments = [c for c in comments if datetime.fromisoformat(c.updated_at.replace("Z", "+00:00")) >= since]
    page, headers = fake.paginate(context, [fake.comment_json(c) for c in comments])
    return Reply(200, page, headers)


def _token_login(fake: FakeGitHub, context: _Context) -> str:
    value = context.headers.get("authorization", "").partition(" ")[2].strip()
    return fake._tokens[value].login


def create_comment(fake: FakeGitHub, context: _Context) -> Reply:
    repo = _repo_or_none(fake, context)
    number = int(context.params["issue_number"])
    if repo is None or fake._issue_like(repo, number) is None:
        return _not_found()
    comment = fake._create_comment(repo, number, context.body["body"], _token_login(fake, context))
    return Reply(201, fake.comment_json(comment))


def _comment_or_none(fake: FakeGitHub, context: _Context) -> IssueComment | None:
    comment = fake._comments.get(int(context.params["comment_id"]))
    repo = _repo_or_none(fake, context)
    if comment is None or repo is None or (comment.owner, comment.repo) != (repo.owner, repo.name):
        return None
    return comment


def get_comment(fake: FakeGitHub, context: _Context) -> Reply:
    comment = _comment_or_none(fake, context)
    return Reply(200, fake.comment_json(comment)) if comment else _not_found()


def update_comment(fake: FakeGitHub, context: _Context) -> Reply:
    comment = _comment_or_none(fake, context)
    if comment is None:
        return _not_found()
    comment.body = context.body["body"]
    comment.updated_at = _now()
    return Reply(200, fake.comment_json(comment))


def delete_comment(fake: FakeGitHub, context: _Context) -> Reply:
    comment = _comment_or_none(fake, context)
    if comment is None:
        return _not_found()
    del fake._comments[comment.id]
    return Reply(204)


HANDLERS: dict[str, Callable[[FakeGitHub, _Context], Reply]] = {
    "repos/get": get_repo,
    "pulls/get": get_pull,
    "issues/get": get_issue,
    "checks/create": create_check_run,
    "checks/get": get_check_run,
    "checks/update": update_check_run,
    "checks/list-annotations": list_annotations,
    "checks/list-for-ref": list_check_runs_for_ref,
    "repos/get-commit": get_commit,
    "issues/list-comments": list_comments,
    "issues/create-comment": create_comment,
    "issues/get-comment": get_comment,
    "issues/update-comment": update_comment,
    "issues/delete-comment": delete_comment,
}
