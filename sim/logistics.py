"""Logistics mechanism of the marketplace: where parcels come from and how fast they arrive.

Each fulfilment centre stocks a random subset of the catalogue (a ``uint64`` bit mask per
item, so at most 64 centres). Delivery stations serve the regions around them: a region is
served by its nearest station, and that station by its nearest FC. A fulfilled-by-platform
(FBA) order is promised same day when the region lies within the same-day radius of its
station *and* the station's FC stocks the item, next day within the larger next-day radius,
and ``standard_days`` otherwise; self-fulfilled (merchant-shipped) orders always take
``self_fulfilled_days``. Each station has a daily capacity; orders beyond it slip a day,
served in a random (uniform-key) order so no order is systematically favoured. The cost of a
delivery falls with route density (busier stations drive shorter stop-to-stop legs) and with
cumulative volume along a classic experience curve (automation, learning). The map and the
siting of centres and stations are in :mod:`sim.geography`.

All functions are pure: arrays in, arrays out, randomness only through a ``Generator``
passed in. They know nothing of the model or the config.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim import kernels
from sim.geography import nearest, read_only

__all__ = [
    "MAX_CENTRES",
    "ServiceMap",
    "apply_capacity",
    "cost_per_delivery_cents",
    "promise_days",
    "station_service",
    "stock_masks",
]

#: Stock masks are ``uint64`` bit sets, so at most 64 fulfilment centres.
MAX_CENTRES: int = 64

# Utilisation floor/reference of the route-density cost curve.
_MIN_UTILISATION = 0.05
_REFERENCE_UTILISATION = 0.5


@dataclass(frozen=True, eq=False)
class ServiceMap:
    """Which delivery station (and which fulfilment centre behind it) serves each region.

    Attributes
    ----------
    station : NDArray[np.int64], shape (R,)
        Index of the nearest station, ``-1`` if there are no stations.
    dist_cells : NDArray[np.float64], shape (R,)
        Distance to that station in cells, ``inf`` if none.
    fc : NDArray[np.int64], shape (R,)
        Fulfilment centre serving that station, ``-1`` if none.

    Examples
    --------
    >>> sm = station_service(np.array([[0.5, 0.5]]), np.array([[3.5, 4.5]]), np.array([0]))
    >>> int(sm.station[0]), float(sm.dist_cells[0]), int(sm.fc[0])
    (0, 5.0, 0)
    """

    station: NDArray[np.int64]
    dist_cells: NDArray[np.float64]
    fc: NDArray[np.int64]


def station_service(
    region_xy: ArrayLike, station_xy: ArrayLike, station_fc: ArrayLike
) -> ServiceMap:
    """Assign each region to its nearest station, and through it to a fulfilment centre.

    Parameters
    ----------
    region_xy : array_like, shape (R, 2)
    station_xy : array_like, shape (M, 2)
    station_fc : array_like of int, shape (M,)
        Serving fulfilment centre of each station (the model computes it with ``nearest``).

    Returns
    -------
    ServiceMap
        ``station``/``fc`` are ``-1`` and ``dist_cells`` is ``inf`` where there is no station.

    Examples
    --------
    >>> sm = station_service(np.array([[0.5, 0.5], [9.5, 0.5]]),
    ...                      np.array([[1.5, 0.5], [8.5, 0.5]]), np.array([0, 1]))
    >>> sm.station.tolist(), sm.fc.tolist()
    ([0, 1], [0, 1])
    """
    sfc = np.asarray(station_fc, dtype=np.int64).reshape(-1)
    sxy = np.asarray(station_xy, dtype=np.float64).reshape(-1, 2)
    if sfc.shape[0] != sxy.shape[0]:
        raise ValueError(
            f"station_fc has {sfc.shape[0]} entries but there are {sxy.shape[0]} stations"
        )
    dist, idx = nearest(region_xy, sxy)
    fc = np.where(idx >= 0, sfc[np.maximum(idx, 0)] if sfc.size else -1, -1).astype(np.int64)
    return ServiceMap(station=read_only(idx), dist_cells=read_only(dist), fc=read_only(fc))


def promise_days(
    dist_cells: ArrayLike,
    fc: ArrayLike,
    fba: ArrayLike,
    stock_mask: ArrayLike,
    same_day_radius_cells: float,
    next_day_radius_cells: float,
    standard_days: int,
    self_fulfilled_days: int,
) -> NDArray[np.int8]:
    """Delivery promise in days, elementwise with NumPy broadcasting.

    * ``0`` (same day): FBA, ``dist <= same_day_radius`` and the serving centre stocks the
      item, i.e. ``fc >= 0`` and bit ``fc`` of ``stock_mask`` is set;
    * ``1`` (next day): FBA and ``dist <= next_day_radius`` (any station);
    * ``standard_days``: other FBA orders;
    * ``self_fulfilled_days``: not FBA.

    Parameters
    ----------
    dist_cells : array_like of float
        Distance from the buyer's region to its station (``inf`` if none).
    fc : array_like of int
        Serving fulfilment centre (``-1`` if none), < 64.
    fba : array_like of bool
        Fulfilled by the platform.
    stock_mask : array_like of uint64
        Bit ``f`` set when centre ``f`` stocks the item.
    same_day_radius_cells, next_day_radius_cells : float
        ``0 <= same <= next``.
    standard_days : int
        FBA promise outside the next-day radius, 1..127.
    self_fulfilled_days : int
        Promise of merchant-shipped orders, 0..127.

    Returns
    -------
    NDArray[np.int8]
        The broadcast shape of the inputs (e.g. ``(S, K)`` shoppers x candidate items).

    Examples
    --------
    >>> promise_days(np.array([1.0, 1.0, 4.0, 9.0, 1.0]), 0,
    ...              np.array([True, True, True, True, False]),
    ...              np.array([1, 0, 1, 1, 1], dtype=np.uint64), 2.0, 5.0, 3, 5)
    array([0, 1, 1, 3, 5], dtype=int8)
    """
    if not same_day_radius_cells >= 0:
        raise ValueError(f"same_day_radius_cells must be >= 0, got {same_day_radius_cells}")
    if not next_day_radius_cells >= same_day_radius_cells:
        raise ValueError(
            f"next_day_radius_cells ({next_day_radius_cells}) must be >= "
            f"same_day_radius_cells ({same_day_radius_cells})"
        )
    # Standard shipping slower than next day keeps promises monotone in distance.
    if not 1 <= standard_days <= 127:
        raise ValueError(f"standard_days must be in [1, 127], got {standard_days}")
    if not 0 <= self_fulfilled_days <= 127:
        raise ValueError(f"self_fulfilled_days must be in [0, 127], got {self_fulfilled_days}")

    dist = np.asarray(dist_cells, dtype=np.float64)
    fc_arr = np.asarray(fc, dtype=np.int64)
    fba_arr = np.asarray(fba, dtype=bool)
    # astype (not dtype=) so signed masks with bit 63 set keep their bit pattern.
    mask = np.asarray(stock_mask).astype(np.uint64, copy=False)
    if fc_arr.size and fc_arr.max() >= MAX_CENTRES:
        raise ValueError(f"fc must be < {MAX_CENTRES} (uint64 stock masks)")

    has_fc = fc_arr >= 0
    shift = np.where(has_fc, fc_arr, 0).astype(np.uint64)
    stocked = has_fc & (((mask >> shift) & np.uint64(1)) == 1)

    days = np.where(
        dist <= same_day_radius_cells,
        np.where(stocked, 0, 1),
        np.where(dist <= next_day_radius_cells, 1, standard_days),
    )
    return np.where(fba_arr, days, self_fulfilled_days).astype(np.int8)


def stock_masks(u: ArrayLike, stock_share: float) -> NDArray[np.uint64]:
    """Which fulfilment centres stock each item, as ``uint64`` bit masks.

    Centre ``f`` stocks item ``i`` when ``u[i, f] < stock_share``: each centre
    independently with probability ``stock_share`` for uniform ``u``.

    Parameters
    ----------
    u : array_like, shape (n_items, n_centres)
        Uniforms on (0, 1); at most 64 centres.
    stock_share : float
        Probability in [0, 1].

    Returns
    -------
    NDArray[np.uint64], shape (n_items,)
        Bit ``f`` set when centre ``f`` stocks the item.

    Examples
    --------
    >>> stock_masks(np.array([[0.1, 0.9, 0.2], [0.95, 0.95, 0.95]]), 0.5)
    array([5, 0], dtype=uint64)
    """
    u = np.asarray(u, dtype=np.float64)
    if u.ndim != 2:
        raise ValueError(f"u must have shape (n_items, n_centres), got {u.shape}")
    n_centres = u.shape[1]
    if n_centres > MAX_CENTRES:
        raise ValueError(f"n_centres must be in [0, {MAX_CENTRES}], got {n_centres}")
    if not 0.0 <= stock_share <= 1.0:
        raise ValueError(f"stock_share must be in [0, 1], got {stock_share}")
    stocks = u < stock_share
    bits = np.left_shift(np.uint64(1), np.arange(n_centres, dtype=np.uint64))
    # Distinct powers of two: their sum is their bitwise OR.
    return (stocks.astype(np.uint64) * bits).sum(axis=1, dtype=np.uint64)


def apply_capacity(
    station_of_order: ArrayLike, capacity: ArrayLike, u: ArrayLike
) -> NDArray[np.bool_]:
    """Which orders slip a day because their station is over its daily capacity.

    Per station, orders are served in increasing ``u`` (ties: lower order index); the
    first ``capacity[s]`` are delivered on time and the rest slip. Orders with station
    ``-1`` (outside any station, carried by a third party) never slip.

    Parameters
    ----------
    station_of_order : array_like of int, shape (n,)
        Station of each order, ``-1`` for none.
    capacity : array_like of int, shape (M,)
        Deliveries per day of each station, >= 0.
    u : array_like of float, shape (n,)
        Uniform priority keys (drawn by the caller), lower served first.

    Returns
    -------
    NDArray[np.bool_], shape (n,)
        True where the order slips.

    Examples
    --------
    >>> apply_capacity(np.array([0, 0, 0, -1]), np.array([2]), np.array([0.9, 0.1, 0.5, 0.0]))
    array([ True, False, False, False])
    """
    st = np.ascontiguousarray(station_of_order, dtype=np.int64).reshape(-1)
    cap = np.ascontiguousarray(capacity, dtype=np.int64).reshape(-1)
    key = np.ascontiguousarray(u, dtype=np.float64).reshape(-1)
    if key.shape != st.shape:
        raise ValueError(f"u has shape {key.shape} but station_of_order has {st.shape}")
    if st.size and (st.min() < -1 or st.max() >= cap.size):
        raise ValueError(f"station_of_order must be in [-1, {cap.size - 1}]")
    if cap.size and cap.min() < 0:
        raise ValueError("capacity must be >= 0")

    # only the orders of stations over capacity can slip: their queues alone are ranked
    # (one compiled pass, sim.kernels.capacity_slips)
    return kernels.capacity_slips(st, cap, key)


def cost_per_delivery_cents(
    deliveries: ArrayLike,
    capacity: ArrayLike,
    base_cents: int,
    density_elasticity: float,
    cumulative_volume: float,
    learning_rate: float,
    reference_volume: float,
) -> NDArray[np.float64]:
    """Cost of one last-mile delivery at each station, in cents.

    ``cost = base_cents * (util / 0.5) ** (-density_elasticity) * learning_factor`` where

    * ``util = clip(deliveries / capacity, 0.05, 1.0)`` (dimensionless; capacity 0 counts as
      the 0.05 floor): busier routes have shorter stop-to-stop legs, so at half capacity the
      cost is ``base_cents``, at full capacity ``base_cents * 2 ** -density_elasticity``;
    * ``learning_factor = (max(V, V0) / V0) ** log2(1 - learning_rate)`` with ``V`` the
      cumulative deliveries to date and ``V0 = reference_volume`` (both in deliveries): the
      classic experience curve, each doubling of cumulative volume beyond ``V0`` multiplies
      cost by ``1 - learning_rate``.

    Parameters
    ----------
    deliveries : array_like of float, shape (M,)
        Deliveries today per station.
    capacity : array_like, shape (M,)
        Deliveries per day per station, >= 0.
    base_cents : int
        Cost at 50 % utilisation before any learning, cents per delivery.
    density_elasticity : float
        Elasticity of cost w.r.t. utilisation, >= 0.
    cumulative_volume : float
        Platform-wide cumulative deliveries.
    learning_rate : float
        Cost reduction per doubling of volume, in [0, 1).
    reference_volume : float
        Volume at which learning starts, > 0.

    Returns
    -------
    NDArray[np.float64], shape (M,)
        Cents per delivery.

    Examples
    --------
    >>> cost_per_delivery_cents(np.array([50.0, 100.0]), np.array([100, 100]), 400, 1.0,
    ...                         2e6, 0.2, 1e6)
    array([320., 160.])
    """
    if not density_elasticity >= 0:
        raise ValueError(f"density_elasticity must be >= 0, got {density_elasticity}")
    if not 0 <= learning_rate < 1:
        raise ValueError(f"learning_rate must be in [0, 1), got {learning_rate}")
    if not reference_volume > 0:
        raise ValueError(f"reference_volume must be > 0, got {reference_volume}")
    dlv = np.asarray(deliveries, dtype=np.float64)
    cap = np.asarray(capacity, dtype=np.float64)
    if cap.size and cap.min() < 0:
        raise ValueError("capacity must be >= 0")

    ratio = np.divide(dlv, cap, out=np.zeros(np.broadcast(dlv, cap).shape), where=cap > 0)
    util = np.clip(ratio, _MIN_UTILISATION, 1.0)
    density_factor = (util / _REFERENCE_UTILISATION) ** (-density_elasticity)
    learning_factor = (max(cumulative_volume, reference_volume) / reference_volume) ** np.log2(
        1.0 - learning_rate
    )
    return (base_cents * density_factor * learning_factor).astype(np.float64)
