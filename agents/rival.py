"""The rival retailer: the customers' outside option, with a flywheel of its own.

It sells a typical item of every category at a price index times the
category reference price, of quality ``quality``. Three things move:

- **prices**: every ``review_days`` after burn-in the rival compares its
  share of purchases (30-day average) with its share at the end of burn-in
  and moves its price level by ``price_response`` times the relative
  shortfall in logs (at most ``max_price_step`` per review): it cuts prices
  when it loses share and raises them again when it regains it, between
  ``cost_index`` and 1 times its list level. A scheduled
  ``rival.price_index`` (the scenario ``rival_price_cut``) sets the list
  level this multiplies, so a scheduled cut lowers prices on top of the
  rival's own reviews. Daily noise per
  category is keyed by (day, category), so paired runs see the same noise;
- **delivery**: its delivery days scale with its volume (30-day average of
  its orders against the end of burn-in) with elasticity
  ``-scale_elasticity`` (between half and twice ``delivery_days``);
- **selection**: its selection value changes by ``scale_elasticity`` times
  the log of the same volume ratio, in category prices (the counterpart of
  the platform's selection value, :mod:`sim.day.ranking`).

So the rival has its own, weaker flywheel: volume brings speed and
selection, share losses bring price cuts. ``flywheel.freeze`` with
``rival_response`` holds all three at their state of the freeze day.
"""

from __future__ import annotations

import dataclasses
import math

import mesa
import numpy as np
from numpy.typing import NDArray

from sim.config import RivalSection
from sim.rng import Keyed

__all__ = ["Rival", "RivalOffer"]

#: Days of the rival's averages of volume and share.
_EWMA_DAYS = 30.0
#: Bounds of delivery days relative to ``rival.delivery_days``.
_DAYS_LO, _DAYS_HI = 0.5, 2.0


@dataclasses.dataclass(frozen=True)
class RivalOffer:
    """What the rival offers today."""

    #: price index per category (its prices over the category reference prices)
    price_index: NDArray[np.float64]
    #: delivery days of a rival order
    delivery_days: float
    #: change of its selection value since burn-in, in category prices
    selection: float


class Rival(mesa.Agent):
    """The outside option: a rival retailer that defends its share and scales.

    Parameters
    ----------
    model
        The Mesa model.
    terms
        The rival's terms in force (``rival`` section).
    n_categories
        Number of categories.
    draws
        The rival stream (price noise keyed by (day, category)).
    burn_in_days
        The rival takes its reference share and volume at the end of burn-in.
    """

    def __init__(
        self,
        model: mesa.Model,
        terms: RivalSection,
        n_categories: int,
        draws: Keyed,
        burn_in_days: int,
    ) -> None:
        super().__init__(model)
        self.terms = terms
        self._draws = draws
        self.n_categories = n_categories
        self.burn_in_days = burn_in_days
        #: multiplier on ``terms.price_index`` set by the rival's price reviews
        self.price_level = 1.0
        #: 30-day averages of its daily orders and of its share of purchases
        self.volume: float | None = None
        self.share: float | None = None
        self.volume_ref: float | None = None
        self.share_ref: float | None = None
        self.delivery_days_today = terms.delivery_days
        self.selection = 0.0
        self.price_index_today: NDArray[np.float64] = np.full(n_categories, terms.price_index)
        #: while true (``flywheel.freeze`` holding ``rival_response``) reviews change nothing
        self.frozen = False

    def quote(self, day: int) -> RivalOffer:
        """Today's offer: price index per category (one normal per day and category),
        delivery days and selection."""
        t = self.terms
        z = self._draws.normal(day, np.arange(self.n_categories))
        level = t.price_index * self.price_level
        self.price_index_today = level * np.exp(t.price_noise_sd * z)
        return RivalOffer(self.price_index_today, self.delivery_days_today, self.selection)

    def close_day(self, day: int, rival_orders: float, platform_orders: float) -> None:
        """Update volume and share with today's purchases; review prices, delivery and
        selection (after burn-in, every ``review_days``)."""
        t = self.terms
        total = rival_orders + platform_orders
        share_today = rival_orders / total if total > 0 else (self.share or 0.0)
        if self.volume is None or self.share is None:
            self.volume, self.share = float(rival_orders), float(share_today)
        else:
            self.volume += (rival_orders - self.volume) / _EWMA_DAYS
            self.share += (share_today - self.share) / _EWMA_DAYS
        if day + 1 < self.burn_in_days:
            return
        if self.volume_ref is None or self.share_ref is None:
            self.volume_ref, self.share_ref = max(self.volume, 1e-9), max(self.share, 1e-9)
            return
        if (day + 1) % t.review_days or self.frozen:
            return
        shortfall = (self.share_ref - self.share) / self.share_ref
        step = float(np.clip(t.price_response * shortfall, -t.max_price_step, t.max_price_step))
        self.price_level = min(1.0, max(t.cost_index, self.price_level * math.exp(-step)))
        ratio = max(self.volume, 1e-9) / self.volume_ref
        days = t.delivery_days * ratio ** (-t.scale_elasticity)
        self.delivery_days_today = float(
            np.clip(days, _DAYS_LO * t.delivery_days, _DAYS_HI * t.delivery_days)
        )
        self.selection = t.scale_elasticity * math.log(ratio)
