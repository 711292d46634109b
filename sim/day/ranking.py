"""Phase 0 (each morning): organic ranking and the category signals customers expect.

Ratings are the review means shrunk to the prior; organic scores combine
relevance, sales rank, self-preferencing, the Prime boost and noise
(:func:`sim.search.organic_scores`). From the head of each category's
ranking (its first five products) come the signals channel choice uses: price
index, rating, fulfilled share and the share of items a non-member pays
shipping on. The mean live bid per category scales the assistant's ad tilt.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from agents.advertiser import AdvertiserBook
from agents.seller import Catalogue
from sim import search
from sim.config import Config, LoopChannel
from sim.day.state import Market, Shelf
from sim.fees import pays_shipping
from sim.rng import Keyed

__all__ = ["HEAD", "rank", "selection_value", "settle_selection"]

#: How many top products of a category form the signal customers expect.
HEAD = 5


def rank(
    cfg: Config,
    products: Catalogue,
    ads: AdvertiserBook,
    category_price: np.ndarray,
    draws: Keyed,
    day: int,
) -> Shelf:
    """Today's shelf: ratings, ranking per category and category signals.

    Parameters
    ----------
    cfg
        The config in force.
    products, ads
        The catalogue and the campaigns.
    category_price
        Reference price per category (cents).
    draws, day
        The ranking stream and the day: one normal per (day, product).
    """
    p = products
    n_categories = len(category_price)
    cat_cfg = cfg.catalogue
    rating = p.rating(cat_cfg.review_prior_mean, cat_cfg.review_prior_count)
    noise = draws.normal(day, p.col("key"))
    score = search.organic_scores(
        rating,
        p.col("units_recent"),
        p.col("own"),
        p.col("fba"),
        noise,
        relevance_weight=cfg.search.relevance_weight,
        sales_rank_weight=cfg.search.sales_rank_weight,
        self_preference_weight=cfg.search.self_preference_weight,
        prime_boost=cfg.search.prime_boost,
        noise_sd=cfg.search.noise_sd,
    )
    top = max(cfg.search.page_slots, cfg.assistant.candidates)
    ranked = search.rank_by_category(
        p.col("category").astype(np.int64), score, p.col("active"), n_categories, top
    )
    head = ranked[:, :HEAD]
    ok = head >= 0
    safe = np.maximum(head, 0)
    cnt = np.maximum(ok.sum(axis=1), 1)
    P = category_price.astype(np.float64)
    price = p.col("price_cents")[safe]
    below = ok & pays_shipping(price, p.col("fba")[safe], cfg.prime.free_shipping_threshold_cents)
    live = ads.col("active")
    cats = ads.col("category")[live].astype(np.int64)
    s = np.bincount(cats, weights=ads.col("bid_cents")[live], minlength=n_categories)
    n = np.bincount(cats, minlength=n_categories)
    return Shelf(
        rating=rating,
        ranked=ranked,
        cat_price_index=np.where(ok, price, 0).sum(axis=1) / cnt / P,
        cat_quality=np.where(ok, rating[safe], 0).sum(axis=1) / cnt,
        cat_fba_share=np.where(ok, p.col("fba")[safe], 0).sum(axis=1) / cnt,
        cat_ship_share=below.sum(axis=1) / cnt * cfg.prime.shipping_fee_cents / P,
        category_mean_bid=np.where(n > 0, s / np.maximum(n, 1), 1.0),
        cat_selection=selection_value(cfg, p, rating, category_price),
    )


def selection_value(
    cfg: Config, products: Catalogue, rating: NDArray[np.float64], category_price: NDArray
) -> NDArray[np.float64]:
    """Each category's selection value: the logit inclusive value of its listed offers
    for a customer of mean traits, ``log(sum_j exp(mu * v_j)) / mu`` in category prices,
    with ``v_j`` the offer's rated quality against its price. It is the expected best
    offer, so it grows with more and better-matched offers (0 offers: -inf is avoided
    by an empty category's value of ``-value_base``)."""
    p = products
    c = cfg.customers
    mu = c.price_sensitivity_mean
    cat = p.col("category").astype(np.int64)
    live = p.col("active") & (cat >= 0)
    P = category_price.astype(np.float64)
    v = (
        c.value_base
        + c.quality_taste_mean * rating[live]
        - p.col("price_cents")[live] / P[cat[live]]
    )
    n = len(category_price)
    top = np.full(n, -np.inf)
    np.maximum.at(top, cat[live], v)
    safe_top = np.where(np.isfinite(top), top, 0.0)
    total = np.bincount(cat[live], weights=np.exp(mu * (v - safe_top[cat[live]])), minlength=n)
    return np.where(total > 0, safe_top + np.log(np.maximum(total, 1e-300)) / mu, -c.value_base)


def settle_selection(m: Market, shelf: Shelf) -> None:
    """Set ``shelf.cat_selection_change``: the change of each category's selection value
    since day 0, or since the freeze day while ``flywheel.freeze`` holds
    ``selection_value`` (then the value of that day is kept)."""
    if m.selection_start is None:
        m.selection_start = shelf.cat_selection.copy()
    cfg = m.config
    if cfg.flywheel.holds(LoopChannel.SELECTION_VALUE, m.day, cfg.run.burn_in_days):
        if m.selection_hold is None:
            m.selection_hold = shelf.cat_selection.copy()
        shelf.cat_selection = m.selection_hold
    shelf.cat_selection_change = shelf.cat_selection - m.selection_start
