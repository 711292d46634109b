"""Sample and market apart: ``run.n_customers`` is a sample of ``market.population``.

The market (sellers, products, stations, budgets) is set from the population, so it
is the same whatever the sample; the daily totals are in market units, so a smaller
sample gives the same shares and totals with more noise.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from conftest import small_config

from sim.day.setup import build_market
from sim.rng import Streams
from sim.runner import simulate


def _market(n_customers: int):  # type: ignore[no-untyped-def]
    cfg = small_config(run__n_customers=n_customers)
    m, _, _ = build_market(cfg, Streams(cfg.run.seed))
    return m


def test_the_market_does_not_depend_on_the_sample_size() -> None:
    """Sellers, products, campaigns and their budgets, stations and their capacities are
    identical for 400 and 4,000 simulated customers of the same market."""
    small, large = _market(400), _market(4000)
    assert small.weight == pytest.approx(50.0) and large.weight == pytest.approx(5.0)
    for book in ("sellers", "products", "ads"):
        a, b = getattr(small, book), getattr(large, book)
        assert len(a) == len(b) > 0, book
        np.testing.assert_array_equal(a.col("key"), b.col("key"), err_msg=book)
    np.testing.assert_array_equal(small.ads.col("budget_cents"), large.ads.col("budget_cents"))
    np.testing.assert_array_equal(small.products.col("price_cents"),
                                  large.products.col("price_cents"))  # fmt: skip
    np.testing.assert_array_equal(small.network.station_region, large.network.station_region)
    np.testing.assert_array_equal(small.network.station_capacity, large.network.station_capacity)


def test_every_run_seed_shares_the_market_structure_and_the_structure_seed_changes_it() -> None:
    """The map, the category prices and the taste profiles come from
    ``market.structure_seed``: two run seeds build the same structure (and different
    customers), another structure seed a different map and taste profiles; the category
    prices are the quantiles of their log-normal whatever the seed."""

    def build(seed: int, structure: int):  # type: ignore[no-untyped-def]
        cfg = small_config(run__seed=seed, market__structure_seed=structure)
        return build_market(cfg, Streams(seed))[0]

    a, b, other = build(1, 5), build(2, 5), build(1, 6)
    np.testing.assert_array_equal(a.network.regions.density, b.network.regions.density)
    np.testing.assert_array_equal(a.customers.profile_cdf, b.customers.profile_cdf)
    np.testing.assert_array_equal(a.category_price, b.category_price)
    assert not np.array_equal(a.customers.region, b.customers.region)  # the sample differs
    assert not np.array_equal(a.network.regions.density, other.network.regions.density)
    assert not np.array_equal(a.customers.profile_cdf, other.customers.profile_cdf)
    np.testing.assert_array_equal(a.category_price, other.category_price)
    c = a.config.catalogue
    assert np.all(np.diff(a.category_price) > 0)
    assert np.median(a.category_price) == pytest.approx(c.median_price_cents, rel=0.02)


def test_a_bigger_market_has_more_sellers_and_stations_at_the_same_sample() -> None:
    """The population, not the sample, sets the counts of the market's own agents."""
    one = build_market(small_config(market__population=10_000), Streams(1))[0]
    two = build_market(small_config(market__population=40_000), Streams(1))[0]
    assert len(two.sellers) > 2 * len(one.sellers)
    assert two.network.station_capacity.max() > 2 * one.network.station_capacity.max()


@pytest.mark.slow
def test_shares_and_totals_agree_across_sample_sizes() -> None:
    """Over 120 days, 3,000 and 12,000 simulated customers of the baseline market give
    the same shares and market totals within their noise (four seeds of each size;
    seeds of one size differ by about 0.05 in
    platform share, so money totals, which follow it, are compared per order; a
    per-sample market would differ fourfold in its totals)."""
    days, burn = 120, 30

    def summary(n: int, seed: int) -> dict[str, float]:
        cfg = small_config(run__n_customers=n, run__days=days, run__seed=seed,
                           attribution__counterfactual_twin=False)  # fmt: skip
        d = simulate(cfg).daily.filter(pl.col("day") >= burn)
        keys = ("platform_share", "prime_share_active", "sponsored_top12_share",
                "sessions", "sellers_active", "active_customers")  # fmt: skip
        out = {k: float(d[k].mean()) for k in keys}
        out["gmv_per_order"] = float(d["gmv_cents"].sum() / d["orders"].sum())
        return out

    small = [summary(3000, seed) for seed in (1, 2, 3, 4)]
    large = [summary(12000, seed) for seed in (1, 2, 3, 4)]
    tolerance = {"platform_share": 0.06, "prime_share_active": 0.03, "sponsored_top12_share": 0.03}
    for key in large[0]:
        mean_small = float(np.mean([s[key] for s in small]))
        mean_large = float(np.mean([s[key] for s in large]))
        if key in tolerance:  # shares: absolute
            assert mean_small == pytest.approx(mean_large, abs=tolerance[key]), key
        else:  # market totals: relative
            assert mean_small == pytest.approx(mean_large, rel=0.12), key
    # the market's needs do not depend on the path: its sessions agree closely
    sessions = [np.mean([s["sessions"] for s in runs]) for runs in (small, large)]
    assert sessions[0] == pytest.approx(sessions[1], rel=0.02)
