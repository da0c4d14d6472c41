"""Running cases: targets, the agent tool loop, the runner, the cache, evidence.

The public entry point is ``execute(config, cases, ...) -> Evidence`` (see ``runner``);
``exit_code(evidence)`` maps a run to the project's exit-code table.
"""

from __future__ import annotations

from typing import Any

__all__ = ["execute", "exit_code"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the contracts in run/sample.py and run/result.py are imported by
    # casebank.evidence, which the runner itself imports.
    if name in __all__:
        from casebank.run import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'casebank.run' has no attribute {name!r}")
