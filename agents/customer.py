"""Customers: columnar state of the whole population and their vectorised behaviour.

A million customers cannot be a million Python objects and still take a day
in milliseconds, so customer state lives in :class:`CustomerPopulation`, one
numpy column per attribute (the mesa-frames pattern). :class:`Customer` is a
read-only view of one row for inspection and for the visualiser; it is not
registered as a Mesa agent.

Behaviour is written as functions of previous state (``next_habit``,
``next_trust``, ...); the model applies each once per phase.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim import kernels
from sim.config import Config
from sim.prime import Plan, PrimeState, TrialOutcome
from sim.rng import lognormal_mean_one

__all__ = [
    "ACTIVE_DAYS",
    "Customer",
    "CustomerPopulation",
    "consult_probability",
    "next_habit",
    "next_trust",
    "tilted_consult_probability",
]

#: A customer is active who bought on the platform within this many days, and an
#: assistant user who consulted within them.
ACTIVE_DAYS = 365


def _lognormal_mean_one(rng: np.random.Generator, sigma: float, n: int) -> NDArray[np.float64]:
    """Log-normal multipliers with mean exactly 1 in expectation."""
    return lognormal_mean_one(rng.standard_normal(n), sigma)


def _beta(rng: np.random.Generator, mean: float, concentration: float, n: int) -> NDArray:
    m = float(np.clip(mean, 1e-3, 1 - 1e-3))
    return rng.beta(m * concentration, (1 - m) * concentration, n)


class CustomerPopulation:
    """State of every customer, one numpy column per attribute.

    Traits (fixed): ``region``, ``income_class``, ``price_sensitivity``,
    ``quality_taste``, ``delay_cost`` (share of a category price lost per day
    of waiting), ``need_rate`` (needs per day), ``profile`` (category-mix
    archetype), ``patience`` (position-bias decay), ``ad_literacy``,
    ``assistant_propensity``, ``online_u`` (connectivity threshold),
    ``agent_u`` (external-agent threshold), ``other_benefit_cents``,
    ``plan_pref``. The category mix of each taste profile (``profile_mix``, rows
    summing to 1) is the market's structure, not the sample's, and is passed in.

    State (evolving): ``habit``, ``trust``, the last day the customer consulted
    (``last_consult_day``) and would have consulted had the assistant been on
    (``last_would_consult_day``), the Prime columns, experience
    averages used to value Prime, and counters reported in
    ``customers.parquet``.
    """

    def __init__(
        self,
        cfg: Config,
        region_density: NDArray[np.float64],
        profile_mix: NDArray[np.float64],
        rng: np.random.Generator,
    ):
        c = cfg.customers
        n = cfg.run.n_customers
        n_cat = cfg.catalogue.n_categories
        self.n = n
        self.region = rng.choice(len(region_density), size=n, p=region_density).astype(np.int32)
        self.income_class = rng.choice(3, size=n, p=c.income_shares).astype(np.int8)
        by_income = np.asarray(c.price_sensitivity_by_income)[self.income_class]
        self.price_sensitivity = (
            c.price_sensitivity_mean
            * by_income
            * _lognormal_mean_one(rng, c.price_sensitivity_sigma, n)
        )
        self.quality_taste = np.maximum(
            0.0, rng.normal(c.quality_taste_mean, c.quality_taste_sd, n)
        )
        self.delay_cost = c.delay_cost_per_day_mean * _lognormal_mean_one(
            rng, c.delay_cost_per_day_sigma, n
        )
        self.need_rate = c.need_rate_per_day * _lognormal_mean_one(rng, c.need_rate_sigma, n)
        self.profile = rng.integers(0, c.n_taste_profiles, n).astype(np.int16)
        self.profile_cdf = np.cumsum(profile_mix, axis=1)
        self.profile_cdf[:, -1] = 1.0
        self.patience = np.clip(rng.normal(c.patience_mean, c.patience_sd, n), 0.05, 0.98)
        self.ad_literacy = _beta(rng, c.ad_literacy_mean, c.ad_literacy_concentration, n)
        self.assistant_propensity = _beta(
            rng, c.assistant_propensity_mean, c.assistant_propensity_concentration, n
        )
        self.online_u = rng.random(n)
        self.agent_u = rng.random(n)
        self.other_benefit_cents = cfg.prime.other_benefits_cents_per_month * _lognormal_mean_one(
            rng, 0.8, n
        )
        self.plan_pref = np.where(
            rng.random(n) < cfg.prime.annual_plan_share, Plan.ANNUAL, Plan.MONTHLY
        ).astype(np.int8)
        self.habit = np.clip(_beta(rng, max(c.initial_habit, 1e-3), 4.0, n), 0.0, 1.0)
        self.trust = np.full(n, c.initial_trust)
        # cumulative need rate, for drawing who has a need today in O(needs log n)
        self.need_cdf = np.cumsum(self.need_rate)
        # exp(-need_rate) with the rates it was computed from (:meth:`no_need_chance`)
        self._no_need: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None

        # Prime
        self.prime_state = np.full(n, PrimeState.NONE, dtype=np.int8)
        self.plan = self.plan_pref.copy()
        self.trial_outcome = np.full(n, TrialOutcome.NEVER, dtype=np.int8)
        self.first_join_day = np.full(n, -1, dtype=np.int32)
        self.last_payment_day = np.full(n, -1, dtype=np.int32)
        self.spell_start_day = np.full(n, -1, dtype=np.int32)  # start of the current spell
        self.spells = np.zeros(n, dtype=np.int32)  # membership spells begun (trial or paid)
        self.next_decision_day = np.full(n, -1, dtype=np.int32)
        self.renewals = np.zeros(n, dtype=np.int32)
        self.cancellations = np.zeros(n, dtype=np.int32)
        self.days_member = np.zeros(n, dtype=np.int32)
        # experience used to value Prime (exponential averages per day)
        self.ship_value_ewma = np.zeros(n)  # shipping fees a non-member pays / would pay
        self.speed_value_ewma = np.zeros(n)  # delay cost saved by member delivery
        # counters
        self.orders_member = np.zeros(n, dtype=np.int32)
        self.orders_nonmember = np.zeros(n, dtype=np.int32)
        self.spend_member_cents = np.zeros(n, dtype=np.int64)
        self.spend_nonmember_cents = np.zeros(n, dtype=np.int64)
        self.rival_purchases = np.zeros(n, dtype=np.int32)
        self.consults = np.zeros(n, dtype=np.int32)
        self.ads_seen = np.zeros(n, dtype=np.int32)
        self.ads_recognised = np.zeros(n, dtype=np.int32)
        self.last_consult_day = np.full(n, -1_000_000, dtype=np.int32)
        self.last_consult_category = np.full(n, -1, dtype=np.int16)
        self.last_platform_day = np.full(n, -1_000_000, dtype=np.int32)
        # categories the customer has bought in on the platform, one bit each
        self.bought_categories = np.zeros((n, (n_cat + 7) // 8), dtype=np.uint8)
        if c.initial_orders_per_need > 0:
            # a history before day 0: platform purchases at the customer's own rate, so
            # the last one lies an exponential time back (drawn last: nothing else moves)
            rate = self.need_rate * c.initial_orders_per_need
            back = np.ceil(rng.exponential(1.0 / np.maximum(rate, 1e-12)))
            self.last_platform_day = (-np.minimum(back, 999_999)).astype(np.int32)
        # the last session in which the customer would consult the assistant (whether or
        # not it is offered: an assistant-off twin keeps the same prompts), and its history
        # before day 0 (drawn after the purchases): the steady state's share of users,
        # frequent shoppers more often, each with her last consult on a day spread over
        # the past year, so that users do not lapse (and get prompted) as one cohort
        self.last_would_consult_day = np.full(n, -1_000_000, dtype=np.int32)
        if c.initial_assistant_user_share > 0:
            p_user = np.minimum(
                1.0, c.initial_assistant_user_share * self.need_rate / self.need_rate.mean()
            )
            user = rng.random(n) < p_user
            back = rng.integers(1, ACTIVE_DAYS + 1, n)
            self.last_would_consult_day[user] = -back[user]
            if cfg.assistant.enabled:
                self.last_consult_day = self.last_would_consult_day.copy()

    def member(self, idx: NDArray[np.int64] | slice = slice(None)) -> NDArray[np.bool_]:
        """Whether customers enjoy Prime benefits (trial or paid)."""
        return self.prime_state[idx] != PrimeState.NONE

    def familiar(self, idx: NDArray[np.int64], category: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Whether each customer ``idx`` has bought in ``category`` on the platform before."""
        bits = self.bought_categories[idx, category >> 3]
        return (bits >> (category & 7).astype(np.uint8)) & 1 == 1

    def mark_bought(self, idx: NDArray[np.int64], category: NDArray[np.int64]) -> None:
        """Record platform purchases of customers ``idx`` in ``category``."""
        kernels.set_bits(self.bought_categories, idx, category)

    def no_need_chance(self) -> NDArray[np.float64]:
        """``np.exp(-need_rate)``, each customer's chance of no need on a day (the Poisson
        count's first term): computed by NumPy once and kept while ``need_rate`` holds the
        same values (checked each call, a pass many times cheaper than the ``exp``)."""
        lam = np.ascontiguousarray(self.need_rate, dtype=np.float64)
        kept = self._no_need
        if kept is None or kept[0].shape != lam.shape or not np.array_equal(kept[0], lam):
            kept = self._no_need = (lam.copy(), np.exp(-lam))
        return kept[1]

    def prime_value_cents(self, idx: NDArray[np.int64]) -> NDArray[np.float64]:
        """What a month of Prime is worth to customers, from their own recent experience."""
        return (
            30.0 * (self.ship_value_ewma[idx] + self.speed_value_ewma[idx])
            + (self.other_benefit_cents[idx])
        )


def consult_probability(
    propensity: NDArray[np.float64],
    trust: NDArray[np.float64],
    intent: NDArray[np.float64],
    elasticity: float,
    intent_sd: float,
) -> NDArray[np.float64]:
    """Chance to consult the assistant: propensity x trust, tilted by purchase intent.

    The probability is ``min(1, b' * exp(e*intent - (e*sd)^2/2))`` where the
    base ``b'`` is solved so that its mean over intents ``N(0, sd)`` equals
    ``b = propensity * trust`` exactly, even where the cap at 1 binds. The
    elasticity ``e`` therefore moves *who* consults (high-intent shoppers)
    without changing how many do on average. This is the selection that
    makes "assistant users are more likely to buy" true without any causal
    effect.

    >>> p = consult_probability(np.array([0.5]), np.array([0.6]), np.array([0.0]), 0.0, 0.6)
    >>> round(float(p[0]), 6)
    0.3
    """
    base = np.clip(propensity * trust, 0.0, 1.0)
    return tilted_consult_probability(base, intent, elasticity, intent_sd)


def tilted_consult_probability(
    base: NDArray[np.float64], intent: NDArray[np.float64], elasticity: float, intent_sd: float
) -> NDArray[np.float64]:
    """:func:`consult_probability` from its base ``b = clip(propensity x trust, 0, 1)``.

    >>> p = tilted_consult_probability(np.array([0.3]), np.array([0.0]), 0.0, 0.6)
    >>> round(float(p[0]), 6)
    0.3
    """
    s = elasticity * intent_sd
    if s <= 1e-6:  # the tilt is 1 to within 1e-6
        return base
    grid, solved = _base_table(float(s))
    # np.interp's numbers, found without its bisection (sim.kernels.interp)
    flat = np.ascontiguousarray(base, dtype=np.float64).reshape(-1)
    adjusted = kernels.interp(flat, grid, solved).reshape(np.shape(base))
    tilt = np.exp(elasticity * intent - 0.5 * s * s)
    return np.minimum(1.0, adjusted * tilt)


@functools.lru_cache(maxsize=16)
def _base_table(s: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``b'`` solved on a fine grid of bases in [0, 1] (interpolated per session: the
    solution is smooth and increasing, and the table is built once per tilt size)."""
    grid = np.linspace(0.0, 1.0, 8193)
    return grid, _mean_preserving_base(grid, s)


def _mean_preserving_base(base: NDArray[np.float64], s: float) -> NDArray[np.float64]:
    """Solve ``E[min(1, b' T)] = base`` for ``b'``, T log-normal (log-mean -s^2/2, log-sd s).

    ``E[min(1, b'T)] = b' Phi(k - s) + 1 - Phi(k)`` with ``k = (ln(1/b') + s^2/2) / s``
    is increasing in ``b'``; bisection on ``log b'`` (``b' >= base``).
    """
    from scipy.special import ndtr

    target = np.clip(base, 0.0, 1.0 - 1e-9)
    lo = np.log(np.maximum(target, 1e-300))
    # the solution lies below this bracket; capped so that exp stays finite (the
    # config bounds the tilt's log-sd to 25, where the solution is far below the cap)
    hi = np.minimum(lo + 4.0 * s + s * s + 1.0, 700.0)
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        k = (-mid + 0.5 * s * s) / s
        mean = np.exp(mid) * ndtr(k - s) + 1.0 - ndtr(k)
        low = mean < target
        lo = np.where(low, mid, lo)
        hi = np.where(low, hi, mid)
    return np.where(base > 0, np.exp(0.5 * (lo + hi)), 0.0)


def next_habit(habit: NDArray[np.float64], experience: NDArray[np.float64], rate: float) -> NDArray:
    """Experience-weighted platform habit: move toward this purchase's experience in [0, 1]."""
    return habit + rate * (experience - habit)


def next_trust(
    trust: NDArray[np.float64],
    good_outcome: NDArray[np.bool_],
    rate: float,
    discovered_paid: NDArray[np.bool_],
    penalty: float,
) -> NDArray[np.float64]:
    """Trust after following advice: toward 1 on a good outcome, toward 0 on a bad one,
    then cut by ``penalty`` (a share) if the customer found out the advice was paid."""
    t = trust + rate * (good_outcome.astype(np.float64) - trust)
    return np.where(discovered_paid, t * (1.0 - penalty), t)


class Customer:
    """Read-only view of one customer (for inspection; not a Mesa agent).

    >>> # model.customer(0).prime_state, model.customer(0).trust, ...
    """

    __slots__ = ("_i", "_pop", "unique_id")

    def __init__(self, population: CustomerPopulation, index: int) -> None:
        if not 0 <= index < population.n:
            raise IndexError(f"customer {index} out of range 0..{population.n - 1}")
        self._pop = population
        self._i = index
        self.unique_id = index

    def __getattr__(self, name: str) -> Any:
        col = getattr(self._pop, name)
        if isinstance(col, np.ndarray) and col.shape[:1] == (self._pop.n,):
            value = col[self._i]
            return value.item() if hasattr(value, "item") else value
        raise AttributeError(name)

    def __repr__(self) -> str:
        return (
            f"Customer({self._i}, region={self.region}, prime={PrimeState(self.prime_state).name})"
        )
