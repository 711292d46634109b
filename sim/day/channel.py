"""Phase 2: channel choice — the platform, the rival, or a neutral external agent.

Offline customers (no internet in their region today) can only use the rival.
Online customers of the external-agent share use their agent unless the
platform blocks it. The rest choose the platform over the rival by a binary
logit on the difference of expected net values (:mod:`sim.valuation`), scaled
by price sensitivity, plus habit, a platform bias and a members' sunk-cost
term that decays with the days since their last Prime payment. Each side's
expected value includes the change of its selection value since the start
(the platform's per category from :mod:`sim.day.ranking`, the rival's from
its volume, :mod:`agents.rival`), weighted by ``channel.selection_weight``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from agents.rival import RivalOffer
from sim import kernels, prime
from sim.config import Config
from sim.day.state import Market, Sessions
from sim.valuation import net_value

__all__ = ["choose", "expected_platform_value", "offline_share", "rival_value"]


def offline_share(cfg: Config, is_metro: NDArray[np.bool_], day: int) -> NDArray[np.float64]:
    """Share of each region's customers without internet access on ``day``."""
    cn = cfg.connectivity
    rural = cn.rural_offline_share
    if 0 <= cn.satellite_start_day <= day:
        progress = min(1.0, (day - cn.satellite_start_day) / cn.satellite_rollout_days)
        rural = rural + progress * (cn.satellite_final_rural_offline_share - rural)
    return np.where(is_metro, cn.metro_offline_share, rural)


def expected_platform_value(
    m: Market, ci: NDArray[np.int64], cat: NDArray[np.int64], s: Sessions | None = None
) -> NDArray[np.float64]:
    """Expected net value (in category prices) of the platform for customers ``ci`` in
    categories ``cat``, from the shelf's category signals and the customer's delivery
    (with ``s``, today's sessions of those customers: their traits in session order)."""
    c = m.config
    pop = m.customers
    sh = m.shelf
    assert sh is not None
    region = pop.region[ci] if s is None else s.region
    taste = pop.quality_taste[ci] if s is None else s.quality_taste
    delay = pop.delay_cost[ci] if s is None else s.delay_cost
    fba_days = m.network.region_fba_days[region]
    member = pop.member(ci)
    days = np.where(
        member,
        fba_days * sh.cat_fba_share[cat]
        + (1 - sh.cat_fba_share[cat]) * c.logistics.self_fulfilled_days,
        np.maximum(c.prime.nonmember_days, fba_days),
    )
    ship = np.where(member, 0.0, sh.cat_ship_share[cat])
    selection = c.channel.selection_weight * sh.cat_selection_change[cat]
    return (
        selection
        + net_value(
            c.customers.value_base,
            taste,
            sh.cat_quality[cat],
            sh.cat_price_index[cat],
            delay,
            days,
        )
        - ship
    )


def rival_value(
    cfg: Config,
    quality_taste: NDArray[np.float64],
    delay_cost: NDArray[np.float64],
    rival_index: NDArray[np.float64],
    offer: RivalOffer,
) -> NDArray[np.float64]:
    """Net value (in category prices) of the rival's offer at price index ``rival_index``,
    with its delivery days and the change of its selection value."""
    r = cfg.rival
    value = net_value(
        cfg.customers.value_base, quality_taste, r.quality, rival_index, delay_cost,
        offer.delivery_days,
    )  # fmt: skip
    return value + cfg.channel.selection_weight * offer.selection


def choose(m: Market, s: Sessions, offer: RivalOffer) -> None:
    """Set ``s.online``, ``s.external``, ``s.net_rival``, ``s.habit``, ``s.prime_state`` and
    ``s.platform``.

    What is read per session's customer (connectivity, agent use, Prime state and
    payments, habit), the platform's expected value, the rival's value and the
    platform's lead over it before the sunk cost come from one compiled pass over the
    sessions (:func:`sim.kernels.channel_terms`, equal to :func:`expected_platform_value`,
    :func:`rival_value`, the gathers it replaces and the sum below), the sunk cost and the
    halving from another (:func:`sim.kernels.channel_half`); ``exp`` and ``tanh`` stay in
    NumPy (numba's can differ in the last bit), in place between them."""
    c = m.config
    pop = m.customers
    sh = m.shelf
    assert sh is not None
    ext = c.external_agents
    ch = c.channel
    offline = offline_share(c, m.network.regions.is_metro, m.day)
    (
        s.online, s.external, s.net_rival, lead, decay, paying, s.habit, s.prime_state,
    ) = kernels.channel_terms(
        s.cust, s.region, s.cat, s.quality_taste, s.delay_cost, s.price_sensitivity, offline,
        pop.online_u, pop.agent_u, float(ext.share), not ext.blocked, pop.prime_state,
        int(prime.PrimeState.MEMBER), pop.last_payment_day, pop.habit,
        m.network.region_fba_days, sh.cat_fba_share, sh.cat_ship_share, sh.cat_quality,
        sh.cat_price_index, sh.cat_selection_change, float(ch.selection_weight),
        float(c.customers.value_base), float(c.logistics.self_fulfilled_days),
        float(c.prime.nonmember_days), m.day, float(ch.sunk_cost_decay_days),
        np.ascontiguousarray(offer.price_index, dtype=np.float64), float(c.rival.quality),
        float(offer.delivery_days), float(ch.selection_weight * offer.selection),
        float(ch.expected_price_weight), float(ch.habit_weight), float(ch.platform_bias),
    )  # fmt: skip
    # the members' sunk cost decays with the days since their last payment
    np.exp(decay, out=decay)
    half = kernels.channel_half(lead, paying, decay, float(ch.sunk_cost_weight))
    # binary_logit of the difference, 0.5 x (1 + tanh(difference / 2)): tanh in place,
    # the rest and the draw in one pass
    np.tanh(half, out=half)
    s.platform = kernels.channel_platform(s.online, s.external, s.u_channel, half)
