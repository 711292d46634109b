"""The ``record`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

import numpy as np
from phase_market import market, sessions_of

from sim.day import record
from sim.day.state import Ledger


def test_record_of_a_day_without_orders_has_nan_ratios_and_causal_differences() -> None:
    """No orders: per-order ratios are NaN; causal columns are today minus the counterfactual."""
    m, streams = market()
    s = sessions_of(m, streams)
    s.online = np.zeros(s.n, bool)
    s.external = np.zeros(s.n, bool)
    row = record.daily_row(m, s, Ledger(), None)
    assert np.isnan(row["avg_price_cents"]) and row["orders"] == 0
    assert row["causal_revenue_cents"] is None
    twin = dict(row, gmv_cents=-5, orders=-2, platform_margin_cents=0)
    row = record.daily_row(m, s, Ledger(), twin)
    assert row["causal_revenue_cents"] == 5 and row["causal_orders"] == 2
