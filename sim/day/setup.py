"""The starting market: map, customers, logistics network, platform retail and sellers.

Built from the config and the run's streams alone (no Mesa model), so phase
tests can build a small market directly.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

from agents.advertiser import AdvertiserBook
from agents.customer import CustomerPopulation
from agents.seller import PLATFORM_SELLER, Catalogue, SellerBook
from sim import geography
from sim.config import Config
from sim.day import network, sellers
from sim.day.state import Market, Network
from sim.rng import Streams, structure_stream

__all__ = ["PLATFORM_KEY", "build_market", "category_prices"]

#: Key of the platform's retail arm (entrants' keys start at 1 << 40).
PLATFORM_KEY = 0


def category_prices(median_cents: int, sigma: float, n: int) -> NDArray[np.float64]:
    """Reference prices of ``n`` categories: the quantiles ``(i + 1/2) / n`` of a
    log-normal with median ``median_cents`` and log-sd ``sigma``, cheapest first.

    A market's catalogue spans its price distribution by construction; drawn at
    random, twelve categories gave a purchase-weighted mean price anywhere from
    $27 to $85 between seeds, and with it every seller's margin and the number
    of sellers a category sustains.

    >>> category_prices(3200, 0.7, 3).round().tolist()
    [1593.0, 3200.0, 6429.0]
    """
    q = (np.arange(n) + 0.5) / n
    return median_cents * np.exp(sigma * ndtri(q))


def build_market(
    cfg: Config, streams: Streams
) -> tuple[Market, NDArray[np.int64], NDArray[np.int64]]:
    """The market on day 0, and the rows of the starting sellers and their campaigns.

    Parameters
    ----------
    cfg
        The config in force on day 0.
    streams
        The run's random numbers: the population's traits from a sequential
        stream (``population``); sellers, products and campaigns by identity.
        The market's structure is not the run's: the map and the taste profiles
        come from ``market.structure_seed`` (:func:`sim.rng.structure_stream`),
        the category prices are quantiles (:func:`category_prices`).
    """
    g, lg, c, s = cfg.geography, cfg.logistics, cfg.catalogue, cfg.sellers
    structure = cfg.market.structure_seed
    regions = geography.make_regions(
        g.width_cells,
        g.height_cells,
        g.n_metros,
        g.metro_sigma_cells,
        g.rural_density,
        structure_stream(structure, "geography"),
    )
    prices = category_prices(c.median_price_cents, c.price_sigma, c.n_categories)
    mix = structure_stream(structure, "tastes").dirichlet(
        np.full(c.n_categories, cfg.customers.taste_concentration),
        size=cfg.customers.n_taste_profiles,
    )
    per_1k = cfg.per_1k  # market units: the counts below do not depend on the sample
    none = np.zeros(0, dtype=np.int64)
    net = Network(regions, geography.place_fulfilment_centres(regions, lg.n_centres), none, none)
    net.fc_region = np.asarray(net.fc_region, dtype=np.int64)
    net.region_orders_ewma = np.zeros(len(regions.density))
    m = Market(
        config=cfg,
        day=0,
        category_price=np.maximum(100, np.rint(prices)).astype(np.int64),
        customers=CustomerPopulation(cfg, regions.density, mix, streams["population"]),
        products=Catalogue(),
        sellers=SellerBook(),
        ads=AdvertiserBook(),
        network=net,
        streams=streams,
    )
    first = geography.place_initial_stations(
        regions, lg.n_centres * lg.stations_per_centre, lg.station_min_spacing_cells
    )
    network.open_stations(net, np.asarray(first, dtype=np.int64), lg, per_1k)
    # seller 0: the platform's retail arm
    m.sellers.append(
        1,
        key=PLATFORM_KEY,
        category=-1,
        is_platform=True,
        active=s.platform_retail,
        fba=True,
        markup=s.platform_markup_rate,
    )
    n_cat = c.n_categories
    if s.platform_retail:
        n_own = max(1, round(s.platform_products_per_category_per_1k * per_1k))
        n_private = max(1, round(s.private_label_per_category_per_1k * per_1k))
        per_cat = n_own + n_private
        cats = np.repeat(np.arange(n_cat), per_cat)
        sellers.list_products(
            m,
            np.full(len(cats), PLATFORM_SELLER),
            cats,
            np.full(len(cats), s.platform_markup_rate),
            fba=np.ones(len(cats), bool),
            own=np.ones(len(cats), bool),
            private=np.tile(np.arange(per_cat) >= n_own, n_cat),
            day=0,
        )
    per_cat = max(s.min_initial_per_category, round(s.initial_per_category_per_1k * per_1k))
    first_sellers, first_campaigns = sellers.enter(m, np.repeat(np.arange(n_cat), per_cat), 0)
    return m, first_sellers, first_campaigns
