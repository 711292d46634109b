"""A small market for the phase tests, built without the Mesa model.

A phase is a function of the market, today's sessions and ledger, and its
random stream; these helpers build the market (:func:`sim.day.setup.build_market`)
and run the phases that come before the one under test.
"""

from __future__ import annotations

import numpy as np
from conftest import small_config

from agents.assistant import Assistant
from agents.rival import RivalOffer
from sim.config import Config
from sim.day import assistant, channel, choice, needs, ranking, search_ads
from sim.day.setup import build_market
from sim.day.state import Ledger, Market, Sessions
from sim.rng import Streams

__all__ = ["assistant_agent", "market", "sessions_of", "through"]

#: The phases of a shopping day up to the purchase, in schedule order.
ORDER = ("needs", "channel", "consults", "search", "assistant", "choice")


def config(**changes: object) -> Config:
    """A 5,000-customer, 10-day config without the twin; ``section__key=value`` changes it.

    Customers consult the assistant about twenty times as readily as in the baseline
    (about a third of sessions instead of 1.5%), so that one day holds enough answers
    to test the assistant's mechanisms on."""
    base: dict[str, object] = {
        "run__n_customers": 5000,
        "run__days": 10,
        "attribution__counterfactual_twin": False,
        "customers__assistant_propensity_mean": 0.3,
    }
    return small_config(**{**base, **changes})


def market(seed: int = 3, **changes: object) -> tuple[Market, Streams]:
    """The market of day 0 with its shelf ranked, and the run's random streams."""
    cfg = config(**changes)
    streams = Streams(seed)
    m, _, _ = build_market(cfg, streams)
    m.shelf = ranking.rank(cfg, m.products, m.ads, m.category_price, streams.keyed("ranking"), 0)
    ranking.settle_selection(m, m.shelf)
    return m, streams


def assistant_agent(cfg: Config) -> Assistant:
    """The assistant (a Mesa agent) on the least model a Mesa agent needs."""
    import mesa

    return Assistant(mesa.Model(seed=1), cfg.assistant)


def sessions_of(m: Market, streams: Streams) -> Sessions:
    """Today's sessions as the needs phase draws them."""
    return needs.arrive(m.config, m.customers, m.n_categories, m.day, streams)


def through(phase: str, m: Market, streams: Streams, ledger: Ledger, **kw) -> Sessions:
    """Run the phases up to and including ``phase`` on day ``m.day``."""
    s = sessions_of(m, streams)
    rival = RivalOffer(
        np.full(m.n_categories, m.config.rival.price_index), m.config.rival.delivery_days, 0.0
    )
    step = ORDER.index(phase)
    if step >= 1:
        channel.choose(m, s, rival)
    if step >= 2:
        assistant.consults(m, s, streams.keyed("assistant"))
    if step >= 3:
        search_ads.search_and_auctions(
            m, s, ledger, streams.keyed("auction"), streams.keyed("clicks")
        )
    if step >= 4:
        agent = kw.get("agent") or assistant_agent(m.config)
        assistant.answer(m, s, agent, ledger, streams.keyed("assistant"))
    if step >= 5:
        choice.decide(m, s, ledger, streams.keyed("choice"), streams.keyed("external"))
    return s
