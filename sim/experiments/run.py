"""Running a sweep: ``run_sweep`` plans, skips finished runs, drives the backend and records every
outcome.

Part of :mod:`sim.experiments` (see its docstring for the sweep file format).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import shutil
import socket
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.experiments.backends import _InlineExecutor, _open_executor
from sim.experiments.loading import load_sweep
from sim.experiments.spec import Run, Sweep, SweepError
from sim.experiments.store import _inspect_out, _lock, _Record, _remove_stale
from sim.experiments.summary import (
    _check_outcomes,
    _daily_columns,
    _write_summary,
    probe_daily_columns,
)
from sim.experiments.worker import RunOutcome, RunSpec, _now, execute_run, is_complete

#: Times a run is retried on a fresh local pool after a worker process died under it.
MAX_RETRIES = 2

if TYPE_CHECKING:
    import polars as pl


@dataclasses.dataclass(frozen=True)
class SweepReport:
    """What :func:`run_sweep` did (or, for a dry run, would do).

    Attributes
    ----------
    out
        The output folder.
    plan
        One row per run: run_id, scenario, replicate, seed, params, status.
    n_runs, n_done, n_failed, n_pending
        Counts after this call; ``n_skipped`` runs were already complete.
    failed
        The run ids that failed.
    wall_seconds
        Wall time of this call.
    dry_run
        True when nothing was run or written.
    """

    out: Path
    plan: pl.DataFrame
    n_runs: int
    n_done: int
    n_failed: int
    n_pending: int
    n_skipped: int
    failed: tuple[str, ...]
    wall_seconds: float
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """Every run is done."""
        return self.n_done == self.n_runs


def _check_options(backend: str, workers: int | None, scheduler: str | None) -> None:
    if backend not in ("local", "dask"):
        raise SweepError(f"--backend {backend!r}: use local or dask")
    if workers is not None and (
        not isinstance(workers, int) or isinstance(workers, bool) or workers < 1
    ):
        raise SweepError(f"--workers {workers!r}: must be an integer >= 1")
    if scheduler and backend != "dask":
        raise SweepError("--scheduler needs --backend dask")
    if scheduler and workers is not None:
        raise SweepError("--workers sizes a local cluster; with --scheduler the cluster decides")


def run_sweep(
    sweep: Sweep | str | Path,
    out: str | Path,
    *,
    workers: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    dry_run: bool = False,
    progress: bool = True,
    executor: Executor | None = None,
    simulate: Callable[..., Any] | None = None,
) -> SweepReport:
    """Run every run of a sweep that is not complete yet, and record it.

    Parameters
    ----------
    sweep
        A :class:`Sweep` or the path of a sweep file.
    out
        The output folder: new, empty, or (with ``resume``) holding this
        same sweep.
    workers
        Parallel runs: local processes, or the workers of a local Dask
        cluster; default the CPUs available. With the local backend,
        ``workers=1`` runs serially in this process.
    backend
        ``"local"`` (a spawn-context process pool) or ``"dask"``.
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); without
        it the Dask backend starts a ``LocalCluster``.
    resume
        Finish a sweep already started in ``out``: keep complete runs,
        delete stale temporaries, run the rest (failed runs included).
    dry_run
        Validate and plan only; write nothing.
    progress
        Show a tqdm bar over runs on stderr.
    executor
        Any :class:`concurrent.futures.Executor` to use instead of the
        backend's (it is not shut down here).
    simulate
        A module-level function used instead of :func:`sim.runner.simulate`
        (it must be importable by the workers).

    Returns
    -------
    SweepReport

    Raises
    ------
    SweepError
        Before anything is written, for an invalid sweep or options, or an
        output folder holding anything but this sweep (or this sweep without
        ``resume``).
    KeyboardInterrupt
        After recording the runs finished so far.
    """
    start = time.perf_counter()
    _check_options(backend, workers, scheduler)
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep)
    out = Path(out)
    previous = _inspect_out(out, sweep)
    complete = {r.run_id for r in sweep.runs if previous is not None and is_complete(out / r.path)}

    def plan(record: _Record | None) -> pl.DataFrame:
        import polars as pl

        if record is None:
            status = ["done" if r.run_id in complete else "pending" for r in sweep.runs]
        else:
            status = [record.runs[r.run_id]["status"] for r in sweep.runs]
        return sweep.table().with_columns(status=pl.Series(status, dtype=pl.String))

    if dry_run:
        if sweep.outcomes is not None:
            _check_outcomes(sweep, probe_daily_columns(sweep.base_config.to_dict(), simulate))
        return SweepReport(
            out=out,
            plan=plan(None),
            n_runs=len(sweep.runs),
            n_done=len(complete),
            n_failed=0,
            n_pending=len(sweep.runs) - len(complete),
            n_skipped=len(complete),
            failed=(),
            wall_seconds=time.perf_counter() - start,
            dry_run=True,
        )
    if previous is not None and not resume:
        raise SweepError(
            f"--out {out}: already holds this sweep ({len(complete)} of {len(sweep.runs)} runs "
            "complete); pass --resume to finish it"
        )

    if executor is not None:
        ctx: contextlib.AbstractContextManager[tuple[Executor, int | None]]
        ctx = contextlib.nullcontext((executor, None))
    elif len(complete) == len(sweep.runs):  # nothing to run: start no workers
        ctx = contextlib.nullcontext((_InlineExecutor(), 1))
    else:
        ctx = _open_executor(backend, workers, scheduler)
    with ctx as (pool, window):
        if sweep.outcomes is not None:
            _check_outcomes(sweep, _daily_columns(sweep, out, complete, pool, simulate))
        out.mkdir(parents=True, exist_ok=True)
        with _lock(out):
            previous = _inspect_out(out, sweep)  # again, now that no one else can write
            _remove_stale(out)
            record = _Record(out, sweep, previous)
            todo = []
            for run in sweep.runs:
                if previous is not None and is_complete(out / run.path):
                    record.set_done_found(run)
                    continue
                if (out / run.path).exists():  # an incomplete folder (cannot come from us)
                    shutil.rmtree(out / run.path)
                todo.append(run)
            skipped = len(sweep.runs) - len(todo)
            session: dict[str, Any] = {
                "started_at": _now(),
                "finished_at": None,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "backend": "executor" if executor is not None else backend,
                "workers": workers,
                "scheduler": scheduler,
                "resume": resume,
                "runs_to_do": len(todo),
                "wall_seconds": None,
            }
            record.sessions.append(session)
            record.save(force=True)
            try:
                _drive(sweep, out, todo, pool, window, record, progress, simulate)
            finally:
                session["finished_at"] = _now()
                session["wall_seconds"] = round(time.perf_counter() - start, 3)
                record.save(force=True)
            _write_summary(out, sweep, record)
    counts = record.counts()
    return SweepReport(
        out=out,
        plan=plan(record),
        n_runs=counts["runs"],
        n_done=counts["done"],
        n_failed=counts["failed"],
        n_pending=counts["pending"],
        n_skipped=skipped,
        failed=tuple(k for k, v in record.runs.items() if v["status"] == "failed"),
        wall_seconds=time.perf_counter() - start,
    )


def _drive(
    sweep: Sweep,
    out: Path,
    todo: list[Run],
    pool: Executor,
    window: int | None,
    record: _Record,
    progress: bool,
    simulate: Callable[..., Any] | None,
) -> None:
    """Submit the runs (at most ``window`` in flight) and record each as it finishes."""
    from tqdm import tqdm

    root = out.resolve()
    queue = iter(todo)
    retry: collections.deque[Run] = collections.deque()
    attempts: dict[str, int] = {}
    in_flight: dict[Future[RunOutcome], Run] = {}
    n_done = len(sweep.runs) - len(todo)
    n_failed = 0
    bar = tqdm(
        total=len(sweep.runs),
        initial=n_done,
        desc=sweep.name,
        unit="run",
        disable=not progress,
        dynamic_ncols=True,
        file=sys.stderr,
    )

    def lost(run: Run, err: BaseException) -> RunOutcome:
        return RunOutcome(
            run_id=run.run_id,
            status="failed",
            wall_seconds=0.0,
            host=socket.gethostname(),
            pid=os.getpid(),
            finished_at=_now(),
            error=f"{type(err).__name__}: {err}".splitlines()[0],
            traceback="".join(traceback.format_exception(err)),
        )

    def settle(run: Run, outcome: RunOutcome) -> None:
        nonlocal n_done, n_failed
        record.update(outcome)
        if outcome.status == "done":
            n_done += 1
        else:
            n_failed += 1
        record.save(force=outcome.status != "done")
        bar.set_postfix(done=n_done, failed=n_failed, refresh=False)
        bar.update(1)

    def fill() -> None:
        while window is None or len(in_flight) < window:
            run = retry.popleft() if retry else next(queue, None)
            if run is None:
                return
            spec = RunSpec(
                run_id=run.run_id,
                config=run.config.to_dict(),
                config_hash=run.config.hash(),
                seed=run.seed,
                labels=run.labels,
                target=str(root / run.path),
                simulate=simulate,
            )
            try:
                in_flight[pool.submit(execute_run, spec)] = run
            except BrokenProcessPool as err:  # broken before any of its runs reported it
                if attempts.get(run.run_id, 0) < MAX_RETRIES and hasattr(pool, "restart"):
                    attempts[run.run_id] = attempts.get(run.run_id, 0) + 1
                    pool.restart(None)
                    retry.append(run)
                else:
                    settle(run, lost(run, err))
            except RuntimeError as err:  # e.g. a shut-down executor
                settle(run, lost(run, err))

    bar.set_postfix(done=n_done, failed=n_failed)
    try:
        fill()
        while in_flight:
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                run = in_flight.pop(future)
                try:
                    outcome = future.result()
                except BrokenProcessPool as err:  # a worker process died under it
                    if attempts.get(run.run_id, 0) < MAX_RETRIES and hasattr(pool, "restart"):
                        attempts[run.run_id] = attempts.get(run.run_id, 0) + 1
                        pool.restart(future)
                        retry.append(run)  # a run that did finish is found complete and kept
                        continue
                    outcome = lost(run, err)
                except Exception as err:  # the run could not be sent or unpickled
                    outcome = lost(run, err)
                settle(run, outcome)
            fill()
    finally:
        for future in in_flight:
            future.cancel()
        bar.close()
