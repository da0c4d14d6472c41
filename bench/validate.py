"""Benchmark: validating a bank of 10,000 cases, against just parsing the same files.

    .venv/bin/python bench/validate.py [--cases 10000] [--repeat 3]

Generates a project in a temporary folder whose cases are variations of the example bank
(examples/support-agent/cases, with their prompt and schema files), then times, each in a
fresh process (best of --repeat):

- parse:    read every case file and load it with ruamel's C loader
            (``YAML(typ="safe", pure=False).load``), nothing else;
- validate: ``load_config`` + ``load_bank``: safe YAML, schema, references, check
            arguments, duplicate ids, Case values; what ``casebank validate`` does.

It prints both times, their ratio (goal: validate <= 1.5 x parse) and each phase's peak
resident memory (goal for validate: <= 250 MB). A benchmark, not a test: it asserts nothing
about time.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "support-agent"


def generate(folder: Path, count: int) -> None:
    """A project with ``count`` valid cases made from the example bank."""
    (folder / "cases").mkdir(parents=True)
    shutil.copytree(EXAMPLE / "prompts", folder / "prompts")
    (folder / "casebank.yaml").write_text("bank: cases\n", encoding="utf-8")
    templates = [p.read_text(encoding="utf-8") for p in sorted((EXAMPLE / "cases").glob("*.yaml"))]
    for n in range(count):
        text = templates[n % len(templates)]
        text = re.sub(r"^id: (.+)$", lambda m: f"id: {m.group(1)}-{n:05d}", text, count=1,
                      flags=re.M)
        text = re.sub(r"A-(\d{4})", lambda m: f"A-{(int(m.group(1)) + n) % 10000:04d}", text)
        shard = folder / "cases" / f"team-{n % 20:02d}"
        shard.mkdir(exist_ok=True)
        (shard / f"case-{n:05d}.yaml").write_text(text, encoding="utf-8")


def phase_parse(folder: Path) -> float:
    from ruamel.yaml import YAML

    files = sorted((folder / "cases").rglob("*.yaml"))
    start = time.perf_counter()
    yaml = YAML(typ="safe", pure=False)
    for file in files:
        yaml.load(file.read_bytes())
    return time.perf_counter() - start


def phase_validate(folder: Path) -> float:
    from casebank.bank.config import load_config
    from casebank.bank.load import load_bank

    start = time.perf_counter()
    bank = load_bank(load_config(folder / "casebank.yaml"))
    elapsed = time.perf_counter() - start
    if bank.problems:  # the numbers mean nothing unless every case was fully validated
        for problem in bank.problems[:5]:
            print(problem.render(), file=sys.stderr)
        raise SystemExit(f"{len(bank.problems)} problems in the generated bank")
    return elapsed


def child(phase: str, folder: Path) -> None:
    elapsed = phase_parse(folder) if phase == "parse" else phase_validate(folder)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": elapsed, "peak_mib": peak_kib / 1024}))


def measure(phase: str, folder: Path, repeat: int) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, __file__, "--phase", phase, str(folder)],
                             check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out))
    best = min(runs, key=lambda r: r["seconds"])
    return {"seconds": best["seconds"], "peak_mib": max(r["peak_mib"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--phase", choices=("parse", "validate"), help=argparse.SUPPRESS)
    parser.add_argument("folder", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        child(args.phase, Path(args.folder))
        return
    with tempfile.TemporaryDirectory(prefix="casebank-bench-") as tmp:
        folder = Path(tmp)
        generate(folder, args.cases)
        size = sum(p.stat().st_size for p in (folder / "cases").rglob("*.yaml"))
        print(f"bank: {args.cases:,} cases, {size / 1e6:.1f} MB")
        phase_parse(folder)  # warm the page cache
        parse = measure("parse", folder, args.repeat)
        validate = measure("validate", folder, args.repeat)
    ratio = validate["seconds"] / parse["seconds"]
    print(f"parse (C loader):  {parse['seconds']:.2f} s   peak RSS {parse['peak_mib']:.0f} MiB")
    print(f"validate:          {validate['seconds']:.2f} s   peak RSS "
          f"{validate['peak_mib']:.0f} MiB  (goal <= 250 MB = 238 MiB)")
    print(f"ratio:             {ratio:.2f}x  (goal <= 1.5x)")


if __name__ == "__main__":
    main()
