"""The ``network`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

import numpy as np
from phase_market import market

from sim.day import network
from sim.day.state import Ledger


def test_network_opens_a_station_where_demand_stays_high() -> None:
    """On a review day, an uncovered metro region with high orders gets a station."""
    m, _ = market()
    net = m.network
    lg = m.config.logistics
    uncovered = np.flatnonzero(
        (net.service.dist_cells > lg.same_day_radius_cells) & net.regions.is_metro
    )
    assert len(uncovered) > 0
    net.region_orders_ewma[uncovered[0]] = 1e6
    before = len(net.station_region)
    opened = network.expand(net, lg, lg.review_days, m.per_1k, Ledger())
    assert uncovered[0] in opened and len(net.station_region) > before
    assert net.service.dist_cells[uncovered[0]] == 0
    assert len(network.expand(net, lg, lg.review_days + 1, m.per_1k, Ledger())) == 0
