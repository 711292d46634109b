"""Fees and shipping charges: the platform's price list, in one place.

Every rule that decides what a party pays per order lives here, as a pure
function of arrays (integer cents, rounded half to even per unit):

- the referral fee a third-party seller pays on its price,
- the fulfilment fee it pays on platform-fulfilled (FBA) units,
- the shipping fee a non-member pays on a platform-fulfilled item below the
  free-shipping threshold,
- the cost a self-fulfilling seller bears to ship.

Examples
--------
>>> import numpy as np
>>> referral_fee_cents(np.array([1000, 2500]), np.array([True, False]), 0.15).tolist()
[150, 0]
>>> shipping_fee_cents(np.array([500, 5000]), np.array([False, False]),
...                    np.array([True, True]), 3500, 599).tolist()
[599, 0]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "expected_fees_cents",
    "fulfilment_fee_cents",
    "pays_shipping",
    "referral_fee_cents",
    "self_ship_cost_cents",
    "shipping_fee_cents",
]


def referral_fee_cents(
    price_cents: NDArray[np.int64], third_party: NDArray[np.bool_], rate: float
) -> NDArray[np.int64]:
    """Referral fee per unit: ``rate`` x price for third-party units, 0 for the platform's own."""
    return np.where(third_party, np.rint(price_cents * rate), 0).astype(np.int64)


def fulfilment_fee_cents(
    price_cents: NDArray[np.int64],
    third_party: NDArray[np.bool_],
    fba: NDArray[np.bool_],
    fee_cents: int,
    fee_rate: float,
) -> NDArray[np.int64]:
    """Fulfilment fee per unit on third-party, platform-fulfilled units: a fixed part plus a
    share of the price."""
    return np.where(third_party & fba, fee_cents + np.rint(price_cents * fee_rate), 0).astype(
        np.int64
    )


def pays_shipping(
    price_cents: NDArray[np.int64], fba: NDArray[np.bool_], threshold_cents: int
) -> NDArray[np.bool_]:
    """Whether a non-member pays the shipping fee: platform-fulfilled and below the threshold."""
    return fba & (price_cents < threshold_cents)


def shipping_fee_cents(
    price_cents: NDArray[np.int64],
    member: NDArray[np.bool_],
    fba: NDArray[np.bool_],
    threshold_cents: int,
    fee_cents: int,
) -> NDArray[np.int64]:
    """Shipping fee a customer pays per order: members pay none; non-members pay ``fee_cents``
    on platform-fulfilled items below ``threshold_cents``."""
    return np.where(
        ~member & pays_shipping(price_cents, fba, threshold_cents), fee_cents, 0
    ).astype(np.int64)


def self_ship_cost_cents(
    price_cents: NDArray[np.int64], fba: NDArray[np.bool_], rate: float
) -> NDArray[np.int64]:
    """What a self-fulfilling seller spends to ship a unit (a share of its price)."""
    return np.where(~fba, np.rint(price_cents * rate), 0).astype(np.int64)


def expected_fees_cents(
    price_cents: NDArray[np.float64],
    fba: NDArray[np.bool_],
    referral_rate: float,
    fulfilment_fee_cents: int,
    fulfilment_rate: float,
) -> NDArray[np.float64]:
    """Fees a seller expects per unit (unrounded; for bidding and fulfilment decisions)."""
    return referral_rate * price_cents + np.where(
        fba, fulfilment_fee_cents + fulfilment_rate * price_cents, 0
    )
