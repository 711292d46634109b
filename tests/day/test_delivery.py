"""The ``delivery`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

import numpy as np
from phase_market import market, through

from sim.day import delivery
from sim.day.state import Ledger


def test_delivery_conserves_money() -> None:
    """Customers pay GMV plus shipping fees; sellers' takings add up to GMV; DSI <= orders."""
    m, streams = market()
    ledger = Ledger()
    s = through("choice", m, streams, ledger)
    rival = np.full(m.n_categories, m.config.rival.price_index)
    takings = delivery.deliver(m, s, rival, ledger, streams.keyed("delivery"))
    assert ledger.orders == np.count_nonzero(s.product >= 0) > 0
    assert ledger.customer_payments_cents == ledger.gmv_cents + ledger.shipping_fees_cents
    assert takings.revenue_cents.sum() == ledger.gmv_cents
    assert ledger.dsi_orders <= ledger.orders
    assert m.customers.last_platform_day[s.cust[s.product >= 0]].max() == m.day
