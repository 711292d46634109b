"""The rival retailer: the customers' outside option.

It sells a typical item of every category at ``price_index`` times the
category reference price (with daily noise per category from its own random
stream, keyed by (day, category), so paired runs see the same rival prices),
of quality ``quality``, delivered in ``delivery_days``.
"""

from __future__ import annotations

import mesa
import numpy as np
from numpy.typing import NDArray

from sim.config import RivalSection
from sim.rng import Keyed

__all__ = ["Rival"]


class Rival(mesa.Agent):
    """The outside option: a rival retailer with its own price index and delivery time."""

    def __init__(
        self, model: mesa.Model, terms: RivalSection, n_categories: int, draws: Keyed
    ) -> None:
        super().__init__(model)
        self.terms = terms
        self._draws = draws
        self.n_categories = n_categories
        self.price_index_today: NDArray[np.float64] = np.full(n_categories, terms.price_index)

    def quote(self, day: int) -> NDArray[np.float64]:
        """Today's price index per category (one normal per day and category)."""
        z = self._draws.normal(day, np.arange(self.n_categories))
        self.price_index_today = self.terms.price_index * np.exp(self.terms.price_noise_sd * z)
        return self.price_index_today
