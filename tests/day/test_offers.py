"""How an item on offer looks to a customer (:mod:`sim.day.offers`), on a small market."""

from __future__ import annotations

import numpy as np
from phase_market import market

from sim.day import offers
from sim.prime import PrimeState


def test_non_members_are_promised_no_faster_and_value_items_no_higher() -> None:
    """The same customers and items: as non-members, promises are never shorter and
    perceived values never higher than as members (slower delivery, shipping fees)."""
    m, _ = market()
    pop = m.customers
    ci = np.arange(200)
    items = np.flatnonzero(m.products.col("active"))[:20]
    cat = m.products.col("category")[items[:1]].repeat(len(ci))
    grid = np.broadcast_to(items, (len(ci), len(items)))
    pop.prime_state[ci] = PrimeState.MEMBER
    member_days = offers.promise(m, ci, grid)
    member_value = offers.perceived_value(m, ci, cat, grid)
    np.testing.assert_array_equal(member_days, offers.member_promise(m, ci, grid))
    pop.prime_state[ci] = PrimeState.NONE
    assert (offers.promise(m, ci, grid) >= member_days).all()
    assert (offers.perceived_value(m, ci, cat, grid) <= member_value + 1e-12).all()
    assert (offers.perceived_value(m, ci, cat, grid) < member_value).any()
