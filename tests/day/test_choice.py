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
