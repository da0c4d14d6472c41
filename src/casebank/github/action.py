"""The GitHub Action, start to end: event → suite → run (or merge) → gate → report.

What GitHub answers never changes the verdict or the exit status: every API failure is
recorded and reported (step summary, log) and the action goes on. When the token cannot
write (a pull request from a fork), the verdict still reaches the reviewer through the step
summary, ``::error`` annotations in the log and the exit status.

Exit status (``fail-on``): SHIP 0; BLOCK 1; HOLD 3 with ``fail-on: hold``, 0 with
``fail-on: block`` (the check run still shows the HOLD). Bad input 2, infrastructure 4.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from casebank import git
from casebank.bank.load import load_valid_bank
from casebank.errors import ExitCode, UserError
from casebank.evidence import Evidence
from casebank.gate.verdict import BLOCK, HOLD, SHIP, Verdict
from casebank.github import checks as check_runs
from casebank.github import comment as sticky
from casebank.github import summary as step
from casebank.github.client import READ_ONLY, GitHubApi
from casebank.github.event import Event, parse_event, read_payload
from casebank.github.inputs import Context, Inputs
from casebank.github.workflow_commands import command, emit_annotations
from casebank.report import annotations as annotate
from casebank.report import markdown, sanitize

if TYPE_CHECKING:
    from casebank.select.changed import ChangedSuite

PULL_REQUEST_FILE = "pull-request.txt"  # next to the evidence: the PR number, for workflow_run
FORK_HELP = ("The token of this run cannot write check runs or comments (a pull request from a "
             "fork, or the workflow lacks `permissions: checks: write, pull-requests: write`). "
             "The verdict is in this summary, the log annotations and the exit status. For the "
             "full report on fork pull requests, add the fork-safe workflow "
             "(examples/workflows/casebank-fork-safe.yml, see docs/github.md).")


@dataclass
class Selection:
    """Which cases a run covers and why."""

    cases: list[Any]
    suite: str  # full | changed
    why: str = ""
    bank_size: int = 0  # cases in the bank (for a changed suite: counted by the bank index)


@dataclass
class Report:
    """What the action decided and posted; ``exit_code`` is what the step exits with."""

    verdict: Verdict | None = None
    evidence: Evidence | None = None
    evidence_path: Path | None = None
    exit_code: int = int(ExitCode.OK)
    changed_ids: list[str] | None = None
    changed_why: str = ""
    notes: list[str] = field(default_factory=list)


def exit_code_for(decision: str, fail_on: str) -> int:
    """0 SHIP, 1 BLOCK, and HOLD 3 with fail-on: hold or 0 with fail-on: block."""
    if decision == SHIP:
        return int(ExitCode.OK)
    if decision == BLOCK:
        return int(ExitCode.FAILURES)
    if decision == HOLD:
        return int(ExitCode.HOLD) if fail_on == "hold" else int(ExitCode.OK)
    raise ValueError(decision)


def _say(out: TextIO, text: str) -> None:
    out.write(f"casebank: {sanitize.plain(text, 2000)}\n")
    out.flush()


def _workspace_path(ctx: Context, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else ctx.workspace / path


def _require_commits(repo: Path, event: Event) -> None:
    """A shallow checkout lacks the base commit: say how to fix the workflow (exit 2)."""
    for role, sha in (("base", event.base_sha), ("head", event.head_sha)):
        if sha and not git.has_commit(repo, sha):
            shallow = (repo / ".git" / "shallow").exists()
            raise UserError(
                f"the {role} commit {sha[:12]} of this {event.name} event is not in the checkout "
                f"at {repo}{' (a shallow clone)' if shallow else ''}: casebank compares the change "
                "with its base. Set `fetch-depth: 0` on actions/checkout:\n"
                "      - uses: actions/checkout@v4\n        with:\n          fetch-depth: 0")


def run_action(inputs: Inputs, ctx: Context, *, out: TextIO = sys.stdout) -> int:
    """Run the action; the exit status. UserError (exit 2) for input the user must fix."""
    payload = read_payload(ctx.event_path)
    event = parse_event(ctx.event_name, payload, ctx.sha)
    if event.name == "workflow_run" and inputs.mode != "merge":
        raise UserError("on workflow_run, casebank reports the evidence a pull request's run "
                        "uploaded and never runs the pull request's code: set `mode: merge` and "
                        "`evidence:` to the downloaded file (see casebank-fork-safe.yml)")
    if inputs.shard and inputs.mode != "run":
        raise UserError("input shard: only for mode: run (the merge job combines the shards)")

    from casebank.bank.config import load_config

    config = load_config(_workspace_path(ctx, inputs.config))
    repo = git.root(config.root) or Path(config.root)
    if event.name != "workflow_run":
        _require_commits(repo, event)
    if event.base_sha or event.name == "workflow_run":
        _fetch_baselines(repo)
    evidence_path = _workspace_path(ctx, inputs.evidence)

    if inputs.shard:
        return _run_shard(inputs, ctx, event, config, repo, evidence_path, out)

    api = GitHubApi(ctx.api_url, inputs.github_token, ctx.repository) if ctx.repository else None
    if event.name == "workflow_run":
        event = _fork_pull_request(api, event, evidence_path, out)
    links = markdown.Links(server_url=ctx.server_url, repository=ctx.repository,
                          head_sha=event.head_sha, run_url=ctx.run_url,
                          evidence_path=_shown_path(ctx, evidence_path),
                          base_sha=event.base_sha)
    _say(out, _describe(event))

    names = {"gate": f"{inputs.check_name} / gate", "changed": f"{inputs.check_name} / changed"}
    started: dict[str, check_runs.CheckRun] = {}
    if api is not None:
        if event.base_sha:
            started["changed"] = check_runs.start(api, names["changed"], event.head_sha,
                                                  ctx.run_url)
        started["gate"] = check_runs.start(api, names["gate"], event.head_sha, ctx.run_url)
    report = Report()
    comment_result = None
    try:  # until the check runs are completed: whatever stops us completes them, saying so
        if inputs.mode == "merge":
            _merge(inputs, ctx, event, config, repo, evidence_path, report, out)
        else:
            _run(inputs, ctx, event, config, repo, evidence_path, report, api, started, links,
                 out)
        verdict, evidence = report.verdict, report.evidence
        assert verdict is not None and evidence is not None
        links = replace(links, evidence_path=_shown_path(ctx, report.evidence_path
                                                         or evidence_path))
        report.exit_code = exit_code_for(verdict.decision, inputs.fail_on)

        found = annotate.for_run(evidence, verdict)
        if api is not None:
            if "changed" in started and not started["changed"].completed:
                _complete_changed(api, started["changed"], report, evidence, verdict, links)
            check_runs.complete(
                api, started["gate"],
                check_runs.conclusion_for(verdict.decision, verdict.hold_conclusion),
                markdown.gate_check(verdict, evidence, links), found)
            if event.wants_comment and event.pull_number and inputs.comment != "off":
                body = markdown.comment(verdict, evidence, check_name=inputs.check_name,
                                        links=links)
                comment_result = sticky.post(
                    api, event.pull_number, body, check_name=inputs.check_name,
                    state=markdown.comment_state(verdict, evidence), decision=verdict.decision,
                    mode=inputs.comment)
    except BaseException as exc:
        _abandon(api, started, exc)
        raise
    if event.records_baseline:
        _record_baseline(repo, event, report, out)

    problems, info = _github_notes(api, started, comment_result, report)
    gate_posted = "gate" in started and started["gate"].completed
    if not gate_posted:  # no check run carries the annotations: the log does
        emit_annotations(found, out)
    for note in problems:
        out.write(command("warning", note, title="casebank: reporting to GitHub") + "\n")
    changed_line = ""
    if report.changed_ids is not None:
        changed_line = (f"**Changed suite:** {len(report.changed_ids)} case(s) added or affected "
                        f"by this change. {sanitize.inline(report.changed_why, 1000)}")
    step.write_step_summary(ctx.step_summary, markdown.step_summary(
        verdict, evidence, check_name=inputs.check_name, links=links,
        extras=markdown.SummaryExtras(github_notes=problems + info, changed=changed_line)))
    counts = markdown.Counts.of(evidence.cases)
    step.write_outputs(ctx.output, {
        "verdict": verdict.decision, "passed": counts.passed, "failed": counts.failed,
        "errored": counts.errored, "uncertain": counts.uncertain,
        "evidence": _shown_path(ctx, report.evidence_path)})
    _say(out, f"{verdict.decision}: {counts.line()} (exit {report.exit_code}, fail-on: "
              f"{inputs.fail_on})")
    if api is not None:
        api.close()
    return report.exit_code


# --- the parts ---------------------------------------------------------------------------------


def _describe(event: Event) -> str:
    text = f"{event.name} on {event.head_sha[:12]}"
    if event.pull_number:
        text += f" (pull request #{event.pull_number})"
    if event.base_sha:
        text += f", compared with {event.base_sha[:12]}"
    return text


def _shown_path(ctx: Context, path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.resolve().relative_to(ctx.workspace.resolve()).as_posix()
    except ValueError:
        return str(path)


def _select(inputs: Inputs, event: Event, config: Any, repo: Path,
            report: Report) -> tuple[Selection | None, Selection]:
    """(changed cases to run first or None, the selection the gate decides on).

    Only a run of the whole bank loads it (and stops on any invalid case file in it). A
    changed-suite run reads the git diff, the changed case files and the bank index: an
    invalid case file the change does not touch is the base branch's (whose full runs report
    it), and does not stop the pull request's changed suite.
    """
    from casebank.select.changed import changed_suite

    if inputs.suite == "full" or event.full_suite_required or not event.base_sha:
        bank = load_valid_bank(config)
        every = Selection(list(bank.cases), "full", "full suite: every case in the bank",
                          len(bank.cases))
        if event.base_sha:  # also for the full suite: the changed check lists these cases
            _note_changed(report, changed_suite(repo, config, bank, event.base_sha,
                                                event.head_sha))
        return None, every
    found = changed_suite(repo, config, None, event.base_sha, event.head_sha)
    _note_changed(report, found)
    if inputs.suite == "changed" or not found.full_required:
        return None, Selection(list(found.cases), "changed", found.not_selected_reason(),
                               found.bank_size)
    # auto, and the configuration changed: the changed cases first, then the whole bank (the
    # changed cases taken from it, so both runs read the same case files)
    bank = load_valid_bank(config)
    found = changed_suite(repo, config, bank, event.base_sha, event.head_sha)
    first = Selection(list(found.cases), "changed", found.not_selected_reason(),
                      len(bank.cases))
    return first, Selection(list(bank.cases), "full",
                            f"full suite after the changed cases: {found.why}", len(bank.cases))


def _note_changed(report: Report, found: ChangedSuite) -> None:
    report.changed_ids = [c.id for c in found.cases]
    report.changed_why = found.why


def _run(inputs: Inputs, ctx: Context, event: Event, config: Any, repo: Path,
         evidence_path: Path, report: Report, api: GitHubApi | None,
         started: dict[str, check_runs.CheckRun], links: markdown.Links, out: TextIO) -> None:
    from casebank.run import execute

    first, selection = _select(inputs, event, config, repo, report)
    if first is not None:
        # auto: the changed cases first, so their check completes before the full run.
        first_path = evidence_path.with_name(evidence_path.stem + ".changed-first.json")
        _say(out, f"changed suite first: {len(first.cases)} case(s); {report.changed_why}")
        first_evidence = execute(config, first.cases, target=inputs.target, suite="changed",
                                 bank_size=first.bank_size, evidence_path=first_path,
                                 not_selected_reason=first.why)
        if api is not None and "changed" in started:
            verdict = _evaluate(config, first_evidence, repo, event)
            _complete_changed(api, started["changed"], report, first_evidence, verdict, links)
    _say(out, f"{selection.suite} suite: {len(selection.cases)} case(s)")
    evidence = execute(config, selection.cases, target=inputs.target, suite=selection.suite,
                       bank_size=selection.bank_size, evidence_path=evidence_path,
                       not_selected_reason=selection.why if selection.suite != "full" else None)
    report.evidence, report.evidence_path = evidence, evidence_path
    report.verdict = _evaluate(config, evidence, repo, event)
    if event.is_pull_request and event.pull_number:
        (evidence_path.parent / PULL_REQUEST_FILE).write_text(f"{event.pull_number}\n",
                                                              encoding="utf-8")


def _run_shard(inputs: Inputs, ctx: Context, event: Event, config: Any, repo: Path,
               evidence_path: Path, out: TextIO) -> int:
    """One shard of a matrix: run its cases and write the evidence; the merge job reports."""
    from casebank.run import execute, exit_code
    from casebank.select.shard import parse_shard

    index, count = parse_shard(inputs.shard or "")
    report = Report()
    _, selection = _select(inputs, event, config, repo, report)
    _say(out, f"shard {index}/{count} of {len(selection.cases)} case(s) ({selection.suite} suite)")
    evidence = execute(config, selection.cases, target=inputs.target, suite=selection.suite,
                       bank_size=selection.bank_size, evidence_path=evidence_path,
                       shard=(index, count),
                       not_selected_reason=selection.why if selection.suite != "full" else None)
    if event.is_pull_request and event.pull_number:
        (evidence_path.parent / PULL_REQUEST_FILE).write_text(f"{event.pull_number}\n",
                                                              encoding="utf-8")
    counts = markdown.Counts.of(evidence.cases)
    step.write_step_summary(ctx.step_summary, (
        f"## casebank shard {index}/{count}\n\n{counts.line()} ({selection.suite} suite). "
        "The merge job applies the gate and reports the verdict.\n"))
    step.write_outputs(ctx.output, {
        "verdict": "", "passed": counts.passed, "failed": counts.failed,
        "errored": counts.errored, "uncertain": counts.uncertain,
        "evidence": _shown_path(ctx, evidence_path)})
    _say(out, f"shard {index}/{count}: {counts.line()}; evidence in {evidence_path}")
    # Failures are the merge job's to judge; a shard that could not run its cases says so.
    return int(ExitCode.INFRA if exit_code(evidence) == ExitCode.INFRA else ExitCode.OK)


def _merge(inputs: Inputs, ctx: Context, event: Event, config: Any, repo: Path,
           evidence_path: Path, report: Report, out: TextIO) -> None:
    """Gate evidence that other jobs produced: the shards of a matrix, or a fork's upload."""
    from casebank import evidence as evidence_io
    from casebank.commands.merge import evidence_paths
    from casebank.merge import merge_evidence

    merged_path = ctx.workspace / ".casebank" / "merged-evidence.json"
    paths = evidence_paths([str(evidence_path)], merged_path)
    parts = [evidence_io.read(path) for path in paths]
    if len(parts) == 1 and not parts[0].shard:
        evidence, report.evidence_path = parts[0], paths[0]
    else:
        evidence = merge_evidence(parts, [str(p) for p in paths])
        evidence_io.write(evidence, merged_path)
        report.evidence_path = merged_path
    _say(out, f"merged {len(parts)} evidence file(s): {len(evidence.cases)} case(s)")
    report.evidence = evidence
    head_known = git.has_commit(repo, event.head_sha)
    if not head_known and event.name == "workflow_run" and event.pull_number:
        # The fork's commits, as data only (nothing is checked out or run), so the gate can
        # list the cases and policy the pull request changes.
        git.fetch_ref(repo, "origin", f"refs/pull/{event.pull_number}/head",
                      into=f"refs/casebank/pull/{event.pull_number}")
        head_known = git.has_commit(repo, event.head_sha)
    if event.base_sha and head_known:
        try:
            from casebank.select.changed import changed_suite

            # which cases the pull request changed, for the report: the diff, not the bank
            _note_changed(report, changed_suite(repo, config, None, event.base_sha,
                                                event.head_sha))
        except UserError as err:
            report.notes.append(f"changed cases unknown: {err.message}")
    report.verdict = _evaluate(config, evidence, repo, event if head_known else
                               replace(event, base_sha=None))


def _evaluate(config: Any, evidence: Evidence, repo: Path, event: Event) -> Verdict:
    from casebank.gate.evaluate import evaluate

    return evaluate(config, evidence, repo=repo, base=event.base_sha, head=event.head_sha)


def _fork_pull_request(api: GitHubApi | None, event: Event, evidence_path: Path,
                       out: TextIO) -> Event:
    """workflow_run: which pull request the uploaded evidence is about, checked with GitHub.

    The number comes from the untrusted upload (``pull-request.txt``); it is used only if
    GitHub says that pull request's head is the commit the triggering run was for.
    """
    if event.run_event not in ("pull_request", "pull_request_target"):
        return event
    number = event.pull_number
    if number is None:
        folder = evidence_path if evidence_path.is_dir() else evidence_path.parent
        text = ""
        try:
            text = (folder / PULL_REQUEST_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            pass
        number = int(text) if text.isdigit() and len(text) < 10 else None
    if number is None or api is None:
        _say(out, f"no pull request number ({PULL_REQUEST_FILE} next to the evidence): "
                  "reporting the check run only")
        return replace(event, pull_number=None, run_event="workflow_run")
    pull = api.read(f"read pull request #{number}", lambda: api.repo.get_pull(number).raw_data)
    head = (pull or {}).get("head", {}).get("sha")
    if head != event.head_sha:
        _say(out, f"pull request #{number} does not have head {event.head_sha[:12]} "
                  f"(GitHub says {str(head)[:12]}): not commenting on it")
        return replace(event, pull_number=None, run_event="workflow_run")
    base = (pull or {}).get("base", {}).get("sha")
    return replace(event, pull_number=number, base_sha=base or event.base_sha)


def _complete_changed(api: GitHubApi, check: check_runs.CheckRun, report: Report,
                      evidence: Evidence, verdict: Verdict, links: markdown.Links) -> None:
    ids = set(report.changed_ids or [])
    cases = [c for c in evidence.cases if c.case_id in ids]
    changed_verdict = _evaluate_subset(cases, verdict) if cases else None
    conclusion = (check_runs.NEUTRAL if changed_verdict is None else
                  check_runs.conclusion_for(changed_verdict.decision,
                                            changed_verdict.hold_conclusion))
    output = markdown.changed_check(cases, report.changed_why, links, changed_verdict)
    check_runs.complete(api, check, conclusion, output)


def _evaluate_subset(cases: list[Any], whole: Verdict) -> Verdict:
    """The changed cases' own verdict: the whole verdict's reasons that name them."""
    ids = {c.case_id for c in cases}
    reasons = [r for r in whole.reasons if r.case_id in ids]
    if any(r.decision == BLOCK for r in reasons):
        decision = BLOCK
    elif any(r.decision == HOLD for r in reasons):
        decision = HOLD
    else:
        decision = SHIP
    return replace(whole, decision=decision, reasons=reasons)


def _abandon(api: GitHubApi | None, started: dict[str, check_runs.CheckRun],
             exc: BaseException) -> None:
    """The action failed after creating its check runs: complete them saying so."""
    if api is None:
        return
    message = exc.message if isinstance(exc, UserError) else "casebank stopped with an error"
    if isinstance(exc, KeyboardInterrupt):
        message = "casebank was interrupted"
    problems = exc.problems if isinstance(exc, UserError) else []
    summary = sanitize.inline(message, 3000)
    if problems:
        summary += "\n\n" + "\n".join(f"- {sanitize.inline(p.render(), 500)}"
                                       for p in problems[:100])
    summary += "\n\nSee the workflow run's log."
    found = [annotate.Annotation(p.path, p.line or 1, annotate.FAILURE,
                                 sanitize.plain(p.field or "casebank", 200),
                                 sanitize.plain(p.render(), 2000))
             for p in problems if p.path and not Path(p.path).is_absolute()]
    conclusion = "cancelled" if isinstance(exc, KeyboardInterrupt) else check_runs.FAILURE
    for check in started.values():
        if check.run is not None and not check.completed:
            check_runs.complete(api, check, conclusion, markdown.CheckText(
                title="casebank could not finish", summary=markdown.cap(summary, 60_000)),
                found if check.name.endswith("/ gate") else None)


def _fetch_baselines(repo: Path) -> None:
    """Baselines are git notes pushed by the default branch's runs: fetch them if there are."""
    from casebank.gate.baseline import fetch_baselines

    try:
        fetch_baselines(repo)
    except Exception:  # noqa: BLE001 - no remote, no notes yet: the gate says "no baseline"
        pass


def _record_baseline(repo: Path, event: Event, report: Report, out: TextIO) -> None:
    from casebank.gate.baseline import push_baselines, record_baseline

    try:
        record_baseline(repo, event.head_sha, report.evidence_path or "")
        pushed = push_baselines(repo)
    except UserError as err:
        report.notes.append(f"the baseline was not recorded: {err.message}")
        return
    if pushed:
        _say(out, f"recorded this run as the baseline of {event.head_sha[:12]}")
    else:
        report.notes.append("the baseline was recorded but could not be pushed "
                            "(the job needs `permissions: contents: write`)")


def _github_notes(api: GitHubApi | None, started: dict[str, check_runs.CheckRun],
                  comment_result: sticky.CommentResult | None,
                  report: Report) -> tuple[list[str], list[str]]:
    """(problems, information) about how reporting went, for the summary; problems also go
    to the log as warnings."""
    problems = list(report.notes)
    info: list[str] = []
    if api is None:
        info.append("GITHUB_REPOSITORY is not set: nothing was posted to GitHub.")
        return problems, info
    if not api.has_token:
        problems.append("No github-token was given (the input defaults to "
                        "`${{ github.token }}`): nothing was posted to GitHub; the verdict is in "
                        "this summary, the log annotations and the exit status.")
    elif api.read_only:
        problems.append(FORK_HELP)
    for failure in api.failures:
        if failure.kind != READ_ONLY:
            problems.append(f"GitHub: {failure.render()}. The verdict and exit status are "
                            "unaffected.")
    for check in started.values():
        if check.completed and check.url:
            info.append(f"Check run {sanitize.code(check.name)}: {check.url}")
    if comment_result is not None:
        if comment_result.url and comment_result.action in (sticky.CREATED, sticky.UPDATED):
            info.append(f"PR comment {comment_result.action}: {comment_result.url}")
        elif comment_result.why:
            info.append(f"PR comment {comment_result.action}: {comment_result.why}.")
    return problems, info
