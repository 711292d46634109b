"""Sponsored-product ad auctions: slot allocation and pay-per-click pricing.

Each search query shows ``K`` sponsored slots, best position first. Advertisers
(bidders) bid an integer number of cents per click. The auction is the
quality-weighted *generalised second price* (GSP) auction used by search and
marketplace ad platforms:

* **Eligibility.** A bidder takes part only if its bid is positive and at least
  the reserve price ``reserve_cents``.
* **Ranking.** Eligible bidders are ranked by rank score ``bid × quality``
  (descending), where ``quality`` is the predicted click-rate multiplier.
  Slot ``k`` goes to the ``k``-th ranked bidder; slots beyond the number of
  eligible bidders stay empty.
* **Tie rule.** Bidders with equal rank scores are ordered by bidder index,
  the lower index first. This is deterministic (no randomness anywhere) and is
  what a stable sort on ``-score`` gives.
* **GSP price.** The winner of slot ``k`` pays, per click, the least whole
  number of cents that would still have kept it strictly above the next-ranked
  eligible bidder (which may be the first loser):
  ``floor(score_next / quality_k) + 1``, raised to the reserve and capped at its
  own bid. With no eligible bidder below it, it pays the reserve.
* **VCG price** (for comparison). The per-click Vickrey–Clarke–Groves price of
  the position auction: the externality that slot ``k``'s winner imposes on
  the bidders below it, ``Σ_{j≥k} (ctr_j − ctr_{j+1}) · score_{j+1} / (ctr_k ·
  quality_k)``, with the reserve as a floor and the bid as a cap.
* **First price** (for comparison). Winners pay their bid.

Rounding: GSP rounds *up* (the "+1 cent": the smallest whole-cent bid that
keeps the slot), VCG rounds *down* to the cent (the winner is never charged
more than its VCG price). Since the VCG per-click price never exceeds the
GSP threshold ``score_next / quality_k`` (it is a click-weighted average of
the scores below), ``GSP ≥ VCG`` holds exactly, slot by slot and in integer
cents, for the same bids. Ratios that land within a relative ``1e-9`` of a
whole cent are treated as that whole cent, so binary floating-point error in
``bid × quality`` (e.g. ``3 × 0.7 / 0.7 = 2.9999999999999996``) never moves a
price by a cent.

Standard results, informally: with truthful bids, GSP revenue is at least
VCG revenue; truthful bidding is not an equilibrium of GSP, but GSP has a
locally envy-free (“symmetric Nash”) equilibrium whose outcome and revenue
coincide with VCG's (Edelman, Ostrovsky & Schwarz 2007, *American Economic
Review*; Varian 2007, *International Journal of Industrial Organization*).

Every function here is pure and vectorised over queries: bids of shape
``(Q, A)`` are ``Q`` independent auctions, resolved without a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim import kernels
from sim.config.sections import AuctionFormat

__all__ = ["SNAP_RTOL", "Allocation", "AuctionFormat", "allocate", "expected_clicks", "format_code"]

# Prices and scores are computed in float64; integers up to 2**53 are exact there.
_MAX_BID_CENTS = 2**53
# Relative distance to a whole cent below which a price ratio is snapped onto it.
SNAP_RTOL = 1e-9
_FORMAT_CODE = {
    AuctionFormat.GSP: kernels.GSP,
    AuctionFormat.VCG: kernels.VCG,
    AuctionFormat.FIRST_PRICE: kernels.FIRST_PRICE,
}


@dataclass(frozen=True, slots=True)
class Allocation:
    """Outcome of one or many slot auctions.

    Attributes
    ----------
    winners : NDArray[np.int64]
        Shape ``(K,)`` for one query or ``(Q, K)`` for a batch: the bidder
        index holding each slot, best slot first; ``-1`` marks an empty slot.
    price_cents : NDArray[np.int64]
        Same shape: price per click in integer cents; ``0`` where empty.

    Examples
    --------
    >>> a = allocate([100, 80], 1.0, [0.5, 0.25], reserve_cents=10)
    >>> a.winners, a.price_cents
    (array([0, 1]), array([81, 10]))
    """

    winners: NDArray[np.int64]
    price_cents: NDArray[np.int64]


def allocate(
    bids: ArrayLike,
    quality: ArrayLike,
    slot_ctr: ArrayLike,
    reserve_cents: int,
    fmt: AuctionFormat | str = AuctionFormat.GSP,
) -> Allocation:
    """Allocate ad slots and price them, for one query or a batch of queries.

    Parameters
    ----------
    bids : array_like of int
        Bids in integer cents per click, shape ``(A,)`` for one query or
        ``(Q, A)`` for ``Q`` independent queries. Float arrays are accepted
        if every value is a whole number.
    quality : array_like of float
        Predicted click-rate multiplier, finite and ``> 0``, broadcastable to
        the shape of `bids` without enlarging it: a scalar or ``(A,)``, and for
        2-D `bids` also ``(1, A)``, ``(Q, 1)`` or ``(Q, A)``.
    slot_ctr : array_like of float
        Shape ``(K,)``: click rate of each slot position, best first;
        non-increasing and ``>= 0``.
    reserve_cents : int
        Minimum price per click in cents, ``>= 0``. Bids below it (and zero
        bids) do not take part.
    fmt : AuctionFormat or str, default "gsp"
        Pricing rule: ``"gsp"``, ``"vcg"`` or ``"first_price"``.

    Returns
    -------
    Allocation
        ``winners`` and ``price_cents`` of shape ``(K,)`` (1-D `bids`) or
        ``(Q, K)`` (2-D `bids`).

    Raises
    ------
    ValueError
        If `fmt` is unknown, `bids` are negative, non-integer or not 1-D/2-D,
        `quality` is not finite and positive or not broadcastable to `bids`,
        `slot_ctr` is not 1-D, negative or increasing, or `reserve_cents` is
        negative or not a whole number.

    Notes
    -----
    Eligible bidders are ranked by ``bid * quality`` descending; equal scores
    go to the lower bidder index first. With ``score_next`` the score of the
    next-ranked eligible bidder (rank ``k + 1``, possibly the first loser):

    * GSP: ``min(bid_k, max(reserve, floor(score_next / quality_k) + 1))``,
      or the reserve if nobody eligible ranks below.
    * VCG: ``min(bid_k, max(reserve, floor(S_k / (ctr_k * quality_k))))``
      with ``S_k = Σ_{j=k}^{K-1} (ctr_j - ctr_{j+1}) * score_{j+1}``,
      ``ctr_K = 0`` and ``score = 0`` beyond the eligible bidders; the
      reserve (capped by the bid) where ``ctr_k == 0``.
    * First price: ``bid_k``.

    Only the top ``K + 1`` bidders of each query matter, so for ``A > K + 1``
    they are found with :func:`numpy.argpartition` and only they are sorted;
    ties at the partition boundary are settled by index, exactly as a full
    stable sort would.

    Examples
    --------
    Three bidders, two slots; bidder 1 has twice the quality of the others:

    >>> bids, quality, ctr = [100, 90, 50], [1.0, 2.0, 1.0], [0.5, 0.25]
    >>> gsp = allocate(bids, quality, ctr, reserve_cents=10)
    >>> gsp.winners, gsp.price_cents
    (array([1, 0]), array([51, 51]))
    >>> allocate(bids, quality, ctr, reserve_cents=10, fmt="vcg").price_cents
    array([37, 50])
    >>> allocate(bids, quality, ctr, reserve_cents=10, fmt="first_price").price_cents
    array([ 90, 100])

    A batch of two queries; in the second, only one bid clears the reserve:

    >>> allocate([[100, 80, 60], [5, 40, 0]], 1.0, [0.5, 0.25], 20).winners
    array([[ 0,  1],
           [ 1, -1]])
    """
    pricing = _validate_fmt(fmt)
    bid_arr = _validate_bids(bids)
    q_arr = _validate_quality(quality, "quality")
    ctr = _validate_slot_ctr(slot_ctr)
    reserve = _validate_reserve(reserve_cents)
    try:
        shape = np.broadcast_shapes(q_arr.shape, bid_arr.shape)
    except ValueError:
        shape = None
    if shape != bid_arr.shape:
        raise ValueError(
            f"quality of shape {q_arr.shape} is not broadcastable to bids of shape {bid_arr.shape}"
        )

    one_query = bid_arr.ndim == 1
    bid2 = bid_arr.reshape(1, -1) if one_query else bid_arr
    q2 = np.broadcast_to(q_arr, bid_arr.shape).reshape(bid2.shape)
    winners, price = _allocate_2d(bid2, q2, ctr, reserve, pricing)
    if one_query:
        return Allocation(winners=winners[0], price_cents=price[0])
    return Allocation(winners=winners, price_cents=price)


def format_code(fmt: AuctionFormat | str) -> int:
    """The code of pricing rule ``fmt`` in the compiled auction (:func:`sim.kernels.auction_rows`).

    >>> format_code("gsp") == kernels.GSP
    True
    """
    return _FORMAT_CODE[_validate_fmt(fmt)]


def expected_clicks(
    winners: ArrayLike, slot_ctr: ArrayLike, quality: ArrayLike
) -> NDArray[np.float64]:
    """Expected clicks per slot: ``slot_ctr[k] * quality[winner_k]``.

    Parameters
    ----------
    winners : array_like of int
        Shape ``(K,)`` or ``(Q, K)``, as in :attr:`Allocation.winners`;
        ``-1`` marks an empty slot.
    slot_ctr : array_like of float
        Shape ``(K,)``: position click rates, best first.
    quality : array_like of float
        Click-rate multiplier per bidder: a scalar, ``(A,)``, or — for 2-D
        `winners` — ``(1, A)`` or ``(Q, A)``.

    Returns
    -------
    NDArray[np.float64]
        Same shape as `winners`; ``0.0`` for empty slots.

    Raises
    ------
    ValueError
        If the shapes disagree, a winner index is out of range, or the
        click rates or qualities are invalid (see :func:`allocate`).

    Examples
    --------
    >>> expected_clicks([2, 0, -1], [0.5, 0.25, 0.125], [1.0, 3.0, 2.0])
    array([1.  , 0.25, 0.  ])
    """
    w = np.asarray(winners)
    if w.dtype.kind not in "iu" or w.ndim not in (1, 2):
        raise ValueError(
            f"winners must be a 1-D or 2-D integer array, got dtype {w.dtype} and shape {w.shape}"
        )
    ctr = _validate_slot_ctr(slot_ctr)
    if w.shape[-1] != ctr.shape[0]:
        raise ValueError(
            f"winners has {w.shape[-1]} slots per query but slot_ctr has {ctr.shape[0]}"
        )
    if np.any(w < -1):
        raise ValueError("winners must be -1 (empty) or a non-negative bidder index")
    q = _validate_quality(quality, "quality")
    filled = w >= 0
    if q.ndim == 0:
        q_w = np.broadcast_to(q, w.shape)
    else:
        if q.ndim > w.ndim or (q.ndim == 2 and q.shape[0] not in (1, w.shape[0])):
            raise ValueError(
                f"quality of shape {q.shape} does not match winners of shape {w.shape}"
            )
        n_bidders = q.shape[-1]
        if np.any(w >= n_bidders):
            raise ValueError(f"winners must be -1 or a bidder index in [0, {n_bidders})")
        safe = np.where(filled, w, 0)
        if n_bidders == 0:  # nothing to look up: every slot is empty
            q_w = np.ones(w.shape)
        elif q.ndim == 1:
            q_w = q[safe]
        else:
            q_w = np.take_along_axis(np.broadcast_to(q, (w.shape[0], n_bidders)), safe, axis=1)
    return np.where(filled, ctr * q_w, 0.0)


# --------------------------------------------------------------------------- internals


def _allocate_2d(
    bids: NDArray[np.int64],
    quality: NDArray[np.float64],
    ctr: NDArray[np.float64],
    reserve: int,
    fmt: AuctionFormat,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Core of :func:`allocate` for validated ``(Q, A)`` inputs: each row's ``K + 1``
    best eligible bidders by score (ties to the lower index) and the slot prices, in
    one compiled pass per row (:func:`sim.kernels.auction_rows`)."""
    winners, price, ok = kernels.auction_rows(
        np.ascontiguousarray(bids, dtype=np.int64),
        np.ascontiguousarray(quality, dtype=np.float64),
        np.ascontiguousarray(ctr, dtype=np.float64),
        int(reserve),
        _FORMAT_CODE[fmt],
        SNAP_RTOL,
    )
    if not ok:
        raise ValueError("bids * quality overflows float64; bids or quality are too large")
    return winners, price


def _validate_fmt(fmt: AuctionFormat | str) -> AuctionFormat:
    try:
        return AuctionFormat(fmt)
    except ValueError:
        allowed = ", ".join(repr(f.value) for f in AuctionFormat)
        raise ValueError(f"fmt must be one of {allowed}; got {fmt!r}") from None


def _validate_bids(bids: ArrayLike) -> NDArray[np.int64]:
    arr = np.asarray(bids)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"bids must be integer cents, got dtype {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise ValueError(f"bids must have shape (A,) or (Q, A), got shape {arr.shape}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr) & (arr == np.floor(arr))):
        raise ValueError("bids must be integer-valued cents")
    if np.any(arr < 0):
        raise ValueError("bids must be >= 0 cents")
    if np.any(arr > _MAX_BID_CENTS):
        raise ValueError(f"bids must be <= 2**53 cents, got max {arr.max()}")
    return arr.astype(np.int64, copy=False)


def _validate_quality(quality: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(quality)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr) & (arr > 0)):
        raise ValueError(f"{name} must be finite and > 0")
    return arr


def _validate_slot_ctr(slot_ctr: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(slot_ctr)
    if arr.dtype.kind not in "iuf" or arr.ndim != 1:
        raise ValueError(
            f"slot_ctr must be a 1-D array of floats, got dtype {arr.dtype} and shape {arr.shape}"
        )
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr) & (arr >= 0)):
        raise ValueError("slot_ctr must be finite and >= 0")
    if np.any(np.diff(arr) > 0):
        raise ValueError("slot_ctr must be non-increasing (best slot first)")
    return arr


def _validate_reserve(reserve_cents: int) -> int:
    arr = np.asarray(reserve_cents)
    if arr.ndim != 0 or arr.dtype.kind not in "iuf" or not np.isfinite(arr) or arr != np.floor(arr):
        raise ValueError(f"reserve_cents must be a whole number of cents, got {reserve_cents!r}")
    if arr < 0:
        raise ValueError(f"reserve_cents must be >= 0, got {reserve_cents!r}")
    if arr > _MAX_BID_CENTS:
        raise ValueError(f"reserve_cents must be <= 2**53, got {reserve_cents!r}")
    return int(arr)
