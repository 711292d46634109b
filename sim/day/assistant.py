"""Phase 4: the assistant — who consults (before search), then its answers.

Who consults is drawn for every platform session, with the assistant off too
(so a paired assistant-off run knows its would-be users), by
:func:`consults`, which runs before search: the chance is the customer's
propensity x trust, scaled by what the customer is doing (dearer categories
more often, ``assistant.consult_price_elasticity``; a category never bought
in ``assistant.unfamiliar_consult_factor`` times as often) and tilted by the
need's intent (:func:`agents.customer.consult_probability`). A consulting
customer examines ``assistant.attention_cost`` less of the results page
(:mod:`sim.day.search_ads`).

:func:`answer` estimates the customer's value of the category's top
candidates with noise that falls with model scale, tilted toward the
platform's own products (``self_preference``) and, when the answer may carry
ads, toward bids (``ad_weight``); "help me decide" returns a top, a budget
and a premium pick (:func:`agents.assistant.help_me_decide`). The answer
reports its (tilted) estimate of each pick's value; a customer who does not
see a pick as an ad moves her own valuation toward that estimate by
``advice_reliance`` x trust (:mod:`sim.day.choice`), which can raise or lower
it. A pick that is there only because of its bid is a paid placement,
charged to its campaign at its bid. Paid picks are recognised as ads with the
customer's literacy (much less when blended). The picks enter the session's
``PICKS`` block.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from agents.assistant import Assistant, help_me_decide, recognition_probability
from agents.customer import consult_probability
from sim.day.offers import perceived_value
from sim.day.state import N_PICKS, PICKS, Ledger, Market, Sessions
from sim.rng import Keyed
from sim.search import click_probability

__all__ = ["answer", "consults", "live_bids"]

# slots of the assistant stream's draws
_CONSULT, _ESTIMATE, _RECOGNISE, _AGENTIC, _OPEN = range(5)


def live_bids(m: Market) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per product: the bid of the campaign advertising it (0 if none or out of budget) and
    that campaign's row (-1)."""
    n = len(m.products)
    bid = np.zeros(n, dtype=np.int64)
    row = np.full(n, -1, dtype=np.int64)
    ads = m.ads
    live = np.flatnonzero(
        ads.col("active") & (ads.col("spend_today_cents") < ads.col("budget_cents"))
    )
    bid[ads.col("product")[live]] = ads.col("bid_cents")[live]
    row[ads.col("product")[live]] = live
    return bid, row


def consults(m: Market, s: Sessions, draws: Keyed) -> None:
    """Set ``s.would_consult`` (drawn whether or not the assistant is on) and ``s.consult``.

    The draw is keyed by the session (slot ``_CONSULT`` of the assistant
    stream), so the same sessions would consult in every run of the seed
    that reaches them with the same customer state.
    """
    c = m.config
    a = c.assistant
    pop = m.customers
    s.would_consult = np.zeros(s.n, dtype=bool)
    rows = np.flatnonzero(s.platform)
    ci, cat = s.cust[rows], s.cat[rows]
    price = m.category_price.astype(np.float64)
    reference = float(np.exp(np.mean(np.log(np.maximum(price, 1.0)))))
    context = (np.maximum(price[cat], 1.0) / reference) ** a.consult_price_elasticity
    context = np.where(pop.familiar(ci, cat), context, context * a.unfamiliar_consult_factor)
    p_consult = consult_probability(
        pop.assistant_propensity[ci] * context,
        pop.trust[ci],
        s.intent[rows],
        a.intent_consult_elasticity,
        c.customers.intent_sd,
    )
    rows = rows[draws.uniform(s.key[rows], _CONSULT) < p_consult]
    s.would_consult[rows] = True
    s.consult = s.would_consult.copy() if a.enabled else np.zeros(s.n, dtype=bool)


def answer(m: Market, s: Sessions, assistant: Assistant, ledger: Ledger, draws: Keyed) -> None:
    """Answer today's consults (``s.consult``, set by :func:`consults`): fill the picks
    block of ``s`` and the estimates the answer reports (``s.reported``).

    Parameters
    ----------
    m
        The market (customers' consult counters and campaign spend are updated).
    s
        Today's sessions after search.
    assistant
        The assistant (policy, noise and cost per consult; its counters grow).
    ledger
        Today's totals.
    draws
        The assistant stream: agentic checkout is keyed by session, estimate
        noise by (session, product), recognition of a paid pick by (session,
        pick slot).
    """
    c = m.config
    a = c.assistant
    s.agentic = np.full(s.n, -1, dtype=np.int64)
    s.reported = np.zeros((s.n, N_PICKS))
    if not a.enabled:
        return
    pop = m.customers
    sh = m.shelf
    assert sh is not None
    rows = np.flatnonzero(s.consult)
    ledger.assistant_consults = len(rows)
    if len(rows) == 0:
        return
    ci = s.cust[rows]
    cat = s.cat[rows]
    cand = sh.ranked[cat, : a.candidates]
    valid = cand >= 0
    safe = np.maximum(cand, 0)
    net = perceived_value(m, ci, cat, safe, true_quality=True)
    p = m.products
    who = s.key[rows][:, None]
    noise = draws.normal(who, _ESTIMATE, p.col("key")[safe])
    est = pop.price_sensitivity[ci][:, None] * net + assistant.noise_sd * noise
    score = est + a.self_preference * p.col("own")[safe]
    price = p.col("price_cents")[safe].astype(np.float64)
    signal = sh.rating[safe]
    picks_org = help_me_decide(score, price, signal, valid)
    org_items = np.where(picks_org >= 0, np.take_along_axis(cand, np.maximum(picks_org, 0), 1), -1)
    picks = org_items
    reported = np.take_along_axis(score, np.maximum(picks_org, 0), 1)
    paid = np.zeros(picks.shape, dtype=bool)
    ad_rows = np.full(picks.shape, -1, dtype=np.int64)
    if assistant.shows_ads and len(m.ads) > 0:  # no campaigns is a valid market
        bid_of = live_bids(m)
        bid = bid_of[0][safe]
        mean_bid = np.maximum(sh.category_mean_bid[cat], 1.0)[:, None]
        tilted = score + a.ad_weight * bid / mean_bid
        picks_ad = help_me_decide(tilted, price, signal, valid)
        picks = np.where(picks_ad >= 0, np.take_along_axis(cand, np.maximum(picks_ad, 0), 1), -1)
        reported = np.take_along_axis(tilted, np.maximum(picks_ad, 0), 1)
        advertised = np.take_along_axis(bid, np.maximum(picks_ad, 0), 1) > 0
        in_organic = (picks[:, :, None] == org_items[:, None, :]).any(axis=2)
        paid = (picks >= 0) & advertised & ~in_organic
        ad_rows = np.where(paid, bid_of[1][np.maximum(picks, 0)], -1)
        price_paid = np.where(paid, m.ads.col("bid_cents")[np.maximum(ad_rows, 0)], 0)
        np.add.at(m.ads.col("spend_today_cents"), ad_rows[paid], price_paid[paid])
        np.add.at(m.ads.col("clicks"), ad_rows[paid], 1)
        ledger.ad_revenue_assistant_cents += float(price_paid.sum())
    p_rec = recognition_probability(pop.ad_literacy[ci], a.ad_mode, a.blended_recognition_factor)
    u_rec = draws.uniform(who, _RECOGNISE, np.arange(N_PICKS))
    recognised = paid & (u_rec < p_rec[:, None])
    n_paid = paid.sum(axis=1)
    np.add.at(pop.ads_seen, ci, n_paid)
    np.add.at(pop.ads_recognised, ci, recognised.sum(axis=1))
    np.add.at(pop.consults, ci, 1)
    ledger.assistant_picks += float((picks >= 0).sum())
    ledger.assistant_ad_picks += float(paid.sum())
    ledger.ads_recognised += float(recognised.sum())
    inference = len(rows) * assistant.cost_per_consult_cents
    ledger.inference_cost_cents += inference
    assistant.inference_cost_cents += inference
    assistant.consults += len(rows)
    assistant.paid_placements += int(paid.sum())
    assert picks.shape[1] == N_PICKS
    if a.answers_enter_choice:
        s.consider[rows, PICKS] = np.where(
            _opened(m, s, rows, picks, reported, recognised, draws), picks, -1
        )
    s.advice[rows, PICKS] = (picks >= 0) & ~recognised
    s.reported[rows] = np.where(picks >= 0, reported, 0.0)
    s.paid[rows, PICKS] = paid
    s.recognised[rows, PICKS] = recognised
    s.ad_row[rows, PICKS] = ad_rows
    pop.last_consult_day[ci] = m.day
    pop.last_consult_category[ci] = cat
    agentic = draws.uniform(s.key[rows], _AGENTIC) < a.agentic_checkout_share
    s.agentic[rows[agentic]] = picks[agentic, 0]


def _opened(
    m: Market,
    s: Sessions,
    rows: NDArray[np.int64],
    picks: NDArray[np.int64],
    reported: NDArray[np.float64],
    recognised: NDArray[np.bool_],
    draws: Keyed,
) -> NDArray[np.bool_]:
    """Which picks the customer opens, like a click on a result: with the click
    probability of how good the pick looks to her (her own valuation moved toward the
    reported one by reliance x trust; a recognised ad discounted) against not buying.
    Keyed by (session, product), slot ``_OPEN``."""
    c = m.config
    a = c.assistant
    pop = m.customers
    ci = s.cust[rows]
    safe = np.maximum(picks, 0)
    own = pop.price_sensitivity[ci][:, None] * perceived_value(m, ci, s.cat[rows], safe)
    weight = a.advice_reliance * pop.trust[ci][:, None] * ~recognised
    looks = own + weight * (reported - own) - a.recognised_ad_discount * recognised
    p_open = click_probability(looks - c.customers.no_purchase_value, c.customers.click_base)
    u = draws.uniform(s.key[rows][:, None], _OPEN, m.products.col("key")[safe])
    return (picks >= 0) & (u < p_open)
