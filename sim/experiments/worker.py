"""One run of a sweep: ``RunSpec`` in, ``RunOutcome`` out, run folder written atomically
(``execute_run``, also in worker processes).

Part of :mod:`sim.experiments` (see its docstring for the sweep file format).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config import from_dict
from sim.experiments.spec import TABLES
from sim.interrupts import ctrl_c_kept, interrupted

if TYPE_CHECKING:
    pass


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs for one run; small and picklable.

    ``config`` is :meth:`Config.to_dict`; the worker rebuilds the config and
    checks its hash against ``config_hash`` (a worker whose flywheel differs
    from the client's fails loudly instead of running another model).
    ``simulate`` is a module-level function with the signature of
    :func:`sim.runner.simulate`, or None for that function.
    """

    run_id: str
    config: dict[str, Any]
    config_hash: str
    seed: int
    labels: dict[str, Any]
    target: str
    simulate: Callable[..., Any] | None = None


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    """What a worker reports back about one run."""

    run_id: str
    status: str
    wall_seconds: float
    host: str
    pid: int
    finished_at: str
    error: str | None = None
    traceback: str | None = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _default_simulate() -> Callable[..., Any]:
    import sim.runner  # imported on first use: keeps importing this module cheap

    return sim.runner.simulate


def _manifest_rows(manifest: Mapping[str, Any]) -> dict[str, int] | None:
    rows = manifest.get("row_counts", manifest.get("rows"))
    if not isinstance(rows, Mapping):
        return None
    return {str(k): int(v) for k, v in rows.items() if isinstance(v, int)}


def is_complete(run_dir: str | Path) -> bool:
    """Whether ``run_dir`` holds a finished run.

    True when ``manifest.json`` parses, every table it counts rows of is a
    readable Parquet file with that many rows, and every table whose SHA-256
    the manifest records (``sha256``) has exactly those bytes, so a run with
    corrupted data pages is not kept.
    """
    import pyarrow.parquet as pq

    from sim.runner import file_sha256

    folder = Path(run_dir)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        rows = _manifest_rows(manifest)
        if not rows or "daily" not in rows:
            return False
        for table, count in rows.items():
            if table not in TABLES:
                continue
            file = folder / f"{table}.parquet"
            if not file.exists() and table == "events" and count == 0:
                continue
            if pq.read_metadata(file).num_rows != count:
                return False
        digests = manifest.get("sha256", {})
        for name, digest in digests.items():
            if file_sha256(folder / name) != digest:
                return False
    except (OSError, ValueError, TypeError, AttributeError):
        return False
    return True


def execute_run(spec: RunSpec) -> RunOutcome:
    """Run one simulation into its folder; the folder appears only when complete.

    :func:`sim.runner.simulate` writes the run to a temporary folder
    (``.tmp-<leaf>-<pid>``) beside the target and renames it into place when
    every file is written. A target that is already complete is kept and
    reported done. An exception is caught and returned as a ``failed``
    outcome with its traceback, unless it was caused by Ctrl-C
    (:func:`sim.interrupts.interrupted`): that is raised as the interrupt.

    Parameters
    ----------
    spec
        The run to do.

    Returns
    -------
    RunOutcome
        ``status`` is ``"done"`` or ``"failed"``.
    """
    start = time.perf_counter()
    target = Path(spec.target)
    status, error, tb = "done", None, None
    try:
        if not is_complete(target):
            simulate = spec.simulate or _default_simulate()
            config = from_dict(spec.config)
            if config.hash() != spec.config_hash:
                raise RuntimeError(
                    "the config rebuilt on this worker differs from the sweep's: "
                    "is the same flywheel version installed on every worker?"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            with ctrl_c_kept():  # a Ctrl-C lost in a finaliser ends the run too
                simulate(config, seed=spec.seed, out_dir=target, labels=spec.labels)
            if not is_complete(target):
                raise RuntimeError(f"simulate returned but {target} is not a complete run")
    except Exception as err:
        if interrupted(err):  # Ctrl-C wrapped in another error: stop the sweep
            raise KeyboardInterrupt from err
        status = "failed"
        error = f"{type(err).__name__}: {err}".splitlines()[0]
        tb = traceback.format_exc()
    return RunOutcome(
        run_id=spec.run_id,
        status=status,
        wall_seconds=round(time.perf_counter() - start, 3),
        host=socket.gethostname(),
        pid=os.getpid(),
        finished_at=_now(),
        error=error,
        traceback=tb,
    )


def _init_worker(parent_pid: int) -> None:
    """Start a pool worker: exit when the sweep process dies, and import the model now.

    Without the watch an orphaned worker would go on running (and writing)
    after its sweep was killed. Importing the model here lets every worker
    load it at once, while the first task (the outcomes probe) runs.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(70)

    threading.Thread(target=watch, name="flywheel-parent-watch", daemon=True).start()
    with contextlib.suppress(ImportError):  # a run that needs it will report the error
        import sim.runner  # noqa: F401
