"""``casebank merge EVIDENCE... --out merged.json``: one evidence file from the shards of a run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from casebank import evidence as evidence_file
from casebank.errors import ExitCode, UserError
from casebank.merge import merge_evidence, shard_finished

NAME = "merge"
HELP = ("Combine the evidence files of `casebank run --shard i/n` (one per shard) into the "
        "evidence of the whole run; a missing, repeated or mismatched shard is an error.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("evidence", nargs="+", metavar="EVIDENCE",
                        help="evidence files of the shards, or folders holding them (*.json, "
                             "searched recursively, e.g. the folder artifacts were downloaded to)")
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="where to write the merged evidence (e.g. merged.json)")


def evidence_paths(arguments: list[str], out: Path) -> list[Path]:
    """The files named, with each folder replaced by the ``*.json`` files below it."""
    paths: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found = [p for p in sorted(path.rglob("*.json")) if p.resolve() != out.resolve()]
            if not found:
                raise UserError(f"{path}: folder holds no evidence file (*.json)")
            paths += found
        else:
            paths.append(path)
    return paths


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    paths = evidence_paths(args.evidence, out)
    parts = [evidence_file.read(path) for path in paths]
    merged = merge_evidence(parts, [str(path) for path in paths])
    evidence_file.write(merged, out)
    count = len(parts)
    summary = (f"merged {count} shard{'s' if count != 1 else ''} into {out}: "
               f"{len(merged.cases)} cases, commit {(merged.commit or 'none')[:12]}")
    if not merged.complete:
        unfinished = [str(path) for path, part in zip(paths, parts, strict=True)
                      if not shard_finished(part)]
        print(f"casebank: {summary}, but the run is incomplete: {', '.join(unfinished)} did not "
              "finish. The gate will not pass it; rerun those shards.", file=sys.stderr)
        return int(ExitCode.INFRA)
    print(summary)
    return int(ExitCode.OK)
