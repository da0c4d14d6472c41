"""Running selected cases against a target and writing the evidence as they finish.

``execute()`` is the one entry point (``casebank run`` and the GitHub Action call it). Each
of a case's ``samples: n`` is an independent unit of work; a fixed pool of workers pulls the
next one, so memory stays flat however large the bank is. A sample ends as an output (then
the case's checks are applied) or as an error; a case is written to the evidence file the
moment its last sample finishes. Ctrl-C stops the workers and still writes the evidence,
marked ``complete=False, interrupted=True``, with unfinished cases marked not run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casebank import __version__
from casebank import git as gitinfo
from casebank.bank.case import Case
from casebank.check.result import ERROR, FAIL, CheckResult
from casebank.errors import ExitCode, UserError
from casebank.evidence import Evidence, EvidenceWriter
from casebank.run.cache import ResponseCache
from casebank.run.judge import Judges
from casebank.run.limiter import AimdLimiter
from casebank.run.progress import Progress, make_progress
from casebank.run.recording import RecordingWriter
from casebank.run.result import NOT_RUN, CaseResult, SampleResult
from casebank.run.retry import RetryPolicy
from casebank.run.sample import SampleOutput
from casebank.run.stats import RunnerStats
from casebank.run.targets import Target, build_target, validate_run_settings
from casebank.run.targets.base import RunContext
from casebank.run.transport import Transport

DEFAULT_CONCURRENCY = 8
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_CACHE_DIR = ".casebank/cache"
INTERRUPTED = "run interrupted before this case finished"
FINAL_ANSWER = "final_answer"  # the kind of the runner's own check: the agent finished

if TYPE_CHECKING:
    from casebank.bank.config import Config

CheckContextFor = Callable[[Case], Any]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def case_result(case: Case, samples: list[SampleResult], not_run_reason: str | None = None) -> CaseResult:
    """The ``CaseResult`` of a case from its sample results (everything but the YAML)."""
    return CaseResult(
        case_id=case.id, path=case.path, title=case.title, severity=case.severity,
        source_kind=case.source.kind, review=case.review, content_hash=case.content_hash,
        samples_required=case.rule.samples, min_pass=case.rule.min_pass, tags=list(case.tags),
        source_ref=case.source.ref, owner=case.source.owner, line=case.line_of(("id",)),
        samples=samples, not_run_reason=not_run_reason)


@dataclass
class _CaseRun:
    position: int
    case: Case
    samples: list[SampleResult | None]
    left: int
    done: bool = False


@dataclass
class _Outputs:
    """Where finished cases go: the evidence, the recordings, the progress display."""

    evidence: Evidence
    writer: EvidenceWriter
    progress: Progress
    recorder: RecordingWriter | None = None

    def finish_case(self, run: _CaseRun, not_run_reason: str | None = None) -> None:
        run.done = True
        samples = [s for s in run.samples if s is not None]
        result = case_result(run.case, samples, not_run_reason)
        self.writer.add(result)
        self.evidence.cases.append(result)
        self.progress.case_done(result)
        if self.recorder is not None:
            if not_run_reason is None:
                self.recorder.add(run.position, run.case.id, [s.sample for s in samples])
            else:
                self.recorder.skip(run.position)


async def _run_sample(target: Target, case: Case, index: int, ctx: RunContext) -> SampleOutput:
    try:
        return await target.run(case, index, ctx)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a bug in casebank: recorded as this sample's error, never a pass
        return SampleOutput(index=index, error=f"casebank could not run this sample "
                            f"({type(exc).__name__}: {exc}); please report it", error_kind="internal")


async def _apply_checks(case: Case, sample: SampleOutput, check_ctx: Any) -> list[CheckResult]:
    if sample.error is not None:
        return []  # no trustworthy output: the sample is an error whatever the checks say
    from casebank.check import run_checks

    try:
        results = await run_checks(case, sample, check_ctx)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return [CheckResult("checks", ERROR, f"casebank could not apply the checks "
                            f"({type(exc).__name__}: {exc}); please report it", case.line_of(("expect",)), 0)]
    if not sample.final:
        results.append(no_final_answer(case, sample))
    return results


def no_final_answer(case: Case, sample: SampleOutput) -> CheckResult:
    """A sample that ended without a final answer (the agent kept calling tools up to the
    step limit) fails, whatever its checks said of the turns it did take: the agent never
    finished the task. Listed after the case's own checks (``index`` = their count)."""
    return CheckResult(
        FINAL_ANSWER, FAIL, f"the agent gave no final answer: it stopped after "
        f"{sample.steps} model turn{'s' if sample.steps != 1 else ''} without one (the case "
        f"allows max_steps {case.input.max_steps}); a run that never finishes is never a pass",
        case.line_of(("input", "max_steps")), len(case.expect))


async def run_cases(cases: list[Case], target: Target, ctx: RunContext, *, workers: int,
                    check_context_for: CheckContextFor, outputs: _Outputs) -> bool:
    """Run every sample of every case; returns False when interrupted."""
    runs = [_CaseRun(i, case, [None] * max(1, case.rule.samples), max(1, case.rule.samples))
            for i, case in enumerate(cases)]
    work = ((run, index) for run in runs for index in range(len(run.samples)))

    async def worker() -> None:
        for run, index in work:  # one shared iterator: each worker takes the next sample
            sample = await _run_sample(target, run.case, index, ctx)
            checks = await _apply_checks(run.case, sample, check_context_for(run.case))
            run.samples[index] = SampleResult(sample=sample, checks=checks)
            run.left -= 1
            if run.left == 0:
                outputs.finish_case(run)

    tasks = [asyncio.create_task(worker()) for _ in range(max(1, workers))]
    try:
        await asyncio.gather(*tasks)
        return True
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for run in runs:
            if not run.done:
                outputs.finish_case(run, INTERRUPTED)
        return False


@dataclass(frozen=True)
class RunSettings:
    """The ``run:`` section with defaults applied, and the flags that override it."""

    workers: int
    min_concurrency: int
    timeout_s: float
    policy: RetryPolicy
    cache_dir: Path | None

    @classmethod
    def of(cls, config: Config, concurrency: int | None, use_cache: bool) -> RunSettings:
        run = dict(config.run or {})
        problems = validate_run_settings(run, config.display_path, config.problem)
        if problems:
            raise UserError(f"the run: section of {config.display_path} is not valid", problems)
        workers = int(concurrency or run.get("concurrency") or DEFAULT_CONCURRENCY)
        if workers < 1:
            raise UserError(f"--concurrency must be at least 1, not {workers}")
        cache_dir = None
        if use_cache and run.get("cache", True):
            folder = Path(run.get("cache_dir") or DEFAULT_CACHE_DIR)
            cache_dir = folder if folder.is_absolute() else Path(config.root) / folder
        return cls(workers=workers, min_concurrency=int(run.get("min_concurrency") or 1),
                   timeout_s=float(run.get("timeout_s") or DEFAULT_TIMEOUT_S),
                   policy=RetryPolicy.from_config(run, config.display_path), cache_dir=cache_dir)


def runner_summary(limiter: AimdLimiter, stats: RunnerStats, settings: RunSettings,
                   wall_s: float) -> dict[str, Any]:
    policy = settings.policy
    return {"transport": "aiohttp", "concurrency": limiter.summary(), **stats.summary(),
            "retry_policy": {"retries": policy.retries, "backoff_s": policy.backoff_s,
                             "max_retry_after_s": policy.max_retry_after_s},
            "timeout_s": settings.timeout_s,
            "cache": str(settings.cache_dir) if settings.cache_dir else None,
            "wall_s": round(wall_s, 3)}


def _check_contexts(config: Config, target: Target, judges: dict[str, Any]) -> CheckContextFor:
    """One ``CheckContext`` per judge name: the case's ``judge:``, else the config's."""
    from casebank.check import CheckContext
    from casebank.check.context import files_under

    read_file = files_under(Path(config.root))
    contexts: dict[str | None, Any] = {}
    # run.judge_threshold (validated by the schema); absent: CheckContext's default
    threshold = ({"judge_threshold": float(config.run["judge_threshold"])}
                 if "judge_threshold" in config.run else {})

    def for_case(case: Case) -> Any:
        name = case.judge or config.judge
        if name not in contexts:
            contexts[name] = CheckContext(
                root=Path(config.root), read_file=read_file, judge=judges.get(name) if name else None,
                prices=target.prices, judges=judges, judge_target=name, **threshold)
        return contexts[name]

    return for_case


def execute(config: Config, cases: list[Case], *, target: str | None = None, suite: str = "full",
            bank_size: int, evidence_path: Path, concurrency: int | None = None,
            use_cache: bool = True, shard: tuple[int, int] | None = None,
            progress: bool | None = None, not_selected_reason: str | None = None,
            record_outputs: Path | None = None) -> Evidence:
    """Run ``cases`` (the selection; ``shard=(i, n)`` runs only shard i of n of them) against
    ``target`` (default: the config's ``default_target``), write the evidence file to
    ``evidence_path`` as cases finish, and return the evidence.

    ``progress``: ``None`` decides (a bar on a terminal, plain lines when ``CI=true`` or no
    terminal), ``True`` bar, ``False`` plain lines. A target that cannot be reached makes
    every sample an error (exit code 4 via ``exit_code``), never a pass. Ctrl-C returns the
    partial evidence with ``interrupted=True``. Bad settings raise ``UserError``.
    """
    settings = RunSettings.of(config, concurrency, use_cache)
    name = target or config.default_target
    if not name:
        raise UserError(f"no target to run against: pass --target NAME or set default_target "
                        f"in {config.display_path} (targets: {', '.join(sorted(config.targets)) or 'none'})")
    root = Path(config.root)
    built = build_target(name, config.targets, config_path=config.display_path, root=root,
                         run_settings=config.run, locate=config.problem)
    if shard is not None:
        from casebank.select.shard import cases_for_shard

        cases = cases_for_shard(cases, shard[0], shard[1])
    evidence = Evidence(
        casebank_version=__version__, commit=gitinfo.head_commit(root), dirty=gitinfo.is_dirty(root),
        config_hash=config.config_hash, target=built.fingerprint(), started_at=_now(), suite=suite,
        bank_size=bank_size, selected=[c.id for c in cases], not_selected_reason=not_selected_reason,
        shard={"index": shard[0], "count": shard[1]} if shard else None)
    writer = EvidenceWriter(evidence_path, evidence)
    recorder = RecordingWriter(record_outputs) if record_outputs else None
    shown = make_progress(progress)
    outputs = _Outputs(evidence, writer, shown, recorder)
    limiter = AimdLimiter(settings.workers, minimum=settings.min_concurrency)
    stats = RunnerStats()
    started = time.perf_counter()

    async def main() -> bool:
        transport = Transport(limiter, settings.policy, stats)
        ctx = RunContext(transport, ResponseCache(settings.cache_dir, stats), stats, root)
        judges = Judges(config.targets, ctx, config_path=config.display_path,
                        run_settings=config.run, locate=config.problem)
        try:
            return await run_cases(cases, built, ctx, workers=settings.workers,
                                   check_context_for=_check_contexts(config, built, judges.all()),
                                   outputs=outputs)
        finally:
            await ctx.cache.flush()
            await transport.aclose()

    shown.start(len(cases), name)
    finished = interrupted = False
    try:
        finished = asyncio.run(main())
        interrupted = not finished
    except KeyboardInterrupt:
        interrupted = True
    finally:  # also after a crash: whatever finished is on disk, marked incomplete
        shown.finish()
        evidence.interrupted = interrupted
        evidence.complete = finished and shard is None
        evidence.finished_at = _now()
        evidence.runner = runner_summary(limiter, stats, settings, time.perf_counter() - started)
        writer.close(evidence)
        if recorder is not None:
            recorder.close()
    return evidence


def exit_code(evidence: Evidence) -> ExitCode:
    """0 every case passed; 1 a case failed; 4 the run is incomplete (interrupted, or a case
    errored or was not run); 3 a case is uncertain (a person must look); see docs/running.md."""
    outcomes = {c.outcome for c in evidence.cases}
    if "fail" in outcomes:
        return ExitCode.FAILURES
    if evidence.interrupted or ERROR in outcomes or NOT_RUN in outcomes:
        return ExitCode.INFRA
    if set(evidence.selected) - {c.case_id for c in evidence.cases}:
        return ExitCode.INFRA
    if "uncertain" in outcomes:
        return ExitCode.HOLD
    return ExitCode.OK
