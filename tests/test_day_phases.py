"""Each phase of the day run alone on a small market built without the Mesa model.

These tests import the phase modules of ``sim.day`` and the state they work
on, never ``sim.model``: a phase is a function of the market, today's
sessions and ledger, and its random stream.
"""

from __future__ import annotations

import numpy as np
import pytest

from agents.assistant import Assistant
from sim.config import Config
from sim.day import (
    advertisers,
    assistant,
    channel,
    choice,
    delivery,
    membership,
    needs,
    network,
    ranking,
    record,
    search_ads,
    sellers,
)
from sim.day.setup import build_market
from sim.day.state import PAGE, PICKS, Ledger, Market, Sessions
from sim.prime import PrimeState
from sim.rng import Streams


class _Model:
    """The least a Mesa agent needs of a model (the assistant is a Mesa agent)."""

    def __init__(self) -> None:
        import mesa

        self._model = mesa.Model(seed=1)

    def agent(self, cfg: Config) -> Assistant:
        return Assistant(self._model, cfg.assistant)


def _config(**changes: object) -> Config:
    base: dict[str, object] = {
        "run.n_customers": 5000,
        "run.days": 10,
        "run.burn_in_days": 0,
        "attribution.counterfactual_twin": False,
    }
    base.update({k.replace("__", ".", 1): v for k, v in changes.items()})
    return Config().evolve(base)


def _market(seed: int = 3, **changes: object) -> tuple[Market, Streams]:
    cfg = _config(**changes)
    streams = Streams(seed)
    m, _, _ = build_market(cfg, streams)
    m.shelf = ranking.rank(cfg, m.products, m.ads, m.category_price, streams["ranking"])
    return m, streams


def _through(phase: str, m: Market, streams: Streams, ledger: Ledger, **kw) -> Sessions:
    """Run the phases up to and including ``phase`` on day ``m.day``."""
    order = ["needs", "channel", "search", "assistant", "choice"]
    s = needs.arrive(m.config, m.customers, m.n_categories, streams.__getitem__)
    rival = np.full(m.n_categories, m.config.rival.price_index)
    if order.index(phase) >= 1:
        channel.choose(m, s, rival)
    if order.index(phase) >= 2:
        search_ads.search_and_auctions(m, s, ledger, streams["auction"])
    if order.index(phase) >= 3:
        agent = kw.get("agent") or _Model().agent(m.config)
        assistant.answer(m, s, agent, ledger, streams["assistant"])
    if order.index(phase) >= 4:
        choice.decide(m, s, ledger, streams["external"])
    return s


def test_needs_are_a_function_of_the_seed_and_valid() -> None:
    """Two markets of one seed draw the same sessions; customers and categories are in range."""
    (m1, s1), (m2, s2) = _market(5), _market(5)
    a = needs.arrive(m1.config, m1.customers, m1.n_categories, s1.__getitem__)
    b = needs.arrive(m2.config, m2.customers, m2.n_categories, s2.__getitem__)
    assert a.n == b.n > 0
    np.testing.assert_array_equal(a.cust, b.cust)
    np.testing.assert_array_equal(a.cat, b.cat)
    assert a.cust.min() >= 0 and a.cust.max() < m1.customers.n
    assert a.cat.min() >= 0 and a.cat.max() < m1.n_categories
    assert a.gumbel.shape[1] == m1.config.search.page_slots + 5


def test_channel_keeps_offline_customers_off_the_platform() -> None:
    """Nobody offline shops on the platform; with all rural cells offline no rural session does."""
    m, streams = _market(connectivity__rural_offline_share=1.0)
    s = _through("channel", m, streams, Ledger())
    assert not (s.platform & ~s.online).any()
    rural = ~m.network.regions.is_metro[m.customers.region[s.cust]]
    assert rural.any() and not s.online[rural].any()
    assert s.platform.any()


def test_channel_sends_agent_users_to_their_agent_unless_blocked() -> None:
    """With every customer using an external agent, no session reaches platform search."""
    m, streams = _market(external_agents__share=1.0, external_agents__blocked=False)
    s = _through("channel", m, streams, Ledger())
    assert not s.platform.any() and s.external[s.online].all()


def test_search_charges_exactly_the_ad_clicks_it_counts() -> None:
    """Campaign spend added by search equals the search ad revenue in the ledger; the page
    block holds only clicked items of the session's category."""
    m, streams = _market()
    before = m.ads.col("spend_today_cents").sum()
    ledger = Ledger()
    s = _through("search", m, streams, ledger)
    assert ledger.clicks > 0 and ledger.ad_clicks > 0
    assert m.ads.col("spend_today_cents").sum() - before == ledger.ad_revenue_search_cents
    page = s.consider[:, PAGE]
    seen = page >= 0
    cats = m.products.col("category")[page[seen]]
    np.testing.assert_array_equal(cats, np.broadcast_to(s.cat[:, None], page.shape)[seen])
    assert not (s.consider[~s.platform] >= 0).any()


def test_assistant_off_draws_would_be_consulters_but_answers_nobody() -> None:
    """With the assistant off, would-be consulters are drawn, but no pick enters any session."""
    m, streams = _market(assistant__enabled=False)
    ledger = Ledger()
    s = _through("assistant", m, streams, ledger)
    assert s.would_consult.any() and not s.consult.any()
    assert not (s.consider[:, PICKS] >= 0).any() and ledger.assistant_consults == 0


def test_assistant_charges_paid_picks_at_their_bid() -> None:
    """Blended ads: campaign spend from answers equals the assistant ad revenue booked."""
    m, streams = _market(assistant__ad_mode="blended", assistant__ad_weight=5.0)
    ledger = Ledger()
    s = _through("search", m, streams, ledger)
    spent = m.ads.col("spend_today_cents").sum()
    agent = _Model().agent(m.config)
    assistant.answer(m, s, agent, ledger, streams["assistant"])
    assert ledger.assistant_ad_picks > 0
    assert m.ads.col("spend_today_cents").sum() - spent == ledger.ad_revenue_assistant_cents
    assert agent.consults == ledger.assistant_consults
    assert agent.inference_cost_cents == pytest.approx(ledger.inference_cost_cents)
    assert (s.consider[s.consult][:, PICKS] >= 0).any()


def test_choice_buys_only_considered_items() -> None:
    """Every platform purchase is an item the session considered (or the agentic pick)."""
    m, streams = _market()
    s = _through("choice", m, streams, Ledger())
    bought = np.flatnonzero(s.product >= 0)
    assert len(bought) > 0
    considered = (s.consider[bought] == s.product[bought, None]).any(axis=1)
    assert considered.all()
    assert not (s.rival & (s.product >= 0)).any()
    nothing = s.platform & ~(s.consider >= 0).any(axis=1)
    assert not (s.product[nothing] >= 0).any()


def test_delivery_conserves_money() -> None:
    """Customers pay GMV plus shipping fees; sellers' takings add up to GMV; DSI <= orders."""
    m, streams = _market()
    ledger = Ledger()
    s = _through("choice", m, streams, ledger)
    rival = np.full(m.n_categories, m.config.rival.price_index)
    takings = delivery.deliver(m, s, rival, ledger, streams["delivery"], streams["assistant"])
    assert ledger.orders == np.count_nonzero(s.product >= 0) > 0
    assert ledger.customer_payments_cents == ledger.gmv_cents + ledger.shipping_fees_cents
    assert takings.revenue_cents.sum() == ledger.gmv_cents
    assert ledger.dsi_orders <= ledger.orders
    assert m.customers.last_platform_day[s.cust[s.product >= 0]].max() == m.day


def test_membership_charges_every_member_who_stays() -> None:
    """Members due today who value Prime far above its fee all renew and pay once each."""
    m, streams = _market(prime__monthly_fee_cents=1)
    pop = m.customers
    due = np.arange(50)
    pop.prime_state[due] = PrimeState.MEMBER
    pop.plan[due] = 0
    pop.next_decision_day[due] = m.day
    pop.other_benefit_cents[due] = 1e9
    s = needs.arrive(m.config, pop, m.n_categories, streams.__getitem__)
    s.platform = np.zeros(s.n, bool)
    ledger = Ledger()
    membership.decide(m.config.prime, pop, s, m.day, ledger, streams["prime_decisions"])
    assert ledger.prime_renewals == 50 and ledger.prime_cancels == 0
    assert ledger.prime_fees_cents == 50 * m.config.prime.monthly_fee_cents
    assert (pop.last_payment_day[due] == m.day).all()


def test_sellers_with_sustained_losses_leave_with_their_products_and_campaigns() -> None:
    """A seller past the loss limit exits; its products and campaigns stop."""
    m, streams = _market()
    book = m.sellers
    third = np.flatnonzero(book.col("active") & ~book.col("is_platform"))
    loser = third[0]
    book.col("loss_days")[loser] = m.config.sellers.exit_loss_days
    book.col("profit_recent")[loser] = -1e6
    n = len(book)
    zero = np.zeros(n)
    today = delivery.SellerDay(zero, zero, zero, zero, zero, zero)
    changes = sellers.close_day(m, today, Ledger(), streams["entry"])
    assert loser in changes.exited_sellers
    assert not book.col("active")[loser]
    assert not m.products.col("active")[m.products.col("seller") == loser].any()
    assert not m.ads.col("active")[m.ads.col("seller") == loser].any()


def test_advertisers_pace_down_after_running_out() -> None:
    """A campaign that spent its whole budget throttles; every campaign's day spend resets."""
    m, _ = _market()
    ads = m.ads
    assert len(ads) > 0
    ads.col("spend_today_cents")[0] = ads.col("budget_cents")[0]
    pacing = ads.col("pacing")[0]
    ledger = Ledger()
    advertisers.close_day(m, ledger)
    assert ads.col("pacing")[0] < pacing
    assert ledger.ad_budget_exhausted >= 1
    assert (ads.col("spend_today_cents") == 0).all()


def test_network_opens_a_station_where_demand_stays_high() -> None:
    """On a review day, an uncovered metro region with high orders gets a station."""
    m, _ = _market()
    net = m.network
    lg = m.config.logistics
    uncovered = np.flatnonzero(
        (net.service.dist_cells > lg.same_day_radius_cells) & net.regions.is_metro
    )
    assert len(uncovered) > 0
    net.region_orders_ewma[uncovered[0]] = 1e6
    before = len(net.station_region)
    opened = network.expand(net, lg, lg.review_days, m.per_1k, Ledger())
    assert uncovered[0] in opened and len(net.station_region) > before
    assert net.service.dist_cells[uncovered[0]] == 0
    assert len(network.expand(net, lg, lg.review_days + 1, m.per_1k, Ledger())) == 0


def test_ranking_lists_only_active_products_of_each_category() -> None:
    """The shelf ranks listed products in their own category and never a delisted one."""
    m, streams = _market()
    p = m.products
    p.col("active")[0] = False
    shelf = ranking.rank(m.config, p, m.ads, m.category_price, streams["ranking"])
    ranked = shelf.ranked
    ok = ranked >= 0
    assert not (ranked == 0).any()
    cats = np.broadcast_to(np.arange(m.n_categories)[:, None], ranked.shape)
    np.testing.assert_array_equal(p.col("category")[ranked[ok]], cats[ok])


def test_record_of_a_day_without_orders_has_nan_ratios_and_causal_differences() -> None:
    """No orders: per-order ratios are NaN; causal columns are today minus the counterfactual."""
    m, streams = _market()
    s = needs.arrive(m.config, m.customers, m.n_categories, streams.__getitem__)
    s.online = np.zeros(s.n, bool)
    s.external = np.zeros(s.n, bool)
    row = record.daily_row(m, s, Ledger(), None)
    assert np.isnan(row["avg_price_cents"]) and row["orders"] == 0
    assert row["causal_revenue_cents"] is None
    twin = dict(row, gmv_cents=-5, orders=-2, platform_margin_cents=0)
    row = record.daily_row(m, s, Ledger(), twin)
    assert row["causal_revenue_cents"] == 5 and row["causal_orders"] == 2
