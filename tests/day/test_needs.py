"""The ``needs`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

import numpy as np
from phase_market import market

from sim.day import needs


def test_needs_are_a_function_of_the_seed_and_valid() -> None:
    """Two markets of one seed draw the same sessions; customers and categories are in range."""
    (m1, s1), (m2, s2) = market(5), market(5)
    a = needs.arrive(m1.config, m1.customers, m1.n_categories, s1.__getitem__)
    b = needs.arrive(m2.config, m2.customers, m2.n_categories, s2.__getitem__)
    assert a.n == b.n > 0
    np.testing.assert_array_equal(a.cust, b.cust)
    np.testing.assert_array_equal(a.cat, b.cat)
    assert a.cust.min() >= 0 and a.cust.max() < m1.customers.n
    assert a.cat.min() >= 0 and a.cat.max() < m1.n_categories
    assert a.gumbel.shape[1] == m1.config.search.page_slots + 5
