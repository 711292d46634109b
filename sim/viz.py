"""The browser visualiser: a Mesa ``SolaraViz`` page of the marketplace model.

Launch it with ``flywheel viz [CONFIG]`` (see :func:`register_cli`), or with
``solara run sim/viz.py`` / ``solara run sim.viz`` from the repository root.
The page shows

- a status line (day, assistant policy, seed, customers, stations, same-day reach);
- the map of regions coloured by a chosen measure (platform share of purchases,
  Prime share, delivery promise in days, population), with fulfilment centres,
  delivery stations, their same-day radius and the outline of the regions with
  same-day delivery; it follows the model as stations open;
- charts over time: platform vs rival share of purchases, Prime members, ad revenue
  and sponsored share of impressions, consumer surplus, assistant trust and usage,
  and cumulative DSI-attributed vs causal assistant revenue (the causal line comes
  from the model's counterfactual twin: same seed, assistant off).

The sidebar is Mesa's: play, step and reset, and the model parameters
(:func:`model_params`). A reset builds a new :class:`VizModel` from the config file
(``$FLYWHEEL_VIZ_CONFIG``, else ``configs/baseline.toml``) with the sidebar's values
as overrides.

Solara finds an app module's page by the module-level name ``Page``. Here ``Page``
is created on first access (a module ``__getattr__``, PEP 562), because
``sim.cli`` imports this module for :func:`register_cli` on every ``flywheel``
command and Solara, Mesa's visualisation package and matplotlib take about two
seconds to import. Everything else at import time is definitions only.

The map and charts are matplotlib figures sent as PNG images, kept between days and
updated in place (building axes costs more than drawing them). Mesa's own Altair
and grid-layout components, and Solara's page itself, load JavaScript through
Solara's CDN proxy; without internet access the ``solara-assets`` package must
be installed, which ships those files.

Examples
--------
>>> m = VizModel(n_customers=500, seed=1)
>>> m.step()
>>> fig = map_figure(m, "platform_share")
>>> fig.axes[0].images[0].get_array().shape
(16, 24)
>>> chart_series(m.daily_rows)["day"].tolist()
[0.0]
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import subprocess
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from sim.config import Config, ConfigError, load_config
from sim.model import MarketplaceModel

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "DEFAULT_CONFIG",
    "ENV_CONFIG",
    "MEASURES",
    "ChartsPainter",
    "MapPainter",
    "VizModel",
    "chart_series",
    "charts_figure",
    "coverage_edges",
    "figure_png",
    "initial_values",
    "load_viz_config",
    "map_figure",
    "model_params",
    "register_cli",
    "settings_text",
    "status_text",
    "today_summary",
    "viz_config_path",
]

#: Environment variable naming the config file the page builds its model from.
ENV_CONFIG = "FLYWHEEL_VIZ_CONFIG"
#: Config used when ``$FLYWHEEL_VIZ_CONFIG`` is unset.
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "baseline.toml"
#: Simulated days of a visualised run: long enough to keep playing.
VIZ_DAYS = 3650
#: Largest default population (the baseline's): one day, model and twin plus the
#: redraw, took about 120 ms here, against a budget of 250 ms (``bench/viz_bench.py``,
#: ``bench/results_viz.md``). A config asking for more starts at this size; the
#: slider goes up to 100,000.
MAX_DEFAULT_CUSTOMERS = 20_000
DEFAULT_PORT = 8765
DEFAULT_HOST = "127.0.0.1"

#: Map measures: grid property layer -> (label, colour map, colour range or None for auto).
MEASURES: dict[str, tuple[str, str, tuple[float, float] | None]] = {
    "platform_share": ("Platform share of purchases", "viridis", (0.0, 1.0)),
    "prime_share": ("Prime share of customers", "magma", (0.0, 1.0)),
    "delivery_days": ("Delivery promise, platform-fulfilled (days)", "cividis_r", None),
    "density": ("Share of population", "Greys", None),
}

#: Map layers the model fills when it records a day (empty before the first step).
_RECORDED_MEASURES = ("platform_share", "prime_share")
#: Short names of the map measures on the page's buttons.
_MEASURE_BUTTONS = {
    "platform_share": "platform share",
    "prime_share": "Prime share",
    "delivery_days": "delivery days",
    "density": "population",
}
_FIG_DPI = 72
_STATUS_CLASS = "fw-status"
_MAP_CLASS = "fw-map"
_CHARTS_CLASS = "fw-charts"


# -- the model the page drives ------------------------------------------------


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> Config:
    return load_config(path)


def viz_config_path() -> Path:
    """The config file of the page: ``$FLYWHEEL_VIZ_CONFIG`` or ``configs/baseline.toml``."""
    return Path(os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG)


def load_viz_config(path: str | Path | None = None) -> Config:
    """Load (and cache while the file is unchanged) the config the page starts from.

    Raises
    ------
    sim.config.ConfigError
        When the file is missing or invalid (one-line message).
    """
    p = Path(path) if path is not None else viz_config_path()
    try:
        mtime = p.stat().st_mtime_ns
    except OSError:
        raise ConfigError(f"config file not found: {p}") from None
    return _load(str(p.resolve()), mtime)


class VizModel(MarketplaceModel):
    """The marketplace model as the visualiser builds it: a config file plus overrides.

    Every keyword is optional; ``None`` keeps the config's value. Mesa's
    ``SolaraViz`` resets the page by calling ``VizModel(**sidebar_values)``, so the
    keywords are the sidebar's controls (see :func:`model_params`).

    Parameters
    ----------
    config_path
        TOML config; default :func:`viz_config_path`.
    seed
        Root seed, as a number or as the text of the seed box; text that is not a
        whole number keeps the config's seed and is reported in ``seed_note``.
    days
        Simulated days (long, so that the page keeps playing).
    n_customers, assistant_enabled, ad_mode, ad_weight, prime_monthly_fee_cents,
    prime_annual_fee_cents, same_day_radius_cells, rival_price_index
        Overrides of the config keys of the same meaning (see
        ``sim.model.PARAM_ALIASES``).
    """

    def __init__(
        self,
        *,
        config_path: str | None = None,
        n_customers: int | None = None,
        assistant_enabled: bool | None = None,
        ad_mode: str | None = None,
        ad_weight: float | None = None,
        prime_monthly_fee_cents: int | None = None,
        prime_annual_fee_cents: int | None = None,
        same_day_radius_cells: float | None = None,
        rival_price_index: float | None = None,
        seed: int | str | None = None,
        days: int = VIZ_DAYS,
    ) -> None:
        cfg = load_viz_config(config_path)
        overrides: dict[str, Any] = {
            "n_customers": n_customers,
            "assistant_enabled": assistant_enabled,
            "ad_mode": ad_mode,
            "ad_weight": ad_weight,
            "prime_monthly_fee_cents": prime_monthly_fee_cents,
            "prime_annual_fee_cents": prime_annual_fee_cents,
            "same_day_radius_cells": same_day_radius_cells,
            "rival_price_index": rival_price_index,
        }
        overrides = {k: v for k, v in overrides.items() if v is not None}
        # The next-day radius must stay >= the same-day radius (a config rule).
        radius = overrides.get("same_day_radius_cells")
        if radius is not None and radius > cfg.logistics.next_day_radius_cells:
            overrides["logistics__next_day_radius_cells"] = float(radius)
        root_seed, self.seed_note = _parse_seed(seed, cfg.run.seed)
        super().__init__(cfg, seed=root_seed, days=days, **overrides)
        self.config_path = str(config_path or viz_config_path())


def _parse_seed(seed: int | str | None, fallback: int) -> tuple[int, str]:
    if seed is None or (isinstance(seed, str) and not seed.strip()):
        return fallback, ""
    try:
        value = int(str(seed).strip())
    except ValueError:
        return fallback, f"seed {seed!r} is not a whole number; kept {fallback}"
    if value < 0:
        return fallback, f"seed {value} is negative; kept {fallback}"
    return value, ""


def model_params(path: str | Path | None = None) -> dict[str, Any]:
    """The sidebar's controls (Mesa ``model_params``), starting at the config's values.

    Fixed entries (plain values) are passed to :class:`VizModel` unchanged;
    ``config_path`` pins the config file, so that a reset rebuilds from it.
    """
    cfg = load_viz_config(path)
    a, p, lg = cfg.assistant, cfg.prime, cfg.logistics
    return {
        "config_path": str(Path(path) if path is not None else viz_config_path()),
        "assistant_enabled": {
            "type": "Checkbox",
            "value": bool(a.enabled),
            "label": "Shopping assistant on",
        },
        "ad_mode": {
            "type": "Select",
            "value": a.ad_mode.value,
            "values": ["none", "labelled", "blended"],
            "label": "Assistant ad mode",
        },
        "ad_weight": {
            "type": "SliderFloat",
            "value": float(a.ad_weight),
            "min": 0.0,
            "max": 2.0,
            "step": 0.05,
            "label": "Ad weight in assistant answers",
        },
        "prime_monthly_fee_cents": {
            "type": "SliderInt",
            "value": int(p.monthly_fee_cents),
            "min": 0,
            "max": 4000,
            "step": 50,
            "label": "Prime monthly fee (cents)",
        },
        "prime_annual_fee_cents": {
            "type": "SliderInt",
            "value": int(p.annual_fee_cents),
            "min": 0,
            "max": 40000,
            "step": 500,
            "label": "Prime annual fee (cents)",
        },
        "same_day_radius_cells": {
            "type": "SliderFloat",
            "value": float(lg.same_day_radius_cells),
            "min": 0.0,
            "max": 6.0,
            "step": 0.25,
            "label": "Same-day radius (cells)",
        },
        "rival_price_index": {
            "type": "SliderFloat",
            "value": float(cfg.rival.price_index),
            "min": 0.5,
            "max": 1.5,
            "step": 0.01,
            "label": "Rival price index",
        },
        "n_customers": {
            "type": "SliderInt",
            "value": min(int(cfg.run.n_customers), MAX_DEFAULT_CUSTOMERS),
            "min": 1000,
            "max": 100_000,
            "step": 1000,
            "label": "Customers",
        },
        "seed": {"type": "InputText", "value": str(cfg.run.seed), "label": "Seed"},
    }


def initial_values(params: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of the first model: fixed values and controls' start values."""
    return {
        k: (v["value"] if isinstance(v, dict) and "type" in v else v) for k, v in params.items()
    }


# -- pure drawing and data pieces (tested without a browser) -----------------


def status_text(model: MarketplaceModel) -> str:
    """One line describing the run: day, assistant policy, seed, size, logistics reach."""
    cfg = model.config
    a = cfg.assistant
    assistant = f"assistant on, ad_mode {a.ad_mode.value}" if a.enabled else "assistant off"
    reach = float(model.regions.density[model.same_day_region].sum())
    twin = "causal twin on" if model.twin is not None else "no causal twin"
    text = (
        f"Day {model.day} · {assistant} · seed {cfg.run.seed} · {model.n:,} customers · "
        f"{len(model.stations)} stations · same-day reaches {reach:.0%} of people · {twin}"
    )
    note = getattr(model, "seed_note", "")
    return f"{text} ({note})" if note else text


def settings_text(model: MarketplaceModel) -> str:
    """One line with the policy values in force (the sidebar's sliders show no numbers)."""
    cfg = model.config
    p = cfg.prime
    prime = (
        f"Prime ${p.monthly_fee_cents / 100:.2f}/month or ${p.annual_fee_cents / 100:.2f}/year"
        if p.enabled
        else "no Prime"
    )
    return (
        f"ad weight {cfg.assistant.ad_weight:g} · {prime} · same-day radius "
        f"{cfg.logistics.same_day_radius_cells:g} cells · rival price index "
        f"{cfg.rival.price_index:.2f}"
    )


def today_summary(model: MarketplaceModel) -> list[tuple[str, str]]:
    """Headline numbers of the last simulated day, as (label, formatted value) pairs.

    Empty before the first step. The assistant revenue lines are cumulative; the
    causal one reads "n/a" without a counterfactual twin.
    """
    rows = list(model.daily_rows)
    if not rows:
        return []
    last = rows[-1]
    s = chart_series(rows)

    def share(v: Any) -> str:
        return "n/a" if v is None or v != v else f"{v:.1%}"

    dsi, causal = s["dsi_cum_usd"][-1], s["causal_cum_usd"][-1]
    return [
        ("Platform share of purchases", share(last["platform_share"])),
        ("Prime members", f"{last['prime_members']:,}"),
        ("Ad revenue today", f"${last['ad_revenue_cents'] / 100:,.0f}"),
        ("Sponsored share of impressions", share(last["sponsored_impression_share"])),
        ("Assistant consults today", f"{last['assistant_consults']:,}"),
        ("Mean trust in the assistant", f"{last['mean_trust']:.3f}"),
        ("DSI-attributed revenue, to date", f"${dsi:,.0f}"),
        ("Causal assistant revenue, to date", "n/a" if causal != causal else f"${causal:,.0f}"),
    ]


def coverage_edges(mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Cell-boundary segments between covered and uncovered cells (and the map border).

    Parameters
    ----------
    mask
        Boolean array of shape ``(height, width)``, ``mask[y, x]`` for cell ``(x, y)``
        spanning ``[x, x + 1] x [y, y + 1]``.

    Returns
    -------
    ndarray, shape (n, 2, 2)
        Segments ``[[x0, y0], [x1, y1]]`` outlining the covered area.

    Examples
    --------
    >>> coverage_edges(np.array([[True]])).shape
    (4, 2, 2)
    >>> coverage_edges(np.array([[True, True]])).shape
    (6, 2, 2)
    """
    m = np.pad(np.asarray(mask, dtype=bool), 1)
    segs: list[NDArray[np.float64]] = []
    # vertical edges: between columns x-1 and x of the unpadded grid
    vy, vx = np.nonzero(m[1:-1, 1:] != m[1:-1, :-1])
    segs.append(np.stack([np.stack([vx, vy], 1), np.stack([vx, vy + 1], 1)], 1))
    # horizontal edges: between rows y-1 and y
    hy, hx = np.nonzero(m[1:, 1:-1] != m[:-1, 1:-1])
    segs.append(np.stack([np.stack([hx, hy], 1), np.stack([hx + 1, hy], 1)], 1))
    return np.concatenate(segs).astype(np.float64)


def _sites(model: MarketplaceModel, kind: type) -> NDArray[np.float64]:
    """Cell-centre coordinates of the model's fixed agents of one kind."""
    agents = model.agents_by_type.get(kind, [])
    xy = [agent.cell.coordinate for agent in agents]
    return np.asarray(xy, dtype=np.float64).reshape(-1, 2) + 0.5


class MapPainter:
    """Draws the map, keeping one matplotlib figure and updating its artists each day.

    Building axes costs far more than redrawing them, so the page keeps one
    painter per model and calls :meth:`draw` after every step. The figure shows
    the grid property layer ``measure`` as an image (shape ``(height, width)``);
    fulfilment centres as squares (artist gid ``"centres"``); delivery stations
    as triangles (gid ``"stations"``), each with a dashed circle of the same-day
    radius (gid ``"same_day_radius"``); and the outline of the regions with
    same-day delivery (gid ``"same_day"``). Regions without purchases today are grey.
    """

    def __init__(self) -> None:
        self.fig: Figure | None = None
        self._shape: tuple[int, int] | None = None

    def _build(self, w: int, h: int) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import EllipseCollection, LineCollection
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7.6, 5.0), dpi=_FIG_DPI)
        FigureCanvasAgg(fig)  # one canvas for the figure's life: its renderer is reused
        fig.subplots_adjust(left=0.02, right=0.9, bottom=0.1, top=0.93)
        ax = fig.add_subplot()
        self.image = ax.imshow(
            np.zeros((h, w)), origin="lower", extent=(0, w, 0, h), interpolation="nearest"
        )
        cax = fig.add_axes((0.91, 0.15, 0.025, 0.7))
        self.colorbar = fig.colorbar(self.image, cax=cax)
        self.colorbar.ax.tick_params(labelsize=8)
        self.circles = EllipseCollection(
            [],
            [],
            [],
            units="xy",
            offsets=np.zeros((0, 2)),
            offset_transform=ax.transData,
            facecolors="none",
            edgecolors="white",
            linewidths=0.8,
            linestyles="--",
            alpha=0.8,
            gid="same_day_radius",
        )
        ax.add_collection(self.circles)
        self.outline = LineCollection(
            [], colors="#ff4fa3", linewidths=1.6, gid="same_day", label="same-day area"
        )
        ax.add_collection(self.outline)
        self.stations = ax.scatter(
            [],
            [],
            marker="^",
            s=46,
            c="white",
            edgecolors="black",
            linewidths=0.8,
            zorder=3,
            gid="stations",
            label="delivery station",
        )
        self.centres = ax.scatter(
            [],
            [],
            marker="s",
            s=70,
            c="#ff8c00",
            edgecolors="black",
            linewidths=0.8,
            zorder=4,
            gid="centres",
            label="fulfilment centre",
        )
        ax.set_xlim(0, w)
        ax.set_ylim(0, h)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(
            handles=[self.centres, self.stations, self.outline],
            loc="upper center",
            bbox_to_anchor=(0.5, -0.005),
            ncol=3,
            fontsize=8,
            frameon=False,
        )
        self.title = ax.set_title("", fontsize=11)
        self.ax, self.fig, self._shape = ax, fig, (w, h)

    def draw(self, model: MarketplaceModel, measure: str = "platform_share") -> Figure:
        """The map of ``model`` today, coloured by ``measure`` (a key of :data:`MEASURES`)."""
        import matplotlib as mpl

        from agents.facility import DeliveryStation, FulfilmentCentre

        if measure not in MEASURES:
            raise ValueError(f"unknown map measure {measure!r}; allowed: {', '.join(MEASURES)}")
        label, cmap_name, vrange = MEASURES[measure]
        g = model.config.geography
        w, h = g.width_cells, g.height_cells
        if self._shape != (w, h):
            self._build(w, h)
        data = np.asarray(getattr(model.grid, measure).data, dtype=float).T  # (height, width)
        if model.day == 0 and measure in _RECORDED_MEASURES:
            data = np.full_like(data, np.nan)  # the layer is filled by the first day's record
        self.image.set_data(data)
        self.image.set_cmap(mpl.colormaps[cmap_name].with_extremes(bad="#d0d0d0"))
        if vrange is None:
            finite = data[np.isfinite(data)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            vrange = (lo, hi if hi > lo else lo + 1.0)
        self.image.set_clim(*vrange)
        self.colorbar.set_label(label, fontsize=9)

        stations = _sites(model, DeliveryStation)
        centres = _sites(model, FulfilmentCentre)
        self.stations.set_offsets(stations)
        self.centres.set_offsets(centres)
        diameter = np.full(len(stations), 2.0 * model.config.logistics.same_day_radius_cells)
        self.circles.set_offsets(stations)
        self.circles.set_widths(diameter)
        self.circles.set_heights(diameter)
        self.circles.set_angles(np.zeros(len(stations)))
        mask = np.asarray(model.same_day_region, dtype=bool).reshape(h, w)
        self.outline.set_segments(list(coverage_edges(mask)))
        self.title.set_text(f"{label}, day {model.day}")
        assert self.fig is not None
        return self.fig


def map_figure(model: MarketplaceModel, measure: str = "platform_share") -> Figure:
    """A new map figure of ``model`` coloured by ``measure`` (see :class:`MapPainter`)."""
    return MapPainter().draw(model, measure)


def _column(rows: Sequence[dict[str, Any]], key: str) -> NDArray[np.float64]:
    """One daily column as floats; ``None`` (e.g. no twin) and missing keys become NaN."""
    return np.array(
        [np.nan if r.get(key) is None else float(r[key]) for r in rows], dtype=np.float64
    )


def chart_series(rows: Sequence[dict[str, Any]]) -> dict[str, NDArray[np.float64]]:
    """The daily series the charts draw, from ``model.daily_rows``.

    Money is in dollars. ``dsi_cum_usd`` and ``causal_cum_usd`` are cumulative;
    days whose causal value is missing (``None``: no counterfactual twin) are NaN
    and add nothing to the running sum.

    Examples
    --------
    >>> s = chart_series([{"day": 0, "causal_revenue_cents": None, "dsi_revenue_cents": 250}])
    >>> s["dsi_cum_usd"].tolist(), bool(np.isnan(s["causal_cum_usd"][0]))
    ([2.5], True)
    """
    rows = list(rows)  # the model may append while the page draws
    causal = _column(rows, "causal_revenue_cents") / 100.0
    causal_cum = np.where(np.isnan(causal), np.nan, np.nancumsum(causal))
    return {
        "day": _column(rows, "day"),
        "platform_share": _column(rows, "platform_share"),
        "rival_share": _column(rows, "rival_share"),
        "prime_members": _column(rows, "prime_members"),
        "ad_revenue_usd": _column(rows, "ad_revenue_cents") / 100.0,
        "sponsored_impression_share": _column(rows, "sponsored_impression_share"),
        "consumer_surplus_usd": _column(rows, "consumer_surplus_cents") / 100.0,
        "mean_trust": _column(rows, "mean_trust"),
        "assistant_consults": _column(rows, "assistant_consults"),
        "dsi_cum_usd": np.nancumsum(_column(rows, "dsi_revenue_cents") / 100.0),
        "causal_cum_usd": causal_cum,
    }


#: Chart panels: (title, [(series key, label, colour, right-hand axis?)], fixed y-range).
_PANELS: tuple[
    tuple[str, tuple[tuple[str, str, str, bool], ...], tuple[float, float] | None], ...
] = (
    (
        "Share of purchases",
        (
            ("platform_share", "platform", "#1f77b4", False),
            ("rival_share", "rival", "#d62728", False),
        ),
        (0.0, 1.0),
    ),
    ("Prime members", (("prime_members", "members", "#2ca02c", False),), None),
    (
        "Ad revenue ($/day) and sponsored share",
        (
            ("ad_revenue_usd", "ad revenue $/day", "#9467bd", False),
            ("sponsored_impression_share", "sponsored share (right)", "#8c564b", True),
        ),
        None,
    ),
    ("Consumer surplus ($/day)", (("consumer_surplus_usd", "surplus", "#17becf", False),), None),
    (
        "Assistant trust and consults/day",
        (
            ("mean_trust", "mean trust", "#e377c2", False),
            ("assistant_consults", "consults/day (right)", "#7f7f7f", True),
        ),
        (0.0, 1.0),
    ),
    (
        "Assistant revenue, cumulative ($)",
        (
            ("dsi_cum_usd", "DSI-attributed", "#ff7f0e", False),
            ("causal_cum_usd", "causal (twin)", "#1f77b4", False),
        ),
        None,
    ),
)


class ChartsPainter:
    """Draws the six charts over time, keeping one figure and updating its lines.

    Panels (see :data:`_PANELS`): platform vs rival share of purchases; Prime
    members; ad revenue and sponsored share of impressions; consumer surplus;
    assistant trust and consults; cumulative DSI-attributed vs causal assistant
    revenue. Lines carry their series key as ``gid``.
    """

    def __init__(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        fig = Figure(figsize=(12.0, 6.6), dpi=_FIG_DPI)
        FigureCanvasAgg(fig)  # one canvas for the figure's life: its renderer is reused
        fig.subplots_adjust(left=0.05, right=0.94, bottom=0.08, top=0.94, wspace=0.36, hspace=0.25)
        self.lines: dict[str, Any] = {}
        self.axes: list[tuple[Any, Any | None, tuple[float, float] | None]] = []
        for i, (title, lines, ylim) in enumerate(_PANELS):
            ax = fig.add_subplot(2, 3, i + 1, sharex=self.axes[0][0] if self.axes else None)
            right = ax.twinx() if any(r for *_, r in lines) else None
            for key, label, colour, on_right in lines:
                target = right if on_right else ax
                assert target is not None
                (self.lines[key],) = target.plot([], [], color=colour, lw=1.2, label=label, gid=key)
            ax.set_title(title, fontsize=10)
            ax.legend(
                handles=[self.lines[k] for k, *_ in lines],
                loc="upper left",
                fontsize=7,
                frameon=False,
            )
            # Few ticks: drawing tick labels is most of a redraw's cost.
            for a in (ax, right):
                if a is not None:
                    a.tick_params(labelsize=8)
                    a.yaxis.set_major_locator(MaxNLocator(4))
            ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))
            if i >= 3:
                ax.set_xlabel("day", fontsize=8)
            else:
                ax.tick_params(labelbottom=False)
            self.axes.append((ax, right, ylim))
        self.fig = fig

    def draw(self, series: dict[str, NDArray[np.float64]]) -> Figure:
        """The charts of :func:`chart_series` output."""
        d = series["day"]
        for key, line in self.lines.items():
            line.set_data(d, series[key])
        causal = series["causal_cum_usd"]
        no_twin = causal.size > 0 and bool(np.isnan(causal).all())
        self.lines["causal_cum_usd"].set_label("causal: no twin" if no_twin else "causal (twin)")
        x_hi = max(10.0, float(d[-1]) if d.size else 0.0)
        for ax, right, ylim in self.axes:
            for a, fixed in ((ax, ylim), (right, None)):
                if a is None:
                    continue
                a.set_xlim(0, x_hi)
                if fixed is not None:
                    a.set_ylim(*fixed)
                elif d.size == 0:
                    a.set_ylim(0, 1, auto=True)  # keep autoscaling on for the data to come
                else:
                    a.relim()
                    a.autoscale_view(scalex=False)
        ax = self.axes[5][0]
        ax.legend(
            handles=[self.lines["dsi_cum_usd"], self.lines["causal_cum_usd"]],
            loc="upper left",
            fontsize=7,
            frameon=False,
        )
        return self.fig


def charts_figure(series: dict[str, NDArray[np.float64]]) -> Figure:
    """A new figure of the charts over time (see :class:`ChartsPainter`)."""
    return ChartsPainter().draw(series)


def figure_png(fig: Figure) -> bytes:
    """PNG bytes of a figure (what the page shows; the figure is not kept)."""
    buf = io.BytesIO()
    # Fast zlib level: the image goes over loopback, and level 6 costs ~15 ms more per frame.
    fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
    return buf.getvalue()


# -- the Solara page (built on first access of ``Page``) ----------------------


@functools.cache
def _build_page() -> Any:
    import solara

    with warnings.catch_warnings():
        # Solara's hook checker warns about Mesa 3.3.1's own SolaraViz source; not ours to fix.
        warnings.filterwarnings("ignore", category=UserWarning, module="solara.validate_hooks")
        from mesa.visualization import SolaraViz
        from mesa.visualization.utils import update_counter

    @solara.component
    def MapView(model: MarketplaceModel) -> Any:
        tick = update_counter.get()
        measure = solara.use_reactive("platform_share")
        painter = solara.use_memo(MapPainter, [model])
        png = solara.use_memo(
            lambda: figure_png(painter.draw(model, measure.value)),
            [model, tick, model.day, measure.value],
        )
        with solara.Column(gap="4px") as col:
            with solara.ToggleButtonsSingle(value=measure, dense=True):
                for key, short in _MEASURE_BUTTONS.items():
                    solara.Button(short, value=key, text=True)
            solara.Image(png, format="png", classes=[_MAP_CLASS])
        return col

    @solara.component
    def ChartsView(model: MarketplaceModel) -> Any:
        tick = update_counter.get()
        painter = solara.use_memo(ChartsPainter, [model])
        png = solara.use_memo(
            lambda: figure_png(painter.draw(chart_series(model.daily_rows))),
            [model, tick, model.day],
        )
        return solara.Image(png, format="png", width="100%", classes=[_CHARTS_CLASS])

    @solara.component
    def Summary(model: MarketplaceModel) -> Any:
        update_counter.get()
        with solara.Column(gap="2px", style={"padding-top": "48px", "font-size": "14px"}) as col:
            solara.Div(children=[f"Day {model.day}"], style={"font-weight": "600"})
            for label, value in today_summary(model):
                with solara.Row(justify="space-between", style={"min-width": "320px"}):
                    solara.Div(children=[label])
                    solara.Div(children=[value], style={"font-weight": "500"})
        return col

    @solara.component
    def Dashboard(model: MarketplaceModel) -> Any:
        update_counter.get()
        with solara.Column(style={"padding": "4px 12px"}) as col:
            solara.Div(
                children=[status_text(model)],
                classes=[_STATUS_CLASS],
                style={"font-size": "15px", "font-weight": "500"},
            )
            solara.Div(children=[settings_text(model)], style={"font-size": "13px"})
            with solara.Row(gap="24px", style={"align-items": "flex-start"}):
                MapView(model)
                Summary(model)
            ChartsView(model)
        return col

    @solara.component
    def App(params: dict[str, Any]) -> Any:
        first = solara.use_memo(lambda: VizModel(**initial_values(params)), [])
        model: solara.Reactive[VizModel] = solara.use_reactive(first)
        with solara.Column() as col:
            SolaraViz(model, components=[], model_params=params, name="flywheel marketplace")
            Dashboard(model.value)
        return col

    @solara.component
    def Page() -> Any:
        """The visualiser page: Mesa's SolaraViz sidebar plus the map and charts."""
        try:
            params = model_params()
        except ConfigError as err:
            return solara.Error(f"flywheel viz: {err}")
        return App(params)

    return Page


def __getattr__(name: str) -> Any:
    # Solara looks up ``Page``; building it imports Solara and Mesa's visualiser.
    if name == "Page":
        page = _build_page()
        globals()["Page"] = page
        return page
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- command line ---------------------------------------------------------------


def _cmd_viz(args: argparse.Namespace) -> int:
    def fail(message: str) -> int:
        print(f"flywheel: error: {message}", file=sys.stderr)
        return 2

    if not 0 < args.port < 65536:
        return fail(f"--port {args.port}: must be between 1 and 65535")
    path = Path(args.config) if args.config is not None else viz_config_path()
    try:
        load_viz_config(path)
    except ConfigError as err:
        return fail(str(err))
    env = {**os.environ, ENV_CONFIG: str(path.resolve())}
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(Path(__file__).resolve()),
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--production",
        "--open" if args.open else "--no-open",
    ]
    print(f"flywheel viz: serving {path.name} at http://{args.host}:{args.port}/", flush=True)
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add ``flywheel viz [CONFIG] [--host H] [--port P] [--open]`` to the CLI."""
    p = subparsers.add_parser(
        "viz",
        help="serve the browser visualiser (SolaraViz) of a config",
        description="Serve the browser visualiser of a config through `solara run`.",
    )
    p.add_argument(
        "config", nargs="?", help=f"a TOML config (default: ${ENV_CONFIG} or configs/baseline.toml)"
    )
    p.add_argument("--host", default=DEFAULT_HOST, help=f"interface (default {DEFAULT_HOST})")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--open", action="store_true", help="also open the page in a web browser")
    p.set_defaults(func=_cmd_viz)


if __name__ == "__main__":
    # `solara run sim/viz.py` executes this file as __main__; define Page eagerly there.
    Page = _build_page()
