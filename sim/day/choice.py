"""Phase 5: choice among the considered items, the rival and not buying.

Platform sessions choose by multinomial logit (:func:`sim.choice.choose`,
with the session's Gumbel shocks) over their considered items (picks and
clicked page items, duplicates counted once), the rival and not buying. A
pick the customer does not see as an ad moves her valuation toward the value
the assistant reported for it by ``advice_reliance`` x trust (up or down:
a noisy or bid-tilted estimate can make a worse item look better than what
she found herself); a recognised ad is discounted. Agentic checkout buys the
assistant's top pick outright.
External agents compare the platform's best offer (by latent quality, with
noise) with the rival. Sessions in the rival channel choose the rival or
nothing.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.choice import choose, mark_duplicates
from sim.day.offers import advised_value, perceived_value
from sim.day.state import PICKS, Ledger, Market, Sessions
from sim.rng import Keyed

# identities of the two outside options in the choice stream (product keys are hashes)
_RIVAL_AND_NONE = np.array([-1, -2], dtype=np.int64)

__all__ = ["decide"]


def decide(m: Market, s: Sessions, ledger: Ledger, shocks: Keyed, draws: Keyed) -> None:
    """Set ``s.product`` (platform purchase, -1 none), ``s.bought_col`` and ``s.rival``.

    Parameters
    ----------
    m
        The market (read only).
    s
        Today's sessions after the assistant.
    ledger
        Today's totals (agentic purchases).
    shocks
        The choice stream: Gumbel shocks keyed by (session, product) for items,
        so an item keeps its shock whether it came from the page or the
        assistant; the rival and not buying have slots of their own.
    draws
        The external-agents stream: their estimate noise is keyed by
        (session, product).
    """
    c = m.config
    pop = m.customers
    a = c.assistant
    sh = m.shelf
    assert sh is not None
    s.product = np.full(s.n, -1, dtype=np.int64)
    s.rival = np.zeros(s.n, dtype=bool)
    s.bought_col = np.full(s.n, -1, dtype=np.int64)
    mu = pop.price_sensitivity[s.cust]
    v_none = c.customers.no_purchase_value - s.intent
    v_rival = mu * s.net_rival - c.channel.habit_weight * pop.habit[s.cust]
    # platform sessions: considered items + rival + none
    rows = np.flatnonzero(s.platform & (s.agentic < 0))
    if len(rows):
        ci = s.cust[rows]
        items = s.consider[rows]
        avail = ~mark_duplicates(items)
        # only the available entries are ever read (the choice and the paid-pick record
        # mask the rest), so only they are valued and drawn
        net = perceived_value(m, ci, s.cat[rows], items, where=avail)
        v = mu[rows][:, None] * net
        # advice: the customer's own valuation moves toward the assistant's estimate
        pk = v[:, PICKS].copy()  # her own valuation of the picks, before advice
        v[:, PICKS] = advised_value(
            a.advice_reliance, pop.trust[ci], s.advice[rows, PICKS], pk, s.reported[rows]
        )
        # only picks can be recognised as ads (the page's entries lose 0)
        v[:, PICKS] -= a.recognised_ad_discount * s.recognised[rows, PICKS]
        k = items.shape[1]
        util = np.concatenate([v, v_rival[rows, None], v_none[rows, None]], axis=1)
        ok = np.concatenate([avail, np.ones((len(rows), 2), bool)], axis=1)
        who = s.key[rows][:, None]
        item_eps = np.zeros(items.shape)
        r, col = np.nonzero(avail)
        item_eps[r, col] = shocks.gumbel(who[r, 0], m.products.col("key")[items[r, col]])
        eps = np.concatenate([item_eps, _outside(shocks, who)], axis=1)
        pick = choose(util, ok, eps)
        _record_paid_choices(m, s, rows, util, ok, pick, pk, ledger)
        bought = pick < k
        s.product[rows[bought]] = items[bought, pick[bought]]
        s.bought_col[rows[bought]] = pick[bought]
        s.rival[rows[pick == k]] = True
    # agentic checkout: the assistant buys its top pick
    ag = np.flatnonzero(s.agentic >= 0)
    s.product[ag] = s.agentic[ag]
    s.bought_col[ag] = 0
    ledger.agentic_purchases = len(ag)
    # external agents compare the platform's best offer with the rival
    ex = np.flatnonzero(s.external)
    if len(ex):
        ci = s.cust[ex]
        cand = sh.ranked[s.cat[ex], : a.candidates]
        net = perceived_value(m, ci, s.cat[ex], np.maximum(cand, 0), true_quality=True)
        noise = draws.normal(s.key[ex][:, None], m.products.col("key")[np.maximum(cand, 0)])
        est = mu[ex][:, None] * net + c.external_agents.noise_sd * noise
        est = np.where(cand >= 0, est, -np.inf)
        best = np.argmax(est, axis=1)
        v_best = est[np.arange(len(ex)), best]
        v_riv = mu[ex] * s.net_rival[ex]
        buy_plat = (v_best >= v_riv) & (v_best > v_none[ex])
        buy_riv = ~buy_plat & (v_riv > v_none[ex])
        s.product[ex[buy_plat]] = cand[buy_plat, best[buy_plat]]
        s.rival[ex[buy_riv]] = True
    # rival channel (online or offline): rival or nothing
    rv = np.flatnonzero(~s.platform & ~s.external)
    if len(rv):
        util = np.stack(
            [v_rival[rv] + c.channel.habit_weight * pop.habit[s.cust[rv]], v_none[rv]], axis=1
        )
        eps = _outside(shocks, s.key[rv][:, None])
        pick = choose(util, np.ones_like(util, bool), eps)
        s.rival[rv[pick == 0]] = True


def _record_paid_choices(
    m: Market,
    s: Sessions,
    rows: NDArray[np.int64],
    util: NDArray[np.float64],
    ok: NDArray[np.bool_],
    pick: NDArray[np.int64],
    own: NDArray[np.float64],
    ledger: Ledger,
) -> None:
    """Book how often considered paid picks are chosen, and how often they would be if
    no one saw them as ads (the same pick valued as an organic pick of equal value:
    advice applied, no ad discount): the logit probability of the paid picks under
    that utility, summed over sessions. Their ratio measures, from choices, how much
    customers avoid paid picks: the recognition gap of the ad-opacity analysis."""
    a = m.config.assistant
    pop = m.customers
    cols = np.arange(PICKS.start, PICKS.stop)
    paid = s.paid[rows][:, cols] & ok[:, cols]
    has = paid.any(axis=1)
    if not has.any():
        return
    r = np.flatnonzero(has)
    ci = s.cust[rows[r]]
    considered = s.consider[rows[r]][:, cols] >= 0
    as_organic = advised_value(
        a.advice_reliance, pop.trust[ci], considered, own[r], s.reported[rows[r]]
    )
    u = util[r].copy()
    u[:, cols] = np.where(paid[r], as_organic, u[:, cols])
    u = np.where(ok[r], u, -np.inf)
    p = np.exp(u - u.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    ledger.paid_pick_sessions += float(len(r))
    chosen_col = pick[r]
    in_picks = (chosen_col >= PICKS.start) & (chosen_col < PICKS.stop)
    chose_paid = np.zeros(len(r), dtype=bool)
    chose_paid[in_picks] = paid[r][in_picks, chosen_col[in_picks] - PICKS.start]
    ledger.paid_pick_chosen += float(chose_paid.sum())
    ledger.paid_pick_chosen_as_organic += float((p[:, cols] * paid[r]).sum())


def _outside(shocks: Keyed, who: NDArray[np.uint64]) -> NDArray[np.float64]:
    """Shocks of the rival and of not buying, (sessions, 2)."""
    return shocks.gumbel(who, _RIVAL_AND_NONE)
