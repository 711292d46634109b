"""The day's phases, one module each, in the order of ``docs/ODD.md`` section 3.

====  ===============  ===============================================
step  module           what happens
====  ===============  ===============================================
1     ``needs``        needs arrive (sessions and their draws)
2     ``channel``      platform, rival or external agent
3     ``search_ads``   results pages, sponsored-product auctions, clicks
4     ``assistant``    consults and the assistant's answers (answer-slot auctions)
3-4   ``placements``   search and answers interleaved batch by batch
5     ``choice``       purchase choice among considered items
6     ``delivery``     delivery, fees, reviews, habit, trust, DSI
7     ``membership``   Prime trials, joins, renewals, cancels
8     ``sellers``      seller accounts, repricing, fulfilment, entry/exit
9     ``advertisers``  pacing, bids, budgets
10    ``network``      station expansion and logistics costs
11    ``record``       the day's row of ``daily.parquet``
(0)   ``ranking``      each morning: organic ranking and category signals
====  ===============  ===============================================

Each phase is a function of the :class:`~sim.day.state.Market`, today's
:class:`~sim.day.state.Sessions` and :class:`~sim.day.state.Ledger`, and its
own random stream; none needs the Mesa model.
"""
