"""Every column of every output table, described once: name, unit and meaning.

:mod:`sim.output` writes these descriptions into each Parquet file's
metadata (key ``flywheel.columns``, a JSON object ``{name: {"unit", "meaning"}}``,
and ``flywheel.table``), and ``python -m sim.columns --write docs/OUTPUTS.md``
renders them as the reference page of the outputs (a test keeps the page, the
tables and this module in step).

The conventions every table follows are :data:`CONVENTIONS`.

Examples
--------
>>> TABLES["prime_events"]["event"].unit
'label'
>>> "| `day` | day |" in render_markdown()
True
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CONVENTIONS", "LABELS", "TABLES", "Column", "metadata", "render_markdown"]

CONVENTIONS = """\
Money is in integer cents (`_cents`), shares are in [0, 1], days are simulation
days from 0. A value that does not exist (a seller that never exited, a rival
purchase's product) is null; a ratio whose denominator is zero on a day is NaN.
The simulated customers are a sample of the market (`market.population`; the
manifest's `weight` is the market's customers per simulated customer):
`customers`, `events` and `prime_events` have one row per simulated customer or
event, while counts and money in `daily`, `sellers` and `products` are in market
units (a sample total times the weight, rounded once where the column is an
integer), so they do not depend on `run.n_customers`.
Every row of every table starts with the run's labels; a sweep adds one column
per swept key, named by the key."""


@dataclass(frozen=True, slots=True)
class Column:
    """One output column: its unit and what it means."""

    unit: str
    meaning: str


def _cols(*rows: tuple[str, str, str]) -> dict[str, Column]:
    return {name: Column(unit, meaning) for name, unit, meaning in rows}


#: Columns every row of every table starts with.
LABELS = _cols(
    ("run_id", "label", "`<scenario>-<seed>-<first 8 hex digits of the config hash>`"),
    ("scenario", "label", "`run.name` of the config"),
    ("seed", "integer", "root seed of the run"),
)

_DAILY = _cols(
    ("day", "day", "simulation day"),
    ("burn_in", "bool", "the day is inside `run.burn_in_days` (analyses exclude it)"),
    ("sessions", "count", "shopping sessions: fresh needs plus returning journeys"),
    ("new_needs", "count", "sessions of needs that arose today (shared by every scenario)"),
    ("returning_sessions", "count", "sessions of yesterday's unmet needs that came back"),
    ("online_sessions", "count", "sessions of customers who can shop online"),
    ("online_new_needs", "count", "fresh needs of customers who can shop online"),
    ("platform_sessions", "count", "sessions that came to the platform (not the rival)"),
    ("external_agent_sessions", "count", "sessions run by a neutral external shopping agent"),
    ("active_customers", "count", "customers who bought on the platform in the last 365 days"),
    ("active_customers_30d", "count", "customers who bought on the platform in the last 30 days"),
    ("orders", "count", "platform purchases"),
    ("rival_purchases", "count", "purchases at the rival"),
    ("platform_share", "share", "orders / (orders + rival purchases)"),
    ("rival_share", "share", "rival purchases / (orders + rival purchases)"),
    ("gmv_cents", "cents", "price of every platform order (shipping fees excluded)"),
    ("rival_revenue_cents", "cents", "price of every rival purchase"),
    ("avg_price_cents", "cents/order", "gmv_cents / orders"),
    (
        "quality_adjusted_price_cents",
        "cents/order",
        "mean of price / realised quality (quality floored at 0.05)",
    ),
    ("delivered_quality", "quality", "mean realised quality of the orders delivered"),
    (
        "consumer_surplus_cents",
        "cents",
        "customers' money-metric utility of today's purchases over not buying, before Prime fees",
    ),
    ("consumer_prime_fees_cents", "cents", "Prime fees customers paid today"),
    (
        "consumer_prime_benefits_cents",
        "cents",
        "members' non-shipping Prime benefits accrued today (their monthly value / 30)",
    ),
    ("prime_members", "count", "paying Prime members at the end of the day"),
    ("prime_trials", "count", "customers in a free trial at the end of the day"),
    ("prime_share_active", "share", "share of active customers in Prime (trial or paid)"),
    ("prime_joins", "count", "spells begun: trials started plus paid joins"),
    ("prime_trials_started", "count", "free trials begun"),
    ("prime_trial_ends", "count", "trials that reached their end (converted or lapsed)"),
    ("prime_trial_conversions", "count", "trials that turned into a paid membership"),
    ("prime_cancels", "count", "spells ended: paid cancellations plus lapsed trials"),
    ("prime_renewals", "count", "paid periods renewed"),
    ("member_order_share", "share", "orders by Prime members / orders"),
    ("same_day_share_orders", "share", "orders delivered the same day / orders"),
    (
        "same_day_population_share",
        "share",
        "share of the population living where same-day delivery is offered",
    ),
    ("mean_delivery_days", "days", "mean days from order to delivery"),
    ("slipped_orders", "count", "orders delivered later than promised (station over capacity)"),
    ("cost_per_delivery_cents", "cents/order", "platform delivery cost / orders"),
    ("stations", "count", "delivery stations open"),
    ("stations_rural", "count", "delivery stations open outside metro regions"),
    ("stations_opened", "count", "delivery stations opened today"),
    ("sellers_active", "count", "active third-party sellers"),
    ("sellers_entered", "count", "third-party sellers that entered today"),
    ("sellers_exited", "count", "third-party sellers that exited today"),
    ("products_active", "count", "products listed"),
    (
        "selection_value_change",
        "utility",
        "mean over categories of the selection value's change since day 0",
    ),
    ("seller_profit_cents", "cents", "third-party sellers' profit today, after fees and costs"),
    ("third_party_unit_share", "share", "orders sold by third-party sellers / orders"),
    ("ad_revenue_cents", "cents", "ad revenue: search plus assistant placements"),
    ("ad_revenue_search_cents", "cents", "ad revenue from sponsored search slots"),
    ("ad_revenue_assistant_cents", "cents", "ad revenue from sold answer slots"),
    ("ad_spend_cents", "cents", "advertisers' spend (equals ad_revenue_cents)"),
    (
        "ad_clicks",
        "count",
        "clicks on sponsored search results (campaigns pay for the market's clicks:"
        " a Poisson count per impression with the same mean)",
    ),
    ("ad_conversions", "count", "purchases of a sponsored item after its paid click"),
    ("ad_sales_cents", "cents", "sales attributed to ads (advertisers' attribution)"),
    ("acos", "share", "advertising cost of sales: ad revenue / ad sales"),
    ("mean_cpc_cents", "cents/click", "search ad revenue / paid search clicks"),
    ("ad_conversion_rate", "share", "ad conversions / paid clicks"),
    ("sponsored_impression_share", "share", "sponsored results / results shown"),
    ("sponsored_top12_share", "share", "sponsored results among the top 12 positions shown"),
    ("sponsored_purchase_share", "share", "orders of a sponsored result or paid pick / orders"),
    ("top_position_click_share", "share", "clicks on the first result / clicks"),
    ("ad_budget_exhausted", "count", "campaigns that hit their daily budget today"),
    ("budget_bound_share", "share", "campaigns that hit their daily budget / live campaigns"),
    (
        "ad_overspend_max_cents",
        "cents",
        "largest spend over a campaign's daily budget today (at most one batch's charge)",
    ),
    (
        "ad_overspend_beyond_batch_cents",
        "cents",
        "largest overspend beyond the charge of the batch in which it ran out (always 0)",
    ),
    ("ad_sales_search_cents", "cents", "sales after a paid search click"),
    ("ad_sales_assistant_cents", "cents", "sales of opened paid picks"),
    ("acos_search", "share", "search ad revenue / search ad sales"),
    ("acos_assistant", "share", "answer-slot ad revenue / sales of paid picks"),
    ("assistant_consults", "count", "sessions that consulted the assistant"),
    ("assistant_picks", "count", "items the assistant recommended"),
    ("assistant_ad_picks", "count", "recommended items in sold answer slots"),
    (
        "assistant_ad_clicks",
        "count",
        "opened paid picks (the clicks of answer slots; campaigns pay for the market's"
        " opens, with the same mean)",
    ),
    ("paid_pick_sessions", "count", "sessions that chose with a paid pick among the options"),
    ("paid_pick_chosen", "count", "of those, sessions that chose a paid pick"),
    (
        "paid_pick_chosen_as_organic",
        "expected count",
        "paid picks that would be chosen if no one saw them as ads (logit probability sum)",
    ),
    (
        "sold_slots_displacing",
        "count",
        "answer slots sold in place of an organic pick (the slot's organic pick displaced)",
    ),
    (
        "sold_slot_value_gap_cents",
        "cents",
        "sum over those slots of the paid pick's value to the customer minus the displaced"
        " organic pick's (latent quality; negative: paid picks are worse)",
    ),
    ("paid_pick_purchases", "count", "orders of a paid pick from an assistant answer"),
    (
        "paid_pick_value_gap_cents",
        "cents",
        "sum over orders of a paid pick of the same gap: the direct cost to customers of"
        " the paid picks they bought (0 for a pick that displaced none)",
    ),
    ("assistant_ad_pick_share", "share", "assistant_ad_picks / assistant_picks"),
    ("ads_recognised", "count", "paid picks the customer saw as ads"),
    ("ads_discovered", "count", "paid picks found out after purchase (trust falls)"),
    ("assistant_purchases", "count", "orders of an item the assistant recommended"),
    ("agentic_purchases", "count", "orders the assistant placed itself (agentic checkout)"),
    ("consult_conversion", "share", "consulting sessions that bought / consults"),
    ("would_consult_sessions", "count", "sessions whose customer would consult, had they asked"),
    ("would_consult_conversion", "share", "would-consult sessions that bought / their number"),
    ("nonconsult_conversion", "share", "platform sessions without a consult that bought / them"),
    ("assistant_users_365d", "count", "customers who consulted in the last 365 days"),
    ("mean_trust", "share", "mean trust in the assistant over all customers"),
    ("mean_habit", "share", "mean platform habit over all customers"),
    ("dsi_orders", "count", "orders within the attribution window after a consult"),
    (
        "dsi_revenue_cents",
        "cents",
        "downstream impact: revenue of orders within the window after a consult",
    ),
    ("dsi_margin_cents", "cents", "platform margin of those orders"),
    (
        "dsi_operating_cents",
        "cents",
        "DSI margin plus assistant ad revenue minus inference cost and the overhead "
        "on the credited orders' platform revenue and that ad revenue",
    ),
    ("dsi_session_revenue_cents", "cents", "DSI revenue bought in the consulting session itself"),
    ("dsi_later_revenue_cents", "cents", "DSI revenue bought later within the window"),
    ("dsi_share_gmv", "share", "dsi_revenue_cents / gmv_cents"),
    ("consult_share_sessions", "share", "assistant consults / platform sessions"),
    ("would_consult_revenue_cents", "cents", "revenue of sessions whose customer would consult"),
    ("other_session_revenue_cents", "cents", "revenue of the other platform sessions"),
    ("other_platform_sessions", "count", "platform sessions whose customer would not consult"),
    (
        "operating_contribution_cents",
        "cents",
        "platform margin plus ad revenue minus inference cost and overhead",
    ),
    (
        "platform_margin_cents",
        "cents",
        "fees, own-retail margin, shipping fees and Prime fees less delivery costs",
    ),
    ("customer_payments_cents", "cents", "everything customers paid: prices, shipping, Prime"),
    ("seller_net_receipts_cents", "cents", "third-party sellers' sales less platform fees"),
    ("revenue_referral_cents", "cents", "referral fees charged to third-party sellers"),
    ("revenue_fulfilment_cents", "cents", "fulfilment fees charged to third-party sellers"),
    ("revenue_ads_cents", "cents", "ad revenue (equals ad_revenue_cents)"),
    ("revenue_prime_cents", "cents", "Prime fees received"),
    ("revenue_shipping_cents", "cents", "shipping fees paid by non-members"),
    ("revenue_own_retail_cents", "cents", "sales of the platform's own retail arm"),
    ("own_retail_margin_cents", "cents", "own-retail sales less unit costs"),
    ("cost_delivery_cents", "cents", "platform delivery cost"),
    ("cost_stations_cents", "cents", "operating cost of the open stations"),
    ("cost_capex_cents", "cents", "capital cost of the stations opened today"),
    ("cost_inference_cents", "cents", "the assistant's inference cost"),
    (
        "cost_overhead_cents",
        "cents",
        "costs the model does not simulate: platform.overhead_rate x platform revenue",
    ),
    ("third_party_revenue_cents", "cents", "sales of third-party sellers"),
    (
        "causal_revenue_cents",
        "cents",
        "gmv_cents minus the assistant-off twin's (null without a twin)",
    ),
    ("causal_margin_cents", "cents", "platform_margin_cents minus the twin's"),
    ("causal_operating_cents", "cents", "operating_contribution_cents minus the twin's"),
    ("causal_orders", "count", "orders minus the twin's"),
    ("causal_consumer_surplus_cents", "cents", "consumer_surplus_cents minus the twin's"),
    ("causal_prime_fees_cents", "cents", "consumer_prime_fees_cents minus the twin's"),
    ("causal_prime_benefits_cents", "cents", "consumer_prime_benefits_cents minus the twin's"),
    ("cf_would_consult_revenue_cents", "cents", "the twin's would_consult_revenue_cents"),
    ("cf_other_session_revenue_cents", "cents", "the twin's other_session_revenue_cents"),
    ("cf_other_platform_sessions", "count", "the twin's other_platform_sessions"),
    ("rival_price_index", "ratio", "the rival's mean price over the platform's reference price"),
    ("rival_delivery_days", "days", "the rival's delivery days"),
    ("rival_selection_change", "utility", "change of the rival's selection value"),
)

_CUSTOMERS = _cols(
    ("customer_id", "id", "customer (row of the population), 0 to n_customers - 1"),
    ("region", "id", "grid cell the customer lives in (y * width + x)"),
    ("region_x", "cell", "column of the region"),
    ("region_y", "cell", "row of the region"),
    ("metro", "bool", "the region belongs to a metro"),
    ("online", "bool", "the customer can shop online at the end of the run"),
    ("income_class", "class", "0 low, 1 middle, 2 high"),
    ("price_sensitivity", "1/cent", "utility lost per cent of price"),
    ("quality_taste", "utility", "utility per unit of quality"),
    ("delay_cost", "share/day", "share of a category price lost per day of waiting"),
    ("need_rate_per_day", "needs/day", "the customer's rate of fresh needs"),
    ("taste_profile", "id", "category-mix archetype"),
    ("patience", "share", "position-bias decay: chance to look one result further"),
    ("ad_literacy", "share", "chance to see a labelled ad as an ad (grows with discoveries)"),
    ("assistant_propensity", "share", "inclination to consult the assistant"),
    ("uses_external_agent", "bool", "shops through a neutral external agent when allowed"),
    ("prime_state", "label", "none, trial or member at the end of the run"),
    ("prime_plan", "label", "monthly or annual: the plan the customer pays or would pay"),
    ("prime_first_join_day", "day", "day of the first trial or join (null: never)"),
    ("prime_spells", "count", "membership spells begun (trial or paid)"),
    ("prime_renewals", "count", "paid periods renewed"),
    ("prime_cancellations", "count", "spells ended (cancellations and lapsed trials)"),
    ("prime_days_member", "days", "days in Prime (trial or paid)"),
    ("trial_outcome", "label", "never, active, converted or cancelled"),
    ("orders_member", "count", "platform orders placed as a member"),
    ("orders_nonmember", "count", "platform orders placed as a non-member"),
    ("spend_member_cents", "cents", "prices and shipping paid as a member"),
    ("spend_nonmember_cents", "cents", "prices and shipping paid as a non-member"),
    ("rival_purchases", "count", "purchases at the rival"),
    ("assistant_consults", "count", "consults of the assistant"),
    ("ads_seen", "count", "paid picks shown to the customer"),
    ("ads_recognised", "count", "paid picks the customer saw as ads"),
    ("final_trust", "share", "trust in the assistant at the end of the run"),
    ("final_habit", "share", "platform habit at the end of the run"),
)

_SELLERS = _cols(
    ("seller_id", "id", "seller (row of the seller book); 0 is the platform's retail arm"),
    ("seller_key", "id", "identity key of the seller, the same in every run of the seed"),
    ("is_platform", "bool", "the platform's own retail arm"),
    ("category", "id", "the seller's category (-1 for the platform, which sells in all)"),
    ("entry_day", "day", "day the seller entered (0: there from the start)"),
    ("exit_day", "day", "day the seller exited (null: still active)"),
    ("active", "bool", "active at the end of the run"),
    ("products", "count", "products the seller ever listed"),
    ("fulfilment", "label", "platform (fulfilled by the platform) or self"),
    ("advertises", "bool", "runs a sponsored-products campaign"),
    ("units", "count", "units sold (market units: fractional in a weighted run)"),
    ("revenue_cents", "cents", "sales"),
    ("referral_fees_cents", "cents", "referral fees paid"),
    ("fulfilment_fees_cents", "cents", "fulfilment fees paid"),
    ("ad_spend_cents", "cents", "ad spend"),
    ("cogs_cents", "cents", "cost of the units sold"),
    ("own_shipping_cost_cents", "cents", "shipping cost of self-fulfilled orders"),
    ("fixed_cost_cents", "cents", "daily fixed costs paid"),
    ("profit_cents", "cents", "revenue less fees, ad spend and costs"),
)

_PRODUCTS = _cols(
    ("product_id", "id", "product (row of the catalogue); events.parquet's product_id"),
    ("product_key", "id", "identity key of the product, the same in every run of the seed"),
    ("seller_id", "id", "the seller that lists it"),
    ("category", "id", "product category"),
    ("quality", "quality", "latent quality (what a purchase realises on average)"),
    ("rating", "share", "review mean shrunk toward the prior, at the end of the run"),
    ("review_count", "count", "reviews received (market units: fractional in a weighted run)"),
    ("price_cents", "cents", "price at the end of the run"),
    ("unit_cost_cents", "cents", "the seller's cost per unit"),
    ("fulfilment", "label", "platform or self"),
    ("platform_owned", "bool", "sold by the platform's retail arm"),
    ("private_label", "bool", "the platform's private-label product"),
    ("listed_day", "day", "day the product was listed"),
    ("active", "bool", "listed at the end of the run"),
    ("units", "count", "units sold on the platform (market units: fractional in a weighted run)"),
)

_PRIME_EVENTS = _cols(
    ("day", "day", "day of the event"),
    ("customer_id", "id", "the customer"),
    (
        "event",
        "label",
        "trial_start, trial_convert, trial_lapse, join (paid, no trial), renewal, cancel, "
        "or at_start (a member when the run starts, day 0: the spell began earlier and is "
        "counted from day 0)",
    ),
    ("plan", "label", "monthly or annual: the plan of the spell"),
    ("fee_cents", "cents", "fee paid at the event (0 for trial starts, lapses and cancels)"),
    ("tenure_days", "days", "days since the spell began (0 when the event begins one)"),
)

_EVENTS = _cols(
    ("day", "day", "day of the purchase"),
    ("customer_id", "id", "the buyer"),
    ("channel", "label", "platform or rival"),
    ("product_id", "id", "product bought (null at the rival)"),
    ("seller_id", "id", "its seller (null at the rival)"),
    ("category", "id", "category of the need"),
    ("price_cents", "cents", "price paid"),
    ("shipping_fee_cents", "cents", "shipping fee paid (non-members below the threshold)"),
    ("sponsored", "bool", "a sponsored search result or a paid pick"),
    ("via_assistant", "bool", "the item was among the assistant's picks"),
    ("agentic", "bool", "bought by the assistant itself"),
    ("ad_recognised", "bool", "the buyer saw the paid pick as an ad"),
    ("member", "bool", "the buyer was in Prime (trial or paid) at the purchase"),
    ("prime_state", "label", "none, trial or member at the purchase"),
    ("prime_plan", "label", "monthly or annual while in Prime (null for non-members)"),
    (
        "days_since_prime_payment",
        "days",
        "days since the buyer's last Prime payment (null: never paid)",
    ),
    ("delivery_days", "days", "days from order to delivery"),
)

#: Each table's own columns (after :data:`LABELS`), in file order.
TABLES: dict[str, dict[str, Column]] = {
    "daily": _DAILY,
    "customers": _CUSTOMERS,
    "sellers": _SELLERS,
    "products": _PRODUCTS,
    "prime_events": _PRIME_EVENTS,
    "events": _EVENTS,
}

_ABOUT = {
    "daily": "one row per day",
    "customers": "one row per customer, at the end of the run",
    "sellers": "one row per seller ever active, with lifetime accounts",
    "products": "one row per product ever listed, at the end of the run",
    "prime_events": "one row per Prime event (a spell starts, continues or ends)",
    "events": "one row per purchase, platform or rival (with `--events` or `run.record_events`)",
}


def metadata(table: str, columns: list[str]) -> dict[str, str]:
    """Parquet key-value metadata of ``table``: its name and each column's unit and meaning.

    Columns not described here (a sweep's swept keys) are described as such.
    """
    known = {**LABELS, **TABLES[table]}
    swept = Column("label", "swept parameter of the sweep (the config key)")
    described = {
        name: {"unit": c.unit, "meaning": c.meaning}
        for name in columns
        for c in [known.get(name, swept)]
    }
    return {"flywheel.table": table, "flywheel.columns": json.dumps(described)}


def render_markdown() -> str:
    """``docs/OUTPUTS.md``: every table and column, generated from this module."""
    lines = [
        "# Outputs",
        "",
        "<!-- generated by `python -m sim.columns --write docs/OUTPUTS.md`; do not edit -->",
        "",
        "A run folder holds `manifest.json` (config, seed, code and package versions,",
        "row counts, SHA-256 of every file) and one Parquet file per table below.",
        "The same descriptions are in each file's metadata (`flywheel.columns`).",
        "",
        *CONVENTIONS.splitlines(),
        "",
        "## Labels (first columns of every table)",
        "",
        "| column | unit | meaning |",
        "|---|---|---|",
        *(f"| `{n}` | {c.unit} | {c.meaning} |" for n, c in LABELS.items()),
    ]
    for table, cols in TABLES.items():
        lines += [
            "",
            f"## `{table}.parquet`: {_ABOUT[table]}",
            "",
            "| column | unit | meaning |",
            "|---|---|---|",
            *(f"| `{n}` | {c.unit} | {c.meaning} |" for n, c in cols.items()),
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.columns [--write PATH]``: print or write the outputs reference."""
    parser = argparse.ArgumentParser(prog="python -m sim.columns", description=main.__doc__)
    parser.add_argument("--write", type=Path, help="write the Markdown page here")
    args = parser.parse_args(argv)
    text = render_markdown()
    if args.write is None:
        print(text, end="")
    else:
        args.write.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
