"""The platform's shopping assistant (Rufus-like) and its "help me decide" answers.

On a consult the assistant retrieves the category's top organic products,
estimates the customer's utility for each with noise that falls with its
``model_scale`` (``noise_sd * scale**-noise_scale_exponent``; inference costs
``inference_cost_cents * scale**cost_scale_exponent`` per consult) and
answers with three picks: a top pick, a budget option and a premium option.

Ads enter answers through ``ad_weight``: the ranking used for the answer adds
``ad_weight`` times the advertiser's bid (relative to the category's
reference price per click) to each advertised candidate, and
``self_preference`` to the platform's own products. An answer item is a paid
placement when it is in the answer only because of the bid tilt (the
untilted ranking would not have put it in that slot) — so with
``ad_weight = 0`` there are no ads in answers whatever the ``ad_mode``.
``ad_mode`` decides what the customer sees: ``none`` ignores bids,
``labelled`` marks paid placements, ``blended`` does not.
"""

from __future__ import annotations

import mesa
import numpy as np
from numpy.typing import NDArray

from sim import kernels
from sim.config import AdMode, AssistantSection

__all__ = ["Assistant", "help_me_decide", "recognition_probability"]


def help_me_decide(
    score: NDArray[np.float64],
    price: NDArray[np.float64],
    signal: NDArray[np.float64],
    valid: NDArray[np.bool_],
    group: NDArray[np.int64] | None = None,
) -> NDArray[np.int64]:
    """Column indices of the (top, budget, premium) picks per row, -1 where none.

    The top pick has the highest score; the budget option the highest score
    among the rest priced at or below the row's median price; the premium
    option the highest score among the remaining with a quality signal at or
    above the row's median.

    ``group`` (optional, non-negative integers) names rows that are likely to share
    their prices, signals and validity (the candidates of one category), so that their
    medians are worked out once; the picks are the same whatever it is.

    >>> s = np.array([[3.0, 2.0, 1.0, 0.5]]); p = np.array([[50., 10., 90., 20.]])
    >>> q = np.array([[0.5, 0.2, 0.9, 0.1]])
    >>> help_me_decide(s, p, q, np.ones((1, 4), bool)).tolist()
    [[0, 1, 2]]
    """
    # one compiled pass (sim.kernels.help_me_decide_rows): the masked argmaxes and the
    # row medians (of the valid entries, as np.nanmedian) of the NumPy form
    n = np.shape(score)[0]
    group = np.zeros(n, dtype=np.int64) if group is None else np.asarray(group, dtype=np.int64)
    return kernels.help_me_decide_rows(
        np.ascontiguousarray(score, dtype=np.float64),
        np.ascontiguousarray(price, dtype=np.float64),
        np.ascontiguousarray(signal, dtype=np.float64),
        np.ascontiguousarray(valid, dtype=np.bool_),
        group,
        int(group.max()) + 1 if n else 1,
    )


def recognition_probability(
    ad_literacy: NDArray[np.float64], mode: AdMode, blended_factor: float
) -> NDArray[np.float64]:
    """Chance that a customer recognises a paid placement as an ad."""
    if mode == AdMode.LABELLED:
        return ad_literacy
    if mode == AdMode.BLENDED:
        return ad_literacy * blended_factor
    return np.zeros_like(ad_literacy)


class Assistant(mesa.Agent):
    """The platform-owned assistant: its policy and its running totals.

    The per-consult work is vectorised in the model's assistant phase; this
    agent holds the policy in force (it changes when a scheduled
    intervention changes the config) and the totals shown in the visualiser.
    """

    def __init__(self, model: mesa.Model, policy: AssistantSection) -> None:
        super().__init__(model)
        self.policy = policy
        #: totals since day 0, in market units (``Config.weight`` per simulated consult)
        self.consults = 0.0
        self.paid_placements = 0.0
        self.inference_cost_cents = 0.0

    @property
    def noise_sd(self) -> float:
        """Sd of the utility estimate at the current model scale."""
        p = self.policy
        return p.noise_sd * p.model_scale ** (-p.noise_scale_exponent)

    @property
    def cost_per_consult_cents(self) -> float:
        """Inference cost of one consult at the current model scale."""
        p = self.policy
        return p.inference_cost_cents * p.model_scale**p.cost_scale_exponent

    @property
    def shows_ads(self) -> bool:
        """Whether bids can change answers at all."""
        return self.policy.ad_mode != AdMode.NONE and self.policy.ad_weight > 0
