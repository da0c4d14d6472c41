"""Scale benchmark (not a test): a generated bank of 10,000 cases against a local model server.

    .venv/bin/python bench/scale.py                 # the figures of docs/scale.md (a few minutes)
    .venv/bin/python bench/scale.py --cases 2000    # quicker, same shape

What it measures, each against a reference measured in the same run:

- validation time (``casebank validate``) of the big bank, against a bank of ``--small`` cases
  (linear growth is expected: every case is parsed);
- changed-suite selection for a three-file pull request (a case modified, a case added, a prompt
  five cases read), on the big bank against the small bank: the ratio should be about 1;
- ``casebank run --changed --base main`` for that change, end to end (its own process, the
  cases sent to the model server), on the big bank against the small bank: about 1 again;
- the full run at ``--concurrency`` against the server answering after ``--latency-ms``: wall
  time against the floor (model turns x latency / concurrency), and the run's peak RSS;
- a cached re-run: the model requests it makes (0 expected);
- ``--shards`` shard runs (each as its own CI job would, one after the other here): each
  shard's share of cases against N/shards, the slowest shard against the single run, and the
  gate on the merged evidence against the gate on the single run (byte for byte).

Cases are mixed: plain text cases (one model turn a sample) and agent cases whose model calls
a scripted tool and then answers (two turns a sample), 1 to 3 samples each; about 1 case in 100
fails, so the verdicts compared are BLOCK with their failures listed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

# The model server's script: agent cases (their user message starts with "AGENT") get a tool
# call first, then an answer once the tool result is in; text cases get the echo of their
# message ("echo: <message>"), which their `contains` check looks for.
SERVER_SCRIPT = {"rules": [
    {"user": "^AGENT", "last": "user",
     "tool_calls": [{"name": "lookup_order", "arguments": "{\"order_id\": \"A-1\"}"}]},
    {"last": "tool", "reply": "Refund of order A-1 done."},
]}


@dataclass
class Bank:
    folder: Path
    cases: int
    model_turns: int  # sum over cases of samples x turns a sample


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True,
                          text=True).stdout.strip()


def case_text(number: int, rnd: random.Random) -> tuple[str, int]:
    """A case file and its model turns (samples x turns a sample)."""
    agent = rnd.random() < 0.4
    samples = rnd.choice((1, 1, 1, 2, 3))
    # every 4th case reads a team prompt; each prompt is read by 5 cases, whatever the bank size
    system = (f"  system:\n    file: prompts/team-{number // 20}.md\n" if number % 4 == 0
              else "  system: You are a support agent.\n")
    head = (f"id: case-{number:05d}\ntitle: Lesson number {number}\n"
            f"severity: {('critical', 'high', 'medium', 'low')[number % 4]}\n"
            f"source:\n  kind: incident\n  ref: INC-{number}\ntags: [bench, team-{number % 7}]\n")
    rule = f"samples: {samples}\npass: all\n" if samples > 1 else ""
    if not agent:
        # about 1 case in 100 expects what the model does not say: the verdict has failures
        wanted = f"Answer {number}:" if number % 97 == 5 else f"Question {number}:"
        return (head + f"input:\n{system}  messages:\n    - user: \"Question {number}: where is my "
                f"parcel?\"\n{rule}expect:\n  - contains: \"{wanted}\"\n"), samples
    return (head + f"input:\n{system}  messages:\n    - user: \"AGENT {number}: refund order "
            "A-1 please\"\n  tools:\n    - name: lookup_order\n      description: Look up an "
            "order.\n      parameters:\n        type: object\n        properties:\n          "
            "order_id: {type: string}\n        required: [order_id]\n      results:\n        - "
            "result: {order_id: A-1, amount: 12.5}\n  max_steps: 4\n"
            f"{rule}expect:\n  - tool_called: lookup_order\n  - contains: Refund\n"), samples * 2


def generate(folder: Path, count: int, base_url: str) -> Bank:
    """A committed project of ``count`` cases on branch main, then a ``pr`` branch changing a
    case, adding one and changing a prompt five cases read."""
    rnd = random.Random(count)
    (folder / "cases").mkdir(parents=True)
    (folder / "prompts").mkdir()
    (folder / "casebank.yaml").write_text(
        "bank: cases\ntargets:\n  bench:\n    kind: openai\n"
        f"    base_url: {base_url}\n    model: bench-model\ndefault_target: bench\n"
        "run:\n  concurrency: 64\n  timeout_s: 30\n")
    turns = 0
    for number in range(count):
        text, used = case_text(number, rnd)
        turns += used
        shard_folder = folder / "cases" / f"team-{number % 50:02d}"
        shard_folder.mkdir(exist_ok=True)
        (shard_folder / f"case-{number:05d}.yaml").write_text(text)
    for team in range(count // 20 + 1):
        (folder / "prompts" / f"team-{team}.md").write_text(f"You help team {team}'s customers.\n")
    git(folder, "init", "-q", "-b", "main")
    git(folder, "config", "gc.auto", "0")  # no background gc racing the repack below
    git(folder, "add", "-A")
    git(folder, "-c", "user.email=bench@example.com", "-c", "user.name=bench", "commit", "-q",
        "-m", "bank")
    git(folder, "repack", "-a", "-d", "-q")  # packed, as in a fresh CI clone
    git(folder, "checkout", "-q", "-b", "pr")
    modified = folder / "cases" / "team-01" / "case-00001.yaml"
    modified.write_text(modified.read_text().replace("Lesson number 1", "Lesson number one"))
    (folder / "cases" / "team-02" / "case-new.yaml").write_text(
        case_text(count + 1, rnd)[0].replace(f"case-{count + 1:05d}", "case-new"))
    (folder / "prompts" / "team-3.md").write_text("You help team 3's customers, politely.\n")
    git(folder, "add", "-A")
    git(folder, "-c", "user.email=bench@example.com", "-c", "user.name=bench", "commit", "-q",
        "-m", "a three-file change")
    return Bank(folder, count, turns)


@dataclass
class Process:
    code: int
    wall_s: float
    peak_rss_mb: float
    cpu_s: float  # user + system time of the casebank process
    out: str


def casebank(*args: str, cwd: Path) -> Process:
    """Run the casebank CLI as its own process; its wall time and its peak RSS."""
    log = tempfile.TemporaryFile()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "casebank", *args], cwd=cwd, stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, "CI": "true"})
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    log.seek(0)
    return Process(proc.returncode, wall, usage.ru_maxrss / 1024,
                   usage.ru_utime + usage.ru_stime, log.read().decode())


def changed_selection_s(banks: list[Bank], rounds: int = 9
                        ) -> list[tuple[float, float, int]]:
    """``changed_suite`` reading from git (no Bank loaded), for each bank: the first call,
    which builds the bank index, and the median of the next ``rounds``, which find it; and the
    cases selected. The banks take turns, so load on the machine weighs on each alike."""
    from casebank.bank.config import load_config
    from casebank.select.changed import changed_suite

    times: list[list[float]] = [[] for _ in banks]
    selected = [0] * len(banks)
    for bank in banks:
        shutil.rmtree(bank.folder / ".casebank" / "index", ignore_errors=True)
    for _ in range(rounds + 1):
        for number, bank in enumerate(banks):
            started = time.perf_counter()
            config = load_config(bank.folder / "casebank.yaml")
            suite = changed_suite(bank.folder, config, None, "main", "HEAD")
            times[number].append(time.perf_counter() - started)
            selected[number] = len(suite.cases)
    return [(spent[0], sorted(spent[1:])[rounds // 2], count)
            for spent, count in zip(times, selected, strict=True)]


def changed_runs_s(banks: list[Bank], rounds: int = 3) -> list[tuple[float, Process]]:
    """``casebank run --changed --base main`` on each bank, its own process each time: the
    median wall time of ``rounds`` (the banks taking turns) and the last run."""
    times: list[list[float]] = [[] for _ in banks]
    last: list[Process | None] = [None] * len(banks)
    for _ in range(rounds):
        for number, bank in enumerate(banks):
            done = casebank("run", "--changed", "--base", "main", "--no-cache", "--plain",
                            "--out", str(bank.folder.parent / f"changed-{number}.json"),
                            cwd=bank.folder)
            if done.code not in (0, 1, 3):
                raise SystemExit(f"run --changed failed (exit {done.code}):\n{done.out[-3000:]}")
            times[number].append(done.wall_s)
            last[number] = done
    return [(sorted(spent)[rounds // 2], run) for spent, run in zip(times, last, strict=True)
            if run is not None]


def cpu_s(pid: int) -> float:
    """User + system seconds a running process has used (Linux; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class Server:
    def __init__(self, latency_ms: float, script: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.model_server", "--port", "0", "--latency-ms",
             str(latency_ms), "--script", str(script), "--no-record"],
            cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise SystemExit("the model server did not start")
        self.root = self.url.removesuffix("/v1")

    def requests(self) -> int:
        with urllib.request.urlopen(f"{self.root}/stats") as response:
            return int(json.load(response)["count"])

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.root}/reset", method="POST")).close()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000, help="the reference bank's size")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--keep", metavar="DIR", help="build in DIR and keep it (default: a temp dir)")
    args = parser.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="casebank-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    script = work / "server-script.json"
    script.write_text(json.dumps(SERVER_SCRIPT))
    server = Server(args.latency_ms, script)
    rows: list[tuple[str, str, str]] = []

    def row(what: str, value: str, reference: str) -> None:
        rows.append((what, value, reference))
        print(f"  {what}: {value}  [{reference}]", flush=True)

    try:
        print(f"generating banks of {args.cases} and {args.small} cases in {work}", flush=True)
        for name in ("big", "small"):
            shutil.rmtree(work / name, ignore_errors=True)
        big = generate(work / "big", args.cases, server.url)
        small = generate(work / "small", args.small, server.url)
        n, ratio = big.cases, big.cases / small.cases

        print("validation", flush=True)
        v_big = casebank("validate", "--config", "casebank.yaml", cwd=big.folder)
        v_small = casebank("validate", "--config", "casebank.yaml", cwd=small.folder)
        if v_big.code or v_small.code:
            raise SystemExit("the generated bank does not validate:\n" + v_big.out[-2000:])
        row(f"validate {n} cases", f"{v_big.wall_s:.1f} s ({v_big.wall_s / n * 1000:.2f} ms a "
            f"case, peak RSS {v_big.peak_rss_mb:.0f} MB)",
            f"{small.cases} cases: {v_small.wall_s:.1f} s; x{v_big.wall_s / v_small.wall_s:.1f} "
            f"for x{ratio:.0f} the cases")

        print("changed suite of a three-file change", flush=True)
        (cold_big, c_big, selected_big), (cold_small, c_small, selected_small) = \
            changed_selection_s([big, small])
        row(f"changed selection, {n} cases", f"{c_big * 1000:.0f} ms, {selected_big} cases "
            "selected", f"{small.cases} cases: {c_small * 1000:.0f} ms ({selected_small} "
            f"selected); ratio {c_big / c_small:.2f}")
        row("  first time (builds the bank index)", f"{cold_big * 1000:.0f} ms",
            f"{small.cases} cases: {cold_small * 1000:.0f} ms; validation "
            f"{v_big.wall_s * 1000:.0f} ms")

        print("casebank run --changed for that change", flush=True)
        (r_big, run_big), (r_small, _) = changed_runs_s([big, small])
        selected = json.loads((work / "changed-0.json").read_text())["header"]
        row(f"run --changed, {n} cases", f"{r_big:.2f} s, {len(selected['selected'])} cases "
            f"run of {selected['bank_size']} (peak RSS {run_big.peak_rss_mb:.0f} MB)",
            f"{small.cases} cases: {r_small:.2f} s; ratio {r_big / r_small:.2f}; validation "
            f"{v_big.wall_s:.1f} s")

        print(f"full run at concurrency {args.concurrency}", flush=True)
        floor = big.model_turns * args.latency_ms / 1000 / args.concurrency
        run = ["run", "--config", "casebank.yaml", "--concurrency", str(args.concurrency), "--plain"]
        for stale in work.glob("*.json"):
            stale.unlink()
        server.reset()
        server_cpu = cpu_s(server.proc.pid)
        full = casebank(*run, "--out", str(work / "full.json"), cwd=big.folder)
        full_requests = server.requests()
        server_cpu = cpu_s(server.proc.pid) - server_cpu
        if full.code not in (0, 1, 3):
            raise SystemExit(f"the full run failed (exit {full.code}):\n{full.out[-3000:]}")
        row("full run wall", f"{full.wall_s:.1f} s for {full_requests} requests "
            f"(exit {full.code})", f"floor {floor:.1f} s ({big.model_turns} model turns x "
            f"{args.latency_ms:.0f} ms / {args.concurrency}); x{full.wall_s / floor:.2f}")
        row("  CPU time", f"casebank {full.cpu_s:.1f} s, model server {server_cpu:.1f} s",
            f"{os.cpu_count()} cores for {full.wall_s:.1f} s of wall time")
        row("full run peak RSS", f"{full.peak_rss_mb:.0f} MB", "limit 250 MB")

        server.reset()
        cached = casebank(*run, "--out", str(work / "cached.json"), cwd=big.folder)
        if cached.code not in (0, 1, 3):
            raise SystemExit(f"the cached re-run failed (exit {cached.code}):\n{cached.out[-3000:]}")
        row("cached re-run requests", f"{server.requests()} (wall {cached.wall_s:.1f} s, "
            f"peak RSS {cached.peak_rss_mb:.0f} MB)", f"first run: {full_requests}")

        print(f"{args.shards} shards, one after the other (as separate CI jobs)", flush=True)
        walls, shares, turns = [], [], []
        for index in range(1, args.shards + 1):
            out = work / f"shard-{index}.json"
            out.unlink(missing_ok=True)
            part = casebank(*run, "--no-cache", "--shard", f"{index}/{args.shards}", "--out",
                            str(out), cwd=big.folder)
            if part.code not in (0, 1, 3):
                raise SystemExit(f"shard {index} failed (exit {part.code}):\n{part.out[-3000:]}")
            walls.append(part.wall_s)
            cases = json.loads((work / f"shard-{index}.json").read_text())["cases"]
            shares.append(len(cases))
            turns.append(sum(sample["steps"] for case in cases for sample in case["samples"]))
        fair = n / args.shards
        row(f"{args.shards}-shard wall (slowest shard)", f"{max(walls):.1f} s (shards: "
            + ", ".join(f"{w:.1f}" for w in walls) + " s)",
            f"single run {full.wall_s:.1f} s; x{max(walls) / full.wall_s:.2f}")
        row("cases a shard", ", ".join(map(str, shares)),
            f"N/{args.shards} = {fair:.0f}; worst {max(abs(s / fair - 1) for s in shares):.1%} off")
        fair_turns = sum(turns) / args.shards
        row("model turns a shard", ", ".join(map(str, turns)),
            f"fair share {fair_turns:.0f}; worst {max(abs(t / fair_turns - 1) for t in turns):.1%}"
            f" off; each shard also loads the whole bank (validation: {v_big.wall_s:.1f} s)")

        merged = casebank("merge", *(str(work / f"shard-{i}.json")
                                     for i in range(1, args.shards + 1)),
                          "--out", str(work / "merged.json"), cwd=big.folder)
        if merged.code != 0:
            raise SystemExit(f"merge failed (exit {merged.code}):\n{merged.out[-3000:]}")
        gates = []
        for evidence in ("full.json", "merged.json"):
            gates.append(casebank("gate", "--config", "casebank.yaml", "--evidence",
                                  str(work / evidence), "--format", "json", "--today",
                                  "2026-04-01", cwd=big.folder))
        if any(gate.code not in (0, 1, 3) for gate in gates):
            raise SystemExit("the gate failed:\n" + "\n".join(g.out[-2000:] for g in gates))
        same = gates[0].out == gates[1].out and gates[0].code == gates[1].code
        verdict = json.loads(gates[0].out).get("decision", "?") if gates[0].out else "?"
        row("merged verdict", f"{'identical' if same else 'DIFFERENT'} to the single run's "
            f"(merge exit {merged.code}, gate exit {gates[1].code})",
            f"single run: {verdict}, exit {gates[0].code}")
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    width = max(len(what) for what, _, _ in rows)
    print("\n" + "\n".join(f"{what:<{width}}  {value}\n{'':<{width}}  reference: {reference}"
                           for what, value, reference in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
