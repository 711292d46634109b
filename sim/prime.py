"""Prime membership decisions, as functions of arrays.

A customer values membership at ``value_cents`` per month: expected shipping
fees saved, the value of faster delivery (both learnt from the customer's
own recent platform orders) and non-shipping benefits. Decisions are
logistic in money with scale ``noise_cents`` (random utility):

- a non-member who never had a trial takes a free trial when the monthly
  value exceeds the expected hassle of cancelling it later;
- a non-member who had a trial joins when the value exceeds the monthly
  fee equivalent of her plan;
- at the end of a trial and at each renewal a member stays when value plus
  status-quo bias plus the cancellation friction she would have to go
  through exceeds the fee (Samuelson & Zeckhauser 1988 status-quo bias).

Examples
--------
>>> import numpy as np
>>> p = stay_probability(np.array([1500.0]), 1499, status_quo_bias_cents=0,
...                      cancellation_friction_cents=0, noise_cents=500)
>>> float(p[0]) > 0.5
True
"""

from __future__ import annotations

import enum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim.choice import binary_logit

__all__ = [
    "Plan",
    "PrimeEvent",
    "PrimeState",
    "TrialOutcome",
    "join_probability",
    "monthly_fee_cents",
    "nonmember_promise_days",
    "period_days",
    "stay_probability",
    "trial_probability",
]


class PrimeState(enum.IntEnum):
    """Membership state of a customer."""

    NONE = 0
    TRIAL = 1
    MEMBER = 2


class Plan(enum.IntEnum):
    """Payment plan of a member (or the plan a non-member would choose)."""

    MONTHLY = 0
    ANNUAL = 1


class PrimeEvent(enum.IntEnum):
    """One row of ``prime_events.parquet``: what happened to a customer's membership.

    A spell starts with ``TRIAL_START`` or ``JOIN`` (or, for a member at the start of
    the run, ``AT_START`` on day 0) and ends with ``TRIAL_LAPSE`` or ``CANCEL``;
    ``TRIAL_CONVERT`` (the first payment after a trial) and ``RENEWAL`` continue it.
    """

    TRIAL_START = 0
    TRIAL_CONVERT = 1
    TRIAL_LAPSE = 2
    JOIN = 3
    RENEWAL = 4
    CANCEL = 5
    #: a member at the start of the run (a spell begun before day 0, counted from day 0)
    AT_START = 6


class TrialOutcome(enum.IntEnum):
    """What became of a customer's free trial."""

    NEVER = 0
    ACTIVE = 1
    CONVERTED = 2
    CANCELLED = 3


def period_days(plan: ArrayLike) -> NDArray[np.int64]:
    """Days between payments: 30 for monthly, 365 for annual."""
    return np.where(np.asarray(plan) == Plan.ANNUAL, 365, 30).astype(np.int64)


def nonmember_promise_days(
    member_days: ArrayLike, fba: ArrayLike, nonmember_days: int
) -> NDArray[np.int64]:
    """The promise a non-member gets: platform-fulfilled items no faster than the standard
    non-member delivery (``nonmember_days``); self-fulfilled items as for anyone.

    >>> nonmember_promise_days(np.array([0, 1, 5]), np.array([True, True, False]), 2).tolist()
    [2, 2, 5]
    """
    days = np.asarray(member_days)
    return np.where(fba, np.maximum(days, nonmember_days), days)


def monthly_fee_cents(plan: ArrayLike, monthly_cents: int, annual_cents: int) -> NDArray:
    """The fee of each customer's plan per 30 days, in cents (annual spread over 12.17 months)."""
    return np.where(
        np.asarray(plan) == Plan.ANNUAL, annual_cents * 30.0 / 365.0, float(monthly_cents)
    )


def trial_probability(
    value_cents: ArrayLike, cancellation_friction_cents: float, noise_cents: float
) -> NDArray[np.float64]:
    """Chance to take a free trial: value of a month against the hassle of cancelling."""
    v = np.asarray(value_cents, dtype=np.float64)
    return binary_logit((v - cancellation_friction_cents) / noise_cents)


def join_probability(
    value_cents: ArrayLike, fee_month_cents: ArrayLike, noise_cents: float
) -> NDArray[np.float64]:
    """Chance that a non-member pays to join: monthly value against the monthly fee."""
    v = np.asarray(value_cents, dtype=np.float64)
    return binary_logit((v - np.asarray(fee_month_cents)) / noise_cents)


def stay_probability(
    value_cents: ArrayLike,
    fee_month_cents: ArrayLike,
    *,
    status_quo_bias_cents: float,
    cancellation_friction_cents: float,
    noise_cents: float,
) -> NDArray[np.float64]:
    """Chance that a member renews (or a trial converts).

    Staying is the status quo, so it earns ``status_quo_bias_cents``;
    leaving costs ``cancellation_friction_cents`` of hassle.
    """
    v = np.asarray(value_cents, dtype=np.float64)
    margin = v + status_quo_bias_cents + cancellation_friction_cents - np.asarray(fee_month_cents)
    return binary_logit(margin / noise_cents)
