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

from sim.config.sections import AuctionFormat

__all__ = ["Allocation", "AuctionFormat", "allocate", "expected_clicks"]

# Prices and scores are computed in float64; integers up to 2**53 are exact there.
_MAX_BID_CENTS = 2**53
# Relative distance to a whole cent below which a price ratio is snapped onto it.
_SNAP_RTOL = 1e-9


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
    """Core of :func:`allocate` for validated ``(Q, A)`` inputs."""
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
    close = np.abs(x - nearest) <= _SNAP_RTOL * np.maximum(1.0, np.abs(x))
    return np.floor(np.where(close, nearest, x))


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
