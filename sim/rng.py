"""Random numbers by identity: every draw is a pure function of what it is for.

A paired comparison (assistant on and off, labelled and blended ads, the
counterfactual twin) is only as precise as its common random numbers. A
sequential generator cannot give them: once one mechanism draws a different
number of values, every later draw of its stream shifts. So the day's draws
are counter-based (in the sense of Random123's Philox and Threefry): a draw is
a keyed hash of its identity,

    draw = mix(... mix(mix(key(seed, stream) ^ id_1) ^ id_2) ... ^ id_k)

where ``key(seed, stream)`` comes from the run's root
:class:`numpy.random.SeedSequence` and the stream's name, ``mix`` is the
splitmix64 finaliser (a bijection of 64-bit words with full avalanche), and
``id_1 ... id_k`` name the draw: for example (day, customer) for a
customer's needs, (session, page position) for a click, (product, day) for a
ranking shock. Customer 17's need in category 3 on day 40 then meets the same
numbers in every run of the seed, whatever else happened; a draw never
depends on how many draws other entities made.

:class:`Keyed` evaluates such draws for arrays of identities at once (numpy
broadcasting) as uniforms on (0, 1), standard normals (inverse CDF), Gumbel
and Poisson variates (inverse CDF; normal approximation above
:data:`POISSON_NORMAL_ABOVE`). :class:`Streams` hands out one :class:`Keyed`
per stream name (:meth:`Streams.keyed`), and keeps classic sequential
generators (``streams[name]``) for the draws that build the world on day 0
(the population's traits), which no policy can change. The market's structure
(the map, the taste profiles) is not the run's: :func:`structure_stream` draws
it from ``market.structure_seed``, the same in every run of the market.

Examples
--------
>>> k = Streams(42).keyed("needs")
>>> bool(k.uniform(3, 17) == Streams(42).keyed("needs").uniform(3, 17))
True
>>> u = k.uniform(3, np.arange(5))
>>> bool(u[2] == k.uniform(3, 2)), bool((u > 0).all() and (u < 1).all())
(True, True)
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

from sim import kernels

__all__ = [
    "KEYED",
    "POISSON_NORMAL_ABOVE",
    "SEQUENTIAL",
    "STRUCTURE",
    "Keyed",
    "Streams",
    "as_words",
    "lognormal_mean_one",
    "mix64",
    "poisson_quantile",
    "structure_stream",
]

#: Streams of sequential generators, for the world built on day 0 (append only:
#: a name's spawn key is its position).
SEQUENTIAL: tuple[str, ...] = (
    "population",  # customer traits and regions at start
    "needs",  # (unused: the needs are keyed) kept so later keys do not move
    "channel",
    "search",
    "auction",
    "assistant",
    "choice",
    "delivery",
    "prime",
    "sellers",  # (unused: category prices are quantiles) kept so later keys do not move
    "entry",
    "advertisers",
    "logistics",
    "rival",
    "external",
    "geography",  # (unused: the map is the market's structure) kept so keys do not move
)

#: Sequential streams of the market's structure, drawn from ``market.structure_seed``
#: instead of the run's seed, so that every run of a market shares them (append only).
STRUCTURE: tuple[str, ...] = (
    "geography",  # the map: metro centres
    "tastes",  # the category mix of each taste profile
)

#: Streams drawn by identity, with the identity each draw is keyed by.
KEYED: dict[str, str] = {
    "needs": "(day, customer) for the day's count; (session, slot) for category and intent",
    "session": "(day, customer, ordinal of the need that day): the session's own key",
    "journeys": "(need's first session, day): whether an unmet need returns; its new key",
    "channel": "(session): platform, rival or agent",
    "examination": "(session): how deep the results page is read",
    "clicks": "(session, product): whether an examined item is clicked",
    "prime_offer": "(session): whether a non-member visit shows the Prime offer",
    "choice": "(session, product or outside option): Gumbel shocks of the choice",
    "auction": "(session, slot, campaign): pacing throttle and click-rate noise",
    "assistant": "(session, slot[, product or pick slot]): consult, estimates, recognition",
    "external": "(session, product): an external agent's estimate noise",
    "delivery": "(session of the order, slot): queue position, review, discovery",
    "prime": "(day, customer, slot): stay at a renewal, join after an offer",
    "ranking": "(day, product): noise of the organic score",
    "entry": "(day, category): number of entrants",
    "sellers": "(seller, slot): an entrant's markup, fulfilment, advertising, products",
    "product_id": "(seller, ordinal of its listing): the product's key",
    "products": "(product, slot[, centre]): quality, cost, stocking",
    "advertisers": "(seller, slot): bidding strategy and target ACoS",
    "rival": "(day, category): the rival's price noise",
}

#: Poisson means above which the inverse CDF is replaced by a rounded normal.
POISSON_NORMAL_ABOVE = 50.0

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(k) for k in (30, 27, 31, 11))
_TO_UNIT = 2.0**-53
# spawn key of Mesa's own seed (past every sequential stream's)
_MESA_SPAWN = 1018


def mix64(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """The splitmix64 finaliser: a bijection of 64-bit words with full avalanche.

    >>> int(mix64(np.uint64(0))), int(mix64(np.uint64(1))) == int(mix64(np.uint64(1)))
    (0, True)
    """
    with np.errstate(over="ignore"):
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def as_words(ids: ArrayLike) -> Any:
    """``ids`` as 64-bit words: an array of ``uint64`` (integers reinterpreted, not
    converted), or a ``np.uint64`` for a scalar; the form the compiled kernels take."""
    a = np.asarray(ids)
    if a.dtype == np.uint64:
        return a
    if a.dtype.kind not in "iub":
        raise TypeError(f"random-number identities must be integers, not {a.dtype}")
    if not a.ndim:
        return np.uint64(np.int64(a).view(np.uint64))
    return a.astype(np.int64, copy=False).view(np.uint64)


#: The compiled hash and uniform of 1, 2 and 3 identity parts (:mod:`sim.kernels`).
_HASH = {1: kernels.hash1, 2: kernels.hash2, 3: kernels.hash3}
_UNIT = {1: kernels.unit1, 2: kernels.unit2, 3: kernels.unit3}


class Keyed:
    """Draws of one stream as pure functions of their identities.

    Parameters
    ----------
    seed
        The run's root seed.
    name
        The stream's name; its key is drawn from the root seed sequence with
        the name's CRC-32 as spawn key, so adding a stream moves no other.
    """

    def __init__(self, seed: int, name: str) -> None:
        self.name = name
        spawn = (0xC0DE, zlib.crc32(name.encode()))
        state = np.random.SeedSequence(int(seed), spawn_key=spawn).generate_state(1, np.uint64)
        self._key = np.uint64(state[0])

    @property
    def key(self) -> np.uint64:
        """The stream's key: a draw is ``mix(... mix(key ^ id_1) ... ^ id_k)`` (for the
        compiled kernels that draw by identity themselves, :mod:`sim.kernels`)."""
        return self._key

    def bits(self, *ids: ArrayLike) -> NDArray[np.uint64]:
        """64 random bits per identity: the identities broadcast against each other."""
        words = [as_words(part) for part in ids]
        fused = _HASH.get(len(words))
        if fused is not None:
            return np.asarray(fused(self._key, *words))
        h: Any = self._key
        for w in words:
            h = mix64(h ^ w)
        return np.asarray(h)

    def uniform(self, *ids: ArrayLike) -> NDArray[np.float64]:
        """Uniforms on the open interval (0, 1)."""
        fused = _UNIT.get(len(ids))
        if fused is not None:
            return np.asarray(fused(self._key, *(as_words(part) for part in ids)))
        b = self.bits(*ids)
        return ((b >> _S11).astype(np.float64) + 0.5) * _TO_UNIT

    def normal(self, *ids: ArrayLike) -> NDArray[np.float64]:
        """Standard normals (inverse CDF of :meth:`uniform`)."""
        return ndtri(self.uniform(*ids))

    def normal_where(
        self, rows: ArrayLike, slot: int, cols: ArrayLike, where: NDArray[np.bool_]
    ) -> NDArray[np.float64]:
        """``normal(rows[r], slot, cols[r, c])`` at the entries ``(r, c)`` of
        ``np.nonzero(where)``, in that order, without drawing the others (one
        compiled pass, :func:`sim.kernels.normals_where`).

        >>> k = Keyed(1, "auction")
        >>> rows, cols = np.arange(3), np.arange(6).reshape(3, 2)
        >>> where = np.array([[True, False], [False, False], [True, True]])
        >>> r, c = np.nonzero(where)
        >>> bool((k.normal_where(rows, 4, cols, where) == k.normal(rows[r], 4, cols[r, c])).all())
        True
        """
        shape = np.shape(where)
        return kernels.normals_where(
            self._key,
            np.ascontiguousarray(as_words(rows)).reshape(shape[0]),
            as_words(slot),
            np.ascontiguousarray(np.broadcast_to(as_words(cols), shape)),
            np.ascontiguousarray(where, dtype=np.bool_),
        )

    def paced_bids(
        self,
        rows: ArrayLike,
        slot: int,
        campaign: NDArray[np.int64],
        campaign_key: ArrayLike,
        pacing: NDArray[np.float64],
        bid_cents: NDArray[np.int64],
    ) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
        """Pacing throttles and bids of the campaigns retrieved per query (one compiled
        pass, :func:`sim.kernels.paced_bids`): ``take`` where ``campaign >= 0`` and
        ``uniform(rows[i], slot, campaign_key[campaign]) < pacing[campaign]``, and the
        campaign's bid there (0 elsewhere)."""
        campaign = np.ascontiguousarray(campaign, dtype=np.int64)
        return kernels.paced_bids(
            campaign,
            np.ascontiguousarray(as_words(rows)).reshape(campaign.shape[0]),
            self._key,
            as_words(slot),
            np.ascontiguousarray(as_words(campaign_key)),
            np.ascontiguousarray(pacing, dtype=np.float64),
            np.ascontiguousarray(bid_cents, dtype=np.int64),
        )

    def gumbel(self, *ids: ArrayLike) -> NDArray[np.float64]:
        """Standard Gumbel variates (the shocks of a multinomial logit): ``-log(-log(u))``
        of :meth:`uniform`, worked out in place in its own array."""
        g = self.uniform(*ids)
        np.log(g, out=g)
        np.negative(g, out=g)
        np.log(g, out=g)
        np.negative(g, out=g)
        return g if g.ndim else g[()]

    def poisson(self, lam: ArrayLike, *ids: ArrayLike) -> NDArray[np.int64]:
        """Poisson counts with means ``lam`` (broadcast with the identities).

        The inverse CDF of one uniform per identity, so a larger mean never
        gives a smaller count for the same identity (monotone coupling); above
        :data:`POISSON_NORMAL_ABOVE` a rounded normal approximation.
        """
        u = self.uniform(*ids)
        lam = np.broadcast_to(np.asarray(lam, dtype=np.float64), u.shape)
        return poisson_quantile(lam, u)

    def __repr__(self) -> str:
        return f"Keyed({self.name!r})"


def structure_stream(structure_seed: int, name: str) -> np.random.Generator:
    """The sequential generator ``name`` of :data:`STRUCTURE` for a market's structure seed.

    >>> a = structure_stream(7, "tastes").random()
    >>> a == structure_stream(7, "tastes").random(), a == structure_stream(8, "tastes").random()
    (True, False)
    """
    if name not in STRUCTURE:
        raise KeyError(f"unknown structure stream {name!r}; known: {', '.join(STRUCTURE)}")
    child = np.random.SeedSequence(int(structure_seed), spawn_key=(STRUCTURE.index(name),))
    return np.random.Generator(np.random.PCG64(child))


def lognormal_mean_one(z: ArrayLike, sigma: float) -> NDArray[np.float64]:
    """Log-normal multipliers with mean 1 in expectation, from standard normals ``z``.

    >>> float(lognormal_mean_one(np.zeros(1), 0.0)[0])
    1.0
    """
    return np.exp(sigma * np.asarray(z, dtype=np.float64) - 0.5 * sigma * sigma)


def poisson_quantile(lam: NDArray[np.float64], u: NDArray[np.float64]) -> NDArray[np.int64]:
    """The Poisson(``lam``) quantile of ``u`` (elementwise).

    >>> poisson_quantile(np.array([0.0, 1.0, 1.0]), np.array([0.9, 0.3, 0.5])).tolist()
    [0, 0, 1]
    """
    lam = np.asarray(lam, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    lam, u = np.broadcast_arrays(lam, u)
    shape = u.shape
    lam = np.ascontiguousarray(lam).reshape(-1)
    u = np.ascontiguousarray(u).reshape(-1)
    k = kernels.poisson_quantiles(lam, u, np.exp(-lam), POISSON_NORMAL_ABOVE)
    return k.reshape(shape)


class Streams:
    """The run's random numbers from one root seed.

    Parameters
    ----------
    seed
        The run's root seed (a non-negative integer).
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._gens: dict[str, np.random.Generator] = {}
        self._keyed: dict[str, Keyed] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        """A sequential generator, for the draws that build the world on day 0."""
        gen = self._gens.get(name)
        if gen is None:
            if name not in SEQUENTIAL:
                raise KeyError(f"unknown random stream {name!r}; known: {', '.join(SEQUENTIAL)}")
            child = np.random.SeedSequence(self.seed, spawn_key=(SEQUENTIAL.index(name),))
            gen = self._gens[name] = np.random.Generator(np.random.PCG64(child))
        return gen

    def keyed(self, name: str) -> Keyed:
        """The draws of stream ``name`` by identity (:class:`Keyed`)."""
        k = self._keyed.get(name)
        if k is None:
            if name not in KEYED:
                raise KeyError(f"unknown keyed stream {name!r}; known: {', '.join(KEYED)}")
            k = self._keyed[name] = Keyed(self.seed, name)
        return k

    def mesa_seed(self) -> int:
        """A seed for Mesa's own ``model.random`` / ``model.rng`` derived from the root."""
        return int(np.random.SeedSequence(self.seed, spawn_key=(_MESA_SPAWN,)).generate_state(1)[0])
