"""The ``membership`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

import numpy as np
from phase_market import market, sessions_of

from sim.day import membership
from sim.day.state import Ledger
from sim.prime import PrimeState


def test_membership_charges_every_member_who_stays() -> None:
    """Members due today who value Prime far above its fee all renew and pay once each."""
    m, streams = market(prime__monthly_fee_cents=1)
    pop = m.customers
    due = np.arange(50)
    pop.prime_state[due] = PrimeState.MEMBER
    pop.plan[due] = 0
    pop.next_decision_day[due] = m.day
    pop.other_benefit_cents[due] = 1e9
    s = sessions_of(m, streams)
    s.platform = np.zeros(s.n, bool)
    ledger = Ledger()
    membership.decide(m.config.prime, pop, s, m.day, ledger, streams.keyed("prime"))
    assert ledger.prime_renewals == 50 and ledger.prime_cancels == 0
    assert ledger.prime_fees_cents == 50 * m.config.prime.monthly_fee_cents
    assert (pop.last_payment_day[due] == m.day).all()


def test_a_members_decision_does_not_depend_on_who_else_is_due() -> None:
    """Customer 7's renewal draw is the same whether 1 or 50 members are due today."""
    outcomes = []
    for n_due in (1, 50):
        m, streams = market(prime__decision_noise_cents=5000)
        pop = m.customers
        due = np.arange(7, 7 + n_due)
        pop.prime_state[due] = PrimeState.MEMBER
        pop.plan[due] = 0
        pop.next_decision_day[due] = m.day
        s = sessions_of(m, streams)
        s.platform = np.zeros(s.n, bool)
        membership.decide(m.config.prime, pop, s, m.day, Ledger(), streams.keyed("prime"))
        outcomes.append(pop.prime_state[7])
    assert outcomes[0] == outcomes[1]
