"""Phase 9: advertisers — pacing, bids and budgets.

At the end of the day each campaign books its spend and ad sales, adjusts
its pacing throttle toward spending its budget evenly
(:func:`agents.advertiser.next_pacing`) and keeps weekly averages of spend,
sales and running out. Every ``WEEK`` days campaigns rebid (value bidding:
conversion rate x margin; or target-ACoS adjustment,
:func:`agents.advertiser.next_bids`) and review their budgets
(:func:`agents.advertiser.next_budgets`).
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
    cvr = ads.conversion_rate(a.prior_conversion_rate, a.prior_clicks)[rows]
    bid, mult = next_bids(
        ads.col("strategy")[rows],
        cvr,
        price,
        margin,
        ads.col("target_acos")[rows],
        ads.col("bid_multiplier")[rows],
        ads.col("spend_recent")[rows],
        ads.col("sales_recent")[rows],
        a.bid_adjust_rate,
    )
    ads.col("bid_cents")[rows] = bid
    ads.col("bid_multiplier")[rows] = mult


def close_day(m: Market, ledger: Ledger) -> None:
    """Book today's spend and sales, pace, and (weekly) rebid and review budgets."""
    a = m.config.ads
    ads = m.ads
    if len(ads) == 0:
        ledger.ad_budget_exhausted = ledger.ad_campaigns_live = ledger.ad_overspend_max_cents = 0.0
        return
    live = ads.col("active")
    spend = ads.col("spend_today_cents")
    budget = ads.col("budget_cents")
    ledger.ad_budget_exhausted = float((live & (spend >= budget)).sum())
    ledger.ad_campaigns_live = float(live.sum())
    # spend past the budget: what the last batch (or the answers) added after it ran out
    ledger.ad_overspend_max_cents = float(np.max(np.where(live, spend - budget, 0), initial=0))
    ads.col("spend_cents")[:] += spend
    ads.col("sales_cents")[:] += ads.col("sales_today_cents")
    ads.col("pacing")[:] = next_pacing(ads.col("pacing"), spend, budget, a.pacing_adjust_rate)
    ads.col("ran_out_recent")[:] += ((spend >= budget) - ads.col("ran_out_recent")) / WEEK
    ads.col("spend_recent")[:] += (spend - ads.col("spend_recent")) / WEEK
    ads.col("sales_recent")[:] += (ads.col("sales_today_cents") - ads.col("sales_recent")) / WEEK
    spend[:] = 0
    ads.col("sales_today_cents")[:] = 0
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
