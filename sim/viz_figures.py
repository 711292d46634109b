"""The visualiser's figures: the map and the charts over time, drawn with matplotlib.

Painters keep one figure per model and update its artists each day (building
axes costs far more than redrawing them); :func:`figure_png` turns a figure
into the PNG the page shows. Used by :mod:`sim.viz`, testable without Solara.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from sim.model import MarketplaceModel

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "MEASURES",
    "ChartsPainter",
    "MapPainter",
    "chart_series",
    "charts_figure",
    "coverage_edges",
    "figure_png",
    "map_figure",
]

#: Map measures: grid property layer -> (label, colour map, colour range or None for auto).
MEASURES: dict[str, tuple[str, str, tuple[float, float] | None]] = {
    "platform_share": ("Platform share of purchases", "viridis", (0.0, 1.0)),
    "prime_share": ("Prime share of customers", "magma", (0.0, 1.0)),
    "delivery_days": ("Delivery promise, platform-fulfilled (days)", "cividis_r", None),
    "density": ("Share of population", "Greys", None),
}

#: Map layers the model fills when it records a day (empty before the first step).
_RECORDED_MEASURES = ("platform_share", "prime_share")
_FIG_DPI = 72


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
