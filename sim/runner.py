"""``simulate(config) -> Result``: one run of the model, independent of every interface.

The CLI, the sweep runner and the tests are thin layers over
:func:`simulate`. A run is deterministic: the same config and seed give
byte-identical Parquet tables (only the manifest's timing and memory fields
differ).

Examples
--------
>>> from sim.config import Config
>>> cfg = Config().evolve({"run.n_customers": 300, "run.days": 10, "run.burn_in_days": 0})
>>> result = simulate(cfg, seed=7)
>>> result.daily.height, result.manifest["seed"]
(10, 7)
"""

from __future__ import annotations

import ctypes
import datetime as dt
import hashlib
import os
import resource
import shutil
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from tqdm import tqdm

from sim import interrupts
from sim.config import Config
from sim.model import MarketplaceModel
from sim.output import (
    MANIFEST_VERSION,
    EventWriter,
    code_version,
    customers_frame,
    daily_frame,
    package_versions,
    prime_events_frame,
    products_frame,
    sellers_frame,
    with_labels,
    write_frame,
    write_json_atomic,
)

__all__ = [
    "TMP_PREFIX",
    "OutputExistsError",
    "Result",
    "default_labels",
    "file_sha256",
    "keep_freed_memory",
    "simulate",
]

#: Name prefix of a run's temporary folder beside its ``--out`` (readers ignore it).
TMP_PREFIX = ".tmp-"


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def keep_freed_memory() -> bool:
    """Ask the C library's ``malloc`` to keep freed memory for reuse (Linux, glibc).

    A day allocates and frees many session-sized arrays (NumPy temporaries and the
    compiled kernels' outputs). By default glibc gives blocks above a few MB back to
    the operating system when they are freed, so the next day's arrays of the same
    size fault their pages in afresh, and page faults are slow (in a virtual machine
    in particular). With blocks up to 1 GiB served from the heap and the heap not
    trimmed below 2 GiB of free space, those pages are reused: a 1M-customer run is
    about 15% faster for about 12% more peak memory (``bench/results.md``). It
    changes where memory comes from, never a result. Returns whether both settings
    were taken (elsewhere it does nothing and returns False). Called by
    :func:`simulate`; it lasts for the process.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    served = mallopt(_M_MMAP_THRESHOLD, 1 << 30)
    kept = mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
    return bool(served and kept)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (hex), as recorded in ``manifest.json``."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


#: Manifest fields that differ between identical runs.
TIMING_FIELDS = ("started_at", "finished_at", "wall_time_s", "peak_memory_mb", "phase_seconds")


class OutputExistsError(FileExistsError):
    """The output folder already holds files; nothing is overwritten."""


@dataclass(frozen=True)
class Result:
    """Tables and manifest of one run."""

    daily: pl.DataFrame
    customers: pl.DataFrame
    sellers: pl.DataFrame
    events: pl.DataFrame | None
    manifest: dict[str, Any]
    prime_events: pl.DataFrame
    products: pl.DataFrame

    def tables(self) -> dict[str, pl.DataFrame]:
        """The run's tables by file stem (``events`` only when recorded in memory)."""
        out = {
            "daily": self.daily,
            "customers": self.customers,
            "sellers": self.sellers,
            "prime_events": self.prime_events,
            "products": self.products,
        }
        if self.events is not None:
            out["events"] = self.events
        return out


def default_labels(cfg: Config) -> dict[str, Any]:
    """``run_id``, ``scenario`` and ``seed`` of a run (the columns every row carries)."""
    return {
        "run_id": f"{cfg.run.name}-{cfg.run.seed}-{cfg.hash()[:8]}",
        "scenario": cfg.run.name,
        "seed": cfg.run.seed,
    }


def _prepare(out_dir: Path, overwrite: bool) -> Path:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        if not overwrite:
            raise OutputExistsError(
                f"output folder {out_dir} already exists and is not empty; "
                "choose another folder (nothing was written)"
            )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _clean_stale(out_dir)
    tmp = out_dir.parent / f"{TMP_PREFIX}{out_dir.name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    return tmp


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_stale(out_dir: Path) -> None:
    """Remove temporaries of ``out_dir`` left by runs whose process is gone."""
    for path in out_dir.parent.glob(f"{TMP_PREFIX}{out_dir.name}-*"):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _finish(tmp: Path, out_dir: Path, overwrite: bool) -> None:
    """Move the finished run into place. Without ``overwrite`` only if ``out_dir`` is
    still absent or empty (``rename`` is atomic and refuses a non-empty folder); else
    the finished run is kept beside it under a visible name and the error says where."""
    if overwrite and out_dir.exists():
        old = out_dir.parent / f".old-{out_dir.name}-{os.getpid()}"
        os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        shutil.rmtree(old)
        return
    try:
        os.rename(tmp, out_dir)
    except OSError:
        # a dot-name, so that readers of a sweep folder (which skip dot-folders) ignore it
        kept = out_dir.parent / f".{out_dir.name}.finished-{os.getpid()}"
        os.rename(tmp, kept)
        raise OutputExistsError(
            f"output folder {out_dir} was filled by something else during the run and was "
            f"left as it is; this run's finished outputs are in {kept}"
        ) from None


def _phase_profile(model: MarketplaceModel, output_s: float) -> dict[str, float]:
    """Seconds per phase, the twin's phases added to the model's own, plus output."""
    phases = dict(model.phase_seconds or {})
    phases.pop("twin", None)
    if model.twin is not None:
        for name, sec in (model.twin.phase_seconds or {}).items():
            phases[name] = phases.get(name, 0.0) + sec
    phases["output"] = output_s
    return {k: round(v, 4) for k, v in phases.items()}


def simulate(
    config: Config,
    seed: int | None = None,
    out_dir: str | Path | None = None,
    *,
    events: bool | None = None,
    progress: bool = False,
    labels: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    profile_phases: bool = False,
) -> Result:
    """Run the model for ``config.run.days`` days and collect its tables.

    Parameters
    ----------
    config
        A validated config.
    seed
        Root seed; overrides ``config.run.seed``.
    out_dir
        When given, write ``daily.parquet``, ``customers.parquet``,
        ``sellers.parquet``, ``products.parquet``, ``prime_events.parquet``,
        ``events.parquet`` (if recorded) and ``manifest.json`` there,
        atomically (columns: ``docs/OUTPUTS.md``). An existing non-empty folder is
        refused unless ``overwrite``.
    events
        Record one row per purchase (default: ``config.run.record_events``).
        With ``out_dir`` they are streamed to disk in chunks.
    progress
        Show a tqdm bar over days.
    labels
        Extra constant columns for every row (sweeps pass the swept
        parameters); they extend and may override :func:`default_labels`.
    overwrite
        Replace an existing output folder (atomically, once the new run is complete).
    profile_phases
        Record wall time per phase of the day (the twin's time added to the
        same phases) and of building and writing the outputs, in the
        manifest's ``phase_seconds`` (used by ``python bench/model_bench.py``).
    """
    cfg = config if seed is None else config.evolve({"run.seed": int(seed)})
    keep_freed_memory()
    record = cfg.run.record_events if events is None else events
    all_labels = {**default_labels(cfg), **(labels or {})}
    out = Path(out_dir) if out_dir is not None else None
    tmp = _prepare(out, overwrite) if out is not None else None
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    try:
        writer = (
            EventWriter(tmp / "events.parquet" if tmp else None, all_labels) if record else None
        )
        model = MarketplaceModel(
            cfg, event_sink=writer, profile_phases=profile_phases, map_layers=False
        )
        for _ in tqdm(range(cfg.run.days), disable=not progress, unit="day", desc=cfg.run.name):
            model.step()
            interrupts.check()  # a Ctrl-C that a finaliser swallowed
        t_out = time.perf_counter()
        ev = writer.close() if writer is not None else None
        daily = with_labels(daily_frame(model.daily_rows), all_labels)
        customers = with_labels(customers_frame(model), all_labels)
        sellers = with_labels(sellers_frame(model), all_labels)
        prime_events = with_labels(prime_events_frame(model), all_labels)
        products = with_labels(products_frame(model), all_labels)
        wall = time.perf_counter() - t0
        rows = {
            "daily": daily.height,
            "customers": customers.height,
            "sellers": sellers.height,
            "prime_events": prime_events.height,
            "products": products.height,
        }
        if writer is not None:
            rows["events"] = writer.rows
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "run_id": all_labels["run_id"],
            "scenario": all_labels["scenario"],
            "seed": cfg.run.seed,
            # customers of the market per simulated customer (market.population / run.n_customers)
            "weight": cfg.weight,
            "labels": all_labels,
            "config": cfg.to_dict(),
            "config_hash": cfg.hash(),
            "code_version": code_version(),
            "packages": package_versions(),
            "started_at": started.isoformat(),
            "finished_at": dt.datetime.now(dt.UTC).isoformat(),
            "wall_time_s": round(wall, 3),
            "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "rows": rows,
            "events": record,
        }
        result = Result(daily, customers, sellers, ev, manifest, prime_events, products)
        if tmp is not None and out is not None:
            for name, frame in result.tables().items():
                write_frame(frame, tmp / f"{name}.parquet")
        if model.phase_seconds is not None:
            manifest["phase_seconds"] = _phase_profile(model, time.perf_counter() - t_out)
        if tmp is not None and out is not None:
            manifest["sha256"] = {f.name: file_sha256(f) for f in sorted(tmp.glob("*.parquet"))}
            write_json_atomic(tmp / "manifest.json", manifest)
            _finish(tmp, out, overwrite)
        return result
    except OutputExistsError:
        raise
    except BaseException:
        if tmp is not None and tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        raise
