"""The ``ranking`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

import numpy as np
from phase_market import market

from sim.day import ranking


def test_ranking_lists_only_active_products_of_each_category() -> None:
    """The shelf ranks listed products in their own category and never a delisted one."""
    m, streams = market()
    p = m.products
    p.col("active")[0] = False
    shelf = ranking.rank(m.config, p, m.ads, m.category_price, streams.keyed("ranking"), 0)
    ranked = shelf.ranked
    ok = ranked >= 0
    assert not (ranked == 0).any()
    cats = np.broadcast_to(np.arange(m.n_categories)[:, None], ranked.shape)
    np.testing.assert_array_equal(p.col("category")[ranked[ok]], cats[ok])
