"""Compiled kernels for the day's hot loops (numba), each equal to its NumPy original.

A kernel here fuses work that NumPy would do as a chain of whole-array passes,
each allocating a temporary of the session-sized array: the keyed hash of
:mod:`sim.rng` is eight integer operations per identity part, so a draw keyed
by three parts costs some thirty passes over memory in NumPy and one here.
Every kernel returns exactly what the NumPy expression it replaces returns,
bit for bit: integer arithmetic, comparisons, and floating point without
reassociation or contraction; the one transcendental function evaluated here
is SciPy's own ``ndtri`` (the function ``scipy.special.ndtri`` runs, linked by
name), since numba's ``log`` or ``exp`` can differ from NumPy's in the last bit
(measured), so ``exp``, ``log`` and ``tanh`` stay in NumPy around the kernels.
``tests/test_kernels.py`` checks each kernel against its original, and the
goldens check the model as a whole.

The hash kernels are NumPy ufuncs (:func:`numba.vectorize`), so they broadcast
their arguments like the expressions they replace; the others loop over a
session-by-slot block; those that read the population's columns at each session's
customer ask for the rows of the sessions a few places ahead before they need them
(:func:`_prefetch`). All are compiled once per machine and cached next to
this file (``cache=True``): the first start after a change here compiles them.

Examples
--------
>>> import numpy as np
>>> key = np.uint64(12345)
>>> a = np.arange(3, dtype=np.uint64)
>>> from sim.rng import mix64
>>> bool((hash2(key, a, np.uint64(7)) == mix64(mix64(key ^ a) ^ np.uint64(7))).all())
True
"""

from __future__ import annotations

import llvmlite.binding as llvm
import numba
import numpy as np
from llvmlite import ir
from numba import float64, types, uint64
from numba.core import cgutils
from numba.cpython.unsafe.numbers import trailing_zeros
from numba.extending import get_cython_function_address, intrinsic

__all__ = [
    "FIRST_PRICE",
    "GSP",
    "VCG",
    "ad_conversions",
    "add_at",
    "argmax_available",
    "argmax_shocked",
    "auction_rows",
    "book_orders",
    "bought_entries",
    "capacity_slips",
    "census",
    "channel_half",
    "channel_platform",
    "channel_terms",
    "choice_groups",
    "choice_utilities",
    "consult_bases",
    "day_sessions",
    "decay_population",
    "hash1",
    "hash2",
    "hash3",
    "help_me_decide_rows",
    "interleave",
    "interp",
    "item_values",
    "learn_habit",
    "membership_day",
    "merge_order",
    "merged_needs",
    "merged_sessions",
    "need_draws",
    "need_sessions",
    "normals_where",
    "offer_candidates",
    "order_promises",
    "order_routes",
    "order_totals",
    "outside_values",
    "paced_bids",
    "poisson_quantiles",
    "product_units",
    "repeats",
    "returning_needs",
    "rival_or_nothing",
    "rows_drawn",
    "rows_where",
    "rows_with_any",
    "search_bids",
    "search_clicks",
    "search_pages",
    "seller_sums",
    "session_draws",
    "set_bits",
    "store_answers",
    "top_by_category",
    "unit1",
    "unit2",
    "unit3",
]

# SciPy's own inverse normal CDF (the one ``scipy.special.ndtri`` runs), linked by name
# so that compiled kernels cached on disk find it again in a new process
llvm.add_symbol(
    "flywheel_scipy_ndtri",
    get_cython_function_address("scipy.special.cython_special", "ndtri"),
)
_ndtri = types.ExternalFunction("flywheel_scipy_ndtri", types.float64(types.float64))

_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_TO_UNIT = 2.0**-53


#: Sessions ahead whose customer's row a kernel asks the memory to fetch (:func:`_prefetch`).
PREFETCH_AHEAD = 16


@intrinsic
def _prefetch(typingctx, array, index):
    """Ask the processor to bring ``array[index]`` into cache (LLVM's ``prefetch``: read,
    keep in all levels) without waiting for it; no effect on any value.

    The day's passes over sessions read the population's columns at each session's
    customer, scattered over arrays of millions of rows: each such read misses the
    cache and the pass waits for memory. Asking for the row of the session
    :data:`PREFETCH_AHEAD` places on lets those reads overlap with the work between.
    """
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(
            context, builder, array_type, view, [args[1]], wraparound=False, boundscheck=False
        )
        byte_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]),
            "llvm.prefetch.p0i8",
        )
        # read (0), high temporal locality (3), data cache (1)
        flags = [ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
        builder.call(fn, [builder.bitcast(ptr, byte_ptr), *flags])
        return context.get_dummy_value()

    return sig, codegen


@numba.njit(inline="always")
def _mix(z):
    z = (z ^ (z >> uint64(30))) * uint64(_M1)
    z = (z ^ (z >> uint64(27))) * uint64(_M2)
    return z ^ (z >> uint64(31))


@numba.njit(inline="always")
def _unit(h):
    return (float64(h >> uint64(11)) + 0.5) * _TO_UNIT


@numba.vectorize([uint64(uint64, uint64)], cache=True)
def hash1(key, a):
    """``mix(key ^ a)``: 64 bits keyed by one identity part."""
    return _mix(key ^ a)


@numba.vectorize([uint64(uint64, uint64, uint64)], cache=True)
def hash2(key, a, b):
    """``mix(mix(key ^ a) ^ b)``: 64 bits keyed by two identity parts."""
    return _mix(_mix(key ^ a) ^ b)


@numba.vectorize([uint64(uint64, uint64, uint64, uint64)], cache=True)
def hash3(key, a, b, c):
    """``mix(mix(mix(key ^ a) ^ b) ^ c)``: 64 bits keyed by three identity parts."""
    return _mix(_mix(_mix(key ^ a) ^ b) ^ c)


@numba.vectorize([float64(uint64, uint64)], cache=True)
def unit1(key, a):
    """The uniform on (0, 1) of :func:`hash1`'s bits (:meth:`sim.rng.Keyed.uniform`)."""
    return _unit(_mix(key ^ a))


@numba.vectorize([float64(uint64, uint64, uint64)], cache=True)
def unit2(key, a, b):
    """The uniform on (0, 1) of :func:`hash2`'s bits."""
    return _unit(_mix(_mix(key ^ a) ^ b))


@numba.vectorize([float64(uint64, uint64, uint64, uint64)], cache=True)
def unit3(key, a, b, c):
    """The uniform on (0, 1) of :func:`hash3`'s bits."""
    return _unit(_mix(_mix(_mix(key ^ a) ^ b) ^ c))


@numba.njit(inline="always")
def _item_value(j, member, dist, fc, taste, delay, p_cat, products, terms):
    """Net value of product ``j`` to one customer (see :func:`item_values`)."""
    quality, price_cents, fba, stock_mask = products
    (
        value_base,
        same_day_radius,
        next_day_radius,
        standard_days,
        self_fulfilled_days,
        nonmember_days,
        threshold_cents,
        fee_cents,
    ) = terms
    on_platform = fba[j]
    price = price_cents[j]
    if on_platform:
        if dist <= same_day_radius:
            stocked = fc >= 0 and ((stock_mask[j] >> np.uint64(fc)) & np.uint64(1)) == 1
            days = 0 if stocked else 1
        elif dist <= next_day_radius:
            days = 1
        else:
            days = standard_days
        if not member:
            days = max(days, nonmember_days)
    else:
        days = self_fulfilled_days
    ship = fee_cents if (not member and on_platform and price < threshold_cents) else 0
    return value_base + taste * quality[j] - float(price + ship) / p_cat - delay * float(days)


@numba.njit(cache=True, nogil=True)
def _value_tables(category_price, products, terms, n_centres):
    """The parts of :func:`_item_value` that depend on the item and on the customer only
    through a few classes, for every product, tabled once per pass: the price term
    ``float(price + ship) / category_price[c]`` per (category ``c``, member or not,
    product), and the promised days as floats per (member or not, distance class: within
    same-day reach, next-day reach or beyond, fulfilment centre + 1 with 0 for none,
    product). A pass then reads two rows per customer and one entry per item instead of
    branching on each item's fulfilment and stock, with the same numbers."""
    _, price_cents, fba, stock_mask = products
    _, _, _, standard_days, self_fulfilled_days, nonmember_days, threshold_cents, fee = terms
    n_p = price_cents.shape[0]
    price_term = np.empty((category_price.shape[0], 2, n_p))
    for c in range(category_price.shape[0]):
        for member in range(2):
            for j in range(n_p):
                price = price_cents[j]
                ship = fee if (member == 0 and fba[j] and price < threshold_cents) else 0
                price_term[c, member, j] = float(price + ship) / category_price[c]
    days = np.empty((2, 3, n_centres + 1, n_p))
    for member in range(2):
        for reach in range(3):
            for f in range(n_centres + 1):
                fc = f - 1
                for j in range(n_p):
                    if fba[j]:
                        if reach == 0:
                            stocked = False
                            if fc >= 0:
                                stocked = ((stock_mask[j] >> np.uint64(fc)) & np.uint64(1)) == 1
                            d = 0 if stocked else 1
                        elif reach == 1:
                            d = 1
                        else:
                            d = standard_days
                        if member == 0:
                            d = max(d, nonmember_days)
                    else:
                        d = self_fulfilled_days
                    days[member, reach, f, j] = float(d)
    return price_term, days


@numba.njit(inline="always")
def _n_centres(region_fc):
    """Fulfilment centres a region can be served from: one more than the largest index."""
    n = 0
    for r in range(region_fc.shape[0]):
        if region_fc[r] + 1 > n:
            n = region_fc[r] + 1
    return n


@numba.njit(inline="always")
def _reach(dist, terms):
    """The distance class of :func:`_value_tables`: 0 within same-day reach, 1 within
    next-day reach, 2 beyond (or an unknown distance), as :func:`_item_value` branches."""
    if dist <= terms[1]:
        return 0
    if dist <= terms[2]:
        return 1
    return 2


@numba.njit(inline="always")
def _customer(row, customers):
    """Whether a customer is a member, her region's distance to service and centre, her
    quality taste and delay cost, her columns read at ``row`` (the customer for the
    population's columns, the session for the sessions' copies)."""
    prime_state, region, region_dist, region_fc, quality_taste, delay_cost = customers
    reg = region[row]
    return (
        prime_state[row] != 0,
        region_dist[reg],
        region_fc[reg],
        quality_taste[row],
        delay_cost[row],
    )


@numba.njit(cache=True, nogil=True)
def item_values(items, where, cust, cat, category_price, customers, products, terms):
    """Net value of ``items`` (sessions, K) to each session's customer ``cust`` in its
    category ``cat`` where ``where`` holds (0.0 elsewhere):
    :func:`sim.day.offers.perceived_value` in one pass.

    ``category_price`` is per category, ``customers`` holds the customer columns (Prime
    state, region, the regions' distance to service and centre, quality taste, delay
    cost), ``products`` the product columns (quality, price, FBA, stock mask) and
    ``terms`` the scalars (:func:`sim.day.offers.value_inputs`). Per entry: the promise
    of :func:`sim.logistics.promise_days` from the customer's region (slowed for
    non-members, :func:`sim.prime.nonmember_promise_days`), the shipping fee of
    :func:`sim.fees.shipping_fee_cents` and the net value of
    :func:`sim.valuation.item_net_value`, evaluated in the same order (:func:`_item_value`'s
    numbers, read from :func:`_value_tables` without a branch per entry).
    """
    n, k = items.shape
    out = np.zeros((n, k))
    price_term, days = _value_tables(category_price, products, terms, _n_centres(customers[3]))
    item_quality = products[0]
    value_base = terms[0]
    for i in range(n):
        if i + PREFETCH_AHEAD < n:
            ahead = cust[i + PREFETCH_AHEAD]
            prime_state, region, _, _, quality_taste, delay_cost = customers
            _prefetch(prime_state, ahead)
            _prefetch(region, ahead)
            _prefetch(quality_taste, ahead)
            _prefetch(delay_cost, ahead)
        member, dist, fc, taste, delay = _customer(cust[i], customers)
        price_row = price_term[cat[i], 1 if member else 0]
        days_row = days[1 if member else 0, _reach(dist, terms), fc + 1]
        for col in range(k):
            if where[i, col]:
                item = items[i, col]
                out[i, col] = (
                    value_base
                    + taste * item_quality[item]
                    - price_row[item]
                    - delay * days_row[item]
                )
    return out


#: Auction formats by code (the order of :class:`sim.config.sections.AuctionFormat`
#: is not relied on: :func:`sim.auctions.allocate` maps names to these codes).
GSP, VCG, FIRST_PRICE = 0, 1, 2


@numba.njit(inline="always")
def _floor_cents(x, snap_rtol):
    nearest = np.rint(x)
    if abs(x - nearest) <= snap_rtol * max(1.0, abs(x)):
        return np.floor(nearest)
    return np.floor(x)


@numba.njit(inline="always")
def _auction_row(bids, quality, ctr, reserve, fmt, snap_rtol, top, top_score, tail, win, price):
    """One row of :func:`auction_rows`: fills ``win`` and ``price`` (length ``K``, set
    to -1 and 0 beforehand); ``top``, ``top_score`` (``K + 1``) and ``tail`` (``K``) are
    scratch. Returns false when a score overflows float64."""
    n_a = bids.shape[0]
    n_k = ctr.shape[0]
    m = n_k + 1
    fres = float(reserve)
    n_top = 0
    for a in range(n_a):
        b = bids[a]
        s = float(b) * quality[a]
        if not np.isfinite(s):
            return False
        if b <= 0 or b < reserve:
            continue
        # insert after every kept bidder with a score >= s (lower index first on ties);
        # most arrive below the last kept one (retrieval orders them by expected score),
        # so that test comes first, and the shift is a plain loop (a negative-step range
        # compiles to more work per insertion)
        pos = n_top
        if pos > 0 and top_score[pos - 1] < s:
            pos -= 1
            while pos > 0 and top_score[pos - 1] < s:
                pos -= 1
        elif pos >= m:
            continue
        t = min(n_top, m - 1)
        while t > pos:
            top[t] = top[t - 1]
            top_score[t] = top_score[t - 1]
            t -= 1
        top[pos] = a
        top_score[pos] = s
        if n_top < m:
            n_top += 1
    if fmt == VCG:
        acc = 0.0
        for k in range(n_k - 1, -1, -1):
            next_score = top_score[k + 1] if k + 1 < n_top else 0.0
            ctr_next = ctr[k + 1] if k + 1 < n_k else 0.0
            ext = (ctr[k] - ctr_next) * next_score
            acc = ext if k == n_k - 1 else acc + ext
            tail[k] = acc
    for k in range(min(n_k, n_top)):
        w = top[k]
        bid_w = float(bids[w])
        q_w = quality[w]
        if fmt == GSP:
            if k + 1 < n_top:
                raw = _floor_cents(top_score[k + 1] / q_w, snap_rtol) + 1.0
            else:
                raw = fres
        elif fmt == VCG:
            if ctr[k] > 0:
                raw = _floor_cents(tail[k] / (ctr[k] * q_w), snap_rtol)
            else:
                raw = fres
        else:
            raw = bid_w
        win[k] = w
        price[k] = np.int64(min(bid_w, max(raw, fres)))
    return True


@numba.njit(cache=True, nogil=True)
def auction_rows(bids, quality, ctr, reserve, fmt, snap_rtol):
    """Winners and prices of ``Q`` independent position auctions (one per row).

    The loop form of :func:`sim.auctions.allocate`'s array form: per row, the
    ``K + 1`` best eligible bidders by ``bid x quality`` (ties to the lower
    index), then each slot's price by ``fmt`` (``GSP``, ``VCG`` or
    ``FIRST_PRICE``), floored at the reserve and capped at the bid. Returns
    ``(winners, price, ok)``; ``ok`` is false when a score overflows float64.
    """
    n_q, n_a = bids.shape
    n_k = ctr.shape[0]
    winners = np.full((n_q, n_k), -1, dtype=np.int64)
    price = np.zeros((n_q, n_k), dtype=np.int64)
    if n_k == 0 or n_a == 0:
        return winners, price, True
    top = np.empty(n_k + 1, dtype=np.int64)
    top_score = np.empty(n_k + 1)
    tail = np.empty(n_k)
    for q in range(n_q):
        ok = _auction_row(
            bids[q], quality[q], ctr, reserve, fmt, snap_rtol, top, top_score, tail,
            winners[q], price[q],
        )  # fmt: skip
        if not ok:
            return winners, price, False
    return winners, price, True


@numba.njit(cache=True, nogil=True)
def repeats(items):
    """True where a row repeats an item already seen to its left, or the item is -1
    (:func:`sim.choice.mark_duplicates`)."""
    n, k = items.shape
    out = np.zeros((n, k), dtype=np.bool_)
    for i in range(n):
        for j in range(k):
            x = items[i, j]
            if x < 0:
                out[i, j] = True
                continue
            for t in range(j):
                if items[i, t] == x:
                    out[i, j] = True
                    break
    return out


@numba.njit(cache=True, nogil=True)
def argmax_available(utility, available, shock):
    """Per row, the first index of the largest ``utility + shock`` among available
    alternatives, -1 where none is (:func:`sim.choice.choose`: ``np.argmax`` of the
    row with unavailable entries at -inf, a NaN counting as the largest)."""
    n, k = utility.shape
    out = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        any_available = False
        for j in range(k):
            if available[i, j]:
                any_available = True
                break
        if not any_available:
            continue
        idx = 0
        best = utility[i, 0] + shock[i, 0] if available[i, 0] else -np.inf
        if not np.isnan(best):
            for j in range(1, k):
                v = utility[i, j] + shock[i, j] if available[i, j] else -np.inf
                if np.isnan(v):
                    idx = j
                    break
                if v > best:
                    best = v
                    idx = j
        out[i] = idx
    return out


@numba.njit(cache=True, nogil=True)
def _add_at(target, idx, values):
    n = target.shape[0]
    for i in range(idx.shape[0]):
        j = idx[i]
        if j < -n or j >= n:
            return False
    for i in range(idx.shape[0]):
        target[idx[i]] += values[i]
    return True


def add_at(target: np.ndarray, idx: np.ndarray, values: object) -> None:
    """``np.add.at(target, idx, values)`` for a 1-D ``target``: the values (a scalar or
    one per index, cast to the target's type as ``np.add.at`` casts them) are added
    in index order, so float sums come out exactly as ``np.add.at``'s."""
    idx = np.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"indices must be integers, not {idx.dtype}")
    vals = np.broadcast_to(np.asarray(values), idx.shape).astype(target.dtype)
    if not _add_at(target, idx.astype(np.int64, copy=False), vals):
        raise IndexError(f"index out of bounds for a target of size {target.shape[0]}")


@numba.njit(cache=True, nogil=True)
def normals_where(key, row_id, slot, col_id, where):
    """Standard normals keyed by (``row_id[i]``, ``slot``, ``col_id[i, j]``) for the
    entries where ``where[i, j]`` holds, in row-major order (the order of
    ``np.nonzero(where)``): ``Keyed.normal(row_id[r], slot, col_id[r, c])`` at those
    entries, with SciPy's ``ndtri`` of the same uniforms."""
    n, k = where.shape
    count = 0
    for i in range(n):
        for j in range(k):
            if where[i, j]:
                count += 1
    out = np.empty(count)
    t = 0
    for i in range(n):
        h = _mix(key ^ row_id[i])
        h = _mix(h ^ slot)
        for j in range(k):
            if where[i, j]:
                out[t] = _ndtri(_unit(_mix(h ^ col_id[i, j])))
                t += 1
    return out


@numba.njit(inline="always")
def _poisson_quantile(lt, ut, p0, normal_above):
    if lt > normal_above:
        approx = np.rint(lt + np.sqrt(lt) * _ndtri(ut))
        return np.int64(max(approx, 0.0))
    pk = p0
    if not ut > pk:
        return np.int64(0)
    cdf = pk
    k = 0
    while True:
        k += 1
        pk = pk * (lt / float(k))
        cdf = cdf + pk
        if not (ut > cdf and pk > 0):
            break
    return np.int64(k)


@numba.njit(cache=True, nogil=True)
def poisson_quantiles(lam, u, p0, normal_above):
    """The Poisson(``lam``) quantile of ``u`` elementwise, given ``p0 = exp(-lam)``:
    the CDF summed term by term until it passes ``u`` (or stops growing), and a
    rounded normal approximation above ``normal_above`` (:func:`sim.rng.poisson_quantile`)."""
    n = lam.shape[0]
    out = np.zeros(n, dtype=np.int64)
    for i in range(n):
        out[i] = _poisson_quantile(lam[i], u[i], p0[i], normal_above)
    return out


@numba.njit(cache=True, nogil=True)
def interleave(organic, sponsored, slot_of_position):
    """Pages of ``organic`` results with the ``sponsored`` winners at their positions
    (:func:`sim.search.build_page`): ``slot_of_position[p]`` is the sponsored slot shown
    at page position ``p`` (-1: organic); an empty slot shows the next organic result."""
    n = organic.shape[0]
    k = slot_of_position.shape[0]
    page = np.empty((n, k), dtype=np.int64)
    is_sp = np.zeros((n, k), dtype=np.bool_)
    for i in range(n):
        r = 0
        for p in range(k):
            j = slot_of_position[p]
            if j >= 0 and sponsored[i, j] >= 0:
                page[i, p] = sponsored[i, j]
                is_sp[i, p] = True
            else:
                page[i, p] = organic[i, min(r, k - 1)]
                r += 1
    return page, is_sp


@numba.njit(cache=True, nogil=True)
def top_by_category(category, score, active, n_categories, top):
    """The ``top`` best active products of each category by ``score``, best first,
    ties to the lower index, -1 padded (:func:`sim.search.rank_by_category`)."""
    out = np.full((n_categories, top), -1, dtype=np.int64)
    best = np.empty((n_categories, top))
    count = np.zeros(n_categories, dtype=np.int64)
    if top <= 0:
        return out
    for j in range(category.shape[0]):
        c = category[j]
        if not active[j] or c < 0 or c >= n_categories:
            continue
        s = score[j]
        n = count[c]
        pos = n
        while pos > 0 and best[c, pos - 1] < s:
            pos -= 1
        if pos >= top:
            continue
        last = min(n, top - 1)
        for t in range(last, pos, -1):
            out[c, t] = out[c, t - 1]
            best[c, t] = best[c, t - 1]
        out[c, pos] = j
        best[c, pos] = s
        if n < top:
            count[c] = n + 1
    return out


@numba.njit(cache=True, nogil=True)
def paced_bids(campaign, row_id, key, slot, campaign_key, pacing, bid_cents):
    """Which retrieved campaigns bid in each query and what: ``campaign[i, j]`` is a
    campaign row (-1: none); it bids ``bid_cents`` when the uniform keyed by
    (``row_id[i]``, ``slot``, its ``campaign_key``) is below its ``pacing`` throttle
    (``Keyed.uniform(row, slot, key) < pacing``). Returns ``(take, bids)``."""
    n, k = campaign.shape
    take = np.zeros((n, k), dtype=np.bool_)
    bids = np.zeros((n, k), dtype=np.int64)
    for i in range(n):
        h = _mix(_mix(key ^ row_id[i]) ^ slot)
        for j in range(k):
            c = campaign[i, j]
            if c < 0:
                continue
            if _unit(_mix(h ^ campaign_key[c])) < pacing[c]:
                take[i, j] = True
                bids[i, j] = bid_cents[c]
    return take, bids


@numba.njit(cache=True, nogil=True)
def rows_where(batch, mask):
    """The entries of ``batch`` where ``mask`` holds at them, in order: ``batch[mask[batch]]``
    in one pass without the gathered mask."""
    out = np.empty(batch.shape[0], dtype=np.int64)
    t = 0
    for i in range(batch.shape[0]):
        out[t] = batch[i]
        t += 1 if mask[batch[i]] else 0
    return out[:t]


@numba.njit(cache=True, nogil=True)
def search_bids(
    cat, table, row_id, key, pacing_slot, quality_slot, campaign_key, pacing, bid_cents,
    relevance, noise_sd, cust, log_patience, share, shared_row, shared_start, shared_key,
    shared_normal, place,
):  # fmt: skip
    """The bids of each query's retrieved campaigns and the click-rate noise of those
    that bid (:func:`sim.day.search_ads.search_batch`): one pass over the queries that
    keeps the bidders, then the normals of their uniforms.

    Query ``i`` retrieves the campaigns ``table[cat[i]]`` (-1 padded); a campaign ``a``
    bids ``bid_cents[a]`` when ``Keyed.uniform(row_id[i], pacing_slot, campaign_key[a])
    < pacing[a]`` (:func:`paced_bids`). Returns ``(start, col, bids, noise, rel, log_p)``:
    for the bidders, query by query in column order (query ``i``'s are ``start[i]:start[i +
    1]``): the column of ``table`` each bids from, its bid, ``noise_sd`` times the
    standard normal keyed by (``row_id[i]``, ``quality_slot``, ``campaign_key[a]``)
    (:func:`normals_where`; NumPy's ``noise_sd * normals``) and the campaign's
    ``relevance``; and, for :func:`search_pages`, ``log_patience[cust[i]]`` per query
    (NumPy's gather): the customers' column is read at scattered rows, so the pass asks
    for the row :data:`PREFETCH_AHEAD` queries on before it needs it (:func:`_prefetch`),
    and those reads wait on memory alongside the hashing instead of one after another.

    The normals a counterfactual twin drew are shared (:class:`sim.day.search_ads.
    SharedNormals`), as a normal is a function of its key alone: with ``share`` 1 (the
    twin) each bidder's standard normal and campaign key and each query's ``row_id`` and
    first bidder are also written to ``shared_normal``, ``shared_key``, ``shared_row`` and
    ``shared_start`` after the ``place[0]`` queries and ``place[1]`` bidders written
    before (the arrays have room; ``place`` is advanced); with ``share`` 2 (the model)
    the ``place[1]`` queries of the twin's day are matched with the queries by
    ``row_id`` with one forward pointer, ``place[0]`` (both in ascending key order; a
    query whose row the pointer does not find draws all its normals), and a bidder whose
    campaign key is among its twin query's bidders takes the normal the twin drew (the
    same bits: the same keyed uniform through the same ndtri; only the others' uniforms
    are hashed); ``place[2]`` counts them. With ``share`` 0 nothing is shared.
    """
    n = cat.shape[0]
    width = table.shape[1]
    start = np.empty(n + 1, dtype=np.int64)
    col = np.empty(n * width, dtype=np.int64)
    bids = np.empty(n * width, dtype=np.int64)
    noise = np.empty(n * width)
    rel = np.empty(n * width)
    # each category's row up to its last campaign (the -1 padding beyond is not scanned)
    used = np.zeros(table.shape[0], dtype=np.int64)
    for c in range(table.shape[0]):
        for j in range(width):
            if table[c, j] >= 0:
                used[c] = j + 1
    log_p = np.empty(n)
    # the bidders' campaign keys: the model's to match, the twin's written in its record
    bid_key = np.empty(n * width if share == 2 else 0, dtype=np.uint64)
    b0 = place[1]
    twin_lo = np.zeros(n if share == 2 else 0, dtype=np.int64)
    twin_hi = np.zeros(n if share == 2 else 0, dtype=np.int64)
    h_quality_of = np.empty(n if share == 2 else 0, dtype=np.uint64)
    p = place[0]
    n_twin = place[1]
    t = 0
    for i in range(n):
        if i + PREFETCH_AHEAD < n:
            _prefetch(log_patience, cust[i + PREFETCH_AHEAD])
        log_p[i] = log_patience[cust[i]]
        start[i] = t
        if share == 2:
            # the twin's query of the same session
            r = row_id[i]
            while p < n_twin and shared_row[p] < r:
                p += 1
            if p < n_twin and shared_row[p] == r:
                twin_lo[i] = shared_start[p]
                twin_hi[i] = shared_start[p + 1]
        h = _mix(key ^ row_id[i])
        h_pace = _mix(h ^ pacing_slot)
        h_quality = _mix(h ^ quality_slot)
        if share == 2:
            h_quality_of[i] = h_quality
        c = cat[i]
        for j in range(used[c]):
            a = table[c, j]
            if a < 0:
                continue
            # every retrieved campaign is written and kept only if it bids (no branch
            # on the pacing draw, which is unpredictable); its quality uniform for now
            # (the model with a twin hashes it only for the bidders the twin had not)
            ck = campaign_key[a]
            col[t] = j
            bids[t] = bid_cents[a]
            if share != 2:
                noise[t] = _unit(_mix(h_quality ^ ck))
            rel[t] = relevance[a]
            if share == 2:
                bid_key[t] = ck
            elif share == 1:
                shared_key[b0 + t] = ck
            t += 1 if _unit(_mix(h_pace ^ ck)) < pacing[a] else 0
    start[n] = t
    if share == 2:
        # the twin's normal where its query had this campaign among its bidders: looked
        # for first next to the last one found (the two mostly bid in the same order),
        # then among all of them
        shared = 0
        for i in range(n):
            lo = twin_lo[i]
            hi = twin_hi[i]
            f = lo
            for e in range(start[i], start[i + 1]):
                ck = bid_key[e]
                if f >= hi or shared_key[f] != ck:
                    f = lo
                    while f < hi and shared_key[f] != ck:
                        f += 1
                if f < hi:
                    z = shared_normal[f]
                    shared += 1
                    f += 1
                else:
                    z = _ndtri(_unit(_mix(h_quality_of[i] ^ ck)))
                noise[e] = z * noise_sd
        place[0] = p
        place[2] += shared
    elif share == 1:
        q0 = place[0]
        for i in range(n):
            shared_row[q0 + i] = row_id[i]
            shared_start[q0 + i] = b0 + start[i]
        shared_start[q0 + n] = b0 + t
        for e in range(t):
            z = _ndtri(noise[e])
            shared_normal[b0 + e] = z
            noise[e] = z * noise_sd
        place[0] = q0 + n
        place[1] = b0 + t
    else:
        for e in range(t):
            noise[e] = _ndtri(noise[e]) * noise_sd
    return start, col[:t], bids[:t], noise[:t], rel[:t], log_p


@numba.njit(cache=True, nogil=True)
def search_pages(
    start, col, bids, noise_exp, rel, cat, rows, log_u, log_patience, reads, kept, cut, table,
    product, ctr, reserve, fmt, snap_rtol, ranked, slot_of_position, mu, gap_base, top_trust,
    category_price, customers, products, terms,
):  # fmt: skip
    """Each query's auction, results page, examination depth and the appeal of its
    examined items, in one pass (:func:`sim.day.search_ads.search_batch`).

    Query ``i`` (category ``cat[i]``) is session ``rows[i]``, whose customer reads the
    assistant's answer where ``reads[rows[i]]``. Its campaigns are ``table[cat[i]]``, of
    which ``product`` is advertised, and its bidders are
    ``start[i]:start[i + 1]`` of :func:`search_bids`, with their columns ``col``, bids
    ``bids`` and predicted click rates ``rel x noise_exp`` (NumPy's product of the
    relevance and the exponentiated noise), floored at 1e-9 (the campaigns that do not
    bid take no part, as a zero bid takes none). Per query: the auction of
    :func:`auction_rows`; the page of :func:`interleave` with organic results
    ``ranked[cat[i]]``; the depth of :func:`sim.search.examine_depth` from ``log_u[i]``
    (the log of the query's depth uniform, clipped) and ``log_patience[i]`` (the log of
    her clipped patience), cut to ``floor(depth x kept)`` where ``cut`` and she reads
    the answer; which positions below the depth hold an item (examined); and per
    examined item half its appeal, ``(mu[rows[i]] x value - gap_base) x 0.5`` (plus
    ``top_trust`` inside the brackets at the top position: the first step of
    :func:`sim.choice.binary_logit`), the value as in :func:`item_values` for the
    customer of session ``rows[i]`` (``customers`` with her columns in session order,
    :func:`sim.day.offers.session_value_inputs`).
    Returns ``(page, is_sponsored, pos_ad, pos_price, depth, half_appeal, ok)``: the
    page, whether each position is an ad, the campaign and price per click at each
    sponsored position (left unset elsewhere, where nothing reads them: two page-sized
    blocks not filled for every batch), the depths, the half appeals of the examined
    items in row-major order and whether every score was finite.
    """
    n = cat.shape[0]
    n_k = ctr.shape[0]
    k = slot_of_position.shape[0]
    page = np.empty((n, k), dtype=np.int64)
    is_sp = np.zeros((n, k), dtype=np.bool_)
    pos_ad = np.empty((n, k), dtype=np.int64)
    pos_price = np.empty((n, k), dtype=np.int64)
    depth = np.empty(n, dtype=np.int64)
    appeal = np.empty(n * k)
    win = np.empty(n_k, dtype=np.int64)
    price = np.empty(n_k, dtype=np.int64)
    top = np.empty(n_k + 1, dtype=np.int64)
    top_score = np.empty(n_k + 1)
    tail = np.empty(max(n_k, 1))
    price_term, days = _value_tables(
        category_price, products, terms, _n_centres(customers[3])
    )  # fmt: skip
    item_quality = products[0]
    value_base = terms[0]
    # examine_depth's numbers, 1 + floor(log u / log p) clipped to [1, k] (and cut with a
    # select, not a branch on who reads the answer), in a pass of their own
    for i in range(n):
        depth[i] = np.int64(min(max(1.0 + np.floor(log_u[i] / log_patience[i]), 1.0), k))
    if cut:
        for i in range(n):
            d = depth[i]
            short = np.int64(np.floor(d * kept))
            depth[i] = short if reads[rows[i]] else d
    # the bidders' predicted click rates, floored, in one pass of their own (a loop
    # without branches) before the queries
    quality = np.empty(rel.shape[0])
    for t in range(rel.shape[0]):
        q = rel[t] * noise_exp[t]
        quality[t] = 1e-9 if q < 1e-9 else q
    e = 0
    for i in range(n):
        row = rows[i]
        c = cat[i]
        lo = start[i]
        hi = start[i + 1]
        win[:] = -1
        price[:] = 0
        if n_k > 0 and hi > lo:
            # the pricing rule a constant in each copy of the inlined auction, so that the
            # compiled loops carry no test of the rules not in force
            b_q, q_q = bids[lo:hi], quality[lo:hi]
            if fmt == GSP:
                ok = _auction_row(
                    b_q, q_q, ctr, reserve, GSP, snap_rtol, top, top_score, tail, win, price
                )
            elif fmt == VCG:
                ok = _auction_row(
                    b_q, q_q, ctr, reserve, VCG, snap_rtol, top, top_score, tail, win, price
                )
            else:
                ok = _auction_row(
                    b_q, q_q, ctr, reserve, fmt, snap_rtol, top, top_score, tail, win, price
                )
            if not ok:
                return page, is_sp, pos_ad, pos_price, depth, appeal[:0], False
        # the page and, at the examined positions as they are filled, the half appeals
        d = depth[i]
        member, dist, fc, taste, delay = _customer(row, customers)
        price_row = price_term[c, 1 if member else 0]
        days_row = days[1 if member else 0, _reach(dist, terms), fc + 1]
        mu_row = mu[row]
        r = 0
        for p in range(k):
            slot = slot_of_position[p]
            ad = -1
            if slot >= 0 and win[slot] >= 0:
                ad = table[c, col[lo + win[slot]]]
                pos_ad[i, p] = ad
                pos_price[i, p] = price[slot]
            if ad >= 0 and product[ad] >= 0:
                item = product[ad]
                is_sp[i, p] = True
            else:
                item = ranked[c, min(r, k - 1)]
                r += 1
            page[i, p] = item
            if p < d and item >= 0:
                # _item_value's number, from the tables
                net = (
                    value_base + taste * item_quality[item] - price_row[item]
                    - delay * days_row[item]
                )  # fmt: skip
                a = mu_row * net - gap_base
                if p == 0:
                    a += top_trust
                appeal[e] = a * 0.5
                e += 1
    return page, is_sp, pos_ad, pos_price, depth, appeal[:e], True


@numba.njit(inline="always")
def _no_market_clicks(lam, u, normal_above):
    """Whether :func:`_poisson_quantile` of ``u`` at mean ``lam`` is surely 0 without its
    ``exp(-lam)``: below ``normal_above`` it is 0 when ``u <= exp(-lam)``, and
    ``exp(-lam) >= 1 - lam`` (convexity), so ``u`` below ``1 - lam`` by far more than any
    rounding settles it. False means: work it out."""
    return lam <= normal_above and u < (1.0 - lam) - 1e-12


@numba.njit(cache=True, nogil=True)
def search_clicks(
    page, is_sp, pos_ad, pos_price, depth, tanh_half, two_click_base, row_id, key, product_key,
    rows, consider, sponsored, ad_row, offset, top_slots, weight, market_slot, normal_above,
):  # fmt: skip
    """Clicks on the examined items of each page and what they book (:func:`search_pages`).

    An examined item (position below ``depth[i]`` holding one) is clicked when
    ``Keyed.uniform(row_id[i], product_key[item]) < p_click``, its click probability
    ``min((tanh_half + 1) x 0.5 x two_click_base, 1)`` from the tanh of its half appeal
    (row-major over the examined items; the rest of :func:`sim.search.click_probability`
    after NumPy's ``tanh``). Writes, at each examined position ``p`` of session
    ``rows[i]``, the item if clicked into ``consider[rows[i], offset + p]`` (-1 if not:
    what the block holds already, :func:`sim.day.search_ads.start_search`, so writing it
    whatever the click keeps the loop free of a branch on it), and at a clicked ad True
    into ``sponsored`` and its campaign into ``ad_row`` (nothing elsewhere: those blocks
    hold False and -1 already, and most of their rows are then not touched at all);
    positions not examined are not written. ``pos_ad`` and ``pos_price`` are read at
    sponsored positions only.

    The campaign pays for the market's clicks: an examined sponsored item stands for
    ``weight`` impressions of the market, whose clicks are the Poisson(``weight x
    p_click``) quantile of ``Keyed.uniform(row_id[i], market_slot, product_key[item])``
    (a rounded normal above ``normal_above``, as :func:`sim.rng.poisson_quantile`),
    apart from the simulated customer's own click. Returns ``(charged, market, cents,
    counts)``: the campaign, the market's clicks and the price per click of each
    sponsored impression the market clicked, in row-major order, and the counts of
    impressions, sponsored impressions, clicks, clicks on the top position, sponsored
    positions and filled positions among the first ``top_slots``, and clicks on
    sponsored items.
    """
    n, k = page.shape
    charged = np.empty(n * k, dtype=np.int64)
    cents = np.empty(n * k, dtype=np.int64)
    market = np.empty(n * k, dtype=np.int64)
    n_imp = n_sp_imp = n_click = n_click_top = n_top_sp = n_top = n_ad_click = 0
    top = min(k, max(top_slots, 0))
    t = 0
    nc = 0
    for i in range(n):
        h = _mix(key ^ row_id[i])
        h_market = _mix(h ^ market_slot)
        row = rows[i]
        for p in range(min(depth[i], k)):
            item = page[i, p]
            if item < 0:
                continue
            sp = is_sp[i, p]
            pc = ((tanh_half[t] + 1.0) * 0.5) * two_click_base
            pc = 1.0 if pc > 1.0 else pc  # np.minimum(pc, 1.0), a NaN kept
            t += 1
            item_key = product_key[item]
            clicked = _unit(_mix(h ^ item_key)) < pc
            if sp:
                n_sp_imp += 1
                if clicked:
                    sponsored[row, offset + p] = True
                    ad_row[row, offset + p] = pos_ad[i, p]
                lam = weight * pc
                u = _unit(_mix(h_market ^ item_key))
                if not _no_market_clicks(lam, u, normal_above):
                    clicks = _poisson_quantile(lam, u, np.exp(-lam), normal_above)
                    if clicks > 0:
                        charged[nc] = pos_ad[i, p]
                        cents[nc] = pos_price[i, p]
                        market[nc] = clicks
                        nc += 1
            consider[row, offset + p] = item if clicked else -1
            n_imp += 1
            n_click += clicked
            n_click_top += clicked and p == 0
            n_ad_click += clicked and sp
        for p in range(top):
            filled = page[i, p] >= 0
            n_top += filled
            n_top_sp += filled and is_sp[i, p]
    counts = np.array(
        [n_imp, n_sp_imp, n_click, n_click_top, n_top_sp, n_top, n_ad_click], dtype=np.int64
    )
    return charged[:nc], market[:nc], cents[:nc], counts


#: Sessions ahead whose rows the passes that read many columns per session ask for
#: (the population's in :func:`channel_terms` and :func:`consult_bases`, the sessions'
#: in the choice's passes over every other session or so, :func:`choice_utilities` and
#: :func:`argmax_shocked`): more misses in flight per session than
#: :data:`PREFETCH_AHEAD` covers (measured at 1M customers: about a tenth to a fifth
#: faster than 16 ahead, and than 48).
PREFETCH_FAR = 32


@numba.njit(inline="always")
def _session_ahead(rows, i, considered, width):
    """Session ``rows[i + PREFETCH_FAR]`` (-1 past the last), its ``width`` considered
    items (its row of the flattened block ``considered``) asked for (:func:`_prefetch`)."""
    if i + PREFETCH_FAR >= rows.shape[0]:
        return -1
    ahead = rows[i + PREFETCH_FAR]
    _prefetch(considered, ahead * width)
    return ahead


@numba.njit(cache=True, nogil=True)
def choice_utilities(
    rows, consider, cat, mu, trust, advice, reported, recognised, paid, reliance, discount,
    n_picks, v_rival, v_none, category_price, customers, products, terms, key, row_id,
    product_key, outside_id,
):  # fmt: skip
    """The utilities of each platform session's available alternatives and the uniforms
    of their shocks, in one pass (:func:`sim.day.choice.decide`).

    Session ``rows[i]`` chooses among its considered items ``consider[rows[i]]`` (-1
    and repeats unavailable, :func:`repeats`), the rival and not buying (columns ``K``
    and ``K + 1``, always available). An available item's utility is ``mu[rows[i]] x
    value`` (:func:`item_values`, ``customers`` with the columns in session order as in
    :func:`search_pages`); in the first ``n_picks`` columns it is moved toward the
    ``reported`` estimate by ``reliance x trust[rows[i]]`` (the customer's trust in session
    order) where the pick is taken as ``advice``
    and lowered by ``discount`` where ``recognised`` (:func:`sim.day.offers.advised_value`),
    in that order of operations. Only the available alternatives are kept, row by row in
    column order (an unavailable one is never chosen, and the session-by-column block
    would be mostly empty): returns ``(start, col, util, u, paid_ok, own)``, where row
    ``i``'s alternatives are ``start[i]:start[i + 1]`` with their columns ``col`` (16-bit),
    utilities ``util`` and the uniforms ``u`` of their shocks, keyed by (``row_id``,
    the item's ``product_key``) or (``row_id``, ``outside_id``) for the rival and not
    buying; ``paid_ok`` marks the available ``paid`` picks and ``own`` is the picks' own
    valuations before advice (``mu x value``, 0 x ``mu`` where unavailable).

    A row's listed items (not -1) are found as the set bits of a mask built without
    branches (at most 64 columns: the config caps the page at 60) and visited lowest
    first; a repeat is an item already met in the row (the
    row's number stamped per product), and its entry is written and then overwritten
    rather than skipped: the few branches left are on the row's length and on the
    rare picks, where a branch per column on a mostly empty block would be mispredicted
    once in every few columns.
    """
    n = rows.shape[0]
    k = consider.shape[1]
    if k > 64:
        raise ValueError("at most 64 considered columns (a 64-bit mask per row)")
    start = np.empty(n + 1, dtype=np.int64)
    col = np.empty(n * (k + 2), dtype=np.int16)
    util = np.empty(n * (k + 2))
    u = np.empty(n * (k + 2))
    paid_ok = np.zeros((n, n_picks), dtype=np.bool_)
    own = np.zeros((n, n_picks))
    met = np.full(product_key.shape[0], -1, dtype=np.int64)  # the row that last met a product
    price_term, days = _value_tables(
        category_price, products, terms, _n_centres(customers[3])
    )  # fmt: skip
    item_quality = products[0]
    value_base = terms[0]
    considered = consider.reshape(-1)
    t = 0
    for i in range(n):
        # the platform sessions are every other session or so: a dozen columns read in
        # step, more than the processor follows by itself
        ahead = _session_ahead(rows, i, considered, k)
        if ahead >= 0:
            _prefetch(cat, ahead)
            _prefetch(mu, ahead)
            _prefetch(row_id, ahead)
            _prefetch(customers[4], ahead)
            _prefetch(customers[5], ahead)
            _prefetch(v_rival, ahead)
            _prefetch(v_none, ahead)
        s = rows[i]
        member, dist, fc, taste, delay = _customer(s, customers)
        price_row = price_term[cat[s], 1 if member else 0]
        days_row = days[1 if member else 0, _reach(dist, terms), fc + 1]
        m_i = mu[s]
        h = _mix(key ^ row_id[s])
        start[i] = t
        for j in range(min(n_picks, k)):
            own[i, j] = m_i * 0.0  # an unavailable pick's own value (net 0)
        listed = np.uint64(0)
        for j in range(k):
            listed |= np.uint64(consider[s, j] >= 0) << np.uint64(j)
        while listed != 0:
            j = np.int64(trailing_zeros(listed))
            listed &= listed - np.uint64(1)
            item = consider[s, j]
            new = met[item] != i
            met[item] = i
            # _item_value's number, from the tables
            net = value_base + taste * item_quality[item] - price_row[item] - delay * days_row[item]
            v = m_i * net
            if j < n_picks:
                if new:
                    own[i, j] = v
                    paid_ok[i, j] = paid[s, j]
                weight = reliance * trust[s] * (1.0 if advice[s, j] else 0.0)
                v = v + weight * (reported[s, j] - v)
                v = v - discount * (1.0 if recognised[s, j] else 0.0)
            col[t] = j
            util[t] = v
            u[t] = _unit(_mix(h ^ product_key[item]))
            t += new  # a repeat's entry is overwritten by the next
        col[t] = k
        util[t] = v_rival[s]
        u[t] = _unit(_mix(h ^ outside_id[0]))
        col[t + 1] = k + 1
        util[t + 1] = v_none[s]
        u[t + 1] = _unit(_mix(h ^ outside_id[1]))
        t += 2
    start[n] = t
    return start, col[:t], util[:t], u[:t], paid_ok, own


@numba.njit(cache=True, nogil=True)
def argmax_shocked(start, col, utility, neg_shock, rows, consider, product, bought_col, rival):
    """Per row of :func:`choice_utilities`' alternatives, the column of the largest
    ``utility + shock`` where ``shock = -neg_shock`` (``u`` through a Gumbel is
    ``-log(-log(u))``; ``utility - neg_shock`` is the same number): :func:`argmax_available`
    of the session-by-column block (unavailable entries at -inf, the first of equal
    values, a NaN counting as the largest), from the available entries alone.

    Returns the chosen columns and books the choice of session ``rows[i]``: an item
    (column below ``K = consider.shape[1]``) into ``product`` and ``bought_col``, the
    rival (column ``K``) into ``rival`` (:func:`sim.day.choice.decide`).

    When every row ends with its one not-buying entry (column ``K + 1``), as in the
    choice, the entries are visited in one run over all rows without a branch on the
    data (the running best, its column and the first NaN's column are selected, and
    that last entry resets them); otherwise row by row.
    """
    n = start.shape[0] - 1
    k = consider.shape[1]
    out = np.full(n, -1, dtype=np.int64)
    # every row ends with its one not-buying entry (column K + 1), as in the choice?
    ends = 0
    for e in range(start[0], start[n]):
        ends += col[e] == k + 1
    closed = ends == n
    for i in range(n):
        closed = closed and start[i + 1] > start[i] and col[start[i + 1] - 1] == k + 1
    if not closed:
        _argmax_rows(start, col, utility, neg_shock, out)
    else:
        i = 0
        best = -np.inf
        idx = np.int64(0)
        nan_col = np.int64(-1)
        for e in range(start[0], start[n]):
            v = utility[e] - neg_shock[e]
            c = np.int64(col[e])
            larger = v > best
            best = v if larger else best
            idx = c if larger else idx
            nan_col = c if (nan_col < 0 and np.isnan(v)) else nan_col
            out[i] = nan_col if nan_col >= 0 else idx
            last = c == k + 1
            i += last
            best = -np.inf if last else best
            idx = 0 if last else idx
            nan_col = -1 if last else nan_col
    considered = consider.reshape(-1)
    for i in range(n):
        ahead = _session_ahead(rows, i, considered, k)
        if ahead >= 0:
            _prefetch(product, ahead)
            _prefetch(bought_col, ahead)
            _prefetch(rival, ahead)
        idx = out[i]
        if idx < 0:
            continue
        s = rows[i]
        item = idx < k
        product[s] = consider[s, idx if item else 0] if item else product[s]
        bought_col[s] = idx if item else bought_col[s]
        rival[s] = rival[s] or idx == k
    return out


@numba.njit(cache=True, nogil=True)
def _argmax_rows(start, col, utility, neg_shock, out):
    """:func:`argmax_shocked`'s choice row by row (rows with no entry keep -1)."""
    for i in range(start.shape[0] - 1):
        lo = start[i]
        hi = start[i + 1]
        if hi == lo:
            continue
        idx = 0
        best = -np.inf
        t = lo
        if col[lo] == 0:
            best = utility[lo] - neg_shock[lo]
            t = lo + 1
        if not np.isnan(best):
            for e in range(t, hi):
                v = utility[e] - neg_shock[e]
                if np.isnan(v):
                    idx = col[e]
                    break
                if v > best:
                    best = v
                    idx = col[e]
        out[i] = idx


@numba.njit(cache=True, nogil=True)
def product_units(key, row_id, slot, product_key, items):
    """The uniforms keyed by (``row_id[i]``, ``slot``, ``product_key[items[i, j]]``) of the
    stream ``key``, (rows, items' columns): ``Keyed.uniform(row_id[:, None], slot,
    product_key[items])`` (:meth:`sim.rng.Keyed.uniform`, :func:`unit3`) in one pass, the
    row's part of the hash worked out once per row and without the gather of the
    products' keys (:func:`sim.day.assistant.answer_batch`)."""
    n, w = items.shape
    u = np.empty((n, w))
    for i in range(n):
        h = _mix(_mix(key ^ row_id[i]) ^ slot)
        for j in range(w):
            u[i, j] = _unit(_mix(h ^ product_key[items[i, j]]))
    return u


@numba.njit(cache=True, nogil=True)
def store_answers(
    rows, picks, reported, paid, recognised, ad_rows, advice_of, reported_of, paid_of,
    recognised_of, ad_row_of, cust, day, cat, last_consult_day, last_consult_category,
    ads_seen, ads_recognised, consults,
):  # fmt: skip
    """Book a batch's answers into the sessions' picks columns and the customers' last
    consult, in one pass (:func:`sim.day.assistant.answer_batch`): for session
    ``rows[i]`` and pick column ``j``, ``advice_of = picks >= 0 and not recognised``,
    ``reported_of = reported`` where ``picks >= 0`` (else 0.0), ``paid_of``,
    ``recognised_of`` and ``ad_row_of`` (cast to its type as NumPy's assignment casts),
    and for customer ``cust[i]``, ``last_consult_day = day`` and
    ``last_consult_category = cat[i]`` (cast; a customer met twice keeps the later) and
    her counters, the integer sums of ``add_at(ads_seen, cust, paid.sum(axis=1))``,
    ``add_at(ads_recognised, cust, recognised.sum(axis=1))`` and
    ``add_at(consults, cust, 1)``."""
    n, k = picks.shape
    flat = (advice_of.reshape(-1), paid_of.reshape(-1), recognised_of.reshape(-1))
    reported_flat, ad_row_flat = reported_of.reshape(-1), ad_row_of.reshape(-1)
    for i in range(n):
        if i + PREFETCH_FAR < n:
            ahead = rows[i + PREFETCH_FAR]
            _prefetch(flat[0], ahead * advice_of.shape[1])
            _prefetch(flat[1], ahead * paid_of.shape[1])
            _prefetch(flat[2], ahead * recognised_of.shape[1])
            _prefetch(reported_flat, ahead * reported_of.shape[1])
            _prefetch(ad_row_flat, ahead * ad_row_of.shape[1])
            customer = cust[i + PREFETCH_FAR]
            _prefetch(last_consult_day, customer)
            _prefetch(last_consult_category, customer)
            _prefetch(ads_seen, customer)
            _prefetch(ads_recognised, customer)
            _prefetch(consults, customer)
        s = rows[i]
        seen = 0
        known = 0
        for j in range(k):
            listed = picks[i, j] >= 0
            advice_of[s, j] = listed and not recognised[i, j]
            reported_of[s, j] = reported[i, j] if listed else 0.0
            paid_of[s, j] = paid[i, j]
            recognised_of[s, j] = recognised[i, j]
            ad_row_of[s, j] = ad_rows[i, j]
            seen += paid[i, j]
            known += recognised[i, j]
        c = cust[i]
        last_consult_day[c] = day
        last_consult_category[c] = cat[i]
        ads_seen[c] += seen
        ads_recognised[c] += known
        consults[c] += 1


@numba.njit(inline="always")
def _first_max(score, i, mask):
    """``np.argmax`` of row ``i`` of ``score`` with the entries outside ``mask`` at -inf
    (the first of equal values, the first NaN counting as the largest), -1 where the
    mask is empty (:func:`agents.assistant.help_me_decide`'s ``best``); the running
    best, its column and the first NaN's column are selected, not branched on."""
    k = score.shape[1]
    idx = 0
    best = score[i, 0] if mask[0] else -np.inf
    nan_col = 0 if np.isnan(best) else -1
    some = mask[0]
    for j in range(1, k):
        v = score[i, j] if mask[j] else -np.inf
        larger = v > best
        best = v if larger else best
        idx = j if larger else idx
        nan_col = j if (nan_col < 0 and np.isnan(v)) else nan_col
        some = some or mask[j]
    if not some:
        return -1
    return nan_col if nan_col >= 0 else idx


@numba.njit(inline="always")
def _valid_median(values, i, valid, ordered):
    """The median of row ``i``'s ``valid`` entries of ``values`` as
    :func:`agents.assistant._row_median` finds it: ``0.5 x (lo + hi)`` of the places
    ``(k - 1) // 2`` and ``k // 2`` of the row sorted with the invalid entries at +inf
    and NaNs last (``np.sort``), NaN where no entry is valid."""
    k = values.shape[1]
    n_valid = 0
    for j in range(k):
        x = values[i, j] if valid[i, j] else np.inf
        n_valid += valid[i, j]
        # insertion: NaNs after every number
        p = j
        while p > 0 and ((np.isnan(ordered[p - 1]) and not np.isnan(x)) or ordered[p - 1] > x):
            ordered[p] = ordered[p - 1]
            p -= 1
        ordered[p] = x
    if n_valid == 0:
        return np.nan
    return 0.5 * (ordered[(n_valid - 1) // 2] + ordered[n_valid // 2])


@numba.njit(cache=True, nogil=True)
def help_me_decide_rows(score, price, signal, valid, group, n_groups):
    """Columns of the (top, budget, premium) picks per row, -1 where none, in one pass:
    :func:`agents.assistant.help_me_decide`'s masked ``np.argmax``es and row medians
    (``tests/test_kernels.py`` checks it against that NumPy composition).

    ``group[i]`` (below ``n_groups``) names rows that may share their prices, signals
    and validity (the candidates of one category): a row whose three rows equal those of
    the last row of its group whose medians were worked out takes its medians (a
    -0.0 median for a 0.0 one at most, which compares the same), the others work
    them out, so any grouping gives the same picks."""
    n, k = score.shape
    out = np.full((n, 3), -1, dtype=np.int64)
    ordered = np.empty(k)
    mask = np.empty(k, dtype=np.bool_)
    source = np.full(n_groups, -1, dtype=np.int64)  # the row whose medians a group holds
    medians = np.empty((n_groups, 2))
    for i in range(n):
        g = group[i]
        r = source[g]
        same = r >= 0
        if same:
            for j in range(k):
                same = (
                    same
                    and valid[i, j] == valid[r, j]
                    and price[i, j] == price[r, j]
                    and signal[i, j] == signal[r, j]
                )
        if not same:
            source[g] = i
            medians[g, 0] = _valid_median(price, i, valid, ordered)
            medians[g, 1] = _valid_median(signal, i, valid, ordered)
        med_price = medians[g, 0]
        med_signal = medians[g, 1]
        for j in range(k):
            mask[j] = valid[i, j]
        top = _first_max(score, i, mask)
        for j in range(k):
            mask[j] = valid[i, j] and j != top and price[i, j] <= med_price
        budget = _first_max(score, i, mask)
        for j in range(k):
            mask[j] = valid[i, j] and j != top and j != budget and signal[i, j] >= med_signal
        out[i, 0] = top
        out[i, 1] = budget
        out[i, 2] = _first_max(score, i, mask)
    return out


@numba.njit(inline="always")
def _np_maximum(a, b):
    """``np.maximum`` of two floats: the first unless the second is larger, NaN if either is."""
    return a if (a >= b or np.isnan(a)) else b


@numba.njit(cache=True, nogil=True)
def channel_terms(
    cust, region, cat, quality_taste, delay_cost, price_sensitivity, offline, online_u,
    agent_u, agent_share, agents_allowed, prime_state, paying_state, last_payment_day, habit,
    region_fba_days, cat_fba_share, cat_ship_share, cat_quality, cat_price_index,
    cat_selection_change, selection_weight, value_base, self_fulfilled_days, nonmember_days,
    day, sunk_decay_days, rival_index, rival_quality, rival_days, rival_selection,
    price_weight, habit_weight, platform_bias,
):  # fmt: skip
    """What channel choice reads per session, in one pass over the sessions' customers
    (:func:`sim.day.channel.choose`).

    Session ``i`` of customer ``cust[i]`` (region, quality taste, delay cost and price
    sensitivity in session order) is online when ``online_u[c] >= offline[region[i]]``,
    and uses an external agent when online, ``agent_u[c] < agent_share`` and
    ``agents_allowed``. Its expected net value of the platform is
    :func:`sim.day.channel.expected_platform_value`'s, evaluated in the same order
    (``prime_state`` not 0 is a member), the rival's net value
    :func:`sim.day.channel.rival_value`'s (the category's price index
    ``rival_index[cat[i]]``), and the platform's lead over the rival before the sunk
    cost the price-weighted value difference plus habit plus the platform bias, in the
    order :func:`sim.day.channel.choose` adds them. Returns ``(online, external,
    net_rival, lead, decay, paying, habit, prime_state)``: those, the exponent of the
    sunk cost's decay ``-(day - last_payment_day) / sunk_decay_days``, whether she is in
    ``paying_state`` with a payment on record, her habit and her Prime state
    (:func:`channel_half` adds the sunk cost once ``exp`` has turned the exponent).
    """
    n = cust.shape[0]
    online = np.empty(n, dtype=np.bool_)
    external = np.empty(n, dtype=np.bool_)
    net_rival = np.empty(n)
    lead = np.empty(n)
    decay = np.empty(n)
    paying = np.empty(n, dtype=np.bool_)
    habit_of = np.empty(n)
    state_of = np.empty(n, dtype=prime_state.dtype)
    for i in range(n):
        if i + PREFETCH_FAR < n:
            ahead = cust[i + PREFETCH_FAR]
            _prefetch(online_u, ahead)
            _prefetch(agent_u, ahead)
            _prefetch(prime_state, ahead)
            _prefetch(last_payment_day, ahead)
            _prefetch(habit, ahead)
        c = cust[i]
        on = online_u[c] >= offline[region[i]]
        online[i] = on
        external[i] = on and agent_u[c] < agent_share and agents_allowed
        state = prime_state[c]
        state_of[i] = state
        member = state != 0
        fba_days = region_fba_days[region[i]]
        k = cat[i]
        if member:
            fba_share = cat_fba_share[k]
            days = fba_days * fba_share + (1.0 - fba_share) * self_fulfilled_days
            ship = 0.0
        else:
            days = _np_maximum(nonmember_days, fba_days)
            ship = cat_ship_share[k]
        selection = selection_weight * cat_selection_change[k]
        value = (
            value_base
            + quality_taste[i] * cat_quality[k]
            - cat_price_index[k]
            - delay_cost[i] * days
        )
        net_platform = selection + value - ship
        paid_on = last_payment_day[c]
        decay[i] = float(-(day - paid_on)) / sunk_decay_days
        paying[i] = state == paying_state and paid_on >= 0
        h = habit[c]
        habit_of[i] = h
        rival = (
            value_base
            + quality_taste[i] * rival_quality
            - rival_index[k]
            - delay_cost[i] * rival_days
        ) + rival_selection
        net_rival[i] = rival
        diff = price_sensitivity[i] * price_weight * (net_platform - rival)
        diff = diff + habit_weight * h
        lead[i] = diff + platform_bias
    return online, external, net_rival, lead, decay, paying, habit_of, state_of


@numba.njit(cache=True, nogil=True)
def channel_half(lead, paying, sunk_decay, sunk_weight):
    """Half the platform's utility lead over the rival (the argument of
    :func:`sim.choice.binary_logit`'s ``tanh``): :func:`channel_terms`' ``lead`` plus the
    paying member's sunk cost ``sunk_weight x sunk_decay`` (``sunk_decay`` already through
    ``exp``), halved, in the order :func:`sim.day.channel.choose` adds them."""
    n = lead.shape[0]
    half = np.empty(n)
    for i in range(n):
        sunk = sunk_weight * sunk_decay[i] if paying[i] else 0.0
        half[i] = 0.5 * (lead[i] + sunk)
    return half


@numba.njit(cache=True, nogil=True)
def channel_platform(online, external, u_channel, tanh_half):
    """Which sessions use the platform (:func:`sim.day.channel.choose`): online, not with
    an external agent and ``u_channel`` below the binary logit ``0.5 x (1 + tanh_half)``
    (:func:`sim.choice.binary_logit` once ``tanh`` has turned its argument), NumPy's
    operations in its order, in one pass instead of four."""
    n = online.shape[0]
    platform = np.empty(n, dtype=np.bool_)
    for i in range(n):
        p = (tanh_half[i] + 1.0) * 0.5
        platform[i] = online[i] & (not external[i]) & (u_channel[i] < p)
    return platform


@numba.njit(inline="always")
def _clip_unit(x):
    """``np.clip(x, 0.0, 1.0)`` of one float: a value at a bound (-0.0 included) and NaN
    stay as they are."""
    if x < 0.0:
        return 0.0
    if x > 1.0:
        return 1.0
    return x


@numba.njit(cache=True, nogil=True)
def consult_bases(
    rows, cust, cat, context, bought_bits, bytes_per_customer, last_would_consult_day, day,
    active_days, unfamiliar_factor, lapsed_factor, propensity, trust, session_trust,
):  # fmt: skip
    """The untilted chance to consult of each session ``rows[i]`` (the context
    ``context[cat[rows[i]]]`` of its category), in one pass over the sessions' customers
    (:func:`sim.day.assistant.consults`).

    The context is multiplied by ``unfamiliar_factor`` where the customer has not
    bought in the category (bit ``cat & 7`` of byte ``cat >> 3`` of her
    ``bytes_per_customer`` bytes in ``bought_bits``, the flattened ``bought_categories``
    of :meth:`agents.customer.CustomerPopulation.familiar`), then by ``lapsed_factor``
    where ``day - last_would_consult_day[c] >= active_days``; the chance is
    ``np.clip(propensity[c] x context x trust[c], 0, 1)`` in that order of operations
    (:func:`agents.customer.consult_probability`'s base). Returns the chances and writes
    each session's ``trust[c]``, which later passes read in session order, into
    ``session_trust[rows[i]]``.
    """
    n = rows.shape[0]
    base = np.empty(n)
    for i in range(n):
        if i + PREFETCH_FAR < n:
            ahead = cust[rows[i + PREFETCH_FAR]]
            _prefetch(bought_bits, ahead * bytes_per_customer)
            _prefetch(last_would_consult_day, ahead)
            _prefetch(propensity, ahead)
            _prefetch(trust, ahead)
        s = rows[i]
        c = cust[s]
        k = cat[s]
        ctx = context[k]
        if (bought_bits[c * bytes_per_customer + (k >> 3)] >> (k & 7)) & 1 != 1:
            ctx = ctx * unfamiliar_factor
        if day - last_would_consult_day[c] >= active_days:
            ctx = ctx * lapsed_factor
        t = trust[c]
        session_trust[s] = t
        base[i] = _clip_unit(propensity[c] * ctx * t)
    return base


@numba.njit(cache=True, nogil=True)
def rows_drawn(rows, row_id, key, slot, p):
    """The ``rows`` whose uniform keyed by (``row_id[rows[i]]``, ``slot``) of the stream
    ``key`` is below ``p[i]``, in order: ``rows[Keyed.uniform(row_id[rows], slot) < p]``
    (:meth:`sim.rng.Keyed.uniform`) in one pass (:func:`sim.day.assistant.consults`)."""
    n = rows.shape[0]
    out = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        out[m] = rows[i]
        m += _unit(_mix(_mix(key ^ row_id[rows[i]]) ^ slot)) < p[i]
    return out[:m]


@numba.njit(cache=True, nogil=True)
def interp(x, xp, fp):
    """``np.interp(x, xp, fp)`` for 1-D ``x`` and increasing ``xp`` (at least one point):
    the same index per value (found from a guess on an evenly spaced ``xp`` and checked
    against its neighbours, where NumPy bisects), the same slope and the same
    arithmetic, so the same numbers bit for bit."""
    n = x.shape[0]
    m = xp.shape[0]
    out = np.empty(n)
    left = fp[0]
    right = fp[m - 1]
    if m == 1:
        for i in range(n):
            v = x[i]
            out[i] = left if v < xp[0] else (right if v > xp[0] else fp[0])
        return out
    span = xp[m - 1] - xp[0]
    for i in range(n):
        v = x[i]
        if np.isnan(v):
            out[i] = v
            continue
        if v > xp[m - 1]:
            out[i] = right
            continue
        if v < xp[0]:
            out[i] = left
            continue
        guess = (v - xp[0]) / span * (m - 1)
        j = int(guess) if guess >= 0.0 and guess <= m - 1 else 0
        while j > 0 and xp[j] > v:
            j -= 1
        while j < m - 1 and xp[j + 1] <= v:
            j += 1
        if j == m - 1 or xp[j] == v:
            out[i] = fp[j]
            continue
        slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
        r = slope * (v - xp[j]) + fp[j]
        if np.isnan(r):
            r = slope * (v - xp[j + 1]) + fp[j + 1]
            if np.isnan(r) and fp[j] == fp[j + 1]:
                r = fp[j]
        out[i] = r
    return out


#: Rows ahead whose customer's row the passes that do little else per row ask for: the
#: sessions' traits in :func:`session_draws` (a few hashes per session) and the habit
#: steps of :func:`learn_habit` (one step per purchase). With so little work between
#: the reads, :data:`PREFETCH_AHEAD` leaves too few misses in flight (measured at 1M
#: customers on a run's own arrays: session_draws 64 ahead about 1.2 ms a call faster
#: than 16, no better at 96; the habit steps 256 ahead about half the time of 16).
PREFETCH_TRAITS = 64
PREFETCH_STEPS = 256


@numba.njit(cache=True, nogil=True)
def need_sessions(need_key, day, lam, p0, normal_above, session_key):
    """Today's fresh sessions in customer order (:func:`sim.day.needs.fresh`).

    Customer ``i`` has the Poisson(``lam[i]``) count of :func:`poisson_quantiles` of the
    uniform keyed by (``day``, ``i``) under ``need_key`` (``Keyed.poisson(lam, day,
    np.arange(len(lam)))``), and her ``o``-th session of the day the key
    ``mix(mix(mix(session_key ^ day) ^ i) ^ o)`` (``Keyed.bits(day, customer, ordinal)``
    under ``session_key``). Returns ``(customer, key)``: the NumPy ``repeat`` of the
    customers by their counts and the sessions' keys. The counts are kept only for the
    customers with a need (most have none), so the second pass reads those alone. The
    uniforms are hashed a block of customers at a time (a loop the compiler vectorises),
    and the count is worked out only where it can be above 0 (``u > p0``, or ``lam``
    above ``normal_above``).
    """
    n = lam.shape[0]
    who = np.empty(n, dtype=np.int64)
    count = np.empty(n, dtype=np.int64)
    h = _mix(need_key ^ day)
    n_who = 0
    total = 0
    block = 256
    u = np.empty(block)
    for start in range(0, n, block):
        end = min(start + block, n)
        for i in range(start, end):
            u[i - start] = _unit(_mix(h ^ np.uint64(i)))
        for i in range(start, end):
            ui = u[i - start]
            if ui > p0[i] or lam[i] > normal_above:  # else a count of 0
                k = _poisson_quantile(lam[i], ui, p0[i], normal_above)
                # written for every such customer, kept (the place taken) only for one
                # with a need
                who[n_who] = i
                count[n_who] = k
                n_who += 1 if k > 0 else 0
                total += k
    customer = np.empty(total, dtype=np.int64)
    key = np.empty(total, dtype=np.uint64)
    h_day = _mix(session_key ^ day)
    t = 0
    for j in range(n_who):
        i = who[j]
        h_customer = _mix(h_day ^ np.uint64(i))
        for o in range(count[j]):
            customer[t] = i
            key[t] = _mix(h_customer ^ np.uint64(o))
            t += 1
    return customer, key


@numba.njit(cache=True, nogil=True)
def merge_order(first, second, second_order):
    """The stable ascending order of ``concatenate([first, raw])`` where ``first`` is
    ascending and ``second = raw[second_order]`` is ``raw`` in its stable ascending
    order: a merge that takes ``first`` on ties, in one pass instead of a sort. Returns
    ``(order, ok)``; ``ok`` is false (and the order unusable) when ``first`` is not
    ascending."""
    n1 = first.shape[0]
    n2 = second.shape[0]
    order = np.empty(n1 + n2, dtype=np.int64)
    for i in range(1, n1):
        if first[i] < first[i - 1]:
            return order, False
    i = 0
    j = 0
    t = 0
    while i < n1 and j < n2:
        if first[i] <= second[j]:
            order[t] = i
            i += 1
        else:
            order[t] = n1 + second_order[j]
            j += 1
        t += 1
    while i < n1:
        order[t] = i
        i += 1
        t += 1
    while j < n2:
        order[t] = n1 + second_order[j]
        j += 1
        t += 1
    return order, True


@numba.njit(cache=True, nogil=True)
def capacity_slips(station, capacity, u):
    """Which orders slip because their station is over capacity
    (:func:`sim.logistics.apply_capacity`): per station with more orders than its
    ``capacity``, its orders in increasing ``u`` (ties: lower order index, a stable sort
    of the station's orders taken in index order), all but the first ``capacity``."""
    n = station.shape[0]
    m = capacity.shape[0]
    slip = np.zeros(n, dtype=np.bool_)
    load = np.zeros(m, dtype=np.int64)
    for i in range(n):
        if station[i] >= 0:
            load[station[i]] += 1
    # the orders of stations over capacity, grouped by station, each group in index order
    start = np.zeros(m + 1, dtype=np.int64)
    for s in range(m):
        start[s + 1] = start[s] + (load[s] if load[s] > capacity[s] else 0)
    if start[m] == 0:
        return slip
    queued = np.empty(start[m], dtype=np.int64)
    fill = start[:m].copy()
    for i in range(n):
        s = station[i]
        if s >= 0 and load[s] > capacity[s]:
            queued[fill[s]] = i
            fill[s] += 1
    for s in range(m):
        group = queued[start[s] : start[s + 1]]
        if group.shape[0] > 0:
            _slip_beyond(group, u, capacity[s], slip)
    return slip


#: Buckets of [0, 1) by which :func:`_slip_beyond` finds a station's last place served.
_SLIP_BUCKETS = 256


@numba.njit(inline="always")
def _kth_smallest(values, k):
    """``np.partition(values, k)[k]``, the ``k``-th smallest value: for values in [0, 1)
    (uniform keys) the values are counted into equal buckets and the one bucket holding
    rank ``k`` is sorted; any other value falls back to ``np.partition``."""
    count = np.zeros(_SLIP_BUCKETS + 1, dtype=np.int64)
    for g in range(values.shape[0]):
        v = values[g]
        if not (v >= 0.0 and v < 1.0):
            return np.partition(values, k)[k]
        count[np.int64(v * _SLIP_BUCKETS) + 1] += 1
    below = 0
    bucket = 0
    while below + count[bucket + 1] <= k:
        below += count[bucket + 1]
        bucket += 1
    inside = np.empty(count[bucket + 1])
    t = 0
    for g in range(values.shape[0]):
        v = values[g]
        if np.int64(v * _SLIP_BUCKETS) == bucket:
            inside[t] = v
            t += 1
    return np.sort(inside)[k - below]


@numba.njit(inline="always")
def _slip_beyond(group, u, capacity, slip):
    """Mark the orders of ``group`` (in index order) beyond the first ``capacity`` by
    increasing ``u``, ties to the earlier order (the ranks of a stable sort), without
    sorting: the ``capacity``-th smallest ``u`` is found by selection
    (:func:`_kth_smallest`), orders below it are served, orders above it slip, and of
    the orders equal to it the first ones in index order fill the places left."""
    values = np.empty(group.shape[0])
    for g in range(group.shape[0]):
        values[g] = u[group[g]]
    threshold = _kth_smallest(values, capacity)
    left = capacity
    for g in range(group.shape[0]):
        left -= 1 if values[g] < threshold else 0
    for g in range(group.shape[0]):
        v = values[g]
        tie_served = v == threshold and left > 0
        slip[group[g]] = v > threshold or (v == threshold and not tie_served)
        left -= 1 if tie_served else 0


@numba.njit(cache=True, nogil=True)
def decay_population(habit, habit_factor, decay_habit, buyers, ship_value, speed_value, factor):
    """The day's decays over the population in one pass (:func:`sim.day.delivery.deliver`):
    ``habit`` times ``habit_factor`` except at the customers in ``buyers`` (when
    ``decay_habit``; NumPy's ``multiply(..., where=idle)``), and ``ship_value`` and
    ``speed_value`` times ``factor``."""
    kept = np.empty(buyers.shape[0])
    if decay_habit:
        for j in range(buyers.shape[0]):
            kept[j] = habit[buyers[j]]
    for i in range(habit.shape[0]):
        if decay_habit:
            habit[i] *= habit_factor
        ship_value[i] *= factor
        speed_value[i] *= factor
    if decay_habit:
        for j in range(buyers.shape[0]):
            habit[buyers[j]] = kept[j]


@numba.njit(cache=True, nogil=True)
def learn_habit(habit, buyers, experience, rival_buyers, rival_experience, rate):
    """Habit after today's purchases (:func:`sim.day.delivery.deliver`): each platform
    purchase moves the buyer's habit toward its ``experience`` and each rival purchase
    toward ``rival_experience`` at ``rate`` (:func:`agents.customer.next_habit`), as
    NumPy's two ``add.at`` of ``next_habit(habit[c], e, rate) - habit[c]``: the platform
    steps all read the habit as the day began, the rival steps the habit after them,
    and a customer's steps add up in purchase order."""
    _habit_steps(habit, buyers, experience, rate)
    _habit_steps(habit, rival_buyers, np.full(rival_buyers.shape[0], rival_experience), rate)


@numba.njit(inline="always")
def _habit_steps(habit, who, experience, rate):
    """``add.at(habit, who, next_habit(habit[who], experience, rate) - habit[who])``: every
    step from the habit before any is added, then added in order."""
    n = who.shape[0]
    step = np.empty(n)
    for i in range(n):
        if i + PREFETCH_STEPS < n:
            _prefetch(habit, who[i + PREFETCH_STEPS])
        h = habit[who[i]]
        step[i] = (h + rate * (experience[i] - h)) - h
    for i in range(n):
        if i + PREFETCH_STEPS < n:
            _prefetch(habit, who[i + PREFETCH_STEPS])
        habit[who[i]] += step[i]


@numba.njit(cache=True, nogil=True)
def book_orders(
    buyers, member, paid_cents, day, category, ship_step, speed_step, orders_member,
    orders_nonmember, spend_member, spend_nonmember, last_day, bought, ship_value,
    speed_value, rival_buyers, rival_purchases, last_consult_day, last_consult_category,
):  # fmt: skip
    """The customers' accounts after today's purchases, in one pass over the orders
    (:func:`sim.day.delivery.deliver`): per platform order of customer ``buyers[i]``,
    one more order and ``paid_cents[i]`` more spend as a member or not (``member[i]``),
    today as her last platform day, the order's category marked bought (bit
    ``category & 7`` of byte ``category >> 3``, :func:`set_bits`) and ``ship_step[i]``
    and ``speed_step[i]`` added to the Prime experience; per rival purchase one more
    in ``rival_purchases``. Additions to a customer come in order, as ``add.at``'s.
    Returns the buyers' ``last_consult_day`` and ``last_consult_category`` per order
    (``last_consult_day[buyers]``, ``last_consult_category[buyers]``), read in the same
    pass."""
    n = buyers.shape[0]
    consult_day = np.empty(n, dtype=last_consult_day.dtype)
    consult_category = np.empty(n, dtype=last_consult_category.dtype)
    for i in range(n):
        if i + PREFETCH_AHEAD < n:
            ahead = buyers[i + PREFETCH_AHEAD]
            for account in (orders_member, orders_nonmember, last_day, last_consult_day):
                _prefetch(account, ahead)
            for value in (spend_member, spend_nonmember):
                _prefetch(value, ahead)
            for value in (ship_value, speed_value):
                _prefetch(value, ahead)
            _prefetch(bought[ahead], 0)
            _prefetch(last_consult_category, ahead)
        c = buyers[i]
        consult_day[i] = last_consult_day[c]
        consult_category[i] = last_consult_category[c]
        if member[i]:
            orders_member[c] += 1
            spend_member[c] += paid_cents[i]
        else:
            orders_nonmember[c] += 1
            spend_nonmember[c] += paid_cents[i]
        last_day[c] = day
        bought[c, category[i] >> 3] |= np.uint8(1 << (category[i] & 7))
        ship_value[c] += ship_step[i]
        speed_value[c] += speed_step[i]
    for i in range(rival_buyers.shape[0]):
        if i + PREFETCH_AHEAD < rival_buyers.shape[0]:
            _prefetch(rival_purchases, rival_buyers[i + PREFETCH_AHEAD])
        rival_purchases[rival_buyers[i]] += 1
    return consult_day, consult_category


@numba.njit(cache=True, nogil=True)
def census(
    prime_state, last_platform_day, last_consult_day, day, active_days, recent_days,
    member_state, trial_state, other_benefit,
):  # fmt: skip
    """The day's counts over the population in one pass (:func:`sim.day.record.daily_row`),
    each NumPy's ``count_nonzero`` of its comparison: customers active (``day -
    last_platform_day < active_days``), recently active (``< recent_days``), members
    (``prime_state`` not 0) among the active, customers in ``member_state`` and in
    ``trial_state``, and assistant users (``day - last_consult_day < active_days``).
    Returns ``(active, recent, active_members, in_member_state, in_trial_state, users,
    member_benefit)``, the last ``other_benefit`` at the members in order (as
    ``other_benefit[prime_state != 0]``, for NumPy to sum). The counts are one loop
    without stores (which the compiler vectorises), the members' benefits a second,
    branch-free loop (each benefit written, its place kept for a member) that stops at
    the last member."""
    n = prime_state.shape[0]
    active = recent = active_members = in_member = in_trial = users = members = 0
    for i in range(n):
        state = prime_state[i]
        since = day - last_platform_day[i]
        is_active = since < active_days
        active += 1 if is_active else 0
        recent += 1 if since < recent_days else 0
        active_members += 1 if (is_active and state != 0) else 0
        in_member += 1 if state == member_state else 0
        in_trial += 1 if state == trial_state else 0
        users += 1 if day - last_consult_day[i] < active_days else 0
        members += 1 if state != 0 else 0
    benefit = np.empty(members)
    b = 0
    i = 0
    while b < members:
        benefit[b] = other_benefit[i]
        b += 1 if prime_state[i] != 0 else 0
        i += 1
    return active, recent, active_members, in_member, in_trial, users, benefit


@numba.njit(cache=True, nogil=True)
def membership_day(prime_state, days_member, next_decision_day, day):
    """One more day of membership for every member (``prime_state`` not 0) and the
    customers whose Prime decision is due ``day``, ascending, in one pass over the
    population (:func:`sim.day.membership.decide`: ``days_member += prime_state != 0``
    and ``np.flatnonzero(next_decision_day == day)``)."""
    n = prime_state.shape[0]
    due = np.empty(n, dtype=np.int64)
    n_due = 0
    for i in range(n):
        days_member[i] += 1 if prime_state[i] != 0 else 0
        if next_decision_day[i] == day:  # rare: a branch the processor predicts
            due[n_due] = i
            n_due += 1
    return due[:n_due]


@numba.njit(cache=True, nogil=True)
def offer_candidates(cust, visit, prime_state):
    """The customers of the sessions with ``visit`` who are not members (``prime_state``
    0), once each, ascending (:func:`sim.day.membership.decide`: the non-members among
    ``np.unique(cust[visit])``): each such customer's bit set in a bitmap of the
    population (a few hundred kB, one bit per customer), whose set bits read word by
    word are the customers in order, without a sort."""
    n = prime_state.shape[0]
    words = np.zeros((n + 63) >> 6, dtype=np.uint64)
    k = 0
    for j in range(cust.shape[0]):
        if visit[j]:
            c = cust[j]
            if prime_state[c] == 0:
                words[c >> 6] |= np.uint64(1) << np.uint64(c & 63)
                k += 1
    found = np.empty(k, dtype=np.int64)
    t = 0
    for w in range(words.shape[0]):
        bits = words[w]
        while bits != 0:
            found[t] = (w << 6) + np.int64(trailing_zeros(bits))
            t += 1
            bits &= bits - np.uint64(1)
    return found[:t].copy()


@numba.njit(cache=True, nogil=True)
def _set_bits(table, rows, bit):
    n, width = table.shape
    for i in range(rows.shape[0]):
        byte = bit[i] >> 3
        if rows[i] < -n or rows[i] >= n or byte < -width or byte >= width:
            return False
    for i in range(rows.shape[0]):
        r = rows[i] if rows[i] >= 0 else rows[i] + n
        byte = bit[i] >> 3
        c = byte if byte >= 0 else byte + width
        table[r, c] |= np.uint8(1 << (bit[i] & 7))
    return True


def set_bits(table: np.ndarray, rows: np.ndarray, bit: np.ndarray) -> None:
    """Set bit ``bit[i]`` (bit ``bit & 7`` of byte ``bit >> 3``) of row ``rows[i]`` of the
    ``uint8`` ``table``, for every ``i``: ``np.bitwise_or.at(table, (rows, bit >> 3),
    1 << (bit & 7))`` in one compiled pass (bits only ever set, so in any order; negative
    rows and bytes count from the end, as in NumPy)."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    bit = np.ascontiguousarray(bit, dtype=np.int64)
    if rows.shape != bit.shape:
        raise ValueError(f"{rows.shape[0]} rows for {bit.shape[0]} bits")
    if not _set_bits(table, rows, bit):
        raise IndexError(f"a row or bit out of bounds for a table of shape {table.shape}")


@numba.njit(cache=True, nogil=True)
def need_draws(key, cust, need_key, category_slot, intent_slot, profile, profile_cdf,
               n_categories, intent_sd):  # fmt: skip
    """Each session's category and intent in one pass (:func:`sim.day.needs.fresh`): the
    category is how many of the cumulative shares ``profile_cdf[profile[cust[i]]]`` lie
    below the uniform keyed by (``key[i]``, ``category_slot``) under ``need_key``, at
    most ``n_categories - 1``; the intent is ``intent_sd`` times
    the standard normal keyed by (``key[i]``, ``intent_slot``), 0 where ``intent_sd`` is
    not positive (``Keyed.uniform`` and ``Keyed.normal``)."""
    n = key.shape[0]
    k = profile_cdf.shape[1]
    cat = np.empty(n, dtype=np.int64)
    intent = np.zeros(n)
    for i in range(n):
        if i + PREFETCH_AHEAD < n:
            _prefetch(profile, cust[i + PREFETCH_AHEAD])
        h = _mix(need_key ^ key[i])
        u = _unit(_mix(h ^ category_slot))
        r = profile[cust[i]]
        below = 0
        for j in range(k):
            if u > profile_cdf[r, j]:
                below += 1
        cat[i] = min(below, n_categories - 1)
        if intent_sd > 0:
            intent[i] = intent_sd * _ndtri(_unit(_mix(h ^ intent_slot)))
    return cat, intent


@numba.njit(cache=True, nogil=True)
def session_draws(key, cust, channel_key, depth_key, offer_key, price_sensitivity,
                  quality_taste, delay_cost, region):  # fmt: skip
    """Each session's own uniforms and its customer's fixed traits in one pass
    (:func:`sim.day.needs.arrive`): the uniforms keyed by ``key[i]`` under the channel,
    examination and Prime-offer streams' keys (``Keyed.uniform(key)``), and the price
    sensitivity, quality taste, delay cost and region of customer ``cust[i]``. Returns
    ``(u_channel, u_depth, u_offer, price_sensitivity, quality_taste, delay_cost,
    region)`` in session order."""
    n = key.shape[0]
    u_channel = np.empty(n)
    u_depth = np.empty(n)
    u_offer = np.empty(n)
    mu = np.empty(n)
    taste = np.empty(n)
    delay = np.empty(n)
    reg = np.empty(n, dtype=region.dtype)
    for i in range(n):
        if i + PREFETCH_TRAITS < n:
            ahead = cust[i + PREFETCH_TRAITS]
            _prefetch(price_sensitivity, ahead)
            _prefetch(quality_taste, ahead)
            _prefetch(delay_cost, ahead)
            _prefetch(region, ahead)
        k = key[i]
        u_channel[i] = _unit(_mix(channel_key ^ k))
        u_depth[i] = _unit(_mix(depth_key ^ k))
        u_offer[i] = _unit(_mix(offer_key ^ k))
        c = cust[i]
        mu[i] = price_sensitivity[c]
        taste[i] = quality_taste[c]
        delay[i] = delay_cost[c]
        reg[i] = region[c]
    return u_channel, u_depth, u_offer, mu, taste, delay, reg


@numba.njit(inline="always")
def _need_columns(n, cust, cat, intent, age_dtype):
    """Empty columns of ``n`` needs: ``(key, cust, cat, intent, origin, age)``, keys
    ``uint64`` and the others typed as ``cust``, ``cat``, ``intent`` and ``age_dtype``."""
    return (
        np.empty(n, dtype=np.uint64), np.empty(n, dtype=cust.dtype),
        np.empty(n, dtype=cat.dtype), np.empty(n, dtype=intent.dtype),
        np.empty(n, dtype=np.uint64), np.empty(n, dtype=age_dtype),
    )  # fmt: skip


@numba.njit(inline="always")
def _take_need(columns, t, source, b):
    """Row ``t`` of the needs' ``columns`` (key, cust, cat, intent, origin, age) set to row
    ``b`` of ``source``'s."""
    key, cust, cat, intent, origin, age = columns
    key[t] = source[0][b]
    cust[t] = source[1][b]
    cat[t] = source[2][b]
    intent[t] = source[3][b]
    origin[t] = source[4][b]
    age[t] = source[5][b]


@numba.njit(cache=True, nogil=True)
def merged_sessions(order, fresh_key, back_key, fresh_cust, back_cust, fresh_cat, back_cat,
                    fresh_intent, back_intent, back_origin, back_age, channel_key, depth_key,
                    offer_key, price_sensitivity, quality_taste, delay_cost, region):  # fmt: skip
    """The day's sessions in merged ``order`` in one pass (:func:`sim.day.needs.arrive`):
    each column ``concatenate([fresh, back])[order]``, a fresh
    need's origin its own key and its age 0 (``int64``), and the sessions' uniforms and their
    customers' traits as :func:`session_draws` gives them for the merged key and
    customer. Returns ``(key, cust, cat, intent, origin, age, u_channel, u_depth,
    u_offer, price_sensitivity, quality_taste, delay_cost, region)``."""
    n = order.shape[0]
    n1 = fresh_key.shape[0]
    key, cust, cat, intent, origin, age = _need_columns(
        n, fresh_cust, fresh_cat, fresh_intent, np.int64
    )
    for t in range(n):
        o = order[t]
        if o < n1:
            k = fresh_key[o]
            key[t] = k
            cust[t] = fresh_cust[o]
            cat[t] = fresh_cat[o]
            intent[t] = fresh_intent[o]
            origin[t] = k
            age[t] = 0
        else:
            _take_need(
                (key, cust, cat, intent, origin, age), t,
                (back_key, back_cust, back_cat, back_intent, back_origin, back_age), o - n1,
            )  # fmt: skip
    u_channel, u_depth, u_offer, mu, taste, delay, reg = session_draws(
        key, cust, channel_key, depth_key, offer_key, price_sensitivity, quality_taste,
        delay_cost, region,
    )  # fmt: skip
    return key, cust, cat, intent, origin, age, u_channel, u_depth, u_offer, mu, taste, delay, reg


@numba.njit(cache=True, nogil=True)
def day_sessions(product, rival, consult, would_consult, platform):
    """The day's purchases and session counts in one pass over the sessions
    (:func:`sim.day.delivery.deliver`): ``np.flatnonzero(product >= 0)`` (the orders'
    sessions), ``np.flatnonzero(rival)`` (the rival purchases'), and the counts of
    ``platform & ~would_consult``, ``would_consult``, ``bought & would_consult``,
    ``bought & consult``, ``bought & ~consult & platform`` and ``~consult & platform``
    (``bought`` being ``product >= 0``), in that order. The counts are one loop of
    integer products (no branches; the compiler vectorises it), the lists a second in
    which each session's index is written at the next place of both and the place kept
    where it belongs (no branch on a session's outcome)."""
    n = product.shape[0]
    other = would = would_bought = consult_bought = nonconsult_bought = nonconsult = 0
    for i in range(n):
        b = np.int64(product[i] >= 0)
        c = np.int64(consult[i])
        wc = np.int64(would_consult[i])
        pl = np.int64(platform[i])
        other += pl * (1 - wc)
        would += wc
        would_bought += b * wc
        consult_bought += b * c
        nonconsult_bought += b * pl * (1 - c)
        nonconsult += pl * (1 - c)
    rows = np.empty(n, dtype=np.int64)
    rv = np.empty(n, dtype=np.int64)
    n_rows = n_rv = 0
    for i in range(n):
        rows[n_rows] = i
        n_rows += 1 if product[i] >= 0 else 0
        rv[n_rv] = i
        n_rv += 1 if rival[i] else 0
    counts = np.array(
        [other, would, would_bought, consult_bought, nonconsult_bought, nonconsult],
        dtype=np.int64,
    )
    return rows[:n_rows], rv[:n_rv], counts


@numba.njit(cache=True, nogil=True)
def merged_needs(fresh_key, back_key, back_order, fresh_cust, back_cust, fresh_cat, back_cat,
                 fresh_intent, back_intent, back_origin, back_age, channel_key, depth_key,
                 offer_key, price_sensitivity, quality_taste, delay_cost, region):  # fmt: skip
    """:func:`merged_sessions` of :func:`merge_order`'s order, merging as it goes: the
    fresh needs (keys ascending) and the returning ones in ``back_order`` (their keys'
    stable ascending order), the fresh one first on equal keys, each session's columns
    written from the source it is taken from (a select, no branch on which). Returns
    ``(ok, columns)``; ``ok`` is false (and the columns unusable) when the fresh keys
    are not ascending or either part is empty."""
    n1 = fresh_key.shape[0]
    n2 = back_key.shape[0]
    n = n1 + n2
    key, cust, cat, intent, origin, age = _need_columns(
        n, fresh_cust, fresh_cat, fresh_intent, np.int64
    )
    ok = n1 > 0 and n2 > 0
    for i in range(1, n1):
        if fresh_key[i] < fresh_key[i - 1]:
            ok = False
    if ok:
        # the returning needs' columns in their keys' order, read in step by the merge
        s_key, s_cust, s_cat, s_intent, s_origin, s_age = _need_columns(
            n2, back_cust, back_cat, back_intent, back_age.dtype
        )
        for j in range(n2):
            _take_need(
                (s_key, s_cust, s_cat, s_intent, s_origin, s_age), j,
                (back_key, back_cust, back_cat, back_intent, back_origin, back_age),
                back_order[j],
            )  # fmt: skip
        i = 0
        j = 0
        for t in range(n):
            f = min(i, n1 - 1)
            b = min(j, n2 - 1)
            fk = fresh_key[f]
            bk = s_key[b]
            fresh = (i < n1) & ((j >= n2) | (fk <= bk))
            key[t] = fk if fresh else bk
            cust[t] = fresh_cust[f] if fresh else s_cust[b]
            cat[t] = fresh_cat[f] if fresh else s_cat[b]
            intent[t] = fresh_intent[f] if fresh else s_intent[b]
            origin[t] = fk if fresh else s_origin[b]
            age[t] = 0 if fresh else s_age[b]
            i += 1 if fresh else 0
            j += 0 if fresh else 1
    u_channel, u_depth, u_offer, mu, taste, delay, reg = session_draws(
        key[: n if ok else 0], cust[: n if ok else 0], channel_key, depth_key, offer_key,
        price_sensitivity, quality_taste, delay_cost, region,
    )  # fmt: skip
    return ok, (
        key,
        cust,
        cat,
        intent,
        origin,
        age,
        u_channel,
        u_depth,
        u_offer,
        mu,
        taste,
        delay,
        reg,
    )


@numba.njit(cache=True, nogil=True)
def order_promises(
    region, item, dist_cells, region_fc, fba, stock_mask, same_day_radius, next_day_radius,
    standard_days, self_fulfilled_days, nonmember_days,
):  # fmt: skip
    """The promised days of each order ``item[i]`` to a customer in ``region[i]``, for a
    member and for a non-member, in one pass (:func:`sim.day.delivery.deliver`):
    :func:`sim.logistics.promise_days` from the region's distance to service and its
    centre (``region_fc``, below 64), and :func:`sim.prime.nonmember_promise_days`."""
    n = item.shape[0]
    member_days = np.empty(n, dtype=np.int64)
    nonmember = np.empty(n, dtype=np.int64)
    for i in range(n):
        j = item[i]
        if fba[j]:
            r = region[i]
            dist = dist_cells[r]
            fc = region_fc[r]
            if dist <= same_day_radius:
                stocked = False
                if fc >= 0:
                    stocked = ((stock_mask[j] >> np.uint64(fc)) & np.uint64(1)) == 1
                d = 0 if stocked else 1
            elif dist <= next_day_radius:
                d = 1
            else:
                d = standard_days
            member_days[i] = d
            nonmember[i] = max(d, nonmember_days)
        else:
            member_days[i] = self_fulfilled_days
            nonmember[i] = self_fulfilled_days
    return member_days, nonmember


@numba.njit(cache=True, nogil=True)
def order_routes(rows, session_key, region, fba, dist_cells, region_station, next_day_radius,
                 stream_key, queue_slot, review_slot, review_rate):  # fmt: skip
    """Each order's station and its draws in one pass (:func:`sim.day.delivery.deliver`):
    order ``i`` (of session ``rows[i]``, to a customer in ``region[i]``, ``fba[i]``
    fulfilled by the platform) goes through its region's station when fulfilled by the
    platform within next-day reach (``np.where(fba & (dist_cells[region] <=
    next_day_radius), region_station[region], -1)``); its place in the station's queue
    is the uniform keyed by (``session_key[rows[i]]``, ``queue_slot``) under
    ``stream_key``, and it is reviewed when the uniform keyed by (the same key,
    ``review_slot``) is below ``review_rate`` (``Keyed.uniform``). Returns ``(station,
    queue, review)``."""
    n = rows.shape[0]
    station = np.empty(n, dtype=np.int64)
    queue = np.empty(n)
    review = np.empty(n, dtype=np.bool_)
    for i in range(n):
        r = region[i]
        via = fba[i] and dist_cells[r] <= next_day_radius
        station[i] = region_station[r] if via else -1
        h = _mix(stream_key ^ session_key[rows[i]])
        queue[i] = _unit(_mix(h ^ queue_slot))
        review[i] = _unit(_mix(h ^ review_slot)) < review_rate
    return station, queue, review


@numba.njit(cache=True, nogil=True)
def bought_entries(rows, col, n_picks, consult, paid, recognised, sponsored, ad_row):
    """What each order's bought entry was, in one pass over the orders
    (:func:`sim.day.delivery.deliver`): order ``i`` bought entry ``col[i]`` of session
    ``rows[i]``'s (session, considered) blocks; it came through the assistant when the
    entry is a pick (below ``n_picks``) of a consulting session. Returns
    ``(via_assistant, paid, recognised, sponsored_search, conv_ad)``: that, the entry's
    ``paid`` and ``recognised`` flags where it came through the assistant, its
    ``sponsored`` flag where it is a results-page entry, and its ``ad_row`` where it is
    either a sponsored result or a paid pick, -1 elsewhere (NumPy's ``take`` at the flat
    position ``rows * width + maximum(col, 0)``, masked). The sessions' rows a few
    orders ahead are asked for before they are needed (:func:`_prefetch`)."""
    n = rows.shape[0]
    via = np.empty(n, dtype=np.bool_)
    paid_out = np.empty(n, dtype=np.bool_)
    recognised_out = np.empty(n, dtype=np.bool_)
    sponsored_out = np.empty(n, dtype=np.bool_)
    conv_ad = np.empty(n, dtype=ad_row.dtype)
    for i in range(n):
        if i + PREFETCH_AHEAD < n:
            ahead = rows[i + PREFETCH_AHEAD]
            for block in (paid, recognised, sponsored):
                _prefetch(block[ahead], 0)
            _prefetch(ad_row[ahead], 0)
            _prefetch(consult, ahead)
        r = rows[i]
        c = col[i]
        e = max(c, 0)
        v = c >= 0 and c < n_picks and consult[r]
        p = paid[r, e] and v
        via[i] = v
        paid_out[i] = p
        recognised_out[i] = recognised[r, e] and v
        sp = sponsored[r, e] and c >= n_picks
        sponsored_out[i] = sp
        conv_ad[i] = ad_row[r, e] if (sp or p) else -1
    return via, paid_out, recognised_out, sponsored_out, conv_ad


@numba.njit(cache=True, nogil=True)
def ad_conversions(conv_ad, paid, price, sale, w, conversions, sales, assistant_conversions,
                   assistant_sales):  # fmt: skip
    """The day's ad conversions booked in one pass over the orders
    (:func:`sim.day.delivery.deliver`): with ``conv = conv_ad >= 0`` and ``by_answer =
    conv & paid``, NumPy's ``add.at`` of ``w`` to ``conversions`` and of ``sale`` to
    ``sales`` at ``conv_ad[conv]``, and the same to ``assistant_conversions`` and
    ``assistant_sales`` at ``conv_ad[by_answer]`` (each target's additions in order;
    ``w`` and ``sale`` of the targets' types). Returns the count of ``conv`` and the
    (integer, exact) sums of ``price[conv]`` and ``price[by_answer]``."""
    n_conv = 0
    conv_price = 0
    answer_price = 0
    for i in range(conv_ad.shape[0]):
        a = conv_ad[i]
        if a >= 0:
            conversions[a] += w
            sales[a] += sale[i]
            n_conv += 1
            conv_price += price[i]
            if paid[i]:
                assistant_conversions[a] += w
                assistant_sales[a] += sale[i]
                answer_price += price[i]
    return n_conv, conv_price, answer_price


@numba.njit(cache=True, nogil=True)
def order_totals(price, paid_total, referral, fulfil, ship_fee, cogs, own, delivery_cost,
                 days, slipped, in_window, rows, consult, would_consult, platform,
                 sponsored_search, paid, via_assistant, member):  # fmt: skip
    """The day's integer totals over the orders in one pass
    (:func:`sim.day.delivery.deliver`), each the NumPy sum of an ``int64`` array
    (exact, so in any order) or a count of a mask. With ``margin = referral + fulfil +
    ship_fee - delivery_cost + where(own, price - cogs, 0)`` and the sessions' flags
    taken at ``rows``, returns, in order: the sums of ``price``, ``paid_total``,
    ``referral``, ``fulfil``, ``ship_fee``, ``price[own]``, ``(price - cogs)[own]``,
    ``delivery_cost``; the count of ``~own`` and the sum of ``price[~own]``; the sum of
    ``days``, the counts of ``days == 0`` and ``slipped``; the sums of
    ``price[in_window]``, ``margin[in_window]``, ``(referral + fulfil +
    ship_fee)[in_window]`` plus ``price[in_window & own]``; the count of ``in_window``;
    the sums of ``price[in_window & consult]``, ``price[would_consult]``,
    ``price[platform & ~would_consult]``, ``margin``; and the counts of
    ``sponsored_search | paid``, ``via_assistant``, ``paid`` and ``member``."""
    out = np.zeros(25, dtype=np.int64)
    for i in range(price.shape[0]):
        pr = price[i]
        r = rows[i]
        margin = referral[i] + fulfil[i] + ship_fee[i] - delivery_cost[i]
        if own[i]:
            margin += pr - cogs[i]
        out[0] += pr
        out[1] += paid_total[i]
        out[2] += referral[i]
        out[3] += fulfil[i]
        out[4] += ship_fee[i]
        if own[i]:
            out[5] += pr
            out[6] += pr - cogs[i]
        else:
            out[8] += 1
            out[9] += pr
        out[7] += delivery_cost[i]
        out[10] += days[i]
        out[11] += 1 if days[i] == 0 else 0
        out[12] += 1 if slipped[i] else 0
        if in_window[i]:
            out[13] += pr
            out[14] += margin
            out[15] += referral[i] + fulfil[i] + ship_fee[i] + (pr if own[i] else 0)
            out[16] += 1
            out[17] += pr if consult[r] else 0
        out[18] += pr if would_consult[r] else 0
        out[19] += pr if (platform[r] and not would_consult[r]) else 0
        out[20] += margin
        out[21] += 1 if (sponsored_search[i] or paid[i]) else 0
        out[22] += 1 if via_assistant[i] else 0
        out[23] += 1 if paid[i] else 0
        out[24] += 1 if member[i] else 0
    return out


@numba.njit(cache=True, nogil=True)
def seller_sums(seller, n_sellers, price, referral, fulfil, cogs, self_ship):
    """Each seller's totals of today's orders in one pass (:func:`sim.day.delivery.deliver`):
    ``np.bincount(seller, weights=x, minlength=n_sellers)`` of each of ``price``,
    ``referral``, ``fulfil``, ``cogs`` and ``self_ship`` (rows of the first result, as
    floats added in order) and ``np.bincount(seller, minlength=n_sellers)``."""
    n_bins = n_sellers
    for i in range(seller.shape[0]):
        n_bins = max(n_bins, seller[i] + 1)
    sums = np.zeros((5, n_bins))
    units = np.zeros(n_bins, dtype=np.int64)
    for i in range(seller.shape[0]):
        k = seller[i]
        sums[0, k] += float(price[i])
        sums[1, k] += float(referral[i])
        sums[2, k] += float(fulfil[i])
        sums[3, k] += float(cogs[i])
        sums[4, k] += float(self_ship[i])
        units[k] += 1
    return sums, units


@numba.njit(cache=True, nogil=True)
def rows_with_any(flags):
    """The rows of the 2-D ``flags`` with a True entry, in order:
    ``np.unique(np.flatnonzero(flags) // flags.shape[1])`` in one pass
    (:func:`sim.day.choice.decide`, the sessions with an available paid pick)."""
    n, w = flags.shape
    out = np.empty(n, dtype=np.int64)
    t = 0
    for i in range(n):
        hit = False
        for j in range(w):
            hit |= flags[i, j]
        out[t] = i
        t += hit
    return out[:t]


@numba.njit(cache=True, nogil=True)
def choice_groups(platform, agentic, external):
    """The sessions by how they choose, in one pass (:func:`sim.day.choice.decide`):
    ``np.flatnonzero`` of ``platform & (agentic < 0)`` (the platform's choosers),
    ``agentic >= 0`` (agentic checkout), ``external`` and ``~platform & ~external`` (the
    rival channel), in order."""
    n = platform.shape[0]
    rows = np.empty(n, dtype=np.int64)
    ag = np.empty(n, dtype=np.int64)
    ex = np.empty(n, dtype=np.int64)
    rv = np.empty(n, dtype=np.int64)
    a = b = c = d = 0
    for i in range(n):
        rows[a] = i
        ag[b] = i
        ex[c] = i
        rv[d] = i
        checkout = agentic[i] >= 0
        a += platform[i] & (not checkout)
        b += checkout
        c += external[i]
        d += (not platform[i]) & (not external[i])
    return rows[:a], ag[:b], ex[:c], rv[:d]


@numba.njit(cache=True, nogil=True)
def outside_values(mu, net_rival, habit, habit_weight, intent, no_purchase_value):
    """Every session's utilities of the rival and of not buying, in one pass
    (:func:`sim.day.choice.decide`): ``mu * net_rival - habit_weight * habit`` and
    ``no_purchase_value - intent``, NumPy's operations in its order (its four passes
    and temporaries)."""
    n = mu.shape[0]
    v_rival = np.empty(n)
    v_none = np.empty(n)
    for i in range(n):
        v_rival[i] = mu[i] * net_rival[i] - habit_weight * habit[i]
        v_none[i] = no_purchase_value - intent[i]
    return v_rival, v_none


@numba.njit(cache=True, nogil=True)
def rival_or_nothing(rows, v_rival, habit, habit_weight, v_none, neg_shock, rival):
    """The choice of each session ``rows[i]`` in the rival channel between the rival
    (utility ``v_rival + habit_weight x habit``) and not buying (``v_none``), with the
    Gumbel shocks ``-neg_shock[0, i]`` and ``-neg_shock[1, i]`` (:func:`argmax_shocked`'s
    form): :func:`argmax_available` of the two (the first of equal values, a NaN counting
    as the largest); marks ``rival`` where the rival is chosen
    (:func:`sim.day.choice.decide`)."""
    for i in range(rows.shape[0]):
        # no branch on the choice, which goes either way
        s = rows[i]
        best = v_rival[s] + habit_weight * habit[s] - neg_shock[0, i]
        other = v_none[s] - neg_shock[1, i]
        chosen = np.isnan(best) | (not (np.isnan(other) | (other > best)))
        rival[s] = rival[s] | chosen


@numba.njit(cache=True, nogil=True)
def returning_needs(origin, cust, cat, intent, age, key, day, return_slot, new_key_slot,
                    persistence):  # fmt: skip
    """Yesterday's open needs that return today, in one pass (:func:`sim.day.needs.arrive`):
    need ``i`` returns when the uniform keyed by (``origin[i]``, ``day``, ``return_slot``)
    under ``key`` is below ``persistence``, with the new session key keyed by
    (``origin[i]``, ``day``, ``new_key_slot``) (``Keyed.uniform`` and ``Keyed.bits``).
    Returns the returning needs' ``(key, cust, cat, intent, origin, age + 1)`` in order."""
    n = origin.shape[0]
    new_key, back_cust, back_cat, back_intent, back_origin, back_age = _need_columns(
        n, cust, cat, intent, age.dtype
    )
    t = 0
    for i in range(n):
        h = _mix(_mix(key ^ origin[i]) ^ day)
        # written for every need, kept (the place taken) only for one that returns: no
        # branch on a draw that goes either way about as often
        new_key[t] = _mix(h ^ new_key_slot)
        back_cust[t] = cust[i]
        back_cat[t] = cat[i]
        back_intent[t] = intent[i]
        back_origin[t] = origin[i]
        back_age[t] = age[i] + 1
        t += 1 if _unit(_mix(h ^ return_slot)) < persistence else 0
    return (
        new_key[:t], back_cust[:t], back_cat[:t], back_intent[:t], back_origin[:t],
        back_age[:t],
    )  # fmt: skip
