"""Each compiled kernel of :mod:`sim.kernels` equals the NumPy original it replaced,
bit for bit, on inputs built to reach every branch (the goldens check the model as a
whole; these check the kernels where the goldens' small runs may not reach)."""

from __future__ import annotations

import copy
import dataclasses

import mesa
import numpy as np
import pytest
from conftest import small_config
from numpy.typing import NDArray
from scipy.special import ndtri

from agents.assistant import Assistant
from agents.customer import next_habit
from agents.rival import RivalOffer
from sim import kernels, logistics, search
from sim.auctions import AuctionFormat, allocate
from sim.choice import binary_logit, choose, mark_duplicates
from sim.day import assistant, channel, needs, offers, ranking, search_ads
from sim.day.setup import build_market
from sim.day.state import PAGE, PICKS, Ledger
from sim.fees import shipping_fee_cents
from sim.prime import PrimeState, nonmember_promise_days
from sim.rng import POISSON_NORMAL_ABOVE, Keyed, Streams, as_words, mix64, poisson_quantile
from sim.search import build_page, rank_by_category
from sim.valuation import item_net_value

SNAP_RTOL = 1e-9
FIRST_PRICE, GSP, VCG = AuctionFormat.FIRST_PRICE, AuctionFormat.GSP, AuctionFormat.VCG


# --------------------------------------------------------------------- keyed hash


def _reference_bits(key: np.uint64, *parts: NDArray) -> NDArray[np.uint64]:
    h = key
    for part in parts:
        a = np.asarray(part)
        w = a if a.dtype == np.uint64 else a.astype(np.int64).view(np.uint64)
        h = mix64(h ^ w)
    return np.asarray(h)


@pytest.mark.parametrize("n_parts", [1, 2, 3])
def test_fused_hash_and_uniform_equal_the_chain_of_mixes(n_parts: int) -> None:
    """Bits and uniforms keyed by 1-3 parts (negative ids, 64-bit words, broadcast
    shapes, scalars) equal the splitmix64 chain they fuse."""
    rng = np.random.default_rng(n_parts)
    k = Keyed(11, "kernels")
    parts: list[object] = [
        rng.integers(-(2**62), 2**62, size=(50, 1)),
        rng.integers(0, 2**64 - 1, size=(1, 7), dtype=np.uint64),
        3,
    ][:n_parts]
    want = _reference_bits(k._key, *parts)
    np.testing.assert_array_equal(k.bits(*parts), want)
    unit = ((want >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
    np.testing.assert_array_equal(k.uniform(*parts), unit)
    assert (k.uniform(*parts) > 0).all() and (k.uniform(*parts) < 1).all()


def test_four_parts_still_hash_by_the_chain() -> None:
    """More parts than the fused kernels take fall back to the same chain."""
    k = Keyed(5, "kernels")
    ids = (np.arange(6), 2, np.arange(6)[::-1], 9)
    np.testing.assert_array_equal(k.bits(*ids), _reference_bits(k._key, *ids))


def test_paced_bids_equal_the_keyed_uniforms() -> None:
    """Pacing throttles and bids of retrieved campaigns (-1 padded) equal the keyed
    uniforms compared with each campaign's throttle."""
    rng = np.random.default_rng(8)
    k = Keyed(3, "auction")
    who = rng.integers(0, 2**64 - 1, size=200, dtype=np.uint64)
    campaign = rng.integers(-1, 40, size=(200, 30))
    keys = rng.integers(-(2**62), 2**62, size=40)
    pacing = rng.uniform(0, 1, size=40)
    bids = rng.integers(1, 500, size=40)
    take, bid = k.paced_bids(who, 0, campaign, keys, pacing, bids)
    safe = np.maximum(campaign, 0)
    want = (campaign >= 0) & (k.uniform(who[:, None], 0, keys[safe]) < pacing[safe])
    np.testing.assert_array_equal(take, want)
    np.testing.assert_array_equal(bid, np.where(want, bids[safe], 0))
    assert want.any() and (~want & (campaign >= 0)).any()


# --------------------------------------------------------------------- item values


def _market():  # type: ignore[no-untyped-def]
    cfg = small_config(run__n_customers=5000, attribution__counterfactual_twin=False)
    streams = Streams(3)
    m, _, _ = build_market(cfg, streams)
    m.shelf = ranking.rank(cfg, m.products, m.ads, m.category_price, streams.keyed("ranking"), 0)
    return m


def _reference_value(m, ci, cat, items, true_quality=False):  # type: ignore[no-untyped-def]
    """``perceived_value`` as the NumPy composition of the mechanism functions."""
    c = m.config
    pop, p, sh = m.customers, m.products, m.shelf
    svc, lg = m.network.service, c.logistics
    safe = np.maximum(items, 0)
    reg = pop.region[ci][:, None]
    member = pop.member(ci)[:, None]
    fba = p.col("fba")[safe]
    days = logistics.promise_days(
        svc.dist_cells[reg], svc.fc[reg], fba, p.col("stock_mask")[safe],
        lg.same_day_radius_cells, lg.next_day_radius_cells,
        lg.standard_days, lg.self_fulfilled_days,
    ).astype(np.int64)  # fmt: skip
    days = np.where(member, days, nonmember_promise_days(days, fba, c.prime.nonmember_days))
    price = p.col("price_cents")[safe]
    ship = shipping_fee_cents(
        price, member, fba, c.prime.free_shipping_threshold_cents, c.prime.shipping_fee_cents
    )
    q = p.col("quality")[safe] if true_quality else sh.rating[safe]
    return item_net_value(
        c.customers.value_base, pop.quality_taste[ci][:, None], q, price, ship,
        m.category_price[cat][:, None].astype(np.float64), pop.delay_cost[ci][:, None], days,
    )  # fmt: skip


@pytest.mark.parametrize("true_quality", [False, True])
def test_item_values_equal_the_numpy_composition(true_quality: bool) -> None:
    """Members and non-members, FBA and self-fulfilled items, stocked or not, near
    and far from stations: the kernel's values equal the NumPy composition, and
    entries outside ``where`` are 0."""
    m = _market()
    pop = m.customers
    rng = np.random.default_rng(7)
    ci = rng.integers(0, pop.n, size=400)
    pop.prime_state[ci[::2]] = PrimeState.MEMBER
    pop.prime_state[ci[1::2]] = PrimeState.NONE
    active = np.flatnonzero(m.products.col("active"))
    items = rng.choice(active, size=(400, 23))
    items[rng.random(items.shape) < 0.2] = -1
    cat = m.products.col("category")[np.maximum(items[:, 0], 0)].astype(np.int64)
    fba = m.products.col("fba")[np.maximum(items, 0)]
    assert fba.any() and (~fba).any()
    days = offers.promise(m, ci, np.maximum(items, 0))
    assert len(np.unique(days)) >= 3, "the test should reach several promise branches"
    want = _reference_value(m, ci, cat, items, true_quality)
    got = offers.perceived_value(m, ci, cat, items, true_quality=true_quality)
    np.testing.assert_array_equal(got, want)
    where = items >= 0
    masked = offers.perceived_value(m, ci, cat, items, true_quality=true_quality, where=where)
    np.testing.assert_array_equal(masked, np.where(where, want, 0.0))


def test_order_promises_equal_the_numpy_promises() -> None:
    """Orders' promises to members and non-members (FBA and self-fulfilled, stocked or
    not, near and far, regions without a centre or a station) equal
    :func:`offers.member_promise`, :func:`nonmember_promise_days` and :func:`offers.promise`."""
    m = _market()
    pop = m.customers
    rng = np.random.default_rng(28)
    ci = rng.integers(0, pop.n, size=3000)
    pop.prime_state[ci[::2]] = PrimeState.MEMBER
    pop.prime_state[ci[1::2]] = PrimeState.NONE
    fc, dist = m.network.service.fc.copy(), m.network.service.dist_cells.copy()
    fc[::7] = -1
    dist[::11] = np.inf
    svc = m.network.service = dataclasses.replace(m.network.service, fc=fc, dist_cells=dist)
    item = rng.choice(np.flatnonzero(m.products.col("active")), size=3000)
    lg, fba = m.config.logistics, m.products.col("fba")[item]
    member_days = offers.member_promise(m, ci, item)
    got_member, got_non = kernels.order_promises(
        pop.region[ci], item, svc.dist_cells, svc.fc, m.products.col("fba"),
        m.products.col("stock_mask"), float(lg.same_day_radius_cells),
        float(lg.next_day_radius_cells), int(lg.standard_days), int(lg.self_fulfilled_days),
        int(m.config.prime.nonmember_days),
    )  # fmt: skip
    np.testing.assert_array_equal(got_member, member_days)
    np.testing.assert_array_equal(
        got_non, nonmember_promise_days(member_days, fba, m.config.prime.nonmember_days)
    )
    np.testing.assert_array_equal(
        np.where(pop.member(ci), got_member, got_non), offers.promise(m, ci, item[:, None])[:, 0]
    )
    assert len(np.unique(got_member)) >= 3, "the test should reach several promise branches"


def test_order_routes_equal_the_numpy_stations_and_draws() -> None:
    """Orders' stations (fulfilled by the platform or not, near and far, regions without a
    station) and their queue and review draws equal the NumPy selects and
    ``Keyed.uniform`` of the sessions' keys."""
    rng = np.random.default_rng(38)
    n, n_sessions, n_regions = 4000, 9000, 50
    rows = np.sort(rng.choice(n_sessions, n, replace=False))
    key = rng.integers(0, 2**64 - 1, size=n_sessions, dtype=np.uint64)
    region = rng.integers(0, n_regions, n).astype(np.int32)
    fba = rng.random(n) < 0.6
    dist = rng.random(n_regions) * 20
    dist[::9] = np.inf
    region_station = np.where(np.isinf(dist), -1, rng.integers(0, 8, n_regions))
    draws = Keyed(5, "delivery")
    station, queue, review = kernels.order_routes(
        rows, key, region, fba, dist, region_station, 9.0, draws.key, np.uint64(0),
        np.uint64(1), 0.3,
    )  # fmt: skip
    want = np.where(fba & (dist[region] <= 9.0), region_station[region], -1)
    np.testing.assert_array_equal(station, want)
    np.testing.assert_array_equal(queue, draws.uniform(key[rows], 0))
    np.testing.assert_array_equal(review, draws.uniform(key[rows], 1) < 0.3)
    assert (station >= 0).any() and (station < 0).any()


# --------------------------------------------------------------------- auctions


def _reference_allocate(
    bids: NDArray[np.int64],
    quality: NDArray[np.float64],
    ctr: NDArray[np.float64],
    reserve: int,
    fmt: AuctionFormat,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The array form of the auction before the compiled kernel (the reference)."""
    n_q, n_a = bids.shape
    n_k = ctr.shape[0]
    winners = np.full((n_q, n_k), -1, dtype=np.int64)
    price = np.zeros((n_q, n_k), dtype=np.int64)
    if n_k == 0 or n_a == 0:
        return winners, price

    bids_f = bids.astype(np.float64)
    score = bids_f * quality
    if not np.all(np.isfinite(score)):
        raise ValueError("bids * quality overflows float64; bids or quality are too large")
    eligible = (bids > 0) & (bids >= reserve)
    # +inf sorts ineligible bidders last without a separate mask in the ranking.
    neg_key = np.where(eligible, -score, np.inf)

    m = n_k + 1  # the K winners plus the first loser, who sets the last price
    top = _top_ranked(neg_key, m)  # (Q, min(m, A))
    top_key = np.take_along_axis(neg_key, top, axis=1)
    top_ok = np.isfinite(top_key)
    n_top = top.shape[1]
    ranked = np.full((n_q, m), -1, dtype=np.int64)
    ranked[:, :n_top] = np.where(top_ok, top, -1)
    ranked_score = np.zeros((n_q, m))
    ranked_score[:, :n_top] = np.where(top_ok, -top_key, 0.0)

    winners = ranked[:, :n_k]
    filled = winners >= 0
    safe = np.where(filled, winners, 0)
    bid_w = np.take_along_axis(bids_f, safe, axis=1)
    q_w = np.take_along_axis(quality, safe, axis=1)
    next_score = ranked_score[:, 1:]  # rank k+1 for slot k; 0 where nobody is left

    if fmt is AuctionFormat.FIRST_PRICE:
        raw = bid_w
    elif fmt is AuctionFormat.GSP:
        raw = np.where(ranked[:, 1:] >= 0, _floor_cents(next_score / q_w) + 1.0, reserve)
    else:  # VCG
        ctr_next = np.append(ctr[1:], 0.0)
        externality = (ctr - ctr_next) * next_score
        tail = np.cumsum(externality[:, ::-1], axis=1)[:, ::-1]  # S_k = Σ_{j≥k}
        with np.errstate(divide="ignore", invalid="ignore"):  # ctr_k == 0 handled below
            per_click = tail / (ctr * q_w)
        raw = np.where(ctr > 0, _floor_cents(per_click), reserve)
    # Clamp in float (raw can be huge when quality_k is tiny), then cast: result <= bid.
    clamped = np.minimum(bid_w, np.maximum(raw, float(reserve)))
    price = np.where(filled, clamped, 0.0).astype(np.int64)
    return winners, price


def _top_ranked(neg_key: NDArray[np.float64], m: int) -> NDArray[np.intp]:
    """Column indices of the ``m`` smallest keys per row, ascending, ties by index.

    Equal to ``np.argsort(neg_key, axis=1, kind="stable")[:, :m]`` but linear
    in the row length when it exceeds ``m``.
    """
    n_a = neg_key.shape[1]
    if n_a <= m:
        return np.argsort(neg_key, axis=1, kind="stable")
    part = np.argpartition(neg_key, m - 1, axis=1)[:, :m]
    part_key = np.take_along_axis(neg_key, part, axis=1)
    kth = part_key.max(axis=1)  # the m-th smallest key of each row
    # argpartition picks arbitrarily among keys tied with the m-th: rows with more
    # tied candidates than places are redone, taking the lowest indices. Ties at +inf
    # are ineligible bidders, whose order is irrelevant.
    n_candidates = np.count_nonzero(neg_key <= kth[:, None], axis=1)
    redo = np.flatnonzero((n_candidates > m) & np.isfinite(kth))
    if redo.size:
        sub = neg_key[redo]
        threshold = kth[redo, None]
        better = sub < threshold
        at = sub == threshold
        room = m - np.count_nonzero(better, axis=1)
        keep = better | (at & (np.cumsum(at, axis=1) <= room[:, None]))
        part[redo] = np.nonzero(keep)[1].reshape(redo.size, m)  # row-major: by index
        part_key[redo] = np.take_along_axis(sub, part[redo], axis=1)
    order = np.lexsort((part, part_key), axis=1)  # key first, index breaks ties
    return np.take_along_axis(part, order, axis=1)


def _floor_cents(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Floor to whole cents, snapping values within a relative 1e-9 of one onto it."""
    nearest = np.rint(x)
    close = np.abs(x - nearest) <= SNAP_RTOL * np.maximum(1.0, np.abs(x))
    return np.floor(np.where(close, nearest, x))


def _cases() -> list[tuple[str, NDArray, NDArray, NDArray, int]]:
    rng = np.random.default_rng(2024)
    out = []
    for shape, k in [((300, 30), 4), ((200, 3), 4), ((50, 5), 4), ((40, 12), 1), ((20, 8), 3)]:
        bids = rng.integers(0, 120, size=shape)
        bids[rng.random(shape) < 0.15] = 0
        quality = rng.choice([0.3, 0.5, 0.7, 1.0, 1.3], size=shape)  # many exact ties
        ctr = np.sort(rng.uniform(0.0, 0.3, size=k))[::-1]
        out.append((f"{shape[0]}x{shape[1]}-K{k}", bids, quality, ctr, 10))
    # ratios landing within rounding of a whole cent (3 x 0.7 / 0.7)
    bids = np.array([[3, 3, 2, 1], [7, 7, 7, 7]])
    quality = np.array([[0.7, 0.7, 0.7, 0.7], [0.1, 0.1, 0.1, 0.1]])
    out.append(("snapped-cents", bids, quality, np.array([0.5, 0.25, 0.0]), 0))
    out.append(("no-slots", bids, quality, np.zeros(0), 0))
    out.append(("no-bidders", np.zeros((3, 0), np.int64), np.ones((3, 0)), np.array([0.5]), 1))
    return out


@pytest.mark.parametrize("fmt", [GSP, VCG, FIRST_PRICE], ids=lambda f: f.value)
@pytest.mark.parametrize("case", _cases(), ids=lambda c: c[0])
def test_auction_kernel_equals_the_array_form(case, fmt) -> None:  # type: ignore[no-untyped-def]
    """Winners (ties to the lower index) and prices of every format equal the array
    form the kernel replaced, with ties, reserves, zero click rates and fewer bidders
    than slots."""
    _, bids, quality, ctr, reserve = case
    want_w, want_p = _reference_allocate(bids, quality, ctr, reserve, fmt)
    got = allocate(bids, quality, ctr, reserve, fmt)
    np.testing.assert_array_equal(got.winners, want_w)
    np.testing.assert_array_equal(got.price_cents, want_p)


def test_auction_kernel_refuses_an_overflowing_score() -> None:
    """A score beyond float64 is refused as before."""
    with pytest.raises(ValueError, match="overflows float64"):
        allocate(np.array([[2**53, 1]]), np.array([[1e300, 1.0]]), np.array([0.5]), 0, GSP)


# --------------------------------------------------------------------- choice


def _reference_duplicates(items: NDArray[np.int64]) -> NDArray[np.bool_]:
    order = np.argsort(items, axis=1, kind="stable")
    ordered = np.take_along_axis(items, order, axis=1)
    dup_sorted = np.zeros(items.shape, dtype=bool)
    dup_sorted[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
    dup = np.empty_like(dup_sorted)
    np.put_along_axis(dup, order, dup_sorted, axis=1)
    return dup | (items < 0)


def _reference_choose(utility, available, gumbel):  # type: ignore[no-untyped-def]
    u = np.where(available, utility + gumbel, -np.inf)
    idx = np.argmax(u, axis=1)
    return np.where(available.any(axis=1), idx, -1).astype(np.int64)


def test_duplicates_kernel_equals_the_sort_form() -> None:
    """Repeats (to the right of the first occurrence) and -1 entries are marked as the
    sort-based form marked them, on rows with many repeats."""
    items = np.random.default_rng(1).integers(-1, 6, size=(500, 23))
    np.testing.assert_array_equal(mark_duplicates(items), _reference_duplicates(items))


def test_choice_kernel_equals_the_argmax_form() -> None:
    """The first largest available utility plus shock (exact ties, rows with nothing
    available, a NaN and infinities included) is chosen as ``np.argmax`` chose it."""
    rng = np.random.default_rng(2)
    utility = rng.choice([0.0, 0.5, 1.0], size=(400, 8))  # exact ties
    shock = rng.choice([0.0, 0.25], size=(400, 8))
    available = rng.random((400, 8)) < 0.6
    available[:5] = False
    utility[10, 3] = np.nan
    utility[11, 0] = np.nan
    utility[12, :] = -np.inf
    available[12, :] = True
    utility[13, 2] = np.inf
    got = choose(utility, available, shock)
    np.testing.assert_array_equal(got, _reference_choose(utility, available, shock))
    assert (got[:5] == -1).all()


# --------------------------------------------------------------------- Poisson


def _reference_poisson(lam: NDArray[np.float64], u: NDArray[np.float64]) -> NDArray[np.int64]:
    k = np.zeros(u.shape, dtype=np.int64)
    big = lam > POISSON_NORMAL_ABOVE
    if big.any():
        approx = np.rint(lam[big] + np.sqrt(lam[big]) * ndtri(u[big]))
        k[big] = np.maximum(approx, 0).astype(np.int64)
    p0 = np.exp(-lam)
    todo = np.flatnonzero(~big & (u > p0))
    if len(todo):
        lt, ut = lam[todo], u[todo]
        pk = p0[todo]
        cdf = pk.copy()
        kt = np.zeros(len(todo), dtype=np.int64)
        live = np.arange(len(todo))
        while len(live):
            kt[live] += 1
            pk[live] *= lt[live] / kt[live]
            cdf[live] += pk[live]
            live = live[(ut[live] > cdf[live]) & (pk[live] > 0)]
        k[todo] = kt
    return k


def test_poisson_kernel_equals_the_array_form() -> None:
    """Small and large means (either side of the normal approximation), zero means and
    uniforms within rounding of 1 give the counts of the array form, keyed draws included."""
    rng = np.random.default_rng(3)
    lam = np.concatenate([rng.uniform(0, 3, 20_000), rng.uniform(30, 80, 5_000), np.zeros(10)])
    u = rng.random(len(lam))
    u[:5] = 1.0 - 2.0**-53
    np.testing.assert_array_equal(poisson_quantile(lam, u), _reference_poisson(lam, u))
    k = Keyed(9, "needs")
    ids = np.arange(len(lam))
    np.testing.assert_array_equal(
        k.poisson(lam, 4, ids), _reference_poisson(lam, k.uniform(4, ids))
    )


# --------------------------------------------------------------------- results page


def _reference_page(organic, sponsored, positions):  # type: ignore[no-untyped-def]
    s, k = organic.shape
    is_sp = np.zeros((s, k), dtype=bool)
    sp_item = np.full((s, k), -1, dtype=np.int64)
    is_sp[:, positions] = sponsored >= 0
    sp_item[:, positions] = sponsored
    org_rank = np.cumsum(~is_sp, axis=1) - 1
    org_item = np.take_along_axis(organic, np.clip(org_rank, 0, k - 1), axis=1)
    return np.where(is_sp, sp_item, org_item), is_sp


@pytest.mark.parametrize("positions", [[0, 1, 6, 11], [19], [], [3, 2]], ids=str)
def test_page_kernel_equals_the_array_form(positions: list[int]) -> None:
    """Pages with filled and empty sponsored slots, padded organic lists and positions
    in any order equal the array form."""
    rng = np.random.default_rng(4)
    organic = rng.integers(-1, 500, size=(300, 20))
    pos = np.array(positions, dtype=np.int64)
    sponsored = rng.integers(-1, 50, size=(300, len(pos)))
    got = build_page(organic, sponsored, pos)
    want = _reference_page(organic, sponsored, pos)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


# --------------------------------------------------------------------- organic ranking


def _reference_rank(category, score, active, n_categories, top):  # type: ignore[no-untyped-def]
    idx = np.flatnonzero(active)
    order = idx[np.lexsort((idx, -score[idx], category[idx]))]
    cats = category[order]
    starts = np.searchsorted(cats, np.arange(n_categories), side="left")
    ends = np.searchsorted(cats, np.arange(n_categories), side="right")
    pos = starts[:, None] + np.arange(top)[None, :]
    valid = pos < ends[:, None]
    out = np.full((n_categories, top), -1, dtype=np.int64)
    out[valid] = order[pos[valid]]
    return out


@pytest.mark.parametrize("top", [1, 5, 30])
def test_ranking_kernel_equals_the_sort_form(top: int) -> None:
    """Exact ties, signed zeros, inactive products and categories with fewer products
    than places rank as the sort form ranked them."""
    rng = np.random.default_rng(5)
    n = 3000
    category = rng.integers(0, 12, size=n)
    category[category == 11] = 10  # category 11 is empty
    score = rng.choice([-1.0, -0.0, 0.0, 0.5, 2.0], size=n) + rng.choice([0.0, 0.125], size=n)
    active = rng.random(n) < 0.8
    got = rank_by_category(category, score, active, 12, top)
    np.testing.assert_array_equal(got, _reference_rank(category, score, active, 12, top))


# --------------------------------------------------------------------- search, fused


def _reference_search_batch(m, s, batch, ledger, draws, clicks):  # type: ignore[no-untyped-def]
    """:func:`sim.day.search_ads.search_batch` as the NumPy composition of the mechanism
    functions (auction, page, valuation, click model) it ran before its fused kernels."""
    from sim.day.search_ads import (
        _MARKET_CLICKS,
        _PACING,
        _QUALITY,
        TOP_SLOTS,
        advertiser_table,
        retrieval_order,
    )

    c, sh = m.config, m.shelf
    k = c.search.page_slots
    rows = batch[s.platform[batch]]
    if len(rows) == 0:
        return
    pos = np.asarray(c.search.sponsored_positions, dtype=np.int64)
    slot_ctr = c.customers.click_base * float(np.mean(m.customers.patience)) ** pos.astype(float)
    ads = m.ads
    bid_cents, product, pacing = ads.col("bid_cents"), ads.col("product"), ads.col("pacing")
    relevance = sh.rating[np.maximum(product, 0)]
    eligible = (
        ads.col("active")
        & (relevance >= c.ads.min_relevance)
        & (bid_cents >= max(c.ads.reserve_cents, 1))
    )
    ci, cat = s.cust[rows], s.cat[rows]
    organic = sh.ranked[cat, :k]
    live = eligible & ads.live()
    ranked = retrieval_order(m, eligible, bid_cents * relevance)
    cand = advertiser_table(ranked, live, m.n_categories, c.ads.candidates_per_query)[cat]
    who = s.key[rows]
    campaign = ads.col("key")[np.maximum(cand, 0)]
    take, bids = draws.paced_bids(who, _PACING, cand, ads.col("key"), pacing, bid_cents)
    r, col = np.nonzero(take)
    quality = np.ones(cand.shape)
    noise = draws.normal_where(who, _QUALITY, campaign, take)
    quality[r, col] = relevance[cand[r, col]] * np.exp(c.ads.quality_noise_sd * noise)
    alloc = allocate(bids, np.maximum(quality, 1e-9), slot_ctr, c.ads.reserve_cents, c.ads.format)
    win_ad = np.where(
        alloc.winners >= 0, np.take_along_axis(cand, np.maximum(alloc.winners, 0), axis=1), -1
    )
    sponsored = np.where(win_ad >= 0, product[np.maximum(win_ad, 0)], -1)
    page, is_sp = build_page(organic, sponsored, pos)
    pos_ad = np.full(page.shape, -1, dtype=np.int64)
    pos_price = np.zeros(page.shape, dtype=np.int64)
    pos_ad[:, pos] = win_ad
    pos_price[:, pos] = alloc.price_cents
    depth = search.examine_depth(m.customers.patience[ci], s.u_depth[rows], k)
    if c.assistant.answers_enter_choice:
        kept = 1.0 - c.assistant.attention_cost
        depth = np.where(s.consult[rows], np.floor(depth * kept), depth).astype(depth.dtype)
    examined = (np.arange(k)[None, :] < depth[:, None]) & (page >= 0)
    net = offers.perceived_value(m, ci, cat, page, where=examined)
    r, col = np.nonzero(examined)
    item = page[r, col]
    appeal = m.customers.price_sensitivity[ci[r]] * net[r, col] - c.customers.no_purchase_value
    appeal[col == 0] += c.search.top_position_trust
    clicked = np.zeros(page.shape, dtype=bool)
    p_click = search.click_probability(appeal, c.customers.click_base)
    clicked[r, col] = clicks.uniform(who[r], m.products.col("key")[item]) < p_click
    ad_click = clicked & is_sp
    # the market's clicks on each examined sponsored item: Poisson, mean weight x p_click
    sp = is_sp[r, col]
    market = clicks.poisson(
        m.weight * p_click[sp], who[r[sp]], _MARKET_CLICKS, m.products.col("key")[item[sp]]
    )
    paid = market > 0
    spent = ads.charge(pos_ad[r[sp], col[sp]][paid], market[paid], pos_price[r[sp], col[sp]][paid])
    top = slice(0, TOP_SLOTS)
    ledger.ad_clicks += float(ad_click.sum())
    ledger.ad_revenue_search_cents += float(spent.sum())
    ledger.impressions += float(examined.sum())
    ledger.sponsored_impressions += float((examined & is_sp).sum())
    ledger.clicks += float(clicked.sum())
    ledger.clicks_top += float(clicked[:, 0].sum())
    ledger.top12_sponsored += float((is_sp[:, top] & (page[:, top] >= 0)).sum())
    ledger.top12_slots += float((page[:, top] >= 0).sum())
    s.consider[rows, PAGE] = np.where(clicked, page, -1)
    s.sponsored[rows, PAGE] = ad_click
    s.ad_row[rows, PAGE] = np.where(ad_click, pos_ad, -1)


def test_rows_where_equal_the_gathered_mask() -> None:
    """The platform sessions of a batch in one pass: ``batch[mask[batch]]``, in any order
    and with repeats, empty batches and masks included."""
    rng = np.random.default_rng(11)
    mask = rng.random(500) < 0.4
    for batch in (np.arange(100, 260), rng.integers(0, 500, 300), np.zeros(0, np.int64)):
        got = kernels.rows_where(batch, mask)
        np.testing.assert_array_equal(got, batch[mask[batch]])
        assert got.dtype == np.int64
    assert len(kernels.rows_where(np.arange(500), np.zeros(500, bool))) == 0


def _day_before_search(**changes: object):  # type: ignore[no-untyped-def]
    """A 20,000-customer market on day 0 with its sessions through channel choice and
    consults, and the run's streams."""
    cfg = small_config(run__n_customers=20000, attribution__counterfactual_twin=False, **changes)
    streams = Streams(3)
    m, _, _ = build_market(cfg, streams)
    m.shelf = ranking.rank(cfg, m.products, m.ads, m.category_price, streams.keyed("ranking"), 0)
    ranking.settle_selection(m, m.shelf)
    s = needs.arrive(cfg, m.customers, m.n_categories, 0, streams)
    channel.choose(m, s, RivalOffer(np.ones(m.n_categories), 3.0, 0.0))
    assistant.consults(m, s, streams.keyed("assistant"))
    return m, s, streams


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"ads__format": "vcg", "ads__batches_per_day": 8, "ads__min_daily_budget_cents": 60},
        {"ads__format": "first_price", "assistant__answers_enter_choice": False},
        {"search__sponsored_positions": [], "customers__assistant_propensity_mean": 0.3},
    ],
    ids=["baseline", "vcg-tight-budgets", "first-price-placebo", "no-ads"],
)
def test_fused_search_equals_the_array_form(changes: dict) -> None:
    """Search in fused kernels (bids and noise, auction and page, clicks) fills the page
    block, charges campaigns and counts impressions and clicks exactly as the NumPy
    composition of the auction, page, valuation and click model, batch by batch (so
    budgets that run out within the day drop campaigns alike)."""
    m, s, streams = _day_before_search(**changes)
    runs = []
    for fused in (True, False):
        m_run, s_run, ledger = copy.deepcopy(m), copy.deepcopy(s), Ledger()
        search_ads.start_search(m_run, s_run, ledger)
        for rows in search_ads.batches(m_run, s_run):
            m_run.ads.open_batch()
            step = search_ads.search_batch if fused else _reference_search_batch
            step(m_run, s_run, rows, ledger, streams.keyed("auction"), streams.keyed("clicks"))
            m_run.ads.close_batch()
        runs.append((m_run, s_run, ledger))
    (m1, s1, l1), (m2, s2, l2) = runs
    for name in ("consider", "sponsored", "ad_row"):
        np.testing.assert_array_equal(getattr(s1, name), getattr(s2, name))
    for name in ("spend_today_cents", "clicks", "batch_spend_max_cents"):
        np.testing.assert_array_equal(m1.ads.col(name), m2.ads.col(name))
    assert l1 == l2
    assert l1.clicks > 0
    if changes.get("search__sponsored_positions") == []:
        assert l1.ad_clicks == 0
    else:
        assert l1.ad_clicks > 0


def _reference_channel(m, s, offer):  # type: ignore[no-untyped-def]
    """Channel choice as NumPy gathers and :func:`channel.expected_platform_value`."""
    c, pop, ci = m.config, m.customers, s.cust
    offline = channel.offline_share(c, m.network.regions.is_metro, m.day)
    online = pop.online_u[ci] >= offline[s.region]
    ext = c.external_agents
    external = online & (pop.agent_u[ci] < ext.share) & (not ext.blocked)
    net_plat = channel.expected_platform_value(m, ci, s.cat, s)
    net_rival = channel.rival_value(
        c, s.quality_taste, s.delay_cost, offer.price_index[s.cat], offer
    )
    since = m.day - pop.last_payment_day[ci]
    sunk = np.where(
        (pop.prime_state[ci] == PrimeState.MEMBER) & (pop.last_payment_day[ci] >= 0),
        c.channel.sunk_cost_weight * np.exp(-since / c.channel.sunk_cost_decay_days),
        0.0,
    )
    diff = (
        s.price_sensitivity * c.channel.expected_price_weight * (net_plat - net_rival)
        + c.channel.habit_weight * pop.habit[ci]
        + c.channel.platform_bias
        + sunk
    )
    platform = online & ~external & (s.u_channel < binary_logit(diff))
    return online, external, net_rival, platform


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"external_agents__share": 0.3},
        {"external_agents__share": 0.3, "external_agents__blocked": True},
    ],
    ids=["baseline", "agents", "agents-blocked"],
)
def test_channel_terms_equal_the_array_form(changes: dict) -> None:
    """Channel choice from the fused pass (members on trial and paying, with and without
    a payment on record, regions of unknown delivery days) equals the NumPy gathers and
    expected platform value it replaced."""
    m, s, _ = _day_before_search(**changes)
    rng = np.random.default_rng(17)
    pop = m.customers
    pop.prime_state[:] = rng.integers(0, 3, size=pop.n)
    pop.last_payment_day[:] = rng.integers(-1, 3, size=pop.n)
    m.day = 3
    m.network.region_fba_days[::5] = np.nan
    offer = RivalOffer(rng.uniform(0.8, 1.2, m.n_categories), 3.0, 0.1)
    want = _reference_channel(m, s, offer)
    channel.choose(m, s, offer)
    for name, value in zip(("online", "external", "net_rival", "platform"), want, strict=True):
        np.testing.assert_array_equal(getattr(s, name), value, err_msg=name)
    np.testing.assert_array_equal(s.prime_state, pop.prime_state[s.cust])
    assert s.platform.any() and (~s.platform & s.online).any()
    if changes.get("external_agents__share") and not changes.get("external_agents__blocked"):
        assert s.external.any()


# --------------------------------------------------------------------- choice, fused


@pytest.mark.parametrize("closed", [False, True], ids=["any-rows", "rows-end-with-none"])
def test_shocked_argmax_equals_the_full_argmax(closed: bool) -> None:
    """The argmax over the available entries alone (row by row in column order, with
    their shocks) equals :func:`sim.kernels.argmax_available` with the full matrices:
    ties, NaNs (first, later, in the last column), infinities, unavailable first columns
    and rows with nothing available; and so it does when every row ends with its
    not-buying column, as in the choice (the run over all rows without branches)."""
    rng = np.random.default_rng(12)
    utility = rng.choice([0.0, 0.5, 1.0, -np.inf], size=(600, 9))
    shock = rng.choice([0.0, 0.25], size=(600, 9))
    available = rng.random((600, 9)) < 0.5
    available[:5] = False
    available[5:40, 0] = False
    utility[40:60, :] = -np.inf
    utility[60, 3] = utility[60, 5] = np.nan
    utility[61, 0] = np.nan
    utility[62, 4] = np.inf
    utility[63, 8] = np.nan
    available[60:64, :] = True
    if closed:
        available[:, 8] = True  # not buying (column K + 1 with K = 7)
    want = kernels.argmax_available(utility, available, shock)
    start = np.concatenate([[0], np.cumsum(available.sum(axis=1))])
    col = np.nonzero(available)[1].astype(np.int16)
    consider = np.arange(600 * 7).reshape(600, 7)
    rows = np.arange(600)[::-1].copy()
    product, bought_col = np.full(600, -1), np.full(600, -1)
    rival = np.zeros(600, dtype=bool)
    got = kernels.argmax_shocked(
        start, col, utility[available], -shock[available], rows, consider, product, bought_col,
        rival,
    )  # fmt: skip
    np.testing.assert_array_equal(got, want)
    assert (want == 7).any() and (want == 8).any() and ((want >= 0) & (want < 7)).any()
    # the choice booked: an item (columns below 7) or the rival (column 7)
    item = (want >= 0) & (want < 7)
    np.testing.assert_array_equal(bought_col[rows], np.where(item, want, -1))
    bought = consider[rows, np.clip(want, 0, 6)]
    np.testing.assert_array_equal(product[rows], np.where(item, bought, -1))
    np.testing.assert_array_equal(rival[rows], want == 7)


@pytest.mark.parametrize(
    "changes",
    [{"customers__assistant_propensity_mean": 0.3}, {"assistant__ad_mode": "blended"}],
    ids=["many-consults", "blended"],
)
def test_fused_choice_utilities_equal_the_array_form(changes: dict) -> None:
    """Utilities (valued where available, advice and the ad discount on the picks),
    availability, the picks' own values and the Gumbel shocks of the platform sessions'
    choice equal the NumPy composition of valuation, advice and keyed shocks."""
    m, s, streams = _day_before_search(**changes)
    ledger = Ledger()
    search_ads.search_and_auctions(m, s, ledger, streams.keyed("auction"), streams.keyed("clicks"))
    agent = Assistant(mesa.Model(seed=1), m.config.assistant)
    assistant.answer(m, s, agent, ledger, streams.keyed("assistant"))
    a = m.config.assistant
    pop = m.customers
    shocks = streams.keyed("choice")
    rows = np.flatnonzero(s.platform)
    mu = pop.price_sensitivity[s.cust]
    v_none = m.config.customers.no_purchase_value - s.intent
    v_rival = mu * s.net_rival - m.config.channel.habit_weight * pop.habit[s.cust]
    # the NumPy composition
    ci, items = s.cust[rows], s.consider[rows]
    avail = ~mark_duplicates(items)
    v = mu[rows][:, None] * offers.perceived_value(m, ci, s.cat[rows], items, where=avail)
    pk = v[:, PICKS].copy()
    v[:, PICKS] = offers.advised_value(
        a.advice_reliance, pop.trust[ci], s.advice[rows, PICKS], pk, s.reported[rows]
    )
    v[:, PICKS] -= a.recognised_ad_discount * s.recognised[rows, PICKS]
    util = np.concatenate([v, v_rival[rows, None], v_none[rows, None]], axis=1)
    ok = np.concatenate([avail, np.ones((len(rows), 2), bool)], axis=1)
    who = s.key[rows][:, None]
    eps = np.zeros(items.shape)
    r, col = np.nonzero(avail)
    eps[r, col] = shocks.gumbel(who[r, 0], m.products.col("key")[items[r, col]])
    eps = np.concatenate([eps, shocks.gumbel(who, np.array([-1, -2]))], axis=1)
    # the fused kernel, with the customers' trust as the consults copied it
    np.testing.assert_array_equal(s.trust[rows], pop.trust[ci])
    start, col, got_util, u, paid_ok, got_pk = kernels.choice_utilities(
        rows, s.consider, s.cat, mu, s.trust, s.advice, s.reported, s.recognised, s.paid,
        float(a.advice_reliance), float(a.recognised_ad_discount), PICKS.stop, v_rival, v_none,
        m.category_price.astype(np.float64), *offers.session_value_inputs(m, s), shocks.key,
        s.key, as_words(m.products.col("key")), as_words(np.array([-1, -2])),
    )  # fmt: skip
    np.testing.assert_array_equal(start, np.concatenate([[0], np.cumsum(ok.sum(axis=1))]))
    np.testing.assert_array_equal(col, np.nonzero(ok)[1])
    np.testing.assert_array_equal(paid_ok, s.paid[rows, PICKS] & ok[:, PICKS])
    np.testing.assert_array_equal(got_util, util[ok])
    np.testing.assert_array_equal(got_pk, pk)
    # the block the paid-pick record rebuilds for some rows
    from sim.day.choice import _Choices

    some = np.sort(np.random.default_rng(24).choice(len(rows), 300, replace=False))
    block = _Choices(start, col, got_util, paid_ok, got_pk, ok.shape[1]).utilities(some)
    np.testing.assert_array_equal(block, np.where(ok, util, -np.inf)[some])
    np.testing.assert_array_equal(-np.log(-np.log(u)), eps[ok])
    assert (s.paid[rows][:, PICKS] & avail[:, PICKS]).any(), "the day should hold paid picks"
    assert (s.advice[rows][:, PICKS] & avail[:, PICKS]).any()


# --------------------------------------------------------------------- needs


def test_need_and_session_draws_equal_the_keyed_draws() -> None:
    """Categories (ties with the cumulative shares not counted, capped at the last
    category), intents (and none without an intent spread), the sessions' uniforms and
    the customers' traits equal ``Keyed.uniform``, the comparison block, ``Keyed.normal``
    and the gathers."""
    rng = np.random.default_rng(13)
    table = np.cumsum(rng.dirichlet(np.ones(12), size=8), axis=1)
    table[:, -1] = 1.0 - 1e-3  # a uniform above every share: capped
    profile = rng.integers(0, 8, size=3000).astype(np.int16)
    streams = Streams(5)
    need = streams.keyed("needs")
    key = rng.integers(0, 2**64 - 1, size=5000, dtype=np.uint64)
    cust = rng.integers(0, 3000, size=5000)
    u = need.uniform(key, 0)
    table[profile[cust[:20]], 3] = u[:20]  # exact ties
    want_cat = np.minimum((u[:, None] > table[profile[cust]]).sum(axis=1), 11)
    for sd in (0.6, 0.0):
        cat, intent = kernels.need_draws(
            key, cust, need.key, np.uint64(0), np.uint64(1), profile, table, 12, sd
        )
        np.testing.assert_array_equal(cat, want_cat)
        want_intent = sd * need.normal(key, 1) if sd > 0 else np.zeros(len(key))
        np.testing.assert_array_equal(intent, want_intent)
    assert (want_cat == 11).any()
    traits = [rng.random(3000), rng.random(3000), rng.random(3000), rng.integers(0, 9, 3000)]
    traits[3] = traits[3].astype(np.int32)
    names = ("channel", "examination", "prime_offer")
    got = kernels.session_draws(key, cust, *(streams.keyed(n).key for n in names), *traits)
    want = [streams.keyed(n).uniform(key) for n in names] + [t[cust] for t in traits]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
        assert g.dtype == w.dtype


def test_key_order_equals_the_stable_sort_with_and_without_ties() -> None:
    """Sessions ordered by key come in the stable sort's order: hash keys (none, one,
    many), keys that share their leading bits but differ below them, equal keys."""
    from sim.day.needs import _order_by_key

    rng = np.random.default_rng(14)
    for n in (0, 1, 2, 3000):
        keys = rng.integers(0, 2**64 - 1, size=n, dtype=np.uint64)
        np.testing.assert_array_equal(_order_by_key(keys), np.argsort(keys, kind="stable"))
    keys[:50] = keys[100] ^ rng.integers(0, 4096, size=50).astype(np.uint64)  # share bits
    np.testing.assert_array_equal(_order_by_key(keys), np.argsort(keys, kind="stable"))
    keys[::7] = keys[3]
    np.testing.assert_array_equal(_order_by_key(keys), np.argsort(keys, kind="stable"))


def test_need_sessions_equal_the_keyed_draws() -> None:
    """Sessions of the customers' Poisson counts keyed by (day, index) (either side of the
    normal approximation, zero means) and their keys by (day, customer, ordinal) equal
    ``Keyed.poisson``, ``np.repeat`` and ``Keyed.bits``."""
    rng = np.random.default_rng(15)
    lam = np.concatenate([rng.uniform(0, 3, 20_000), rng.uniform(30, 80, 3_000), np.zeros(10)])
    lam = rng.permutation(lam)
    need, session = Keyed(9, "needs"), Keyed(9, "session")
    count = need.poisson(lam, 4, np.arange(len(lam)))
    cust = np.repeat(np.arange(len(lam)), count)
    ordinal = np.arange(len(cust)) - np.repeat(np.cumsum(count) - count, count)
    got_cust, got_key = kernels.need_sessions(
        need.key, as_words(4), lam, np.exp(-lam), POISSON_NORMAL_ABOVE, session.key
    )
    np.testing.assert_array_equal(got_cust, cust)
    np.testing.assert_array_equal(got_key, session.bits(4, cust, ordinal))


def test_merged_order_equals_the_stable_sort_with_and_without_ties() -> None:
    """Fresh keys in order merged with returning ones come in the stable sort's order of
    the two together (ties within and across them); fresh keys out of order fall back to
    the sort; the merged columns equal the concatenation taken in that order."""
    from sim.day.needs import _merged_order, _order_by_key

    rng = np.random.default_rng(18)
    fresh = np.sort(rng.integers(0, 2**64 - 1, size=3000, dtype=np.uint64))
    back = rng.integers(0, 2**64 - 1, size=700, dtype=np.uint64)
    for ties in (False, True):
        if ties:
            back[::5] = back[2]
            back[1::9] = fresh[100]
            fresh[200:210] = fresh[200]
        want = np.argsort(np.concatenate([fresh, back]), kind="stable")
        np.testing.assert_array_equal(_merged_order(fresh, back), want)
        np.testing.assert_array_equal(_order_by_key(np.concatenate([fresh, back])), want)
    shuffled = rng.permutation(fresh)
    want = np.argsort(np.concatenate([shuffled, back]), kind="stable")
    np.testing.assert_array_equal(_merged_order(shuffled, back), want)


def test_merged_sessions_equal_the_taken_columns_and_session_draws() -> None:
    """The merged sessions' columns equal each column of fresh and returning needs
    concatenated and taken in the merged order (a fresh need's origin its key, its age
    0), and their draws and traits equal :func:`session_draws` of the merged key and
    customer."""
    from sim.day.needs import _merged_order

    rng = np.random.default_rng(19)
    n_cust, n1, n2 = 4000, 3000, 700
    fresh = {
        "key": np.sort(rng.integers(0, 2**64 - 1, size=n1, dtype=np.uint64)),
        "cust": rng.integers(0, n_cust, n1),
        "cat": rng.integers(0, 12, n1),
        "intent": rng.normal(size=n1),
    }
    fresh["origin"], fresh["age"] = fresh["key"], np.zeros(n1, dtype=np.int64)
    back = {
        "key": rng.integers(0, 2**64 - 1, size=n2, dtype=np.uint64),
        "cust": rng.integers(0, n_cust, n2),
        "cat": rng.integers(0, 12, n2),
        "intent": rng.normal(size=n2),
        "origin": rng.integers(0, 2**64 - 1, size=n2, dtype=np.uint64),
        "age": rng.integers(1, 5, n2),
    }
    back["key"][::9] = fresh["key"][100]  # ties across them
    traits = [rng.random(n_cust), rng.random(n_cust), rng.random(n_cust)]
    traits.append(rng.integers(0, 9, n_cust).astype(np.int32))
    stream_keys = [np.uint64(k) for k in rng.integers(0, 2**63, 3)]
    for first in (fresh["key"], rng.permutation(fresh["key"])):  # in order, and not
        f = {**fresh, "key": first, "origin": first}
        order = _merged_order(first, back["key"])
        got = kernels.merged_sessions(
            order, f["key"], back["key"], f["cust"], back["cust"], f["cat"], back["cat"],
            f["intent"], back["intent"], back["origin"], back["age"], *stream_keys, *traits,
        )  # fmt: skip
        names = ("key", "cust", "cat", "intent", "origin", "age")
        want = [np.concatenate([f[k], back[k]])[order] for k in names]
        want += kernels.session_draws(want[0], want[1], *stream_keys, *traits)
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)
        # merged as it goes: the same columns, or not ok when the fresh keys are out of
        # order or a part is empty
        sorted_back = np.argsort(back["key"], kind="stable")
        for n_back in (n2, 0):
            b = {k: v[:n_back] for k, v in back.items()}
            ok, merged = kernels.merged_needs(
                f["key"], b["key"], sorted_back[sorted_back < n_back], f["cust"], b["cust"],
                f["cat"], b["cat"], f["intent"], b["intent"], b["origin"], b["age"],
                *stream_keys, *traits,
            )  # fmt: skip
            assert ok == (first is fresh["key"] and n_back > 0)
            for g, w in zip(merged if ok else (), got, strict=False):
                np.testing.assert_array_equal(g, w)
                assert g.dtype == w.dtype
            assert g.dtype == w.dtype


def test_census_equals_the_counts_and_boolean_indexing() -> None:
    """The population's counts equal ``count_nonzero`` of each comparison, and the members'
    other benefits equal boolean indexing, their (pairwise) sums alike at a million
    customers."""
    rng = np.random.default_rng(16)
    n, day, active_days = 1_000_000, 400, 365
    state = rng.integers(0, 3, n).astype(np.int8)
    last_platform = rng.integers(-1_000_000, day, n).astype(np.int32)
    last_consult = rng.integers(-1_000_000, day, n).astype(np.int32)
    benefit = rng.lognormal(3.0, 0.8, size=n)
    got = kernels.census(state, last_platform, last_consult, day, active_days, 30, 2, 1, benefit)
    active = (day - last_platform) < active_days
    members = state != 0
    want = (
        np.count_nonzero(active),
        np.count_nonzero((day - last_platform) < 30),
        np.count_nonzero(members & active),
        np.count_nonzero(state == 2),
        np.count_nonzero(state == 1),
        np.count_nonzero((day - last_consult) < active_days),
    )
    assert got[:6] == want
    np.testing.assert_array_equal(got[6], benefit[members])
    assert got[6].sum() == benefit[members].sum()
    # no members at all, and the last customer the only member
    for state in (np.zeros(n, np.int8), np.r_[np.zeros(n - 1, np.int8), np.int8(1)]):
        got = kernels.census(
            state, last_platform, last_consult, day, active_days, 30, 2, 1, benefit
        )
        np.testing.assert_array_equal(got[6], benefit[state != 0])


# --------------------------------------------------------------------- consults


def test_interp_equals_numpy_interp() -> None:
    """Values inside, outside, on and between grid points, NaN, on the consult table's
    even grid and on uneven, short and flat grids equal ``np.interp`` bit for bit."""
    from agents.customer import _base_table

    rng = np.random.default_rng(21)
    grid, solved = _base_table(0.24)
    uneven = np.sort(rng.random(50))
    uneven_fp = np.cumsum(rng.random(50))
    uneven_fp[10:13] = uneven_fp[10]  # a flat stretch
    for xp, fp in [
        (grid, solved),
        (uneven, uneven_fp),
        (np.array([0.2, 0.7]), np.array([1.0, -3.0])),
        (np.array([0.5]), np.array([2.0])),
        (np.array([0.0, 1.0, 1e300]), np.array([0.0, 1.0, np.inf])),
    ]:
        x = np.concatenate(
            [rng.random(20000), xp, xp + 1e-17, rng.uniform(-1, 2, 500), [np.nan, -0.0, 2e300]]
        )
        np.testing.assert_array_equal(kernels.interp(x, xp, fp), np.interp(x, xp, fp))


def test_consult_bases_equal_the_array_form() -> None:
    """The base chance to consult (unfamiliar categories, lapsed users, clipped to [0, 1],
    NaN and -0.0 as ``np.clip`` leaves them) equals the NumPy composition."""
    from agents.customer import ACTIVE_DAYS

    m, s, _ = _day_before_search()
    rng = np.random.default_rng(22)
    pop = m.customers
    pop.bought_categories[:] = rng.integers(0, 256, size=pop.bought_categories.shape)
    pop.last_would_consult_day[:] = rng.integers(-400, 40, size=pop.n)
    pop.assistant_propensity[:] = rng.uniform(-0.2, 1.5, size=pop.n)
    pop.assistant_propensity[:5] = [np.nan, -0.0, 0.0, 1.0, np.inf]
    s.cust[:5] = np.arange(5)
    rows = np.flatnonzero(s.platform | (np.arange(s.n) < 5))
    ci, cat = s.cust[rows], s.cat[rows]
    per_category = rng.uniform(0.5, 2.0, size=m.n_categories)
    context = per_category[cat]
    day = 40
    want = np.where(pop.familiar(ci, cat), context, context * 2.5)
    want = np.where((day - pop.last_would_consult_day[ci]) >= ACTIVE_DAYS, want * 7.0, want)
    want = np.clip(pop.assistant_propensity[ci] * want * pop.trust[ci], 0.0, 1.0)
    bought = pop.bought_categories
    trust = np.full(s.n, np.nan)
    got = kernels.consult_bases(
        rows, s.cust, s.cat, per_category, bought.reshape(-1), bought.shape[1],
        pop.last_would_consult_day, day, ACTIVE_DAYS, 2.5, 7.0, pop.assistant_propensity,
        pop.trust, trust,
    )  # fmt: skip
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(trust[rows], pop.trust[ci])
    assert np.isnan(np.delete(trust, rows)).all()
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_rows_drawn_equal_the_keyed_selection() -> None:
    """The rows whose keyed uniform is below their chance (0, 1, NaN and equal to the
    uniform included) equal the NumPy selection with ``Keyed.uniform``."""
    rng = np.random.default_rng(25)
    draws = Keyed(3, "assistant")
    key = rng.integers(0, 2**63, size=5000).astype(np.uint64)
    rows = np.sort(rng.choice(5000, 3000, replace=False))
    u = draws.uniform(key[rows], 0)
    p = rng.random(3000)
    p[:4] = [0.0, 1.0, np.nan, u[3]]
    want = rows[u < p]
    got = kernels.rows_drawn(rows, key, draws.key, as_words(0), p)
    np.testing.assert_array_equal(got, want)
    assert 0 < len(got) < len(rows) and rows[3] not in got


def test_store_answers_equal_the_array_assignments() -> None:
    """A batch's answers booked in one pass equal the NumPy assignments into the
    sessions' first columns (16-bit ad rows cast) and the customers' last consult (a
    customer met twice keeps the later category), and ``add_at`` of the paid and
    recognised picks per answer and of 1 to the customers' counters."""
    rng = np.random.default_rng(26)
    n_sessions, width, n = 3000, 15, 400
    rows = np.sort(rng.choice(n_sessions, n, replace=False))
    picks = rng.integers(-1, 50, size=(n, 3))
    reported, paid = rng.normal(size=(n, 3)), rng.random((n, 3)) < 0.3
    recognised = paid & (rng.random((n, 3)) < 0.5)
    ad_rows = np.where(paid, rng.integers(0, 900, size=(n, 3)), -1)
    cust, cat = rng.integers(0, 200, size=n), rng.integers(0, 12, size=n)
    want = [np.zeros((n_sessions, width), bool), np.zeros((n_sessions, 3))]
    want += [np.zeros((n_sessions, width), bool), np.zeros((n_sessions, width), bool)]
    want += [np.full((n_sessions, width), -1, np.int16), np.full(200, -9, np.int32)]
    want += [np.full(200, -1, np.int16)]
    got = [a.copy() for a in want]
    want[0][rows, :3] = (picks >= 0) & ~recognised
    want[1][rows] = np.where(picks >= 0, reported, 0.0)
    want[2][rows, :3] = paid
    want[3][rows, :3] = recognised
    want[4][rows, :3] = ad_rows
    want[5][cust] = 7
    want[6][cust] = cat
    want += [rng.integers(0, 9, size=200).astype(np.int32) for _ in range(3)]
    got += [w.copy() for w in want[7:]]
    np.add.at(want[7], cust, paid.sum(axis=1).astype(np.int32))
    np.add.at(want[8], cust, recognised.sum(axis=1).astype(np.int32))
    np.add.at(want[9], cust, 1)
    kernels.store_answers(
        rows, picks, reported, paid, recognised, ad_rows, *got[:5], cust, 7, cat, *got[5:]
    )
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    assert len(np.unique(cust)) < n


def _help_me_decide_numpy(score, price, signal, valid) -> NDArray[np.int64]:
    """The NumPy form of :func:`agents.assistant.help_me_decide` (masked argmaxes, the
    valid entries' row medians as ``np.nanmedian``)."""

    def median(values: NDArray[np.float64]) -> NDArray[np.float64]:
        k = valid.sum(axis=1)
        ordered = np.sort(np.where(valid, values, np.inf), axis=1)
        hi = np.take_along_axis(ordered, np.maximum(k // 2, 0)[:, None], axis=1)[:, 0]
        lo = np.take_along_axis(ordered, np.maximum((k - 1) // 2, 0)[:, None], axis=1)[:, 0]
        return np.where(k > 0, 0.5 * (lo + hi), np.nan)

    def best(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
        idx = np.argmax(np.where(mask, score, -np.inf), axis=1)
        return np.where(mask.any(axis=1), idx, -1)

    rows = np.arange(score.shape[0])
    top = best(valid)
    has = top >= 0
    taken = np.zeros_like(valid)
    taken[rows[has], top[has]] = True
    budget = best(valid & ~taken & (price <= median(price)[:, None]))
    ok = budget >= 0
    taken[rows[ok], budget[ok]] = True
    premium = best(valid & ~taken & (signal >= median(signal)[:, None]))
    return np.stack([top, budget, premium], axis=1).astype(np.int64)


def test_help_me_decide_equals_the_array_form() -> None:
    """The answer's picks from the compiled pass equal the NumPy composition: ties,
    NaN and infinite scores, NaN prices and signals, rows with one, two or no valid
    candidates, with and without groups of rows that share their prices, signals and
    validity (whose medians are worked out once), and with groups that do not."""
    from agents.assistant import help_me_decide

    rng = np.random.default_rng(23)
    n, k = 3000, 20
    score = rng.choice([0.0, 0.5, 1.0, 2.0, -np.inf, np.inf], size=(n, k))
    score[:1000] = rng.normal(size=(1000, k))
    price = rng.choice([100.0, 250.0, 400.0, 900.0], size=(n, k))
    signal = rng.choice([0.1, 0.4, 0.5, 0.9, -0.0, 0.0], size=(n, k))
    valid = rng.random((n, k)) < 0.7
    valid[:50] = False
    valid[50:100] = np.arange(k) == 3
    valid[100:150] = np.arange(k) < 2
    score[150:160, 4] = np.nan
    score[160:170, 0] = np.nan
    price[170:190, ::3] = np.nan
    signal[190:210, 1::4] = np.nan
    # rows 1000-2999 come in groups that share prices, signals and validity (categories)
    cat = rng.integers(0, 9, size=n)
    shared = slice(1000, n)
    for a in (price, signal, valid):
        a[shared] = a[1000 + cat[shared]]
    signal[1000 + np.flatnonzero(cat[shared] == 2)[1::2], 5] = -0.0  # -0.0 for 0.0: equal
    signal[1000 + np.flatnonzero(cat[shared] == 2)[::2], 5] = 0.0
    want = _help_me_decide_numpy(score, price, signal, valid)
    for group in (None, cat, rng.integers(0, 3, size=n), np.arange(n)):
        got = help_me_decide(score, price, signal, valid, group)
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.int64
    assert (want[:, 1] >= 0).any() and (want[:, 2] >= 0).any() and (want[:, 2] < 0).any()


# --------------------------------------------------------------------- delivery


def test_capacity_slips_equal_the_stable_sort_of_each_queue() -> None:
    """Orders beyond each station's capacity by increasing priority, ties to the earlier
    order, equal those of a stable sort of each station's queue: uniform priorities
    (many tied, so a place falls among equal ones) and priorities outside [0, 1)."""
    rng = np.random.default_rng(33)
    n = 20_000
    st = rng.integers(-1, 8, n)
    cap = rng.integers(0, 3000, 8)
    for u in (rng.random(n).round(3), rng.uniform(-0.5, 1.5, n).round(2)):
        want = np.zeros(n, dtype=bool)
        for s in range(8):
            queue = np.flatnonzero(st == s)
            want[queue[np.argsort(u[queue], kind="stable")][cap[s] :]] = True
        np.testing.assert_array_equal(kernels.capacity_slips(st, cap, u), want)
        assert want.any() and not want.all()


@pytest.mark.parametrize("decay_habit", [True, False])
def test_decay_population_equals_the_masked_products(decay_habit: bool) -> None:
    """Habit decays where the customer bought nothing (buyers repeated, absent or all),
    the Prime experience everywhere, as NumPy's masked and in-place products."""
    rng = np.random.default_rng(23)
    n = 5000
    habit, ship, speed = rng.random(n), rng.random(n) * 100, rng.random(n) * 50
    for buyers in (rng.integers(0, n, 700), np.zeros(0, np.int64), np.arange(n)):
        want_habit, want_ship, want_speed = habit.copy(), ship.copy(), speed.copy()
        if decay_habit:
            idle = np.ones(n, dtype=bool)
            idle[buyers] = False
            np.multiply(want_habit, np.exp(-1.0 / 45.0), out=want_habit, where=idle)
        want_ship *= 1.0 - 1.0 / 30.0
        want_speed *= 1.0 - 1.0 / 30.0
        got = habit.copy(), ship.copy(), speed.copy()
        factor = float(np.exp(-1.0 / 45.0))
        kernels.decay_population(got[0], factor, decay_habit, buyers, got[1], got[2], 1 - 1 / 30)
        for g, w in zip(got, (want_habit, want_ship, want_speed), strict=True):
            np.testing.assert_array_equal(g, w)


def test_learn_habit_equals_the_two_add_at() -> None:
    """Habit after platform purchases (experience per purchase, customers repeated), then
    rival purchases, equals NumPy's ``add.at`` of each ``next_habit`` step in turn."""
    rng = np.random.default_rng(24)
    n = 3000
    habit = rng.random(n)
    buyers, rival = rng.integers(0, n, 900), rng.integers(0, n, 700)
    experience = np.where(rng.random(900) < 0.7, 1.0, 0.5)
    want = habit.copy()
    np.add.at(want, buyers, next_habit(want[buyers], experience, 0.2) - want[buyers])
    np.add.at(want, rival, next_habit(want[rival], np.zeros(700), 0.2) - want[rival])
    kernels.learn_habit(habit, buyers, experience, rival, 0.0, 0.2)
    np.testing.assert_array_equal(habit, want)


def test_bought_entries_equal_the_masked_takes() -> None:
    """The orders' bought entries (picks and results, consulting sessions or not, an
    order without an entry) equal NumPy's ``take`` at the flat positions, masked."""
    rng = np.random.default_rng(30)
    n_sessions, width, n_picks = 500, 9, 3
    consult = rng.random(n_sessions) < 0.4
    paid, recognised, sponsored = (rng.random((n_sessions, width)) < 0.5 for _ in range(3))
    ad_row = rng.integers(-1, 40, (n_sessions, width)).astype(np.int32)
    rows = np.sort(rng.choice(n_sessions, 300, replace=False))
    col = rng.integers(-1, width, 300)
    at = rows * width + np.maximum(col, 0)
    via = (col >= 0) & (col < n_picks) & consult[rows]
    want_paid = np.take(paid, at) & via
    want_sponsored = np.take(sponsored, at) & (col >= n_picks)
    want = (
        via, want_paid, np.take(recognised, at) & via, want_sponsored,
        np.where(want_sponsored | want_paid, np.take(ad_row, at), -1),
    )  # fmt: skip
    got = kernels.bought_entries(rows, col, n_picks, consult, paid, recognised, sponsored, ad_row)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
        assert g.dtype == w.dtype
    assert want_paid.any() and want_sponsored.any()


def test_seller_sums_equal_the_bincounts() -> None:
    """Each seller's totals (sellers without orders, integer and float amounts) equal
    ``np.bincount`` with and without weights."""
    rng = np.random.default_rng(31)
    seller = rng.integers(0, 40, 5000)
    amounts = [rng.integers(0, 10**6, 5000) for _ in range(4)] + [rng.random(5000) * 1e3]
    sums, units = kernels.seller_sums(seller, 50, *amounts)
    for row, x in zip(sums, amounts, strict=True):
        np.testing.assert_array_equal(row, np.bincount(seller, weights=x, minlength=50))
    np.testing.assert_array_equal(units, np.bincount(seller, minlength=50))


def test_day_sessions_equal_flatnonzero_and_the_counts() -> None:
    """The orders' and rival purchases' sessions equal ``flatnonzero`` and the session
    counts NumPy's ``count_nonzero`` of each mask (no purchase at all, too)."""
    rng = np.random.default_rng(35)
    n = 9000
    product = np.where(rng.random(n) < 0.3, rng.integers(0, 500, n), -1)
    rival = (product < 0) & (rng.random(n) < 0.4)
    consult, would, platform = (rng.random(n) < 0.5 for _ in range(3))
    for bought in (product, np.full(n, -1)):
        rows, rv, counts = kernels.day_sessions(bought, rival, consult, would, platform)
        np.testing.assert_array_equal(rows, np.flatnonzero(bought >= 0))
        np.testing.assert_array_equal(rv, np.flatnonzero(rival))
        b = bought >= 0
        want = [
            platform & ~would, would, b & would, b & consult, b & ~consult & platform,
            ~consult & platform,
        ]  # fmt: skip
        np.testing.assert_array_equal(counts, [np.count_nonzero(x) for x in want])


def test_ad_conversions_equal_the_add_at_per_column() -> None:
    """The ad conversions equal NumPy's ``add.at`` per column (campaigns repeated, float
    sums in order) and the counts and sums of the masked prices."""
    rng = np.random.default_rng(36)
    n, n_ads, w = 5000, 40, 3.7
    conv_ad = np.where(rng.random(n) < 0.3, rng.integers(0, n_ads, n), -1)
    paid = rng.random(n) < 0.4
    price = rng.integers(100, 10**5, n)
    sale = np.rint(w * price).astype(np.int64)
    start = (rng.random(n_ads), rng.integers(0, 10**6, n_ads))
    got = [start[0].copy(), start[1].copy(), start[0].copy(), start[1].copy()]
    counts = kernels.ad_conversions(conv_ad, paid, price, sale, w, *got)
    want = [start[0].copy(), start[1].copy(), start[0].copy(), start[1].copy()]
    conv = conv_ad >= 0
    by_answer = conv & paid
    np.add.at(want[0], conv_ad[conv], w)
    np.add.at(want[1], conv_ad[conv], sale[conv])
    np.add.at(want[2], conv_ad[by_answer], w)
    np.add.at(want[3], conv_ad[by_answer], sale[by_answer])
    for g, x in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, x)
    assert counts == (conv.sum(), price[conv].sum(), price[by_answer].sum())


def test_order_totals_equal_the_numpy_sums() -> None:
    """The day's integer totals over the orders equal NumPy's sums and counts of the
    masked arrays they replace."""
    rng = np.random.default_rng(34)
    n, n_sessions = 4000, 9000
    price, cogs = rng.integers(100, 10**5, n), rng.integers(50, 10**5, n)
    ship_fee, referral, fulfil = (rng.integers(0, 900, n) for _ in range(3))
    delivery_cost = rng.integers(0, 700, n)
    days = rng.integers(0, 4, n)
    own, slipped, in_window, sponsored, paid, via, member = (rng.random(n) < 0.3 for _ in range(7))
    rows = np.sort(rng.choice(n_sessions, n, replace=False))
    consult, would, platform = (rng.random(n_sessions) < 0.5 for _ in range(3))
    paid_total = price + ship_fee
    margin = referral + fulfil + ship_fee - delivery_cost + np.where(own, price - cogs, 0)
    c, wc, pl = consult[rows], would[rows], platform[rows]
    want = [
        price.sum(), paid_total.sum(), referral.sum(), fulfil.sum(), ship_fee.sum(),
        price[own].sum(), (price - cogs)[own].sum(), delivery_cost.sum(), (~own).sum(),
        price[~own].sum(), days.sum(), (days == 0).sum(), slipped.sum(),
        price[in_window].sum(), margin[in_window].sum(),
        (referral + fulfil + ship_fee)[in_window].sum() + price[in_window][own[in_window]].sum(),
        in_window.sum(), price[in_window & c].sum(), price[wc].sum(), price[pl & ~wc].sum(),
        margin.sum(), (sponsored | paid).sum(), via.sum(), paid.sum(), member.sum(),
    ]  # fmt: skip
    got = kernels.order_totals(
        price, paid_total, referral, fulfil, ship_fee, cogs, own, delivery_cost, days,
        slipped, in_window, rows, consult, would, platform, sponsored, paid, via, member,
    )  # fmt: skip
    np.testing.assert_array_equal(got, np.array(want, dtype=np.int64))


def test_book_orders_equals_the_add_at_per_account() -> None:
    """Orders and spend split by membership, the last platform day, the categories bought
    and the Prime experience per order (customers repeated), and rival purchases, equal
    NumPy's ``add.at``, assignment and ``bitwise_or.at`` per account; the buyers' last
    consult day and category read in the pass equal the gathers."""
    rng = np.random.default_rng(26)
    n, n_orders, n_rival, n_cat = 2000, 3000, 800, 12
    accounts = {
        "orders_member": rng.integers(0, 9, n).astype(np.int32),
        "orders_nonmember": rng.integers(0, 9, n).astype(np.int32),
        "spend_member": rng.integers(0, 10**6, n),
        "spend_nonmember": rng.integers(0, 10**6, n),
        "last_day": rng.integers(-5, 5, n).astype(np.int32),
        "bought": rng.integers(0, 256, (n, 2)).astype(np.uint8),
        "ship_value": rng.random(n) * 100,
        "speed_value": rng.random(n) * 50,
        "rival_purchases": rng.integers(0, 9, n).astype(np.int32),
    }
    buyers, rival = rng.integers(0, n, n_orders), rng.integers(0, n, n_rival)
    member = rng.random(n_orders) < 0.4
    paid = rng.integers(100, 10**5, n_orders)
    category = rng.integers(0, n_cat, n_orders)
    ship, speed = rng.random(n_orders) * 3, rng.random(n_orders) * 7
    want = {k: v.copy() for k, v in accounts.items()}
    np.add.at(want["orders_member"], buyers[member], 1)
    np.add.at(want["orders_nonmember"], buyers[~member], 1)
    np.add.at(want["spend_member"], buyers[member], paid[member])
    np.add.at(want["spend_nonmember"], buyers[~member], paid[~member])
    want["last_day"][buyers] = 7
    bits = np.left_shift(1, category & 7).astype(np.uint8)
    np.bitwise_or.at(want["bought"], (buyers, category >> 3), bits)
    np.add.at(want["ship_value"], buyers, ship)
    np.add.at(want["speed_value"], buyers, speed)
    np.add.at(want["rival_purchases"], rival, 1)
    a = accounts
    consult_day = rng.integers(-9, 7, n).astype(np.int32)
    consult_category = rng.integers(-1, n_cat, n).astype(np.int16)
    got_day, got_category = kernels.book_orders(
        buyers, member, paid, 7, category, ship, speed, a["orders_member"],
        a["orders_nonmember"], a["spend_member"], a["spend_nonmember"], a["last_day"],
        a["bought"], a["ship_value"], a["speed_value"], rival, a["rival_purchases"],
        consult_day, consult_category,
    )  # fmt: skip
    np.testing.assert_array_equal(got_day, consult_day[buyers])
    np.testing.assert_array_equal(got_category, consult_category[buyers])
    assert got_day.dtype == np.int32 and got_category.dtype == np.int16
    for name, got in accounts.items():
        np.testing.assert_array_equal(got, want[name], err_msg=name)


def test_membership_day_equals_the_numpy_passes() -> None:
    """A day of membership for every member and the decisions due today equal
    ``days_member += prime_state != 0`` and ``np.flatnonzero(next_decision_day == day)``
    (none due included)."""
    rng = np.random.default_rng(28)
    n = 5000
    state = rng.integers(0, 3, n).astype(np.int8)
    next_day = rng.integers(-1, 40, n).astype(np.int32)
    for day in (7, 99):
        days = rng.integers(0, 300, n).astype(np.int32)
        want_days = days + (state != 0)
        due = kernels.membership_day(state, days, next_day, day)
        np.testing.assert_array_equal(due, np.flatnonzero(next_day == day))
        np.testing.assert_array_equal(days, want_days)


def test_offer_candidates_equal_the_unique_non_members() -> None:
    """The visitors who are not members, once each in customer order, equal the
    non-members among ``np.unique`` of the visiting sessions' customers."""
    rng = np.random.default_rng(29)
    n = 3000
    state = rng.integers(0, 3, n).astype(np.int8)
    cust = rng.integers(0, n, 8000)
    for visit in (rng.random(8000) < 0.3, np.zeros(8000, bool)):
        want = np.unique(cust[visit])
        want = want[state[want] == 0]
        np.testing.assert_array_equal(kernels.offer_candidates(cust, visit, state), want)


def test_set_bits_equals_bitwise_or_at() -> None:
    """Bits set per (row, bit), repeated pairs, negative rows and bytes, equal
    ``np.bitwise_or.at``; an index out of bounds raises as NumPy does."""
    rng = np.random.default_rng(25)
    table = rng.integers(0, 256, size=(300, 3), dtype=np.uint8)
    rows = rng.integers(-300, 300, 5000)
    bit = rng.integers(-24, 24, 5000)
    want = table.copy()
    np.bitwise_or.at(want, (rows, bit >> 3), np.left_shift(1, bit & 7).astype(np.uint8))
    kernels.set_bits(table, rows, bit)
    np.testing.assert_array_equal(table, want)
    with pytest.raises(IndexError):
        kernels.set_bits(table, np.array([300]), np.array([0]))
    with pytest.raises(IndexError):
        kernels.set_bits(table, np.array([0]), np.array([24]))


def test_value_tables_equal_the_item_value() -> None:
    """An item's net value from the tables of the compiled passes (price term per
    category and membership, promised days per membership, reach and centre) equals
    :func:`sim.kernels._item_value`'s, on every branch: platform-fulfilled or not,
    stocked or not, no centre, each reach and an unknown distance, members or not,
    prices either side of the free-shipping threshold."""
    rng = np.random.default_rng(27)
    n_p, n_c, n_fc = 60, 5, 4
    products = (
        rng.random(n_p),
        rng.integers(100, 9000, n_p),
        rng.random(n_p) < 0.6,
        rng.integers(0, 2**n_fc, n_p).astype(np.uint64),
    )
    terms = (1.12, 1.5, 4.0, 3, 5, 4, 3500, 599)
    category_price = rng.uniform(500, 8000, n_c)
    price_term, days = kernels._value_tables(category_price, products, terms, n_fc)
    for _ in range(3000):
        j, c = int(rng.integers(n_p)), int(rng.integers(n_c))
        member = bool(rng.random() < 0.5)
        dist = float(rng.choice([0.0, 1.5, 2.0, 4.0, 7.0, np.nan]))
        fc = int(rng.integers(-1, n_fc))
        taste, delay = float(rng.random()), float(rng.random())
        want = kernels._item_value(
            j, member, dist, fc, taste, delay, category_price[c], products, terms
        )
        m = 1 if member else 0
        got = (
            terms[0]
            + taste * products[0][j]
            - price_term[c, m, j]
            - delay * days[m, kernels._reach(dist, terms), fc + 1, j]
        )
        assert got == want


def test_choice_groups_and_channel_platform_equal_numpy() -> None:
    """The choice's session groups and the channel's platform draw equal the NumPy forms
    they replace (a NaN probability included)."""
    rng = np.random.default_rng(41)
    n = 5000
    platform = rng.uniform(size=n) < 0.5
    external = ~platform & (rng.uniform(size=n) < 0.2)
    agentic = np.where(platform & (rng.uniform(size=n) < 0.1), rng.integers(0, 9, n), -1)
    rows, ag, ex, rv = kernels.choice_groups(platform, agentic, external)
    np.testing.assert_array_equal(rows, np.flatnonzero(platform & (agentic < 0)))
    np.testing.assert_array_equal(ag, np.flatnonzero(agentic >= 0))
    np.testing.assert_array_equal(ex, np.flatnonzero(external))
    np.testing.assert_array_equal(rv, np.flatnonzero(~platform & ~external))
    online = rng.uniform(size=n) < 0.8
    u = rng.uniform(size=n)
    t = np.tanh(rng.choice([-3.0, -0.2, 0.0, 0.4, np.nan, np.inf], size=n))
    want = online & ~external & (u < (t + 1.0) * 0.5)
    np.testing.assert_array_equal(kernels.channel_platform(online, external, u, t), want)


def test_rows_with_any_equal_numpy() -> None:
    """The rows with a True entry equal NumPy's unique rows of the flat positions."""
    rng = np.random.default_rng(43)
    flags = rng.uniform(size=(3000, 3)) < 0.05
    want = np.unique(np.flatnonzero(flags) // flags.shape[1])
    np.testing.assert_array_equal(kernels.rows_with_any(flags), want)
    assert len(kernels.rows_with_any(np.zeros((5, 3), dtype=bool))) == 0


def test_outside_values_equal_numpy() -> None:
    """The choice's outside utilities equal the NumPy forms they replace (NaNs and
    infinities included)."""
    rng = np.random.default_rng(31)
    n = 5000
    mu = rng.choice([0.0, 0.7, 1.3, np.nan, np.inf], size=n)
    net_rival = rng.normal(size=n)
    habit = rng.uniform(size=n)
    intent = rng.choice([0.0, 0.4, -1.2, np.nan], size=n)
    v_rival, v_none = kernels.outside_values(mu, net_rival, habit, 0.3, intent, -0.25)
    np.testing.assert_array_equal(v_rival, mu * net_rival - 0.3 * habit)
    np.testing.assert_array_equal(v_none, -0.25 - intent)


def test_product_units_equal_keyed_uniform() -> None:
    """The answers' uniforms keyed by (session, slot, product) equal
    :meth:`sim.rng.Keyed.uniform` of the gathered product keys."""
    rng = np.random.default_rng(37)
    who = rng.integers(-(2**62), 2**62, size=300)
    product_key = rng.integers(-(2**62), 2**62, size=50)
    items = rng.integers(0, 50, size=(300, 20))
    stream = Keyed(7, "assistant")
    want = stream.uniform(who[:, None], 4, product_key[items])
    got = kernels.product_units(
        stream.key, as_words(who), as_words(4), as_words(product_key), items
    )
    np.testing.assert_array_equal(got, want)


def test_rival_or_nothing_equals_the_full_argmax() -> None:
    """The rival channel's choice (ties, NaNs and infinities in utilities and shocks)
    equals :func:`sim.kernels.argmax_available` of the two alternatives."""
    rng = np.random.default_rng(29)
    n = 4000
    v_rival = rng.choice([0.0, 0.5, 1.0, np.nan, -np.inf], size=n)
    habit = rng.choice([0.0, 0.5, 1.0], size=n)
    v_none = rng.choice([0.0, 0.5, 1.5, np.nan, np.inf], size=n)
    shock = rng.choice([0.0, 0.25, -0.25], size=(n, 2))
    rows = np.sort(rng.choice(n, 3000, replace=False))
    util = np.stack([v_rival[rows] + 0.5 * habit[rows], v_none[rows]], axis=1)
    pick = kernels.argmax_available(util, np.ones_like(util, bool), shock)
    rival = np.zeros(n, dtype=bool)
    neg_shock = np.ascontiguousarray(-shock.T)  # a row of shocks per option
    kernels.rival_or_nothing(rows, v_rival, habit, 0.5, v_none, neg_shock, rival)
    want = np.zeros(n, dtype=bool)
    want[rows[pick == 0]] = True
    np.testing.assert_array_equal(rival, want)


def test_returning_needs_equal_the_keyed_draws() -> None:
    """The open needs that return today and their new keys equal ``Keyed.uniform`` below
    the persistence and ``Keyed.bits`` of the returning ones, with their columns."""
    rng = np.random.default_rng(30)
    n = 5000
    origin = rng.integers(0, 2**64 - 1, size=n, dtype=np.uint64)
    cust, cat = rng.integers(0, 10**6, n), rng.integers(0, 12, n)
    intent, age = rng.normal(size=n), rng.integers(0, 5, n)
    journeys = Keyed(8, "journeys")
    back = journeys.uniform(origin, 9, 0) < 0.4
    got = kernels.returning_needs(
        origin, cust, cat, intent, age, journeys.key, as_words(9), np.uint64(0), np.uint64(1), 0.4
    )
    want = (
        journeys.bits(origin[back], 9, 1), cust[back], cat[back], intent[back], origin[back],
        age[back] + 1,
    )  # fmt: skip
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
        assert g.dtype == w.dtype
    assert 0 < back.sum() < n


def test_campaigns_pay_for_the_markets_clicks_in_whole_clicks() -> None:
    """An examined sponsored item is charged the market's clicks on it: a Poisson count
    with mean weight x click probability, each at the item's price, drawn apart from
    the simulated customer's own click (which the weight does not change)."""
    n, k = 40_000, 2
    page = np.tile(np.array([0, 1]), (n, 1))
    is_sp = np.tile(np.array([True, False]), (n, 1))
    pos_ad = np.tile(np.array([3, -1]), (n, 1))
    pos_price = np.tile(np.array([90, 0]), (n, 1))
    depth = np.full(n, k)
    # a click probability of (tanh + 1) x 0.5 x 0.16 = 0.08 on every examined item
    tanh_half = np.zeros(n * k)
    product_key = np.array([11, 12], dtype=np.uint64)

    def run(weight: float):  # type: ignore[no-untyped-def]
        consider = np.full((n, k), -1, dtype=np.int32)
        sponsored = np.zeros((n, k), dtype=bool)
        ad_row = np.full((n, k), -1, dtype=np.int32)
        charged, market, cents, counts = kernels.search_clicks(
            page, is_sp, pos_ad, pos_price, depth, tanh_half, 0.16,
            np.arange(n, dtype=np.uint64), np.uint64(7), product_key, np.arange(n), consider,
            sponsored, ad_row, 0, 12, weight, np.uint64(1), 50.0,
        )  # fmt: skip
        return charged, market, cents, counts, consider

    small = run(0.1)
    large = run(6.0)
    for charged, market, cents, _, _ in (small, large):
        assert (charged == 3).all() and (cents == 90).all() and (market >= 1).all()
    # the market's clicks: mean weight x p_click per impression, in whole clicks
    for (_, market, *_), weight in ((small, 0.1), (large, 6.0)):
        mean = market.sum() / n
        assert mean == pytest.approx(weight * 0.08, rel=4 / np.sqrt(weight * 0.08 * n))
    assert large[1].max() > 1  # several market clicks on one impression at a large weight
    # the customer's own clicks do not depend on the weight
    np.testing.assert_array_equal(small[4], large[4])
    assert small[3][6] == large[3][6] == np.count_nonzero(small[4][:, 0] >= 0)
