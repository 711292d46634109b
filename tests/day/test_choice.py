"""The ``choice`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

import numpy as np
from phase_market import market, through

from sim.day.state import Ledger


def test_choice_buys_only_considered_items() -> None:
    """Every platform purchase is an item the session considered (or the agentic pick)."""
    m, streams = market()
    s = through("choice", m, streams, Ledger())
    bought = np.flatnonzero(s.product >= 0)
    assert len(bought) > 0
    considered = (s.consider[bought] == s.product[bought, None]).any(axis=1)
    assert considered.all()
    assert not (s.rival & (s.product >= 0)).any()
    nothing = s.platform & ~(s.consider >= 0).any(axis=1)
    assert not (s.product[nothing] >= 0).any()


def _true_value(m, s, rows: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The customer's value of what session ``rows`` bought on the platform, at latent
    quality (what the purchase is worth to her, not what she perceived)."""
    from sim.day.offers import perceived_value

    ci = s.cust[rows]
    net = perceived_value(m, ci, s.cat[rows], s.product[rows][:, None], true_quality=True)
    return m.customers.price_sensitivity[ci] * net[:, 0]


def test_an_answer_can_lower_the_value_of_what_the_customer_buys() -> None:
    """A small, ad-tilted assistant with blended ads: the same sessions, with the same
    shocks, choosing with and without its answers. Some buy a worse item because of the
    answer (its sign is not fixed by construction), and some a better one."""
    import copy

    from sim.day import choice
    from sim.day.state import PICKS

    m, streams = market(
        assistant__model_scale=0.05,
        assistant__ad_mode="blended",
        assistant__ad_weight=4.0,
        customers__initial_trust=1.0,
        run__n_customers=20000,
    )
    s = through("assistant", m, streams, Ledger())
    without = copy.deepcopy(s)
    without.consider[:, PICKS] = -1
    without.advice[:, PICKS] = False
    without.recognised[:, PICKS] = False
    for sessions in (s, without):
        choice.decide(m, sessions, Ledger(), streams.keyed("choice"), streams.keyed("external"))
    both = np.flatnonzero(s.consult & (s.product >= 0) & (without.product >= 0))
    assert len(both) > 50
    change = _true_value(m, s, both) - _true_value(m, without, both)
    assert (change < -1e-9).any(), "no answer ever led to a worse purchase"
    assert (change > 1e-9).any(), "no answer ever led to a better purchase"


def _paid_choices(**changes: object) -> Ledger:
    m, streams = market(
        run__n_customers=20000,
        assistant__ad_weight=5.0,
        assistant__ad_slots=3,
        customers__initial_trust=1.0,
        **changes,
    )
    ledger = Ledger()
    through("choice", m, streams, ledger)
    return ledger


def test_paid_picks_nobody_recognises_are_chosen_like_organic_picks_of_equal_value() -> None:
    """Blended ads no one recognises: paid picks are bought as often as the logit says an
    organic pick of equal value would be (within sampling error); labelled ads that
    everyone recognises, with a large discount, are bought far less often."""
    unseen = _paid_choices(assistant__ad_mode="blended", assistant__blended_recognition_factor=0.0)
    assert unseen.paid_pick_sessions > 100
    expected = unseen.paid_pick_chosen_as_organic
    assert abs(unseen.paid_pick_chosen - expected) < 4 * np.sqrt(expected)
    seen = _paid_choices(
        assistant__ad_mode="labelled",
        customers__ad_literacy_mean=0.99,
        assistant__recognised_ad_discount=3.0,
    )
    assert seen.paid_pick_chosen < 0.5 * seen.paid_pick_chosen_as_organic
