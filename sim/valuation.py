"""What an offer is worth to a customer: net value and consumer surplus.

One utility rule serves every phase that values an offer (channel choice,
search clicks, the assistant's estimate, the purchase choice, the rival and
the welfare record). Values are in units of the category's reference price
``P``: a customer's net value of an item is

    value_base + quality_taste * quality - price_term - delay_cost * days

where ``price_term`` is ``(price + shipping) / P`` for one item, or a price
index for a whole channel. Multiplying by the customer's price sensitivity
gives the utility the logit choices use. Consumer surplus in cents is the
gross value times ``P`` minus what the customer paid.

Examples
--------
>>> import numpy as np
>>> round(float(net_value(1.0, np.array(0.5), 0.8, np.array(0.9), np.array(0.1), 1.0)), 6)
0.4
>>> s = surplus_cents(np.array(1000.0), 1.0, np.array(0.5), 0.8, np.array(0.1), 1.0, 900)
>>> round(float(s), 6)
400.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["item_net_value", "net_value", "surplus_cents"]


def net_value(
    value_base: float,
    quality_taste: Any,
    quality: Any,
    price_term: Any,
    delay_cost: Any,
    days: Any,
) -> NDArray[np.float64]:
    """Net value in category prices: value of quality minus price and waiting."""
    return value_base + quality_taste * quality - price_term - delay_cost * days


def item_net_value(
    value_base: float,
    quality_taste: NDArray[np.float64],
    quality: NDArray[np.float64],
    price_cents: NDArray[np.int64],
    shipping_cents: NDArray[np.int64],
    category_price_cents: NDArray[np.float64],
    delay_cost: NDArray[np.float64],
    days: NDArray[np.int64],
) -> NDArray[np.float64]:
    """Net value of single items, their price and shipping fee taken against the category's
    reference price (arrays broadcast: customers on the first axis, items on the second)."""
    return net_value(
        value_base,
        quality_taste,
        quality,
        (price_cents + shipping_cents) / category_price_cents,
        delay_cost,
        days,
    )


def surplus_cents(
    category_price_cents: NDArray[np.float64],
    value_base: float,
    quality_taste: NDArray[np.float64],
    quality: Any,
    delay_cost: NDArray[np.float64],
    days: Any,
    paid_cents: Any,
) -> NDArray[np.float64]:
    """Consumer surplus of purchases in cents: gross value (true quality, realised delivery)
    times the category price, minus what was paid."""
    return (
        category_price_cents * (value_base + quality_taste * quality - delay_cost * days)
        - paid_cents
    )
