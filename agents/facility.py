"""Fulfilment centres and delivery stations, placed on the model's grid.

They are fixed Mesa agents (``mesa.discrete_space.FixedAgent``) so that the
visualiser draws them on the map; the logistics arithmetic itself lives in
``sim.logistics`` and works on arrays.
"""

from __future__ import annotations

import mesa
from mesa.discrete_space import Cell, FixedAgent

__all__ = ["DeliveryStation", "FulfilmentCentre"]


class FulfilmentCentre(FixedAgent):
    """A fulfilment centre: stocks platform-fulfilled items, serves nearby stations."""

    def __init__(self, model: mesa.Model, cell: Cell, region: int, index: int) -> None:
        super().__init__(model)
        self.cell = cell
        self.region = region
        self.index = index


class DeliveryStation(FixedAgent):
    """A delivery station: last-mile hub with a daily parcel capacity."""

    def __init__(
        self,
        model: mesa.Model,
        cell: Cell,
        region: int,
        index: int,
        centre: int,
        opened_day: int,
        capacity: int,
    ) -> None:
        super().__init__(model)
        self.cell = cell
        self.region = region
        self.index = index
        self.centre = centre
        self.opened_day = opened_day
        self.capacity = capacity
