"""Tests for sim.auctions: slot allocation and GSP / VCG / first-price pricing."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.auctions import Allocation, AuctionFormat, allocate, expected_clicks

# ----------------------------------------------------------------------------- reference


def reference_allocate(
    bids: list[int],
    quality: list[float],
    ctr: list[float],
    reserve: int,
    fmt: str,
) -> tuple[list[int], list[int]]:
    """Slow, exact pure-Python auction for one query (Fractions of the float inputs)."""
    n_k = len(ctr)
    score = [Fraction(float(b) * float(q)) for b, q in zip(bids, quality, strict=True)]
    eligible = [i for i, b in enumerate(bids) if b > 0 and b >= reserve]
    ranked = sorted(eligible, key=lambda i: (-score[i], i))
    ranked_score = [score[i] for i in ranked] + [Fraction(0)] * (n_k + 1)
    ctr_f = [Fraction(c) for c in ctr] + [Fraction(0)]
    winners, prices = [], []
    for k in range(n_k):
        if k >= len(ranked):
            winners.append(-1)
            prices.append(0)
            continue
        i = ranked[k]
        bid, q_k = bids[i], Fraction(float(quality[i]))
        if fmt == "first_price":
            price = bid
        elif fmt == "gsp":
            if k + 1 < len(ranked):
                price = max(reserve, math.floor(ranked_score[k + 1] / q_k) + 1)
            else:
                price = reserve
        elif ctr_f[k] == 0:
            price = reserve
        else:
            tail = sum(
                ((ctr_f[j] - ctr_f[j + 1]) * ranked_score[j + 1] for j in range(k, n_k)),
                Fraction(0),
            )
            price = max(reserve, math.floor(tail / (ctr_f[k] * q_k)))
        winners.append(i)
        prices.append(min(bid, price))
    return winners, prices


def as_lists(a: Allocation) -> tuple[list[int], list[int]]:
    return a.winners.tolist(), a.price_cents.tolist()


# ----------------------------------------------------------------------------- hand-computed

CTR2 = [0.5, 0.25]  # binary-exact, so hand arithmetic matches float arithmetic


def test_gsp_prices_equal_quality() -> None:
    """GSP: each winner pays the next score divided by its quality, plus one cent."""
    a = allocate([100, 80, 60, 30], [1.0, 1.0, 1.0, 1.0], CTR2, reserve_cents=10)
    assert a.winners.tolist() == [0, 1]
    assert a.price_cents.tolist() == [81, 61]


def test_vcg_prices_equal_quality() -> None:
    """VCG: prices are the click-weighted externality on lower bidders, per own click."""
    # slot 0: (0.25*80 + 0.25*60) / 0.5 = 70; slot 1: 0.25*60 / 0.25 = 60
    a = allocate([100, 80, 60, 30], 1.0, CTR2, reserve_cents=10, fmt="vcg")
    assert as_lists(a) == ([0, 1], [70, 60])


def test_first_price_pays_bid() -> None:
    """First price: winners pay their own bid."""
    a = allocate([100, 80, 60, 30], 1.0, CTR2, reserve_cents=10, fmt=AuctionFormat.FIRST_PRICE)
    assert as_lists(a) == ([0, 1], [100, 80])


def test_quality_weighted_ranking_and_prices() -> None:
    """Rank is by bid × quality and prices divide the next score by the winner's quality."""
    bids, quality = [100, 90, 50], [1.0, 2.0, 1.0]  # scores 100, 180, 50
    gsp = allocate(bids, quality, CTR2, 10)
    vcg = allocate(bids, quality, CTR2, 10, fmt="vcg")
    first = allocate(bids, quality, CTR2, 10, fmt="first_price")
    assert gsp.winners.tolist() == vcg.winners.tolist() == first.winners.tolist() == [1, 0]
    assert gsp.price_cents.tolist() == [51, 51]  # floor(100/2)+1, floor(50/1)+1
    assert vcg.price_cents.tolist() == [37, 50]  # floor(37.5/(0.5*2)), 12.5/0.25
    assert first.price_cents.tolist() == [90, 100]


def test_vcg_rounds_down_gsp_rounds_up() -> None:
    """A fractional VCG price is rounded down and a fractional GSP threshold up."""
    # scores 100 (q=1) and 75 (bid 50, q=1.5); one slot: VCG = 75, GSP = 76
    one = [1.0]
    assert allocate([100, 50], [1.0, 1.5], one, 0, fmt="vcg").price_cents.tolist() == [75]
    assert allocate([100, 50], [1.0, 1.5], one, 0).price_cents.tolist() == [76]
    # winner quality 2: threshold 75/2 = 37.5 -> GSP 38, VCG 37
    assert allocate([100, 50], [2.0, 1.5], one, 0, fmt="vcg").price_cents.tolist() == [37]
    assert allocate([100, 50], [2.0, 1.5], one, 0).price_cents.tolist() == [38]


def test_float_error_does_not_cost_a_cent() -> None:
    """Scores like 3 × 0.7 / 0.7 = 2.9999999999999996 still price as whole cents."""
    assert 3 * 0.7 / 0.7 < 3  # the float error this test guards against
    a = allocate([5, 3], [0.7, 0.7], [0.1], reserve_cents=0)
    assert a.price_cents.tolist() == [4]
    v = allocate([5, 3, 3], [0.7, 0.7, 0.7], [0.3, 0.1], reserve_cents=0, fmt="vcg")
    assert v.price_cents.tolist() == [3, 3]


def test_reserve_binds_gsp_price() -> None:
    """The reserve is a floor on the GSP price when the next score is lower."""
    # next score 30 -> 31 < reserve 50; last winner has nobody below -> reserve
    a = allocate([100, 60], [1.0, 0.5], CTR2, reserve_cents=50)
    assert as_lists(a) == ([0, 1], [50, 50])
    v = allocate([100, 60], [1.0, 0.5], CTR2, reserve_cents=50, fmt="vcg")
    assert as_lists(v) == ([0, 1], [50, 50])


def test_fewer_bidders_than_slots() -> None:
    """Slots beyond the eligible bidders are empty with price 0; the last winner pays reserve."""
    a = allocate([40, 70], 1.0, [0.5, 0.25, 0.125], reserve_cents=5)
    assert as_lists(a) == ([1, 0, -1], [41, 5, 0])
    v = allocate([40, 70], 1.0, [0.5, 0.25, 0.125], reserve_cents=5, fmt="vcg")
    # slot 0: (0.25*40 + 0.125*0 + 0.125*0) / 0.5 = 20
    assert as_lists(v) == ([1, 0, -1], [20, 5, 0])


def test_bids_below_reserve_are_excluded() -> None:
    """Bids under the reserve (and zero bids) neither win nor set prices."""
    a = allocate([100, 40, 30, 0], 1.0, CTR2, reserve_cents=70)
    assert as_lists(a) == ([0, -1], [70, 0])
    zero = allocate([0, 10], 1.0, CTR2, reserve_cents=0)
    assert as_lists(zero) == ([1, -1], [0, 0])


def test_no_bidders_or_no_slots() -> None:
    """Empty bidder lists and empty slot lists give correctly shaped empty outcomes."""
    a = allocate(np.zeros(0, dtype=np.int64), 1.0, CTR2, 0)
    assert as_lists(a) == ([-1, -1], [0, 0])
    b = allocate([[5, 6], [7, 8]], 1.0, [], 0)
    assert b.winners.shape == (2, 0)
    assert b.price_cents.shape == (2, 0)


def test_tie_break_by_lower_index() -> None:
    """Equal scores rank the lower bidder index first; the tied loser's price is capped by bid."""
    a = allocate([50, 100, 100, 50], 1.0, [0.5, 0.25, 0.125], reserve_cents=0)
    assert a.winners.tolist() == [1, 2, 0]
    assert a.price_cents.tolist() == [100, 51, 50]


def test_tie_break_across_qualities() -> None:
    """Ties in bid × quality from different bids still break by index."""
    a = allocate([60, 30, 20], [0.5, 1.0, 1.5], CTR2, reserve_cents=0)  # all score 30
    assert a.winners.tolist() == [0, 1]


def test_tie_at_partition_boundary() -> None:
    """With many equal bids (argpartition path), the lowest indices win, in index order."""
    bids = np.full((3, 50), 20)
    bids[1, 7] = 25
    bids[2, [3, 40]] = 10
    a = allocate(bids, 1.0, CTR2, reserve_cents=0)
    assert a.winners.tolist() == [[0, 1], [7, 0], [0, 1]]
    assert a.price_cents.tolist() == [[20, 20], [21, 20], [20, 20]]


def test_zero_ctr_slot_vcg_pays_reserve() -> None:
    """A VCG winner of a zero-click slot pays the reserve."""
    a = allocate([100, 80, 60], 1.0, [0.5, 0.0], reserve_cents=7, fmt="vcg")
    # slot 0: (0.5*80 + 0*60)/0.5 = 80
    assert as_lists(a) == ([0, 1], [80, 7])


def test_batched_equals_row_by_row() -> None:
    """A (Q, A) batch gives the same outcome as Q separate 1-D calls, for every format."""
    rng = np.random.default_rng(20240601)
    bids = rng.integers(0, 60, size=(40, 25))
    q_full = rng.uniform(0.2, 3.0, size=(40, 25))
    q_row = rng.uniform(0.2, 3.0, size=25)
    ctr = [0.4, 0.3, 0.1, 0.05]
    for fmt in AuctionFormat:
        for quality, q_of in ((q_full, lambda r: q_full[r]), (q_row, lambda r: q_row)):
            batch = allocate(bids, quality, ctr, 15, fmt)
            assert batch.winners.dtype == np.int64
            assert batch.price_cents.dtype == np.int64
            for r in range(bids.shape[0]):
                single = allocate(bids[r], q_of(r), ctr, 15, fmt)
                np.testing.assert_array_equal(batch.winners[r], single.winners)
                np.testing.assert_array_equal(batch.price_cents[r], single.price_cents)


def test_float_bids_with_whole_values_accepted() -> None:
    """Integer-valued float bids are accepted and give the same result as int bids."""
    a = allocate(np.array([100.0, 80.0, 60.0]), 1.0, CTR2, 10)
    b = allocate([100, 80, 60], 1.0, CTR2, 10)
    assert as_lists(a) == as_lists(b)


def test_large_fast_path_matches_reference_with_ties() -> None:
    """Large batches with heavy ties (argpartition path) match the reference exactly."""
    rng = np.random.default_rng(7)
    bids = rng.choice([0, 10, 20, 30, 40], size=(30, 200))
    quality = rng.choice([0.5, 1.0, 1.5, 2.0], size=(30, 200))
    ctr = [0.5, 0.25, 0.125, 0.0625]
    for fmt in AuctionFormat:
        got = allocate(bids, quality, ctr, 20, fmt)
        for r in range(bids.shape[0]):
            want = reference_allocate(bids[r].tolist(), quality[r].tolist(), ctr, 20, fmt)
            assert (got.winners[r].tolist(), got.price_cents[r].tolist()) == want


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fmt": "dutch"}, "fmt.*'gsp', 'vcg', 'first_price'"),
        ({"bids": [10, -1]}, "bids"),
        ({"bids": [10.5, 3]}, "bids"),
        ({"bids": [10, np.nan]}, "bids"),
        ({"bids": 10}, "bids"),
        ({"bids": [[[10]]]}, "bids"),
        ({"bids": ["a", "b"]}, "bids"),
        ({"quality": [1.0, 0.0]}, "quality"),
        ({"quality": [1.0, -2.0]}, "quality"),
        ({"quality": [1.0, np.inf]}, "quality"),
        ({"quality": [1.0, np.nan]}, "quality"),
        ({"quality": [1.0, 1.0, 1.0]}, "quality"),
        ({"quality": [[1.0, 1.0], [1.0, 1.0]]}, "quality"),
        ({"slot_ctr": [[0.5, 0.25]]}, "slot_ctr"),
        ({"slot_ctr": [0.25, 0.5]}, "slot_ctr"),
        ({"slot_ctr": [0.5, -0.1]}, "slot_ctr"),
        ({"slot_ctr": [np.nan]}, "slot_ctr"),
        ({"reserve_cents": -1}, "reserve_cents"),
        ({"reserve_cents": 2.5}, "reserve_cents"),
        ({"reserve_cents": [1, 2]}, "reserve_cents"),
    ],
)
def test_validation_errors(kwargs: dict[str, object], match: str) -> None:
    """Invalid arguments raise ValueError naming the offending argument."""
    args: dict[str, object] = {
        "bids": [10, 20],
        "quality": [1.0, 1.0],
        "slot_ctr": [0.5, 0.25],
        "reserve_cents": 0,
        "fmt": "gsp",
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        allocate(**args)  # type: ignore[arg-type]


def test_fmt_accepts_enum_and_string() -> None:
    """The format may be given as the enum member or its string value."""
    by_enum = allocate([30, 20], 1.0, [1.0], 0, AuctionFormat.VCG)
    by_str = allocate([30, 20], 1.0, [1.0], 0, "vcg")
    assert as_lists(by_enum) == as_lists(by_str) == ([0], [20])


# ----------------------------------------------------------------------------- expected_clicks


def test_expected_clicks_single_and_batched() -> None:
    """Expected clicks are slot CTR times the winner's quality, zero for empty slots."""
    ctr = [0.5, 0.25, 0.125]
    got = expected_clicks([2, 0, -1], ctr, [1.0, 3.0, 2.0])
    np.testing.assert_allclose(got, [1.0, 0.25, 0.0])
    quality = np.array([[1.0, 3.0, 2.0], [4.0, 1.0, 1.0]])
    got2 = expected_clicks([[2, 0, -1], [0, -1, -1]], ctr, quality)
    np.testing.assert_allclose(got2, [[1.0, 0.25, 0.0], [2.0, 0.0, 0.0]])
    np.testing.assert_allclose(expected_clicks([1, -1, -1], ctr, 2.0), [1.0, 0.0, 0.0])


def test_expected_clicks_from_allocation() -> None:
    """expected_clicks composes with allocate's winners for a batch with per-row quality."""
    bids = np.array([[100, 80, 60], [5, 40, 0]])
    quality = np.array([[1.0, 2.0, 1.0], [1.0, 0.5, 1.0]])
    a = allocate(bids, quality, CTR2, 20)
    np.testing.assert_allclose(expected_clicks(a.winners, CTR2, quality), [[1.0, 0.25], [0.25, 0]])


@pytest.mark.parametrize(
    ("winners", "slot_ctr", "quality", "match"),
    [
        ([0, 3], [0.5, 0.25], [1.0, 1.0, 1.0], "winners"),
        ([0, -2], [0.5, 0.25], [1.0, 1.0, 1.0], "winners"),
        ([0.0, 1.0], [0.5, 0.25], [1.0, 1.0], "winners"),
        ([0, 1], [0.5], [1.0, 1.0], "slot_ctr"),
        ([0, 1], [0.5, 0.25], [1.0, 0.0], "quality"),
        ([[0, 1]] * 3, [0.5, 0.25], [[1.0, 1.0]] * 2, "quality"),
    ],
)
def test_expected_clicks_validation(
    winners: object, slot_ctr: object, quality: object, match: str
) -> None:
    """expected_clicks rejects out-of-range winners and mismatched shapes."""
    with pytest.raises(ValueError, match=match):
        expected_clicks(winners, slot_ctr, quality)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- properties


@st.composite
def auctions(
    draw: st.DrawFn,
    *,
    heavy_ties: bool = False,
    fast_path: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """A batch of auctions: (bids (Q, A), quality (Q, A), slot_ctr (K,), reserve)."""
    n_q = draw(st.integers(1, 4))
    n_k = draw(st.integers(0, 5))
    # fast_path forces A > K + 1, where allocate switches to argpartition
    n_a = draw(st.integers(n_k + 2 if fast_path else 0, 24))
    if heavy_ties:
        bid_st = st.sampled_from([0, 5, 10, 20, 30, 40, 60])
        # dyadic values: products and ratios are exact, so ties really are ties
        q_st = st.sampled_from([0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0])
        ctr = sorted((draw(st.integers(0, 64)) / 64 for _ in range(n_k)), reverse=True)
    else:
        bid_st = st.integers(0, 500)
        q_st = st.floats(0.05, 20.0)
        ctr = sorted(
            (draw(st.floats(0.0, 1.0, allow_subnormal=False)) for _ in range(n_k)), reverse=True
        )
    bids = np.array(draw(st.lists(bid_st, min_size=n_q * n_a, max_size=n_q * n_a)), dtype=np.int64)
    quality = np.array(draw(st.lists(q_st, min_size=n_q * n_a, max_size=n_q * n_a)))
    reserve = draw(st.sampled_from([0, 1, 10, 25]))
    return (
        bids.reshape(n_q, n_a),
        quality.reshape(n_q, n_a),
        np.array(ctr, dtype=np.float64),
        reserve,
    )


@settings(max_examples=150, deadline=None)
@given(auctions())
def test_gsp_revenue_at_least_vcg(case: tuple[np.ndarray, np.ndarray, np.ndarray, int]) -> None:
    """With the same bids, every GSP price is >= the VCG price, so GSP revenue is too."""
    bids, quality, ctr, reserve = case
    gsp = allocate(bids, quality, ctr, reserve, "gsp")
    vcg = allocate(bids, quality, ctr, reserve, "vcg")
    np.testing.assert_array_equal(gsp.winners, vcg.winners)
    assert np.all(gsp.price_cents >= vcg.price_cents)
    clicks = expected_clicks(gsp.winners, ctr, quality)
    assert np.all((gsp.price_cents * clicks).sum(axis=1) >= (vcg.price_cents * clicks).sum(axis=1))


@settings(max_examples=150, deadline=None)
@given(auctions(), st.sampled_from(list(AuctionFormat)))
def test_prices_between_reserve_and_bid(
    case: tuple[np.ndarray, np.ndarray, np.ndarray, int], fmt: AuctionFormat
) -> None:
    """Filled slots are priced within [reserve, bid]; empty slots cost 0."""
    bids, quality, ctr, reserve = case
    a = allocate(bids, quality, ctr, reserve, fmt)
    filled = a.winners >= 0
    # pad a zero column so that -1 (empty) indexes something, even when A == 0
    padded = np.pad(bids, ((0, 0), (0, 1)))
    winner_bid = np.take_along_axis(padded, a.winners, axis=1)[filled]
    assert np.all(a.price_cents[filled] <= winner_bid)
    assert np.all(a.price_cents[filled] >= reserve)
    assert np.all(a.price_cents[~filled] == 0)


@settings(max_examples=150, deadline=None)
@given(auctions(heavy_ties=True))
def test_winners_distinct_and_ranked(case: tuple[np.ndarray, np.ndarray, np.ndarray, int]) -> None:
    """Winners are distinct eligible bidders in non-increasing score, filled slots first."""
    bids, quality, ctr, reserve = case
    a = allocate(bids, quality, ctr, reserve)
    score = bids * quality
    for r in range(bids.shape[0]):
        w = a.winners[r]
        filled = w[w >= 0]
        assert np.all(w[len(filled) :] == -1)
        assert len(set(filled.tolist())) == len(filled)
        assert np.all((bids[r, filled] > 0) & (bids[r, filled] >= reserve))
        s = score[r, filled]
        assert np.all(s[:-1] >= s[1:])
        n_eligible = np.count_nonzero((bids[r] > 0) & (bids[r] >= reserve))
        assert len(filled) == min(n_eligible, len(ctr))


@settings(max_examples=200, deadline=None)
@given(
    auctions(heavy_ties=True, fast_path=True),
    st.sampled_from(list(AuctionFormat)),
)
def test_fast_path_matches_reference(
    case: tuple[np.ndarray, np.ndarray, np.ndarray, int], fmt: AuctionFormat
) -> None:
    """With A > K + 1 and heavy ties, allocate equals the slow exact reference."""
    bids, quality, ctr, reserve = case
    got = allocate(bids, quality, ctr, reserve, fmt)
    for r in range(bids.shape[0]):
        want = reference_allocate(
            bids[r].tolist(), quality[r].tolist(), ctr.tolist(), reserve, fmt.value
        )
        assert (got.winners[r].tolist(), got.price_cents[r].tolist()) == want


@settings(max_examples=100, deadline=None)
@given(auctions(heavy_ties=True), st.sampled_from(list(AuctionFormat)))
def test_small_path_matches_reference(
    case: tuple[np.ndarray, np.ndarray, np.ndarray, int], fmt: AuctionFormat
) -> None:
    """For any number of bidders (including A <= K + 1), allocate equals the reference."""
    bids, quality, ctr, reserve = case
    got = allocate(bids, quality, ctr, reserve, fmt)
    for r in range(bids.shape[0]):
        want = reference_allocate(
            bids[r].tolist(), quality[r].tolist(), ctr.tolist(), reserve, fmt.value
        )
        assert (got.winners[r].tolist(), got.price_cents[r].tolist()) == want
