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

import numpy as np

from agents.customer import CustomerPopulation
from sim.config import Config
from sim.day.state import OpenNeeds, Sessions
from sim.rng import Streams

__all__ = ["arrive", "left_open"]

# slots of the session's own draws in the ``needs`` stream
_CATEGORY, _INTENT = 0, 1
# slots of the ``journeys`` stream: whether a need returns, the returning session's key
_RETURN, _NEW_KEY = 0, 1


def arrive(
    cfg: Config,
    customers: CustomerPopulation,
    n_categories: int,
    day: int,
    streams: Streams,
    open_needs: OpenNeeds | None = None,
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
        ``channel``, ``examination``, ``clicks``, ``prime_offer``, ``choice``,
        ``journeys``).
    open_needs
        Yesterday's unmet needs (:func:`left_open`); each returns today with
        chance ``customers.need_persistence`` (keyed by its first key and today).
    """
    pop = customers
    need = streams.keyed("needs")
    count = need.poisson(pop.need_rate, day, np.arange(pop.n))
    who = np.flatnonzero(count)
    n_of = count[who]
    cust = np.repeat(who, n_of)
    first = np.repeat(np.cumsum(n_of) - n_of, n_of)
    ordinal = np.arange(len(cust)) - first
    key = streams.keyed("session").bits(day, cust, ordinal)
    order = np.argsort(key, kind="stable")
    cust, key = cust[order], key[order]
    m = len(cust)
    u_cat = need.uniform(key, _CATEGORY)
    cat = (u_cat[:, None] > pop.profile_cdf[pop.profile[cust]]).sum(axis=1)
    cat = np.minimum(cat, n_categories - 1)
    sd = cfg.customers.intent_sd
    intent = sd * need.normal(key, _INTENT) if sd > 0 else np.zeros(m)
    origin, age = key, np.zeros(m, dtype=np.int64)
    cust, cat = cust.astype(np.int64), cat.astype(np.int64)
    if open_needs is not None and len(open_needs.cust):
        o = open_needs
        journeys = streams.keyed("journeys")
        back = journeys.uniform(o.origin, day, _RETURN) < cfg.customers.need_persistence
        back_key = journeys.bits(o.origin[back], day, _NEW_KEY)
        key = np.concatenate([key, back_key])
        origin = np.concatenate([origin, o.origin[back]])
        cust = np.concatenate([cust, o.cust[back]])
        cat = np.concatenate([cat, o.cat[back]])
        intent = np.concatenate([intent, o.intent[back]])
        age = np.concatenate([age, o.age[back] + 1])
        order = np.argsort(key, kind="stable")
        key, origin, cust, cat, intent, age = (
            x[order] for x in (key, origin, cust, cat, intent, age)
        )
        m = len(key)
    return Sessions(
        key=key,
        cust=cust,
        cat=cat,
        intent=intent,
        u_channel=streams.keyed("channel").uniform(key),
        u_depth=streams.keyed("examination").uniform(key),
        u_offer=streams.keyed("prime_offer").uniform(key),
        n=m,
        age=age,
        origin=origin,
    )


def left_open(cfg: Config, s: Sessions) -> OpenNeeds:
    """Today's unmet needs that may return tomorrow (none when needs never persist)."""
    c = cfg.customers
    if c.need_persistence <= 0.0 or c.need_max_days <= 1:
        return OpenNeeds.none()
    unmet = np.flatnonzero((s.product < 0) & ~s.rival & (s.age + 1 < c.need_max_days))
    return OpenNeeds(s.origin[unmet], s.cust[unmet], s.cat[unmet], s.intent[unmet], s.age[unmet])
