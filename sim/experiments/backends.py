"""Where runs execute: in process, a local process pool, or Dask.

Part of :mod:`sim.experiments` (see its docstring for the sweep file format).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from typing import TYPE_CHECKING, Any

from sim.experiments.spec import SweepError
from sim.experiments.worker import _init_worker

if TYPE_CHECKING:
    pass


class _InlineExecutor(Executor):
    """Runs each call at submit time in this process (``--workers 1``)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as err:
            future.set_exception(err)
        return future


class RestartingPool(Executor):
    """A local process pool that can replace itself after a worker dies.

    When a worker process is killed, :class:`concurrent.futures.ProcessPoolExecutor`
    breaks: every run in flight fails with ``BrokenProcessPool`` and no more can be
    submitted. :meth:`restart` starts a fresh pool (once per breakage, whichever
    failed run asks first), so that the sweep can retry those runs, as Dask does.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.restarts = 0
        self._pool = self._start()

    def _start(self) -> Executor:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # An explicit spawn context: safe with threads, and independent of the
        # process-wide start method that importing Mesa sets.
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )
        # The pool spawns a worker per submit while none is idle: start all of
        # them now, so that they load the model in parallel (see _init_worker).
        for _ in range(self.workers):
            pool.submit(os.getpid)
        return pool

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = self._pool.submit(fn, *args, **kwargs)
        future.generation = self.restarts  # type: ignore[attr-defined]
        return future

    def restart(self, failed: Future[Any] | None) -> None:
        """Replace the pool that ran ``failed`` if it is still the current one (with
        ``None``: if the current pool is broken)."""
        if failed is None:
            if not getattr(self._pool, "_broken", False):
                return
        elif getattr(failed, "generation", None) != self.restarts:
            return  # another failed run of that pool has restarted it already
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.restarts += 1
        self._pool = self._start()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


@contextlib.contextmanager
def _open_executor(
    backend: str, workers: int | None, scheduler: str | None
) -> Iterator[tuple[Executor, int | None]]:
    """The executor for a backend and the number of runs to keep in flight (None: all)."""
    if backend == "local":
        n = workers or _cpu_count()
        if n == 1:
            yield _InlineExecutor(), 1
            return
        pool = RestartingPool(n)
        try:
            yield pool, 2 * n
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    import logging

    from distributed import Client, LocalCluster

    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="30s")
        else:
            cluster = LocalCluster(
                n_workers=workers or _cpu_count(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
    except (OSError, TimeoutError, RuntimeError) as err:
        if cluster is not None:
            cluster.close()
        where = f"scheduler {scheduler}" if scheduler else "a local Dask cluster"
        raise SweepError(f"cannot connect to {where}: {err}") from None
    try:
        yield client.get_executor(pure=False), None
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
