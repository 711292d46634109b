"""Phase 1: needs arrive — who needs what today, and how badly.

The day's number of needs is Poisson with the population's total need rate;
each need picks its customer in proportion to the customer's own rate and a
category from the customer's taste profile, with a normal purchase intent.
The same phase draws the session's uniforms and Gumbel shocks for the later
phases (channel, examination, clicks, Prime offer, choice), each from its own
stream, so every later phase sees the same sessions whatever the policy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from agents.customer import CustomerPopulation
from sim.config import Config
from sim.day.state import N_PICKS, Sessions

__all__ = ["arrive"]

#: extra Gumbel columns beyond the page and picks: the rival and not buying
_OUTSIDE = 2


def arrive(
    cfg: Config,
    customers: CustomerPopulation,
    n_categories: int,
    stream: Callable[[str], np.random.Generator],
) -> Sessions:
    """Draw today's sessions.

    Parameters
    ----------
    cfg
        The config in force.
    customers
        The population (``need_cdf``, ``profile``, ``profile_cdf``).
    n_categories
        Number of product categories.
    stream
        The run's streams by mechanism name (``needs``, ``channel``,
        ``search``, ``prime``, ``choice``).
    """
    pop = customers
    g = stream("needs")
    total = float(pop.need_cdf[-1])
    m = int(g.poisson(total))
    # sorted queries make the search cache-friendly; a permutation restores a random
    # order of sessions through the day (it decides who shops before budgets run out)
    u = np.sort(g.random(m)) * total
    cust = np.minimum(np.searchsorted(pop.need_cdf, u, side="right"), pop.n - 1)
    cust = cust[g.permutation(m)]
    u_cat = g.random(m)
    cat = (u_cat[:, None] > pop.profile_cdf[pop.profile[cust]]).sum(axis=1)
    cat = np.minimum(cat, n_categories - 1)
    sd = cfg.customers.intent_sd
    intent = g.normal(0.0, sd, m) if sd > 0 else np.zeros(m)
    k = cfg.search.page_slots
    return Sessions(
        cust=cust.astype(np.int64),
        cat=cat.astype(np.int64),
        intent=intent,
        u_channel=stream("channel").random(m),
        u_depth=stream("search").random(m),
        u_click=stream("search").random((m, k)),
        u_offer=stream("prime").random(m),
        gumbel=stream("choice").gumbel(size=(m, k + N_PICKS + _OUTSIDE)),
        n=m,
    )
