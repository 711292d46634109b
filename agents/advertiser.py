"""Advertisers: the ad campaigns of advertising sellers, vectorised.

Each advertising seller runs one sponsored-product campaign for its best
product, with a daily budget, a target ACoS (ad cost of sales) and one of two
bidding strategies:

- **value bidding**: bid the expected value of a click, the learnt
  conversion rate times the unit margin after fees;
- **target ACoS**: bid so that cost per sale equals ``target_acos`` times the
  price, ``cvr * price * target_acos``, then correct the bid multiplicatively
  toward the target by how far recent spend is from ``target_acos`` times
  recent sales, as a share of the daily budget.

Both are paced: a participation rate (the share of auctions entered)
rises when the budget was underspent and falls when it ran out, and a bidder
whose budget is exhausted drops out of the day's remaining auctions. Each
week a budget that keeps running out is raised while the campaign meets its
target ACoS, and cut when its ACoS is well above target. The
conversion rate is learnt from the campaign's own clicks and sales, starting
from a prior (Beta-binomial shrinkage).

Reviews compare spend with ``target_acos`` times sales (a difference, in
shares of the budget), never the ratio ACoS itself: a week's sales are a
handful of lumpy conversions, and a ratio (or its logarithm) of such counts
is biased by their noise, which grows as the simulated sample shrinks. A
difference is not (its mean is the difference of the means): the bid review
is linear in it (up to the clip at a whole budget), so bids settle where the
market's do whatever the sample size (``market.population`` /
``run.n_customers``); the budget review has two kinks (raise only with room
under the target, cut only beyond 1.5 times it), so noise still moves it a
little, far less than a ratio did. A target-ACoS bid never falls below the
auction's reserve (:func:`next_bids`): under it a campaign would learn
nothing more, and noise would leave more campaigns there the smaller the
sample. Spend itself is the market's clicks (``sim.kernels.search_clicks``),
so it comes in single clicks at any sample size.
"""

from __future__ import annotations

import enum

import mesa
import numpy as np
from numpy.typing import NDArray

from agents.table import RowView, Table, shrunk_mean
from sim import kernels

__all__ = [
    "Advertiser",
    "AdvertiserBook",
    "BidStrategy",
    "next_bids",
    "next_budgets",
    "next_pacing",
]


class BidStrategy(enum.IntEnum):
    """How an advertiser sets its bid."""

    VALUE = 0
    TARGET_ACOS = 1


class AdvertiserBook(Table):
    """Every campaign ever run, one row each (integer cents for money)."""

    def __init__(self) -> None:
        super().__init__(
            {
                "key": (np.int64, -1),
                "seller": (np.int32, -1),
                "category": (np.int16, -1),
                "product": (np.int64, -1),
                "strategy": (np.int8, BidStrategy.VALUE),
                "target_acos": (np.float64, 0.3),
                "budget_cents": (np.int64, 0),
                "bid_cents": (np.int64, 0),
                "bid_multiplier": (np.float64, 1.0),
                "pacing": (np.float64, 1.0),
                "active": (np.bool_, True),
                "clicks": (np.float64, 0.0),
                "conversions": (np.float64, 0.0),
                "spend_cents": (np.int64, 0),
                "sales_cents": (np.int64, 0),
                "spend_today_cents": (np.int64, 0),
                "sales_today_cents": (np.int64, 0),
                "spend_recent": (np.float64, 0.0),
                "sales_recent": (np.float64, 0.0),
                "ran_out_recent": (np.float64, 0.0),
                # pacing: whether the campaign throttles its participation at all
                "paced": (np.bool_, True),
                # the assistant's answer slots, bid and learnt apart from search
                "assistant_bid_cents": (np.int64, 0),
                "assistant_bid_multiplier": (np.float64, 1.0),
                "assistant_clicks": (np.float64, 0.0),
                "assistant_conversions": (np.float64, 0.0),
                "assistant_spend_today_cents": (np.int64, 0),
                "assistant_sales_today_cents": (np.int64, 0),
                "assistant_spend_recent": (np.float64, 0.0),
                "assistant_sales_recent": (np.float64, 0.0),
                # spend at the start of the current batch (both inventories check it)
                "batch_start_cents": (np.int64, 0),
                # today's largest charge within one batch (bounds the overspend)
                "batch_spend_max_cents": (np.int64, 0),
            },
            capacity=256,
        )

    def open_batch(self) -> None:
        """Start a batch of the day: campaigns take part in it while the spend they had
        at its start is under budget, in search slots and answer slots alike."""
        self.col("batch_start_cents")[:] = self.col("spend_today_cents")

    def close_batch(self) -> None:
        """End a batch: keep today's largest charge of one batch per campaign."""
        added = self.col("spend_today_cents") - self.col("batch_start_cents")
        np.maximum(self.col("batch_spend_max_cents"), added, out=self.col("batch_spend_max_cents"))

    def live(self) -> NDArray[np.bool_]:
        """Active campaigns with budget left at the start of the current batch."""
        return self.col("active") & (self.col("batch_start_cents") < self.col("budget_cents"))

    def charge(
        self,
        rows: NDArray[np.int64],
        clicks: NDArray[np.int64],
        cents: NDArray[np.int64],
        assistant: bool = False,
    ) -> NDArray[np.int64]:
        """Charge the market's clicks (or opened paid picks): ``clicks[i]`` at ``cents[i]``
        each to campaign ``rows[i]``, booked to today's spend and clicks and, for answer
        slots, to that placement. Returns each charge in cents (the platform's ad
        revenue)."""
        spent = np.asarray(clicks, dtype=np.int64) * np.asarray(cents, dtype=np.int64)
        kernels.add_at(self.col("spend_today_cents"), rows, spent)
        kernels.add_at(self.col("clicks"), rows, clicks)
        if assistant:
            kernels.add_at(self.col("assistant_spend_today_cents"), rows, spent)
            kernels.add_at(self.col("assistant_clicks"), rows, clicks)
        return spent

    def search_conversion_rate(self, prior_rate: float, prior_clicks: float) -> NDArray:
        """Learnt conversion rate of a search ad click, shrunk toward the prior."""
        conv = self.col("conversions") - self.col("assistant_conversions")
        clicks = self.col("clicks") - self.col("assistant_clicks")
        return shrunk_mean(conv, clicks, prior_rate, prior_clicks)

    def assistant_conversion_rate(self, prior_rate: float, prior_clicks: float) -> NDArray:
        """Learnt purchase rate of an opened paid pick, shrunk toward the prior."""
        return shrunk_mean(
            self.col("assistant_conversions"),
            self.col("assistant_clicks"),
            prior_rate,
            prior_clicks,
        )


def _gap(
    spend: NDArray[np.float64],
    sales: NDArray[np.float64],
    acos: NDArray[np.float64],
    budget: NDArray[np.float64],
) -> NDArray[np.float64]:
    """``acos * sales - spend`` as a share of the daily budget, within [-1, 1]: above
    0 the campaign spends less than ``acos`` of its sales, below 0 more.

    >>> _gap(np.array([90., 30., 40.]), np.array([200., 200., 0.]), np.array([.3, .3, .3]),
    ...      np.array([100., 100., 100.])).round(2).tolist()
    [-0.3, 0.3, -0.4]
    """
    gap = (acos * sales - spend) / np.maximum(budget, 1.0)
    return np.clip(gap, -1.0, 1.0)


def next_bids(
    strategy: NDArray[np.int8],
    cvr: NDArray[np.float64],
    price_cents: NDArray[np.float64],
    margin_cents: NDArray[np.float64],
    target_acos: NDArray[np.float64],
    multiplier: NDArray[np.float64],
    spend_recent: NDArray[np.float64],
    sales_recent: NDArray[np.float64],
    budget_cents: NDArray[np.float64],
    adjust_rate: float,
    floor_cents: int = 0,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Today's bids (cents per click) and updated target-ACoS multipliers.

    A value bidder bids ``cvr * margin``. A target-ACoS bidder bids
    ``cvr * price * target_acos * multiplier``, where the multiplier moves by
    ``exp(adjust_rate * gap)``, ``gap`` being ``target_acos * sales - spend``
    over the recent days as a share of the budget (within [-1, 1]): down while
    the campaign spends more than its target share of its sales, up while it
    spends less, still at the target. The step is linear in spend and sales,
    so their noise does not bias where the multiplier settles. A target-ACoS
    bid is at least ``floor_cents`` (the auction's reserve), as bidding tools
    keep a campaign at the marketplace's minimum bid: below it the campaign
    would win no click, so learn nothing, and its conversion rate and bid would
    stay where a run of bad luck left them (a trap that sampling noise fills
    faster the smaller the simulated sample). Its ACoS then decides, through
    its budget review, how much it spends there.

    >>> b, m = next_bids(np.array([0, 1]), np.array([0.1, 0.1]), np.array([2000., 2000.]),
    ...                  np.array([500., 500.]), np.array([0.3, 0.3]), np.array([1., 1.]),
    ...                  np.array([0., 60.]), np.array([0., 200.]), np.array([100., 100.]), 0.5)
    >>> b.tolist()
    [50, 60]
    >>> b, _ = next_bids(np.array([0, 1]), np.array([0.001, 0.001]), np.array([2000., 2000.]),
    ...                  np.array([500., 500.]), np.array([0.3, 0.3]), np.array([1., 1.]),
    ...                  np.array([0., 0.]), np.array([0., 0.]), np.array([100., 100.]), 0.5, 17)
    >>> b.tolist()
    [0, 17]
    """
    gap = _gap(spend_recent, sales_recent, target_acos, budget_cents)
    is_acos = strategy == BidStrategy.TARGET_ACOS
    stepped = np.clip(multiplier * np.exp(adjust_rate * gap), 0.2, 5.0)
    multiplier = np.where(is_acos, stepped, multiplier)
    value_bid = cvr * np.maximum(margin_cents, 0.0)
    acos_bid = cvr * price_cents * target_acos * multiplier
    bid = np.where(is_acos, np.maximum(acos_bid, floor_cents), value_bid)
    return np.maximum(np.rint(bid), 0).astype(np.int64), multiplier


def next_pacing(
    pacing: NDArray[np.float64],
    spend_today: NDArray[np.int64],
    budget: NDArray[np.int64],
    rate: float,
) -> NDArray[np.float64]:
    """Participation rate for tomorrow: up when under budget, down when it ran out.

    >>> next_pacing(np.array([0.5, 0.5]), np.array([0, 100]), np.array([100, 100]), 0.5).tolist()
    [0.75, 0.25]
    """
    gap = np.divide(budget - spend_today, np.maximum(budget, 1), dtype=np.float64)
    ran_out = spend_today >= budget
    return np.clip(np.where(ran_out, pacing * (1.0 - rate), pacing * (1.0 + rate * gap)), 0.02, 1.0)


def next_budgets(
    budget: NDArray[np.int64],
    ran_out_recent: NDArray[np.float64],
    spend_recent: NDArray[np.float64],
    sales_recent: NDArray[np.float64],
    target_acos: NDArray[np.float64],
    step: float,
    floor_cents: int,
) -> NDArray[np.int64]:
    """Weekly budget review: raise a budget that runs out while the campaign meets its
    target ACoS, cut one that spends well beyond it.

    The budget moves by ``exp(step * u)`` with ``u = ran_out * max(gap, 0) +
    min(gap_1.5, 0)``: ``gap`` is ``target_acos * sales - spend`` and ``gap_1.5``
    the same at 1.5 times the target, both over the recent days and as shares of
    the budget (within [-1, 1]), and ``ran_out`` the share of recent days the
    budget ran out. So a budget grows in proportion to how often it binds and to
    the room under the target, and shrinks in proportion to spend beyond 1.5
    times the target; a campaign between the two keeps its budget.

    >>> next_budgets(np.array([1000, 1000, 1000]), np.array([0.9, 0.9, 0.0]),
    ...              np.array([70., 500., 500.]), np.array([1000., 100., 100.]),
    ...              np.array([0.3, 0.3, 0.3]), 0.25, 500).tolist()
    [1053, 892, 892]
    """
    b = budget.astype(np.float64)
    room = np.maximum(_gap(spend_recent, sales_recent, target_acos, b), 0.0)
    beyond = np.minimum(_gap(spend_recent, sales_recent, 1.5 * target_acos, b), 0.0)
    u = ran_out_recent * room + beyond
    return np.maximum(np.rint(b * np.exp(step * u)), floor_cents).astype(np.int64)


class Advertiser(mesa.Agent, RowView):
    """A seller's ad campaign (Mesa agent; state is row ``row`` of the AdvertiserBook)."""

    def __init__(self, model: mesa.Model, book: AdvertiserBook, row: int) -> None:
        super().__init__(model)
        self._table = book
        self.row = row

    def __repr__(self) -> str:
        return f"Advertiser(row={self.row}, seller={self.seller}, bid={self.bid_cents})"
