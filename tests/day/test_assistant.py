"""The ``assistant`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

import pytest
from phase_market import assistant_agent, market, through

from sim.day import assistant
from sim.day.state import PICKS, Ledger


def test_assistant_off_draws_would_be_consulters_but_answers_nobody() -> None:
    """With the assistant off, would-be consulters are drawn, but no pick enters any session."""
    m, streams = market(assistant__enabled=False)
    ledger = Ledger()
    s = through("assistant", m, streams, ledger)
    assert s.would_consult.any() and not s.consult.any()
    assert not (s.consider[:, PICKS] >= 0).any() and ledger.assistant_consults == 0


def test_assistant_charges_opened_paid_picks_to_their_campaigns() -> None:
    """Blended ads: campaign spend from answers equals the assistant ad revenue booked,
    and no paid pick costs more than its campaign's bid."""
    m, streams = market(assistant__ad_mode="blended", assistant__ad_weight=5.0)
    ledger = Ledger()
    s = through("search", m, streams, ledger)
    spent = m.ads.col("spend_today_cents").sum()
    agent = assistant_agent(m.config)
    assistant.answer(m, s, agent, ledger, streams.keyed("assistant"))
    assert ledger.assistant_ad_picks > 0
    assert m.ads.col("spend_today_cents").sum() - spent == ledger.ad_revenue_assistant_cents
    # the agent's totals are the market's: the sample's times the weight
    assert agent.consults == ledger.assistant_consults * m.weight
    assert agent.inference_cost_cents == pytest.approx(ledger.inference_cost_cents * m.weight)
    assert (s.consider[s.consult][:, PICKS] >= 0).any()
    charged = s.paid[:, PICKS] & (s.consider[:, PICKS] >= 0)
    assert charged.any()
    bids = m.ads.col("bid_cents")[s.ad_row[:, PICKS][charged]]
    assert ledger.ad_revenue_assistant_cents <= bids.sum() * m.weight  # market units


def _one_answer_auction(fmt: str, bids: list[int], reserve: int = 5):  # type: ignore[no-untyped-def]
    """Sell two answer slots of one consult whose four candidates, of equal estimated
    value (so equal quality), are advertised at ``bids`` by four live campaigns."""
    import numpy as np
    from phase_market import sessions_of

    m, streams = market(
        ads__quality_noise_sd=0.0,
        ads__reserve_cents=reserve,
        ads__format=fmt,
        assistant__ad_slots=2,
        assistant__ad_weight=1.0,
    )
    ads = m.ads
    product = ads.col("product")
    _, first = np.unique(product, return_index=True)
    rows4 = first[:4]  # four campaigns of four different products
    ads.col("active")[:] = False
    ads.col("active")[rows4] = True
    ads.col("assistant_bid_cents")[rows4] = bids  # the answer-slot bids
    ads.col("bid_cents")[rows4] = 1  # search bids play no part in the answer auction
    ads.col("pacing")[rows4] = 1.0
    ads.col("budget_cents")[rows4] = 10**9
    ads.col("spend_today_cents")[rows4] = 0
    m.shelf.rating[product[rows4]] = 0.9
    s = sessions_of(m, streams)
    cand = product[rows4][None, :].astype(np.int64)
    sale = assistant.sell_answer_slots(
        m,
        s,
        np.array([0]),
        cand,
        np.zeros((1, 4)),
        np.full((1, 3), -1, dtype=np.int64),  # no organic pick: no floor
        streams.keyed("assistant"),
    )
    bid_of = dict(zip(product[rows4].tolist(), bids, strict=True))
    won = [bid_of[int(p)] for p in sale.items[0, 1:]]
    ratio = float(np.mean(m.customers.patience))  # click rate of slot 2 / slot 1
    return won, sale.price_cents[0, 1:].tolist(), sale.paid[0].tolist(), ratio


def test_answer_slots_are_sold_at_the_textbook_prices_of_the_search_auction() -> None:
    """Bids 100, 80, 60, 30 cents of equal quality for two answer slots: the two highest
    win in order; GSP charges the next bid plus a cent (81, 61), first price the bids,
    VCG the externality (slot click rates with ratio r = c2/c1: (1-r) x 80 + r x 60,
    then 60), as for search slots."""
    bids = [100, 80, 60, 30]
    won, price, paid, _ = _one_answer_auction("gsp", bids)
    assert paid == [False, True, True] and won == [100, 80]
    assert price == [81, 61]
    won, price, _, _ = _one_answer_auction("first_price", bids)
    assert won == [100, 80] and price == [100, 80]
    won, price, _, r = _one_answer_auction("vcg", bids)
    assert won == [100, 80] and price[1] == 60
    assert abs(price[0] - ((1 - r) * 80 + r * 60)) <= 1


def test_customers_who_have_not_consulted_for_a_year_are_prompted_more_often() -> None:
    """With ``lapsed_consult_factor`` 4, a session of a customer whose last (would-be)
    consult is over a year back consults about four times as often as one of a customer
    who consulted last month; with factor 1 their rates agree. The draw records the
    day of each would-be consult."""
    import numpy as np

    def rates(factor: float) -> tuple[float, float, bool]:
        m, streams = market(
            run__n_customers=40_000,
            assistant__lapsed_consult_factor=factor,
            customers__assistant_propensity_mean=0.03,
            assistant__unfamiliar_consult_factor=1.0,
        )
        m.day = 400
        pop = m.customers
        lapsed = np.arange(pop.n) % 2 == 0
        pop.last_would_consult_day[:] = np.where(lapsed, 0, 370)
        s = through("consults", m, streams, Ledger())
        on = np.flatnonzero(s.platform)
        was_lapsed = lapsed[s.cust[on]]
        recorded = bool((pop.last_would_consult_day[s.cust[s.would_consult]] == 400).all())
        return (
            float(s.would_consult[on][was_lapsed].mean()),
            float(s.would_consult[on][~was_lapsed].mean()),
            recorded,
        )

    lapsed, recent, recorded = rates(4.0)
    assert recorded
    assert 3.0 < lapsed / recent < 5.0  # about 1,000 sessions on each side
    lapsed, recent, _ = rates(1.0)
    assert 0.7 < lapsed / recent < 1.4


def test_the_assistant_users_before_day_0_are_the_steady_states_share_spread_over_a_year() -> None:
    """``customers.initial_assistant_user_share`` of the customers consulted in the year
    before day 0 (frequent shoppers more often), on days spread over that year, so that
    they do not lapse as one cohort; with the assistant off the would-be history is the
    same and nobody has consulted."""
    import numpy as np

    m, _ = market(run__n_customers=20_000, customers__initial_assistant_user_share=0.4)
    pop = m.customers
    back = -pop.last_would_consult_day
    user = back <= 365
    assert abs(user.mean() - 0.4) < 0.02
    assert back[user].min() >= 1
    assert 150 < np.median(back[user]) < 215  # uniform over the year
    frequent = pop.need_rate > np.median(pop.need_rate)
    assert user[frequent].mean() > user[~frequent].mean()
    np.testing.assert_array_equal(pop.last_consult_day, pop.last_would_consult_day)
    off, _ = market(
        run__n_customers=20_000,
        customers__initial_assistant_user_share=0.4,
        assistant__enabled=False,
    )
    np.testing.assert_array_equal(off.customers.last_would_consult_day, pop.last_would_consult_day)
    assert (off.customers.last_consult_day < -365).all()


def _slot_gaps(ad_weight: float) -> tuple[Ledger, object]:
    m, streams = market(assistant__ad_mode="blended", assistant__ad_weight=ad_weight)
    ledger = Ledger()
    s = through("search", m, streams, ledger)
    assistant.answer(m, s, assistant_agent(m.config), ledger, streams.keyed("assistant"))
    return ledger, s


def test_a_sold_slot_is_valued_against_the_organic_pick_it_displaced() -> None:
    """The gap is booked only on sold slots and summed into the ledger. Its sign is the
    answer's weight on bids: a paid pick must look at least as good as the organic pick
    it replaces once its bid is added, so with a light weight only picks about as good
    win (customers gain), and with a heavy one a bid buys a slot the pick's value would
    not have earned (customers lose)."""
    heavy, s = _slot_gaps(2.0)
    assert heavy.sold_slots_displacing > 0
    assert not s.pick_gap[~s.paid[:, PICKS]].any()
    assert heavy.sold_slot_value_gap_cents == pytest.approx(s.pick_gap.sum())
    light, _ = _slot_gaps(0.25)
    assert light.sold_slots_displacing > 0
    assert light.sold_slot_value_gap_cents > 0 > heavy.sold_slot_value_gap_cents
