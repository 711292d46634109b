"""The visualiser's pure pieces: the model it builds, the map, the chart data, the CLI."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from agents.facility import DeliveryStation, FulfilmentCentre
from sim import viz
from sim.config import ConfigError


@pytest.fixture(scope="module")
def stepped() -> viz.VizModel:
    """A small visualiser model after a few days."""
    m = viz.VizModel(n_customers=1000, seed=7)
    for _ in range(3):
        m.step()
    return m


def _gid(ax, gid):  # type: ignore[no-untyped-def]
    return next(c for c in ax.collections if c.get_gid() == gid)


def test_viz_model_applies_sidebar_values_over_the_config() -> None:
    """Sidebar values override the config; the run is long enough to keep playing."""
    m = viz.VizModel(
        n_customers=1000,
        ad_mode="blended",
        ad_weight=1.25,
        prime_monthly_fee_cents=999,
        same_day_radius_cells=2.5,
        rival_price_index=0.9,
        seed="42",
    )
    c = m.config
    assert (c.assistant.ad_mode.value, c.assistant.ad_weight) == ("blended", 1.25)
    assert c.prime.monthly_fee_cents == 999
    assert c.logistics.same_day_radius_cells == 2.5
    assert c.rival.price_index == 0.9
    assert (c.run.seed, c.run.n_customers, c.run.days) == (42, 1000, viz.VIZ_DAYS)


def test_viz_model_radius_beyond_next_day_radius_is_accepted() -> None:
    """A same-day radius above the config's next-day radius lifts the next-day radius with it."""
    m = viz.VizModel(n_customers=1000, same_day_radius_cells=6.0)
    lg = m.config.logistics
    assert lg.same_day_radius_cells == lg.next_day_radius_cells == 6.0


def test_viz_model_keeps_config_seed_for_text_that_is_no_number() -> None:
    """Seed text that is not a whole number keeps the config's seed and says so."""
    m = viz.VizModel(n_customers=1000, seed="abc")
    assert m.config.run.seed == viz.load_viz_config().run.seed
    assert "abc" in viz.status_text(m)


def test_model_params_start_at_the_config_and_build_a_model() -> None:
    """The sidebar starts at the config's values and those values build a model."""
    params = viz.model_params()
    cfg = viz.load_viz_config()
    assert params["ad_mode"]["value"] == cfg.assistant.ad_mode.value
    assert params["ad_mode"]["values"] == ["none", "labelled", "blended"]
    assert params["n_customers"]["value"] <= viz.MAX_DEFAULT_CUSTOMERS
    values = viz.initial_values(params)
    values["n_customers"] = 1000
    m = viz.VizModel(**values)
    assert m.config.assistant.ad_weight == cfg.assistant.ad_weight


def test_config_path_comes_from_the_environment(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """$FLYWHEEL_VIZ_CONFIG picks the config; a missing file is a one-line ConfigError."""
    cfg = tmp_path / "small.toml"
    base = viz.DEFAULT_CONFIG.as_posix()
    cfg.write_text(f'extends = "{base}"\n[run]\nn_customers = 1500\n')
    monkeypatch.setenv(viz.ENV_CONFIG, str(cfg))
    assert viz.model_params()["n_customers"]["value"] == 1500
    monkeypatch.setenv(viz.ENV_CONFIG, str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="not found"):
        viz.model_params()


def test_map_image_has_the_grid_shape(stepped: viz.VizModel) -> None:
    """The map image is the chosen property layer, height x width as drawn."""
    g = stepped.config.geography
    for measure in viz.MEASURES:
        fig = viz.map_figure(stepped, measure)
        image = fig.axes[0].images[0]
        assert image.get_array().shape == (g.height_cells, g.width_cells)
    expected = np.asarray(stepped.grid.prime_share.data).T
    drawn = viz.map_figure(stepped, "prime_share").axes[0].images[0].get_array()
    np.testing.assert_array_equal(np.ma.filled(drawn, np.nan), expected)


def test_map_draws_one_marker_per_station_and_centre(stepped: viz.VizModel) -> None:
    """Station and centre markers match the model's fixed agents, at their cell centres."""
    ax = viz.map_figure(stepped).axes[0]
    stations = _gid(ax, "stations").get_offsets()
    centres = _gid(ax, "centres").get_offsets()
    assert len(stations) == len(stepped.stations) == len(stepped.agents_by_type[DeliveryStation])
    assert len(centres) == len(stepped.agents_by_type[FulfilmentCentre])
    expected = sorted(
        (s.cell.coordinate[0] + 0.5, s.cell.coordinate[1] + 0.5) for s in stepped.stations
    )
    assert sorted(map(tuple, np.asarray(stations))) == expected
    assert len(_gid(ax, "same_day_radius").get_offsets()) == len(stepped.stations)


def test_map_follows_new_stations(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """When a station opens, the next redraw of the same painter shows it."""
    eager = tmp_path / "eager_expansion.toml"  # stations open wherever anyone orders
    eager.write_text(
        f'extends = "{viz.DEFAULT_CONFIG.as_posix()}"\n'
        "[logistics]\nreview_days = 2\nexpansion_threshold_per_1k = 0.0\nrural_expansion = true\n"
    )
    m = viz.VizModel(config_path=str(eager), n_customers=1000, seed=3)
    painter = viz.MapPainter()
    before = len(_gid(painter.draw(m).axes[0], "stations").get_offsets())
    while len(m.stations) == before and m.day < 20:
        m.step()
    assert len(m.stations) > before, "no station opened"
    ax = painter.draw(m).axes[0]
    assert len(_gid(ax, "stations").get_offsets()) == len(m.stations)
    assert len(_gid(ax, "same_day_radius").get_offsets()) == len(m.stations)


def test_coverage_outline_encloses_exactly_the_same_day_regions() -> None:
    """The outline has one edge per side between covered and uncovered cells (or border)."""
    mask = np.array([[True, True, False], [False, True, False]])
    segs = viz.coverage_edges(mask)
    # perimeter of the L-shaped area of three cells: 8 unit edges
    assert segs.shape == (8, 2, 2)
    assert np.allclose(np.abs(segs[:, 1] - segs[:, 0]).sum(axis=1), 1.0)
    assert viz.coverage_edges(np.zeros((2, 2), bool)).shape == (0, 2, 2)


def test_chart_series_handles_missing_causal_values() -> None:
    """Days without a twin (causal None) are NaN and do not break the cumulative sums."""
    rows = [
        {"day": 0, "dsi_revenue_cents": 100, "causal_revenue_cents": None, "platform_share": 0.5},
        {"day": 1, "dsi_revenue_cents": 300, "causal_revenue_cents": None, "platform_share": 0.6},
    ]
    s = viz.chart_series(rows)
    assert s["dsi_cum_usd"].tolist() == [1.0, 4.0]
    assert np.isnan(s["causal_cum_usd"]).all()
    assert np.isnan(s["prime_members"]).all()  # a missing key is NaN, not an error
    with_twin = [dict(r, causal_revenue_cents=c) for r, c in zip(rows, (50, -20), strict=True)]
    assert viz.chart_series(with_twin)["causal_cum_usd"].tolist() == [0.5, 0.3]
    assert viz.chart_series([])["day"].shape == (0,)


def test_charts_draw_the_twin_line_only_with_a_twin() -> None:
    """With the assistant off there is no twin: the causal line is empty and labelled so."""
    off = viz.VizModel(n_customers=1000, assistant_enabled=False)
    off.step()
    on = viz.VizModel(n_customers=1000)
    on.step()
    for model, has_twin in ((off, False), (on, True)):
        fig = viz.charts_figure(viz.chart_series(model.daily_rows))
        line = next(ln for ax in fig.axes for ln in ax.lines if ln.get_gid() == "causal_cum_usd")
        assert bool(np.isfinite(line.get_ydata()).any()) is has_twin
        assert ("no twin" in line.get_label()) is not has_twin
        assert viz.today_summary(model)[-1][1] != "n/a" or not has_twin
    assert len(viz.charts_figure(viz.chart_series([])).axes) == 8  # six panels, two twins


def test_charts_painter_rescales_as_data_arrive(stepped: viz.VizModel) -> None:
    """A painter that first drew no data (day 0) scales its panels to the data later."""
    painter = viz.ChartsPainter()
    painter.draw(viz.chart_series([]))
    fig = painter.draw(viz.chart_series(stepped.daily_rows))
    for ax in fig.axes:
        for line in ax.lines:
            y = np.asarray(line.get_ydata(), dtype=float)
            y = y[np.isfinite(y)]
            if y.size:
                lo, hi = ax.get_ylim()
                assert lo <= y.min() and y.max() <= hi, line.get_gid()


def test_figures_render_to_png(stepped: viz.VizModel) -> None:
    """Both figures render to PNG bytes, as the page shows them."""
    for fig in (viz.map_figure(stepped), viz.charts_figure(viz.chart_series(stepped.daily_rows))):
        assert viz.figure_png(fig).startswith(b"\x89PNG")


def test_status_line_names_day_policy_and_seed(stepped: viz.VizModel) -> None:
    """The status line shows the day, the ad mode, the seed and the stations."""
    text = viz.status_text(stepped)
    assert text.startswith("Day 3 · assistant on, ad_mode ")
    assert "seed 7" in text and f"{len(stepped.stations)} stations" in text


def test_page_component_is_built_on_first_access() -> None:
    """`Page` is a Solara component, created when Solara looks it up."""
    import reacton.core

    assert isinstance(viz.Page, reacton.core.ComponentFunction)
    with pytest.raises(AttributeError):
        viz.no_such_name  # noqa: B018


def test_cli_rejects_a_bad_config_with_one_line() -> None:
    """`flywheel viz missing.toml` prints one error line and exits 2 without serving."""
    out = subprocess.run(
        [sys.executable, "-m", "sim.cli", "viz", "no/such/config.toml"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("flywheel: error: config file not found")


def test_cli_parses_viz_arguments() -> None:
    """The viz subcommand takes an optional config, --host and --port with defaults."""
    from sim.cli import build_parser

    args = build_parser().parse_args(["viz"])
    assert (args.config, args.host, args.port) == (None, "127.0.0.1", 8765)
    args = build_parser().parse_args(["viz", "configs/baseline.toml", "--port", "9000"])
    assert (args.config, args.port) == ("configs/baseline.toml", 9000)
