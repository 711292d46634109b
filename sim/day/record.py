"""Phase 11: the day's record — one row of ``daily.parquet`` from the ledger and the state.

Ratios are NaN when their denominator is zero (a day without orders);
"active" customers bought on the platform in the last 365 days (30 for
``active_customers_30d``). The causal columns are today's totals minus those
of the assistant-off counterfactual (:func:`sim.attribution.causal_difference`);
they are null without one.

Counts and money are in market units: a total over the simulated customers'
sessions is multiplied by the weight (``market.population / run.n_customers``,
:meth:`sim.day.state.Ledger.in_market_units`) and rounded once; sellers,
campaigns and stations are the market's own. Shares and rates do not depend on
the weight.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from agents.customer import ACTIVE_DAYS
from agents.rival import RivalOffer
from sim import kernels, prime
from sim.attribution import causal_difference
from sim.day.state import Ledger, Market, Sessions

__all__ = [
    "ACTIVE_DAYS",
    "CAUSAL_COLUMNS",
    "PRIME_MONTH_DAYS",
    "TWIN_COLUMNS",
    "daily_row",
    "rival_columns",
]

#: Days of the month over which a member's non-shipping Prime benefits accrue.
PRIME_MONTH_DAYS = 30.0
#: Causal columns: today's total minus the assistant-off twin's, on three bases.
CAUSAL_COLUMNS = {
    "causal_revenue_cents": "gmv_cents",
    "causal_margin_cents": "platform_margin_cents",
    "causal_operating_cents": "operating_contribution_cents",
    "causal_orders": "orders",
    "causal_consumer_surplus_cents": "consumer_surplus_cents",
    "causal_prime_fees_cents": "consumer_prime_fees_cents",
    "causal_prime_benefits_cents": "consumer_prime_benefits_cents",
}
#: The twin's own totals the attribution decomposition needs (``cf_`` = counterfactual).
TWIN_COLUMNS = {
    "cf_would_consult_revenue_cents": "would_consult_revenue_cents",
    "cf_other_session_revenue_cents": "other_session_revenue_cents",
    "cf_other_platform_sessions": "other_platform_sessions",
}


def daily_row(
    m: Market, s: Sessions, ledger: Ledger, counterfactual: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Today's row of ``daily.parquet``.

    Parameters
    ----------
    m
        The market at the end of the day.
    s
        Today's sessions.
    ledger
        Today's totals.
    counterfactual
        Today's row of the assistant-off twin, if the run has one.
    """
    c = m.config
    pop = m.customers
    w = m.weight
    t = ledger.in_market_units(w)
    d = m.day
    orders = t.orders
    purchases = orders + t.rival_purchases
    # the population's counts in one compiled pass
    n_active, n_active30, n_active_members, n_members, n_trials, n_users, member_benefit = (
        kernels.census(
            pop.prime_state, pop.last_platform_day, pop.last_consult_day, d, ACTIVE_DAYS, 30,
            int(prime.PrimeState.MEMBER), int(prime.PrimeState.TRIAL), pop.other_benefit_cents,
        )
    )  # fmt: skip
    pop_density = m.network.regions.density
    ad_rev = t.ad_revenue_search_cents + t.ad_revenue_assistant_cents
    # the costs the model does not simulate, in proportion to the platform's revenue
    # (a DSI-credited order carries its own revenue's share)
    overhead = c.platform.overhead_rate
    revenue = (
        t.referral_cents
        + t.fulfilment_cents
        + ad_rev
        + t.prime_fees_cents
        + t.shipping_fees_cents
        + t.own_revenue_cents
    )
    book = m.sellers
    third = book.col("active") & ~book.col("is_platform")

    def ratio(a: float, b: float) -> float:
        return float(a / b) if b else float("nan")

    def scaled(count: int) -> int:
        """``count`` simulated customers or sessions in market units."""
        return round(w * count)

    def counted(flags: np.ndarray) -> int:
        """Simulated customers or sessions with ``flags``, in market units."""
        return scaled(int(np.count_nonzero(flags)))

    row: dict[str, Any] = {
        "day": d,
        "burn_in": d < c.run.burn_in_days,
        "sessions": round(w * s.n),
        "new_needs": counted(s.age == 0),
        "returning_sessions": counted(s.age > 0),
        "online_sessions": counted(s.online),
        "online_new_needs": counted(s.online & (s.age == 0)),
        "platform_sessions": round(t.platform_sessions),
        "external_agent_sessions": counted(s.external),
        "active_customers": scaled(n_active),
        "active_customers_30d": scaled(n_active30),
        "orders": round(orders),
        "rival_purchases": round(t.rival_purchases),
        "platform_share": ratio(orders, purchases),
        "rival_share": ratio(t.rival_purchases, purchases),
        "gmv_cents": round(t.gmv_cents),
        "rival_revenue_cents": round(t.rival_revenue_cents),
        "avg_price_cents": ratio(t.gmv_cents, orders),
        "quality_adjusted_price_cents": ratio(t.quality_adjusted_price_sum, orders),
        "delivered_quality": ratio(t.delivered_quality_sum, orders),
        "consumer_surplus_cents": round(t.consumer_surplus_cents),
        "consumer_prime_fees_cents": round(t.prime_fees_cents),
        "consumer_prime_benefits_cents": round(w * float(member_benefit.sum()) / PRIME_MONTH_DAYS),
        "prime_members": scaled(n_members),
        "prime_trials": scaled(n_trials),
        "prime_share_active": ratio(float(n_active_members), n_active),
        "prime_joins": round(t.prime_joins),
        "prime_trials_started": round(t.prime_trials_started),
        "prime_trial_ends": round(t.prime_trial_ends),
        "prime_trial_conversions": round(t.prime_trial_conversions),
        "prime_cancels": round(t.prime_cancels),
        "prime_renewals": round(t.prime_renewals),
        "member_order_share": ratio(t.member_orders, orders),
        "same_day_share_orders": ratio(t.same_day_orders, orders),
        "same_day_population_share": float(pop_density[m.network.same_day_region].sum()),
        "mean_delivery_days": ratio(t.delivery_days_sum, orders),
        "slipped_orders": round(t.slipped),
        "cost_per_delivery_cents": ratio(t.delivery_cost_cents, orders),
        "stations": len(m.network.station_region),
        "stations_rural": int((~m.network.regions.is_metro[m.network.station_region]).sum()),
        "stations_opened": round(t.stations_opened),
        "sellers_active": int(third.sum()),
        "sellers_entered": round(t.sellers_entered),
        "sellers_exited": round(t.sellers_exited),
        "products_active": int(m.products.col("active").sum()),
        "selection_value_change": float(np.mean(m.shelf.cat_selection_change))
        if m.shelf is not None and len(m.shelf.cat_selection_change)
        else 0.0,
        "seller_profit_cents": round(t.seller_profit_cents),
        "third_party_unit_share": ratio(t.third_party_units, orders),
        "ad_revenue_cents": round(ad_rev),
        "ad_revenue_search_cents": round(t.ad_revenue_search_cents),
        "ad_revenue_assistant_cents": round(t.ad_revenue_assistant_cents),
        "ad_spend_cents": round(t.ad_spend_cents),
        "ad_clicks": round(t.ad_clicks),
        "ad_conversions": round(t.ad_conversions),
        "ad_sales_cents": round(t.ad_sales_cents),
        "acos": ratio(ad_rev, t.ad_sales_cents),
        "mean_cpc_cents": ratio(t.ad_revenue_search_cents, t.ad_clicks),
        "ad_conversion_rate": ratio(t.ad_conversions, t.ad_clicks),
        "sponsored_impression_share": ratio(t.sponsored_impressions, t.impressions),
        "sponsored_top12_share": ratio(t.top12_sponsored, t.top12_slots),
        "sponsored_purchase_share": ratio(t.sponsored_purchases, orders),
        "top_position_click_share": ratio(t.clicks_top, t.clicks),
        "ad_budget_exhausted": round(t.ad_budget_exhausted),
        "budget_bound_share": ratio(t.ad_budget_exhausted, t.ad_campaigns_live),
        "ad_overspend_max_cents": round(t.ad_overspend_max_cents),
        "ad_overspend_beyond_batch_cents": round(t.ad_overspend_beyond_batch_cents),
        "ad_sales_search_cents": round(t.ad_sales_cents - t.ad_sales_assistant_cents),
        "ad_sales_assistant_cents": round(t.ad_sales_assistant_cents),
        "acos_search": ratio(
            t.ad_revenue_search_cents, t.ad_sales_cents - t.ad_sales_assistant_cents
        ),
        "acos_assistant": ratio(t.ad_revenue_assistant_cents, t.ad_sales_assistant_cents),
        "assistant_consults": round(t.assistant_consults),
        "assistant_picks": round(t.assistant_picks),
        "assistant_ad_picks": round(t.assistant_ad_picks),
        "assistant_ad_clicks": round(t.assistant_ad_clicks),
        "paid_pick_sessions": round(t.paid_pick_sessions),
        "paid_pick_chosen": round(t.paid_pick_chosen),
        "paid_pick_chosen_as_organic": float(t.paid_pick_chosen_as_organic),
        "sold_slots_displacing": round(t.sold_slots_displacing),
        "sold_slot_value_gap_cents": round(t.sold_slot_value_gap_cents),
        "paid_pick_purchases": round(t.paid_pick_purchases),
        "paid_pick_value_gap_cents": round(t.paid_pick_value_gap_cents),
        "assistant_ad_pick_share": ratio(t.assistant_ad_picks, t.assistant_picks),
        "ads_recognised": round(t.ads_recognised),
        "ads_discovered": round(t.ads_discovered),
        "assistant_purchases": round(t.assistant_purchases),
        "agentic_purchases": round(t.agentic_purchases),
        "consult_conversion": ratio(t.consult_sessions_bought, t.assistant_consults),
        "would_consult_sessions": round(t.would_consult_sessions),
        "would_consult_conversion": ratio(t.would_consult_bought, t.would_consult_sessions),
        "nonconsult_conversion": ratio(
            t.nonconsult_sessions_bought, t.nonconsult_platform_sessions
        ),
        "assistant_users_365d": scaled(n_users),
        "mean_trust": float(pop.trust.mean()),
        "mean_habit": float(pop.habit.mean()),
        "dsi_orders": round(t.dsi_orders),
        "dsi_revenue_cents": round(t.dsi_revenue_cents),
        "dsi_margin_cents": round(t.dsi_margin_cents),
        "dsi_operating_cents": round(
            t.dsi_margin_cents
            + t.ad_revenue_assistant_cents
            - t.inference_cost_cents
            - overhead * (t.dsi_net_revenue_cents + t.ad_revenue_assistant_cents)
        ),
        "dsi_session_revenue_cents": round(t.dsi_session_revenue_cents),
        "dsi_later_revenue_cents": round(t.dsi_revenue_cents - t.dsi_session_revenue_cents),
        "dsi_share_gmv": ratio(t.dsi_revenue_cents, t.gmv_cents),
        "consult_share_sessions": ratio(t.assistant_consults, t.platform_sessions),
        "would_consult_revenue_cents": round(t.would_consult_revenue_cents),
        "other_session_revenue_cents": round(t.other_session_revenue_cents),
        "other_platform_sessions": round(t.other_platform_sessions),
        "operating_contribution_cents": round(
            t.platform_margin_cents + ad_rev - t.inference_cost_cents - overhead * revenue
        ),
        "platform_margin_cents": round(t.platform_margin_cents),
        "customer_payments_cents": round(t.customer_payments_cents + t.prime_fees_cents),
        "seller_net_receipts_cents": round(t.seller_net_receipts_cents),
        "revenue_referral_cents": round(t.referral_cents),
        "revenue_fulfilment_cents": round(t.fulfilment_cents),
        "revenue_ads_cents": round(ad_rev),
        "revenue_prime_cents": round(t.prime_fees_cents),
        "revenue_shipping_cents": round(t.shipping_fees_cents),
        "revenue_own_retail_cents": round(t.own_revenue_cents),
        "own_retail_margin_cents": round(t.own_margin_cents),
        "cost_delivery_cents": round(t.delivery_cost_cents),
        "cost_stations_cents": round(t.station_opex_cents),
        "cost_capex_cents": round(t.capex_cents),
        "cost_inference_cents": round(t.inference_cost_cents),
        "cost_overhead_cents": round(overhead * revenue),
        "third_party_revenue_cents": round(t.third_party_revenue_cents),
    }
    for name, key in CAUSAL_COLUMNS.items():
        row[name] = causal_difference(row, counterfactual, key)
    for name, key in TWIN_COLUMNS.items():
        row[name] = None if counterfactual is None else counterfactual[key]
    return row


def rival_columns(offer: RivalOffer) -> dict[str, float]:
    """The rival's offer today: mean price index, delivery days, selection change."""
    return {
        "rival_price_index": float(np.mean(offer.price_index)),
        "rival_delivery_days": float(offer.delivery_days),
        "rival_selection_change": float(offer.selection),
    }
