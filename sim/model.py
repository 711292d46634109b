"""The marketplace model: one Mesa model, one simulated day per step.

The day follows the schedule of ``docs/ODD.md`` section 3 (process overview):

1. needs arrive (who needs what today, and how badly);
2. channel choice: platform or the rival;
3. search and ad auctions: results pages, examination and clicks;
4. the assistant answers consults;
5. choice among considered items, the rival and not buying;
6. delivery and learning: promises, capacity, fees, reviews, habit, trust;
7. Prime decisions: trials, joins, conversions, renewals;
8. sellers: accounts, repricing, fulfilment, entry and exit;
9. advertisers: pacing, bids, budgets;
10. logistics: station expansion and costs;
11. the day's record.

Customers, products, sellers and advertisers are columns (see ``agents``);
each phase is one method that works on whole arrays. Sellers, advertisers,
the assistant, the rival, the platform's retail arm and the logistics sites
are also Mesa agents, so ``model.agents`` and Mesa's tooling see them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mesa
import numpy as np
from mesa.discrete_space import OrthogonalMooreGrid
from numpy.typing import NDArray

from agents.advertiser import (
    Advertiser,
    AdvertiserBook,
    BidStrategy,
    next_bids,
    next_budgets,
    next_pacing,
)
from agents.assistant import Assistant, help_me_decide, recognition_probability
from agents.customer import (
    Customer,
    CustomerPopulation,
    consult_probability,
    next_habit,
    next_trust,
)
from agents.facility import DeliveryStation, FulfilmentCentre
from agents.rival import Rival
from agents.seller import (
    PLATFORM_SELLER,
    Catalogue,
    PlatformRetail,
    Seller,
    SellerBook,
    entrants_per_category,
    fulfilment_choice,
    new_product_terms,
    reprice,
)
from sim import logistics, prime, search
from sim.auctions import allocate
from sim.choice import binary_logit, choose, mark_duplicates
from sim.config import Config
from sim.rng import Streams

__all__ = ["HEADLINE", "PARAM_ALIASES", "MarketplaceModel"]

#: Keyword parameters accepted by ``MarketplaceModel(**params)`` (for Mesa
#: tooling and the visualiser) and the config keys they set. Any other
#: ``section__name`` keyword sets ``section.name``.
PARAM_ALIASES: dict[str, str] = {
    "n_customers": "run.n_customers",
    "days": "run.days",
    "assistant_enabled": "assistant.enabled",
    "ad_mode": "assistant.ad_mode",
    "ad_weight": "assistant.ad_weight",
    "prime_enabled": "prime.enabled",
    "prime_monthly_fee_cents": "prime.monthly_fee_cents",
    "prime_annual_fee_cents": "prime.annual_fee_cents",
    "same_day_radius_cells": "logistics.same_day_radius_cells",
    "rival_price_index": "rival.price_index",
}

#: Daily columns reported by the model's Mesa DataCollector.
HEADLINE = (
    "platform_share",
    "orders",
    "gmv_cents",
    "prime_members",
    "prime_share_active",
    "ad_revenue_cents",
    "sponsored_impression_share",
    "consumer_surplus_cents",
    "mean_trust",
    "assistant_consults",
    "dsi_revenue_cents",
    "causal_revenue_cents",
    "stations",
    "sellers_active",
    "mean_delivery_days",
)

_EWMA_DAYS = 30.0


def _params_to_changes(params: dict[str, Any]) -> dict[str, Any]:
    changes = {}
    for key, value in params.items():
        if key in PARAM_ALIASES:
            changes[PARAM_ALIASES[key]] = value
        elif "__" in key:
            changes[key.replace("__", ".", 1)] = value
        else:
            allowed = ", ".join([*PARAM_ALIASES, "section__name"])
            raise TypeError(f"unknown model parameter {key!r}; allowed: {allowed}")
    return changes


@dataclass
class Sessions:
    """Today's shopping sessions (one per need), as parallel arrays."""

    cust: NDArray[np.int64]
    cat: NDArray[np.int64]
    intent: NDArray[np.float64]
    u_channel: NDArray[np.float64]
    u_depth: NDArray[np.float64]
    u_click: NDArray[np.float64]
    u_offer: NDArray[np.float64]
    gumbel: NDArray[np.float64]
    n: int = 0
    # filled by the phases
    platform: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    online: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    external: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    consider: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    sponsored: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), bool))
    ad_row: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    advice: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), bool))
    paid: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), bool))
    recognised: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), bool))
    consult: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    would_consult: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    net_rival: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    agentic: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    # outcome: product bought on the platform (-1 none), or rival purchase
    product: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    rival: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    bought_col: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))


class MarketplaceModel(mesa.Model):
    """Agent-based model of an AI-assisted online marketplace.

    Parameters
    ----------
    config
        A validated :class:`sim.config.Config` (defaults to ``Config()``).
    seed
        Root seed; overrides ``config.run.seed`` when given.
    event_sink
        Called with a dict of equal-length arrays, one row per purchase,
        at the end of every day (used to stream ``events.parquet``).
    map_layers
        Keep the grid's property layers (platform share, Prime share,
        delivery days) up to date for the visualiser; ``simulate`` turns
        this off, as no table reads them.
    profile_phases
        Accumulate wall time per phase of the day in ``phase_seconds``
        (the benchmark's per-phase profile; the twin's time is counted
        under ``twin``).
    **params
        Plain keyword parameters for Mesa tooling: the names in
        :data:`PARAM_ALIASES`, or ``section__name`` for any config key.

    Examples
    --------
    >>> m = MarketplaceModel(n_customers=500, days=5, seed=1)
    >>> while m.running:
    ...     m.step()
    >>> m.day, len(m.daily_rows)
    (5, 5)
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        seed: int | None = None,
        event_sink: Callable[[dict[str, NDArray]], None] | None = None,
        profile_phases: bool = False,
        map_layers: bool = True,
        _is_twin: bool = False,
        **params: Any,
    ) -> None:
        cfg = config if config is not None else Config()
        changes = _params_to_changes(params)
        if seed is not None:
            changes["run.seed"] = int(seed)
        if changes:
            cfg = cfg.evolve(changes)
        self.streams = Streams(cfg.run.seed)
        super().__init__(seed=self.streams.mesa_seed())
        self.running: bool = True
        self.base_config = cfg
        self.config = cfg.at_day(0)
        self.is_twin = _is_twin
        self.day = 0
        self.event_sink = event_sink
        self.phase_seconds: dict[str, float] | None = {} if profile_phases else None
        self.map_layers = map_layers
        self.daily_rows: list[dict[str, Any]] = []
        self._change_days = sorted({c.day for c in cfg.schedule if c.day > 0})
        self.n = cfg.run.n_customers
        self.per_1k = self.n / 1000.0

        self._build_geography()
        self.customers = CustomerPopulation(cfg, self.regions.density, self.streams["population"])
        self._build_logistics()
        self._build_sellers()
        self.assistant = Assistant(self, self.config.assistant)
        self.rival = Rival(self, self.config.rival, self.n_categories, self.streams["rival"])
        self._init_ledgers()
        self._rank_products()

        self.twin: MarketplaceModel | None = None
        if not _is_twin and cfg.attribution.counterfactual_twin and cfg.assistant.enabled:
            twin_cfg = cfg.evolve(
                {"assistant.enabled": False, "attribution.counterfactual_twin": False}
            )
            self.twin = MarketplaceModel(twin_cfg, profile_phases=profile_phases, _is_twin=True)

        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in HEADLINE}
        )

    # ------------------------------------------------------------------
    # construction
    # ------------------------------------------------------------------
    def _build_geography(self) -> None:
        g = self.config.geography
        self.regions = logistics.make_regions(
            g.width_cells,
            g.height_cells,
            g.n_metros,
            g.metro_sigma_cells,
            g.rural_density,
            self.streams["geography"],
        )
        self.grid = OrthogonalMooreGrid(
            (g.width_cells, g.height_cells), torus=False, random=self.random
        )
        for name in ("density", "platform_share", "prime_share", "delivery_days"):
            self.grid.create_property_layer(name, default_value=0.0, dtype=float)
        self._set_layer("density", self.regions.density)
        rng = self.streams["sellers"]
        c = self.config.catalogue
        self.n_categories = c.n_categories
        prices = c.median_price_cents * np.exp(c.price_sigma * rng.standard_normal(c.n_categories))
        self.category_price = np.maximum(100, np.rint(prices)).astype(np.int64)

    def _set_layer(self, name: str, values: NDArray[np.float64]) -> None:
        g = self.config.geography
        layer = getattr(self.grid, name)
        layer.data[:, :] = np.asarray(values, dtype=float).reshape(g.height_cells, g.width_cells).T

    def region_cell(self, region: int) -> Any:
        """The grid cell of a region index (``r = y * width + x``)."""
        w = self.config.geography.width_cells
        return self.grid._cells[(int(region) % w, int(region) // w)]

    def _build_logistics(self) -> None:
        lg = self.config.logistics
        fc_regions = logistics.place_fulfilment_centres(self.regions, lg.n_centres)
        self.fc_region = np.asarray(fc_regions, dtype=np.int64)
        self.centres = [
            FulfilmentCentre(self, self.region_cell(r), int(r), i)
            for i, r in enumerate(self.fc_region)
        ]
        st = logistics.place_initial_stations(
            self.regions, lg.n_centres * lg.stations_per_centre, lg.station_min_spacing_cells
        )
        self.station_region = np.zeros(0, dtype=np.int64)
        self.station_fc = np.zeros(0, dtype=np.int64)
        self.stations: list[DeliveryStation] = []
        self._open_stations(np.asarray(st, dtype=np.int64), day=0)
        self.cumulative_deliveries = 0.0
        self.region_orders_ewma = np.zeros(len(self.regions.density))
        self._region_platform = np.zeros(len(self.regions.density))
        self._region_purchases = np.zeros(len(self.regions.density))

    def _station_capacity(self) -> int:
        return max(1, int(np.ceil(self.config.logistics.station_capacity_per_1k * self.per_1k)))

    def _open_stations(self, regions: NDArray[np.int64], day: int) -> None:
        if len(regions) == 0 and len(self.station_region) > 0:
            return
        xy = self.regions.xy
        _, fc = logistics.nearest(xy[regions], xy[self.fc_region])
        start = len(self.station_region)
        self.station_region = np.concatenate([self.station_region, regions])
        self.station_fc = np.concatenate([self.station_fc, fc.astype(np.int64)])
        cap = self._station_capacity()
        for k, (r, f) in enumerate(zip(regions, fc, strict=True)):
            self.stations.append(
                DeliveryStation(self, self.region_cell(r), int(r), start + k, int(f), day, cap)
            )
        self._service_changed()

    def _service_changed(self) -> None:
        """Recompute which station serves each region and the promise a member expects."""
        lg = self.config.logistics
        xy = self.regions.xy
        self.service = logistics.station_service(xy, xy[self.station_region], self.station_fc)
        self.station_capacity = np.full(len(self.station_region), self._station_capacity())
        dist = self.service.dist_cells
        fba_days = np.where(
            dist <= lg.same_day_radius_cells,
            (1 - lg.stock_share) * 1.0,
            np.where(dist <= lg.next_day_radius_cells, 1.0, float(lg.standard_days)),
        )
        self.region_fba_days = fba_days
        self.same_day_region = dist <= lg.same_day_radius_cells

    def _build_sellers(self) -> None:
        cfg = self.config
        s = cfg.sellers
        rng = self.streams["sellers"]
        self.sellers = SellerBook()
        self.products = Catalogue()
        self.ads = AdvertiserBook()
        self.seller_agents: dict[int, Seller] = {}
        self.advertiser_agents: dict[int, Advertiser] = {}
        # seller 0: the platform's retail arm
        self.sellers.append(
            1,
            category=-1,
            is_platform=True,
            active=s.platform_retail,
            fba=True,
            markup=s.platform_markup_rate,
        )
        if s.platform_retail:
            n_own = max(1, round(s.platform_products_per_category_per_1k * self.per_1k))
            n_private = max(1, round(s.private_label_per_category_per_1k * self.per_1k))
            per_cat = n_own + n_private
            cats = np.repeat(np.arange(self.n_categories), per_cat)
            private = np.tile(np.arange(per_cat) >= n_own, self.n_categories)
            self._list_products(
                np.full(len(cats), PLATFORM_SELLER),
                cats,
                np.full(len(cats), s.platform_markup_rate),
                fba=np.ones(len(cats), bool),
                own=np.ones(len(cats), bool),
                private=private,
                day=0,
                rng=rng,
            )
        self.seller_agents[PLATFORM_SELLER] = PlatformRetail(self, self.sellers, PLATFORM_SELLER)
        per_cat = max(
            s.min_initial_per_category, round(s.initial_per_category_per_1k * self.per_1k)
        )
        cats = np.repeat(np.arange(self.n_categories), per_cat)
        self._enter_sellers(cats, day=0, rng=rng)

    def _enter_sellers(self, cats: NDArray[np.int64], day: int, rng: np.random.Generator) -> None:
        """Add third-party sellers in categories ``cats`` with their products and campaigns."""
        s = self.config.sellers
        n = len(cats)
        if n == 0:
            return
        markup = s.markup_rate * np.exp(0.2 * rng.standard_normal(n))
        fba = rng.random(n) < s.fba_initial_share
        advertises = rng.random(n) < self.config.ads.advertiser_share
        rows = self.sellers.append(
            n, category=cats, entry_day=day, fba=fba, advertises=advertises, markup=markup
        )
        n_prod = 1 + rng.poisson(s.products_per_seller - 1.0, n)
        owner = np.repeat(rows, n_prod)
        self._list_products(
            owner,
            np.repeat(cats, n_prod),
            np.repeat(markup, n_prod),
            fba=np.repeat(fba, n_prod),
            own=np.zeros(len(owner), bool),
            private=np.zeros(len(owner), bool),
            day=day,
            rng=rng,
        )
        self.sellers.col("n_products")[rows] = n_prod
        for r in rows:
            self.seller_agents[int(r)] = Seller(self, self.sellers, int(r))
        self._start_campaigns(rows[advertises], day)

    def _list_products(self, owner, cats, markup, *, fba, own, private, day, rng) -> None:
        quality, cost, price = new_product_terms(
            self.category_price, cats, markup, self.config, rng
        )
        masks = logistics.stock_masks(
            len(cats),
            self.config.logistics.n_centres,
            self.config.logistics.stock_share,
            self.streams["logistics"],
        )
        self.products.append(
            len(cats),
            seller=owner,
            category=cats,
            quality=quality,
            unit_cost_cents=cost,
            price_cents=price,
            fba=fba,
            stock_mask=masks,
            own=own,
            private_label=private,
            listed_day=day,
        )

    def _start_campaigns(self, seller_rows: NDArray[np.int64], day: int) -> None:
        """One sponsored-product campaign per listed product of each advertising seller;
        a seller's campaigns share its strategy and target ACoS."""
        if len(seller_rows) == 0:
            return
        a = self.config.ads
        rng = self.streams["advertisers"]
        n = len(seller_rows)
        strategy = np.where(rng.random(n) < 0.5, BidStrategy.VALUE, BidStrategy.TARGET_ACOS)
        target = np.clip(rng.normal(a.target_acos_mean, a.target_acos_sd, n), 0.02, 2.0)
        p = self.products
        products = np.flatnonzero(np.isin(p.col("seller"), seller_rows) & p.col("active"))
        owner = np.searchsorted(seller_rows, p.col("seller")[products])
        cats = p.col("category")[products]
        rows = self.ads.append(
            len(products),
            seller=seller_rows[owner],
            category=cats,
            product=products,
            strategy=strategy[owner],
            target_acos=target[owner],
            budget_cents=self._budget_for(p.col("price_cents")[products], cats),
            pacing=1.0,
        )
        self._rebid(rows)
        for r in rows:
            self.advertiser_agents[int(r)] = Advertiser(self, self.ads, int(r))

    def _budget_for(self, price: NDArray[np.int64], cats: NDArray) -> NDArray[np.int64]:
        """Daily budget: a share of the revenue a campaign's product can expect."""
        c = self.config
        per_cat_needs = self.n * c.customers.need_rate_per_day / self.n_categories
        listed = np.bincount(
            self.products.col("category")[self.products.col("active")],
            minlength=self.n_categories,
        )
        units = 0.5 * per_cat_needs / np.maximum(listed[cats], 1)
        budget = c.ads.budget_share_of_revenue * units * price
        return np.maximum(np.rint(budget), c.ads.min_daily_budget_cents).astype(np.int64)

    def _init_ledgers(self) -> None:
        self.totals: dict[str, int] = {}
        self.stations_opened_today = 0
        self.capex_today = 0

    # ------------------------------------------------------------------
    # the day
    # ------------------------------------------------------------------
    def step(self) -> None:
        """Advance the marketplace by one day (phases as in the module docstring)."""
        if not self.running:
            return
        d = self.day
        if d in self._change_days:
            self._apply_config(self.base_config.at_day(d))
        if self.twin is not None:
            self._run_phase("twin", self.twin.step)
        self.t: dict[str, float] = dict.fromkeys(_COUNTERS, 0.0)
        run = self._run_phase
        rival_index = self.rival.quote()
        # 1. Needs arrive
        s = run("needs", self._needs)
        # 2. Channel choice: platform or rival
        run("channel", self._channel, s, rival_index)
        # 3. Search and sponsored-product auctions
        run("search_auctions", self._search, s)
        # 4. Assistant consults
        run("assistant", self._assistant, s)
        # 5. Choice among considered items, the rival and not buying
        run("choice", self._choice, s)
        # 6. Delivery and learning
        run("delivery", self._deliver, s, rival_index)
        # 7. Prime decisions
        run("prime", self._prime, s)
        # 8. Sellers: accounts, pricing, fulfilment, entry and exit
        run("sellers", self._sellers_day)
        # 9. Advertisers: pacing, bids, budgets
        run("advertisers", self._advertisers_day)
        # 10. Logistics: station expansion
        run("logistics", self._logistics_day)
        # 11. Record the day (and tomorrow's ranking)
        run("record", self._record, s)
        self.datacollector.collect(self)
        self.day += 1
        run("record", self._rank_products)
        if self.day >= self.base_config.run.days:
            self.running = False

    def _run_phase(self, name: str, phase: Callable[..., Any], *args: Any) -> Any:
        """Run one phase; with ``profile_phases`` on, add its wall time to ``phase_seconds``."""
        if self.phase_seconds is None:
            return phase(*args)
        t0 = time.perf_counter()
        out = phase(*args)
        self.phase_seconds[name] = self.phase_seconds.get(name, 0.0) + time.perf_counter() - t0
        return out

    def _apply_config(self, cfg: Config) -> None:
        """Switch to the config in force from today (a scheduled intervention)."""
        old = self.config
        self.config = cfg
        self.assistant.policy = cfg.assistant
        self.rival.terms = cfg.rival
        if cfg.logistics != old.logistics:
            self._service_changed()

    # -- 1 ---------------------------------------------------------------
    def _needs(self) -> Sessions:
        c = self.config
        pop = self.customers
        g = self.streams["needs"]
        total = float(pop.need_cdf[-1])
        m = int(g.poisson(total))
        # sorted queries make the search cache-friendly; a permutation restores a random
        # order of sessions through the day (it decides who shops before budgets run out)
        u = np.sort(g.random(m)) * total
        cust = np.minimum(np.searchsorted(pop.need_cdf, u, side="right"), pop.n - 1)
        cust = cust[g.permutation(m)]
        u_cat = g.random(m)
        cat = (u_cat[:, None] > pop.profile_cdf[pop.profile[cust]]).sum(axis=1)
        cat = np.minimum(cat, self.n_categories - 1)
        intent = (
            g.normal(0.0, c.customers.intent_sd, m) if c.customers.intent_sd > 0 else np.zeros(m)
        )
        k = c.search.page_slots
        return Sessions(
            cust=cust.astype(np.int64),
            cat=cat.astype(np.int64),
            intent=intent,
            u_channel=self.streams["channel"].random(m),
            u_depth=self.streams["search"].random(m),
            u_click=self.streams["search"].random((m, k)),
            u_offer=self.streams["prime"].random(m),
            gumbel=self.streams["choice"].gumbel(size=(m, k + 5)),
            n=m,
        )

    # -- 2 ---------------------------------------------------------------
    def offline_share(self) -> NDArray[np.float64]:
        """Share of each region's customers without internet access today."""
        cn = self.config.connectivity
        rural = cn.rural_offline_share
        if 0 <= cn.satellite_start_day <= self.day:
            progress = min(1.0, (self.day - cn.satellite_start_day) / cn.satellite_rollout_days)
            rural = rural + progress * (cn.satellite_final_rural_offline_share - rural)
        return np.where(self.regions.is_metro, cn.metro_offline_share, rural)

    def _expected_net(self, s: Sessions, idx: NDArray[np.int64]) -> tuple[NDArray, NDArray]:
        """Expected net value (in category prices) of the platform for sessions ``idx``."""
        c = self.config
        pop = self.customers
        ci = s.cust[idx]
        cat = s.cat[idx]
        member = pop.member(ci)
        days = np.where(
            member,
            self.region_fba_days[pop.region[ci]] * self.cat_fba_share[cat]
            + (1 - self.cat_fba_share[cat]) * c.logistics.self_fulfilled_days,
            np.maximum(c.prime.nonmember_days, self.region_fba_days[pop.region[ci]]),
        )
        ship = np.where(member, 0.0, self.cat_ship_share[cat])
        net = (
            c.customers.value_base
            + pop.quality_taste[ci] * self.cat_quality[cat]
            - self.cat_price_index[cat]
            - pop.delay_cost[ci] * days
            - ship
        )
        return net, member

    def _rival_net(self, s: Sessions, rival_index: NDArray[np.float64]) -> NDArray[np.float64]:
        c = self.config
        pop = self.customers
        return (
            c.customers.value_base
            + pop.quality_taste[s.cust] * c.rival.quality
            - rival_index[s.cat]
            - pop.delay_cost[s.cust] * c.rival.delivery_days
        )

    def _channel(self, s: Sessions, rival_index: NDArray[np.float64]) -> None:
        c = self.config
        pop = self.customers
        ci = s.cust
        s.online = pop.online_u[ci] >= self.offline_share()[pop.region[ci]]
        ext = c.external_agents
        s.external = s.online & (pop.agent_u[ci] < ext.share) & (not ext.blocked)
        net_plat, _member = self._expected_net(s, np.arange(s.n))
        s.net_rival = self._rival_net(s, rival_index)
        since = self.day - pop.last_payment_day[ci]
        sunk = np.where(
            (pop.prime_state[ci] == prime.PrimeState.MEMBER) & (pop.last_payment_day[ci] >= 0),
            c.channel.sunk_cost_weight * np.exp(-since / c.channel.sunk_cost_decay_days),
            0.0,
        )
        diff = (
            pop.price_sensitivity[ci] * c.channel.expected_price_weight * (net_plat - s.net_rival)
            + c.channel.habit_weight * pop.habit[ci]
            + c.channel.platform_bias
            + sunk
        )
        s.platform = s.online & ~s.external & (s.u_channel < binary_logit(diff))

    # -- 3 ---------------------------------------------------------------
    def _perceived_net(self, ci, cat, items, *, true_quality: bool = False):
        """Net value in category prices of ``items`` (S, K) for customers ``ci``, and days."""
        c = self.config
        pop = self.customers
        p = self.products
        safe = np.maximum(items, 0)
        q = p.col("quality")[safe] if true_quality else self.rating[safe]
        price = p.col("price_cents")[safe]
        P = self.category_price[cat][:, None].astype(np.float64)
        days = self._promise(ci, safe)
        member = pop.member(ci)[:, None]
        ship = np.where(
            ~member & (price < c.prime.free_shipping_threshold_cents) & p.col("fba")[safe],
            c.prime.shipping_fee_cents,
            0,
        )
        net = (
            c.customers.value_base
            + pop.quality_taste[ci][:, None] * q
            - (price + ship) / P
            - pop.delay_cost[ci][:, None] * days
        )
        return net, days

    def _promise(self, ci: NDArray[np.int64], items: NDArray[np.int64]) -> NDArray[np.int64]:
        """Promised delivery days of ``items`` (any shape, first axis per customer)."""
        lg = self.config.logistics
        pop = self.customers
        p = self.products
        reg = pop.region[ci]
        shape = (-1,) + (1,) * (items.ndim - 1)
        days = logistics.promise_days(
            self.service.dist_cells[reg].reshape(shape),
            self.service.fc[reg].reshape(shape),
            p.col("fba")[items],
            p.col("stock_mask")[items],
            lg.same_day_radius_cells,
            lg.next_day_radius_cells,
            lg.standard_days,
            lg.self_fulfilled_days,
        ).astype(np.int64)
        nonmember = ~pop.member(ci).reshape(shape) & p.col("fba")[items]
        return np.where(nonmember, np.maximum(days, self.config.prime.nonmember_days), days)

    def _search(self, s: Sessions) -> None:
        c = self.config
        k = c.search.page_slots
        width = k + 3
        s.consider = np.full((s.n, width), -1, dtype=np.int64)
        s.sponsored = np.zeros((s.n, width), dtype=bool)
        s.ad_row = np.full((s.n, width), -1, dtype=np.int64)
        s.advice = np.zeros((s.n, width), dtype=bool)
        s.paid = np.zeros((s.n, width), dtype=bool)
        s.recognised = np.zeros((s.n, width), dtype=bool)
        rows_all = np.flatnonzero(s.platform)
        self.t["platform_sessions"] = len(rows_all)
        if len(rows_all) == 0:
            return
        pos = np.asarray(c.search.sponsored_positions, dtype=np.int64)
        patience = float(np.mean(self.customers.patience))
        slot_ctr = c.customers.click_base * patience ** pos.astype(float)
        ads = self.ads
        a_cols = {
            name: ads.col(name) for name in ("bid_cents", "product", "pacing", "budget_cents")
        }
        relevance = self.rating[np.maximum(a_cols["product"], 0)]
        eligible = (
            ads.col("active")
            & (relevance >= c.ads.min_relevance)
            & (a_cols["bid_cents"] >= max(c.ads.reserve_cents, 1))
        )
        expected = a_cols["bid_cents"] * relevance
        g = self.streams["auction"]
        for rows in np.array_split(rows_all, c.ads.batches_per_day):
            if len(rows) == 0:
                continue
            ci = s.cust[rows]
            cat = s.cat[rows]
            organic = self.ranked[cat, :k]
            # campaigns out of budget drop out of the rest of the day's auctions
            live = eligible & (ads.col("spend_today_cents") < a_cols["budget_cents"])
            cand = self._advertiser_table(live, expected)[cat]  # (Q, M), -1 padded
            if len(pos) > 0:
                safe = np.maximum(cand, 0)
                take = (cand >= 0) & (g.random(cand.shape) < a_cols["pacing"][safe])
                bids = np.where(take, a_cols["bid_cents"][safe], 0)
                quality = relevance[safe] * np.exp(
                    c.ads.quality_noise_sd * g.standard_normal(cand.shape)
                )
                alloc = allocate(
                    bids, np.maximum(quality, 1e-9), slot_ctr, c.ads.reserve_cents, c.ads.format
                )
                win_ad = np.where(
                    alloc.winners >= 0,
                    np.take_along_axis(cand, np.maximum(alloc.winners, 0), axis=1),
                    -1,
                )
                ppc = alloc.price_cents
                sponsored = np.where(win_ad >= 0, a_cols["product"][np.maximum(win_ad, 0)], -1)
            else:
                win_ad = np.full((len(rows), len(pos)), -1, dtype=np.int64)
                ppc = np.zeros_like(win_ad)
                sponsored = win_ad.copy()
            page, is_sp = search.build_page(organic, sponsored, pos)
            # which advertiser and price sits at each page position
            pos_ad = np.full(page.shape, -1, dtype=np.int64)
            pos_price = np.zeros(page.shape, dtype=np.int64)
            pos_ad[:, pos] = win_ad
            pos_price[:, pos] = ppc
            depth = search.examine_depth(self.customers.patience[ci], s.u_depth[rows], k)
            examined = (np.arange(k)[None, :] < depth[:, None]) & (page >= 0)
            net, _ = self._perceived_net(ci, cat, page)
            v = self.customers.price_sensitivity[ci][:, None] * net
            # clicks follow how good an item looks against not buying at average
            # intent; the need's own intent decides whether a click ends in a sale
            appeal = v - c.customers.no_purchase_value
            appeal[:, 0] += c.search.top_position_trust  # trust bias: the top result looks best
            clicked = examined & (
                s.u_click[rows] < search.click_probability(appeal, c.customers.click_base)
            )
            ad_click = clicked & is_sp
            charged = pos_ad[ad_click]
            np.add.at(ads.col("spend_today_cents"), charged, pos_price[ad_click])
            np.add.at(ads.col("clicks"), charged, 1)
            self.t["ad_clicks"] += len(charged)
            self.t["ad_revenue_search_cents"] += float(pos_price[ad_click].sum())
            self.t["impressions"] += float(examined.sum())
            self.t["sponsored_impressions"] += float((examined & is_sp).sum())
            self.t["clicks"] += float(clicked.sum())
            self.t["clicks_top"] += float(clicked[:, 0].sum())
            self.t["top12_sponsored"] += float((is_sp[:, :12] & (page[:, :12] >= 0)).sum())
            self.t["top12_slots"] += float((page[:, :12] >= 0).sum())
            s.consider[rows, 3:] = np.where(clicked, page, -1)
            s.sponsored[rows, 3:] = ad_click
            s.ad_row[rows, 3:] = np.where(ad_click, pos_ad, -1)

    def _advertiser_table(self, eligible: NDArray[np.bool_], score: NDArray) -> NDArray[np.int64]:
        """(n_categories, M) advertiser rows per category that enter its auctions, -1 padded.

        Ad retrieval: the ``ads.candidates_per_query`` eligible campaigns with
        the highest expected rank score (bid x rating) in each category, ties
        to the lower row. The auction itself then runs among them per query.
        """
        width = self.config.ads.candidates_per_query
        out = np.full((self.n_categories, width), -1, dtype=np.int64)
        rows = np.flatnonzero(eligible)
        if len(rows) == 0:
            return out
        cats = self.ads.col("category")[rows].astype(np.int64)
        order = np.lexsort((rows, -score[rows], cats))
        rows, cats = rows[order], cats[order]
        counts = np.bincount(cats, minlength=self.n_categories)
        start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        col = np.arange(len(rows)) - start[cats]
        keep = col < width
        out[cats[keep], col[keep]] = rows[keep]
        return out

    # -- 4 ---------------------------------------------------------------
    def _assistant(self, s: Sessions) -> None:
        c = self.config
        a = c.assistant
        s.consult = np.zeros(s.n, dtype=bool)
        s.would_consult = np.zeros(s.n, dtype=bool)
        s.agentic = np.full(s.n, -1, dtype=np.int64)
        pop = self.customers
        g = self.streams["assistant"]
        rows = np.flatnonzero(s.platform)
        p_consult = consult_probability(
            pop.assistant_propensity[s.cust[rows]],
            pop.trust[s.cust[rows]],
            s.intent[rows],
            a.intent_consult_elasticity,
            c.customers.intent_sd,
        )
        rows = rows[g.random(len(rows)) < p_consult]
        # who would consult is drawn with the assistant off too (its own stream), so a
        # paired assistant-off run knows its would-be users: the randomised comparison
        s.would_consult[rows] = True
        if not a.enabled:
            return
        s.consult[rows] = True
        self.t["assistant_consults"] = len(rows)
        if len(rows) == 0:
            return
        ci = s.cust[rows]
        cat = s.cat[rows]
        m = a.candidates
        cand = self.ranked[cat, :m]
        valid = cand >= 0
        safe = np.maximum(cand, 0)
        net, _ = self._perceived_net(ci, cat, safe, true_quality=True)
        est = pop.price_sensitivity[ci][
            :, None
        ] * net + self.assistant.noise_sd * g.standard_normal(cand.shape)
        p = self.products
        score = est + a.self_preference * p.col("own")[safe]
        price = p.col("price_cents")[safe].astype(np.float64)
        signal = self.rating[safe]
        picks_org = help_me_decide(score, price, signal, valid)
        org_items = np.where(
            picks_org >= 0, np.take_along_axis(cand, np.maximum(picks_org, 0), 1), -1
        )
        answer = org_items
        paid = np.zeros(answer.shape, dtype=bool)
        ad_rows = np.full(answer.shape, -1, dtype=np.int64)
        if self.assistant.shows_ads:
            bid_of = self._product_bids()
            bid = bid_of[0][safe]
            mean_bid = np.maximum(self._category_mean_bid[cat], 1.0)[:, None]
            tilted = score + a.ad_weight * bid / mean_bid
            picks_ad = help_me_decide(tilted, price, signal, valid)
            answer = np.where(
                picks_ad >= 0, np.take_along_axis(cand, np.maximum(picks_ad, 0), 1), -1
            )
            advertised = np.take_along_axis(bid, np.maximum(picks_ad, 0), 1) > 0
            in_organic = (answer[:, :, None] == org_items[:, None, :]).any(axis=2)
            paid = (answer >= 0) & advertised & ~in_organic
            ad_rows = np.where(paid, bid_of[1][np.maximum(answer, 0)], -1)
            price_paid = np.where(paid, self.ads.col("bid_cents")[np.maximum(ad_rows, 0)], 0)
            np.add.at(self.ads.col("spend_today_cents"), ad_rows[paid], price_paid[paid])
            np.add.at(self.ads.col("clicks"), ad_rows[paid], 1)
            self.t["ad_revenue_assistant_cents"] += float(price_paid.sum())
        p_rec = recognition_probability(
            pop.ad_literacy[ci], a.ad_mode, a.blended_recognition_factor
        )
        recognised = paid & (g.random(paid.shape) < p_rec[:, None])
        n_paid = paid.sum(axis=1)
        np.add.at(pop.ads_seen, ci, n_paid)
        np.add.at(pop.ads_recognised, ci, recognised.sum(axis=1))
        np.add.at(pop.consults, ci, 1)
        self.t["assistant_picks"] += float((answer >= 0).sum())
        self.t["assistant_ad_picks"] += float(paid.sum())
        self.t["ads_recognised"] += float(recognised.sum())
        self.t["inference_cost_cents"] += len(rows) * self.assistant.cost_per_consult_cents
        self.assistant.consults += len(rows)
        self.assistant.paid_placements += int(paid.sum())
        if a.answers_enter_choice:
            s.consider[rows, :3] = answer
        s.advice[rows, :3] = (answer >= 0) & ~recognised
        s.paid[rows, :3] = paid
        s.recognised[rows, :3] = recognised
        s.ad_row[rows, :3] = ad_rows
        pop.last_consult_day[ci] = self.day
        pop.last_consult_category[ci] = cat
        agentic = g.random(len(rows)) < a.agentic_checkout_share
        s.agentic[rows[agentic]] = answer[agentic, 0]

    def _product_bids(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Per product: the bid of the campaign advertising it (0 if none or out of
        budget) and that campaign's row (-1)."""
        n = len(self.products)
        bid = np.zeros(n, dtype=np.int64)
        row = np.full(n, -1, dtype=np.int64)
        ads = self.ads
        live = np.flatnonzero(
            ads.col("active") & (ads.col("spend_today_cents") < ads.col("budget_cents"))
        )
        bid[ads.col("product")[live]] = ads.col("bid_cents")[live]
        row[ads.col("product")[live]] = live
        return bid, row

    # -- 5 ---------------------------------------------------------------
    def _choice(self, s: Sessions) -> None:
        c = self.config
        pop = self.customers
        a = c.assistant
        s.product = np.full(s.n, -1, dtype=np.int64)
        s.rival = np.zeros(s.n, dtype=bool)
        s.bought_col = np.full(s.n, -1, dtype=np.int64)
        mu = pop.price_sensitivity[s.cust]
        v_none = c.customers.no_purchase_value - s.intent
        v_rival = mu * s.net_rival - c.channel.habit_weight * pop.habit[s.cust]
        # platform sessions: considered items + rival + none
        rows = np.flatnonzero(s.platform & (s.agentic < 0))
        if len(rows):
            ci = s.cust[rows]
            items = s.consider[rows]
            net, _ = self._perceived_net(ci, s.cat[rows], np.maximum(items, 0))
            v = mu[rows][:, None] * net
            v = v + a.advice_weight * pop.trust[ci][:, None] * s.advice[rows]
            v = v - a.recognised_ad_discount * s.recognised[rows]
            avail = ~mark_duplicates(items)
            k = items.shape[1]
            util = np.concatenate([v, v_rival[rows, None], v_none[rows, None]], axis=1)
            ok = np.concatenate([avail, np.ones((len(rows), 2), bool)], axis=1)
            pick = choose(util, ok, s.gumbel[rows, : k + 2])
            bought = pick < k
            s.product[rows[bought]] = items[bought, pick[bought]]
            s.bought_col[rows[bought]] = pick[bought]
            s.rival[rows[pick == k]] = True
        # agentic checkout: the assistant buys its top pick
        ag = np.flatnonzero(s.agentic >= 0)
        s.product[ag] = s.agentic[ag]
        s.bought_col[ag] = 0
        self.t["agentic_purchases"] = len(ag)
        # external agents compare the platform's best offer with the rival
        ex = np.flatnonzero(s.external)
        if len(ex):
            g = self.streams["external"]
            ci = s.cust[ex]
            cand = self.ranked[s.cat[ex], : a.candidates]
            net, _ = self._perceived_net(ci, s.cat[ex], np.maximum(cand, 0), true_quality=True)
            est = mu[ex][:, None] * net + c.external_agents.noise_sd * g.standard_normal(cand.shape)
            est = np.where(cand >= 0, est, -np.inf)
            best = np.argmax(est, axis=1)
            v_best = est[np.arange(len(ex)), best]
            v_riv = mu[ex] * s.net_rival[ex]
            buy_plat = (v_best >= v_riv) & (v_best > v_none[ex])
            buy_riv = ~buy_plat & (v_riv > v_none[ex])
            s.product[ex[buy_plat]] = cand[buy_plat, best[buy_plat]]
            s.rival[ex[buy_riv]] = True
        # rival channel (online or offline): rival or nothing
        rv = np.flatnonzero(~s.platform & ~s.external)
        if len(rv):
            util = np.stack(
                [v_rival[rv] + c.channel.habit_weight * pop.habit[s.cust[rv]], v_none[rv]], axis=1
            )
            pick = choose(util, np.ones_like(util, bool), s.gumbel[rv, -2:])
            s.rival[rv[pick == 0]] = True

    # -- 6 ---------------------------------------------------------------
    def _deliver(self, s: Sessions, rival_index: NDArray[np.float64]) -> None:
        c = self.config
        pop = self.customers
        p = self.products
        lg = c.logistics
        g = self.streams["delivery"]
        rows = np.flatnonzero(s.product >= 0)
        ci = s.cust[rows]
        item = s.product[rows]
        cat = s.cat[rows]
        n_orders = len(rows)
        price = p.col("price_cents")[item]
        fba = p.col("fba")[item]
        member = pop.member(ci)
        seller = p.col("seller")[item].astype(np.int64)
        own = seller == PLATFORM_SELLER
        ship_fee = np.where(
            ~member & fba & (price < c.prime.free_shipping_threshold_cents),
            c.prime.shipping_fee_cents,
            0,
        ).astype(np.int64)
        promise = self._promise(ci, item[:, None])[:, 0]
        # station capacity: platform deliveries within next-day reach go through a station
        reg = pop.region[ci]
        via_station = fba & (self.service.dist_cells[reg] <= lg.next_day_radius_cells)
        station = np.where(via_station, self.service.station[reg], -1)
        slipped = logistics.apply_capacity(station, self.station_capacity, g.random(n_orders))
        days = promise + slipped
        per_station = np.bincount(station[station >= 0], minlength=len(self.station_region))
        cost_station = logistics.cost_per_delivery_cents(
            per_station.astype(float),
            self.station_capacity.astype(float),
            lg.delivery_base_cost_cents,
            lg.density_elasticity,
            self.cumulative_deliveries,
            lg.learning_rate,
            max(1.0, 30.0 * lg.station_capacity_per_1k * self.per_1k * len(self.station_region)),
        )
        delivery_cost = np.where(
            fba,
            np.where(station >= 0, cost_station[np.maximum(station, 0)], lg.carrier_cost_cents),
            0.0,
        )
        delivery_cost = np.rint(delivery_cost).astype(np.int64)
        self.cumulative_deliveries += float(fba.sum())
        # fees (integer cents, rounded half to even per unit)
        third = ~own
        referral = np.where(third, np.rint(price * c.fees.referral_fee_rate), 0).astype(np.int64)
        fulfil = np.where(
            third & fba,
            c.fees.fulfilment_fee_cents + np.rint(price * c.fees.fulfilment_fee_rate),
            0,
        ).astype(np.int64)
        cogs = p.col("unit_cost_cents")[item]
        self_ship = np.where(~fba, np.rint(price * c.sellers.self_ship_cost_rate), 0).astype(
            np.int64
        )
        # sellers' books
        nsel = len(self.sellers)
        book = self.sellers
        self._seller_today = {
            "revenue_cents": np.bincount(seller, weights=price, minlength=nsel),
            "referral_fees_cents": np.bincount(seller, weights=referral, minlength=nsel),
            "fulfilment_fees_cents": np.bincount(seller, weights=fulfil, minlength=nsel),
            "cogs_cents": np.bincount(seller, weights=cogs, minlength=nsel),
            "shipping_cost_cents": np.bincount(seller, weights=self_ship, minlength=nsel),
            "units": np.bincount(seller, minlength=nsel).astype(float),
        }
        for key, vals in self._seller_today.items():
            book.col(key)[:] += np.rint(vals).astype(np.int64)
        units_today = np.bincount(item, minlength=len(p)).astype(float)
        p.col("units_total")[:] += units_today.astype(np.int64)
        p.col("units_recent")[:] += (units_today - p.col("units_recent")) / 10.0
        # reviews: a noisy reading of realised quality
        q = p.col("quality")[item]
        review = g.random(n_orders) < c.catalogue.review_rate
        noise = c.catalogue.review_noise_sd * g.standard_normal(n_orders)
        np.add.at(p.col("rating_sum"), item[review], np.clip(q + noise, 0, 1)[review])
        np.add.at(p.col("review_count"), item[review], 1)
        # learning: habit from the experience of this purchase, trust from followed advice
        expected_q = self.rating[item]
        good = (q >= expected_q - 0.15) & (slipped == 0)
        hl = c.customers.habit_learning_rate
        exp_plat = np.where(good, 1.0, 0.5)
        np.add.at(pop.habit, ci, next_habit(pop.habit[ci], exp_plat, hl) - pop.habit[ci])
        col = s.bought_col[rows]
        via_assistant = (col >= 0) & (col < 3) & s.consult[rows]
        advice_row = rows[via_assistant]
        paid = s.paid[rows, np.maximum(col, 0)] & via_assistant
        recognised = s.recognised[rows, np.maximum(col, 0)] & via_assistant
        sponsored_search = s.sponsored[rows, np.maximum(col, 0)] & (col >= 3)
        if len(advice_row):
            a = c.assistant
            disc = (paid & ~recognised)[via_assistant] & (
                self.streams["assistant"].random(len(advice_row)) < a.discovery_rate
            )
            tc = s.cust[advice_row]
            new = next_trust(
                pop.trust[tc],
                (q >= expected_q - 0.1)[via_assistant],
                a.trust_learning_rate,
                disc,
                a.discovery_trust_penalty,
            )
            np.add.at(pop.trust, tc, new - pop.trust[tc])
            self.t["ads_discovered"] += float(disc.sum())
        # ad conversions: a purchase of a clicked sponsored item or a paid pick
        conv_ad = np.where(sponsored_search | paid, s.ad_row[rows, np.maximum(col, 0)], -1)
        conv = conv_ad >= 0
        np.add.at(self.ads.col("conversions"), conv_ad[conv], 1)
        np.add.at(self.ads.col("sales_today_cents"), conv_ad[conv], price[conv])
        self.t["ad_conversions"] += float(conv.sum())
        self.t["ad_sales_cents"] += float(price[conv].sum())
        # rival purchases
        rv = np.flatnonzero(s.rival)
        rc = s.cust[rv]
        np.add.at(pop.habit, rc, next_habit(pop.habit[rc], np.zeros(len(rv)), hl) - pop.habit[rc])
        np.add.at(pop.rival_purchases, rc, 1)
        rival_price = rival_index[s.cat[rv]] * self.category_price[s.cat[rv]]
        # customers' accounts
        paid_total = price + ship_fee
        np.add.at(pop.orders_member, ci[member], 1)
        np.add.at(pop.orders_nonmember, ci[~member], 1)
        np.add.at(pop.spend_member_cents, ci[member], paid_total[member])
        np.add.at(pop.spend_nonmember_cents, ci[~member], paid_total[~member])
        pop.last_platform_day[ci] = self.day
        # experience that values Prime: fees a non-member pays, delay a member avoids
        P = self.category_price[cat].astype(np.float64)
        would_ship = np.where(
            fba & (price < c.prime.free_shipping_threshold_cents), c.prime.shipping_fee_cents, 0
        )
        # what membership saves on this order: the non-member promise minus the member's
        member_days = self._promise_as_member(ci, item)
        nonmember_days = np.where(fba, np.maximum(member_days, c.prime.nonmember_days), member_days)
        speed = P * pop.delay_cost[ci] * (nonmember_days - member_days)
        decay = 1.0 - 1.0 / _EWMA_DAYS
        pop.ship_value_ewma *= decay
        pop.speed_value_ewma *= decay
        np.add.at(pop.ship_value_ewma, ci, would_ship / _EWMA_DAYS)
        np.add.at(pop.speed_value_ewma, ci, speed / _EWMA_DAYS)
        np.add.at(self.region_orders_ewma, reg, 1.0 / _EWMA_DAYS)
        self.region_orders_ewma *= decay
        # DSI: every purchase within the window after an assistant interaction
        since = self.day - pop.last_consult_day[ci]
        in_window = since <= c.attribution.window_days
        if c.attribution.same_category_only:
            in_window &= pop.last_consult_category[ci] == cat
        margin = referral + fulfil + ship_fee - delivery_cost + np.where(own, price - cogs, 0)
        # consumer surplus in cents (true quality, realised delivery)
        surplus = (
            P * (c.customers.value_base + pop.quality_taste[ci] * q - pop.delay_cost[ci] * days)
            - paid_total
        )
        rp = self.category_price[s.cat[rv]].astype(np.float64)
        rival_surplus = (
            rp
            * (
                c.customers.value_base
                + pop.quality_taste[rc] * c.rival.quality
                - pop.delay_cost[rc] * c.rival.delivery_days
            )
            - rival_price
        )
        t = self.t
        t["orders"] = n_orders
        t["rival_purchases"] = len(rv)
        t["gmv_cents"] = float(price.sum())
        t["rival_revenue_cents"] = float(rival_price.sum())
        t["customer_payments_cents"] = float(paid_total.sum())
        t["referral_cents"] = float(referral.sum())
        t["fulfilment_cents"] = float(fulfil.sum())
        t["shipping_fees_cents"] = float(ship_fee.sum())
        t["own_revenue_cents"] = float(price[own].sum())
        t["own_margin_cents"] = float((price - cogs)[own].sum())
        t["delivery_cost_cents"] = float(delivery_cost.sum())
        t["third_party_units"] = float(third.sum())
        t["third_party_revenue_cents"] = float(price[third].sum())
        t["delivered_quality_sum"] = float(q.sum())
        t["delivery_days_sum"] = float(days.sum())
        t["same_day_orders"] = float((days == 0).sum())
        t["slipped"] = float(slipped.sum())
        t["consumer_surplus_cents"] = float(surplus.sum() + rival_surplus.sum())
        t["quality_adjusted_price_sum"] = float((price / np.maximum(q, 0.05)).sum())
        t["dsi_revenue_cents"] = float(price[in_window].sum())
        t["dsi_margin_cents"] = float(margin[in_window].sum())
        t["dsi_orders"] = float(in_window.sum())
        t["platform_margin_cents"] = float(margin.sum())
        t["sponsored_purchases"] = float((sponsored_search | paid).sum())
        t["assistant_purchases"] = float(via_assistant.sum())
        t["paid_pick_purchases"] = float(paid.sum())
        t["member_orders"] = float(member.sum())
        t["consult_sessions_bought"] = float(((s.product >= 0) & s.consult).sum())
        t["would_consult_sessions"] = float(np.count_nonzero(s.would_consult))
        t["would_consult_bought"] = float(np.count_nonzero((s.product >= 0) & s.would_consult))
        t["nonconsult_sessions_bought"] = float(((s.product >= 0) & ~s.consult & s.platform).sum())
        t["nonconsult_platform_sessions"] = float((~s.consult & s.platform).sum())
        if self.event_sink is not None:
            self._emit_events(
                s,
                rows,
                rv,
                price,
                ship_fee,
                days,
                sponsored_search | paid,
                via_assistant,
                recognised,
                member,
                rival_price,
            )

    def _promise_as_member(self, ci, item):
        """Promise the customer would get as a member (for valuing Prime)."""
        lg = self.config.logistics
        p = self.products
        reg = self.customers.region[ci]
        return logistics.promise_days(
            self.service.dist_cells[reg],
            self.service.fc[reg],
            p.col("fba")[item],
            p.col("stock_mask")[item],
            lg.same_day_radius_cells,
            lg.next_day_radius_cells,
            lg.standard_days,
            lg.self_fulfilled_days,
        ).astype(np.int64)

    def _emit_events(
        self,
        s,
        rows,
        rv,
        price,
        ship_fee,
        days,
        sponsored,
        via_assistant,
        recognised,
        member,
        rival_price,
    ) -> None:
        p = self.products
        n_p, n_r = len(rows), len(rv)
        item = s.product[rows]
        assert self.event_sink is not None
        self.event_sink(
            {
                "day": np.full(n_p + n_r, self.day, dtype=np.int32),
                "customer_id": np.concatenate([s.cust[rows], s.cust[rv]]).astype(np.int64),
                "channel": np.concatenate([np.zeros(n_p, np.int8), np.ones(n_r, np.int8)]),
                "product_id": np.concatenate([item, np.full(n_r, -1)]).astype(np.int64),
                "seller_id": np.concatenate([p.col("seller")[item], np.full(n_r, -1)]).astype(
                    np.int64
                ),
                "category": np.concatenate([s.cat[rows], s.cat[rv]]).astype(np.int16),
                "price_cents": np.concatenate([price, np.rint(rival_price)]).astype(np.int64),
                "shipping_fee_cents": np.concatenate([ship_fee, np.zeros(n_r)]).astype(np.int64),
                "sponsored": np.concatenate([sponsored, np.zeros(n_r, bool)]),
                "via_assistant": np.concatenate([via_assistant, np.zeros(n_r, bool)]),
                "agentic": np.concatenate([s.agentic[rows] >= 0, np.zeros(n_r, bool)]),
                "ad_recognised": np.concatenate([recognised, np.zeros(n_r, bool)]),
                "member": np.concatenate([member, self.customers.member(s.cust[rv])]),
                "delivery_days": np.concatenate(
                    [days, np.full(n_r, self.config.rival.delivery_days)]
                ).astype(np.float32),
            }
        )

    # -- 7 ---------------------------------------------------------------
    def _prime(self, s: Sessions) -> None:
        c = self.config
        pr = c.prime
        pop = self.customers
        t = self.t
        members = pop.prime_state != prime.PrimeState.NONE
        pop.days_member += members
        if not pr.enabled:
            return
        g = self.streams["prime_decisions"]
        d = self.day
        # decisions due today: trial ends and renewals
        due = np.flatnonzero(pop.next_decision_day == d)
        if len(due):
            fee_m = prime.monthly_fee_cents(
                pop.plan[due], pr.monthly_fee_cents, pr.annual_fee_cents
            )
            p_stay = prime.stay_probability(
                pop.prime_value_cents(due),
                fee_m,
                status_quo_bias_cents=pr.status_quo_bias_cents,
                cancellation_friction_cents=pr.cancellation_friction_cents,
                noise_cents=pr.decision_noise_cents,
            )
            stay = g.random(len(due)) < p_stay
            trial = pop.prime_state[due] == prime.PrimeState.TRIAL
            stayers, leavers = due[stay], due[~stay]
            pop.trial_outcome[due[trial & stay]] = prime.TrialOutcome.CONVERTED
            pop.trial_outcome[due[trial & ~stay]] = prime.TrialOutcome.CANCELLED
            pop.renewals[due[~trial & stay]] += 1
            pop.cancellations[leavers] += 1
            t["prime_trial_conversions"] = float((trial & stay).sum())
            t["prime_trial_ends"] = float(trial.sum())
            t["prime_renewals"] = float((~trial & stay).sum())
            t["prime_cancels"] = float(len(leavers))
            pop.prime_state[leavers] = prime.PrimeState.NONE
            pop.next_decision_day[leavers] = -1
            self._charge_prime(stayers)
        # offers on platform visits by non-members
        visit = s.platform & (s.u_offer < pr.offer_rate)
        cand = np.unique(s.cust[visit])
        cand = cand[pop.prime_state[cand] == prime.PrimeState.NONE]
        if len(cand):
            value = pop.prime_value_cents(cand)
            fresh = (pop.trial_outcome[cand] == prime.TrialOutcome.NEVER) & (pr.trial_days > 0)
            fee_m = prime.monthly_fee_cents(
                pop.plan[cand], pr.monthly_fee_cents, pr.annual_fee_cents
            )
            p_join = np.where(
                fresh,
                prime.trial_probability(
                    value, pr.cancellation_friction_cents, pr.decision_noise_cents
                ),
                prime.join_probability(value, fee_m, pr.decision_noise_cents),
            )
            join = g.random(len(cand)) < p_join
            trials = cand[join & fresh]
            payers = cand[join & ~fresh]
            pop.prime_state[trials] = prime.PrimeState.TRIAL
            pop.trial_outcome[trials] = prime.TrialOutcome.ACTIVE
            pop.next_decision_day[trials] = d + pr.trial_days
            joined = cand[join]
            first = joined[pop.first_join_day[joined] < 0]
            pop.first_join_day[first] = d
            t["prime_trials_started"] = float(len(trials))
            t["prime_joins"] = float(len(joined))
            self._charge_prime(payers)

    def _charge_prime(self, who: NDArray[np.int64]) -> None:
        """Members in ``who`` pay their plan's fee today and start a new period."""
        pr = self.config.prime
        pop = self.customers
        pop.prime_state[who] = prime.PrimeState.MEMBER
        fee = np.where(
            pop.plan[who] == prime.Plan.ANNUAL, pr.annual_fee_cents, pr.monthly_fee_cents
        )
        pop.last_payment_day[who] = self.day
        pop.next_decision_day[who] = self.day + prime.period_days(pop.plan[who])
        self.t["prime_fees_cents"] += float(fee.sum())

    # -- 8 ---------------------------------------------------------------
    def _sellers_day(self) -> None:
        c = self.config
        s = c.sellers
        book = self.sellers
        d = self.day
        active = book.col("active")
        third = active & ~book.col("is_platform")
        ad_spend = np.bincount(
            self.ads.col("seller").astype(np.int64),
            weights=self.ads.col("spend_today_cents"),
            minlength=len(book),
        )
        ad_spend = np.rint(ad_spend).astype(np.int64)
        fixed = np.where(third, s.daily_fixed_cost_cents, 0)
        book.col("ad_spend_cents")[:] += ad_spend
        book.col("fixed_cost_cents")[:] += fixed
        today = self._seller_today
        profit = (
            today["revenue_cents"]
            - today["referral_fees_cents"]
            - today["fulfilment_fees_cents"]
            - today["cogs_cents"]
            - today["shipping_cost_cents"]
            - ad_spend
            - fixed
        )
        profit = np.rint(profit).astype(np.int64)
        book.col("profit_cents")[:] += profit
        self.t["seller_profit_cents"] = float(profit[third].sum())
        self.t["seller_net_receipts_cents"] = float(
            (
                today["revenue_cents"]
                - today["referral_fees_cents"]
                - today["fulfilment_fees_cents"]
                - ad_spend
            )[~book.col("is_platform")].sum()
        )
        self.t["ad_spend_cents"] = float(ad_spend.sum())
        book.col("profit_recent")[:] += (profit - book.col("profit_recent")) / _EWMA_DAYS
        book.col("units_recent")[:] += (today["units"] - book.col("units_recent")) / _EWMA_DAYS
        losing = third & (book.col("profit_recent") < 0)
        book.col("loss_days")[:] = np.where(losing, book.col("loss_days") + 1, 0)
        # exit after sustained losses
        leave = np.flatnonzero(third & (book.col("loss_days") >= s.exit_loss_days))
        self._exit(leave)
        self.t["sellers_exited"] = float(len(leave))
        # repricing (staggered by seller row)
        due = np.flatnonzero(third & (np.arange(len(book)) % s.reprice_days == d % s.reprice_days))
        if len(due):
            self._reprice(due)
        # fulfilment choice (staggered)
        due = np.flatnonzero(
            third
            & (np.arange(len(book)) % s.fulfilment_review_days == d % s.fulfilment_review_days)
        )
        if len(due) and d > 0:
            self._review_fulfilment(due)
        # entry
        if d > 0 and d % s.entry_review_days == 0:
            cats = book.col("category")[third].astype(np.int64)
            prof = np.bincount(
                cats, weights=book.col("profit_recent")[third], minlength=self.n_categories
            )
            cnt = np.bincount(cats, minlength=self.n_categories)
            exp_profit = np.where(cnt > 0, prof / np.maximum(cnt, 1), 0.0)
            n_new = entrants_per_category(
                exp_profit,
                s.entry_horizon_days,
                s.entry_cost_cents,
                s.entry_rate,
                s.max_entrants_per_category,
                self.streams["entry"],
            )
            new_cats = np.repeat(np.arange(self.n_categories), n_new)
            self._enter_sellers(new_cats, d, self.streams["entry"])
            self.t["sellers_entered"] = float(len(new_cats))

    def _reprice(self, due: NDArray[np.int64]) -> None:
        s = self.config.sellers
        book = self.sellers
        p = self.products
        cats = book.col("category")[due].astype(np.int64)
        third = book.col("active") & ~book.col("is_platform")
        cat_all = book.col("category")[third].astype(np.int64)
        mean_units = np.bincount(
            cat_all, weights=book.col("units_recent")[third], minlength=self.n_categories
        ) / np.maximum(np.bincount(cat_all, minlength=self.n_categories), 1)
        above = book.col("units_recent")[due] > mean_units[cats]
        markup = book.col("markup")[due] * np.where(above, 1.05, 0.95)
        markup = np.clip(markup, s.min_markup_rate, 3.0 * max(s.markup_rate, 0.01))
        book.col("markup")[due] = markup
        # going price-to-cost ratio per category among listed third-party products
        live = p.col("active") & (p.col("seller") != PLATFORM_SELLER)
        ratio = p.col("price_cents")[live] / np.maximum(p.col("unit_cost_cents")[live], 1)
        pc = p.col("category")[live].astype(np.int64)
        going = np.bincount(pc, weights=ratio, minlength=self.n_categories) / np.maximum(
            np.bincount(pc, minlength=self.n_categories), 1
        )
        mine = np.isin(p.col("seller"), due) & p.col("active")
        owner = p.col("seller")[mine]
        idx_in_due = np.searchsorted(due, owner)
        new = reprice(
            p.col("unit_cost_cents")[mine],
            markup[idx_in_due],
            going[p.col("category")[mine].astype(np.int64)],
            s.competitive_weight,
            s.min_markup_rate,
        )
        p.col("price_cents")[mine] = new

    def _review_fulfilment(self, due: NDArray[np.int64]) -> None:
        c = self.config
        book = self.sellers
        p = self.products
        live = p.col("active") & (p.col("seller") != PLATFORM_SELLER)
        pc = p.col("category")[live].astype(np.int64)
        fba = p.col("fba")[live]
        units = p.col("units_recent")[live]
        n = self.n_categories
        fba_mean = np.bincount(pc[fba], weights=units[fba], minlength=n) / np.maximum(
            np.bincount(pc[fba], minlength=n), 1
        )
        self_mean = np.bincount(pc[~fba], weights=units[~fba], minlength=n) / np.maximum(
            np.bincount(pc[~fba], minlength=n), 1
        )
        uplift = np.where(self_mean > 0, fba_mean / np.maximum(self_mean, 1e-9) - 1.0, 0.3)
        uplift = np.clip(uplift, -0.5, 3.0)
        cats = book.col("category")[due].astype(np.int64)
        # seller-level averages of its products
        mine = np.isin(p.col("seller"), due) & p.col("active")
        owner_idx = np.searchsorted(due, p.col("seller")[mine])
        k = len(due)
        cnt = np.maximum(np.bincount(owner_idx, minlength=k), 1)
        price = np.bincount(owner_idx, weights=p.col("price_cents")[mine], minlength=k) / cnt
        cost = np.bincount(owner_idx, weights=p.col("unit_cost_cents")[mine], minlength=k) / cnt
        choice = fulfilment_choice(
            book.col("units_recent")[due],
            price,
            cost,
            book.col("fba")[due],
            uplift[cats],
            c.fees.fulfilment_fee_cents,
            c.fees.fulfilment_fee_rate,
            c.sellers.self_ship_cost_rate,
        )
        book.col("fba")[due] = choice
        p.col("fba")[mine] = choice[owner_idx]

    def _exit(self, rows: NDArray[np.int64]) -> None:
        if len(rows) == 0:
            return
        book = self.sellers
        book.col("active")[rows] = False
        book.col("exit_day")[rows] = self.day
        p = self.products
        p.col("active")[np.isin(p.col("seller"), rows)] = False
        gone = np.isin(self.ads.col("seller"), rows)
        self.ads.col("active")[gone] = False
        for r in rows:
            agent = self.seller_agents.pop(int(r), None)
            if agent is not None:
                agent.remove()
        for r in np.flatnonzero(gone):
            agent = self.advertiser_agents.pop(int(r), None)
            if agent is not None:
                agent.remove()

    # -- 9 ---------------------------------------------------------------
    def _advertisers_day(self) -> None:
        a = self.config.ads
        ads = self.ads
        if len(ads) == 0:
            self.t["ad_budget_exhausted"] = 0.0
            return
        live = ads.col("active")
        spend = ads.col("spend_today_cents")
        budget = ads.col("budget_cents")
        self.t["ad_budget_exhausted"] = float((live & (spend >= budget)).sum())
        ads.col("spend_cents")[:] += spend
        ads.col("sales_cents")[:] += ads.col("sales_today_cents")
        ads.col("pacing")[:] = next_pacing(ads.col("pacing"), spend, budget, a.pacing_adjust_rate)
        ads.col("ran_out_recent")[:] += ((spend >= budget) - ads.col("ran_out_recent")) / 7.0
        ads.col("spend_recent")[:] += (spend - ads.col("spend_recent")) / 7.0
        ads.col("sales_recent")[:] += (ads.col("sales_today_cents") - ads.col("sales_recent")) / 7.0
        spend[:] = 0
        ads.col("sales_today_cents")[:] = 0
        if self.day % 7 == 0:
            self._rebid(np.flatnonzero(live))
        if self.day > 0 and self.day % 7 == 0:
            rows = np.flatnonzero(live)
            budget[rows] = next_budgets(
                budget[rows],
                ads.col("ran_out_recent")[rows],
                ads.col("spend_recent")[rows],
                ads.col("sales_recent")[rows],
                ads.col("target_acos")[rows],
                a.budget_adjust_rate,
                a.min_daily_budget_cents,
            )

    def _rebid(self, rows: NDArray[np.int64]) -> None:
        if len(rows) == 0:
            return
        c = self.config
        a = c.ads
        ads = self.ads
        p = self.products
        prod = ads.col("product")[rows]
        price = p.col("price_cents")[prod].astype(np.float64)
        fees = c.fees.referral_fee_rate * price + np.where(
            p.col("fba")[prod], c.fees.fulfilment_fee_cents + c.fees.fulfilment_fee_rate * price, 0
        )
        margin = price - p.col("unit_cost_cents")[prod] - fees
        cvr = ads.conversion_rate(a.prior_conversion_rate, a.prior_clicks)[rows]
        bid, mult = next_bids(
            ads.col("strategy")[rows],
            cvr,
            price,
            margin,
            ads.col("target_acos")[rows],
            ads.col("bid_multiplier")[rows],
            ads.col("spend_recent")[rows],
            ads.col("sales_recent")[rows],
            a.bid_adjust_rate,
        )
        ads.col("bid_cents")[rows] = bid
        ads.col("bid_multiplier")[rows] = mult

    # -- 10 --------------------------------------------------------------
    def _logistics_day(self) -> None:
        lg = self.config.logistics
        self.t["stations_opened"] = 0.0
        self.t["capex_cents"] = 0.0
        if self.day > 0 and self.day % lg.review_days == 0 and lg.max_new_stations > 0:
            covered = self.service.dist_cells <= lg.same_day_radius_cells
            new = logistics.choose_expansion(
                self.region_orders_ewma,
                covered,
                self.regions.is_metro,
                lg.expansion_threshold_per_1k * self.per_1k,
                lg.rural_expansion,
                lg.rural_threshold_factor,
                lg.max_new_stations,
                lg.station_min_spacing_cells,
                self.regions.xy,
            )
            if len(new):
                self._open_stations(np.asarray(new, dtype=np.int64), self.day)
                self.t["stations_opened"] = float(len(new))
                self.t["capex_cents"] = float(
                    len(new) * round(lg.station_capex_cents_per_1k * self.per_1k)
                )
        self.t["station_opex_cents"] = float(
            len(self.station_region) * round(lg.station_opex_cents_per_day_per_1k * self.per_1k)
        )

    # -- ranking (start of each day) ---------------------------------------
    def _rank_products(self) -> None:
        """Organic ranking of today, the category signals customers expect, and bids."""
        c = self.config
        p = self.products
        cat_cfg = c.catalogue
        self.rating = p.rating(cat_cfg.review_prior_mean, cat_cfg.review_prior_count)
        noise = self.streams["ranking"].standard_normal(len(p))
        score = search.organic_scores(
            self.rating,
            p.col("units_recent"),
            p.col("own"),
            p.col("fba"),
            noise,
            relevance_weight=c.search.relevance_weight,
            sales_rank_weight=c.search.sales_rank_weight,
            self_preference_weight=c.search.self_preference_weight,
            prime_boost=c.search.prime_boost,
            noise_sd=c.search.noise_sd,
        )
        top = max(c.search.page_slots, c.assistant.candidates)
        self.ranked = search.rank_by_category(
            p.col("category").astype(np.int64), score, p.col("active"), self.n_categories, top
        )
        head = self.ranked[:, :5]
        ok = head >= 0
        safe = np.maximum(head, 0)
        cnt = np.maximum(ok.sum(axis=1), 1)
        P = self.category_price.astype(np.float64)
        price = p.col("price_cents")[safe]
        self.cat_price_index = np.where(ok, price, 0).sum(axis=1) / cnt / P
        self.cat_quality = np.where(ok, self.rating[safe], 0).sum(axis=1) / cnt
        self.cat_fba_share = np.where(ok, p.col("fba")[safe], 0).sum(axis=1) / cnt
        below = ok & (price < c.prime.free_shipping_threshold_cents) & p.col("fba")[safe]
        self.cat_ship_share = below.sum(axis=1) / cnt * c.prime.shipping_fee_cents / P
        ads = self.ads
        live = ads.col("active")
        cats = ads.col("category")[live].astype(np.int64)
        s = np.bincount(cats, weights=ads.col("bid_cents")[live], minlength=self.n_categories)
        n = np.bincount(cats, minlength=self.n_categories)
        self._category_mean_bid = np.where(n > 0, s / np.maximum(n, 1), 1.0)

    # -- 11 --------------------------------------------------------------
    def _record(self, s: Sessions) -> None:
        c = self.config
        pop = self.customers
        t = self.t
        d = self.day
        orders = t["orders"]
        purchases = orders + t["rival_purchases"]
        members = pop.prime_state != prime.PrimeState.NONE
        active = (d - pop.last_platform_day) < 365
        active30 = (d - pop.last_platform_day) < 30
        n_active = int(np.count_nonzero(active))
        pop_density = self.regions.density
        ad_rev = t["ad_revenue_search_cents"] + t["ad_revenue_assistant_cents"]
        book = self.sellers
        third = book.col("active") & ~book.col("is_platform")

        def ratio(a: float, b: float) -> float:
            return float(a / b) if b else float("nan")

        row: dict[str, Any] = {
            "day": d,
            "burn_in": d < c.run.burn_in_days,
            "sessions": s.n,
            "online_sessions": int(s.online.sum()),
            "platform_sessions": int(t["platform_sessions"]),
            "external_agent_sessions": int(s.external.sum()),
            "active_customers": n_active,
            "active_customers_30d": int(np.count_nonzero(active30)),
            "orders": int(orders),
            "rival_purchases": int(t["rival_purchases"]),
            "platform_share": ratio(orders, purchases),
            "rival_share": ratio(t["rival_purchases"], purchases),
            "gmv_cents": int(t["gmv_cents"]),
            "rival_revenue_cents": int(t["rival_revenue_cents"]),
            "avg_price_cents": ratio(t["gmv_cents"], orders),
            "quality_adjusted_price_cents": ratio(t["quality_adjusted_price_sum"], orders),
            "delivered_quality": ratio(t["delivered_quality_sum"], orders),
            "consumer_surplus_cents": round(t["consumer_surplus_cents"]),
            "prime_members": int(np.count_nonzero(pop.prime_state == prime.PrimeState.MEMBER)),
            "prime_trials": int(np.count_nonzero(pop.prime_state == prime.PrimeState.TRIAL)),
            "prime_share_active": ratio(float(np.count_nonzero(members & active)), n_active),
            "prime_joins": int(t["prime_joins"]),
            "prime_trials_started": int(t["prime_trials_started"]),
            "prime_trial_ends": int(t["prime_trial_ends"]),
            "prime_trial_conversions": int(t["prime_trial_conversions"]),
            "prime_cancels": int(t["prime_cancels"]),
            "prime_renewals": int(t["prime_renewals"]),
            "member_order_share": ratio(t["member_orders"], orders),
            "same_day_share_orders": ratio(t["same_day_orders"], orders),
            "same_day_population_share": float(pop_density[self.same_day_region].sum()),
            "mean_delivery_days": ratio(t["delivery_days_sum"], orders),
            "slipped_orders": int(t["slipped"]),
            "cost_per_delivery_cents": ratio(t["delivery_cost_cents"], orders),
            "stations": len(self.station_region),
            "stations_opened": int(t["stations_opened"]),
            "sellers_active": int(third.sum()),
            "sellers_entered": int(t["sellers_entered"]),
            "sellers_exited": int(t["sellers_exited"]),
            "products_active": int(self.products.col("active").sum()),
            "seller_profit_cents": int(t["seller_profit_cents"]),
            "third_party_unit_share": ratio(t["third_party_units"], orders),
            "ad_revenue_cents": int(ad_rev),
            "ad_revenue_search_cents": int(t["ad_revenue_search_cents"]),
            "ad_revenue_assistant_cents": int(t["ad_revenue_assistant_cents"]),
            "ad_spend_cents": int(t["ad_spend_cents"]),
            "ad_clicks": int(t["ad_clicks"]),
            "ad_conversions": int(t["ad_conversions"]),
            "ad_sales_cents": int(t["ad_sales_cents"]),
            "acos": ratio(ad_rev, t["ad_sales_cents"]),
            "mean_cpc_cents": ratio(t["ad_revenue_search_cents"], t["ad_clicks"]),
            "ad_conversion_rate": ratio(t["ad_conversions"], t["ad_clicks"]),
            "sponsored_impression_share": ratio(t["sponsored_impressions"], t["impressions"]),
            "sponsored_top12_share": ratio(t["top12_sponsored"], t["top12_slots"]),
            "sponsored_purchase_share": ratio(t["sponsored_purchases"], orders),
            "top_position_click_share": ratio(t["clicks_top"], t["clicks"]),
            "ad_budget_exhausted": int(t["ad_budget_exhausted"]),
            "assistant_consults": int(t["assistant_consults"]),
            "assistant_picks": int(t["assistant_picks"]),
            "assistant_ad_picks": int(t["assistant_ad_picks"]),
            "assistant_ad_pick_share": ratio(t["assistant_ad_picks"], t["assistant_picks"]),
            "ads_recognised": int(t["ads_recognised"]),
            "ads_discovered": int(t["ads_discovered"]),
            "assistant_purchases": int(t["assistant_purchases"]),
            "agentic_purchases": int(t["agentic_purchases"]),
            "consult_conversion": ratio(t["consult_sessions_bought"], t["assistant_consults"]),
            "would_consult_sessions": int(t["would_consult_sessions"]),
            "would_consult_conversion": ratio(
                t["would_consult_bought"], t["would_consult_sessions"]
            ),
            "nonconsult_conversion": ratio(
                t["nonconsult_sessions_bought"], t["nonconsult_platform_sessions"]
            ),
            "assistant_users_365d": int(np.count_nonzero((d - pop.last_consult_day) < 365)),
            "mean_trust": float(pop.trust.mean()),
            "mean_habit": float(pop.habit.mean()),
            "dsi_orders": int(t["dsi_orders"]),
            "dsi_revenue_cents": int(t["dsi_revenue_cents"]),
            "dsi_margin_cents": int(t["dsi_margin_cents"]),
            "platform_margin_cents": int(t["platform_margin_cents"]),
            "customer_payments_cents": int(t["customer_payments_cents"] + t["prime_fees_cents"]),
            "seller_net_receipts_cents": int(t["seller_net_receipts_cents"]),
            "revenue_referral_cents": int(t["referral_cents"]),
            "revenue_fulfilment_cents": int(t["fulfilment_cents"]),
            "revenue_ads_cents": int(ad_rev),
            "revenue_prime_cents": int(t["prime_fees_cents"]),
            "revenue_shipping_cents": int(t["shipping_fees_cents"]),
            "revenue_own_retail_cents": int(t["own_revenue_cents"]),
            "own_retail_margin_cents": int(t["own_margin_cents"]),
            "cost_delivery_cents": int(t["delivery_cost_cents"]),
            "cost_stations_cents": int(t["station_opex_cents"]),
            "cost_capex_cents": int(t["capex_cents"]),
            "cost_inference_cents": round(t["inference_cost_cents"]),
            "third_party_revenue_cents": int(t["third_party_revenue_cents"]),
        }
        twin = self.twin.daily_rows[-1] if self.twin is not None else None
        row["causal_revenue_cents"] = (
            row["gmv_cents"] - twin["gmv_cents"] if twin is not None else None
        )
        row["causal_margin_cents"] = (
            row["platform_margin_cents"] - twin["platform_margin_cents"]
            if twin is not None
            else None
        )
        row["causal_orders"] = row["orders"] - twin["orders"] if twin is not None else None
        self.daily_rows.append(row)
        self.last_row = row
        # map layers for the visualiser
        if self.map_layers and not self.is_twin:
            self._update_layers(s)

    def _update_layers(self, s: Sessions) -> None:
        r = len(self.regions.density)
        reg = self.customers.region[s.cust]
        decay = 1.0 - 1.0 / _EWMA_DAYS
        self._region_platform = self._region_platform * decay + np.bincount(
            reg[s.product >= 0], minlength=r
        )
        self._region_purchases = self._region_purchases * decay + np.bincount(
            reg[(s.product >= 0) | s.rival], minlength=r
        )
        tot = self._region_purchases
        share = np.where(tot > 0, self._region_platform / np.where(tot > 0, tot, 1.0), np.nan)
        self._set_layer("platform_share", share)  # 30-day smoothed, as the map shows it
        pop = self.customers
        mem = np.bincount(pop.region, weights=pop.member(), minlength=r)
        cnt = np.bincount(pop.region, minlength=r)
        self._set_layer("prime_share", np.where(cnt > 0, mem / np.maximum(cnt, 1), np.nan))
        self._set_layer("delivery_days", self.region_fba_days)

    # -- inspection ---------------------------------------------------------
    def customer(self, index: int) -> Customer:
        """A read-only view of customer ``index``."""
        return Customer(self.customers, index)


_COUNTERS = (
    "platform_sessions ad_clicks ad_revenue_search_cents ad_revenue_assistant_cents impressions "
    "sponsored_impressions clicks clicks_top top12_sponsored top12_slots assistant_consults "
    "assistant_picks assistant_ad_picks ads_recognised ads_discovered inference_cost_cents "
    "agentic_purchases orders rival_purchases gmv_cents rival_revenue_cents "
    "customer_payments_cents referral_cents fulfilment_cents shipping_fees_cents "
    "own_revenue_cents own_margin_cents delivery_cost_cents third_party_units "
    "third_party_revenue_cents delivered_quality_sum delivery_days_sum same_day_orders slipped "
    "consumer_surplus_cents quality_adjusted_price_sum dsi_revenue_cents dsi_margin_cents "
    "dsi_orders platform_margin_cents sponsored_purchases assistant_purchases "
    "paid_pick_purchases member_orders consult_sessions_bought nonconsult_sessions_bought "
    "nonconsult_platform_sessions would_consult_sessions would_consult_bought ad_conversions "
    "ad_sales_cents prime_trial_conversions "
    "prime_trial_ends "
    "prime_renewals prime_cancels prime_trials_started prime_joins prime_fees_cents "
    "seller_profit_cents seller_net_receipts_cents ad_spend_cents sellers_exited "
    "sellers_entered ad_budget_exhausted stations_opened capex_cents station_opex_cents"
).split()


def _reporter(name: str) -> Callable[[MarketplaceModel], Any]:
    def report(model: MarketplaceModel) -> Any:
        return model.last_row[name]

    report.__name__ = name
    return report
