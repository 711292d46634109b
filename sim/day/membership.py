"""Phase 7: Prime decisions — trial ends, renewals, and offers to non-members.

Decisions due today (end of a trial, end of a paid period) stay or leave by
:func:`sim.prime.stay_probability` on the customer's own valuation of
membership; stayers pay for a new period. Non-members who visit the platform
are offered Prime at ``prime.offer_rate`` per visit: a fresh customer may
take a free trial (:func:`sim.prime.trial_probability`), one who had it may
join and pay (:func:`sim.prime.join_probability`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from agents.customer import CustomerPopulation
from sim import prime
from sim.config import PrimeSection
from sim.day.state import Ledger, Sessions
from sim.rng import Keyed

__all__ = ["charge", "decide"]

# slots of the Prime-decisions stream
_STAY, _JOIN = 0, 1


def charge(
    pr: PrimeSection, pop: CustomerPopulation, who: NDArray[np.int64], day: int, ledger: Ledger
) -> None:
    """Members in ``who`` pay their plan's fee on ``day`` and start a new period."""
    pop.prime_state[who] = prime.PrimeState.MEMBER
    fee = np.where(pop.plan[who] == prime.Plan.ANNUAL, pr.annual_fee_cents, pr.monthly_fee_cents)
    pop.last_payment_day[who] = day
    pop.next_decision_day[who] = day + prime.period_days(pop.plan[who])
    ledger.prime_fees_cents += float(fee.sum())


def decide(
    pr: PrimeSection,
    pop: CustomerPopulation,
    s: Sessions,
    day: int,
    ledger: Ledger,
    draws: Keyed,
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
    """
    members = pop.prime_state != prime.PrimeState.NONE
    pop.days_member += members
    if not pr.enabled:
        return
    t = ledger
    # decisions due today: trial ends and renewals
    due = np.flatnonzero(pop.next_decision_day == day)
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
        trial = pop.prime_state[due] == prime.PrimeState.TRIAL
        stayers, leavers = due[stay], due[~stay]
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
        charge(pr, pop, stayers, day, ledger)
    # offers on platform visits by non-members
    visit = s.platform & (s.u_offer < pr.offer_rate)
    cand = np.unique(s.cust[visit])
    cand = cand[pop.prime_state[cand] == prime.PrimeState.NONE]
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
        trials = cand[join & fresh]
        payers = cand[join & ~fresh]
        pop.prime_state[trials] = prime.PrimeState.TRIAL
        pop.trial_outcome[trials] = prime.TrialOutcome.ACTIVE
        pop.next_decision_day[trials] = day + pr.trial_days
        joined = cand[join]
        first = joined[pop.first_join_day[joined] < 0]
        pop.first_join_day[first] = day
        t.prime_trials_started = float(len(trials))
        t.prime_joins = float(len(joined))
        charge(pr, pop, payers, day, ledger)
