"""Phase 3: search and sponsored-product auctions — results pages, examination, clicks.

Platform sessions run in ``ads.batches_per_day`` batches through the day
(:func:`batches`), interleaved with the assistant's answers to the same batch
(:func:`sim.day.placements.search_and_answer`), so campaigns that exhaust their
budget in either inventory drop out of both for the rest of the day. Per batch:
ad retrieval keeps the top campaigns per category (:func:`advertiser_table`);
each query runs its own auction (the rule of :func:`sim.auctions.allocate`) with
pacing throttles and noisy predicted click rates; the page interleaves organic
results and winning ads (the rule of :func:`sim.search.build_page`); customers examine a
cascade depth and click by how good an item looks (with a trust bias for the
top position); a customer who consults the assistant examines
``assistant.attention_cost`` less of the page. Ad clicks are charged to
campaigns; clicked items enter the session's ``PAGE`` block of considered
items. A batch runs in three compiled passes over its queries
(:func:`sim.kernels.search_bids`, :func:`sim.kernels.search_pages`,
:func:`sim.kernels.search_clicks`), with NumPy's ``exp`` and ``tanh`` between
them (numba's can differ in the last bit), equal to the NumPy composition of
those mechanisms (``tests/test_kernels.py``).

With a counterfactual twin (the assistant off, the same seed, stepped first) the
bidders' click-rate normals are shared (:class:`SharedNormals`): a normal is keyed by
(session, quality slot, campaign) in the auction stream, so the twin records its
queries' session keys with their bidders' campaign keys and normals, and the model
matches its queries to the twin's by session key (both in ascending key order: one
forward pointer) and takes the normal of each bidder the twin's query also had,
working out SciPy's ``ndtri`` only for the others. The numbers are the same as
drawing every one (``tests/test_model.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sim import kernels, search
from sim.auctions import SNAP_RTOL, format_code
from sim.day.offers import session_value_inputs
from sim.day.state import N_PICKS, PAGE, Ledger, Market, Sessions
from sim.rng import POISSON_NORMAL_ABOVE, Keyed, as_words

__all__ = [
    "SharedNormals",
    "advertiser_table",
    "batches",
    "mean_patience",
    "patience_terms",
    "retrieval_order",
    "search_and_auctions",
    "search_batch",
    "start_search",
]

#: The "top of the page" whose sponsored share is reported (F5).
TOP_SLOTS = 12
# slots of the auction stream's draws
_PACING, _QUALITY = 0, 1
# slot of the clicks stream's draws of the market's clicks on an ad impression
_MARKET_CLICKS = 1


@dataclass
class SharedNormals:
    """The click-rate normals of a day's auctions, written by a counterfactual twin and
    read by the model it is the twin of (``Market.shared_normals``, the same object in
    both; ``Market.writes_normals`` in the twin).

    A bidder's normal is keyed by (session, quality slot, campaign) in the auction
    stream, so a session both models have (most of them: fresh needs are the same) draws
    the very same normal for a campaign both retrieve and both see bid; the model takes
    it from here instead of working out SciPy's ``ndtri`` again (the same bits). The
    twin steps first and writes, query by query in its batches' order (ascending session
    key): ``row_id[:counts[0]]`` the queries' session keys, ``start`` their first bidder,
    ``campaign_key[:counts[1]]`` and ``normal`` the bidders' campaign keys and standard
    normals. The model reads them only when they are today's (``day``) and were drawn
    with its auction stream's key (``key``: the same seed); otherwise it draws every
    normal itself. ``place`` is the model's pointer into the twin's queries (a merge
    join: its own queries are in ascending key order too) and the normals it took.
    """

    day: int = -1
    key: int = -1
    counts: NDArray[np.int64] = field(default_factory=lambda: np.zeros(2, np.int64))
    row_id: NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, np.uint64))
    start: NDArray[np.int64] = field(default_factory=lambda: np.zeros(1, np.int64))
    campaign_key: NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, np.uint64))
    normal: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    place: NDArray[np.int64] = field(default_factory=lambda: np.zeros(3, np.int64))

    def room(self, n_queries: int, n_bidders: int) -> None:
        """Make room for ``n_queries`` more queries and up to ``n_bidders`` more
        bidders (kept across days, doubled when short)."""
        q, b = int(self.counts[0]), int(self.counts[1])
        if len(self.row_id) < q + n_queries:
            size = max(q + n_queries, 2 * len(self.row_id))
            self.row_id = _grown(self.row_id, size, q)
            self.start = _grown(self.start, size + 1, q + 1)
        if len(self.normal) < b + n_bidders:
            size = max(b + n_bidders, 2 * len(self.normal))
            self.campaign_key = _grown(self.campaign_key, size, b)
            self.normal = _grown(self.normal, size, b)


def _grown(a: NDArray, size: int, used: int) -> NDArray:
    """A ``size``-long array of ``a``'s type whose first ``used`` entries are ``a``'s."""
    out = np.empty(size, dtype=a.dtype)
    out[:used] = a[:used]
    return out


#: what search_bids is handed when nothing is shared (it reads and writes none of it)
_NO_SHARE = SharedNormals()


def _share_mode(m: Market, key: np.uint64) -> int:
    """How this batch shares the auction normals (:class:`SharedNormals`): 0 not at all,
    1 the twin writes them, 2 the model reads today's from its twin (same stream key)."""
    shared = m.shared_normals
    if shared is None:
        return 0
    if m.writes_normals:
        if shared.day != m.day:
            shared.day, shared.key = m.day, int(key)
            shared.counts[:] = 0
        return 1
    if shared.day == m.day and shared.key == int(key) and shared.counts[0] > 0:
        return 2
    return 0


def patience_terms(m: Market) -> tuple[float, NDArray[np.float64]]:
    """The customers' mean patience and the log of each one's patience clipped to
    ``[1e-12, 1 - 1e-12]`` (the divisor of :func:`sim.search.examine_depth`).

    Patience is a fixed trait, set when the population is drawn and never written, so
    both are worked out once for the population's column (NumPy's ``mean`` and ``log``,
    the numbers of working them out every day) and kept in ``m.patience_terms`` while
    the column is the same array."""
    patience = m.customers.patience
    cached = m.patience_terms
    if cached is None or cached[0] is not patience:
        log_p = np.log(np.clip(patience, 1e-12, 1.0 - 1e-12))
        cached = m.patience_terms = (patience, float(np.mean(patience)), log_p)
    return cached[1], cached[2]


def mean_patience(m: Market) -> float:
    """The customers' mean patience, which sets the click rate of each sponsored slot
    (a fixed trait: :func:`patience_terms`)."""
    return patience_terms(m)[0]


def retrieval_order(
    m: Market, eligible: NDArray[np.bool_], score: NDArray
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Rows of the ``eligible`` campaigns by category, then expected rank score (highest
    first), then row, with their categories: sorted once and kept in ``m.ad_retrieval``
    while eligibility and scores stay as they were (within a day, across its batches)."""
    cached = m.ad_retrieval
    if (
        cached is not None
        and np.array_equal(cached[0], eligible)
        and np.array_equal(cached[1], score)
    ):
        return cached[2], cached[3]
    rows = np.flatnonzero(eligible)
    cats = m.ads.col("category")[rows].astype(np.int64)
    order = np.lexsort((rows, -score[rows], cats))
    m.ad_retrieval = (eligible.copy(), score.copy(), rows[order], cats[order])
    return rows[order], cats[order]


def advertiser_table(
    ranked: tuple[NDArray[np.int64], NDArray[np.int64]],
    live: NDArray[np.bool_],
    n_categories: int,
    width: int,
) -> NDArray[np.int64]:
    """(n_categories, width) advertiser rows per category that enter its auctions, -1 padded.

    Ad retrieval: the ``width`` live campaigns with the highest expected rank score
    (bid x rating) in each category, ties to the lower row. ``ranked`` is the
    :func:`retrieval_order` of a superset of ``live`` (the day's eligible campaigns):
    a subset keeps its order. The auction itself then runs among them per query.
    """
    out = np.full((n_categories, width), -1, dtype=np.int64)
    rows, cats = ranked
    keep = live[rows]
    rows, cats = rows[keep], cats[keep]
    if len(rows) == 0:
        return out
    counts = np.bincount(cats, minlength=n_categories)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    col = np.arange(len(rows)) - start[cats]
    keep = col < width
    out[cats[keep], col[keep]] = rows[keep]
    return out


def batches(m: Market, s: Sessions) -> list[NDArray[np.int64]]:
    """Today's sessions in ``ads.batches_per_day`` batches, by their place in the day.

    A session's batch is its place among every session (on the platform or not), so
    it meets the same budgets whatever other sessions did. Search and the assistant's
    answers run batch by batch (:func:`sim.day.placements.search_and_answer`): both
    inventories draw on one budget per campaign, and a campaign that runs out drops
    out of both from the next batch on.
    """
    n_batches = m.config.ads.batches_per_day
    # session i is in batch (i * n_batches) // n: batch b runs from the first i with
    # i * n_batches >= b * n, so each batch is a range of rows found from its edges
    edges = np.minimum(-(-np.arange(n_batches + 1) * max(s.n, 1) // n_batches), s.n)
    return [np.arange(edges[b], edges[b + 1]) for b in range(n_batches)]


def start_search(m: Market, s: Sessions, ledger: Ledger) -> None:
    """Empty the considered-item blocks of ``s`` and count today's platform sessions.

    Products and campaigns are numbered in the narrowest of 16, 32 and 64 bits that
    fits (16 in practice): the two blocks of rows are session-sized and written and read
    every day, so fewer bytes are less memory traffic; the numbers are the same."""
    width = m.config.search.page_slots + N_PICKS
    s.consider = np.full((s.n, width), -1, dtype=_row_type(len(m.products)))
    s.sponsored = np.zeros((s.n, width), dtype=bool)
    s.ad_row = np.full((s.n, width), -1, dtype=_row_type(len(m.ads)))
    s.advice = np.zeros((s.n, width), dtype=bool)
    s.paid = np.zeros((s.n, width), dtype=bool)
    s.recognised = np.zeros((s.n, width), dtype=bool)
    ledger.platform_sessions = int(np.count_nonzero(s.platform))
    if m.shared_normals is not None and not m.writes_normals:
        # the model's merge with the twin's queries starts from the day's first
        m.shared_normals.place[[0, 2]] = 0


def _row_type(n_rows: int) -> type[np.signedinteger]:
    """The narrowest of 16, 32 and 64-bit integers that numbers ``n_rows`` rows and -1."""
    if n_rows < 2**15:
        return np.int16
    return np.int32 if n_rows < 2**31 else np.int64


def search_and_auctions(
    m: Market, s: Sessions, ledger: Ledger, draws: Keyed, clicks: Keyed
) -> None:
    """Search alone, every batch in turn (:func:`start_search`, :func:`search_batch`)."""
    start_search(m, s, ledger)
    for rows in batches(m, s):
        m.ads.open_batch()
        search_batch(m, s, rows, ledger, draws, clicks)
        m.ads.close_batch()


def search_batch(
    m: Market,
    s: Sessions,
    batch: NDArray[np.int64],
    ledger: Ledger,
    draws: Keyed,
    clicks: Keyed,
) -> None:
    """Fill the page block of the platform sessions in ``batch`` and charge ad clicks.

    Parameters
    ----------
    m
        The market (campaign spend and clicks are updated in ``m.ads``).
    s
        Today's sessions after channel choice (:func:`start_search` run).
    batch
        Session rows of this batch (:func:`batches`); its platform sessions search.
    ledger
        Today's totals (impressions, clicks, ad revenue from search).
    draws
        The auction stream: a campaign's pacing throttle and click-rate noise
        in a session are keyed by (session, campaign).
    clicks
        The clicks stream, keyed by (session, product): an item keeps its click
        draw wherever it lands on the page.
    """
    c = m.config
    sh = m.shelf
    assert sh is not None
    k = c.search.page_slots
    rows = kernels.rows_where(batch, s.platform)
    if len(rows) == 0:
        return
    mean_p, log_patience = patience_terms(m)
    pos = np.asarray(c.search.sponsored_positions, dtype=np.int64)
    slot_ctr = c.customers.click_base * mean_p ** pos.astype(float)
    ads = m.ads
    bid_cents, product = ads.col("bid_cents"), ads.col("product")
    pacing = ads.col("pacing")
    relevance = sh.rating[np.maximum(product, 0)]
    eligible = (
        ads.col("active")
        & (relevance >= c.ads.min_relevance)
        & (bid_cents >= max(c.ads.reserve_cents, 1))
    )
    expected = bid_cents * relevance
    ci = s.cust[rows]
    cat = s.cat[rows]
    who = s.key[rows]
    # campaigns out of budget at the batch's start drop out of the rest of the day
    live = eligible & ads.live()
    ranked = retrieval_order(m, eligible, expected)
    table = advertiser_table(ranked, live, m.n_categories, c.ads.candidates_per_query)
    # the retrieved campaigns' pacing throttles and bids, and click-rate noise (times its
    # sd) only for the campaigns that bid (one that does not never wins, so its quality
    # is never read)
    # (the twin's normals shared: SharedNormals)
    share = _share_mode(m, draws.key)
    shared = m.shared_normals if share else _NO_SHARE
    if share == 1:
        # search_bids writes each retrieved campaign's key before its pacing draw: at
        # most a category's retrieved campaigns per query, not the table's width
        retrieved = int(np.count_nonzero(table >= 0, axis=1).max(initial=0))
        shared.room(len(rows), len(rows) * retrieved)
    place = shared.place if share == 2 else shared.counts
    if share == 2:
        place[1] = shared.counts[0]
    start, col, bids, noise, rel, log_p = kernels.search_bids(
        cat, table, who, draws.key, np.uint64(_PACING), np.uint64(_QUALITY),
        as_words(ads.col("key")), pacing, bid_cents, relevance, float(c.ads.quality_noise_sd),
        ci, log_patience, share, shared.row_id, shared.start, shared.campaign_key,
        shared.normal, place,
    )  # fmt: skip
    # the predicted click rates are rel x exp(sd x noise): NumPy's exp here, in place, and
    # the product with rel in search_pages
    noise_exp = np.exp(noise, out=noise)
    # examine_depth's logs of the depth uniforms and of the patience (kept per customer,
    # gathered for the queries in search_bids' pass)
    log_u = np.log(np.clip(s.u_depth[rows], 1e-300, 1.0))
    # each query's auction (sim.auctions.allocate), page (sim.search.build_page) and
    # depth (sim.search.examine_depth; a customer who reads the assistant's answer gives
    # the page less attention, and a placebo whose answers do not enter choice is not
    # read, so costs none), and only the examined items valued: how good an item looks
    # against not buying at average intent (the need's own intent decides whether a
    # click ends in a sale), halved for binary_logit
    page, is_sp, pos_ad, pos_price, depth, half_appeal, ok = kernels.search_pages(
        start, col, bids, noise_exp, rel, cat, rows, log_u, log_p, s.consult,
        1.0 - c.assistant.attention_cost, bool(c.assistant.answers_enter_choice), table,
        product, slot_ctr, int(c.ads.reserve_cents), format_code(c.ads.format), SNAP_RTOL,
        sh.ranked, search.slot_of_position(pos, k), s.price_sensitivity,
        float(c.customers.no_purchase_value), float(c.search.top_position_trust),
        m.category_price.astype(np.float64), *session_value_inputs(m, s),
    )  # fmt: skip
    if not ok:
        raise ValueError("bids * quality overflows float64; bids or quality are too large")
    # an examined item keeps its click draw wherever it lands on the page; its click
    # probability (sim.search.click_probability) from NumPy's tanh, finished in the kernel
    tanh_half = np.tanh(half_appeal, out=half_appeal)
    charged, market_clicks, cents, counts = kernels.search_clicks(
        page, is_sp, pos_ad, pos_price, depth, tanh_half, 2.0 * c.customers.click_base, who,
        clicks.key, as_words(m.products.col("key")), rows, s.consider, s.sponsored, s.ad_row,
        PAGE.start, TOP_SLOTS, m.weight, np.uint64(_MARKET_CLICKS), POISSON_NORMAL_ABOVE,
    )  # fmt: skip
    spent = ads.charge(charged, market_clicks, cents)
    ledger.ad_clicks += float(counts[6])
    ledger.ad_revenue_search_cents += float(spent.sum())
    impressions, sponsored_impressions, n_clicks, clicks_top, top_sponsored, top_slots, _ = (
        counts.tolist()
    )
    ledger.impressions += float(impressions)
    ledger.sponsored_impressions += float(sponsored_impressions)
    ledger.clicks += float(n_clicks)
    ledger.clicks_top += float(clicks_top)
    ledger.top12_sponsored += float(top_sponsored)
    ledger.top12_slots += float(top_slots)
