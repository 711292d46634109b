"""Phase 10: the logistics network — station expansion and its costs.

Every ``logistics.review_days`` days the platform opens stations where the
30-day average of platform orders in a region not yet covered same-day stays
above the threshold (rural cells only under the rural-expansion policy;
:func:`sim.geography.choose_expansion`). Opening a station changes which
station serves each region, its promise and capacity (:func:`refresh`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim import geography, logistics
from sim.config import LogisticsSection
from sim.day.state import Ledger, Network

__all__ = ["expand", "open_stations", "refresh", "station_capacity"]


def station_capacity(lg: LogisticsSection, per_1k: float) -> int:
    """Orders a station handles per day at this market size."""
    return max(1, int(np.ceil(lg.station_capacity_per_1k * per_1k)))


def refresh(net: Network, lg: LogisticsSection, per_1k: float) -> None:
    """Recompute which station serves each region and the promise a member expects."""
    xy = net.regions.xy
    net.service = logistics.station_service(xy, xy[net.station_region], net.station_fc)
    net.station_capacity = np.full(len(net.station_region), station_capacity(lg, per_1k))
    dist = net.service.dist_cells
    net.region_fba_days = np.where(
        dist <= lg.same_day_radius_cells,
        (1 - lg.stock_share) * 1.0,
        np.where(dist <= lg.next_day_radius_cells, 1.0, float(lg.standard_days)),
    )
    net.same_day_region = dist <= lg.same_day_radius_cells


def open_stations(
    net: Network, regions: NDArray[np.int64], lg: LogisticsSection, per_1k: float
) -> NDArray[np.int64]:
    """Open stations in ``regions`` (each served by its nearest centre); returns their
    indices. The first call (no stations yet) sets up the service even with none."""
    start = len(net.station_region)
    if len(regions) == 0 and start > 0:
        return np.zeros(0, dtype=np.int64)
    xy = net.regions.xy
    _, fc = geography.nearest(xy[regions], xy[net.fc_region])
    net.station_region = np.concatenate([net.station_region, regions])
    net.station_fc = np.concatenate([net.station_fc, fc.astype(np.int64)])
    refresh(net, lg, per_1k)
    return np.arange(start, len(net.station_region), dtype=np.int64)


def expand(
    net: Network,
    lg: LogisticsSection,
    day: int,
    per_1k: float,
    ledger: Ledger,
    frozen: bool = False,
) -> NDArray[np.int64]:
    """The periodic expansion review; returns the regions of stations opened today.
    ``frozen`` (``flywheel.freeze`` holding ``logistics_expansion``) opens none."""
    ledger.stations_opened = 0.0
    ledger.capex_cents = 0.0
    new = np.zeros(0, dtype=np.int64)
    if not frozen and day > 0 and day % lg.review_days == 0 and lg.max_new_stations > 0:
        assert net.service is not None
        covered = net.service.dist_cells <= lg.same_day_radius_cells
        new = np.asarray(
            geography.choose_expansion(
                net.region_orders_ewma,
                covered,
                net.regions.is_metro,
                lg.expansion_threshold_per_1k * per_1k,
                lg.rural_expansion,
                lg.rural_threshold_factor,
                lg.max_new_stations,
                lg.station_min_spacing_cells,
                net.regions.xy,
            ),
            dtype=np.int64,
        )
        if len(new):
            open_stations(net, new, lg, per_1k)
            ledger.stations_opened = float(len(new))
            ledger.capex_cents = float(len(new) * round(lg.station_capex_cents_per_1k * per_1k))
    ledger.station_opex_cents = float(
        len(net.station_region) * round(lg.station_opex_cents_per_day_per_1k * per_1k)
    )
    return new
