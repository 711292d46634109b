"""Sellers and their products: third-party sellers and the platform's own retail arm.

State is columnar (:class:`Catalogue` for products, :class:`SellerBook` for
sellers) and every behaviour is vectorised over sellers. :class:`Seller` is
the Mesa agent face of one row (registered in ``model.agents``);
:class:`PlatformRetail` is the platform's own retail arm, seller 0, which
sells its own products and private-label ones in every category.

Behaviour:

- **Pricing** (every ``reprice_days``, staggered): a seller's markup rises
  when it sells more than its category's average seller and falls when it
  sells less (markup learning), and the price blends its own target
  ``cost * (1 + markup)`` with the category's going price-to-cost ratio
  (competitive repricing), never below ``cost * (1 + min_markup_rate)``.
- **Fulfilment** (every ``fulfilment_review_days``): a seller compares its
  expected daily profit with platform fulfilment (Prime badge, fast
  delivery, per-unit fee) and with self-fulfilment (own shipping cost),
  using the sales uplift of fulfilled over self-fulfilled products that it
  observes in its category.
- **Entry** (decided every ``entry_review_days``): per category, entrants
  arrive at a Poisson rate that grows with expected profit over the entry
  cost, launching over the following review period.
- **Exit**: after about ``exit_loss_days`` consecutive days (the seller's own
  patience) with negative smoothed profit, or once its cash runs out.
"""

from __future__ import annotations

import mesa
import numpy as np
from numpy.typing import NDArray
from scipy.special import betaincinv

from agents.table import RowView, Table, shrunk_mean
from sim.config import Config
from sim.rng import poisson_quantile

__all__ = [
    "Catalogue",
    "PlatformRetail",
    "Seller",
    "SellerBook",
    "entrants_per_category",
    "fulfilment_choice",
    "new_product_terms",
    "reprice",
]

PLATFORM_SELLER = 0
# lognormal spread of a new product's unit cost around its quality-implied cost
_COST_NOISE_SD = 0.15


class Catalogue(Table):
    """Every product ever listed (rows are never removed; ``active`` marks listed ones)."""

    def __init__(self) -> None:
        super().__init__(
            {
                "key": (np.int64, -1),
                "seller": (np.int32, -1),
                "category": (np.int16, -1),
                "quality": (np.float64, 0.0),
                "unit_cost_cents": (np.int64, 0),
                "price_cents": (np.int64, 0),
                "fba": (np.bool_, False),
                "stock_mask": (np.uint64, 0),
                "own": (np.bool_, False),
                "private_label": (np.bool_, False),
                "active": (np.bool_, True),
                "rating_sum": (np.float64, 0.0),
                # in market units (a simulated purchase or review stands for
                # ``Config.weight`` of the market's), so fractional
                "review_count": (np.float64, 0.0),
                "units_recent": (np.float64, 0.0),
                "units_total": (np.float64, 0.0),
                "listed_day": (np.int32, 0),
            },
            capacity=1024,
        )

    def rating(self, prior_mean: float, prior_count: float) -> NDArray[np.float64]:
        """Review mean shrunk toward the prior: new products with few reviews sit near it
        (with ``prior_count`` 0, a product without reviews has the prior mean).

        >>> c = Catalogue(); _ = c.append(2, review_count=[0, 2], rating_sum=[0.0, 1.8])
        >>> c.rating(0.5, 0.0).tolist()
        [0.5, 0.9]
        """
        return shrunk_mean(
            self.col("rating_sum"), self.col("review_count"), prior_mean, prior_count
        )


class SellerBook(Table):
    """Every seller ever active, with its accounts (integer cents)."""

    MONEY = (
        "revenue_cents",
        "referral_fees_cents",
        "fulfilment_fees_cents",
        "ad_spend_cents",
        "cogs_cents",
        "shipping_cost_cents",
        "fixed_cost_cents",
        "profit_cents",
    )

    def __init__(self) -> None:
        schema: dict = {
            "key": (np.int64, -1),
            "stagger": (np.int64, 0),
            "category": (np.int16, -1),
            "is_platform": (np.bool_, False),
            "active": (np.bool_, True),
            "entry_day": (np.int32, 0),
            "exit_day": (np.int32, -1),
            "fba": (np.bool_, False),
            "advertises": (np.bool_, False),
            "markup": (np.float64, 0.0),
            "n_products": (np.int32, 0),
            # units in market units (``Config.weight`` per simulated purchase)
            "units": (np.float64, 0.0),
            "units_recent": (np.float64, 0.0),
            "profit_recent": (np.float64, 0.0),
            "loss_days": (np.int32, 0),
            # the seller's own tolerance of sustained losses, and its cash reserve
            "patience_days": (np.int32, 90),
            "reserve_cents": (np.int64, 0),
        }
        schema.update({m: (np.int64, 0) for m in self.MONEY})
        super().__init__(schema, capacity=256)


def new_product_terms(
    category_price: NDArray[np.int64],
    categories: NDArray[np.integer],
    markup: NDArray[np.float64],
    cfg: Config,
    u_quality: NDArray[np.float64],
    z_cost: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Latent quality, unit cost and launch price of new products.

    Quality is the Beta(``quality_a``, ``quality_b``) quantile of the uniform
    ``u_quality``; cost rises with quality (``quality_cost_slope``) around
    ``unit_cost_share`` of the category price, with lognormal noise from the
    standard normal ``z_cost``; the launch price applies the seller's markup.
    """
    s = cfg.sellers
    quality = betaincinv(s.quality_a, s.quality_b, u_quality)
    base = category_price[categories] * s.unit_cost_share
    noise = np.exp(_COST_NOISE_SD * z_cost)
    cost = np.maximum(1, np.rint(base * (1 + s.quality_cost_slope * (quality - 0.5)) * noise))
    price = np.rint(cost * (1 + markup)).astype(np.int64)
    return quality, cost.astype(np.int64), np.maximum(price, cost.astype(np.int64) + 1)


def reprice(
    cost: NDArray[np.int64],
    markup: NDArray[np.float64],
    going_ratio: NDArray[np.float64],
    competitive_weight: float,
    min_markup_rate: float,
) -> NDArray[np.int64]:
    """New prices: own target ``cost*(1+markup)`` blended with the category's going
    price-to-cost ratio, floored at ``cost*(1+min_markup_rate)``.

    >>> reprice(np.array([100]), np.array([0.5]), np.array([1.3]), 0.5, 0.05).tolist()
    [140]
    """
    target = cost * (1.0 + markup)
    blended = (1.0 - competitive_weight) * target + competitive_weight * cost * going_ratio
    floor = np.ceil(cost * (1.0 + min_markup_rate))
    return np.maximum(np.rint(blended), floor).astype(np.int64)


def fulfilment_choice(
    units_per_day: NDArray[np.float64],
    price_cents: NDArray[np.float64],
    unit_cost_cents: NDArray[np.float64],
    currently_fba: NDArray[np.bool_],
    uplift: NDArray[np.float64],
    fee_fixed_cents: float,
    fee_rate: float,
    self_ship_rate: float,
) -> NDArray[np.bool_]:
    """Whether each seller chooses platform fulfilment after its review.

    ``uplift`` is the sales gain of fulfilled over self-fulfilled products the
    seller observes in its category (e.g. 0.3 = 30% more units). Units scale
    by ``1 + uplift`` under fulfilment, relative to the seller's current mode.
    """
    margin_fba = price_cents - unit_cost_cents - fee_fixed_cents - fee_rate * price_cents
    margin_self = price_cents - unit_cost_cents - self_ship_rate * price_cents
    base_units = np.where(currently_fba, units_per_day / (1 + uplift), units_per_day)
    # a seller with no sales yet uses a token unit so that the comparison is about margins
    base_units = np.maximum(base_units, 0.05)
    return base_units * (1 + uplift) * margin_fba > base_units * margin_self


def entrants_per_category(
    expected_daily_profit: NDArray[np.float64],
    horizon_days: int,
    entry_cost_cents: float,
    entry_rate: float,
    max_entrants: int,
    u: NDArray[np.float64],
) -> NDArray[np.int64]:
    """Entrants per category: the Poisson quantile of the uniform ``u`` with mean
    ``rate * max(0, profit*horizon/cost - 1)``, at most ``max_entrants``."""
    ratio = expected_daily_profit * horizon_days / max(entry_cost_cents, 1.0)
    lam = entry_rate * np.maximum(0.0, ratio - 1.0)
    return np.minimum(poisson_quantile(np.minimum(lam, 1e6), u), max_entrants).astype(np.int64)


class Seller(mesa.Agent, RowView):
    """A third-party seller (Mesa agent; its state is row ``row`` of the model's SellerBook)."""

    def __init__(self, model: mesa.Model, book: SellerBook, row: int) -> None:
        super().__init__(model)
        self._table = book
        self.row = row

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(row={self.row}, category={self.category}, active={self.active})"
        )


class PlatformRetail(Seller):
    """The platform's own retail arm (seller row 0): own and private-label products."""
