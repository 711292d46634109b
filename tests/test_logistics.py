"""Tests for the logistics mechanism (``sim.logistics``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.geography import (
    choose_expansion,
    distances,
    make_regions,
    nearest,
    place_fulfilment_centres,
    place_initial_stations,
)
from sim.logistics import (
    MAX_CENTRES,
    apply_capacity,
    cost_per_delivery_cents,
    promise_days,
    station_service,
    stock_masks,
)

SAME, NEXT, STD, SELF = 2.0, 5.0, 3, 6


def _promise(dist, fc, fba, mask, std=STD, self_days=SELF):
    """Call promise_days with the module's default radii."""
    return promise_days(dist, fc, fba, mask, SAME, NEXT, std, self_days)


def _grid_xy(width: int, height: int) -> np.ndarray:
    """Cell-centre coordinates of a width x height grid, index y * width + x."""
    ys, xs = np.divmod(np.arange(width * height), width)
    return np.column_stack([xs + 0.5, ys + 0.5])


# --- make_regions -------------------------------------------------------------------------


def test_make_regions_density_sums_to_one_and_shapes():
    """Densities are non-negative, sum to 1, and every array has the documented shape."""
    reg = make_regions(12, 9, 3, 2.0, 0.02, np.random.default_rng(0))
    assert reg.xy.shape == (108, 2)
    assert reg.density.shape == reg.is_metro.shape == (108,)
    assert reg.metro_xy.shape == (3, 2)
    assert np.all(reg.density >= 0)
    assert reg.density.sum() == pytest.approx(1.0)


def test_make_regions_index_is_row_major():
    """Region r = y * W + x has centre (x + 0.5, y + 0.5)."""
    reg = make_regions(5, 4, 1, 1.0, 0.02, np.random.default_rng(0))
    np.testing.assert_array_equal(reg.xy[2 * 5 + 3], [3.5, 2.5])


def test_make_regions_deterministic_for_same_seed():
    """The same seed gives identical geography; a different seed gives different metros."""
    a = make_regions(20, 20, 4, 2.5, 0.02, np.random.default_rng(7))
    b = make_regions(20, 20, 4, 2.5, 0.02, np.random.default_rng(7))
    c = make_regions(20, 20, 4, 2.5, 0.02, np.random.default_rng(8))
    np.testing.assert_array_equal(a.density, b.density)
    np.testing.assert_array_equal(a.metro_xy, b.metro_xy)
    np.testing.assert_array_equal(a.is_metro, b.is_metro)
    assert not np.array_equal(a.metro_xy, c.metro_xy)


@pytest.mark.parametrize("seed", range(5))
def test_make_regions_metro_share_sensible(seed):
    """Metro cells are a minority of the grid (10–40 %) yet hold most of the population."""
    reg = make_regions(40, 40, 5, 3.0, 0.02, np.random.default_rng(seed))
    assert 0.10 <= reg.is_metro.mean() <= 0.40
    assert reg.density[reg.is_metro].sum() > 0.6


def test_make_regions_metros_keep_off_border_and_biggest_first():
    """Metro centres lie at least 2 cells inside the border and are sorted by size."""
    reg = make_regions(15, 10, 6, 2.0, 0.02, np.random.default_rng(3))
    assert np.all(reg.metro_xy[:, 0] >= 2) and np.all(reg.metro_xy[:, 0] <= 13)
    assert np.all(reg.metro_xy[:, 1] >= 2) and np.all(reg.metro_xy[:, 1] <= 8)
    assert np.all(np.diff(reg.metro_weight) <= 0)


def test_make_regions_without_metros_is_uniform_rural():
    """With no metros density is uniform and no cell is metro."""
    reg = make_regions(4, 3, 0, 2.0, 0.02, np.random.default_rng(0))
    np.testing.assert_allclose(reg.density, 1 / 12)
    assert not reg.is_metro.any()


def test_make_regions_arrays_are_read_only():
    """The frozen Regions cannot be mutated through its arrays."""
    reg = make_regions(4, 3, 1, 2.0, 0.02, np.random.default_rng(0))
    with pytest.raises(ValueError):
        reg.density[0] = 1.0


def test_make_regions_rejects_bad_sigma():
    """A non-positive kernel width raises ValueError naming the argument."""
    with pytest.raises(ValueError, match="metro_sigma_cells"):
        make_regions(4, 4, 1, 0.0, 0.02, np.random.default_rng(0))


# --- distances / nearest ------------------------------------------------------------------


def test_distances_euclidean():
    """Distances are Euclidean, shape (n, m)."""
    d = distances(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[3.0, 4.0]]))
    np.testing.assert_allclose(d, [[5.0], [np.hypot(2.0, 3.0)]])


def test_nearest_picks_closest_and_lower_index_on_tie():
    """Nearest returns the closest site, the lower index on a tie."""
    dist, idx = nearest(np.array([[0.0, 0.0], [2.0, 0.0]]), np.array([[1.0, 0.0], [3.0, 0.0]]))
    np.testing.assert_array_equal(idx, [0, 0])
    np.testing.assert_allclose(dist, [1.0, 1.0])


def test_nearest_with_no_sites():
    """With no sites every distance is inf and every index -1."""
    dist, idx = nearest(np.zeros((3, 2)), np.zeros((0, 2)))
    assert np.all(np.isinf(dist))
    np.testing.assert_array_equal(idx, [-1, -1, -1])
    assert idx.dtype == np.int64


# --- placement ----------------------------------------------------------------------------


def test_fulfilment_centres_in_biggest_metros():
    """Centres go to the cells of the heaviest metros, biggest first, deterministically."""
    reg = make_regions(30, 30, 4, 2.0, 0.02, np.random.default_rng(2))
    fcs = place_fulfilment_centres(reg, 2)
    big = np.floor(reg.metro_xy[:2]).astype(int)
    np.testing.assert_array_equal(fcs, big[:, 1] * 30 + big[:, 0])
    np.testing.assert_array_equal(fcs, place_fulfilment_centres(reg, 2))


def test_fulfilment_centres_beyond_metros_fill_densest_cells():
    """Asking for more centres than metros fills with distinct dense cells."""
    reg = make_regions(10, 10, 1, 2.0, 0.02, np.random.default_rng(0))
    fcs = place_fulfilment_centres(reg, 4)
    assert len(np.unique(fcs)) == 4


def test_initial_stations_greedy_density_with_spacing():
    """Stations start at the densest cell and respect the minimum spacing."""
    reg = make_regions(30, 30, 4, 3.0, 0.02, np.random.default_rng(5))
    st_idx = place_initial_stations(reg, 8, 4.0)
    assert st_idx[0] == int(np.argmax(reg.density))
    d = distances(reg.xy[st_idx], reg.xy[st_idx]) + 1e9 * np.eye(len(st_idx))
    assert d.min() >= 4.0
    assert len(st_idx) == 8


def test_initial_stations_ties_break_to_lower_index():
    """On a uniform map the greedy order is by region index."""
    reg = make_regions(6, 1, 0, 1.0, 0.02, np.random.default_rng(0))
    np.testing.assert_array_equal(place_initial_stations(reg, 3, 2.0), [0, 2, 4])


def test_station_service_maps_region_to_station_and_fc():
    """Each region gets its nearest station and that station's centre."""
    xy = _grid_xy(10, 1)
    sm = station_service(xy, np.array([[1.5, 0.5], [8.5, 0.5]]), np.array([3, 1]))
    assert sm.station[0] == 0 and sm.station[9] == 1
    assert sm.fc[0] == 3 and sm.fc[9] == 1
    assert sm.dist_cells[0] == pytest.approx(1.0)


def test_station_service_without_stations():
    """With no stations every region has station -1, fc -1 and infinite distance."""
    sm = station_service(_grid_xy(3, 2), np.zeros((0, 2)), np.zeros(0, dtype=np.int64))
    np.testing.assert_array_equal(sm.station, -1)
    np.testing.assert_array_equal(sm.fc, -1)
    assert np.all(np.isinf(sm.dist_cells))


# --- promise_days -------------------------------------------------------------------------


def test_promise_same_day_needs_fba_radius_and_stock():
    """Same day only when FBA, within the same-day radius and the serving centre stocks it."""
    mask = np.uint64(0b100)  # only centre 2 stocks the item
    assert _promise(1.0, 2, True, mask) == 0
    assert _promise(1.0, 1, True, mask) == 1  # not stocked at the serving centre
    assert _promise(3.0, 2, True, mask) == 1  # outside same-day radius
    assert _promise(1.0, 2, False, mask) == SELF  # not FBA
    assert _promise(1.0, -1, True, np.uint64(2**64 - 1)) == 1  # no serving centre


def test_promise_high_bit_centre():
    """Centre 63 (the top bit) is honoured, also when the mask arrives as signed int64."""
    top = np.array([-(2**63)], dtype=np.int64)
    assert _promise(0.0, 63, True, np.uint64(2**63)) == 0
    assert _promise(0.0, 63, True, top)[0] == 0


def test_promise_next_day_standard_and_self_fulfilled():
    """FBA within next-day radius → 1, beyond → standard; self-fulfilled → its own days."""
    assert _promise(4.0, 0, True, np.uint64(1)) == 1
    assert _promise(NEXT, 0, True, np.uint64(0)) == 1
    assert _promise(5.01, 0, True, np.uint64(1)) == STD
    assert _promise(np.inf, -1, True, np.uint64(1)) == STD
    assert _promise(0.0, 0, False, np.uint64(1)) == SELF
    assert _promise(np.inf, -1, False, np.uint64(1)) == SELF


def test_promise_broadcasts_shoppers_by_items():
    """Shopper (S,1) distances/centres broadcast against (1,K) or (S,K) item attributes."""
    dist = np.array([[1.0], [4.0], [9.0]])
    fc = np.array([[0], [1], [0]])
    fba = np.array([[True, True, False]])
    mask = np.array([[0b01, 0b10, 0b11]], dtype=np.uint64)
    out = _promise(dist, fc, fba, mask)
    assert out.dtype == np.int8
    np.testing.assert_array_equal(out, [[0, 1, SELF], [1, 1, SELF], [STD, STD, SELF]])


@pytest.mark.parametrize(
    ("same", "nxt", "name"),
    [(-1.0, 2.0, "same_day_radius_cells"), (3.0, 2.0, "next_day_radius_cells")],
)
def test_promise_rejects_bad_radii(same, nxt, name):
    """Invalid radii raise ValueError naming the offending argument."""
    with pytest.raises(ValueError, match=name):
        promise_days(1.0, 0, True, np.uint64(1), same, nxt, STD, SELF)


def test_stock_masks_share_and_determinism():
    """Each centre stocks about stock_share of items; the same uniforms give the same masks."""
    u = np.random.default_rng(1).random((4000, 8))
    a = stock_masks(u, 0.3)
    np.testing.assert_array_equal(a, stock_masks(u.copy(), 0.3))
    assert a.dtype == np.uint64
    bits = (a[:, None] >> np.arange(8, dtype=np.uint64)) & np.uint64(1)
    assert np.all(np.abs(bits.mean(axis=0) - 0.3) < 0.05)
    assert np.all(a < 2**8)


def test_stock_masks_all_64_centres():
    """With 64 centres and share 1 every bit is set."""
    m = stock_masks(np.random.default_rng(0).random((2, MAX_CENTRES)), 1.0)
    np.testing.assert_array_equal(m, np.uint64(2**64 - 1))
    with pytest.raises(ValueError, match="n_centres"):
        stock_masks(np.zeros((2, MAX_CENTRES + 1)), 1.0)


# --- apply_capacity -----------------------------------------------------------------------


def test_capacity_exact_slips_per_station():
    """Each station slips exactly its orders beyond capacity."""
    stations = np.array([0, 0, 0, 0, 1, 1, 2])
    slip = apply_capacity(stations, np.array([1, 5, 0]), np.linspace(0, 1, 7))
    assert slip[stations == 0].sum() == 3
    assert slip[stations == 1].sum() == 0
    assert slip[stations == 2].sum() == 1


def test_capacity_lowest_u_served_first():
    """Within a station the orders with the lowest u are the ones delivered on time."""
    u = np.array([0.7, 0.2, 0.9, 0.1, 0.5])
    slip = apply_capacity(np.zeros(5, dtype=np.int64), np.array([2]), u)
    np.testing.assert_array_equal(slip, [True, False, True, False, True])


def test_capacity_no_station_never_slips():
    """Orders outside any station (-1) never slip, even with zero-capacity stations."""
    slip = apply_capacity(np.array([-1, -1, 0]), np.array([0]), np.array([0.1, 0.2, 0.3]))
    np.testing.assert_array_equal(slip, [False, False, True])


def _reference_capacity(st, cap, u):  # type: ignore[no-untyped-def]
    """The queue of every order sorted at once (before only over-capacity stations were)."""
    order = np.lexsort((u, st))
    st_sorted = st[order]
    rank = np.arange(st.size) - np.searchsorted(st_sorted, st_sorted, side="left")
    has_station = st_sorted >= 0
    cap_sorted = np.where(has_station, cap[np.maximum(st_sorted, 0)] if cap.size else 0, 0)
    slip = np.empty(st.size, dtype=bool)
    slip[order] = has_station & (rank >= cap_sorted)
    return slip


@pytest.mark.parametrize("seed", range(5))
def test_capacity_equals_sorting_every_queue(seed: int) -> None:
    """Ranking only the queues of stations over capacity (by selection) slips exactly the
    orders that sorting every queue slips, with tied priorities and stations of zero
    capacity."""
    rng = np.random.default_rng(seed)
    cap = rng.integers(0, 40, size=30)
    st = rng.integers(-1, 30, size=900)
    u = rng.choice(np.linspace(0, 1, 50), size=900)  # many exact ties
    slip = apply_capacity(st, cap, u)
    np.testing.assert_array_equal(slip, _reference_capacity(st, cap, u))
    assert slip.any() and not slip.all()


def test_capacity_empty_inputs():
    """No orders means no slips."""
    slip = apply_capacity(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
    assert slip.shape == (0,)


# --- cost_per_delivery_cents --------------------------------------------------------------


def test_cost_falls_with_utilisation():
    """Busier stations deliver more cheaply; half capacity costs base before learning."""
    cost = cost_per_delivery_cents(
        np.array([1.0, 25.0, 50.0, 100.0, 500.0]), np.full(5, 100), 400, 0.8, 0.0, 0.15, 1e5
    )
    assert np.all(np.diff(cost[:4]) < 0)
    assert cost[2] == pytest.approx(400.0)
    assert cost[4] == pytest.approx(cost[3])  # utilisation capped at 1


def test_cost_doubling_volume_cuts_by_learning_rate():
    """Each doubling of cumulative volume multiplies cost by (1 - learning_rate)."""
    args = (np.array([30.0]), np.array([100]), 400, 0.8)
    c1 = cost_per_delivery_cents(*args, 4e5, 0.2, 1e5)
    c2 = cost_per_delivery_cents(*args, 8e5, 0.2, 1e5)
    c0 = cost_per_delivery_cents(*args, 10.0, 0.2, 1e5)  # below reference: no learning yet
    assert c2[0] / c1[0] == pytest.approx(0.8)
    assert c1[0] / c0[0] == pytest.approx(0.8**2)


def test_cost_zero_capacity_uses_floor_utilisation():
    """A zero-capacity station is costed at the utilisation floor, not NaN."""
    cost = cost_per_delivery_cents(np.array([5.0]), np.array([0]), 100, 1.0, 0.0, 0.1, 1.0)
    assert cost[0] == pytest.approx(100 * (0.05 / 0.5) ** -1.0)


# --- choose_expansion ---------------------------------------------------------------------


def _line(n: int = 10):
    """A 1-row grid of n cells: coordinates and all-uncovered flags."""
    return _grid_xy(n, 1), np.zeros(n, dtype=bool)


def test_expansion_respects_threshold_and_coverage():
    """Only uncovered cells strictly above the threshold are chosen, by demand descending."""
    xy, cov = _line()
    demand = np.array([0, 6, 0, 0, 5, 0, 0, 9, 0, 12], dtype=float)
    cov[9] = True
    out = choose_expansion(demand, cov, np.ones(10, bool), 5.0, False, 3.0, 5, 0.0, xy)
    np.testing.assert_array_equal(out, [7, 1])


def test_expansion_rural_switch():
    """Rural switch off never picks non-metro; on, rural cells need the higher threshold."""
    xy, cov = _line()
    demand = np.array([100, 0, 20, 0, 12, 0, 8, 0, 0, 0], dtype=float)
    metro = np.zeros(10, bool)
    metro[6] = True
    off = choose_expansion(demand, cov, metro, 5.0, False, 3.0, 10, 0.0, xy)
    on = choose_expansion(demand, cov, metro, 5.0, True, 3.0, 10, 0.0, xy)
    np.testing.assert_array_equal(off, [6])
    np.testing.assert_array_equal(on, [0, 2, 6])  # 12 <= 15: rural cell 4 misses


def test_expansion_spacing_and_max_new():
    """New stations keep min spacing from each other and never exceed max_new."""
    xy, cov = _line()
    demand = np.arange(10, 0, -1, dtype=float)
    metro = np.ones(10, bool)
    spaced = choose_expansion(demand, cov, metro, 0.0, False, 1.0, 10, 3.0, xy)
    np.testing.assert_array_equal(spaced, [0, 3, 6, 9])
    capped = choose_expansion(demand, cov, metro, 0.0, False, 1.0, 2, 3.0, xy)
    np.testing.assert_array_equal(capped, [0, 3])
    assert choose_expansion(demand, cov, metro, 0.0, False, 1.0, 0, 3.0, xy).size == 0


def test_expansion_ties_break_to_lower_index():
    """Equal demand is resolved in favour of the lower region index."""
    xy, cov = _line(4)
    out = choose_expansion(np.full(4, 7.0), cov, np.ones(4, bool), 1.0, False, 1.0, 1, 0.0, xy)
    np.testing.assert_array_equal(out, [0])


# --- properties ---------------------------------------------------------------------------

_dists = hnp.arrays(np.float64, st.integers(1, 30), elements=st.floats(0.0, 50.0, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(
    dist=_dists,
    fc=st.integers(-1, 63),
    fba=st.booleans(),
    mask=st.integers(0, 2**64 - 1),
    same=st.floats(0.0, 10.0),
    extra=st.floats(0.0, 10.0),
    std=st.integers(1, 10),
    self_days=st.integers(0, 20),
)
def test_property_promise_values_and_monotone(dist, fc, fba, mask, same, extra, std, self_days):
    """Promises take only the four allowed values and never improve with distance."""
    nxt = same + extra
    mask_u = np.uint64(mask)
    days = promise_days(dist, fc, fba, mask_u, same, nxt, std, self_days)
    assert set(np.unique(days).tolist()) <= {0, 1, std, self_days}
    order = np.argsort(dist, kind="stable")
    sorted_days = promise_days(dist[order], fc, fba, mask_u, same, nxt, std, self_days)
    assert np.all(np.diff(sorted_days.astype(int)) >= 0)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    n_stations=st.integers(1, 6),
    n_orders=st.integers(0, 80),
)
def test_property_slips_equal_excess_over_capacity(data, n_stations, n_orders):
    """Slipped orders per station equal max(0, orders - capacity); -1 orders never slip."""
    stations = data.draw(hnp.arrays(np.int64, n_orders, elements=st.integers(-1, n_stations - 1)))
    capacity = data.draw(hnp.arrays(np.int64, n_stations, elements=st.integers(0, 20)))
    u = data.draw(hnp.arrays(np.float64, n_orders, elements=st.floats(0.0, 1.0)))
    slip = apply_capacity(stations, capacity, u)
    for s in range(n_stations):
        orders = int((stations == s).sum())
        assert slip[stations == s].sum() == max(0, orders - int(capacity[s]))
    assert not slip[stations == -1].any()
