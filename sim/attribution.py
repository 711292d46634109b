"""Attribution of purchases to the assistant: DSI windows and the causal difference.

Two measures are computed in every run:

- **DSI** ("downstream impact"): every purchase within ``window_days`` of
  the customer's last assistant consult is credited to the assistant
  (optionally only purchases in the consulted category);
- **causal impact**: the difference of a daily total between the run and its
  paired counterfactual with the assistant off (same seed).

Examples
--------
>>> import numpy as np
>>> in_dsi_window(10, np.array([9, 2, 10]), np.array([1, 1, 2]), np.array([1, 1, 1]), 7,
...               same_category_only=False).tolist()
[True, False, True]
>>> in_dsi_window(10, np.array([9, 2, 10]), np.array([1, 1, 2]), np.array([1, 1, 1]), 7,
...               same_category_only=True).tolist()
[True, False, False]
>>> causal_difference({"gmv_cents": 120}, {"gmv_cents": 100}, "gmv_cents")
20
>>> causal_difference({"gmv_cents": 120}, None, "gmv_cents") is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["causal_difference", "in_dsi_window"]


def in_dsi_window(
    day: int,
    last_consult_day: NDArray[np.integer],
    last_consult_category: NDArray[np.integer],
    category: NDArray[np.integer],
    window_days: int,
    *,
    same_category_only: bool,
) -> NDArray[np.bool_]:
    """Whether purchases made on ``day`` fall inside the DSI window of the buyer's last
    consult (``window_days`` days inclusive; same category if ``same_category_only``)."""
    inside = (day - last_consult_day) <= window_days
    if same_category_only:
        inside &= last_consult_category == category
    return inside


def causal_difference(
    row: Mapping[str, Any], counterfactual: Mapping[str, Any] | None, key: str
) -> Any:
    """A daily total minus the same total in the assistant-off counterfactual (None without
    a counterfactual)."""
    if counterfactual is None:
        return None
    return row[key] - counterfactual[key]
