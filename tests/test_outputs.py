"""The run's tables: Prime events, products, purchase context, and their documentation."""

from __future__ import annotations

import polars as pl
import pytest
from conftest import in_market, small_config

from sim.runner import Result, simulate
from sim.validate import REVENUE_STREAMS


@pytest.fixture(scope="module")
def prime_run() -> Result:
    """150 days at 3,000 customers: trials end, members renew, cancel and rejoin."""
    cfg = small_config(run__days=150, run__n_customers=3000, attribution__counterfactual_twin=False)
    return simulate(cfg, events=True)


def _counts(events: pl.DataFrame, days: int) -> pl.DataFrame:
    wide = events.group_by("day", "event").len().pivot("event", index="day", values="len")
    every = pl.DataFrame({"day": pl.int_range(0, days, eager=True).cast(pl.Int32)})
    kinds = ["trial_start", "trial_convert", "trial_lapse", "join", "renewal", "cancel",
             "at_start"]  # fmt: skip
    out = every.join(wide, on="day", how="left")
    return out.with_columns([pl.col(k).fill_null(0) if k in out.columns else pl.lit(0).alias(k)
                             for k in kinds])  # fmt: skip


def test_prime_events_rebuild_the_daily_joins_renewals_and_cancels(prime_run: Result) -> None:
    """Counting prime_events.parquet by day gives daily.parquet's Prime columns exactly
    (simulated customers' events times the weight, as the daily totals are in market
    units), its fees give the Prime revenue, and its spells give the members and trials."""
    d = prime_run.daily.sort("day")
    c = _counts(prime_run.prime_events, d.height).sort("day")
    w = prime_run.manifest["weight"]
    assert w == 20000 / 3000

    def market(counts: pl.Series) -> list[int]:
        return in_market(counts, w)

    assert market(c["trial_start"] + c["join"]) == d["prime_joins"].to_list()
    assert market(c["trial_start"]) == d["prime_trials_started"].to_list()
    assert market(c["renewal"]) == d["prime_renewals"].to_list()
    assert market(c["cancel"] + c["trial_lapse"]) == d["prime_cancels"].to_list()
    assert market(c["trial_convert"]) == d["prime_trial_conversions"].to_list()
    assert market(c["trial_convert"] + c["trial_lapse"]) == d["prime_trial_ends"].to_list()
    fees = prime_run.prime_events.group_by("day").agg(pl.col("fee_cents").sum())
    fees = d.select("day").join(fees, on="day", how="left").fill_null(0).sort("day")
    assert market(fees["fee_cents"]) == d["revenue_prime_cents"].to_list()
    starts = c["trial_start"] + c["join"] + c["at_start"]
    in_spell = (starts - c["trial_lapse"] - c["cancel"]).cum_sum()
    # members and trials are rounded apart in daily.parquet: together within one
    spells = (d["prime_members"] + d["prime_trials"]).to_list()
    assert all(abs(a - b) <= 1 for a, b in zip(market(in_spell), spells, strict=True))
    # every kind of event happens in this run, so none of the equalities is vacuous
    kinds = ("trial_lapse", "join", "renewal", "cancel", "at_start")
    assert all(c[k].sum() > 0 for k in kinds)
    assert (c["at_start"][1:] == 0).all()  # members at the start are logged on day 0 only


def test_prime_spells_can_be_traced_per_customer(prime_run: Result) -> None:
    """A customer's spells alternate start and end; the spell count and tenure agree."""
    ev = prime_run.prime_events
    starts = ev.filter(pl.col("event").is_in(["trial_start", "join", "at_start"]))
    spells = starts.group_by("customer_id").len()
    joined = prime_run.customers.join(spells, on="customer_id", how="left").fill_null(0)
    assert joined["prime_spells"].to_list() == joined["len"].to_list()
    assert starts["tenure_days"].to_list() == [0] * starts.height
    assert (ev["tenure_days"] >= 0).all()
    rejoined = spells.filter(pl.col("len") > 1)
    assert rejoined.height > 0  # cancel and rejoin happens, and can be traced
    paying = ["trial_convert", "join", "renewal"]
    assert (ev.filter(pl.col("event").is_in(paying))["fee_cents"] > 0).all()
    assert (ev.filter(~pl.col("event").is_in(paying))["fee_cents"] == 0).all()


def test_purchases_carry_membership_plan_and_days_since_payment(prime_run: Result) -> None:
    """events.parquet: members' rows have a plan and days since the last payment; a
    non-member who never paid has nulls; the rival's rows have no product or seller."""
    e = prime_run.events
    assert e is not None
    members = e.filter(pl.col("member"))
    assert members["prime_state"].is_in(["trial", "member"]).all()
    assert members["prime_plan"].is_not_null().all()
    assert e.filter(~pl.col("member"))["prime_plan"].is_null().all()
    paid = e.filter(pl.col("prime_state") == "member")
    assert (paid["days_since_prime_payment"] <= 365).all()
    assert paid["days_since_prime_payment"].is_not_null().all()
    rival = e.filter(pl.col("channel") == "rival")
    assert rival.height > 0 and rival["product_id"].is_null().all()
    assert e.filter(pl.col("channel") == "platform")["product_id"].is_not_null().all()


def test_products_table_matches_the_purchases(prime_run: Result) -> None:
    """products.parquet: every product once, its units are the platform purchases of it
    (in market units: times the weight), its seller is in sellers.parquet, and ratings
    lie in [0, 1]."""
    p, e = prime_run.products, prime_run.events
    assert e is not None
    assert p["product_id"].n_unique() == p.height
    bought = e.filter(pl.col("channel") == "platform").group_by("product_id").len()
    both = p.join(bought, on="product_id", how="left").fill_null(0)
    w = prime_run.manifest["weight"]
    assert both["units"].to_list() == pytest.approx((both["len"] * w).to_list(), rel=1e-12)
    assert p["seller_id"].is_in(prime_run.sellers["seller_id"].implode()).all()
    assert p["rating"].is_between(0.0, 1.0).all()
    assert p["review_count"].sum() > 0


# ----------------------------------------------------------------------------- documentation


def test_every_column_of_every_table_is_documented_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The files hold exactly the documented columns, in order, and carry their
    descriptions in the Parquet metadata."""
    import json

    import pyarrow.parquet as pq

    from sim.columns import LABELS, TABLES

    cfg = small_config(run__days=15, run__n_customers=600)
    simulate(cfg, out_dir=tmp_path / "run", events=True)
    for table, documented in TABLES.items():
        path = tmp_path / "run" / f"{table}.parquet"
        names = pq.read_schema(path).names
        assert names == [*LABELS, *documented], table
        meta = pq.read_metadata(path).metadata
        assert meta[b"flywheel.table"].decode() == table
        described = json.loads(meta[b"flywheel.columns"])
        assert list(described) == names
        assert all(d["unit"] and d["meaning"] for d in described.values())


def test_outputs_page_is_generated_from_the_registry() -> None:
    """docs/OUTPUTS.md is what ``python -m sim.columns`` renders (regenerate with
    ``python -m sim.columns --write docs/OUTPUTS.md``)."""
    from conftest import REPO

    from sim.columns import render_markdown

    assert (REPO / "docs" / "OUTPUTS.md").read_text(encoding="utf-8") == render_markdown()


def test_overhead_is_a_cost_on_revenue_that_changes_no_behaviour() -> None:
    """platform.overhead_rate takes that share of the platform's revenue off its operating
    contribution (and off DSI's, in proportion to the credited orders' own revenue, never
    more than that share of their sales, shipping fees and assistant ad revenue); nothing
    else moves."""
    rate = 0.4
    runs = [
        simulate(small_config(platform__overhead_rate=r, attribution__counterfactual_twin=False))
        for r in (0.0, rate)
    ]
    free, costly = (r.daily for r in runs)
    revenue = sum(free[c] for c in REVENUE_STREAMS)
    cost = costly["cost_overhead_cents"]
    assert (cost - rate * revenue).abs().max() <= 1
    assert (free["cost_overhead_cents"] == 0).all()
    lost = free["operating_contribution_cents"] - costly["operating_contribution_cents"]
    assert (lost - cost).abs().max() <= 2
    dsi_lost = free["dsi_operating_cents"] - costly["dsi_operating_cents"]
    # the credited orders' shipping fees are at most the day's
    paid = free["dsi_revenue_cents"] + free["revenue_shipping_cents"]
    ceiling = rate * (paid + free["ad_revenue_assistant_cents"])
    assert (dsi_lost >= -1).all() and (dsi_lost <= ceiling + 1).all()
    assert dsi_lost.sum() > 0
    same = [c for c in free.columns if c not in ("run_id", "cost_overhead_cents")]
    same = [c for c in same if "operating" not in c]
    assert costly.select(same).equals(free.select(same))
