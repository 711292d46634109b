"""The ``advertisers`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

import numpy as np
from phase_market import market

from sim.day import advertisers
from sim.day.state import Ledger


def test_advertisers_pace_down_after_running_out() -> None:
    """A paced campaign that spent its whole budget throttles; an unpaced one keeps
    bidding in every auction (until its budget runs out again); day spend resets."""
    m, _ = market()
    ads = m.ads
    paced, unpaced = np.flatnonzero(ads.col("paced")), np.flatnonzero(~ads.col("paced"))
    assert len(paced) > 0 and len(unpaced) > 0
    rows = [paced[0], unpaced[0]]
    ads.col("spend_today_cents")[rows] = ads.col("budget_cents")[rows]
    pacing = ads.col("pacing")[paced[0]]
    ledger = Ledger()
    advertisers.close_day(m, ledger)
    assert ads.col("pacing")[paced[0]] < pacing
    assert ads.col("pacing")[unpaced[0]] == 1.0
    assert ledger.ad_budget_exhausted >= 2
    assert (ads.col("spend_today_cents") == 0).all()


def test_each_placement_is_bid_on_its_own_return() -> None:
    """A campaign whose opened answer-slot picks never sell bids less for answer slots
    than for search; one whose picks sell half the time bids more. Search bids use only
    search clicks and sales (the same prior here), so they are equal."""
    m, _ = market()
    ads = m.ads
    a, b = 0, 1
    for row, conversions in ((a, 0), (b, 100)):
        ads.col("clicks")[row] = ads.col("assistant_clicks")[row] = 200
        ads.col("conversions")[row] = ads.col("assistant_conversions")[row] = conversions
    ads.col("product")[b] = ads.col("product")[a]
    ads.col("strategy")[b] = ads.col("strategy")[a]
    ads.col("target_acos")[b] = ads.col("target_acos")[a]
    advertisers.rebid(m, np.array([a, b]))
    bid, answer_bid = ads.col("bid_cents"), ads.col("assistant_bid_cents")
    assert bid[a] == bid[b] > 0
    assert answer_bid[a] < bid[a] < answer_bid[b]


def test_a_zero_prior_weight_gives_the_prior_rate_not_nan() -> None:
    """With ``ads.prior_clicks = 0`` a campaign without clicks has the prior conversion
    rate (a fuzzed config found 0/0 = NaN bids); one with clicks has its own rate; the
    day's close leaves every bid a whole, non-negative number of cents."""
    m, _ = market(ads__prior_clicks=0.0)
    ads = m.ads
    a = m.config.ads
    with np.errstate(all="raise"):
        rate = ads.search_conversion_rate(a.prior_conversion_rate, 0.0)
        assert (rate == a.prior_conversion_rate).all()
        ads.col("clicks")[0], ads.col("conversions")[0] = 4, 1
        assert ads.search_conversion_rate(a.prior_conversion_rate, 0.0)[0] == 0.25
        assisted = ads.assistant_conversion_rate(a.prior_conversion_rate, 0.0)
        assert (assisted == a.prior_conversion_rate).all()
        advertisers.close_day(m, Ledger())
    assert (ads.col("bid_cents") >= 0).all()
