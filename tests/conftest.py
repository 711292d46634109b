"""Shared fixtures and helpers: small configs, shipped config paths, money identities."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from sim.config import Config
from sim.runner import Result, simulate

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs"
BASELINE = CONFIGS / "baseline.toml"
SCENARIOS = sorted((CONFIGS / "scenarios").glob("*.toml"))
#: Every shipped run config: the baseline and every scenario.
SHIPPED = [BASELINE, *SCENARIOS]

#: Revenue streams that, with sellers' net receipts, account for every cent customers pay.
PAYMENT_SINKS = (
    "seller_net_receipts_cents",
    "revenue_referral_cents",
    "revenue_fulfilment_cents",
    "revenue_ads_cents",
    "revenue_prime_cents",
    "revenue_shipping_cents",
    "revenue_own_retail_cents",
)


def config_id(path: Path) -> str:
    """Short test id of a shipped config (its file stem)."""
    return path.stem


def small_config(**changes: object) -> Config:
    """The default config at a test size (1,500 customers, 40 days, no burn-in).

    Keyword arguments are dotted keys with ``__`` for the dot, e.g. ``prime__enabled=False``.
    """
    base = {"run.n_customers": 1500, "run.days": 40, "run.burn_in_days": 0}
    base.update({k.replace("__", ".", 1): v for k, v in changes.items()})
    return Config().evolve(base)


def tiny_config(**changes: object) -> Config:
    """A very small config (300 customers, 10 days, no twin) for quick mechanical checks."""
    base = {
        "run.n_customers": 300,
        "run.days": 10,
        "run.burn_in_days": 0,
        "attribution.counterfactual_twin": False,
    }
    base.update({k.replace("__", ".", 1): v for k, v in changes.items()})
    return Config().evolve(base)


#: Most a day's payment identity can miss by in a weighted run: each of its eight
#: columns is rounded to the cent once (``sim.day.record``); exact at weight 1.
ROUNDING_CENTS = 4


def in_market(counts: object, weight: float) -> list[int]:
    """Per-day sample counts (or cents) as ``daily.parquet`` has them: times the weight,
    rounded once (:mod:`sim.day.record`)."""
    return [round(weight * x) for x in counts]  # type: ignore[attr-defined]


def money_gaps(daily: pl.DataFrame) -> pl.DataFrame:
    """Per day: payments minus everything they went to, and ad spend minus ad revenue."""
    return daily.select(
        "day",
        (pl.col("customer_payments_cents") - pl.sum_horizontal(PAYMENT_SINKS)).alias("payment_gap"),
        (pl.col("ad_spend_cents") - pl.col("ad_revenue_cents")).alias("ad_gap"),
    )


@pytest.fixture
def small_cfg() -> Config:
    """1,500 customers, 40 days, no burn-in (counterfactual twin on, as by default)."""
    return small_config()


@pytest.fixture
def tiny_cfg() -> Config:
    """300 customers, 10 days, no burn-in, no twin."""
    return tiny_config()


@pytest.fixture(scope="session")
def small_result() -> Result:
    """One small run with events recorded in memory, shared by read-only tests: 1,500
    simulated customers of the baseline's market (a weight of 13.3)."""
    return simulate(small_config(), events=True)


@pytest.fixture(scope="session")
def unit_result() -> Result:
    """The small run with a market of 1,500 customers, all simulated (weight 1): the
    sample's tables and the market's totals are in the same units, to the cent."""
    return simulate(small_config(market__population=1500), events=True)
