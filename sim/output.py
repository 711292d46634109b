"""Run outputs as polars tables, Parquet files and a versioned manifest.

Every table row carries the run's labels (``run_id``, ``scenario``, ``seed``
and, in sweeps, the swept parameters) so that ``polars.scan_parquet`` over a
whole sweep needs no joins. Writing is atomic: a run's files go to a
temporary sibling folder that is renamed into place only when complete, so a
crash never leaves a half-written run folder behind.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from sim import columns
from sim.day.record import CAUSAL_COLUMNS, TWIN_COLUMNS
from sim.prime import Plan, PrimeEvent, PrimeState, TrialOutcome

__all__ = [
    "MANIFEST_VERSION",
    "EventWriter",
    "code_version",
    "customers_frame",
    "daily_frame",
    "package_versions",
    "prime_events_frame",
    "products_frame",
    "sellers_frame",
    "with_labels",
    "write_frame",
]


MANIFEST_VERSION = 1
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "statistics": True,
}
_NULLABLE_INT = (*CAUSAL_COLUMNS, *TWIN_COLUMNS)


def _label_dtype(value: Any) -> pl.DataType:
    """A fixed dtype per Python type, so tables of a sweep share one schema."""
    if isinstance(value, bool):
        return pl.Boolean()
    if isinstance(value, int):
        return pl.Int64()
    if isinstance(value, float):
        return pl.Float64()
    return pl.Utf8()


def with_labels(frame: pl.DataFrame, labels: Mapping[str, Any]) -> pl.DataFrame:
    """``frame`` with one constant column per label, placed first."""
    cols = [pl.lit(v, dtype=_label_dtype(v)).alias(k) for k, v in labels.items()]
    rest = [c for c in frame.columns if c not in labels]
    return frame.select([*cols, *rest]) if cols else frame


def daily_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """The daily table from the model's daily records (schema stable across configs)."""
    frame = pl.from_dicts(rows, infer_schema_length=None)
    casts = {c: pl.Int64 for c in _NULLABLE_INT if c in frame.columns}
    return frame.with_columns([pl.col(c).cast(t) for c, t in casts.items()])


def _nulls(values: np.ndarray) -> pl.Series:
    """An integer column with the model's "none" sentinel (-1) as null."""
    return pl.Series(values).set(pl.Series(values < 0), None)


def _names(enum_type: Any) -> dict[int, str]:
    return {int(v): v.name.lower() for v in enum_type}


def _labels(enum_type: Any, codes: np.ndarray) -> pl.Series:
    """Integer enum codes (0, 1, ...) as their lower-case names."""
    return pl.Series(list(_names(enum_type).values()), dtype=pl.Utf8).gather(codes.astype(np.int64))


def customers_frame(model: Any) -> pl.DataFrame:
    """One row per customer: region, traits, Prime history, orders and spend, assistant use."""
    pop = model.customers
    reg = pop.region
    w = model.config.geography.width_cells
    return pl.DataFrame(
        {
            "customer_id": np.arange(pop.n, dtype=np.int64),
            "region": reg,
            "region_x": (reg % w).astype(np.int32),
            "region_y": (reg // w).astype(np.int32),
            "metro": model.regions.is_metro[reg],
            "online": pop.online_u >= model.offline_share()[reg],
            "income_class": pop.income_class,
            "price_sensitivity": pop.price_sensitivity,
            "quality_taste": pop.quality_taste,
            "delay_cost": pop.delay_cost,
            "need_rate_per_day": pop.need_rate,
            "taste_profile": pop.profile,
            "patience": pop.patience,
            "ad_literacy": pop.ad_literacy,
            "assistant_propensity": pop.assistant_propensity,
            "uses_external_agent": pop.agent_u < model.config.external_agents.share,
            "prime_state": _labels(PrimeState, pop.prime_state),
            "prime_plan": _labels(Plan, pop.plan),
            "prime_first_join_day": _nulls(pop.first_join_day),
            "prime_spells": pop.spells,
            "prime_renewals": pop.renewals,
            "prime_cancellations": pop.cancellations,
            "prime_days_member": pop.days_member,
            "trial_outcome": _labels(TrialOutcome, pop.trial_outcome),
            "orders_member": pop.orders_member,
            "orders_nonmember": pop.orders_nonmember,
            "spend_member_cents": pop.spend_member_cents,
            "spend_nonmember_cents": pop.spend_nonmember_cents,
            "rival_purchases": pop.rival_purchases,
            "assistant_consults": pop.consults,
            "ads_seen": pop.ads_seen,
            "ads_recognised": pop.ads_recognised,
            "final_trust": pop.trust,
            "final_habit": pop.habit,
        }
    )


def sellers_frame(model: Any) -> pl.DataFrame:
    """One row per seller ever active, with its accounts."""
    b = model.sellers
    p = model.products
    n = len(b)
    prod_seller = p.col("seller").astype(np.int64)
    money = {m: b.col(m).copy() for m in b.MONEY}
    return pl.DataFrame(
        {
            "seller_id": np.arange(n, dtype=np.int64),
            "seller_key": b.col("key").copy(),
            "is_platform": b.col("is_platform").copy(),
            "category": b.col("category").copy(),
            "entry_day": b.col("entry_day").copy(),
            "exit_day": _nulls(b.col("exit_day")),
            "active": b.col("active").copy(),
            "products": np.bincount(prod_seller, minlength=n).astype(np.int32),
            "fulfilment": np.where(b.col("fba"), "platform", "self"),
            "advertises": b.col("advertises").copy(),
            "units": b.col("units").copy(),
            **money,
        }
    ).rename({"shipping_cost_cents": "own_shipping_cost_cents"})


def prime_events_frame(model: Any) -> pl.DataFrame:
    """One row per Prime event (trial start, conversion, lapse, join, renewal, cancel)."""
    cols = model.prime_log.columns()
    return pl.DataFrame(
        {
            "day": cols["day"],
            "customer_id": cols["customer_id"],
            "event": _labels(PrimeEvent, cols["event"]),
            "plan": _labels(Plan, cols["plan"]),
            "fee_cents": cols["fee_cents"],
            "tenure_days": cols["tenure_days"],
        },
        schema={
            "day": pl.Int32,
            "customer_id": pl.Int64,
            "event": pl.Utf8,
            "plan": pl.Utf8,
            "fee_cents": pl.Int64,
            "tenure_days": pl.Int32,
        },
    )


def products_frame(model: Any) -> pl.DataFrame:
    """One row per product ever listed, as it stands at the end of the run."""
    p = model.products
    cat = model.config.catalogue
    listed = p.col("active")
    return pl.DataFrame(
        {
            "product_id": np.arange(len(p), dtype=np.int64),
            "product_key": p.col("key").copy(),
            "seller_id": p.col("seller").astype(np.int64),
            "category": p.col("category").copy(),
            "quality": p.col("quality").copy(),
            "rating": p.rating(cat.review_prior_mean, cat.review_prior_count),
            "review_count": p.col("review_count").copy(),
            "price_cents": p.col("price_cents").copy(),
            "unit_cost_cents": p.col("unit_cost_cents").copy(),
            "fulfilment": np.where(p.col("fba"), "platform", "self"),
            "platform_owned": p.col("own").copy(),
            "private_label": p.col("private_label").copy(),
            "listed_day": p.col("listed_day").copy(),
            "active": listed.copy(),
            "units": p.col("units_total").copy(),
        }
    )


def write_frame(frame: pl.DataFrame, path: Path) -> None:
    """Write one table as Parquet with the project's fixed options (deterministic bytes).

    The file's metadata describes every column (:func:`sim.columns.metadata`) when
    its name is one of the run's tables.
    """
    meta = columns.metadata(path.stem, frame.columns) if path.stem in columns.TABLES else None
    frame.write_parquet(path, **PARQUET_OPTIONS, metadata=meta)


#: Columns of ``events.parquet`` (after the run's labels), one row per purchase.
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "day": pl.Int32(),
    "customer_id": pl.Int64(),
    "channel": pl.Utf8(),
    "product_id": pl.Int64(),
    "seller_id": pl.Int64(),
    "category": pl.Int16(),
    "price_cents": pl.Int64(),
    "shipping_fee_cents": pl.Int64(),
    "sponsored": pl.Boolean(),
    "via_assistant": pl.Boolean(),
    "agentic": pl.Boolean(),
    "ad_recognised": pl.Boolean(),
    "member": pl.Boolean(),
    "prime_state": pl.Utf8(),
    "prime_plan": pl.Utf8(),
    "days_since_prime_payment": pl.Int32(),
    "delivery_days": pl.Float32(),
}


def _null_if_negative(name: str) -> pl.Expr:
    """``name`` with the model's "none" sentinel (-1) as a proper null."""
    return pl.when(pl.col(name) >= 0).then(pl.col(name)).otherwise(None).alias(name)


_PRIME_STATES = _names(PrimeState)
_PLANS = _names(Plan)


class EventWriter:
    """Streams per-purchase events to ``events.parquet`` in row-group chunks.

    Memory stays bounded by ``chunk_rows`` whatever the number of days. With
    ``path=None`` events are kept in memory (for small runs without output).
    """

    def __init__(self, path: Path | None, labels: Mapping[str, Any], chunk_rows: int = 500_000):
        self.path = path
        self.labels = dict(labels)
        self.chunk_rows = chunk_rows
        self._buffer: list[dict[str, np.ndarray]] = []
        self._buffered = 0
        self._writer: pq.ParquetWriter | None = None
        self._frames: list[pl.DataFrame] = []
        self.rows = 0

    def __call__(self, batch: dict[str, np.ndarray]) -> None:
        self._buffer.append(batch)
        self._buffered += len(next(iter(batch.values())))
        if self._buffered >= self.chunk_rows:
            self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        cols = {k: np.concatenate([b[k] for b in self._buffer]) for k in self._buffer[0]}
        frame = with_labels(pl.DataFrame(cols), self.labels)
        frame = frame.with_columns(
            pl.col("channel").replace_strict({0: "platform", 1: "rival"}, return_dtype=pl.Utf8),
            pl.col("prime_state").replace_strict(_PRIME_STATES, return_dtype=pl.Utf8),
            pl.col("prime_plan").replace_strict(_PLANS, default=None, return_dtype=pl.Utf8),
            *[_null_if_negative(c) for c in ("product_id", "seller_id")],
            _null_if_negative("days_since_prime_payment"),
        ).select(list(self.labels) + list(EVENT_SCHEMA))
        self.rows += frame.height
        self._buffer, self._buffered = [], 0
        if self.path is None:
            self._frames.append(frame)
            return
        table = frame.to_arrow()
        table = table.replace_schema_metadata(columns.metadata("events", frame.columns))
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self._writer.write_table(table)

    def close(self) -> pl.DataFrame | None:
        """Flush and close; return the events in memory when not writing to disk."""
        self.flush()
        if self._writer is not None:
            self._writer.close()
        elif self.path is not None:
            # no purchase at all: still write an empty file with the full typed schema
            empty = with_labels(pl.DataFrame(schema=EVENT_SCHEMA), self.labels)
            empty.write_parquet(self.path, metadata=columns.metadata("events", empty.columns))
        if self.path is None:
            return pl.concat(self._frames) if self._frames else pl.DataFrame()
        return None


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape results."""
    out = {"python": platform.python_version()}
    for name in ("flywheel", "mesa", "numpy", "polars", "pyarrow"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def code_version() -> str:
    """``git describe`` of the source tree when available, else the package version."""
    root = Path(__file__).resolve().parent.parent
    if shutil.which("git") and (root / ".git").exists():
        try:
            out = subprocess.run(
                ["git", "describe", "--always", "--dirty", "--tags"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=5,
                check=True,
            )
            return out.stdout.strip()
        except (subprocess.SubprocessError, OSError):
            pass
    try:
        return metadata.version("flywheel")
    except metadata.PackageNotFoundError:
        return "unknown"


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON through a temporary file and ``os.replace`` (never half-written)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)
