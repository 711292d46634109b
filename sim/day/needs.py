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
"""

from __future__ import annotations

import numpy as np

from agents.customer import CustomerPopulation
from sim.config import Config
from sim.day.state import Sessions
from sim.rng import Streams

__all__ = ["arrive"]

# slots of the session's own draws in the ``needs`` stream
_CATEGORY, _INTENT = 0, 1


def arrive(
    cfg: Config, customers: CustomerPopulation, n_categories: int, day: int, streams: Streams
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
        ``channel``, ``examination``, ``clicks``, ``prime_offer``, ``choice``).
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
    return Sessions(
        key=key,
        cust=cust.astype(np.int64),
        cat=cat.astype(np.int64),
        intent=intent,
        u_channel=streams.keyed("channel").uniform(key),
        u_depth=streams.keyed("examination").uniform(key),
        u_offer=streams.keyed("prime_offer").uniform(key),
        n=m,
    )
