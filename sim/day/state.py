"""The state the day's phases read and change, with named parts.

- :class:`Market`: everything that persists from day to day (customers,
  catalogue, sellers, campaigns, the logistics network, today's shelf);
- :class:`Network`: fulfilment centres, delivery stations and what they serve;
- :class:`Shelf`: today's organic ranking and the category signals customers
  expect (rebuilt each morning by :mod:`sim.day.ranking`);
- :class:`Sessions`: today's shopping sessions, one per need, as parallel
  arrays; the considered items form two named blocks, the assistant's
  ``PICKS`` columns and the results ``PAGE`` columns;
- :class:`Ledger`: today's totals, one typed field each, that phases add to and
  :mod:`sim.day.record` turns into the daily row.

A phase is a function of these (and its random stream); the model only wires.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from agents.advertiser import AdvertiserBook
from agents.customer import CustomerPopulation
from agents.seller import Catalogue, SellerBook
from sim.config import Config
from sim.geography import Regions
from sim.logistics import ServiceMap
from sim.rng import Streams

if TYPE_CHECKING:
    from sim.day.search_ads import SharedNormals

__all__ = [
    "N_PICKS",
    "PAGE",
    "PICKS",
    "Ledger",
    "Market",
    "Network",
    "OpenNeeds",
    "Sessions",
    "Shelf",
]

#: Considered-item columns of a session: the assistant's picks, then the results page.
N_PICKS = 3
PICKS = slice(0, N_PICKS)
PAGE = slice(N_PICKS, None)


@dataclass
class Network:
    """The logistics network and the service it gives each region."""

    regions: Regions
    fc_region: NDArray[np.int64]
    station_region: NDArray[np.int64]
    station_fc: NDArray[np.int64]
    #: per region: nearest station, its centre and distance (set by ``network.refresh``)
    service: ServiceMap | None = None
    station_capacity: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    #: expected days of a platform-fulfilled item for a member, per region
    region_fba_days: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    same_day_region: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    cumulative_deliveries: float = 0.0
    #: 30-day average of platform orders per region (the expansion signal)
    region_orders_ewma: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))


@dataclass
class Shelf:
    """Today's organic ranking and category signals (see :mod:`sim.day.ranking`)."""

    rating: NDArray[np.float64]
    ranked: NDArray[np.int64]
    cat_price_index: NDArray[np.float64]
    cat_quality: NDArray[np.float64]
    cat_fba_share: NDArray[np.float64]
    cat_ship_share: NDArray[np.float64]
    category_mean_bid: NDArray[np.float64]
    #: selection value per category (logit inclusive value, :mod:`sim.day.ranking`)
    cat_selection: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    #: its change since day 0 (or held while frozen), which customers value
    cat_selection_change: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))


@dataclass(frozen=True)
class OpenNeeds:
    """Needs left unmet at the end of a day: their first key, customer, category,
    intent and days open so far."""

    origin: NDArray[np.uint64]
    cust: NDArray[np.int64]
    cat: NDArray[np.int64]
    intent: NDArray[np.float64]
    age: NDArray[np.int64]

    @classmethod
    def none(cls) -> OpenNeeds:
        """No open needs (day 0)."""
        z = np.zeros(0, dtype=np.int64)
        return cls(np.zeros(0, np.uint64), z, z, np.zeros(0), z)


@dataclass
class Market:
    """Everything that persists from one day to the next."""

    config: Config
    day: int
    category_price: NDArray[np.int64]
    customers: CustomerPopulation
    products: Catalogue
    sellers: SellerBook
    ads: AdvertiserBook
    network: Network
    #: the run's random numbers (:class:`sim.rng.Streams`; draws keyed by identity)
    streams: Streams
    shelf: Shelf | None = None
    #: selection value per category on day 0, and while frozen (``flywheel.freeze``)
    selection_start: NDArray[np.float64] | None = None
    selection_hold: NDArray[np.float64] | None = None
    #: needs left unmet yesterday that may return today (``sim.day.needs.left_open``)
    open_needs: OpenNeeds | None = None
    #: the ad retrieval order of the day's eligible campaigns with the eligibility and
    #: scores it was sorted by (``sim.day.search_ads.retrieval_order``; a cache)
    ad_retrieval: tuple[NDArray, ...] | None = None
    #: the customers' patience column with its mean and its clipped log, worked out once
    #: for it (``sim.day.search_ads.patience_terms``; a cache)
    patience_terms: tuple[NDArray[np.float64], float, NDArray[np.float64]] | None = None
    #: the day's auction click-rate normals a counterfactual twin shares with its model
    #: (``sim.day.search_ads.SharedNormals``, one object in both): the twin writes them
    #: (``writes_normals``), the model reads them; None without a twin
    shared_normals: SharedNormals | None = None
    writes_normals: bool = False
    #: entrants decided at an entry review that have not launched yet: their
    #: categories and launch days (``sim.day.sellers.close_day``)
    queued_categories: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    queued_launch_days: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def n_categories(self) -> int:
        return len(self.category_price)

    @property
    def per_1k(self) -> float:
        """The market's customers in thousands (the scale of per-1,000 market parameters)."""
        return self.config.per_1k

    @property
    def weight(self) -> float:
        """Customers of the market each simulated customer stands for (``Config.weight``):
        sample flows into market accounts (sellers, campaigns, stations, ratings) are
        multiplied by it."""
        return self.config.weight


@dataclass
class Sessions:
    """Today's shopping sessions (one per need), as parallel arrays.

    The first block is drawn by :mod:`sim.day.needs`; later phases fill the
    rest. ``consider`` and the other (sessions, considered) arrays hold the
    assistant's picks in columns :data:`PICKS` and the results page in
    :data:`PAGE`.
    """

    #: identity of each session (a hash of day, customer and the need's ordinal):
    #: every later draw about the session is keyed by it (:mod:`sim.rng`)
    key: NDArray[np.uint64]
    cust: NDArray[np.int64]
    cat: NDArray[np.int64]
    intent: NDArray[np.float64]
    u_channel: NDArray[np.float64]
    u_depth: NDArray[np.float64]
    u_offer: NDArray[np.float64]
    n: int = 0
    #: days the need has been open before today (0: arose today; ``customers.need_persistence``)
    age: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    #: key of the need's first session (its own key on the day it arose)
    origin: NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, np.uint64))
    #: the customer's fixed traits per session, gathered once at arrival so that the
    #: day's passes over sessions read them in order (``sim.day.needs.arrive``)
    price_sensitivity: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    quality_taste: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    delay_cost: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    region: NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    # channel
    platform: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    online: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    external: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    net_rival: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    #: the customer's habit as the day began (read at channel choice; habit changes only
    #: at delivery, after the choice that reads it too)
    habit: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    #: the customer's Prime state as the day began (read at channel choice; it changes
    #: only at the Prime decisions, after delivery), for the passes that value items
    prime_state: NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, np.int8))
    #: the customer's trust in the assistant in platform sessions (read at consults; it
    #: changes only at delivery, after the choice that reads it), NaN elsewhere
    trust: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    # considered items (PICKS | PAGE)
    #: product rows (-1 none) and campaign rows (``ad_row``), 32-bit while they fit
    #: (``sim.day.search_ads.start_search``)
    consider: NDArray[np.signedinteger] = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    sponsored: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), bool))
    ad_row: NDArray[np.signedinteger] = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    advice: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), bool))
    paid: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), bool))
    recognised: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), bool))
    # assistant
    consult: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    #: the assistant's reported estimate of each pick's value (utility units), (n, N_PICKS)
    reported: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, N_PICKS)))
    #: a sold answer slot's paid pick's value to the customer minus that of the organic
    #: pick it displaced (cents, latent quality; 0 where no organic pick was displaced)
    pick_gap: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, N_PICKS)))
    would_consult: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    agentic: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    # outcome: product bought on the platform (-1 none), or a rival purchase
    product: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    rival: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    bought_col: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))


def _market() -> Any:
    """A ledger field booked from the market's own accounts (sellers, campaigns, the
    network), so already in market units."""
    return field(default=0.0, metadata={"market": True})


@dataclass
class Ledger:
    """Today's totals. Phases add to their fields; :mod:`sim.day.record` reads them.

    Money in cents (floats while summing, rounded once in the record); counts
    of sessions, clicks, orders and so on. Fields that phases add up over the
    simulated customers' sessions are sample totals; those declared with
    ``_market()`` are booked from the market's accounts. :meth:`in_market_units`
    puts them all on the market's scale.
    """

    # search and auctions
    platform_sessions: float = 0.0
    ad_clicks: float = 0.0
    #: what campaigns were charged (market units, as their budgets)
    ad_revenue_search_cents: float = _market()
    impressions: float = 0.0
    sponsored_impressions: float = 0.0
    clicks: float = 0.0
    clicks_top: float = 0.0
    top12_sponsored: float = 0.0
    top12_slots: float = 0.0
    # assistant
    assistant_consults: float = 0.0
    assistant_picks: float = 0.0
    assistant_ad_picks: float = 0.0
    assistant_ad_clicks: float = 0.0
    paid_pick_sessions: float = 0.0
    paid_pick_chosen: float = 0.0
    paid_pick_chosen_as_organic: float = 0.0
    sold_slots_displacing: float = 0.0
    sold_slot_value_gap_cents: float = 0.0
    ad_revenue_assistant_cents: float = _market()
    ads_recognised: float = 0.0
    ads_discovered: float = 0.0
    inference_cost_cents: float = 0.0
    agentic_purchases: float = 0.0
    # purchases and delivery
    orders: float = 0.0
    rival_purchases: float = 0.0
    gmv_cents: float = 0.0
    rival_revenue_cents: float = 0.0
    customer_payments_cents: float = 0.0
    referral_cents: float = 0.0
    fulfilment_cents: float = 0.0
    shipping_fees_cents: float = 0.0
    own_revenue_cents: float = 0.0
    own_margin_cents: float = 0.0
    delivery_cost_cents: float = 0.0
    third_party_units: float = 0.0
    third_party_revenue_cents: float = 0.0
    delivered_quality_sum: float = 0.0
    delivery_days_sum: float = 0.0
    same_day_orders: float = 0.0
    slipped: float = 0.0
    consumer_surplus_cents: float = 0.0
    quality_adjusted_price_sum: float = 0.0
    dsi_revenue_cents: float = 0.0
    dsi_margin_cents: float = 0.0
    #: the platform's revenue from DSI-credited orders (fees, shipping fees, own sales)
    dsi_net_revenue_cents: float = 0.0
    dsi_orders: float = 0.0
    dsi_session_revenue_cents: float = 0.0
    would_consult_revenue_cents: float = 0.0
    other_session_revenue_cents: float = 0.0
    other_platform_sessions: float = 0.0
    platform_margin_cents: float = 0.0
    sponsored_purchases: float = 0.0
    assistant_purchases: float = 0.0
    paid_pick_purchases: float = 0.0
    paid_pick_value_gap_cents: float = 0.0
    member_orders: float = 0.0
    consult_sessions_bought: float = 0.0
    nonconsult_sessions_bought: float = 0.0
    nonconsult_platform_sessions: float = 0.0
    would_consult_sessions: float = 0.0
    would_consult_bought: float = 0.0
    ad_conversions: float = 0.0
    ad_sales_cents: float = 0.0
    # Prime
    prime_trial_conversions: float = 0.0
    prime_trial_ends: float = 0.0
    prime_renewals: float = 0.0
    prime_cancels: float = 0.0
    prime_trials_started: float = 0.0
    prime_joins: float = 0.0
    prime_fees_cents: float = 0.0
    # sellers and advertisers
    seller_profit_cents: float = _market()
    seller_net_receipts_cents: float = _market()
    ad_spend_cents: float = _market()
    sellers_exited: float = _market()
    sellers_entered: float = _market()
    ad_budget_exhausted: float = _market()
    ad_campaigns_live: float = _market()
    ad_overspend_max_cents: float = _market()
    ad_overspend_beyond_batch_cents: float = _market()
    ad_sales_assistant_cents: float = 0.0
    # logistics
    stations_opened: float = _market()
    capex_cents: float = _market()
    station_opex_cents: float = _market()

    def names(self) -> tuple[str, ...]:
        """The field names, in declaration order."""
        return tuple(f.name for f in dataclasses.fields(self))

    def in_market_units(self, weight: float) -> Ledger:
        """A copy with every sample total multiplied by ``weight`` (the customers of the
        market each simulated customer stands for); market fields as they are.

        >>> Ledger(orders=3.0, sellers_entered=2.0).in_market_units(10.0).orders
        30.0
        >>> Ledger(orders=3.0, sellers_entered=2.0).in_market_units(10.0).sellers_entered
        2.0
        """
        scaled = {
            f.name: getattr(self, f.name) * weight
            for f in dataclasses.fields(self)
            if not f.metadata.get("market")
        }
        return dataclasses.replace(self, **scaled)
