"""The flywheel's loop channels: habit that can fall, sellers who come and go in
staggered fashion, a rival that responds, and freezes that hold a channel still."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
from conftest import small_config

from sim.config import ScheduledChange
from sim.model import MarketplaceModel
from sim.runner import simulate


def _run(cfg) -> MarketplaceModel:  # type: ignore[no-untyped-def]
    m = MarketplaceModel(cfg)
    while m.running:
        m.step()
    return m


def test_a_cohort_with_bad_platform_experiences_ends_with_lower_habit() -> None:
    """Products are far worse than their (confidently high) ratings, so platform purchases
    disappoint: the customers who bought on the platform end with less habit than they
    started with."""
    cfg = small_config(
        run__days=120,
        attribution__counterfactual_twin=False,
        catalogue__review_prior_mean=0.95,
        catalogue__review_prior_count=10_000.0,
        sellers__quality_a=1.0,
        sellers__quality_b=9.0,
    )
    m = MarketplaceModel(cfg)
    start = m.customers.habit.copy()
    while m.running:
        m.step()
    pop = m.customers
    cohort = (pop.orders_member + pop.orders_nonmember) > 0
    assert cohort.sum() > 100
    assert pop.habit[cohort].mean() < start[cohort].mean() - 0.05


def test_freezing_every_channel_holds_sellers_stations_selection_and_habit() -> None:
    """From the freeze day on: no entry or exit, no new station, the selection value and
    ratings stay, habit stays, nobody joins or leaves Prime; the fresh needs are the same
    as in the live run."""
    size = {"run__days": 150, "run__n_customers": 4000}  # enough sellers to enter and exit
    live = simulate(small_config(**size, attribution__counterfactual_twin=False)).daily
    frozen_cfg = small_config(
        **size,
        attribution__counterfactual_twin=False,
        flywheel__freeze=[
            "seller_entry", "selection_value", "logistics_expansion", "habit", "reviews",
            "rival_response", "prime_adoption", "seller_pricing", "fulfilment_choice",
        ],
        flywheel__freeze_day=30,
    )  # fmt: skip
    d = simulate(frozen_cfg).daily
    after = d.filter(pl.col("day") >= 30)
    assert after["sellers_entered"].sum() == 0 and after["sellers_exited"].sum() == 0
    assert after["stations_opened"].sum() == 0
    assert after["selection_value_change"].n_unique() == 1
    assert after["mean_habit"].n_unique() == 1
    assert after["prime_joins"].sum() == 0 and after["prime_cancels"].sum() == 0
    assert d["new_needs"].equals(live["new_needs"])
    before = d.filter(pl.col("day") < 30).drop("run_id")
    assert before.equals(live.filter(pl.col("day") < 30).drop("run_id"))
    live_after = live.filter(pl.col("day") >= 30)
    assert live_after["sellers_exited"].sum() > 0 and live_after["sellers_entered"].sum() > 0
    assert live_after["mean_habit"].n_unique() > 1
    assert live_after["prime_joins"].sum() > 0 and live_after["prime_cancels"].sum() > 0


def test_the_rival_moves_its_prices_delivery_and_selection() -> None:
    """When the platform gains an edge after burn-in (``channel.platform_bias`` +1 from day
    60), the rival loses share and cuts its price level (weekly means fall more than 3%
    below its list), then raises it again as it wins share back; its delivery days and
    selection move with its volume. (In a stationary run the rival holds its list price:
    it reviews against its share at the end of burn-in.)"""
    cfg = small_config(run__days=200, run__burn_in_days=60, attribution__counterfactual_twin=False)
    gain = ScheduledChange(60, {"channel.platform_bias": 1.0})
    d = simulate(dataclasses.replace(cfg, schedule=(*cfg.schedule, gain))).daily
    post = d.filter(pl.col("day") >= 60)
    for col in ("rival_price_index", "rival_delivery_days", "rival_selection_change"):
        assert post[col].std() > 0, col
    weekly = (
        post.group_by(pl.col("day") // 7).agg(pl.col("rival_price_index").mean()).sort("day")
    )["rival_price_index"].to_numpy()
    assert weekly.min() < 0.97
    # prices rise again after a cut (the rival may cut again later: it oscillates)
    assert (weekly - np.minimum.accumulate(weekly)).max() > 0.03


def test_entrants_of_one_review_launch_over_its_period() -> None:
    """A review's entrants launch on days spread over the review period (no cohort), the
    queue is empty once the period has passed, and every queued entrant launched."""
    cfg = small_config(run__days=200, attribution__counterfactual_twin=False)
    period = cfg.sellers.entry_review_days
    m = MarketplaceModel(config=cfg)
    launches, lags = [], []
    for _ in range(cfg.run.days):
        m.step()
        d = m.market.day - 1  # the review day just simulated (its lag-0 entrants are in)
        if d > 0 and d % period == 0:
            launches.append(m.market.queued_launch_days.copy())
            lags.append(launches[-1] - d)
    launches, lag = np.concatenate(launches), np.concatenate(lags)
    assert len(launches) > 10
    entered = m.market.sellers.col("entry_day")
    assert lag.min() >= 1 and lag.max() < period
    assert len(np.unique(lag)) > 5  # spread over the period, not one day
    done = launches[launches < cfg.run.days]
    assert np.isin(done, entered).all()
    assert (m.market.queued_launch_days >= cfg.run.days - period).all()


def test_starting_sellers_hold_their_earnings_before_day_0() -> None:
    """A starting seller's reserve grows by initial_earnings_per_day_cents x its age;
    entrants during the run hold their reserve alone."""
    base = small_config(run__days=1, sellers__initial_earnings_per_day_cents=0.0)
    rich = base.evolve({"sellers.initial_earnings_per_day_cents": 100.0})
    b0, b1 = (MarketplaceModel(config=c).market.sellers for c in (base, rich))
    third = ~b0.col("is_platform")
    age = -b0.col("entry_day")[third]
    extra = b1.col("reserve_cents")[third] - b0.col("reserve_cents")[third]
    assert (age > 0).any()
    assert np.abs(extra - 100 * age).max() <= 1


def test_freezing_pricing_and_fulfilment_holds_prices_and_fulfilment() -> None:
    """From the freeze day no listed product changes its price or fulfilment; in the live
    run they do."""

    def listed(freeze: list[str]) -> tuple[dict, dict]:
        cfg = small_config(run__days=90, attribution__counterfactual_twin=False,
                           flywheel__freeze=freeze, flywheel__freeze_day=20)  # fmt: skip
        m = MarketplaceModel(config=cfg)
        for _ in range(21):
            m.step()
        p = m.market.products
        at_freeze = {
            k: (price, fba)
            for k, price, fba in zip(p.col("key"), p.col("price_cents"), p.col("fba"), strict=True)
        }
        for _ in range(cfg.run.days - 21):
            m.step()
        p = m.market.products
        live = p.col("active")
        end = {
            k: (price, fba)
            for k, price, fba, on in zip(
                p.col("key"), p.col("price_cents"), p.col("fba"), live, strict=True
            )
            if on and k in at_freeze
        }
        return {k: at_freeze[k] for k in end}, end

    before, after = listed(["seller_pricing", "fulfilment_choice"])
    assert len(after) > 50 and before == after
    before, after = listed([])
    assert sum(before[k][0] != after[k][0] for k in after) > 10
    assert any(before[k][1] != after[k][1] for k in after)
