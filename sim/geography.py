"""Geography of the marketplace: the map of regions and where logistics sites go.

The map is a ``W x H`` grid of region cells (region index ``r = y * W + x``)
whose population is a rural floor plus Gaussian metro blobs with
Pareto-spread sizes. Fulfilment centres (FCs) sit in the biggest metros;
the first delivery stations are spread greedily over the densest cells at a
minimum spacing; periodically the platform opens new stations in uncovered
cells whose demand clears a threshold, with a policy switch deciding whether
rural cells can ever qualify (and at what higher threshold).

All functions are pure: arrays in, arrays out. They know nothing of the
model or the config.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "METRO_FLOOR_FACTOR",
    "Regions",
    "choose_expansion",
    "distances",
    "make_regions",
    "nearest",
    "place_fulfilment_centres",
    "place_initial_stations",
    "read_only",
]

#: A cell is metropolitan when its metro-kernel density is at least this multiple of the
#: rural floor, i.e. at least 15/16 ≈ 94 % of its residents are attributable to metros.
#: With a floor of 0.01–0.03 of the smallest metro peak and sigma 2–3 cells this marks
#: ~15–30 % of cells, holding ~75–90 % of the population.
METRO_FLOOR_FACTOR: float = 15.0

# Pareto shape for metro sizes: alpha = 2 gives a mean of 2x the smallest metro with a
# fat-ish tail; the cap stops a single extreme draw from emptying every other metro.
_METRO_PARETO_SHAPE = 2.0
_METRO_WEIGHT_CAP = 5.0
# Metro centres keep this distance (cells) from the grid border when the grid allows.
_METRO_BORDER_CELLS = 2.0


def read_only(a: NDArray) -> NDArray:
    """Return ``a`` marked read-only so frozen dataclasses are frozen all the way down."""
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Regions:
    """Geography of the marketplace: a ``width x height`` grid of region cells.

    Attributes
    ----------
    width, height : int
        Grid size in cells; ``R = width * height`` regions, index ``r = y * width + x``.
    xy : NDArray[np.float64], shape (R, 2)
        Cell-centre coordinates ``(x + 0.5, y + 0.5)`` in cells.
    density : NDArray[np.float64], shape (R,)
        Population weights, non-negative, summing to 1.
    is_metro : NDArray[np.bool_], shape (R,)
        Cells whose metro-kernel density is at least ``METRO_FLOOR_FACTOR`` times the
        rural floor.
    metro_xy : NDArray[np.float64], shape (n_metros, 2)
        Metro centres in cell coordinates, sorted by ``metro_weight`` descending.
    metro_weight : NDArray[np.float64], shape (n_metros,)
        Peak height of each metro's kernel (relative to the smallest possible metro, 1).

    Examples
    --------
    >>> reg = make_regions(8, 6, 2, 1.5, 0.02, np.random.default_rng(0))
    >>> reg.xy.shape, round(float(reg.density.sum()), 12)
    ((48, 2), 1.0)
    """

    width: int
    height: int
    xy: NDArray[np.float64]
    density: NDArray[np.float64]
    is_metro: NDArray[np.bool_]
    metro_xy: NDArray[np.float64]
    metro_weight: NDArray[np.float64]

    @property
    def n_regions(self) -> int:
        """Number of region cells ``R = width * height``."""
        return self.width * self.height


def make_regions(
    width: int,
    height: int,
    n_metros: int,
    metro_sigma_cells: float,
    rural_density: float,
    rng: np.random.Generator,
) -> Regions:
    """Draw a population map: a rural floor plus Gaussian metro blobs.

    Un-normalised density of cell ``r`` is
    ``rural_density + sum_m w_m * exp(-d(r, m)**2 / (2 * metro_sigma_cells**2))`` with
    metro peak heights ``w_m = min(1 + Lomax(2), 5)`` (Pareto, smallest possible metro = 1),
    then normalised to sum to 1. So ``rural_density`` is the per-cell rural density relative
    to the peak of the smallest possible metro (0.01–0.05 is typical). Metro centres are
    uniform over the grid, at least 2 cells from the border where the grid allows.

    Parameters
    ----------
    width, height : int
        Grid size in cells, each >= 1.
    n_metros : int
        Number of metros, >= 0.
    metro_sigma_cells : float
        Gaussian kernel standard deviation in cells, > 0.
    rural_density : float
        Rural floor, >= 0, relative to a unit metro peak.
    rng : np.random.Generator
        Source of randomness (metro positions, then sizes).

    Returns
    -------
    Regions
        Frozen geography; arrays are read-only.

    Examples
    --------
    >>> reg = make_regions(20, 20, 3, 2.0, 0.02, np.random.default_rng(1))
    >>> reg.metro_xy.shape, bool(reg.density[reg.is_metro].sum() > 0.5)
    ((3, 2), True)
    """
    if width < 1 or height < 1:
        raise ValueError(f"width and height must be >= 1, got {width} x {height}")
    if n_metros < 0:
        raise ValueError(f"n_metros must be >= 0, got {n_metros}")
    if not metro_sigma_cells > 0:
        raise ValueError(f"metro_sigma_cells must be > 0, got {metro_sigma_cells}")
    if not rural_density >= 0:
        raise ValueError(f"rural_density must be >= 0, got {rural_density}")

    ys, xs = np.divmod(np.arange(width * height, dtype=np.int64), width)
    xy = np.column_stack([xs + 0.5, ys + 0.5]).astype(np.float64)

    def _span(extent: int) -> tuple[float, float]:
        # Keep metros off the border only when there is room left inside.
        if extent > 2 * _METRO_BORDER_CELLS:
            return _METRO_BORDER_CELLS, extent - _METRO_BORDER_CELLS
        return 0.0, float(extent)

    (x0, x1), (y0, y1) = _span(width), _span(height)
    metro_xy = np.column_stack(
        [rng.uniform(x0, x1, size=n_metros), rng.uniform(y0, y1, size=n_metros)]
    ).astype(np.float64)
    weight = np.minimum(1.0 + rng.pareto(_METRO_PARETO_SHAPE, size=n_metros), _METRO_WEIGHT_CAP)
    # Biggest metro first, so "metro 0" is the primary city everywhere downstream.
    order = np.argsort(-weight, kind="stable")
    metro_xy, weight = metro_xy[order], weight[order]

    d2 = distances(xy, metro_xy) ** 2
    metro_part = (weight * np.exp(-d2 / (2.0 * metro_sigma_cells**2))).sum(axis=1)
    raw = rural_density + metro_part
    total = raw.sum()
    density = raw / total if total > 0 else np.full(raw.shape, 1.0 / raw.size)
    is_metro = (metro_part > 0) & (metro_part >= METRO_FLOOR_FACTOR * rural_density)

    return Regions(
        width=int(width),
        height=int(height),
        xy=read_only(xy),
        density=read_only(density.astype(np.float64)),
        is_metro=read_only(is_metro),
        metro_xy=read_only(metro_xy),
        metro_weight=read_only(weight.astype(np.float64)),
    )


def distances(a_xy: ArrayLike, b_xy: ArrayLike) -> NDArray[np.float64]:
    """Euclidean distances in cells between every point of ``a_xy`` and of ``b_xy``.

    Parameters
    ----------
    a_xy : array_like, shape (n, 2)
    b_xy : array_like, shape (m, 2)

    Returns
    -------
    NDArray[np.float64], shape (n, m)

    Examples
    --------
    >>> distances(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 1.0]]))
    array([[5., 1.]])
    """
    a = np.asarray(a_xy, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(b_xy, dtype=np.float64).reshape(-1, 2)
    diff = a[:, None, :] - b[None, :, :]
    return np.hypot(diff[..., 0], diff[..., 1])


def nearest(a_xy: ArrayLike, b_xy: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Nearest point of ``b_xy`` for each point of ``a_xy`` (ties: lower index).

    Parameters
    ----------
    a_xy : array_like, shape (n, 2)
    b_xy : array_like, shape (m, 2)

    Returns
    -------
    dist : NDArray[np.float64], shape (n,)
        Distance in cells; ``inf`` when ``m == 0``.
    idx : NDArray[np.int64], shape (n,)
        Index into ``b_xy``; ``-1`` when ``m == 0``.

    Examples
    --------
    >>> d, i = nearest(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 1.0]]))
    >>> float(d[0]), int(i[0])
    (1.0, 1)
    >>> nearest(np.zeros((2, 2)), np.zeros((0, 2)))[1]
    array([-1, -1])
    """
    d = distances(a_xy, b_xy)
    n, m = d.shape
    if m == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    idx = np.argmin(d, axis=1).astype(np.int64)
    return d[np.arange(n), idx], idx


def _cell_of(xy: NDArray[np.float64], width: int, height: int) -> NDArray[np.int64]:
    """Region index of the cell containing each continuous coordinate (clipped to the grid)."""
    cx = np.clip(np.floor(xy[:, 0]).astype(np.int64), 0, width - 1)
    cy = np.clip(np.floor(xy[:, 1]).astype(np.int64), 0, height - 1)
    return cy * width + cx


def _greedy_spaced(
    order: NDArray[np.int64], xy: NDArray[np.float64], n: int, min_spacing: float
) -> NDArray[np.int64]:
    """Take ``order`` front to back, skipping any closer than ``min_spacing`` to one taken.

    One Python iteration per *chosen* site, each vectorised over the candidates.
    """
    chosen: list[int] = []
    cand = np.asarray(order, dtype=np.int64)
    while len(chosen) < n and cand.size:
        pick = int(cand[0])
        chosen.append(pick)
        # Distance >= spacing keeps a candidate, so spacing 0 only removes the pick itself.
        keep = distances(xy[cand[1:]], xy[pick : pick + 1])[:, 0] >= min_spacing
        cand = cand[1:][keep]
    return np.asarray(chosen, dtype=np.int64)


def place_fulfilment_centres(regions: Regions, n_centres: int) -> NDArray[np.int64]:
    """Put fulfilment centres in the cells of the most populous metros.

    Metros are taken by ``metro_weight`` descending (ties: lower metro index). If two metros
    share a cell, or ``n_centres > n_metros``, the remaining centres go to the densest cells
    not yet used (ties: lower index). Deterministic.

    Parameters
    ----------
    regions : Regions
    n_centres : int
        0 <= n_centres <= R.

    Returns
    -------
    NDArray[np.int64], shape (n_centres,)
        Distinct region indices, biggest metro first.

    Examples
    --------
    >>> reg = make_regions(20, 20, 3, 2.0, 0.02, np.random.default_rng(1))
    >>> fcs = place_fulfilment_centres(reg, 2)
    >>> fcs.shape, bool(reg.is_metro[fcs].all())
    ((2,), True)
    """
    if not 0 <= n_centres <= regions.n_regions:
        raise ValueError(f"n_centres must be in [0, {regions.n_regions}], got {n_centres}")
    by_size = np.argsort(-regions.metro_weight, kind="stable")
    metro_cells = _cell_of(regions.metro_xy[by_size], regions.width, regions.height)
    # Dedupe while keeping the size order (np.unique would sort by index).
    _, first = np.unique(metro_cells, return_index=True)
    metro_cells = metro_cells[np.sort(first)]
    by_density = np.argsort(-regions.density, kind="stable").astype(np.int64)
    fill = by_density[~np.isin(by_density, metro_cells)]
    return np.concatenate([metro_cells, fill])[:n_centres].astype(np.int64)


def place_initial_stations(
    regions: Regions, n_stations: int, min_spacing_cells: float
) -> NDArray[np.int64]:
    """Place the day-0 delivery stations greedily on the densest cells.

    Cells are visited by density descending (ties: lower index); a cell closer than
    ``min_spacing_cells`` to an already chosen station is skipped. Fewer than ``n_stations``
    are returned if the spacing cannot fit them all. Deterministic.

    Parameters
    ----------
    regions : Regions
    n_stations : int
        Maximum number of stations, >= 0.
    min_spacing_cells : float
        Minimum distance in cells between two stations, >= 0.

    Returns
    -------
    NDArray[np.int64], shape (<= n_stations,)
        Region indices in the order chosen.

    Examples
    --------
    >>> reg = make_regions(20, 20, 3, 2.0, 0.02, np.random.default_rng(1))
    >>> st = place_initial_stations(reg, 5, 3.0)
    >>> bool((distances(reg.xy[st], reg.xy[st]) + 99 * np.eye(len(st)) >= 3.0).all())
    True
    """
    if n_stations < 0:
        raise ValueError(f"n_stations must be >= 0, got {n_stations}")
    if not min_spacing_cells >= 0:
        raise ValueError(f"min_spacing_cells must be >= 0, got {min_spacing_cells}")
    order = np.argsort(-regions.density, kind="stable").astype(np.int64)
    return _greedy_spaced(order, regions.xy, n_stations, min_spacing_cells)


def choose_expansion(
    demand_per_day: ArrayLike,
    covered: ArrayLike,
    is_metro: ArrayLike,
    threshold_per_day: float,
    rural_expansion: bool,
    rural_threshold_factor: float,
    max_new: int,
    min_spacing_cells: float,
    region_xy: ArrayLike,
) -> NDArray[np.int64]:
    """Regions where the platform opens new delivery stations at this review.

    Candidates are uncovered cells whose demand strictly exceeds ``threshold_per_day``
    (metro cells) or ``threshold_per_day * rural_threshold_factor`` (non-metro cells, only
    when ``rural_expansion``; otherwise non-metro cells are never chosen). They are taken
    greedily by demand descending (ties: lower index), at most ``max_new``, skipping any
    closer than ``min_spacing_cells`` to one already chosen in this call. Deterministic.

    Parameters
    ----------
    demand_per_day : array_like of float, shape (R,)
        Trailing mean orders per day from each region.
    covered : array_like of bool, shape (R,)
        Already served by a station.
    is_metro : array_like of bool, shape (R,)
    threshold_per_day : float
        Demand a metro cell must exceed.
    rural_expansion : bool
        Policy switch: may non-metro cells get stations at all?
    rural_threshold_factor : float
        Multiplier on the threshold for non-metro cells.
    max_new : int
        At most this many new stations, >= 0.
    min_spacing_cells : float
        Minimum distance between new stations, >= 0.
    region_xy : array_like, shape (R, 2)

    Returns
    -------
    NDArray[np.int64]
        Region indices in the order chosen.

    Examples
    --------
    >>> xy = np.array([[0.5, 0.5], [1.5, 0.5], [5.5, 0.5]])
    >>> choose_expansion(np.array([10.0, 9.0, 8.0]), np.zeros(3, bool), np.ones(3, bool),
    ...                  5.0, False, 2.0, 3, 2.0, xy)
    array([0, 2])
    """
    if max_new < 0:
        raise ValueError(f"max_new must be >= 0, got {max_new}")
    if not min_spacing_cells >= 0:
        raise ValueError(f"min_spacing_cells must be >= 0, got {min_spacing_cells}")
    demand = np.asarray(demand_per_day, dtype=np.float64).reshape(-1)
    cov = np.asarray(covered, dtype=bool).reshape(-1)
    metro = np.asarray(is_metro, dtype=bool).reshape(-1)
    xy = np.asarray(region_xy, dtype=np.float64).reshape(-1, 2)
    if not demand.shape == cov.shape == metro.shape == (xy.shape[0],):
        raise ValueError("demand_per_day, covered, is_metro and region_xy must cover R regions")

    metro_ok = metro & (demand > threshold_per_day)
    rural_ok = (
        ~metro & (demand > threshold_per_day * rural_threshold_factor)
        if rural_expansion
        else np.zeros_like(metro)
    )
    candidate = ~cov & (metro_ok | rural_ok)
    idx = np.flatnonzero(candidate).astype(np.int64)
    order = idx[np.argsort(-demand[idx], kind="stable")]  # stable keeps lower index on ties
    return _greedy_spaced(order, xy, max_new, min_spacing_cells)
