"""Phase 6: delivery and learning — promises, capacity, fees, reviews, habit, trust.

For every platform purchase: the promise (:mod:`sim.day.offers`), station
capacity that slips overflow orders by a day
(:func:`sim.logistics.apply_capacity`), the cost per delivery with route
density and the learning curve, the fees of :mod:`sim.fees`, the sellers'
day, reviews (a noisy reading of latent quality), habit from the experience
of the order, trust from followed advice (cut when a paid pick is
discovered), ad conversions, the customers' accounts, the experience that
values Prime, DSI attribution (:func:`sim.attribution.in_dsi_window`) and
consumer surplus (:func:`sim.valuation.surplus_cents`).

Habit (:func:`agents.customer.next_habit`) moves toward 1 after a good
platform purchase, toward ``customers.habit_after_bad_experience`` after a
late or disappointing one and toward 0 after a rival purchase; the habit of
a customer who bought nothing on the platform today decays by
``exp(-1 / customers.habit_decay_days)``. With ``flywheel.freeze`` holding
``habit`` (or ``reviews``), habit (or ratings) stop changing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from agents.customer import next_trust
from agents.rival import RivalOffer
from agents.seller import PLATFORM_SELLER
from sim import fees, kernels, logistics
from sim.attribution import in_dsi_window
from sim.config import LoopChannel
from sim.day.state import N_PICKS, Ledger, Market, Sessions
from sim.prime import PrimeState
from sim.rng import Keyed
from sim.valuation import surplus_cents

__all__ = ["EWMA_DAYS", "GOOD_ADVICE_TOLERANCE", "GOOD_ORDER_TOLERANCE", "SellerDay", "deliver"]

#: Days of the exponential averages of experience and regional demand.
EWMA_DAYS = 30.0
#: An order is a good experience if its quality is at most this far below its rating
#: (and it came on time); a followed pick is good advice at the tighter tolerance.
GOOD_ORDER_TOLERANCE = 0.15
GOOD_ADVICE_TOLERANCE = 0.1
#: Habit moves toward 1 after a good order, 0.5 after a disappointing one, 0 after a
#: rival purchase.
_GOOD, _RIVAL = 1.0, 0.0
#: Product sales average over about this many days (ranking's sales signal).
_UNITS_RECENT_DAYS = 10.0
#: The ledger's totals over the orders, in the order :func:`sim.kernels.order_totals`
#: returns them.
_ORDER_TOTALS = (
    "gmv_cents", "customer_payments_cents", "referral_cents", "fulfilment_cents",
    "shipping_fees_cents", "own_revenue_cents", "own_margin_cents", "delivery_cost_cents",
    "third_party_units", "third_party_revenue_cents", "delivery_days_sum", "same_day_orders",
    "slipped", "dsi_revenue_cents", "dsi_margin_cents", "dsi_net_revenue_cents", "dsi_orders",
    "dsi_session_revenue_cents", "would_consult_revenue_cents", "other_session_revenue_cents",
    "platform_margin_cents", "sponsored_purchases", "assistant_purchases",
    "paid_pick_purchases", "member_orders",
)  # fmt: skip
#: The ledger's session counts, in the order :func:`sim.kernels.day_sessions` returns them.
_SESSION_COUNTS = (
    "other_platform_sessions", "would_consult_sessions", "would_consult_bought",
    "consult_sessions_bought", "nonconsult_sessions_bought", "nonconsult_platform_sessions",
)  # fmt: skip
# slots of the delivery stream's draws (each keyed by the order's session)
_QUEUE, _REVIEW, _REVIEW_NOISE, _DISCOVERY = range(4)


def _sample_capacity(capacity: NDArray[np.int64], weight: float) -> NDArray[np.int64]:
    """A station's daily capacity in simulated orders: its market capacity over the
    weight, rounded (the sample's k-th order stands for the market's orders around
    ``(k + 1/2) w``)."""
    return np.rint(capacity / weight).astype(np.int64)


@dataclass(frozen=True)
class SellerDay:
    """Each seller's takings today in market units (per seller row; cents except
    ``units``)."""

    revenue_cents: NDArray[np.float64]
    referral_fees_cents: NDArray[np.float64]
    fulfilment_fees_cents: NDArray[np.float64]
    cogs_cents: NDArray[np.float64]
    shipping_cost_cents: NDArray[np.float64]
    units: NDArray[np.float64]


def deliver(
    m: Market,
    s: Sessions,
    offer: RivalOffer,
    ledger: Ledger,
    draws: Keyed,
    event_sink: Callable[[dict[str, NDArray]], None] | None = None,
) -> SellerDay:
    """Deliver today's purchases and learn from them; returns the sellers' takings.

    Parameters
    ----------
    m
        The market (customers, catalogue, campaigns, network are updated).
    s
        Today's sessions after choice.
    offer
        The rival's offer today (price index per category, delivery days).
    ledger
        Today's totals.
    draws
        The delivery stream, keyed by the order's session: its place in a
        station's queue, whether and how it is reviewed, whether a paid pick
        is discovered.
    event_sink
        Called with one row per purchase, if given.
    """
    c = m.config
    pop = m.customers
    p = m.products
    lg = c.logistics
    net = m.network
    svc = net.service
    assert svc is not None
    sh = m.shelf
    assert sh is not None
    # the orders' and the rival purchases' sessions, and the day's session counts (one
    # compiled pass over the sessions)
    rows, rv, session_counts = kernels.day_sessions(
        s.product, s.rival, s.consult, s.would_consult, s.platform
    )
    ci = s.cust[rows]
    item = s.product[rows]
    cat = s.cat[rows]
    n_orders = len(rows)
    price = p.col("price_cents")[item]
    fba = p.col("fba")[item]
    member = s.prime_state[rows] != PrimeState.NONE  # as the day began: as now (a copy)
    seller = p.col("seller")[item].astype(np.int64)
    own = seller == PLATFORM_SELLER
    ship_fee = fees.shipping_fee_cents(
        price, member, fba, c.prime.free_shipping_threshold_cents, c.prime.shipping_fee_cents
    )
    # the promise to a member and to a non-member (what membership saves on the order),
    # and the one this customer gets (sim.day.offers.promise): one compiled pass
    reg = s.region[rows]  # the customer's region (a fixed trait: the session's copy)
    if len(svc.fc) and svc.fc.max() >= logistics.MAX_CENTRES:
        raise ValueError(f"fc must be < {logistics.MAX_CENTRES} (uint64 stock masks)")
    member_days, nonmember_days = kernels.order_promises(
        reg, item, svc.dist_cells, svc.fc, p.col("fba"), p.col("stock_mask"),
        float(lg.same_day_radius_cells), float(lg.next_day_radius_cells), int(lg.standard_days),
        int(lg.self_fulfilled_days), int(c.prime.nonmember_days),
    )  # fmt: skip
    promised = np.where(member, member_days, nonmember_days)
    # station capacity: platform deliveries within next-day reach go through a station,
    # in the order of their draws; and whether each order is reviewed (one compiled pass)
    station, queue, review = kernels.order_routes(
        rows, s.key, reg, fba, svc.dist_cells, svc.station, float(lg.next_day_radius_cells),
        draws.key, np.uint64(_QUEUE), np.uint64(_REVIEW), float(c.catalogue.review_rate),
    )  # fmt: skip
    # a simulated order stands for ``w`` of the market's: a station takes the sample's
    # share of its capacity, and its load, volume and demand are counted in market units
    w = m.weight
    slipped = logistics.apply_capacity(station, _sample_capacity(net.station_capacity, w), queue)
    days = promised + slipped
    per_station = np.bincount(station[station >= 0], minlength=len(net.station_region))
    cost_station = logistics.cost_per_delivery_cents(
        w * per_station.astype(float),
        net.station_capacity.astype(float),
        lg.delivery_base_cost_cents,
        lg.density_elasticity,
        net.cumulative_deliveries,
        lg.learning_rate,
        max(1.0, 30.0 * lg.station_capacity_per_1k * m.per_1k * len(net.station_region)),
    )
    # a market without stations (logistics.stations_per_centre = 0) ships by carrier
    at_station = cost_station[np.maximum(station, 0)] if len(cost_station) else 0.0
    delivery_cost = np.where(fba, np.where(station >= 0, at_station, lg.carrier_cost_cents), 0.0)
    delivery_cost = np.rint(delivery_cost).astype(np.int64)
    net.cumulative_deliveries += w * float(fba.sum())
    third = ~own
    referral = fees.referral_fee_cents(price, third, c.fees.referral_fee_rate)
    fulfil = fees.fulfilment_fee_cents(
        price, third, fba, c.fees.fulfilment_fee_cents, c.fees.fulfilment_fee_rate
    )
    cogs = p.col("unit_cost_cents")[item]
    self_ship = fees.self_ship_cost_cents(price, fba, c.sellers.self_ship_cost_rate)
    # sellers' books
    nsel = len(m.sellers)
    book = m.sellers
    # per seller: np.bincount of each (one compiled pass)
    sums, units = kernels.seller_sums(seller, nsel, price, referral, fulfil, cogs, self_ship)
    today = SellerDay(  # in market units
        revenue_cents=w * sums[0],
        referral_fees_cents=w * sums[1],
        fulfilment_fees_cents=w * sums[2],
        cogs_cents=w * sums[3],
        shipping_cost_cents=w * sums[4],
        units=w * units.astype(float),
    )
    for key, vals in vars(today).items():
        column = book.col(key)
        column[:] += vals if column.dtype.kind == "f" else np.rint(vals).astype(np.int64)
    units_today = w * np.bincount(item, minlength=len(p)).astype(float)
    p.col("units_total")[:] += units_today
    p.col("units_recent")[:] += (units_today - p.col("units_recent")) / _UNITS_RECENT_DAYS
    # reviews: a noisy reading of realised quality
    q = p.col("quality")[item]
    # a simulated review stands for ``w`` reviews of the market, counted ``w`` times: for
    # w > 1 their mean, whose noise is one review's over sqrt(w); for w <= 1 one review
    noise_sd = c.catalogue.review_noise_sd / np.sqrt(max(w, 1.0))
    fw, burn = c.flywheel, c.run.burn_in_days
    if not fw.holds(LoopChannel.REVIEWS, m.day, burn):
        # the noise drawn for the reviews alone (keyed by session, so the same numbers)
        noise = noise_sd * draws.normal(s.key[rows[review]], _REVIEW_NOISE)
        kernels.add_at(p.col("rating_sum"), item[review], w * np.clip(q[review] + noise, 0, 1))
        kernels.add_at(p.col("review_count"), item[review], w)
    # learning: habit from the experience of this purchase, trust from followed advice
    expected_q = sh.rating[item]
    good = (q >= expected_q - GOOD_ORDER_TOLERANCE) & (slipped == 0)
    habit_live = not fw.holds(LoopChannel.HABIT, m.day, burn)
    hl = c.customers.habit_learning_rate if habit_live else 0.0
    exp_plat = np.where(good, _GOOD, c.customers.habit_after_bad_experience)
    col = s.bought_col[rows]
    # the bought entry of each order's session in the (session, considered) blocks:
    # whether it came through the assistant, was paid for and recognised as such, was a
    # sponsored result, and its campaign if either (one compiled pass)
    via_assistant, paid, recognised, sponsored_search, conv_ad = kernels.bought_entries(
        rows, col, N_PICKS, s.consult, s.paid, s.recognised, s.sponsored, s.ad_row
    )
    advice_row = rows[via_assistant]
    if len(advice_row):
        a = c.assistant
        satisfied = (q >= expected_q - GOOD_ADVICE_TOLERANCE)[via_assistant]
        # an observable cue: a paid pick that disappoints is found out more often
        p_disc = np.where(satisfied, a.discovery_rate, a.discovery_if_disappointed)
        disc = (paid & ~recognised)[via_assistant] & (
            draws.uniform(s.key[advice_row], _DISCOVERY) < p_disc
        )
        tc = s.cust[advice_row]
        new = next_trust(
            pop.trust[tc], satisfied, a.trust_learning_rate, disc, a.discovery_trust_penalty
        )
        kernels.add_at(pop.trust, tc, new - pop.trust[tc])
        # a customer who found out learns to see paid picks (literacy toward 1)
        learn = tc[disc]
        step = c.customers.literacy_learning_rate * (1.0 - pop.ad_literacy[learn])
        kernels.add_at(pop.ad_literacy, learn, step)
        # at most 1 (only those who learned can have passed it)
        pop.ad_literacy[learn] = np.minimum(pop.ad_literacy[learn], 1.0)
        ledger.ads_discovered += float(disc.sum())
    # ad conversions: a purchase of a clicked sponsored item or a paid pick
    # (and the sale of a paid pick, the answer slot's own return): one compiled pass
    sale = np.rint(w * price).astype(np.int64)  # market units
    ads = m.ads
    n_conv, conv_price, answer_price = kernels.ad_conversions(
        conv_ad, paid, price, sale, float(w), ads.col("conversions"),
        ads.col("sales_today_cents"), ads.col("assistant_conversions"),
        ads.col("assistant_sales_today_cents"),
    )  # fmt: skip
    ledger.ad_conversions += float(n_conv)
    ledger.ad_sales_cents += float(conv_price)
    ledger.ad_sales_assistant_cents += float(answer_price)
    # rival purchases; habit moves after each purchase, on the platform or at the rival
    rc = s.cust[rv]
    kernels.learn_habit(pop.habit, ci, exp_plat, rc, _RIVAL, hl)
    # habit decays for customers who bought nothing on the platform today, and the
    # experience that values Prime fades (one compiled pass over the population)
    decay_habit = habit_live and c.customers.habit_decay_days > 0
    habit_factor = float(np.exp(-1.0 / c.customers.habit_decay_days)) if decay_habit else 1.0
    decay = 1.0 - 1.0 / EWMA_DAYS
    kernels.decay_population(
        pop.habit, habit_factor, decay_habit, ci, pop.ship_value_ewma, pop.speed_value_ewma, decay
    )
    # per category, then per purchase (the same product for each)
    rival_cat = s.cat[rv]
    rival_price = (offer.price_index * m.category_price)[rival_cat]
    paid_total = price + ship_fee
    # experience that values Prime: fees a non-member pays, delay a member avoids
    category_price = m.category_price.astype(np.float64)
    P = category_price[cat]
    would_ship = np.where(
        fees.pays_shipping(price, fba, c.prime.free_shipping_threshold_cents),
        c.prime.shipping_fee_cents,
        0,
    )
    # what membership saves on this order: the non-member promise minus the member's
    delay_cost = s.delay_cost[rows]  # a fixed trait: the session's copy
    speed = P * delay_cost * (nonmember_days - member_days)
    # customers' accounts: orders, spend, last platform day, categories bought, the
    # Prime experience (one compiled pass)
    # (and the buyers' last consult, for DSI below, read in the same pass)
    consult_day, consult_category = kernels.book_orders(
        ci, member, paid_total, m.day, cat, would_ship / EWMA_DAYS, speed / EWMA_DAYS,
        pop.orders_member, pop.orders_nonmember, pop.spend_member_cents,
        pop.spend_nonmember_cents, pop.last_platform_day, pop.bought_categories,
        pop.ship_value_ewma, pop.speed_value_ewma, rc, pop.rival_purchases,
        pop.last_consult_day, pop.last_consult_category,
    )  # fmt: skip
    kernels.add_at(net.region_orders_ewma, reg, w / EWMA_DAYS)
    net.region_orders_ewma *= decay
    # DSI: every purchase within the window after an assistant interaction
    in_window = in_dsi_window(
        m.day,
        consult_day,
        consult_category,
        cat,
        c.attribution.window_days,
        same_category_only=c.attribution.same_category_only,
    )
    # consumer surplus in cents (true quality, realised delivery)
    vb = c.customers.value_base
    surplus = surplus_cents(P, vb, s.quality_taste[rows], q, delay_cost, days, paid_total)
    rp = category_price[rival_cat]
    rival_surplus = surplus_cents(
        rp,
        vb,
        s.quality_taste[rv],
        c.rival.quality,
        s.delay_cost[rv],
        offer.delivery_days,
        rival_price,
    )
    t = ledger
    t.orders = n_orders
    t.rival_purchases = len(rv)
    t.rival_revenue_cents = float(rival_price.sum())
    t.delivered_quality_sum = float(q.sum())
    t.consumer_surplus_cents = float(surplus.sum() + rival_surplus.sum())
    t.quality_adjusted_price_sum = float((price / np.maximum(q, 0.05)).sum())
    # the integer totals (money in cents, counts) in one compiled pass; the platform's
    # margin on an order is its fees, shipping fee and own sales' margin less the
    # delivery cost, and the DSI-credited orders' net revenue their fees, shipping fees
    # and own sales
    totals = kernels.order_totals(
        price, paid_total, referral, fulfil, ship_fee, cogs, own, delivery_cost, days,
        slipped, in_window, rows, s.consult, s.would_consult, s.platform, sponsored_search,
        paid, via_assistant, member,
    )  # fmt: skip
    for name, total in zip(_ORDER_TOTALS, totals.tolist(), strict=True):
        setattr(t, name, float(total))
    for name, count in zip(_SESSION_COUNTS, session_counts.tolist(), strict=True):
        setattr(t, name, float(count))
    t.paid_pick_value_gap_cents = float(s.pick_gap[rows[paid], col[paid]].sum())
    if event_sink is not None:
        n_r = len(rv)
        buyers = np.concatenate([ci, rc]).astype(np.int64)
        event_sink(
            {
                "day": np.full(n_orders + n_r, m.day, dtype=np.int32),
                "customer_id": buyers,
                "channel": np.concatenate([np.zeros(n_orders, np.int8), np.ones(n_r, np.int8)]),
                "product_id": np.concatenate([item, np.full(n_r, -1)]).astype(np.int64),
                "seller_id": np.concatenate([seller, np.full(n_r, -1)]).astype(np.int64),
                "category": np.concatenate([cat, rival_cat]).astype(np.int16),
                "price_cents": np.concatenate([price, np.rint(rival_price)]).astype(np.int64),
                "shipping_fee_cents": np.concatenate([ship_fee, np.zeros(n_r)]).astype(np.int64),
                "sponsored": np.concatenate([sponsored_search | paid, np.zeros(n_r, bool)]),
                "via_assistant": np.concatenate([via_assistant, np.zeros(n_r, bool)]),
                "agentic": np.concatenate([s.agentic[rows] >= 0, np.zeros(n_r, bool)]),
                "ad_recognised": np.concatenate([recognised, np.zeros(n_r, bool)]),
                "member": np.concatenate([member, pop.member(rc)]),
                "prime_state": pop.prime_state[buyers].astype(np.int8),
                "prime_plan": np.where(pop.member(buyers), pop.plan[buyers], -1).astype(np.int8),
                "days_since_prime_payment": np.where(
                    pop.last_payment_day[buyers] >= 0, m.day - pop.last_payment_day[buyers], -1
                ).astype(np.int32),
                "delivery_days": np.concatenate([days, np.full(n_r, offer.delivery_days)]).astype(
                    np.float32
                ),
            }
        )
    return today
