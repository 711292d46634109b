"""Phase 9: advertisers — pacing, bids and budgets.

At the end of the day each campaign books its spend and ad sales, a paced
campaign (share ``ads.paced_share``) adjusts its pacing throttle toward
spending its budget evenly (:func:`agents.advertiser.next_pacing`; an unpaced
one bids in every auction until its budget runs out), and all keep weekly
averages of spend, sales and running out, in total and for the assistant's
answer slots. Every ``WEEK`` days campaigns rebid, each placement on its own
return (value bidding: that placement's conversion rate x margin; or
target-ACoS adjustment on that placement's spend against its target share
of its sales,
:func:`agents.advertiser.next_bids`), so budget moves toward the placement
that pays, and review their one budget (:func:`agents.advertiser.next_budgets`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from agents.advertiser import next_bids, next_budgets, next_pacing
from sim.day.state import Ledger, Market
from sim.fees import expected_fees_cents

__all__ = ["WEEK", "close_day", "rebid"]

#: Days between bid and budget reviews, and the span of the campaigns' averages.
WEEK = 7


def rebid(m: Market, rows: NDArray[np.int64]) -> None:
    """New bids for campaigns ``rows`` from their product's margin and their own record."""
    if len(rows) == 0:
        return
    c = m.config
    a = c.ads
    ads = m.ads
    p = m.products
    prod = ads.col("product")[rows]
    price = p.col("price_cents")[prod].astype(np.float64)
    fees = expected_fees_cents(
        price,
        p.col("fba")[prod],
        c.fees.referral_fee_rate,
        c.fees.fulfilment_fee_cents,
        c.fees.fulfilment_fee_rate,
    )
    margin = price - p.col("unit_cost_cents")[prod] - fees
    strategy, target = ads.col("strategy")[rows], ads.col("target_acos")[rows]
    # each placement is bid on its own return: its own conversion rate and ACoS
    a_spend = ads.col("assistant_spend_recent")[rows]
    a_sales = ads.col("assistant_sales_recent")[rows]
    bid, mult = next_bids(
        strategy,
        ads.search_conversion_rate(a.prior_conversion_rate, a.prior_clicks)[rows],
        price,
        margin,
        target,
        ads.col("bid_multiplier")[rows],
        ads.col("spend_recent")[rows] - a_spend,
        ads.col("sales_recent")[rows] - a_sales,
        ads.col("budget_cents")[rows],
        a.bid_adjust_rate,
        a.reserve_cents,
    )
    ads.col("bid_cents")[rows] = bid
    ads.col("bid_multiplier")[rows] = mult
    bid, mult = next_bids(
        strategy,
        ads.assistant_conversion_rate(a.prior_conversion_rate, a.prior_clicks)[rows],
        price,
        margin,
        target,
        ads.col("assistant_bid_multiplier")[rows],
        a_spend,
        a_sales,
        ads.col("budget_cents")[rows],
        a.bid_adjust_rate,
        a.reserve_cents,
    )
    ads.col("assistant_bid_cents")[rows] = bid
    ads.col("assistant_bid_multiplier")[rows] = mult


def close_day(m: Market, ledger: Ledger) -> None:
    """Book today's spend and sales, pace, and (weekly) rebid and review budgets."""
    a = m.config.ads
    ads = m.ads
    if len(ads) == 0:
        return
    live = ads.col("active")
    spend = ads.col("spend_today_cents")
    budget = ads.col("budget_cents")
    ledger.ad_budget_exhausted = float((live & (spend >= budget)).sum())
    ledger.ad_campaigns_live = float(live.sum())
    # spend past the budget: what the batch in which it ran out added
    over = np.where(live, spend - budget, 0)
    ledger.ad_overspend_max_cents = float(np.max(over, initial=0))
    # which never exceeds that batch's own charge (budgets are checked before each batch)
    beyond = over - ads.col("batch_spend_max_cents")
    ledger.ad_overspend_beyond_batch_cents = float(np.max(np.where(over > 0, beyond, 0), initial=0))
    ads.col("spend_cents")[:] += spend
    ads.col("sales_cents")[:] += ads.col("sales_today_cents")
    paced = ads.col("paced")
    ads.col("pacing")[:] = np.where(
        paced, next_pacing(ads.col("pacing"), spend, budget, a.pacing_adjust_rate), 1.0
    )
    ads.col("ran_out_recent")[:] += ((spend >= budget) - ads.col("ran_out_recent")) / WEEK
    ads.col("spend_recent")[:] += (spend - ads.col("spend_recent")) / WEEK
    ads.col("sales_recent")[:] += (ads.col("sales_today_cents") - ads.col("sales_recent")) / WEEK
    for placement in ("spend", "sales"):
        today = ads.col(f"assistant_{placement}_today_cents")
        recent = ads.col(f"assistant_{placement}_recent")
        recent[:] += (today - recent) / WEEK
        today[:] = 0
    spend[:] = 0
    ads.col("sales_today_cents")[:] = 0
    ads.col("batch_spend_max_cents")[:] = 0
    if m.day % WEEK == 0:
        rebid(m, np.flatnonzero(live))
    if m.day > 0 and m.day % WEEK == 0:
        rows = np.flatnonzero(live)
        budget[rows] = next_budgets(
            budget[rows],
            ads.col("ran_out_recent")[rows],
            ads.col("spend_recent")[rows],
            ads.col("sales_recent")[rows],
            ads.col("target_acos")[rows],
            a.budget_adjust_rate,
            a.min_daily_budget_cents,
        )
