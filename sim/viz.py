"""The browser visualiser: a Mesa ``SolaraViz`` page of the marketplace model.

Launch it with ``flywheel viz [CONFIG]`` (:mod:`sim.cli.viz`), or with
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
``sim.cli`` imports this module (for the ``viz`` command) on every ``flywheel``
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

import functools
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config import Config, ConfigError, load_config
from sim.model import MarketplaceModel
from sim.viz_figures import (
    MEASURES,
    ChartsPainter,
    MapPainter,
    chart_series,
    charts_figure,
    coverage_edges,
    figure_png,
    map_figure,
)

if TYPE_CHECKING:
    pass

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

#: Short names of the map measures on the page's buttons.
_MEASURE_BUTTONS = {
    "platform_share": "platform share",
    "prime_share": "Prime share",
    "delivery_days": "delivery days",
    "density": "population",
}
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
            "step": 1,  # exact cents: $14.99 stays $14.99 (and Reset restores it)
            "label": "Prime monthly fee (cents)",
        },
        "prime_annual_fee_cents": {
            "type": "SliderInt",
            "value": int(p.annual_fee_cents),
            "min": 0,
            "max": 40000,
            "step": 1,
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


if __name__ == "__main__":
    # `solara run sim/viz.py` executes this file as __main__; define Page eagerly there.
    Page = _build_page()
