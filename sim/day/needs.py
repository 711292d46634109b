"""Phase 1: needs arrive — who needs what today, and how badly.

Each customer's number of needs today is Poisson with the customer's own
rate, drawn by identity (day, customer); each need is a session whose
identity ``key`` is a hash of (day, customer, its ordinal that day). The
session's category (from the customer's taste profile), purchase intent
(normal) and the uniforms of channel choice, examination depth and the Prime
offer are drawn here from that key, each in its own stream (:mod:`sim.rng`);
later phases key their draws by it too (a click and a choice shock by session
and product). So a session meets the same numbers in
every run of the seed, whatever any policy did, and the day's sessions are
shared by every scenario. Sessions run through the day in the order of their
keys (it decides who shops before budgets run out).

Shopping journeys: a need that ends the day unmet (nothing bought, on the
platform or at the rival) returns the next day with chance
``customers.need_persistence``, with its category and intent, until it is
``customers.need_max_days`` old (:func:`left_open`). The returning session's
key is a hash of the need's first key and the day (stream ``journeys``), so
it draws afresh from every stream, by identity. Fresh needs are shared by
every scenario; returning ones depend on what the customer did yesterday.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from agents.customer import CustomerPopulation
from sim import kernels
from sim.config import Config
from sim.day.state import OpenNeeds, Sessions
from sim.rng import POISSON_NORMAL_ABOVE, Streams, as_words

__all__ = ["FreshNeeds", "arrive", "fresh", "left_open"]

# slots of the session's own draws in the ``needs`` stream
_CATEGORY, _INTENT = 0, 1
# slots of the ``journeys`` stream: whether a need returns, the returning session's key
_RETURN, _NEW_KEY = 0, 1
# the sessions' own uniforms and their customers' traits (:func:`_session_draws`)
_DRAWS = ("u_channel", "u_depth", "u_offer", "price_sensitivity", "quality_taste",
          "delay_cost", "region")  # fmt: skip


@dataclass(frozen=True)
class FreshNeeds:
    """Today's fresh needs, sorted by session key, with their categories and intents.

    They depend only on the seed, the day and the population's fixed traits (need
    rates and taste profiles), so a run and its counterfactual twin share them
    (:func:`fresh`); returning needs are added per run, and the sessions' other draws
    and traits are drawn for fresh and returning sessions together (:func:`arrive`)."""

    day: int
    key: NDArray[np.uint64]
    cust: NDArray[np.int64]
    cat: NDArray[np.int64]
    intent: NDArray[np.float64]


def fresh(
    cfg: Config, customers: CustomerPopulation, n_categories: int, day: int, streams: Streams
) -> FreshNeeds:
    """Draw today's fresh needs (keyed streams ``needs`` and ``session``)."""
    pop = customers
    need = streams.keyed("needs")
    # Poisson counts keyed by (day, customer): need.poisson(pop.need_rate, day, range(n));
    # each need's session keyed by (day, customer, ordinal): one compiled pass
    lam = np.ascontiguousarray(pop.need_rate, dtype=np.float64)
    cust, key = kernels.need_sessions(
        need.key, as_words(day), lam, pop.no_need_chance(), POISSON_NORMAL_ABOVE,
        streams.keyed("session").key,
    )  # fmt: skip
    order = _order_by_key(key)
    cust, key = cust[order], key[order]
    # the first category whose cumulative share in the customer's profile reaches the
    # session's uniform, and the intent (normal): one compiled pass
    cat, intent = kernels.need_draws(
        key, cust, need.key, np.uint64(_CATEGORY), np.uint64(_INTENT), pop.profile,
        pop.profile_cdf, n_categories, float(cfg.customers.intent_sd),
    )  # fmt: skip
    return FreshNeeds(day=day, key=key, cust=cust, cat=cat, intent=intent)


def _session_draws(
    streams: Streams, pop: CustomerPopulation, key: NDArray[np.uint64], cust: NDArray[np.int64]
) -> dict[str, NDArray]:
    """The sessions' own uniforms (streams ``channel``, ``examination``, ``prime_offer``)
    and their customers' fixed traits, in session order (one compiled pass): functions
    of each session's key and customer alone, so drawn once the day's sessions are
    merged rather than merged column by column."""
    draws = kernels.session_draws(
        key, cust, streams.keyed("channel").key, streams.keyed("examination").key,
        streams.keyed("prime_offer").key, pop.price_sensitivity, pop.quality_taste,
        pop.delay_cost, pop.region,
    )  # fmt: skip
    return dict(zip(_DRAWS, draws, strict=True))


def _merged_order(fresh_key: NDArray[np.uint64], back_key: NDArray[np.uint64]) -> NDArray:
    """:func:`_order_by_key` of ``concatenate([fresh_key, back_key])``: the fresh keys
    are in order already, so the returning ones are sorted and merged in."""
    back_order = _order_by_key(back_key)
    order, ok = kernels.merge_order(fresh_key, back_key[back_order], back_order)
    return order if ok else _order_by_key(np.concatenate([fresh_key, back_key]))


def _order_by_key(key: NDArray[np.uint64]) -> NDArray[np.intp]:
    """The stable ascending order of ``key`` (``np.argsort(key, kind="stable")``).

    Each key's leading bits with its index in the low bits (as many as the indices
    need) are sorted as plain words, a sort several times faster than an ``argsort``:
    when no two keys share those leading bits (hashes almost never do, which is
    checked) their order is the keys' own, and the low bits are the order. Otherwise
    NumPy's default ``argsort``, faster than its stable sort on 64-bit words, gives the
    same order whenever no two keys are equal, which is checked; equal keys fall back to
    the stable sort."""
    n = len(key)
    if n > 1 and key.dtype == np.uint64:
        low = np.uint64((1 << (n - 1).bit_length()) - 1)
        packed = np.bitwise_and(key, ~low)
        packed |= np.arange(n, dtype=np.uint64)
        packed.sort()
        # neighbours differ above the index bits: no two keys share their leading bits
        if ((packed[1:] ^ packed[:-1]) > low).all():
            packed &= low
            return packed.view(np.int64)
    order = np.argsort(key)
    ordered = key[order]
    if len(key) > 1 and (ordered[1:] == ordered[:-1]).any():
        order = np.argsort(key, kind="stable")
    return order


def arrive(
    cfg: Config,
    customers: CustomerPopulation,
    n_categories: int,
    day: int,
    streams: Streams,
    open_needs: OpenNeeds | None = None,
    fresh_needs: FreshNeeds | None = None,
) -> Sessions:
    """Draw today's sessions.

    Parameters
    ----------
    cfg
        The config in force.
    customers
        The population (``need_rate``, ``profile``, ``profile_cdf``).
    n_categories
        Number of product categories.
    day
        Today.
    streams
        The run's random numbers (keyed streams ``needs``, ``session``,
        ``channel``, ``examination``, ``prime_offer``, ``journeys``).
    open_needs
        Yesterday's unmet needs (:func:`left_open`); each returns today with
        chance ``customers.need_persistence`` (keyed by its first key and today).
    fresh_needs
        Today's fresh needs when already drawn (by the twin, :func:`fresh`);
        drawn here otherwise.
    """
    f = (
        fresh_needs
        if fresh_needs is not None
        else fresh(cfg, customers, n_categories, day, streams)
    )
    if f.day != day:
        raise ValueError(f"fresh needs of day {f.day} offered on day {day}")
    if open_needs is None or not len(open_needs.cust):
        cols: dict[str, NDArray[Any]] = {
            "key": f.key,
            "cust": f.cust,
            "cat": f.cat,
            "intent": f.intent,
            "origin": f.key,
            "age": np.zeros(len(f.key), dtype=np.int64),
        }
        draws = _session_draws(streams, customers, f.key, f.cust)
        return Sessions(n=len(f.key), **cols, **draws)
    o = open_needs
    # the needs that return (keyed by their first key and today) with their new keys
    back_key, back_cust, back_cat, back_intent, back_origin, back_age = kernels.returning_needs(
        o.origin, o.cust, o.cat, o.intent, o.age, streams.keyed("journeys").key,
        as_words(day), np.uint64(_RETURN), np.uint64(_NEW_KEY),
        float(cfg.customers.need_persistence),
    )  # fmt: skip
    # fresh and returning sessions merged in key order (the returning ones sorted, then
    # merged into the fresh ones column by column), and the sessions' own draws and
    # traits: one compiled pass
    draw_keys = (
        streams.keyed("channel").key, streams.keyed("examination").key,
        streams.keyed("prime_offer").key, customers.price_sensitivity, customers.quality_taste,
        customers.delay_cost, customers.region,
    )  # fmt: skip
    parts = (f.cust, back_cust, f.cat, back_cat, f.intent, back_intent, back_origin, back_age)
    ok, columns = kernels.merged_needs(f.key, back_key, _order_by_key(back_key), *parts, *draw_keys)
    if not ok:  # no returning needs, or fresh keys out of order: the merge by an order
        order = _merged_order(f.key, back_key)
        columns = kernels.merged_sessions(order, f.key, back_key, *parts, *draw_keys)
    names = ("key", "cust", "cat", "intent", "origin", "age", *_DRAWS)
    return Sessions(n=len(columns[0]), **dict(zip(names, columns, strict=True)))


def left_open(cfg: Config, s: Sessions) -> OpenNeeds:
    """Today's unmet needs that may return tomorrow (none when needs never persist)."""
    c = cfg.customers
    if c.need_persistence <= 0.0 or c.need_max_days <= 1:
        return OpenNeeds.none()
    unmet = np.flatnonzero((s.product < 0) & ~s.rival & (s.age + 1 < c.need_max_days))
    return OpenNeeds(s.origin[unmet], s.cust[unmet], s.cat[unmet], s.intent[unmet], s.age[unmet])
