"""The map's property layers for the visualiser: platform share, Prime share, delivery days.

Kept on the model's Mesa grid (``grid.platform_share`` etc., one value per
region, ``region = y * width + x``) only when the model is built with
``map_layers=True``; no table reads them.
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import OrthogonalMooreGrid
from numpy.typing import NDArray

from agents.customer import CustomerPopulation
from sim.day.delivery import EWMA_DAYS
from sim.day.state import Network, Sessions

__all__ = ["LAYERS", "MapLayers", "set_layer"]

LAYERS = ("density", "platform_share", "prime_share", "delivery_days")


def set_layer(grid: OrthogonalMooreGrid, name: str, values: NDArray[np.float64]) -> None:
    """Write per-region ``values`` into the grid's property layer ``name``."""
    width, height = grid.dimensions
    layer = getattr(grid, name)
    layer.data[:, :] = np.asarray(values, dtype=float).reshape(height, width).T


class MapLayers:
    """The layers of one grid, with the 30-day smoothing of the platform share."""

    def __init__(self, grid: OrthogonalMooreGrid, density: NDArray[np.float64]) -> None:
        self.grid = grid
        for name in LAYERS:
            grid.create_property_layer(name, default_value=0.0, dtype=float)
        set_layer(grid, "density", density)
        self._platform = np.zeros(len(density))
        self._purchases = np.zeros(len(density))

    def update(self, s: Sessions, pop: CustomerPopulation, net: Network) -> None:
        """Fold today's purchases in and redraw the layers."""
        r = len(self._platform)
        reg = pop.region[s.cust]
        decay = 1.0 - 1.0 / EWMA_DAYS
        self._platform = self._platform * decay + np.bincount(reg[s.product >= 0], minlength=r)
        self._purchases = self._purchases * decay + np.bincount(
            reg[(s.product >= 0) | s.rival], minlength=r
        )
        tot = self._purchases
        share = np.where(tot > 0, self._platform / np.where(tot > 0, tot, 1.0), np.nan)
        set_layer(self.grid, "platform_share", share)  # 30-day smoothed, as the map shows it
        mem = np.bincount(pop.region, weights=pop.member(), minlength=r)
        cnt = np.bincount(pop.region, minlength=r)
        set_layer(self.grid, "prime_share", np.where(cnt > 0, mem / np.maximum(cnt, 1), np.nan))
        set_layer(self.grid, "delivery_days", net.region_fba_days)
