"""The results page: organic ranking, sponsored slots and how customers read it.

Organic ranking scores each active product by its review signal
(relevance), its recent sales (sales rank), a boost for the platform's own
products (self-preferencing), a boost for Prime-eligible (platform-fulfilled)
items and daily noise. A query's page interleaves the top organic products
with the auction's winners at the sponsored positions; a sponsored slot
that nobody won is filled organically.

Customers read a page top-down (a cascade with position bias): position ``k``
(0-based) is examined with probability ``patience**k``, and an examined item
is clicked with a probability that rises with how good it looks.

Examples
--------
>>> import numpy as np
>>> examine_depth(np.array([0.5]), np.array([0.3]), page_slots=12)
array([2])
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim import kernels
from sim.choice import binary_logit

__all__ = [
    "build_page",
    "click_probability",
    "examine_depth",
    "organic_scores",
    "rank_by_category",
    "slot_of_position",
]


def organic_scores(
    rating: NDArray[np.float64],
    units_recent: NDArray[np.float64],
    own: NDArray[np.bool_],
    fba: NDArray[np.bool_],
    noise: NDArray[np.float64],
    *,
    relevance_weight: float,
    sales_rank_weight: float,
    self_preference_weight: float,
    prime_boost: float,
    noise_sd: float,
) -> NDArray[np.float64]:
    """Organic ranking score of each product (higher ranks first).

    ``rating`` is the shrunk review mean in [0, 1], ``units_recent`` the
    smoothed daily unit sales, ``noise`` standard normal draws.
    """
    return (
        relevance_weight * rating
        + sales_rank_weight * np.log1p(units_recent)
        + self_preference_weight * own
        + prime_boost * fba
        + noise_sd * noise
    )


def rank_by_category(
    category: NDArray[np.integer],
    score: NDArray[np.float64],
    active: NDArray[np.bool_],
    n_categories: int,
    top: int,
) -> NDArray[np.int64]:
    """The ``top`` best active products of each category, best first, -1 padded.

    Ties go to the lower product index. Returns shape ``(n_categories, top)``.

    >>> rank_by_category(np.array([0, 0, 1]), np.array([1.0, 2.0, 0.5]),
    ...                  np.array([True, True, True]), 2, 2)
    array([[ 1,  0],
           [ 2, -1]])
    """
    return kernels.top_by_category(
        np.ascontiguousarray(category, dtype=np.int64),
        np.ascontiguousarray(score, dtype=np.float64),
        np.ascontiguousarray(active, dtype=np.bool_),
        int(n_categories),
        int(top),
    )


def build_page(
    organic: NDArray[np.int64],
    sponsored: NDArray[np.int64],
    sponsored_positions: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Interleave organic results and sponsored winners into pages.

    Parameters
    ----------
    organic
        ``(S, K)`` organic products per query, best first (-1 padded), at
        least as many columns as page slots ``K``.
    sponsored
        ``(S, n_sponsored)`` auction winners per sponsored slot (-1 = empty).
    sponsored_positions
        The page position of each sponsored slot.

    Returns
    -------
    page, is_sponsored
        ``(S, K)`` products per position and whether that position is an ad.

    >>> page, ad = build_page(np.array([[10, 11, 12]]), np.array([[7]]), np.array([1]))
    >>> page.tolist(), ad.tolist()
    ([[10, 7, 11]], [[False, True, False]])
    """
    return kernels.interleave(
        np.ascontiguousarray(organic, dtype=np.int64),
        np.ascontiguousarray(sponsored, dtype=np.int64).reshape(organic.shape[0], -1),
        slot_of_position(sponsored_positions, organic.shape[1]),
    )


def slot_of_position(sponsored_positions: NDArray[np.int64], page_slots: int) -> NDArray[np.int64]:
    """The sponsored slot shown at each page position, -1 at organic positions.

    >>> slot_of_position(np.array([0, 2]), 4).tolist()
    [0, -1, 1, -1]
    """
    out = np.full(page_slots, -1, dtype=np.int64)
    positions = np.asarray(sponsored_positions, dtype=np.int64)
    out[positions] = np.arange(positions.shape[0])
    return out


def examine_depth(
    patience: NDArray[np.float64], u: NDArray[np.float64], page_slots: int
) -> NDArray[np.int64]:
    """How many positions a customer examines: position k with chance ``patience**k``.

    One uniform ``u`` per query; the result is in ``[1, page_slots]``.
    """
    p = np.clip(patience, 1e-12, 1.0 - 1e-12)
    depth = 1 + np.floor(np.log(np.clip(u, 1e-300, 1.0)) / np.log(p))
    return np.clip(depth, 1, page_slots).astype(np.int64)


def click_probability(
    gap: NDArray[np.float64], click_base: float, *, out: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Chance to click an examined item whose utility exceeds not buying by ``gap``.

    Equals ``click_base`` for an item as good as not buying, and rises to
    ``min(1, 2 * click_base)`` for clearly better ones. With ``out`` (``gap`` itself
    allowed) the same numbers are worked out in it (:func:`sim.choice.binary_logit`).

    >>> g = np.array([-3.0, 0.0, 3.0])
    >>> want = click_probability(g, 0.3)
    >>> bool((click_probability(g, 0.3, out=g) == want).all())
    True
    """
    if out is None:
        return np.minimum(1.0, 2.0 * click_base * binary_logit(gap))
    binary_logit(gap, out=out)
    np.multiply(out, 2.0 * click_base, out=out)
    return np.minimum(out, 1.0, out=out)
