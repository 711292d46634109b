"""Test helpers for sweeps: a simulate that fails on purpose, importable by workers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.config import Config
from sim.runner import simulate as _simulate

#: Runs of this scenario raise in :func:`simulate_or_fail`.
BROKEN_SCENARIO = "broken"


def simulate_or_fail(
    config: Config, seed: int | None = None, out_dir: str | Path | None = None, **kwargs: Any
) -> Any:
    """:func:`sim.runner.simulate`, except that scenario ``broken`` raises RuntimeError."""
    if config.run.name == BROKEN_SCENARIO:
        raise RuntimeError(f"injected failure in scenario {BROKEN_SCENARIO!r}")
    return _simulate(config, seed, out_dir, **kwargs)
