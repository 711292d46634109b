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

from agents.advertiser import AdvertiserBook
from agents.seller import Catalogue
from sim import search
from sim.config import Config
from sim.day.state import Shelf
from sim.fees import pays_shipping
from sim.rng import Keyed

__all__ = ["HEAD", "rank"]

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
    )
