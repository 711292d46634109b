"""The marketplace model: one Mesa model, one simulated day per step.

The model builds the market and calls one phase module of :mod:`sim.day` per
step of the ODD schedule (``docs/ODD.md`` section 3); it holds no mechanism
of its own. Customers, products, sellers and advertisers are columns (see
``agents``); sellers, advertisers, the assistant, the rival, the platform's
retail arm and the logistics sites are also Mesa agents, so ``model.agents``
and Mesa's tooling see them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import mesa
import numpy as np
from mesa.discrete_space import OrthogonalMooreGrid
from numpy.typing import NDArray

from agents.advertiser import Advertiser
from agents.assistant import Assistant
from agents.customer import Customer
from agents.facility import DeliveryStation, FulfilmentCentre
from agents.rival import Rival
from agents.seller import PLATFORM_SELLER, PlatformRetail, Seller
from sim.config import Config, LoopChannel
from sim.day import (
    advertisers,
    assistant,
    channel,
    choice,
    delivery,
    membership,
    needs,
    network,
    placements,
    ranking,
    record,
    search_ads,
    sellers,
    setup,
)
from sim.day.state import Ledger, Sessions
from sim.map_layers import MapLayers
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


class MarketplaceModel(mesa.Model):
    """Agent-based model of an AI-assisted online marketplace.

    Parameters
    ----------
    config
        A validated :class:`sim.config.Config`; defaults to ``Config()``, which is
        the calibrated baseline of ``configs/baseline.toml``.
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
        self.is_twin = _is_twin
        self.event_sink = event_sink
        self.phase_seconds: dict[str, float] | None = {} if profile_phases else None
        self.daily_rows: list[dict[str, Any]] = []
        self.prime_log = membership.PrimeEventLog()
        self._change_days = sorted({c.day for c in cfg.schedule if c.day > 0})
        self.n = cfg.run.n_customers
        self.market, first_sellers, first_campaigns = setup.build_market(
            cfg.at_day(0), self.streams
        )
        membership.start_members(
            self.config.prime, self.customers, self.streams.keyed("prime"), self.prime_log
        )
        g = self.config.geography
        self.grid = OrthogonalMooreGrid(
            (g.width_cells, g.height_cells), torus=False, random=self.random
        )
        self.layers = MapLayers(self.grid, self.regions.density) if map_layers else None
        self.centres = [
            FulfilmentCentre(self, self.region_cell(r), int(r), i)
            for i, r in enumerate(self.market.network.fc_region)
        ]
        self.stations: list[DeliveryStation] = []
        self._add_station_agents(np.arange(len(self.station_region)), day=0)
        self.seller_agents: dict[int, Seller] = {
            PLATFORM_SELLER: PlatformRetail(self, self.sellers, PLATFORM_SELLER)
        }
        self.advertiser_agents: dict[int, Advertiser] = {}
        self._add_seller_agents(first_sellers, first_campaigns)
        self.assistant = Assistant(self, self.config.assistant)
        n_cat = self.market.n_categories
        self.rival = Rival(
            self, self.config.rival, n_cat, self.streams.keyed("rival"), cfg.run.burn_in_days
        )
        self.market.shelf = self._rank()

        #: today's fresh needs once drawn (the twin's are shared with its run, :meth:`_needs`)
        self.fresh_needs: needs.FreshNeeds | None = None
        self.twin: MarketplaceModel | None = None
        if not _is_twin and cfg.attribution.counterfactual_twin and cfg.assistant.enabled:
            twin_cfg = cfg.evolve(
                {"assistant.enabled": False, "attribution.counterfactual_twin": False}
            )
            self.twin = MarketplaceModel(twin_cfg, profile_phases=profile_phases, _is_twin=True)
            # the twin's auction normals shared with this model (search_ads.SharedNormals)
            shared = search_ads.SharedNormals()
            self.market.shared_normals = self.twin.market.shared_normals = shared
            self.twin.market.writes_normals = True

        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in HEADLINE}
        )

    # ------------------------------------------------------------------
    # construction
    # ------------------------------------------------------------------
    def region_cell(self, region: int) -> Any:
        """The grid cell of a region index (``r = y * width + x``)."""
        w = self.config.geography.width_cells
        return self.grid[(int(region) % w, int(region) // w)]

    def _add_station_agents(self, indices: NDArray[np.int64], day: int) -> None:
        net = self.market.network
        for k in indices:
            r, f = int(net.station_region[k]), int(net.station_fc[k])
            cap = int(net.station_capacity[k])
            self.stations.append(DeliveryStation(self, self.region_cell(r), r, int(k), f, day, cap))

    def _add_seller_agents(self, seller_rows: NDArray, campaign_rows: NDArray) -> None:
        for r in seller_rows:
            self.seller_agents[int(r)] = Seller(self, self.sellers, int(r))
        for r in campaign_rows:
            self.advertiser_agents[int(r)] = Advertiser(self, self.ads, int(r))

    def _remove_agents(self, seller_rows: NDArray, campaign_rows: NDArray) -> None:
        for book, rows in (
            (self.seller_agents, seller_rows),
            (self.advertiser_agents, campaign_rows),
        ):
            for r in rows:
                agent = book.pop(int(r), None)
                if agent is not None:
                    agent.remove()

    # ------------------------------------------------------------------
    # the day (docs/ODD.md section 3)
    # ------------------------------------------------------------------
    def step(self) -> None:
        """Advance the marketplace by one day."""
        if not self.running:
            return
        m, run, keyed = self.market, self._run_phase, self.streams.keyed
        # 0. Interventions scheduled for today; the counterfactual twin steps first
        if m.day in self._change_days:
            self._apply_config(self.base_config.at_day(m.day))
        if self.twin is not None:
            run("twin", self.twin.step)
        ledger = Ledger()
        # 0. The rival's prices today
        offer = self.rival.quote(m.day)
        # 1. Needs arrive
        s = run("needs", self._needs)
        # 2. Channel choice: platform, rival or an external agent
        run("channel", channel.choose, m, s, offer)
        # 3. Who consults the assistant (their attention to the page is less), then
        #    search and sponsored-product auctions
        run("assistant", assistant.consults, m, s, keyed("assistant"))
        # 4. The assistant's answers, batch by batch with search (one budget per campaign)
        placements.search_and_answer(m, s, self.assistant, ledger, keyed("auction"),
            keyed("clicks"), keyed("assistant"), run)  # fmt: skip
        # 5. Choice among considered items, the rival and not buying
        run("choice", choice.decide, m, s, ledger, keyed("choice"), keyed("external"))
        # 6. Delivery and learning
        takings = run(
            "delivery", delivery.deliver, m, s, offer, ledger,
            keyed("delivery"), self.event_sink,
        )  # fmt: skip
        m.open_needs = needs.left_open(m.config, s)
        self.rival.frozen = m.config.flywheel.holds(
            LoopChannel.RIVAL_RESPONSE, m.day, m.config.run.burn_in_days
        )
        run("rival", self.rival.close_day, m.day, ledger.rival_purchases, ledger.orders)
        # 7. Prime decisions
        pop = m.customers
        held = m.config.flywheel.holds(LoopChannel.PRIME_ADOPTION, m.day, m.config.run.burn_in_days)
        run("prime", membership.decide, m.config.prime, pop, s, m.day, ledger,
            keyed("prime"), self.prime_log, held)  # fmt: skip
        # 8. Sellers: accounts, pricing, fulfilment, entry and exit
        changes = run("sellers", sellers.close_day, m, takings, ledger, keyed("entry"))
        self._add_seller_agents(changes.entered_sellers, changes.entered_campaigns)
        self._remove_agents(changes.exited_sellers, changes.exited_campaigns)
        # 9. Advertisers: pacing, bids, budgets
        run("advertisers", advertisers.close_day, m, ledger)
        # 10. Logistics: station expansion
        n_before = len(self.station_region)
        held = m.config.flywheel.holds(
            LoopChannel.LOGISTICS_EXPANSION, m.day, m.config.run.burn_in_days
        )
        run("logistics", network.expand, m.network, m.config.logistics, m.day, m.per_1k, ledger,
            held)  # fmt: skip
        self._add_station_agents(np.arange(n_before, len(self.station_region)), m.day)
        # 11. Record the day, then tomorrow's shelf
        twin_row = self.twin.daily_rows[-1] if self.twin is not None else None
        row = run("record", record.daily_row, m, s, ledger, twin_row)
        row.update(record.rival_columns(offer))
        self.daily_rows.append(row)
        if self.layers is not None and not self.is_twin:
            self.layers.update(s, pop, m.network)
        self.datacollector.collect(self)
        m.day += 1
        m.shelf = run("record", self._rank)
        if m.day >= self.base_config.run.days:
            self.running = False

    def _needs(self) -> Sessions:
        m = self.market
        shared = None
        t = self.twin
        if t is not None and t.fresh_needs is not None and t.fresh_needs.day == m.day:
            # the twin stepped first and drew today's fresh needs: they (and the traits
            # gathered for them) depend only on the seed, the day and the population's
            # fixed traits, which the twin shares (drawn from the same seed and customer
            # settings) unless an intervention changed how customers' needs are drawn
            if t.config.customers == self.config.customers and t.config.run.seed == (
                self.config.run.seed
            ):
                shared = t.fresh_needs
        if shared is None and self.is_twin:
            shared = needs.fresh(self.config, self.customers, m.n_categories, m.day, self.streams)
        self.fresh_needs = shared
        return needs.arrive(
            self.config, self.customers, m.n_categories, m.day, self.streams, m.open_needs,
            shared,
        )  # fmt: skip

    def _rank(self) -> Any:
        m = self.market
        draws = self.streams.keyed("ranking")
        shelf = ranking.rank(m.config, m.products, m.ads, m.category_price, draws, m.day)
        ranking.settle_selection(m, shelf)
        return shelf

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
        old = self.market.config
        self.market.config = cfg
        self.assistant.policy = cfg.assistant
        self.rival.terms = cfg.rival
        if cfg.logistics != old.logistics:
            network.refresh(self.market.network, cfg.logistics, self.market.per_1k)

    # ------------------------------------------------------------------
    # inspection
    # ------------------------------------------------------------------
    @property
    def config(self) -> Config:
        """The config in force today."""
        return self.market.config

    @property
    def day(self) -> int:
        """Days simulated so far (the day the next step simulates)."""
        return self.market.day

    customers = property(lambda self: self.market.customers, doc="The customer columns.")
    products = property(lambda self: self.market.products, doc="The catalogue.")
    sellers = property(lambda self: self.market.sellers, doc="The sellers' books.")
    ads = property(lambda self: self.market.ads, doc="The advertisers' campaigns.")
    regions = property(lambda self: self.market.network.regions, doc="The map's regions.")
    station_region = property(
        lambda self: self.market.network.station_region, doc="Region of each delivery station."
    )
    same_day_region = property(
        lambda self: self.market.network.same_day_region, doc="Regions served same-day."
    )

    def offline_share(self) -> NDArray[np.float64]:
        """Share of each region's customers without internet access today."""
        return channel.offline_share(self.config, self.regions.is_metro, self.day)

    def customer(self, index: int) -> Customer:
        """A read-only view of customer ``index``."""
        return Customer(self.customers, index)


def _reporter(name: str) -> Callable[[MarketplaceModel], Any]:
    def report(model: MarketplaceModel) -> Any:
        return model.daily_rows[-1][name]

    report.__name__ = name
    return report
