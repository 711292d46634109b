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


#: Environment variable naming a marker file: the first run to create it kills its worker.
DIE_ENV = "FLYWHEEL_TEST_DIE_MARKER"


def simulate_or_die(
    config: Config, seed: int | None = None, out_dir: str | Path | None = None, **kwargs: Any
) -> Any:
    """:func:`sim.runner.simulate`, except that the first run of the sweep to claim the
    marker file (``$FLYWHEEL_TEST_DIE_MARKER``) kills its own worker process mid-run."""
    import os

    marker = os.environ.get(DIE_ENV)
    if marker and out_dir is not None:  # a run of the sweep, not the outcome probe
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pass
        else:
            os.close(fd)
            os._exit(1)  # as a worker killed by the OOM killer or a signal would
    return _simulate(config, seed, out_dir, **kwargs)
