"""The ``search_ads`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

import numpy as np
from phase_market import market, through

from sim.day.state import PAGE, Ledger


def test_search_charges_exactly_the_ad_clicks_it_counts() -> None:
    """Campaign spend added by search equals the search ad revenue in the ledger; the page
    block holds only clicked items of the session's category."""
    m, streams = market()
    before = m.ads.col("spend_today_cents").sum()
    ledger = Ledger()
    s = through("search", m, streams, ledger)
    assert ledger.clicks > 0 and ledger.ad_clicks > 0
    assert m.ads.col("spend_today_cents").sum() - before == ledger.ad_revenue_search_cents
    page = s.consider[:, PAGE]
    seen = page >= 0
    cats = m.products.col("category")[page[seen]]
    np.testing.assert_array_equal(cats, np.broadcast_to(s.cat[:, None], page.shape)[seen])
    assert not (s.consider[~s.platform] >= 0).any()
