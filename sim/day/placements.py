"""Phases 3-4 together: search and the assistant's answers, batch by batch.

The day's sessions run in ``ads.batches_per_day`` batches
(:func:`sim.day.search_ads.batches`). In each batch the platform sessions
search (:func:`sim.day.search_ads.search_batch`: sponsored slots auctioned and
clicks charged), then the batch's consults are answered
(:func:`sim.day.assistant.answer_batch`: answer slots auctioned and opened paid
picks charged). Both inventories draw on one daily budget per campaign, checked
at the start of every batch (neither has priority within it): a campaign that
has run out drops out of both for the rest of the day, so its spend exceeds
its budget by at most one batch's charge, and answer slots can take budget
that search would have spent (cannibalisation) as well as add spend of their
own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.assistant import Assistant
from sim.day import assistant as answers
from sim.day import search_ads
from sim.day.state import Ledger, Market, Sessions
from sim.rng import Keyed

__all__ = ["search_and_answer"]


def _call(_name: str, phase: Callable[..., Any], *args: Any) -> Any:
    return phase(*args)


def search_and_answer(
    m: Market,
    s: Sessions,
    agent: Assistant,
    ledger: Ledger,
    auction: Keyed,
    clicks: Keyed,
    assistant_draws: Keyed,
    run: Callable[..., Any] = _call,
) -> None:
    """Search and answer today's sessions, interleaved by batch.

    Parameters
    ----------
    m, s, ledger
        The market, today's sessions (consults already drawn) and today's totals.
    agent
        The assistant.
    auction, clicks, assistant_draws
        The auction, clicks and assistant streams (see the two phases).
    run
        How to call a phase: ``run(name, phase, *args)`` (the model's profiler).
    """
    search_ads.start_search(m, s, ledger)
    answers.start_answers(m, s, ledger)
    for rows in search_ads.batches(m, s):
        m.ads.open_batch()
        run("search_auctions", search_ads.search_batch, m, s, rows, ledger, auction, clicks)
        run("assistant", answers.answer_batch, m, s, rows, agent, ledger, assistant_draws)
        m.ads.close_batch()
