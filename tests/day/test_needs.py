"""The ``needs`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

import numpy as np
from phase_market import market

from sim.day import needs


def test_needs_are_a_function_of_the_seed_and_valid() -> None:
    """Two markets of one seed draw the same sessions; customers and categories are in range."""
    (m1, s1), (m2, s2) = market(5), market(5)
    a = needs.arrive(m1.config, m1.customers, m1.n_categories, 0, s1)
    b = needs.arrive(m2.config, m2.customers, m2.n_categories, 0, s2)
    assert a.n == b.n > 0
    np.testing.assert_array_equal(a.cust, b.cust)
    np.testing.assert_array_equal(a.cat, b.cat)
    assert a.cust.min() >= 0 and a.cust.max() < m1.customers.n
    assert a.cat.min() >= 0 and a.cat.max() < m1.n_categories
    np.testing.assert_array_equal(a.key, b.key)
    assert len(np.unique(a.key)) == a.n


def test_a_customers_sessions_do_not_depend_on_other_customers() -> None:
    """Raising every other customer's need rate tenfold leaves customer 17's sessions
    today (their keys, categories, intents and shocks) exactly as they were."""
    m, streams = market(5)
    pop = m.customers
    pop.need_rate[17] = 3.0  # make sure customer 17 shops today
    a = needs.arrive(m.config, pop, m.n_categories, 4, streams)
    others = np.arange(pop.n) != 17
    pop.need_rate[others] *= 10
    b = needs.arrive(m.config, pop, m.n_categories, 4, streams)
    assert b.n > 5 * a.n
    ia, ib = np.flatnonzero(a.cust == 17), np.flatnonzero(b.cust == 17)
    assert len(ia) > 0
    for name in ("key", "cat", "intent", "u_channel", "u_depth", "u_offer"):
        np.testing.assert_array_equal(getattr(a, name)[ia], getattr(b, name)[ib], err_msg=name)
