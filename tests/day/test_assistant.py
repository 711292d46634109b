"""The ``assistant`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

import pytest
from phase_market import assistant_agent, market, through

from sim.day import assistant
from sim.day.state import PICKS, Ledger


def test_assistant_off_draws_would_be_consulters_but_answers_nobody() -> None:
    """With the assistant off, would-be consulters are drawn, but no pick enters any session."""
    m, streams = market(assistant__enabled=False)
    ledger = Ledger()
    s = through("assistant", m, streams, ledger)
    assert s.would_consult.any() and not s.consult.any()
    assert not (s.consider[:, PICKS] >= 0).any() and ledger.assistant_consults == 0


def test_assistant_charges_paid_picks_at_their_bid() -> None:
    """Blended ads: campaign spend from answers equals the assistant ad revenue booked."""
    m, streams = market(assistant__ad_mode="blended", assistant__ad_weight=5.0)
    ledger = Ledger()
    s = through("search", m, streams, ledger)
    spent = m.ads.col("spend_today_cents").sum()
    agent = assistant_agent(m.config)
    assistant.answer(m, s, agent, ledger, streams.keyed("assistant"))
    assert ledger.assistant_ad_picks > 0
    assert m.ads.col("spend_today_cents").sum() - spent == ledger.ad_revenue_assistant_cents
    assert agent.consults == ledger.assistant_consults
    assert agent.inference_cost_cents == pytest.approx(ledger.inference_cost_cents)
    assert (s.consider[s.consult][:, PICKS] >= 0).any()
