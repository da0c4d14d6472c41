"""Review files: a person's decision on the exact outputs of one case, kept in the repo.

``reviews/<case-id>.yaml`` (schema: bank-schema/review.schema.json, reference: docs/review.md)
holds the decision, the rationale, the reviewer, the date and the hashes of the sample
outputs reviewed. A review applies only while every sample output of the case hashes to one
of those: a new output needs a new review. ``output_hashes`` is the one definition of that
hash, used by ``casebank review`` when writing and by the gate when matching.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema

from casebank import git
from casebank.errors import Problem
from casebank.gate import yamlfile
from casebank.run.result import CaseResult
from casebank.run.sample import SampleOutput

ACCEPT = "accept"
REJECT = "reject"


@dataclass(frozen=True)
class Review:
    case_id: str
    decision: str  # accept | reject
    rationale: str
    reviewer: str
    date: str
    outputs: tuple[str, ...]  # sha256:<hex> of each sample output reviewed
    path: str  # the review file, e.g. reviews/refund-wrong-account.yaml
    outcome: str | None = None
    commit: str | None = None

    def covers(self, hashes: tuple[str, ...] | list[str]) -> bool:
        """True when every current sample output is one the reviewer saw."""
        return bool(hashes) and set(hashes) <= set(self.outputs)


def sample_output_hash(sample: SampleOutput) -> str:
    """``sha256:<hex>`` of what one sample produced: its final output, every assistant
    message and tool call (name and arguments) in order, and its error if it had one."""
    trajectory = [
        {
            "role": turn.role,
            "content": turn.content,
            "tool_calls": [{"name": call.name, "arguments": call.arguments}
                           for call in turn.tool_calls],
        }
        for turn in sample.trajectory
    ]
    document = {"output": sample.output, "trajectory": trajectory, "error": sample.error}
    blob = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def output_hashes(case: CaseResult) -> tuple[str, ...]:
    """The hashes of a case's sample outputs, one per distinct output, sorted."""
    return tuple(sorted({sample_output_hash(s.sample) for s in case.samples}))


@cache
def schema() -> dict[str, Any]:
    text = resources.files("casebank").joinpath("schemas/review.schema.json").read_text("utf-8")
    return json.loads(text)


def parse_review(path: str, data: bytes) -> Review | list[Problem]:
    """One review file (``path`` is for messages and must be named ``<case>.yaml``)."""
    doc = yamlfile.load(data, source=path, max_bytes=64 * 1024)
    if isinstance(doc, Problem):
        return [doc]
    problems = []
    validator = jsonschema.Draft202012Validator(schema())
    missing = []
    for error in validator.iter_errors(doc):
        if error.validator == "required" and not error.path:
            missing += [name for name in error.validator_value if name not in error.instance]
            continue
        field = ".".join(str(p) for p in error.path) or None
        line = yamlfile.line_of(data, tuple(error.path))
        problems.append(Problem(path, _message(error), line=line, field=field))
    if missing:
        problems.append(Problem(path, f"missing {', '.join(dict.fromkeys(missing))}", line=1,
                                hint="write review files with casebank review"))
    if problems:
        return sorted(problems, key=lambda p: (p.line or 0, p.field or ""))
    stem = PurePosixPath(path).name.rsplit(".", 1)[0]
    if doc["case"] != stem:
        return [Problem(path, f"case {doc['case']!r} does not match the file name",
                        line=yamlfile.line_of(data, ("case",)), field="case",
                        hint=f"name the file {doc['case']}.yaml, or fix case:")]
    return Review(case_id=doc["case"], decision=doc["decision"], rationale=doc["rationale"],
                  reviewer=doc["reviewer"], date=doc["date"], outputs=tuple(doc["outputs"]),
                  path=path, outcome=doc.get("outcome"), commit=doc.get("commit"))


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        unknown = sorted(set(error.instance) - set(error.schema["properties"]))
        return f"unknown key(s): {', '.join(unknown)}"
    if error.validator == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(str, error.validator_value))}"
    if error.validator == "pattern":
        return f"{error.instance!r} has the wrong form (expected {error.validator_value})"
    return error.message


def load_reviews(root: Path, review_dir: str, *, shown: str = "") -> tuple[dict[str, Review],
                                                                         list[Problem]]:
    """Every review file in ``root/review_dir`` (from the work tree), and their problems.
    Files are named ``shown/review_dir/<file>`` (``shown``: the project folder in the repo)."""
    folder = root / review_dir
    files = sorted(p for p in folder.glob("*") if p.suffix in (".yaml", ".yml")
                   and p.is_file()) if folder.is_dir() else []
    prefix = f"{shown}/{review_dir}" if shown else review_dir
    return _collect((f"{prefix}/{p.name}", p.read_bytes()) for p in files)


def load_reviews_at(repo: Path, rev: str, review_dir: str) -> tuple[dict[str, Review],
                                                                   list[Problem]]:
    """Every review file under ``review_dir`` (repo-relative) as committed at ``rev``."""
    names = [n for n in git.ls_files(repo, rev, review_dir)
             if PurePosixPath(n).parent == PurePosixPath(review_dir)
             and n.endswith((".yaml", ".yml"))]
    return _collect((n, git.show(repo, rev, n) or b"") for n in sorted(names))


def _collect(files) -> tuple[dict[str, Review], list[Problem]]:
    reviews: dict[str, Review] = {}
    problems: list[Problem] = []
    for path, data in files:
        parsed = parse_review(path, data)
        if isinstance(parsed, list):
            problems.extend(parsed)
        elif parsed.case_id in reviews:
            problems.append(Problem(path, f"a second review for {parsed.case_id}",
                                    hint=f"keep one: {reviews[parsed.case_id].path}"))
        else:
            reviews[parsed.case_id] = parsed
    return reviews, problems


def review_document(case: CaseResult, *, decision: str, rationale: str, reviewer: str,
                    date: str, commit: str | None, target: str | None) -> str:
    """The text of a review file for ``case`` as it is in the evidence."""
    lines = [
        f"# Review of {case.case_id} ({case.path}), written by casebank review.",
        "# It applies only while the case's outputs hash to the values below; when the",
        "# output changes, the gate asks for a new review.",
        f"case: {case.case_id}",
        f"decision: {decision}",
        f"rationale: {json.dumps(rationale, ensure_ascii=False)}",
        f"reviewer: {json.dumps(reviewer, ensure_ascii=False)}",
        f"date: '{date}'",
        f"outcome: {case.outcome}",
        f"commit: {json.dumps(commit)}",
        f"target: {json.dumps(target, ensure_ascii=False)}",
        "outputs:",
    ]
    lines += [f"  - {h}" for h in output_hashes(case)]
    return "\n".join(lines) + "\n"
