"""``summary.parquet``: one row per run with post-burn-in means and totals of the outcomes.

Part of :mod:`sim.experiments` (see its docstring for the sweep file format).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config import from_dict
from sim.experiments.spec import (
    _SUMMARY_NAME,
    BURN_IN_COLUMN,
    DAY_COLUMN,
    LABEL_COLUMNS,
    Sweep,
    SweepError,
)
from sim.experiments.store import _Record
from sim.experiments.worker import _default_simulate

if TYPE_CHECKING:
    pass


def _write_summary(out: Path, sweep: Sweep, record: _Record) -> Path:
    """``summary.parquet``: one row per run, with outcome means and totals after burn-in."""
    import polars as pl

    done = [r for r in sweep.runs if record.runs[r.run_id]["status"] == "done"]
    info = sweep.table().with_columns(
        status=pl.Series([record.runs[r.run_id]["status"] for r in sweep.runs], dtype=pl.String),
        wall_seconds=pl.Series(
            [record.runs[r.run_id].get("wall_seconds") for r in sweep.runs], dtype=pl.Float64
        ),
        burn_in_days=pl.Series([r.config.run.burn_in_days for r in sweep.runs], dtype=pl.Int64),
    )
    if not done:
        info.write_parquet(out / _SUMMARY_NAME)
        return out / _SUMMARY_NAME
    files = [str(out / r.path / "daily.parquet") for r in done]
    daily = pl.scan_parquet(files, hive_partitioning=False)
    schema = daily.collect_schema()
    skip = {*LABEL_COLUMNS, *sweep.param_keys, DAY_COLUMN}
    if sweep.outcomes is None:
        outcomes = [c for c, t in schema.items() if c not in skip and t.is_numeric()]
    else:
        outcomes = [c for c in sweep.outcomes if c in schema]
    if BURN_IN_COLUMN in schema:
        post = daily.filter(~pl.col(BURN_IN_COLUMN))
    else:
        burn = info.lazy().select("run_id", "burn_in_days")
        post = daily.join(burn, on="run_id").filter(pl.col(DAY_COLUMN) >= pl.col("burn_in_days"))
    agg = (
        post.select("run_id", *outcomes)
        .group_by("run_id")
        .agg(
            pl.len().alias("days_summarised"),
            *[pl.col(c).mean().alias(f"{c}_mean") for c in outcomes],
            *[pl.col(c).sum().alias(f"{c}_total") for c in outcomes],
        )
    )
    summary = info.lazy().join(agg, on="run_id", how="left", maintain_order="left").collect()
    summary.write_parquet(out / _SUMMARY_NAME)
    return out / _SUMMARY_NAME


def probe_daily_columns(
    config: Mapping[str, Any], simulate: Callable[..., Any] | None = None
) -> list[str]:
    """The numeric columns of ``daily``, from a one-day run of 100 customers of ``config``.

    The daily schema does not depend on the config, so this tiny run tells
    which outcomes a sweep can summarise. It runs where the sweep's runs run
    (a pool worker imports the model anyway), keeping the parent light.
    """
    probe = from_dict(config).evolve(
        {
            "run.days": 1,
            "run.burn_in_days": 0,
            "run.n_customers": 100,
            "run.record_events": False,
            "attribution.counterfactual_twin": False,
        }
    )
    daily = (simulate or _default_simulate())(probe).daily
    return [c for c, t in daily.schema.items() if t.is_numeric()]


def _daily_columns(
    sweep: Sweep,
    out: Path,
    complete: set[str],
    pool: Executor,
    simulate: Callable[..., Any] | None,
) -> list[str]:
    """Numeric daily columns: from a finished run's file, else from a probe run in ``pool``."""
    import polars as pl

    for run in sweep.runs:
        if run.run_id in complete:
            schema = pl.scan_parquet(out / run.path / "daily.parquet").collect_schema()
            return [c for c, t in schema.items() if t.is_numeric()]
    probe = pool.submit(probe_daily_columns, sweep.base_config.to_dict(), simulate)
    try:
        return probe.result()
    except Exception as err:
        message = f"cannot check outcomes: a one-day probe run failed ({type(err).__name__}: {err})"
        raise SweepError(message.splitlines()[0]) from err


def _check_outcomes(sweep: Sweep, numeric: Sequence[str]) -> None:
    """Reject outcomes that are not numeric columns of ``daily``."""
    for name in sweep.outcomes or ():
        if name not in numeric:
            near = difflib.get_close_matches(name, numeric, n=1) or [
                c for c in numeric if c.startswith(name)
            ]
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise SweepError(
                f"{sweep.source.name}: outcomes: {name!r} is not a numeric column of daily{hint}"
            )
