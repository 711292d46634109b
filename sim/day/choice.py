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

The platform sessions' utilities and the uniforms of their shocks come from one
compiled pass (:func:`sim.kernels.choice_utilities`), the Gumbel transform from
NumPy (numba's ``log`` can differ in the last bit) and the argmax from another
(:func:`sim.kernels.argmax_shocked`), equal to the NumPy composition of valuation,
advice and keyed shocks (``tests/test_kernels.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim import kernels
from sim.day.offers import advised_value, perceived_value, session_value_inputs
from sim.day.state import PICKS, Ledger, Market, Sessions
from sim.rng import Keyed, as_words

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
    a = c.assistant
    sh = m.shelf
    assert sh is not None
    s.product = np.full(s.n, -1, dtype=np.int64)
    s.rival = np.zeros(s.n, dtype=bool)
    s.bought_col = np.full(s.n, -1, dtype=np.int64)
    mu = s.price_sensitivity
    # no_purchase_value - intent and mu x net_rival - habit_weight x habit, in one pass
    v_rival, v_none = kernels.outside_values(
        mu, s.net_rival, s.habit, float(c.channel.habit_weight), s.intent,
        float(c.customers.no_purchase_value),
    )  # fmt: skip
    # platform sessions: considered items + rival + none
    # the platform's choosers, agentic checkouts, external agents and the rival channel
    rows, ag, ex, rv = kernels.choice_groups(s.platform, s.agentic, s.external)
    if len(rows):
        # considered items (duplicates counted once), valued and shocked where available
        # (only those are read: the choice and the paid-pick record mask the rest); a
        # pick's value moved toward the assistant's estimate (advice, advised_value) and
        # discounted where recognised as an ad (only picks can be: the page loses 0)
        k = s.consider.shape[1]
        start, col, util, u, paid_ok, pk = kernels.choice_utilities(
            rows, s.consider, s.cat, mu, s.trust, s.advice, s.reported,
            s.recognised, s.paid, float(a.advice_reliance), float(a.recognised_ad_discount),
            PICKS.stop, v_rival, v_none, m.category_price.astype(np.float64),
            *session_value_inputs(m, s), shocks.key, s.key, as_words(m.products.col("key")),
            as_words(_RIVAL_AND_NONE),
        )  # fmt: skip
        # the Gumbel shocks are -log(-log(u)): the kernel subtracts log(-log(u)), the same
        # numbers (x - y is x + (-y) exactly), worked out in place in u's own buffer
        np.log(u, out=u)
        np.negative(u, out=u)
        np.log(u, out=u)
        # (the argmax books each session's choice: product, bought column or the rival)
        pick = kernels.argmax_shocked(
            start, col, util, u, rows, s.consider, s.product, s.bought_col, s.rival
        )
        choices = _Choices(start, col, util, paid_ok, pk, k + 2)
        _record_paid_choices(m, s, rows, choices, pick, ledger)
    # agentic checkout: the assistant buys its top pick
    s.product[ag] = s.agentic[ag]
    s.bought_col[ag] = 0
    ledger.agentic_purchases = len(ag)
    # external agents compare the platform's best offer with the rival
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
    if len(rv):
        # the shocks' log(-log(u)) in place (the Gumbel shock is its negative), then the
        # choice in one compiled pass; an option's shocks form a row, so each pass runs
        # along the sessions (a last axis of two is slow to broadcast over)
        g = shocks.uniform(s.key[rv], _RIVAL_AND_NONE[:, None])
        np.log(g, out=g)
        np.negative(g, out=g)
        np.log(g, out=g)
        kernels.rival_or_nothing(
            rv, v_rival, s.habit, float(c.channel.habit_weight), v_none, g, s.rival
        )


@dataclass(frozen=True)
class _Choices:
    """The platform sessions' available alternatives (:func:`sim.kernels.choice_utilities`):
    row ``i``'s are ``start[i]:start[i + 1]``, with their columns and utilities; the
    available paid picks and the picks' own valuations; ``width`` columns in all."""

    start: NDArray[np.int64]
    col: NDArray[np.int16]
    util: NDArray[np.float64]
    paid_ok: NDArray[np.bool_]
    own: NDArray[np.float64]
    width: int

    def utilities(self, r: NDArray[np.int64]) -> NDArray[np.float64]:
        """The (rows ``r``, columns) block of utilities, -inf where unavailable."""
        lo, hi = self.start[r], self.start[r + 1]
        entry = np.repeat(hi - np.cumsum(hi - lo), hi - lo) + np.arange(int((hi - lo).sum()))
        block = np.full((len(r), self.width), -np.inf)
        block[np.repeat(np.arange(len(r)), hi - lo), self.col[entry]] = self.util[entry]
        return block


def _record_paid_choices(
    m: Market,
    s: Sessions,
    rows: NDArray[np.int64],
    choices: _Choices,
    pick: NDArray[np.int64],
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
    paid = choices.paid_ok
    # the rows with a paid pick, in one pass (NumPy's any(axis=1) over rows of three
    # entries is many times slower)
    r = kernels.rows_with_any(paid)
    if len(r) == 0:
        return
    ci = s.cust[rows[r]]
    considered = s.consider[rows[r], PICKS] >= 0
    as_organic = advised_value(
        a.advice_reliance, pop.trust[ci], considered, choices.own[r], s.reported[rows[r]]
    )
    u = choices.utilities(r)
    u[:, cols] = np.where(paid[r], as_organic, u[:, cols])
    p = np.exp(u - u.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    ledger.paid_pick_sessions += float(len(r))
    chosen_col = pick[r]
    in_picks = (chosen_col >= PICKS.start) & (chosen_col < PICKS.stop)
    chose_paid = np.zeros(len(r), dtype=bool)
    chose_paid[in_picks] = paid[r][in_picks, chosen_col[in_picks] - PICKS.start]
    ledger.paid_pick_chosen += float(chose_paid.sum())
    ledger.paid_pick_chosen_as_organic += float((p[:, cols] * paid[r]).sum())
