"""Phase 4: the assistant — who consults (before search), then its answers.

Who consults is drawn for every platform session, with the assistant off too
(so a paired assistant-off run knows its would-be users), by
:func:`consults`, which runs before search: the chance is the customer's
propensity x trust, scaled by what the customer is doing (dearer categories
more often, ``assistant.consult_price_elasticity``; a category never bought
in ``assistant.unfamiliar_consult_factor`` times as often; a customer who has
not consulted for a year, whom the platform prompts to try it,
``assistant.lapsed_consult_factor`` times as often) and tilted by the
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

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

from agents.assistant import Assistant, help_me_decide, recognition_probability
from agents.customer import ACTIVE_DAYS, tilted_consult_probability
from sim import kernels
from sim.auctions import allocate
from sim.day.offers import advised_value, perceived_value
from sim.day.search_ads import batches, mean_patience
from sim.day.state import N_PICKS, PICKS, Ledger, Market, Sessions
from sim.rng import Keyed, as_words
from sim.search import click_probability

__all__ = [
    "SlotSale",
    "answer",
    "answer_batch",
    "consults",
    "displaced_value_gap",
    "live_bids",
    "sell_answer_slots",
    "start_answers",
]

# slots of the assistant stream's draws
_CONSULT, _ESTIMATE, _RECOGNISE, _AGENTIC, _OPEN, _PACING, _AD_QUALITY, _MARKET_OPENS = range(8)


def live_bids(m: Market) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per product: the answer-slot bid of the campaign advertising it (0 if none or out
    of budget at the start of the batch) and that campaign's row (-1)."""
    n = len(m.products)
    bid = np.zeros(n, dtype=np.int64)
    row = np.full(n, -1, dtype=np.int64)
    ads = m.ads
    live = np.flatnonzero(ads.live())
    bid[ads.col("product")[live]] = ads.col("assistant_bid_cents")[live]
    row[ads.col("product")[live]] = live
    return bid, row


@dataclass(frozen=True)
class SlotSale:
    """The answer slots sold in today's consults, (consults, N_PICKS) each.

    ``paid`` marks a sold slot, ``items`` the winning campaign's product there,
    ``ad_rows`` its campaign row (-1), ``price_cents`` its price per open,
    ``reported`` the estimate the answer reports for it (tilted by the bid) and
    ``columns`` its column among the answer's candidates (-1)."""

    paid: NDArray[np.bool_]
    items: NDArray[np.int64]
    ad_rows: NDArray[np.int64]
    price_cents: NDArray[np.int64]
    reported: NDArray[np.float64]
    columns: NDArray[np.int64]


def sell_answer_slots(
    m: Market,
    s: Sessions,
    rows: NDArray[np.int64],
    cand: NDArray[np.int64],
    score: NDArray[np.float64],
    picks_org: NDArray[np.int64],
    draws: Keyed,
) -> SlotSale:
    """Auction the last ``assistant.ad_slots`` slots of each answer, like search slots.

    The bidders of an answer are the campaigns advertising one of its retrieved
    candidates (``cand``, columns of ``score``) that are live (active, budget
    left at the start of the phase), pass their pacing draw, bid at least the
    reserve and meet the relevance floor of search (``ads.min_relevance``) and
    that of the answer: the candidate's estimate tilted by its bid,
    ``score + ad_weight x bid / category mean bid``, must reach the estimate of
    the weakest organic pick it could replace. Candidates already an unsold
    organic pick do not bid. They are ranked by bid x quality, where quality is
    the assistant's predicted chance that the customer opens the pick (its
    estimate through the click model, with the search auction's quality noise),
    and priced by ``ads.format`` (:func:`sim.auctions.allocate`, the search
    auction's rule) per open, best winner in the first sold slot.
    """
    c = m.config
    a = c.assistant
    ads = m.ads
    sh = m.shelf
    assert sh is not None
    n, k = len(rows), a.ad_slots
    sold = np.arange(N_PICKS - k, N_PICKS)
    safe = np.maximum(cand, 0)
    bid_of, row_of = live_bids(m)
    bid, camp = bid_of[safe], row_of[safe]
    cat = s.cat[rows]
    mean_bid = np.maximum(sh.category_mean_bid[cat], 1.0)[:, None]
    tilted = score + a.ad_weight * bid / mean_bid
    org_score = np.where(
        picks_org >= 0, np.take_along_axis(score, np.maximum(picks_org, 0), 1), -np.inf
    )
    floor = org_score[:, sold].min(axis=1)
    who = s.key[rows][:, None]
    campaign_key = ads.col("key")[np.maximum(camp, 0)]
    paced, _ = draws.paced_bids(
        who[:, 0],
        _PACING,
        np.where(cand >= 0, camp, -1),
        ads.col("key"),
        ads.col("pacing"),
        ads.col("bid_cents"),
    )
    unsold = np.where(picks_org[:, : N_PICKS - k] >= 0, picks_org[:, : N_PICKS - k], -1)
    # one comparison per unsold pick (NumPy's any over a short last axis is slow)
    already = np.zeros(cand.shape, dtype=bool)
    for pick in unsold.T:
        already |= np.arange(cand.shape[1]) == pick[:, None]
    eligible = (
        (cand >= 0)
        & (camp >= 0)
        & paced
        & (bid >= max(c.ads.reserve_cents, 1))
        & (sh.rating[safe] >= c.ads.min_relevance)
        & (tilted >= floor[:, None])
        & ~already
    )
    # quality only for the campaigns that bid (a campaign that does not bid never wins)
    r, col = np.nonzero(eligible)
    p_open = click_probability(
        score[r, col] - c.customers.no_purchase_value, c.customers.click_base
    )
    noise = draws.normal_where(who[:, 0], _AD_QUALITY, campaign_key, eligible)
    quality = np.ones(cand.shape)
    quality[r, col] = np.maximum(p_open * np.exp(c.ads.quality_noise_sd * noise), 1e-9)
    slot_ctr = c.customers.click_base * mean_patience(m) ** np.arange(k)
    alloc = allocate(
        np.where(eligible, bid, 0), quality, slot_ctr, c.ads.reserve_cents, c.ads.format
    )
    won = alloc.winners >= 0
    col = np.maximum(alloc.winners, 0)
    out = SlotSale(
        paid=np.zeros((n, N_PICKS), dtype=bool),
        items=np.full((n, N_PICKS), -1, dtype=np.int64),
        ad_rows=np.full((n, N_PICKS), -1, dtype=np.int64),
        price_cents=np.zeros((n, N_PICKS), dtype=np.int64),
        reported=np.zeros((n, N_PICKS)),
        columns=np.full((n, N_PICKS), -1, dtype=np.int64),
    )
    out.paid[:, sold] = won
    out.columns[:, sold] = np.where(won, col, -1)
    out.items[:, sold] = np.where(won, np.take_along_axis(cand, col, 1), -1)
    out.ad_rows[:, sold] = np.where(won, np.take_along_axis(camp, col, 1), -1)
    out.price_cents[:, sold] = np.where(won, alloc.price_cents, 0)
    out.reported[:, sold] = np.where(won, np.take_along_axis(tilted, col, 1), 0.0)
    return out


def displaced_value_gap(
    net: NDArray[np.float64],
    picks_org: NDArray[np.int64],
    sale: SlotSale,
    category_price: NDArray[np.int64],
) -> NDArray[np.float64]:
    """What a sold slot does to the customer who takes the pick: the paid pick's value to
    her minus that of the organic pick it displaced, in cents, (consults, N_PICKS).

    ``net`` is the candidates' net value in category prices with their latent quality
    (what the customer gets, not what she expects), ``picks_org`` the organic picks'
    candidate columns; 0 wherever no slot was sold or no organic pick was displaced.
    A negative gap is the direct cost of a paid pick, measured within the session:
    the ad-opacity analysis sets it against how often customers take paid picks.

    >>> sale = SlotSale(np.array([[False, True]]), np.array([[-1, 7]]), np.array([[-1, 0]]),
    ...                 np.array([[0, 50]]), np.zeros((1, 2)), np.array([[-1, 2]]))
    >>> displaced_value_gap(np.array([[0.1, 0.3, 0.2]]), np.array([[0, 1]]), sale,
    ...                     np.array([1000])).round(6).tolist()
    [[0.0, -100.0]]
    """
    paid_value = np.take_along_axis(net, np.maximum(sale.columns, 0), 1)
    organic_value = np.take_along_axis(net, np.maximum(picks_org, 0), 1)
    displacing = sale.paid & (picks_org >= 0)
    gap = (paid_value - organic_value) * np.asarray(category_price, np.float64)[:, None]
    return np.where(displacing, gap, 0.0)


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
    price = m.category_price.astype(np.float64)
    reference = float(np.exp(np.mean(np.log(np.maximum(price, 1.0)))))
    # per category (the same power for each session of it)
    context = (np.maximum(price, 1.0) / reference) ** a.consult_price_elasticity
    # unfamiliar categories more often, and the platform prompts customers who have not
    # used the assistant for a year to try it; the base chance propensity x context x
    # trust (agents.customer.consult_probability) in one pass over the sessions' customers
    bought = pop.bought_categories
    s.trust = np.full(s.n, np.nan)
    base = kernels.consult_bases(
        rows, s.cust, s.cat, context, bought.reshape(-1), bought.shape[1],
        pop.last_would_consult_day, m.day, ACTIVE_DAYS, float(a.unfamiliar_consult_factor),
        float(a.lapsed_consult_factor), pop.assistant_propensity, pop.trust, s.trust,
    )  # fmt: skip
    p_consult = tilted_consult_probability(
        base, s.intent[rows], a.intent_consult_elasticity, c.customers.intent_sd
    )
    # rows[draws.uniform(s.key[rows], _CONSULT) < p_consult], in one pass
    rows = kernels.rows_drawn(rows, as_words(s.key), draws.key, as_words(_CONSULT), p_consult)
    s.would_consult[rows] = True
    pop.last_would_consult_day[s.cust[rows]] = m.day
    s.consult = s.would_consult.copy() if a.enabled else np.zeros(s.n, dtype=bool)


def start_answers(m: Market, s: Sessions, ledger: Ledger) -> None:
    """Empty the session's answer fields and count today's consults."""
    s.agentic = np.full(s.n, -1, dtype=np.int64)
    s.reported = np.zeros((s.n, N_PICKS))
    s.pick_gap = np.zeros((s.n, N_PICKS))
    if m.config.assistant.enabled:
        ledger.assistant_consults = int(np.count_nonzero(s.consult))


def answer(m: Market, s: Sessions, assistant: Assistant, ledger: Ledger, draws: Keyed) -> None:
    """Every consult's answer, batch by batch, after search (tests of this phase alone;
    the day interleaves search and answers, :func:`sim.day.placements.search_and_answer`)."""
    start_answers(m, s, ledger)
    for rows in batches(m, s):
        m.ads.open_batch()
        answer_batch(m, s, rows, assistant, ledger, draws)
        m.ads.close_batch()


def answer_batch(
    m: Market,
    s: Sessions,
    batch: NDArray[np.int64],
    assistant: Assistant,
    ledger: Ledger,
    draws: Keyed,
) -> None:
    """Answer the consults (``s.consult``, set by :func:`consults`) among the sessions in
    ``batch``: fill the picks block of ``s`` and the estimates the answer reports
    (``s.reported``); opened paid picks are charged at once, so later batches meet the
    budgets they leave.

    Parameters
    ----------
    m
        The market (customers' consult counters and campaign spend are updated).
    s
        Today's sessions (:func:`start_answers` run).
    batch
        Session rows of this batch (:func:`sim.day.search_ads.batches`).
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
    if not a.enabled:
        return
    pop = m.customers
    sh = m.shelf
    assert sh is not None
    rows = batch[s.consult[batch]]
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
    # draws.normal(who, _ESTIMATE, p.col("key")[safe]): the uniforms in one pass
    product_key = as_words(p.col("key"))
    who_words = as_words(who[:, 0])
    noise = ndtri(
        kernels.product_units(draws.key, who_words, as_words(_ESTIMATE), product_key, safe)
    )
    mu = pop.price_sensitivity[ci]
    est = mu[:, None] * net + assistant.noise_sd * noise
    score = est + a.self_preference * p.col("own")[safe]
    price = p.col("price_cents")[safe].astype(np.float64)
    signal = sh.rating[safe]
    # (a category's candidates have the same prices and ratings: medians once per category)
    picks_org = help_me_decide(score, price, signal, valid, cat)
    org_items = np.where(picks_org >= 0, np.take_along_axis(cand, np.maximum(picks_org, 0), 1), -1)
    picks = org_items
    reported = np.take_along_axis(score, np.maximum(picks_org, 0), 1)
    paid = np.zeros(picks.shape, dtype=bool)
    ad_rows = np.full(picks.shape, -1, dtype=np.int64)
    price_per_open = np.zeros(picks.shape, dtype=np.int64)
    if assistant.shows_ads and len(m.ads) > 0 and a.ad_slots > 0:  # no campaigns is valid
        sale = sell_answer_slots(m, s, rows, cand, score, picks_org, draws)
        picks = np.where(sale.paid, sale.items, picks)
        reported = np.where(sale.paid, sale.reported, reported)
        paid, ad_rows, price_per_open = sale.paid, sale.ad_rows, sale.price_cents
        s.pick_gap[rows] = displaced_value_gap(net, picks_org, sale, m.category_price[cat])
        displacing = paid & (picks_org >= 0)
        ledger.sold_slots_displacing += float(displacing.sum())
        ledger.sold_slot_value_gap_cents += float(s.pick_gap[rows].sum())
    p_rec = recognition_probability(pop.ad_literacy[ci], a.ad_mode, a.blended_recognition_factor)
    u_rec = draws.uniform(who, _RECOGNISE, np.arange(N_PICKS))
    recognised = paid & (u_rec < p_rec[:, None])
    ledger.assistant_picks += float((picks >= 0).sum())
    ledger.assistant_ad_picks += float(paid.sum())
    ledger.ads_recognised += float(recognised.sum())
    inference = len(rows) * assistant.cost_per_consult_cents
    ledger.inference_cost_cents += inference
    # the assistant's own accounts are in market units
    assistant.inference_cost_cents += inference * m.weight
    assistant.consults += len(rows) * m.weight
    assistant.paid_placements += float(paid.sum()) * m.weight
    assert picks.shape[1] == N_PICKS
    if a.answers_enter_choice:
        p_open = _open_probability(m, ci, cat, mu, picks, reported, recognised)
        safe_picks = np.maximum(picks, 0)
        key = m.products.col("key")[safe_picks]
        u_open = kernels.product_units(
            draws.key, who_words, as_words(_OPEN), product_key, safe_picks
        )
        opened = (picks >= 0) & (u_open < p_open)
        s.consider[rows, PICKS] = np.where(opened, picks, -1)
        # a paid pick is charged per open, like a click on a sponsored result: the
        # market's opens of the answer this session stands for
        who_paid, col_paid = np.nonzero(paid)
        opens = draws.poisson(
            m.weight * p_open[who_paid, col_paid],
            who[who_paid, 0], _MARKET_OPENS, key[who_paid, col_paid],
        )  # fmt: skip
        sold = opens > 0
        spent = m.ads.charge(
            ad_rows[who_paid, col_paid][sold],
            opens[sold],
            price_per_open[who_paid, col_paid][sold],
            assistant=True,
        )
        ledger.ad_revenue_assistant_cents += float(spent.sum())
        ledger.assistant_ad_clicks += float((paid & opened).sum())
    # into the sessions' PICKS columns (the first) and the customers' last consult and
    # counters: advice = picks >= 0 & ~recognised, reported where picks >= 0 (else 0),
    # paid, recognised, ad rows; last consult day and category; add_at of the paid and
    # recognised picks per answer and of 1 to ads seen, recognised and consults
    assert PICKS.start == 0
    kernels.store_answers(
        rows, picks, reported, paid, recognised, ad_rows, s.advice, s.reported, s.paid,
        s.recognised, s.ad_row, ci, m.day, cat, pop.last_consult_day, pop.last_consult_category,
        pop.ads_seen, pop.ads_recognised, pop.consults,
    )  # fmt: skip
    agentic = draws.uniform(who[:, 0], _AGENTIC) < a.agentic_checkout_share
    s.agentic[rows[agentic]] = picks[agentic, 0]


def _open_probability(
    m: Market,
    ci: NDArray[np.int64],
    cat: NDArray[np.int64],
    mu: NDArray[np.float64],
    picks: NDArray[np.int64],
    reported: NDArray[np.float64],
    recognised: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """The chance that the customer opens each pick, like a click on a result: the
    click probability of how good the pick looks to her (her own valuation moved toward
    the reported one by reliance x trust; a recognised ad discounted) against not
    buying, for the consulting customers ``ci`` in categories ``cat`` with price
    sensitivities ``mu``. Opens are keyed by (session, product), slot ``_OPEN``."""
    c = m.config
    a = c.assistant
    pop = m.customers
    safe = np.maximum(picks, 0)
    own = mu[:, None] * perceived_value(m, ci, cat, safe)
    advised = advised_value(a.advice_reliance, pop.trust[ci], ~recognised, own, reported)
    looks = advised - a.recognised_ad_discount * recognised
    return click_probability(looks - c.customers.no_purchase_value, c.customers.click_base)
