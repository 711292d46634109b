"""The ``delivery`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

import numpy as np
from phase_market import market, through

from agents.rival import RivalOffer
from sim.day import delivery
from sim.day.state import Ledger


def test_delivery_conserves_money() -> None:
    """Customers pay GMV plus shipping fees; sellers' takings (market units) add up to the
    sample's GMV times the weight; DSI <= orders."""
    m, streams = market()
    ledger = Ledger()
    s = through("choice", m, streams, ledger)
    rival = RivalOffer(
        np.full(m.n_categories, m.config.rival.price_index), m.config.rival.delivery_days, 0.0
    )
    takings = delivery.deliver(m, s, rival, ledger, streams.keyed("delivery"))
    assert ledger.orders == np.count_nonzero(s.product >= 0) > 0
    assert ledger.customer_payments_cents == ledger.gmv_cents + ledger.shipping_fees_cents
    assert m.weight == 4.0  # 5,000 simulated customers of a market of 20,000
    assert takings.revenue_cents.sum() == ledger.gmv_cents * m.weight
    assert ledger.dsi_orders <= ledger.orders
    assert m.customers.last_platform_day[s.cust[s.product >= 0]].max() == m.day


def _offer(m) -> RivalOffer:  # type: ignore[no-untyped-def]
    c = m.config.rival
    return RivalOffer(np.full(m.n_categories, c.price_index), c.delivery_days, 0.0)


def test_habit_falls_after_a_poor_purchase_and_decays_without_use() -> None:
    """Every product disappoints (latent quality 0 against its rating): each platform buyer's
    habit falls; a customer who bought nowhere decays by exp(-1 / habit_decay_days)."""
    m, streams = market()
    pop = m.customers
    pop.habit[:] = 0.6
    s = through("choice", m, streams, Ledger())
    m.products.col("quality")[:] = 0.0
    delivery.deliver(m, s, _offer(m), Ledger(), streams.keyed("delivery"))
    buyers = np.unique(s.cust[s.product >= 0])
    assert len(buyers) > 20
    assert (pop.habit[buyers] < 0.6).all()
    idle = np.ones(pop.n, bool)
    idle[s.cust[(s.product >= 0) | s.rival]] = False
    decay = np.exp(-1.0 / m.config.customers.habit_decay_days)
    np.testing.assert_allclose(pop.habit[idle], 0.6 * decay)


def test_frozen_habit_and_reviews_do_not_move() -> None:
    """With habit and reviews frozen, a day of purchases changes neither habit nor ratings."""
    m, streams = market(flywheel__freeze=["habit", "reviews"], flywheel__freeze_day=0)
    pop = m.customers
    habit = pop.habit.copy()
    reviews = m.products.col("review_count").copy()
    s = through("choice", m, streams, Ledger())
    delivery.deliver(m, s, _offer(m), Ledger(), streams.keyed("delivery"))
    assert (s.product >= 0).sum() > 20
    np.testing.assert_array_equal(pop.habit, habit)
    np.testing.assert_array_equal(m.products.col("review_count"), reviews)


def test_a_discovered_paid_pick_teaches_the_customer_to_see_ads() -> None:
    """Every followed, unrecognised paid pick found out: those customers' ad literacy
    rises toward 1 by the learning rate, nobody else's changes, and it stays <= 1."""
    m, streams = market(
        run__n_customers=20000,
        assistant__ad_mode="blended",
        assistant__ad_weight=5.0,
        assistant__ad_slots=3,
        assistant__discovery_rate=1.0,
        assistant__discovery_if_disappointed=1.0,
        customers__initial_trust=1.0,
        customers__literacy_learning_rate=0.5,
    )
    ledger = Ledger()
    s = through("choice", m, streams, ledger)
    before = m.customers.ad_literacy.copy()
    cfg = m.config
    offer = RivalOffer(np.full(m.n_categories, cfg.rival.price_index), cfg.rival.delivery_days, 0.0)
    delivery.deliver(m, s, offer, ledger, streams.keyed("delivery"))
    after = m.customers.ad_literacy
    assert ledger.ads_discovered > 0
    rose = after > before + 1e-12
    assert rose.sum() > 0 and (after <= 1.0).all()
    assert np.allclose(after[~rose], before[~rose])
    i = np.flatnonzero(rose)[0]
    assert after[i] >= before[i] + 0.5 * (1 - before[i]) - 1e-12
