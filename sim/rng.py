"""Independent random streams, one per mechanism, from one root seed.

Every mechanism draws only from its own :class:`numpy.random.Generator`,
spawned from the run's root :class:`numpy.random.SeedSequence` with a fixed
spawn key per mechanism name. Switching a mechanism off therefore never
shifts the draws of another, which is what makes paired counterfactual runs
(common random numbers) precise. New mechanisms are appended to
:data:`STREAMS`, never inserted, so existing streams keep their keys.

Examples
--------
>>> s = Streams(42)
>>> s["needs"] is s["needs"]
True
>>> float(Streams(42)["needs"].random()) == float(Streams(42)["needs"].random())
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["STREAMS", "Streams"]

#: Mechanism names in spawn-key order (append only).
STREAMS: tuple[str, ...] = (
    "population",  # customer traits and regions at start
    "needs",  # need arrivals, categories and intent
    "channel",  # platform vs rival choice
    "search",  # examination depth and clicks
    "auction",  # predicted click-rate noise, pacing throttles
    "assistant",  # consults, estimate noise, ad recognition, discovery
    "choice",  # Gumbel shocks of the purchase choice
    "delivery",  # capacity order, reviews
    "prime",  # per-session Prime offers
    "sellers",  # initial sellers, pricing, fulfilment
    "entry",  # seller entry
    "advertisers",  # advertiser traits
    "logistics",  # network layout and stocking
    "rival",  # rival price noise
    "external",  # external shopping agents
    "geography",  # the map
    "prime_decisions",  # trial, join and renewal draws (offers are per session in "prime")
    "ranking",  # daily noise of organic scores
)


class Streams:
    """Named generators spawned from one root seed.

    Parameters
    ----------
    seed
        The run's root seed (a non-negative integer).
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._gens: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._gens.get(name)
        if gen is None:
            if name not in STREAMS:
                raise KeyError(f"unknown random stream {name!r}; known: {', '.join(STREAMS)}")
            child = np.random.SeedSequence(self.seed, spawn_key=(STREAMS.index(name),))
            gen = self._gens[name] = np.random.Generator(np.random.PCG64(child))
        return gen

    def mesa_seed(self) -> int:
        """A seed for Mesa's own ``model.random`` / ``model.rng`` derived from the root."""
        return int(
            np.random.SeedSequence(self.seed, spawn_key=(len(STREAMS) + 1000,)).generate_state(1)[0]
        )
