"""The ``channel`` phase run alone on a small market, without the Mesa model."""

from __future__ import annotations

from phase_market import market, through

from sim.day.state import Ledger


def test_channel_keeps_offline_customers_off_the_platform() -> None:
    """Nobody offline shops on the platform; with all rural cells offline no rural session does."""
    m, streams = market(connectivity__rural_offline_share=1.0)
    s = through("channel", m, streams, Ledger())
    assert not (s.platform & ~s.online).any()
    rural = ~m.network.regions.is_metro[m.customers.region[s.cust]]
    assert rural.any() and not s.online[rural].any()
    assert s.platform.any()


def test_channel_sends_agent_users_to_their_agent_unless_blocked() -> None:
    """With every customer using an external agent, no session reaches platform search."""
    m, streams = market(external_agents__share=1.0, external_agents__blocked=False)
    s = through("channel", m, streams, Ledger())
    assert not s.platform.any() and s.external[s.online].all()
