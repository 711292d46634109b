"""The ``sellers`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

import numpy as np
from phase_market import market

from sim.day import sellers
from sim.day.delivery import SellerDay
from sim.day.state import Ledger


def test_sellers_with_sustained_losses_leave_with_their_products_and_campaigns() -> None:
    """A seller past the loss limit exits; its products and campaigns stop."""
    m, streams = market()
    book = m.sellers
    third = np.flatnonzero(book.col("active") & ~book.col("is_platform"))
    loser = third[0]
    book.col("loss_days")[loser] = m.config.sellers.exit_loss_days
    book.col("profit_recent")[loser] = -1e6
    n = len(book)
    zero = np.zeros(n)
    today = SellerDay(zero, zero, zero, zero, zero, zero)
    changes = sellers.close_day(m, today, Ledger(), streams.keyed("entry"))
    assert loser in changes.exited_sellers
    assert not book.col("active")[loser]
    assert not m.products.col("active")[m.products.col("seller") == loser].any()
    assert not m.ads.col("active")[m.ads.col("seller") == loser].any()
