"""Phase 7: Prime decisions — trial ends, renewals, and offers to non-members.

Decisions due today (end of a trial, end of a paid period) stay or leave by
:func:`sim.prime.stay_probability` on the customer's own valuation of
membership; stayers pay for a new period. Non-members who visit the platform
are offered Prime at ``prime.offer_rate`` per visit: a fresh customer may
take a free trial (:func:`sim.prime.trial_probability`), one who had it may
join and pay (:func:`sim.prime.join_probability`). Every decision that changes
or continues a membership is one row of the run's :class:`PrimeEventLog`
(``prime_events.parquet``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from agents.customer import CustomerPopulation
from sim import kernels, prime
from sim.config import PrimeSection
from sim.day.state import Ledger, Sessions
from sim.rng import Keyed

__all__ = ["PrimeEventLog", "charge", "decide", "start_members"]

# slots of the Prime-decisions stream
_STAY, _JOIN, _START, _START_DUE = 0, 1, 2, 3


class PrimeEventLog:
    """Every Prime event of a run, in the order they happen (day, then decision).

    Columns (see :data:`sim.output.PRIME_EVENT_COLUMNS`): day, customer, event
    (:class:`sim.prime.PrimeEvent`), plan, fee paid at the event and tenure in
    days of the spell at the event (0 when it starts one).
    """

    def __init__(self) -> None:
        self._parts: list[tuple[NDArray, ...]] = []

    def add(
        self,
        day: int,
        who: NDArray[np.int64],
        event: prime.PrimeEvent,
        pop: CustomerPopulation,
        fee_cents: NDArray | int = 0,
    ) -> None:
        """Log ``event`` for customers ``who`` (their spell start must already be set)."""
        n = len(who)
        if n == 0:
            return
        self._parts.append(
            (
                np.full(n, day, dtype=np.int32),
                who.astype(np.int64),
                np.full(n, int(event), dtype=np.int8),
                pop.plan[who].astype(np.int8),
                np.broadcast_to(np.asarray(fee_cents, dtype=np.int64), (n,)).copy(),
                (day - pop.spell_start_day[who]).astype(np.int32),
            )
        )

    def columns(self) -> dict[str, NDArray]:
        """The log as equal-length arrays (empty, typed arrays when nothing happened)."""
        names = ("day", "customer_id", "event", "plan", "fee_cents", "tenure_days")
        types = (np.int32, np.int64, np.int8, np.int8, np.int64, np.int32)
        if not self._parts:
            return {k: np.zeros(0, dtype=t) for k, t in zip(names, types, strict=True)}
        return {k: np.concatenate([part[i] for part in self._parts]) for i, k in enumerate(names)}


def charge(
    pr: PrimeSection, pop: CustomerPopulation, who: NDArray[np.int64], day: int, ledger: Ledger
) -> NDArray[np.int64]:
    """Members in ``who`` pay their plan's fee on ``day`` and start a new period.

    Returns the fee each paid, in cents.
    """
    pop.prime_state[who] = prime.PrimeState.MEMBER
    fee = np.where(pop.plan[who] == prime.Plan.ANNUAL, pr.annual_fee_cents, pr.monthly_fee_cents)
    pop.last_payment_day[who] = day
    pop.next_decision_day[who] = day + prime.period_days(pop.plan[who])
    ledger.prime_fees_cents += float(fee.sum())
    return fee.astype(np.int64)


def start_members(
    pr: PrimeSection, pop: CustomerPopulation, draws: Keyed, log: PrimeEventLog
) -> None:
    """Members at the start of the run (day 0): the steady state's share of customers.

    Customer ``i`` is a paying member with probability ``initial_member_share x
    r_i / mean(r)``, at most 1, where ``r`` is the need rate: frequent shoppers value
    free shipping more, and the renewal decisions, taken on the member's own
    experience, correct the rest. Each is on her preferred plan, had her trial, and
    her current period ends on a day drawn uniformly over the plan's period, so
    renewals are spread as in a steady state. Spells, tenure and the last payment
    are counted from day 0 (left-censored); each is logged as ``AT_START``.
    """
    if not pr.enabled or pr.initial_member_share <= 0:
        return
    who = np.arange(pop.n)
    rate = pop.need_rate / pop.need_rate.mean()
    p = np.minimum(1.0, pr.initial_member_share * rate)
    members = who[draws.uniform(0, who, _START) < p]
    period = prime.period_days(pop.plan[members])
    due = 1 + np.floor(draws.uniform(0, members, _START_DUE) * period).astype(np.int64)
    pop.prime_state[members] = prime.PrimeState.MEMBER
    pop.trial_outcome[members] = prime.TrialOutcome.CONVERTED
    pop.first_join_day[members] = 0
    pop.spell_start_day[members] = 0
    pop.last_payment_day[members] = 0
    pop.next_decision_day[members] = due
    pop.spells[members] = 1
    log.add(0, members, prime.PrimeEvent.AT_START, pop)


def decide(
    pr: PrimeSection,
    pop: CustomerPopulation,
    s: Sessions,
    day: int,
    ledger: Ledger,
    draws: Keyed,
    log: PrimeEventLog | None = None,
    held: bool = False,
) -> None:
    """Today's Prime decisions, in place on ``pop``.

    Parameters
    ----------
    pr
        The Prime terms in force.
    pop
        The population (Prime columns).
    s
        Today's sessions (platform visits and their offer uniforms).
    day
        Today.
    ledger
        Today's totals (joins, renewals, cancels, fees).
    draws
        The Prime-decisions stream, keyed by (day, customer): whether a member
        due today stays, whether a non-member offered Prime joins.
    log
        Where each decision is written as an event (none when ``None``).
    held
        Whether the ``prime_adoption`` loop channel is frozen (``flywheel.freeze``):
        memberships are held as they are, every member due today stays (and pays)
        and nobody is offered Prime; the decision draws are made all the same.
    """
    log = log if log is not None else PrimeEventLog()
    # a day of membership for every member, and the decisions due today (trial ends and
    # renewals): one compiled pass over the population
    due = kernels.membership_day(pop.prime_state, pop.days_member, pop.next_decision_day, day)
    if not pr.enabled:
        return
    t = ledger
    if len(due):
        fee_m = prime.monthly_fee_cents(pop.plan[due], pr.monthly_fee_cents, pr.annual_fee_cents)
        p_stay = prime.stay_probability(
            pop.prime_value_cents(due),
            fee_m,
            status_quo_bias_cents=pr.status_quo_bias_cents,
            cancellation_friction_cents=pr.cancellation_friction_cents,
            noise_cents=pr.decision_noise_cents,
        )
        stay = draws.uniform(day, due, _STAY) < p_stay
        if held:
            stay[:] = True
        trial = pop.prime_state[due] == prime.PrimeState.TRIAL
        stayers, leavers = due[stay], due[~stay]
        log.add(day, due[trial & ~stay], prime.PrimeEvent.TRIAL_LAPSE, pop)
        log.add(day, due[~trial & ~stay], prime.PrimeEvent.CANCEL, pop)
        pop.trial_outcome[due[trial & stay]] = prime.TrialOutcome.CONVERTED
        pop.trial_outcome[due[trial & ~stay]] = prime.TrialOutcome.CANCELLED
        pop.renewals[due[~trial & stay]] += 1
        pop.cancellations[leavers] += 1
        t.prime_trial_conversions = float((trial & stay).sum())
        t.prime_trial_ends = float(trial.sum())
        t.prime_renewals = float((~trial & stay).sum())
        t.prime_cancels = float(len(leavers))
        pop.prime_state[leavers] = prime.PrimeState.NONE
        pop.next_decision_day[leavers] = -1
        fee = charge(pr, pop, stayers, day, ledger)
        converted = trial[stay]
        log.add(day, stayers[converted], prime.PrimeEvent.TRIAL_CONVERT, pop, fee[converted])
        log.add(day, stayers[~converted], prime.PrimeEvent.RENEWAL, pop, fee[~converted])
    # offers on platform visits by non-members
    visit = s.platform & (s.u_offer < pr.offer_rate)
    # the visitors who are not members, once each, in customer order
    cand = kernels.offer_candidates(s.cust, visit, pop.prime_state)
    if len(cand):
        value = pop.prime_value_cents(cand)
        fresh = (pop.trial_outcome[cand] == prime.TrialOutcome.NEVER) & (pr.trial_days > 0)
        fee_m = prime.monthly_fee_cents(pop.plan[cand], pr.monthly_fee_cents, pr.annual_fee_cents)
        p_join = np.where(
            fresh,
            prime.trial_probability(value, pr.cancellation_friction_cents, pr.decision_noise_cents),
            prime.join_probability(value, fee_m, pr.decision_noise_cents),
        )
        join = draws.uniform(day, cand, _JOIN) < p_join
        if held:
            join[:] = False
        trials = cand[join & fresh]
        payers = cand[join & ~fresh]
        pop.prime_state[trials] = prime.PrimeState.TRIAL
        pop.trial_outcome[trials] = prime.TrialOutcome.ACTIVE
        pop.next_decision_day[trials] = day + pr.trial_days
        joined = cand[join]
        first = joined[pop.first_join_day[joined] < 0]
        pop.first_join_day[first] = day
        pop.spell_start_day[joined] = day
        pop.spells[joined] += 1
        t.prime_trials_started = float(len(trials))
        t.prime_joins = float(len(joined))
        log.add(day, trials, prime.PrimeEvent.TRIAL_START, pop)
        log.add(day, payers, prime.PrimeEvent.JOIN, pop, charge(pr, pop, payers, day, ledger))
