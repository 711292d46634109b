"""Unit tests of the pure mechanisms and agent rules, without a model.

Covers sim.search, sim.choice, sim.prime and the behaviour functions of
agents.assistant, agents.advertiser, agents.seller and agents.customer.
(Auctions and logistics have their own files.)
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from agents.advertiser import BidStrategy, next_bids, next_pacing
from agents.assistant import help_me_decide, recognition_probability
from agents.customer import consult_probability, next_habit, next_trust
from agents.seller import entrants_per_category, fulfilment_choice, reprice
from sim import prime
from sim.choice import binary_logit, choose, logit_probabilities, logsum, mark_duplicates
from sim.config import AdMode
from sim.search import build_page, click_probability, examine_depth, rank_by_category


def sampling_tolerance(p: np.ndarray | float, n: int, z: float = 5.0) -> np.ndarray:
    """``z`` binomial standard errors of a frequency with probability ``p`` over ``n`` draws."""
    p = np.asarray(p, dtype=float)
    return z * np.sqrt(np.maximum(p * (1 - p), 1e-12) / n) + 1e-9


# ============================================================================= sim.search


def test_rank_by_category_orders_by_score_with_ties_to_lower_index() -> None:
    """Products rank best score first within their category; ties go to the lower index."""
    cat = np.array([0, 0, 0, 1, 0, 1])
    score = np.array([1.0, 3.0, 3.0, 2.0, 0.5, 2.0])
    out = rank_by_category(cat, score, np.ones(6, bool), 2, 4)
    assert out.tolist() == [[1, 2, 0, 4], [3, 5, -1, -1]]


def test_rank_by_category_skips_inactive_and_pads_empty_categories() -> None:
    """Inactive products never rank; a category with no active product is all -1."""
    cat = np.array([0, 0, 2])
    score = np.array([5.0, 1.0, 1.0])
    active = np.array([False, True, True])
    out = rank_by_category(cat, score, active, 3, 2)
    assert out.tolist() == [[1, -1], [-1, -1], [2, -1]]


@settings(max_examples=50, deadline=None)
@given(
    n=st.integers(1, 40),
    n_cat=st.integers(1, 5),
    top=st.integers(1, 8),
    seed=st.integers(0, 2**32 - 1),
)
def test_rank_by_category_matches_a_sort(n: int, n_cat: int, top: int, seed: int) -> None:
    """Each row equals the category's active products sorted by (-score, index), -1 padded."""
    rng = np.random.default_rng(seed)
    cat = rng.integers(0, n_cat, n)
    score = rng.integers(0, 4, n).astype(float)  # few values, so ties are common
    active = rng.random(n) < 0.8
    out = rank_by_category(cat, score, active, n_cat, top)
    assert out.shape == (n_cat, top)
    for c in range(n_cat):
        idx = [i for i in range(n) if cat[i] == c and active[i]]
        want = sorted(idx, key=lambda i: (-score[i], i))[:top]
        assert out[c].tolist() == want + [-1] * (top - len(want))


def test_build_page_interleaves_sponsored_at_their_positions() -> None:
    """Sponsored winners sit at their positions; organic results fill the rest in order."""
    organic = np.array([[10, 11, 12, 13, 14, 15]])
    sponsored = np.array([[7, 8]])
    page, ad = build_page(organic, sponsored, np.array([0, 3]))
    assert page.tolist() == [[7, 10, 11, 8, 12, 13]]
    assert ad.tolist() == [[True, False, False, True, False, False]]


def test_build_page_fills_unwon_sponsored_slots_organically() -> None:
    """A sponsored slot nobody won shows the next organic result and is not an ad."""
    organic = np.array([[10, 11, 12, 13, 14], [20, 21, 22, 23, 24]])
    sponsored = np.array([[-1, 9], [-1, -1]])
    page, ad = build_page(organic, sponsored, np.array([0, 2]))
    assert page.tolist() == [[10, 11, 9, 12, 13], [20, 21, 22, 23, 24]]
    assert ad.tolist() == [[False, False, True, False, False], [False] * 5]


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 12))
def test_build_page_keeps_organic_order_and_shows_each_item_once(seed: int, k: int) -> None:
    """Organic items appear in rank order, none skipped; ads only at sponsored positions."""
    rng = np.random.default_rng(seed)
    s = 5
    organic = np.stack([rng.permutation(100)[:k] for _ in range(s)])
    pos = np.sort(rng.choice(k, size=rng.integers(0, k + 1), replace=False))
    sponsored = np.where(
        rng.random((s, len(pos))) < 0.6, 100 + rng.integers(0, 50, (s, len(pos))), -1
    )
    page, ad = build_page(organic, sponsored, pos)
    for r in range(s):
        org = page[r][~ad[r]].tolist()
        assert org == organic[r, : len(org)].tolist()
        assert set(np.flatnonzero(ad[r])) <= set(pos.tolist())
        assert (page[r][ad[r]] >= 100).all()


@pytest.mark.parametrize("patience", [0.3, 0.7, 0.9])
def test_examine_depth_matches_patience_power(patience: float) -> None:
    """Position k is examined with probability patience**k (within sampling error)."""
    n, k = 200_000, 12
    rng = np.random.default_rng(11)
    depth = examine_depth(np.full(n, patience), rng.random(n), k)
    assert depth.min() >= 1 and depth.max() <= k
    for pos in range(k):
        freq = (depth > pos).mean()
        want = patience**pos
        assert abs(freq - want) <= sampling_tolerance(want, n), pos


def test_examine_depth_is_monotone_in_patience_and_u() -> None:
    """More patience or a smaller uniform never examines fewer positions."""
    u = np.linspace(0.001, 0.999, 200)
    low = examine_depth(np.full(200, 0.4), u, 12)
    high = examine_depth(np.full(200, 0.8), u, 12)
    assert (high >= low).all()
    assert (np.diff(examine_depth(np.full(200, 0.6), u, 12)) <= 0).all()


@settings(max_examples=100, deadline=None)
@given(
    gap=hnp.arrays(np.float64, 20, elements=st.floats(-1e6, 1e6, allow_nan=False)),
    base=st.floats(0.0, 1.0),
)
def test_click_probability_bounds(gap: np.ndarray, base: float) -> None:
    """Click probability lies in [0, min(1, 2*click_base)] and rises with the gap."""
    p = click_probability(gap, base)
    assert ((p >= 0) & (p <= min(1.0, 2 * base) + 1e-12)).all()
    order = np.argsort(gap)
    assert (np.diff(p[order]) >= -1e-12).all()


def test_click_probability_equals_base_at_zero_gap() -> None:
    """An item exactly as good as not buying is clicked with probability click_base."""
    assert click_probability(np.array([0.0]), 0.3)[0] == pytest.approx(0.3)


# ============================================================================= sim.choice


@settings(max_examples=100, deadline=None)
@given(
    u=hnp.arrays(np.float64, (4, 6), elements=st.floats(-50, 50, allow_nan=False)),
    avail=hnp.arrays(np.bool_, (4, 6)),
)
def test_logit_probabilities_sum_to_one(u: np.ndarray, avail: np.ndarray) -> None:
    """Rows with an available option sum to 1, others to 0; unavailable options get 0."""
    p = logit_probabilities(u, avail)
    assert (p[~avail] == 0).all()
    sums = p.sum(axis=1)
    assert np.allclose(sums[avail.any(axis=1)], 1.0)
    assert (sums[~avail.any(axis=1)] == 0).all()


def test_logit_probabilities_shift_invariant_and_known_values() -> None:
    """Adding a constant changes nothing; exp-utility ratios give the probabilities."""
    u = np.array([[0.0, np.log(2.0), np.log(5.0)]])
    ok = np.ones_like(u, bool)
    assert np.allclose(logit_probabilities(u, ok), [[0.125, 0.25, 0.625]])
    assert np.allclose(logit_probabilities(u + 700.0, ok), [[0.125, 0.25, 0.625]])
    assert logsum(u, ok)[0] == pytest.approx(np.log(8.0))


def test_gumbel_argmax_frequencies_match_logit() -> None:
    """Argmax of utility plus Gumbel shocks picks each option with its logit probability."""
    n = 200_000
    rng = np.random.default_rng(2026)
    u = np.array([0.0, 1.0, -0.5, 2.0, 3.0])
    ok = np.array([True, True, True, True, False])
    util = np.broadcast_to(u, (n, 5))
    avail = np.broadcast_to(ok, (n, 5))
    pick = choose(util, avail, rng.gumbel(size=(n, 5)))
    freq = np.bincount(pick, minlength=5) / n
    want = logit_probabilities(u[None], ok[None])[0]
    assert freq[4] == 0
    assert (np.abs(freq - want) <= sampling_tolerance(want, n)).all()


def test_choose_returns_minus_one_when_nothing_available() -> None:
    """A row with no available option chooses -1."""
    u = np.zeros((2, 3))
    avail = np.array([[False, False, False], [False, True, False]])
    assert choose(u, avail, np.zeros((2, 3))).tolist() == [-1, 1]


def test_binary_logit_is_a_probability() -> None:
    """binary_logit is 1/2 at 0, symmetric, and finite at extremes."""
    d = np.array([-1e6, -2.0, 0.0, 2.0, 1e6])
    p = binary_logit(d)
    assert p.tolist()[2] == 0.5
    assert np.allclose(p + binary_logit(-d), 1.0)
    assert p[0] == 0.0 and p[-1] == 1.0


def test_mark_duplicates() -> None:
    """Repeats of an item already seen to the left, and -1 padding, are marked."""
    items = np.array([[3, 5, 3, -1, 5, 7], [-1, -1, 2, 2, 2, 0]])
    assert mark_duplicates(items).tolist() == [
        [False, False, True, True, True, False],
        [True, True, False, True, True, False],
    ]


# ============================================================================= sim.prime

VALUES = np.linspace(0.0, 5000.0, 51)


def _increasing(x: np.ndarray) -> bool:
    return bool((np.diff(x) >= 0).all() and x[-1] > x[0])


def _decreasing(x: np.ndarray) -> bool:
    return bool((np.diff(x) <= 0).all() and x[-1] < x[0])


def test_trial_probability_monotone() -> None:
    """Trials are likelier with more value and less likely with more cancellation hassle."""
    assert _increasing(prime.trial_probability(VALUES, 300, 500))
    frictions = np.linspace(0, 3000, 31)
    assert _decreasing(np.array([prime.trial_probability(1000.0, f, 500) for f in frictions]))


def test_join_probability_monotone() -> None:
    """Joining is likelier with more value and less likely with a higher fee."""
    assert _increasing(prime.join_probability(VALUES, 1499, 500))
    fees = np.linspace(0, 5000, 51)
    assert _decreasing(prime.join_probability(np.full(51, 1500.0), fees, 500))


def test_stay_probability_monotone_in_value_and_fee() -> None:
    """Renewal is likelier with more value and less likely with a higher fee."""
    kw = {"status_quo_bias_cents": 500, "cancellation_friction_cents": 300, "noise_cents": 500}
    assert _increasing(prime.stay_probability(VALUES, 1499, **kw))
    fees = np.linspace(0, 5000, 51)
    assert _decreasing(prime.stay_probability(np.full(51, 1500.0), fees, **kw))


def test_status_quo_bias_and_friction_raise_stay_probability() -> None:
    """Status-quo bias and cancellation friction each make staying likelier."""
    v, fee = np.array([1000.0]), 1499

    def stay(bias: float, friction: float) -> float:
        return float(
            prime.stay_probability(
                v,
                fee,
                status_quo_bias_cents=bias,
                cancellation_friction_cents=friction,
                noise_cents=500,
            )[0]
        )

    assert stay(0, 0) < stay(500, 0) < stay(1000, 0)
    assert stay(0, 0) < stay(0, 500) < stay(0, 1000)
    # without bias or friction a member is a non-member deciding whether to pay
    assert stay(0, 0) == pytest.approx(float(prime.join_probability(v, fee, 500)[0]))


def test_period_days_and_monthly_fee() -> None:
    """Monthly plans pay every 30 days, annual every 365; the annual fee is spread per 30 days."""
    plans = np.array([prime.Plan.MONTHLY, prime.Plan.ANNUAL])
    assert prime.period_days(plans).tolist() == [30, 365]
    fee = prime.monthly_fee_cents(plans, 1499, 13900)
    assert fee[0] == 1499
    assert fee[1] == pytest.approx(13900 * 30 / 365)


# ============================================================================= agents.assistant


def test_help_me_decide_example() -> None:
    """Top pick is the best score; budget the best at or below median price; premium the
    best remaining at or above the median signal."""
    score = np.array([[3.0, 2.0, 1.0, 0.5, 0.1]])
    price = np.array([[50.0, 10.0, 90.0, 20.0, 95.0]])
    signal = np.array([[0.5, 0.2, 0.9, 0.1, 0.95]])
    picks = help_me_decide(score, price, signal, np.ones((1, 5), bool))
    assert picks.tolist() == [[0, 1, 2]]


# A row with no valid candidate makes numpy warn about an all-NaN median; the result is -1.
def test_help_me_decide_handles_empty_and_single_rows() -> None:
    """No valid candidate gives (-1, -1, -1); one candidate is only the top pick."""
    score = np.array([[1.0, 2.0], [1.0, 2.0]])
    price = np.array([[10.0, 20.0], [10.0, 20.0]])
    valid = np.array([[False, False], [False, True]])
    picks = help_me_decide(score, price, price, valid)
    assert picks.tolist() == [[-1, -1, -1], [1, -1, -1]]


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(1, 12))
def test_help_me_decide_properties(seed: int, m: int) -> None:
    """Picks are valid, distinct, the top pick maximises the score, and the budget and
    premium picks satisfy their price and quality conditions."""
    rng = np.random.default_rng(seed)
    r = 6
    score = rng.normal(size=(r, m))
    price = rng.integers(1, 6, (r, m)).astype(float)
    signal = rng.random((r, m)).round(1)
    valid = rng.random((r, m)) < 0.7
    picks = help_me_decide(score, price, signal, valid)
    for i in range(r):
        top, budget, premium = picks[i]
        chosen = [p for p in picks[i] if p >= 0]
        assert len(set(chosen)) == len(chosen)
        assert all(valid[i, p] for p in chosen)
        if not valid[i].any():
            assert picks[i].tolist() == [-1, -1, -1]
            continue
        assert score[i, top] == score[i][valid[i]].max()
        if budget >= 0:
            assert price[i, budget] <= np.median(price[i][valid[i]])
        if premium >= 0:
            assert signal[i, premium] >= np.median(signal[i][valid[i]])


def test_recognition_probability_by_mode() -> None:
    """Labelled ads are recognised with ad literacy, blended ones less, none never."""
    lit = np.array([0.0, 0.2, 0.6, 1.0])
    labelled = recognition_probability(lit, AdMode.LABELLED, 0.15)
    blended = recognition_probability(lit, AdMode.BLENDED, 0.15)
    none = recognition_probability(lit, AdMode.NONE, 0.15)
    assert np.array_equal(labelled, lit)
    assert (blended[1:] < labelled[1:]).all()
    assert np.allclose(blended, 0.15 * lit)
    assert (none == 0).all()


# ============================================================================= agents.advertiser


def _bids(strategy, cvr, price, margin, target, mult, spend, sales, rate=0.5, budget=100.0):
    n = len(strategy)
    return next_bids(
        np.asarray(strategy, np.int8),
        np.full(n, cvr, float) if np.isscalar(cvr) else np.asarray(cvr, float),
        np.full(n, price, float),
        np.asarray(margin, float) if not np.isscalar(margin) else np.full(n, margin, float),
        np.full(n, target, float),
        np.asarray(mult, float) if not np.isscalar(mult) else np.full(n, mult, float),
        np.asarray(spend, float),
        np.asarray(sales, float),
        np.full(n, budget, float),
        rate,
    )


def test_value_bid_is_conversion_rate_times_margin() -> None:
    """A value bidder bids round(cvr * margin), never negative, multiplier untouched."""
    v = BidStrategy.VALUE
    bid, mult = _bids([v, v, v], [0.1, 0.2, 0.1], 2000, [500.0, 500.0, -300.0], 0.3, 1.3,
                      [50, 50, 50], [0, 0, 0])  # fmt: skip
    assert bid.tolist() == [50, 100, 0]
    assert mult.tolist() == [1.3, 1.3, 1.3]
    assert bid.dtype == np.int64


def test_target_acos_multiplier_moves_toward_target() -> None:
    """Spend above target x sales lowers the bid, below raises it, spending without
    sales lowers it, and a campaign with neither (or exactly on target) keeps it."""
    a = BidStrategy.TARGET_ACOS
    bid, mult = _bids([a, a, a, a, a], 0.1, 2000, 500.0, 0.3, 1.0, [90.0, 30.0, 40.0, 0.0, 60.0],
                      [200.0, 200.0, 0.0, 0.0, 200.0])  # fmt: skip
    assert mult[0] < 1.0 < mult[1]
    assert mult[2] < 1.0
    assert mult[3] == mult[4] == 1.0
    assert bid[3] == 60  # cvr * price * target
    assert bid[0] < bid[3] < bid[1]


def test_target_acos_review_is_unbiased_by_sales_noise() -> None:
    """The multiplier's step is linear in spend and sales: lumpy sales with the same
    mean (five weeks' sales in one week of five) move it as much in total as steady
    sales, where a step on the realised ratio would move it far."""
    a = BidStrategy.TARGET_ACOS
    weeks = 50
    steady = np.full(weeks, 200.0)
    lumpy = np.where(np.arange(weeks) % 5 == 0, 1000.0, 0.0)
    spend = np.full(weeks, 60.0)  # exactly the target share (0.3) of mean sales
    args = (0.1, 2000, 500.0, 0.3, 1.0, spend)
    _, m_steady = _bids([a] * weeks, *args, steady, rate=0.1, budget=1000.0)
    _, m_lumpy = _bids([a] * weeks, *args, lumpy, rate=0.1, budget=1000.0)
    assert np.allclose(np.log(m_steady).sum(), 0.0)
    assert abs(np.log(m_lumpy).sum()) < 1e-9
    # a step on the realised ratio (undefined, so skipped, in weeks without sales)
    realised = spend[lumpy > 0] / lumpy[lumpy > 0]
    assert 0.1 * np.log(0.3 / realised).sum() > 1.0


@settings(max_examples=100, deadline=None)
@given(
    mult=st.floats(0.2, 5.0),
    spend=st.one_of(st.just(0.0), st.floats(1e-6, 1e6)),
    sales=st.one_of(st.just(0.0), st.floats(1e-6, 1e6)),
    rate=st.floats(0.0, 1.0),
)
def test_target_acos_multiplier_stays_clipped(
    mult: float, spend: float, sales: float, rate: float
) -> None:
    """The target-ACoS multiplier stays within [0.2, 5] and bids are non-negative."""
    a = BidStrategy.TARGET_ACOS
    bid, new = _bids([a], 0.1, 2000, 500.0, 0.3, [mult], [spend], [sales], rate)
    assert 0.2 <= new[0] <= 5.0
    assert bid[0] >= 0


def test_next_pacing_directions_and_bounds() -> None:
    """Pacing rises when underspent, falls when the budget ran out, and stays in [0.02, 1]."""
    pacing = np.array([0.5, 0.5, 1.0, 0.02, 0.5])
    spend = np.array([0, 100, 0, 500, 50])
    budget = np.array([100, 100, 100, 100, 100])
    new = next_pacing(pacing, spend, budget, 0.3)
    assert new[0] > 0.5 and new[1] < 0.5
    assert new[2] == 1.0 and new[3] == 0.02
    assert 0.5 < new[4] < new[0]
    assert ((new >= 0.02) & (new <= 1.0)).all()


# ============================================================================= agents.seller


def test_reprice_blends_target_and_going_ratio_with_floor() -> None:
    """Weight 0 gives the own target, weight 1 the going ratio; never below the floor."""
    cost = np.array([100, 100, 100])
    markup = np.array([0.5, 0.5, 0.5])
    going = np.array([1.3, 1.3, 0.5])
    assert reprice(cost, markup, going, 0.0, 0.05).tolist() == [150, 150, 150]
    assert reprice(cost, markup, going, 1.0, 0.05).tolist() == [130, 130, 105]
    assert reprice(cost, markup, going, 0.5, 0.05).tolist() == [140, 140, 105]


@settings(max_examples=100, deadline=None)
@given(
    cost=st.integers(1, 10**6),
    markup=st.floats(0.0, 3.0),
    going=st.floats(0.1, 5.0),
    w=st.floats(0.0, 1.0),
    floor=st.floats(0.0, 1.0),
)
def test_reprice_never_below_cost_floor(
    cost: int, markup: float, going: float, w: float, floor: float
) -> None:
    """Repriced prices are integers at or above cost * (1 + min_markup_rate)."""
    p = reprice(np.array([cost]), np.array([markup]), np.array([going]), w, floor)
    assert p.dtype == np.int64
    assert p[0] >= cost * (1 + floor) - 1e-6


def test_fulfilment_choice_responds_to_fees_and_uplift() -> None:
    """Platform fulfilment wins with a big sales uplift and loses when its fee is too high."""
    units, price, cost = np.array([2.0]), np.array([2000.0]), np.array([1000.0])
    cur = np.array([False])
    assert fulfilment_choice(units, price, cost, cur, np.array([1.0]), 320, 0.12, 0.12)[0]
    assert not fulfilment_choice(units, price, cost, cur, np.array([0.0]), 900, 0.12, 0.12)[0]
    fees = np.linspace(0, 2000, 41)
    picks = [
        bool(fulfilment_choice(units, price, cost, cur, np.array([0.3]), f, 0.12, 0.12)[0])
        for f in fees
    ]
    assert picks == sorted(picks, reverse=True)  # once too expensive, stays too expensive


def test_entrants_zero_below_break_even_and_capped() -> None:
    """No entry when horizon profit does not cover the entry cost; never above the cap."""
    profit = np.array([0.0, -50.0, 100.0, 1e9])
    out = entrants_per_category(profit, 180, 18_000.0, 0.5, 5, np.full(4, 0.999))
    assert out[0] == 0 and out[1] == 0 and out[2] == 0  # 100 * 180 == cost: ratio 1
    assert out[3] == 5
    assert out.dtype == np.int64


def test_entrants_mean_matches_poisson_rate() -> None:
    """Uncapped entrants average rate * (profit * horizon / cost - 1)."""
    n = 100_000
    profit = np.full(n, 300.0)  # ratio 3, mean 0.5 * 2 = 1
    u = np.random.default_rng(7).random(n)
    out = entrants_per_category(profit, 180, 18_000.0, 0.5, 10**6, u)
    assert out.mean() == pytest.approx(1.0, abs=5 * np.sqrt(1.0 / n))


# ============================================================================= agents.customer


@settings(max_examples=100, deadline=None)
@given(
    habit=st.floats(0.0, 1.0),
    exp=st.floats(0.0, 1.0),
    rate=st.floats(0.0, 1.0),
)
def test_next_habit_stays_between_habit_and_experience(
    habit: float, exp: float, rate: float
) -> None:
    """Habit moves toward the experience by ``rate`` and stays in [0, 1]."""
    h = float(next_habit(np.array([habit]), np.array([exp]), rate)[0])
    assert min(habit, exp) - 1e-12 <= h <= max(habit, exp) + 1e-12
    assert 0.0 <= h <= 1.0


def test_next_habit_rate_extremes() -> None:
    """Rate 0 keeps the habit; rate 1 jumps to the experience."""
    h, e = np.array([0.2, 0.9]), np.array([1.0, 0.0])
    assert np.array_equal(next_habit(h, e, 0.0), h)
    assert np.array_equal(next_habit(h, e, 1.0), e)


@settings(max_examples=100, deadline=None)
@given(
    trust=st.floats(0.0, 1.0),
    good=st.booleans(),
    rate=st.floats(0.0, 1.0),
    discovered=st.booleans(),
    penalty=st.floats(0.0, 1.0),
)
def test_next_trust_in_unit_interval_and_directional(
    trust: float, good: bool, rate: float, discovered: bool, penalty: float
) -> None:
    """Trust stays in [0, 1]; good advice never lowers it, bad never raises it, a
    discovered paid placement cuts it by ``penalty``."""
    t = float(next_trust(np.array([trust]), np.array([good]), rate, np.array([False]), penalty)[0])
    d = float(next_trust(np.array([trust]), np.array([good]), rate, np.array([discovered]),
                         penalty)[0])  # fmt: skip
    assert 0.0 <= t <= 1.0 and 0.0 <= d <= 1.0
    if good:
        assert t >= trust - 1e-12
    else:
        assert t <= trust + 1e-12
    assert d == pytest.approx(t * (1 - penalty) if discovered else t)


@pytest.mark.parametrize("intent_sd", [0.3, 0.6])
def test_consult_probability_mean_does_not_depend_on_elasticity(intent_sd: float) -> None:
    """Averaged over intents drawn N(0, sd), the consult probability is the same for any
    elasticity (the intent tilt has mean one) while propensity x trust is small."""
    n = 400_000
    intent = np.random.default_rng(3).normal(0.0, intent_sd, n)
    prop = np.full(n, 0.1)
    trust = np.full(n, 0.5)
    means = [
        consult_probability(prop, trust, intent, e, intent_sd).mean() for e in (0.0, 0.5, 1.0, 1.5)
    ]
    assert means[0] == pytest.approx(0.05)
    for m in means[1:]:
        assert m == pytest.approx(0.05, rel=0.02)


def test_consult_probability_mean_at_baseline_traits_over_sweep_range() -> None:
    """With the baseline's propensity and trust, the mean consult probability is the same
    (within 5%) for the elasticities the attribution sweeps use (0, 1, 2)."""
    n = 400_000
    rng = np.random.default_rng(5)
    prop = rng.beta(0.35 * 2.0, 0.65 * 2.0, n)  # customers.assistant_propensity_* baseline
    trust = np.full(n, 0.6)  # customers.initial_trust
    intent = rng.normal(0.0, 0.6, n)  # customers.intent_sd
    means = [consult_probability(prop, trust, intent, e, 0.6).mean() for e in (0.0, 1.0, 2.0)]
    for m in means[1:]:
        assert m == pytest.approx(means[0], rel=0.05)


def test_consult_probability_selects_high_intent() -> None:
    """A higher elasticity shifts consults toward high-intent needs (selection)."""
    n = 200_000
    intent = np.random.default_rng(4).normal(0.0, 0.6, n)
    prop, trust = np.full(n, 0.4), np.full(n, 0.5)
    mean_intent = []
    for e in (0.0, 1.0, 2.0):
        p = consult_probability(prop, trust, intent, e, 0.6)
        mean_intent.append(float((p * intent).sum() / p.sum()))
    assert mean_intent[0] == pytest.approx(float(intent.mean()))
    assert mean_intent[0] < mean_intent[1] < mean_intent[2]


@settings(max_examples=100, deadline=None)
@given(
    prop=st.floats(0.0, 1.0),
    trust=st.floats(0.0, 1.0),
    intent=st.floats(-10.0, 10.0),
    e=st.floats(0.0, 5.0),
)
def test_consult_probability_is_a_probability(
    prop: float, trust: float, intent: float, e: float
) -> None:
    """The consult probability is in [0, 1] and 0 without propensity or trust."""
    p = float(
        consult_probability(np.array([prop]), np.array([trust]), np.array([intent]), e, 0.6)[0]
    )
    assert 0.0 <= p <= 1.0
    if prop == 0.0 or trust == 0.0:
        assert p == 0.0
