"""How an item on offer looks to a customer today: promise and net value.

Shared by the phases that value items (search clicks, the assistant, the
purchase choice, external agents, delivery): the delivery promise from the
network (:func:`sim.logistics.promise_days`), slowed for non-members
(:func:`sim.prime.nonmember_promise_days`), and the net value of
:mod:`sim.valuation` with the shipping fee of :mod:`sim.fees`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim import kernels, logistics
from sim.day.state import Market, Sessions
from sim.prime import nonmember_promise_days

__all__ = [
    "advised_value",
    "member_promise",
    "perceived_value",
    "promise",
    "session_value_inputs",
    "value_inputs",
]


def member_promise(m: Market, ci: NDArray[np.int64], items: NDArray[np.int64]) -> NDArray[np.int64]:
    """Promised days of ``items`` (any shape, first axis per customer ``ci``) for a member."""
    lg = m.config.logistics
    p = m.products
    svc = m.network.service
    assert svc is not None
    reg = m.customers.region[ci]
    shape = (-1,) + (1,) * (items.ndim - 1)
    return logistics.promise_days(
        svc.dist_cells[reg].reshape(shape),
        svc.fc[reg].reshape(shape),
        p.col("fba")[items],
        p.col("stock_mask")[items],
        lg.same_day_radius_cells,
        lg.next_day_radius_cells,
        lg.standard_days,
        lg.self_fulfilled_days,
    ).astype(np.int64)


def promise(m: Market, ci: NDArray[np.int64], items: NDArray[np.int64]) -> NDArray[np.int64]:
    """Promised days of ``items`` for customers ``ci`` as they are (member or not)."""
    days = member_promise(m, ci, items)
    shape = (-1,) + (1,) * (items.ndim - 1)
    member = m.customers.member(ci).reshape(shape)
    fba = m.products.col("fba")[items]
    return np.where(member, days, nonmember_promise_days(days, fba, m.config.prime.nonmember_days))


def value_inputs(m: Market, *, true_quality: bool = False) -> tuple[tuple, tuple, tuple]:
    """The columns and terms the compiled valuation reads (:func:`sim.kernels.item_values`):
    the customers' (Prime state, region, each region's distance to service and its
    centre, quality taste, delay cost), the products' (rated quality, or latent quality
    for the assistant and external agents, price, FBA, stock mask) and the scalar terms
    (value base, promise radii and days, the non-member promise, the free-shipping
    threshold and fee)."""
    c = m.config
    pop = m.customers
    p = m.products
    sh = m.shelf
    assert sh is not None
    svc = m.network.service
    assert svc is not None
    lg = c.logistics
    customers = (
        pop.prime_state,
        pop.region,
        svc.dist_cells,
        svc.fc,
        pop.quality_taste,
        pop.delay_cost,
    )
    products = (
        p.col("quality") if true_quality else sh.rating,
        p.col("price_cents"),
        p.col("fba"),
        p.col("stock_mask"),
    )
    terms = (
        float(c.customers.value_base),
        float(lg.same_day_radius_cells),
        float(lg.next_day_radius_cells),
        int(lg.standard_days),
        int(lg.self_fulfilled_days),
        int(c.prime.nonmember_days),
        int(c.prime.free_shipping_threshold_cents),
        int(c.prime.shipping_fee_cents),
    )
    return customers, products, terms


def session_value_inputs(m: Market, s: Sessions) -> tuple[tuple, tuple, tuple]:
    """:func:`value_inputs` (rated quality) with the customers' Prime state, region,
    quality taste and delay cost in session order (``s``'s copies), for kernels that read
    them per session."""
    if len(s.prime_state) != s.n:
        raise ValueError("the sessions' Prime states are copied at channel choice, not yet run")
    customers, products, terms = value_inputs(m)
    _, _, dist, fc, _, _ = customers
    return (s.prime_state, s.region, dist, fc, s.quality_taste, s.delay_cost), products, terms


def perceived_value(
    m: Market,
    ci: NDArray[np.int64],
    cat: NDArray[np.int64],
    items: NDArray[np.int64],
    *,
    true_quality: bool = False,
    where: NDArray[np.bool_] | None = None,
) -> NDArray[np.float64]:
    """Net value in category prices of ``items`` (sessions, K) for customers ``ci``: rated
    quality (or latent quality for the assistant and external agents), price with the
    shipping fee the customer would pay, and the promised days.

    With ``where`` only those entries are valued (0.0 elsewhere), for a fraction of
    the work when few entries of a session's block are live (clicked, examined). The
    numbers are those of :func:`sim.valuation.item_net_value` with the fee of
    :func:`sim.fees.shipping_fee_cents` and the promise of :func:`promise`, computed
    in one pass (:func:`sim.kernels.item_values`; ``tests/test_kernels.py`` checks
    it against that NumPy composition)."""
    safe = np.maximum(items, 0)
    if where is None:
        where = np.ones(safe.shape, dtype=bool)
    return kernels.item_values(
        safe,
        where,
        ci,
        np.asarray(cat, dtype=np.int64),
        m.category_price.astype(np.float64),
        *value_inputs(m, true_quality=true_quality),
    )


def advised_value(
    reliance: float,
    trust: NDArray[np.float64],
    takes_advice: NDArray[np.bool_],
    own: NDArray[np.float64],
    reported: NDArray[np.float64],
) -> NDArray[np.float64]:
    """A pick's value to a customer who weighs the assistant's word: her own valuation
    ``own`` moved toward the ``reported`` estimate by ``reliance x trust`` wherever she
    takes the pick as advice (up or down: advice can mislead).

    >>> advised_value(0.5, np.array([1.0]), np.array([[True, False]]),
    ...               np.array([[1.0, 1.0]]), np.array([[3.0, 3.0]])).tolist()
    [[2.0, 1.0]]
    """
    weight = reliance * trust[:, None] * takes_advice
    return own + weight * (reported - own)
