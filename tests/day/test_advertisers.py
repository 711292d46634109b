"""The ``advertisers`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

from phase_market import market

from sim.day import advertisers
from sim.day.state import Ledger


def test_advertisers_pace_down_after_running_out() -> None:
    """A campaign that spent its whole budget throttles; every campaign's day spend resets."""
    m, _ = market()
    ads = m.ads
    assert len(ads) > 0
    ads.col("spend_today_cents")[0] = ads.col("budget_cents")[0]
    pacing = ads.col("pacing")[0]
    ledger = Ledger()
    advertisers.close_day(m, ledger)
    assert ads.col("pacing")[0] < pacing
    assert ledger.ad_budget_exhausted >= 1
    assert (ads.col("spend_today_cents") == 0).all()
