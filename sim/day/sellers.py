"""Phase 8: sellers — accounts, repricing, fulfilment, entry and exit.

Each third-party seller books today's takings (from delivery) less ad spend
and a fixed cost, and keeps 30-day averages of profit and units. A seller
whose average profit is negative leaves, with its products and campaigns,
once that has lasted longer than its own patience (around
``sellers.exit_loss_days``) or its cash (a reserve plus its profit since
entry) runs out; the starting sellers entered at varied dates, with varied
patience and reserves, so exits are staggered. Sellers reprice in a staggered
cycle (up when they sell above their category's mean, down otherwise, pulled
toward the going price-to-cost ratio; :func:`agents.seller.reprice`) and
review fulfilment (:func:`agents.seller.fulfilment_choice`, on the sales
uplift of fulfilled products in their category). Every
``sellers.entry_review_days`` days a review decides the entrants per category
from the profit an entrant expects there: an even share of the category's
realised margin less its fixed cost (:func:`agents.seller.entrants_per_category`);
each launches on a day drawn over the following review period. The starting
sellers hold, beside their reserve, what they earned before day 0
(``sellers.initial_earnings_per_day_cents`` per day of their age).
``flywheel.freeze`` holding ``seller_entry`` stops entry and exit,
``seller_pricing`` repricing and ``fulfilment_choice`` the fulfilment reviews.

The listing functions (:func:`enter`, :func:`list_products`,
:func:`start_campaigns`) also build the starting market.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from agents.advertiser import BidStrategy
from agents.seller import (
    PLATFORM_SELLER,
    entrants_per_category,
    fulfilment_choice,
    new_product_terms,
    reprice,
)
from sim import kernels, logistics
from sim.config import LoopChannel
from sim.day.advertisers import rebid
from sim.day.delivery import EWMA_DAYS, SellerDay
from sim.day.state import Ledger, Market
from sim.rng import Keyed, lognormal_mean_one

__all__ = [
    "Changes",
    "budget_for",
    "close_day",
    "enter",
    "list_products",
    "seller_keys",
    "start_campaigns",
]

#: Slot of an entrant's launch lag in the sellers' stream (enter() uses 0-7).
_LAUNCH_SLOT = 8
#: Log-sd of sellers' cash reserves around ``sellers.reserve_days`` of fixed cost.
_RESERVE_SIGMA = 0.5
# bit positions of the day and category in a seller's key (slot in the low bits)
_DAY_SHIFT, _CAT_SHIFT = 40, 20

#: At a price review a seller's markup moves by at most this log step, in proportion
#: to how far its units are above or below its category's mean (full step at twice
#: or at none of the mean), and is capped at this multiple of the mean markup.
_MARKUP_LOG_STEP, _MARKUP_CAP = np.log(1.05), 3.0
#: Spread (log sd) of entrants' markups around ``sellers.markup_rate``.
_MARKUP_SIGMA = 0.2
#: Fulfilment uplift assumed where a category has no self-fulfilled sales, and its bounds.
_DEFAULT_UPLIFT, _UPLIFT_LO, _UPLIFT_HI = 0.3, -0.5, 3.0
#: Share of advertisers bidding by value (the rest target an ACoS); bounds of target ACoS.
_VALUE_BIDDER_SHARE = 0.5
_TARGET_ACOS_LO, _TARGET_ACOS_HI = 0.02, 2.0
#: A new campaign expects this share of its product's even share of category needs.
_EXPECTED_UNIT_SHARE = 0.5


@dataclass(frozen=True)
class Changes:
    """Rows that entered or left today (for the Mesa agents the model keeps)."""

    entered_sellers: NDArray[np.int64]
    entered_campaigns: NDArray[np.int64]
    exited_sellers: NDArray[np.int64]
    exited_campaigns: NDArray[np.int64]


_NONE = np.zeros(0, dtype=np.int64)


def seller_keys(cats: NDArray[np.int64], day: int) -> NDArray[np.int64]:
    """Identity of sellers entering on ``day`` in categories ``cats``: (day, category,
    slot), the slot counting entrants of the same category that day. The same entrant
    has the same key in every run, whatever its row in the book.

    >>> seller_keys(np.array([2, 2, 5]), 3).tolist() == [
    ...     (4 << 40) | (2 << 20), (4 << 40) | (2 << 20) | 1, (4 << 40) | (5 << 20)]
    True
    """
    cats = np.asarray(cats, dtype=np.int64)
    order = np.argsort(cats, kind="stable")
    sorted_cats = cats[order]
    start = np.searchsorted(sorted_cats, sorted_cats, side="left")
    slot = np.empty(len(cats), dtype=np.int64)
    slot[order] = np.arange(len(cats)) - start
    return ((day + 1) << _DAY_SHIFT) | (cats << _CAT_SHIFT) | slot


def list_products(m: Market, owner, cats, markup, *, fba, own, private, day) -> NDArray[np.int64]:
    """List new products of sellers ``owner`` (rows) in categories ``cats``; returns their
    rows. A product's key is a hash of its seller's key and its ordinal among the seller's
    listings, and its quality, cost and stocking are drawn from that key."""
    book = m.sellers
    owner = np.asarray(owner, dtype=np.int64)
    order = np.argsort(owner, kind="stable")
    start = np.searchsorted(owner[order], owner[order], side="left")
    ordinal = np.empty(len(owner), dtype=np.int64)
    ordinal[order] = np.arange(len(owner)) - start
    ordinal += book.col("n_products")[owner]
    draws = m.streams.keyed("products")
    key = m.streams.keyed("product_id").bits(book.col("key")[owner], ordinal).view(np.int64)
    quality, cost, price = new_product_terms(
        m.category_price, cats, markup, m.config, draws.uniform(key, 0), draws.normal(key, 1)
    )
    lg = m.config.logistics
    masks = logistics.stock_masks(
        draws.uniform(key[:, None], 2, np.arange(lg.n_centres)), lg.stock_share
    )
    kernels.add_at(book.col("n_products"), owner, 1)
    return m.products.append(
        len(cats),
        key=key,
        seller=owner,
        category=cats,
        quality=quality,
        unit_cost_cents=cost,
        price_cents=price,
        fba=fba,
        stock_mask=masks,
        own=own,
        private_label=private,
        listed_day=day,
    )


def budget_for(m: Market, price: NDArray[np.int64], cats: NDArray) -> NDArray[np.int64]:
    """Daily budget: a share of the revenue a campaign's product can expect."""
    c = m.config
    per_cat_needs = c.market.population * c.customers.need_rate_per_day / m.n_categories
    listed = np.bincount(
        m.products.col("category")[m.products.col("active")], minlength=m.n_categories
    )
    units = _EXPECTED_UNIT_SHARE * per_cat_needs / np.maximum(listed[cats], 1)
    budget = c.ads.budget_share_of_revenue * units * price
    return np.maximum(np.rint(budget), c.ads.min_daily_budget_cents).astype(np.int64)


def start_campaigns(m: Market, seller_rows: NDArray[np.int64], day: int) -> NDArray[np.int64]:
    """One sponsored-product campaign per listed product of each advertising seller; a
    seller's campaigns share its strategy and target ACoS. Returns the new campaign rows."""
    if len(seller_rows) == 0:
        return _NONE
    a = m.config.ads
    draws = m.streams.keyed("advertisers")
    who = m.sellers.col("key")[seller_rows]
    strategy = np.where(
        draws.uniform(who, 0) < _VALUE_BIDDER_SHARE, BidStrategy.VALUE, BidStrategy.TARGET_ACOS
    )
    z = draws.normal(who, 1)
    paced = draws.uniform(who, 2) < a.paced_share
    target = np.clip(a.target_acos_mean + a.target_acos_sd * z, _TARGET_ACOS_LO, _TARGET_ACOS_HI)
    p = m.products
    products = np.flatnonzero(np.isin(p.col("seller"), seller_rows) & p.col("active"))
    owner = np.searchsorted(seller_rows, p.col("seller")[products])
    cats = p.col("category")[products]
    rows = m.ads.append(
        len(products),
        key=p.col("key")[products],
        seller=seller_rows[owner],
        category=cats,
        product=products,
        strategy=strategy[owner],
        target_acos=target[owner],
        budget_cents=budget_for(m, p.col("price_cents")[products], cats),
        pacing=1.0,
        paced=paced[owner],
    )
    rebid(m, rows)
    return rows


def enter(
    m: Market, cats: NDArray[np.int64], day: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Add third-party sellers in categories ``cats`` with their products and campaigns;
    returns the new seller rows and campaign rows. Each entrant's traits are drawn from
    its key (:func:`seller_keys`)."""
    s = m.config.sellers
    n = len(cats)
    if n == 0:
        return _NONE, _NONE
    key = seller_keys(cats, day)
    draws = m.streams.keyed("sellers")
    markup = s.markup_rate * np.exp(_MARKUP_SIGMA * draws.normal(key, 0))
    fba = draws.uniform(key, 1) < s.fba_initial_share
    advertises = draws.uniform(key, 2) < m.config.ads.advertiser_share
    stagger = (draws.bits(key, 3) >> np.uint64(33)).astype(np.int64)
    patience = np.maximum(
        1, np.rint(s.exit_loss_days * np.exp(s.exit_patience_sigma * draws.normal(key, 5)))
    )
    reserve = (
        s.reserve_days
        * s.daily_fixed_cost_cents
        * lognormal_mean_one(draws.normal(key, 6), _RESERVE_SIGMA)
    )
    # the starting cohort entered at varied dates before day 0, and holds what it
    # earned since beside its reserve
    age = np.floor(draws.uniform(key, 7) * (s.initial_age_max_days + 1)) if day == 0 else 0
    reserve = reserve + s.initial_earnings_per_day_cents * age
    rows = m.sellers.append(
        n,
        key=key,
        stagger=stagger,
        patience_days=patience.astype(np.int32),
        reserve_cents=np.rint(reserve).astype(np.int64),
        category=cats,
        entry_day=day - np.asarray(age, dtype=np.int64),
        fba=fba,
        advertises=advertises,
        markup=markup,
    )
    n_prod = 1 + draws.poisson(s.products_per_seller - 1.0, key, 4)
    owner = np.repeat(rows, n_prod)
    list_products(
        m,
        owner,
        np.repeat(cats, n_prod),
        np.repeat(markup, n_prod),
        fba=np.repeat(fba, n_prod),
        own=np.zeros(len(owner), bool),
        private=np.zeros(len(owner), bool),
        day=day,
    )
    return rows, start_campaigns(m, rows[advertises], day)


def _exit(m: Market, rows: NDArray[np.int64]) -> NDArray[np.int64]:
    """Sellers ``rows`` leave with their products and campaigns; returns the campaigns."""
    if len(rows) == 0:
        return _NONE
    book = m.sellers
    book.col("active")[rows] = False
    book.col("exit_day")[rows] = m.day
    p = m.products
    p.col("active")[np.isin(p.col("seller"), rows)] = False
    gone = np.isin(m.ads.col("seller"), rows)
    m.ads.col("active")[gone] = False
    return np.flatnonzero(gone)


def _reprice(m: Market, due: NDArray[np.int64]) -> None:
    s = m.config.sellers
    book = m.sellers
    p = m.products
    n_cat = m.n_categories
    cats = book.col("category")[due].astype(np.int64)
    third = book.col("active") & ~book.col("is_platform")
    cat_all = book.col("category")[third].astype(np.int64)
    mean_units = np.bincount(
        cat_all, weights=book.col("units_recent")[third], minlength=n_cat
    ) / np.maximum(np.bincount(cat_all, minlength=n_cat), 1)
    gap = book.col("units_recent")[due] / np.maximum(mean_units[cats], 1e-9) - 1.0
    markup = book.col("markup")[due] * np.exp(_MARKUP_LOG_STEP * np.clip(gap, -1.0, 1.0))
    markup = np.clip(markup, s.min_markup_rate, _MARKUP_CAP * max(s.markup_rate, 0.01))
    book.col("markup")[due] = markup
    # going price-to-cost ratio per category among listed third-party products
    live = p.col("active") & (p.col("seller") != PLATFORM_SELLER)
    ratio = p.col("price_cents")[live] / np.maximum(p.col("unit_cost_cents")[live], 1)
    pc = p.col("category")[live].astype(np.int64)
    going = np.bincount(pc, weights=ratio, minlength=n_cat) / np.maximum(
        np.bincount(pc, minlength=n_cat), 1
    )
    mine = np.isin(p.col("seller"), due) & p.col("active")
    owner = p.col("seller")[mine]
    idx_in_due = np.searchsorted(due, owner)
    p.col("price_cents")[mine] = reprice(
        p.col("unit_cost_cents")[mine],
        markup[idx_in_due],
        going[p.col("category")[mine].astype(np.int64)],
        s.competitive_weight,
        s.min_markup_rate,
    )


def _review_fulfilment(m: Market, due: NDArray[np.int64]) -> None:
    c = m.config
    book = m.sellers
    p = m.products
    live = p.col("active") & (p.col("seller") != PLATFORM_SELLER)
    pc = p.col("category")[live].astype(np.int64)
    fba = p.col("fba")[live]
    units = p.col("units_recent")[live]
    n = m.n_categories
    fba_mean = np.bincount(pc[fba], weights=units[fba], minlength=n) / np.maximum(
        np.bincount(pc[fba], minlength=n), 1
    )
    self_mean = np.bincount(pc[~fba], weights=units[~fba], minlength=n) / np.maximum(
        np.bincount(pc[~fba], minlength=n), 1
    )
    uplift = np.where(self_mean > 0, fba_mean / np.maximum(self_mean, 1e-9) - 1.0, _DEFAULT_UPLIFT)
    uplift = np.clip(uplift, _UPLIFT_LO, _UPLIFT_HI)
    cats = book.col("category")[due].astype(np.int64)
    # seller-level averages of its products
    mine = np.isin(p.col("seller"), due) & p.col("active")
    owner_idx = np.searchsorted(due, p.col("seller")[mine])
    k = len(due)
    cnt = np.maximum(np.bincount(owner_idx, minlength=k), 1)
    price = np.bincount(owner_idx, weights=p.col("price_cents")[mine], minlength=k) / cnt
    cost = np.bincount(owner_idx, weights=p.col("unit_cost_cents")[mine], minlength=k) / cnt
    choice = fulfilment_choice(
        book.col("units_recent")[due],
        price,
        cost,
        book.col("fba")[due],
        uplift[cats],
        c.fees.fulfilment_fee_cents,
        c.fees.fulfilment_fee_rate,
        c.sellers.self_ship_cost_rate,
    )
    book.col("fba")[due] = choice
    p.col("fba")[mine] = choice[owner_idx]


def close_day(m: Market, today: SellerDay, ledger: Ledger, draws: Keyed) -> Changes:
    """Book the sellers' day, then exits, repricing, fulfilment reviews and entry.

    Parameters
    ----------
    m
        The market.
    today
        The sellers' takings from delivery.
    ledger
        Today's totals.
    draws
        The entry stream: the number of entrants is keyed by (day, category).
    """
    s = m.config.sellers
    book = m.sellers
    d = m.day
    active = book.col("active")
    third = active & ~book.col("is_platform")
    ad_spend = np.bincount(
        m.ads.col("seller").astype(np.int64),
        weights=m.ads.col("spend_today_cents"),
        minlength=len(book),
    )
    ad_spend = np.rint(ad_spend).astype(np.int64)
    fixed = np.where(third, s.daily_fixed_cost_cents, 0)
    book.col("ad_spend_cents")[:] += ad_spend
    book.col("fixed_cost_cents")[:] += fixed
    profit = (
        today.revenue_cents
        - today.referral_fees_cents
        - today.fulfilment_fees_cents
        - today.cogs_cents
        - today.shipping_cost_cents
        - ad_spend
        - fixed
    )
    profit = np.rint(profit).astype(np.int64)
    book.col("profit_cents")[:] += profit
    ledger.seller_profit_cents = float(profit[third].sum())
    ledger.seller_net_receipts_cents = float(
        (today.revenue_cents - today.referral_fees_cents - today.fulfilment_fees_cents - ad_spend)[
            ~book.col("is_platform")
        ].sum()
    )
    ledger.ad_spend_cents = float(ad_spend.sum())
    book.col("profit_recent")[:] += (profit - book.col("profit_recent")) / EWMA_DAYS
    book.col("units_recent")[:] += (today.units - book.col("units_recent")) / EWMA_DAYS
    losing = third & (book.col("profit_recent") < 0)
    book.col("loss_days")[:] = np.where(losing, book.col("loss_days") + 1, 0)
    # exit after losses sustained beyond the seller's own patience, or once its cash
    # (reserve plus profit since entry) runs out; none while entry and exit are frozen
    moving = not m.config.flywheel.holds(LoopChannel.SELLER_ENTRY, d, m.config.run.burn_in_days)
    broke = book.col("reserve_cents") + book.col("profit_cents") < 0
    tired = book.col("loss_days") >= book.col("patience_days")
    leave = np.flatnonzero(third & losing & (tired | broke)) if moving else _NONE
    gone_campaigns = _exit(m, leave)
    ledger.sellers_exited = float(len(leave))
    # repricing and fulfilment choice (staggered by seller row; none while frozen)
    fw, burn = m.config.flywheel, m.config.run.burn_in_days
    stagger = book.col("stagger")
    due = np.flatnonzero(third & (stagger % s.reprice_days == d % s.reprice_days))
    if len(due) and not fw.holds(LoopChannel.SELLER_PRICING, d, burn):
        _reprice(m, due)
    cycle = s.fulfilment_review_days
    due = np.flatnonzero(third & (stagger % cycle == d % cycle))
    if len(due) and d > 0 and not fw.holds(LoopChannel.FULFILMENT_CHOICE, d, burn):
        _review_fulfilment(m, due)
    # entry: reviews decide the entrants, who launch over the following review period
    if moving and d > 0 and d % s.entry_review_days == 0:
        _queue_entrants(m, draws)
    new_sellers, new_campaigns = _NONE, _NONE
    if moving and len(m.queued_launch_days):
        due = m.queued_launch_days == d
        new_sellers, new_campaigns = enter(m, m.queued_categories[due], d)
        m.queued_categories = m.queued_categories[~due]
        m.queued_launch_days = m.queued_launch_days[~due]
        ledger.sellers_entered = float(due.sum())
    return Changes(new_sellers, new_campaigns, leave, gone_campaigns)


def _queue_entrants(m: Market, draws: Keyed) -> None:
    """An entry review: the entrants per category, each with its launch day, drawn
    uniformly over the review period from its identity, so that entrants do not
    arrive (and later leave) as one cohort."""
    s = m.config.sellers
    book = m.sellers
    d = m.day
    # an entrant expects an even share (with the incumbents) of the category's
    # realised margin after ad spend, less its own fixed cost
    third = book.col("active") & ~book.col("is_platform")
    cats = book.col("category")[third].astype(np.int64)
    margin = book.col("profit_recent")[third] + s.daily_fixed_cost_cents
    pool = np.bincount(cats, weights=margin, minlength=m.n_categories)
    cnt = np.bincount(cats, minlength=m.n_categories)
    exp_profit = np.where(cnt > 0, pool / (cnt + 1) - s.daily_fixed_cost_cents, 0.0)
    n_new = entrants_per_category(
        exp_profit,
        s.entry_horizon_days,
        s.entry_cost_cents,
        s.entry_rate,
        s.max_entrants_per_category,
        draws.uniform(d, np.arange(m.n_categories)),
    )
    new_cats = np.repeat(np.arange(m.n_categories), n_new)
    lag = m.streams.keyed("sellers").uniform(seller_keys(new_cats, d), _LAUNCH_SLOT)
    launch = d + np.floor(lag * s.entry_review_days).astype(np.int64)
    m.queued_categories = np.concatenate([m.queued_categories, new_cats])
    m.queued_launch_days = np.concatenate([m.queued_launch_days, launch])
