"""The ``search_ads`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from phase_market import market, through

from sim.day import search_ads
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


def test_batches_are_the_sessions_by_their_place_in_the_day() -> None:
    """Session ``i`` of ``n`` is in batch ``(i * batches) // n``: the batches hold every
    session once, in order, for any number of sessions and batches (none included)."""
    m, _ = market()
    for n_batches in (1, 3, 4, 7):
        config = m.config.evolve({"ads.batches_per_day": n_batches})
        for n in (0, 1, 5, 13, 1000, 1001):
            s = SimpleNamespace(n=n)
            got = search_ads.batches(SimpleNamespace(config=config), s)  # type: ignore[arg-type]
            batch_of = (np.arange(n) * n_batches) // max(n, 1)
            want = [np.flatnonzero(batch_of == b) for b in range(n_batches)]
            assert len(got) == n_batches
            for g, w in zip(got, want, strict=True):
                np.testing.assert_array_equal(g, w)
