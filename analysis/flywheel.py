"""Claim 1, flywheel lock-in: feedback after a customer shock, and Prime as a switching cost.

Reads a sweep (see ``configs/sweeps/flywheel_*.toml``) whose scenarios are,
with every scenario sharing the replicate seeds:

- a ``control`` run (Prime on, no shock, no rival cut);
- a customer ``shock``: ``connectivity.satellite_start_day`` set, so offline
  rural customers come online on that day;
- rival price ``cut`` runs: a schedule lowers ``rival.price_index`` on a day
  and restores it later (depth, cut and reversal days are read from each
  run's ``manifest.json``, or given as :class:`Design`);
- optionally the control and a cut with ``prime.enabled = false``.

Estimates (each paired by seed, 95% bootstrap intervals over seeds):

- feedback multiplier ``M = F / I`` of the shock: ``I`` is the extra platform
  orders per day over ``IMPULSE_DAYS`` starting ``IMPULSE_LAG_DAYS`` after the
  shock (once the new customers' shopping journeys are under way), ``F`` the
  extra orders per day over the last ``FINAL_DAYS``; ``M > 1`` means the
  platform's response grew (flywheel). Because newly online customers also
  build habit on their own, the report adds the spillover: the change in
  orders of metro customers, whom the shock does not reach directly;
- lock-in by membership: the platform's share of purchases during the cut,
  control minus cut, for purchases made as Prime members vs. as non-members
  (``member`` flag of ``events.parquet``); and, causally, the share lost
  without Prime minus the share lost with Prime (the ``*_noprime`` pair);
- hysteresis: the platform share still missing ``SETTLE_DAYS`` after the
  reversal until the end of the run;
- the rival price cut needed to move ``TARGET_MEMBER_LOSS`` of members'
  purchases to the rival, interpolated across the cut depths swept.

Usage::

    flywheel analyze flywheel runs/flywheel_quick --out reports/flywheel_quick
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from analysis import decomposition
from analysis.common import (
    BOOTSTRAP_RESAMPLES,
    Claim,
    Estimate,
    Report,
    analysis_command,
    bootstrap,
    bootstrap_mean,
    bootstrap_ratio,
    parse_args,
    plot_setup,
    provenance_block,
    scan,
    scan_frame,
    table_md,
    timeseries_figure,
    verdict_lines,
)

__all__ = ["Design", "FlywheelResult", "analyse", "design_from_manifests", "main"]

IMPULSE_DAYS = 14
#: Days after the shock before the impulse is measured: a shopping need stays open up
#: to ``customers.need_max_days`` (7) days, so the new customers' sessions take a week
#: to reach their steady flow; measured from the shock day, the impulse would count
#: that ramp as part of the direct effect and the ratio would read it as feedback.
IMPULSE_LAG_DAYS = 7
FINAL_DAYS = 30
SETTLE_DAYS = 14
TARGET_MEMBER_LOSS = 0.10  # relative loss of members' platform purchases
MULTIPLIER_MARGIN = 0.10
LOCKIN_MARGIN = 0.01  # 1 percentage point of purchase share
HYSTERESIS_MARGIN = 0.005
SPILLOVER_MARGIN = 0.005  # share of the control's metro orders
RESPONSE_MARGIN = 0.01  # share of the control's level of sellers, products or stations

MULTIPLIER = Claim(
    "A customer shock is amplified by feedback (multiplier > 1)",
    MULTIPLIER_MARGIN,
    f"multiplier 1 +/- {MULTIPLIER_MARGIN}",
    "a final response within 10% of the first fortnight's is too little growth to call "
    "amplification; a market whose loop is switched off should give about 1",
    threshold=1.0,
)
SPILLOVER = Claim(
    "The shock raises orders of customers it did not reach (metro spillover)",
    SPILLOVER_MARGIN,
    f"{SPILLOVER_MARGIN:.1%} of the control's metro orders",
    "an indirect gain smaller than this is too small to count as a cross-side network "
    "effect in a policy argument",
)
FROZEN = Claim(
    "With every loop channel frozen the shock is still amplified",
    MULTIPLIER_MARGIN,
    f"multiplier 1 +/- {MULTIPLIER_MARGIN}",
    "with every channel held at its burn-in state a multiplier within 10% of 1 is no "
    "amplification (the same margin as the live multiplier's)",
    threshold=1.0,
)
LOCKIN_REASON = (
    "a gap under one percentage point of purchase share is too small to call lock-in: "
    "the claim is that Prime keeps customers visibly more loyal"
)
HYSTERESIS = Claim(
    "Share lost to the rival is not regained after the cut is reversed (hysteresis)",
    HYSTERESIS_MARGIN,
    f"{HYSTERESIS_MARGIN * 100:.1f} pp of purchase share",
    "less than half a percentage point still missing after the reversal is a full recovery "
    "for practical purposes",
)
#: Days after the shock by which entry and stations should have responded.
RESPONSE_DAYS = 180
#: Scenarios named so are market variants (path dependence), not controls.
VARIANT_PREFIX = "strong_network"


@dataclasses.dataclass(frozen=True)
class Design:
    """What a scenario does: ``kind`` is control, shock or cut."""

    kind: str
    prime: bool = True
    shock_day: int | None = None
    cut_day: int | None = None
    reverse_day: int | None = None
    depth: float = 0.0
    #: loop channels the scenario holds at their burn-in state (``flywheel.freeze``)
    freeze: tuple[str, ...] = ()


@dataclasses.dataclass
class FlywheelResult:
    """Estimates and verdicts of the flywheel analysis."""

    estimates: dict[str, Estimate]
    verdicts: dict[str, str]
    report: Path | None = None


def design_from_config(config: Mapping[str, Any]) -> Design:
    """The :class:`Design` of a run from its resolved config (``manifest.json``)."""
    freeze = tuple(sorted(config.get("flywheel", {}).get("freeze", [])))
    return dataclasses.replace(_design_of(config), freeze=freeze)


def _design_of(config: Mapping[str, Any]) -> Design:
    prime = bool(config["prime"]["enabled"])
    base_index = float(config["rival"]["price_index"])
    cuts = [
        (int(c["day"]), float(c["set"]["rival.price_index"]))
        for c in config.get("schedule", [])
        if "rival.price_index" in c["set"]
    ]
    cuts.sort()
    down = [(d, v) for d, v in cuts if v < base_index]
    if down:
        day, value = down[0]
        back = [d for d, v in cuts if d > day and v >= base_index]
        return Design(
            "cut",
            prime,
            cut_day=day,
            reverse_day=back[0] if back else None,
            depth=round(1 - value / base_index, 6),
        )
    start = int(config["connectivity"]["satellite_start_day"])
    if start >= 0:
        return Design("shock", prime, shock_day=start)
    return Design("control", prime)


def design_from_manifests(sweep_dir: str | Path) -> dict[str, Design]:
    """Scenario -> :class:`Design`, read from the first manifest of each scenario."""
    out: dict[str, Design] = {}
    for path in sorted(Path(sweep_dir).glob("**/manifest.json")):
        if any(p.startswith(".") for p in path.relative_to(sweep_dir).parts):
            continue
        try:
            m = json.loads(path.read_text())
            scen = m.get("scenario") or m["labels"]["scenario"]
            if scen in out:
                continue
            design = design_from_config(m["config"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise ValueError(
                f"{path}: not a readable manifest (a JSON object with the run's scenario "
                "and config, as flywheel run writes)"
            ) from None
        if scen.startswith(VARIANT_PREFIX):
            design = dataclasses.replace(design, kind="variant")
        out[scen] = design
    return out


#: A purchase on the platform: ``channel`` is "platform" (or 0 in older outputs).
_ON_PLATFORM = pl.col("channel").cast(pl.String).is_in(["platform", "0"])


def _find(
    design: Mapping[str, Design], kind: str, prime: bool = True, freeze: tuple[str, ...] = ()
) -> list[str]:
    return [
        s for s, d in design.items() if d.kind == kind and d.prime == prime and d.freeze == freeze
    ]


def _window_mean(daily: pl.DataFrame, scen: str, col: str, lo: int, hi: int | None) -> pl.DataFrame:
    f = (pl.col("scenario") == scen) & (pl.col("day") >= lo)
    if hi is not None:
        f &= pl.col("day") < hi
    return daily.filter(f).group_by("seed").agg(pl.col(col).mean().alias(scen))


def _diff(daily: pl.DataFrame, a: str, b: str, col: str, lo: int, hi: int | None) -> np.ndarray:
    x = _window_mean(daily, a, col, lo, hi)
    y = _window_mean(daily, b, col, lo, hi)
    j = x.join(y, on="seed").sort("seed")
    return (j[a] - j[b]).to_numpy()


def _share_by_member(events: pl.DataFrame, lo: int, hi: int | None) -> pl.DataFrame:
    """Platform share of purchases per scenario, seed and membership in ``[lo, hi)``."""
    f = pl.col("day") >= lo
    if hi is not None:
        f &= pl.col("day") < hi
    return (
        events.filter(f)
        .group_by("scenario", "seed", "member")
        .agg(_ON_PLATFORM.mean().alias("share"), pl.len().alias("n"))
    )


def analyse(
    daily: pl.DataFrame | pl.LazyFrame,
    design: Mapping[str, Design],
    events: pl.DataFrame | pl.LazyFrame | None = None,
    customers: pl.DataFrame | pl.LazyFrame | None = None,
    out: str | Path | None = None,
    provenance: str = "",
) -> FlywheelResult:
    """Estimate the flywheel quantities, judge the claims and (with ``out``) write the report.

    Parameters
    ----------
    daily
        Daily rows with ``scenario``, ``seed``, ``day`` and outcome columns.
    design
        Scenario -> :class:`Design` (from :func:`design_from_manifests`).
    events
        Purchase rows with ``scenario``, ``seed``, ``day``, ``channel``
        (0 platform, 1 rival) and ``member``; needed for lock-in by membership.
    customers
        Customer rows with ``scenario``, ``seed``, ``metro``, ``orders_member``,
        ``orders_nonmember``; used for the shock's spillover.
    out
        Report folder; nothing is written without it.
    provenance
        The report's provenance block (:func:`analysis.common.provenance_block`).
    """
    d = scan_frame(daily).collect()
    ev = events.lazy().collect() if events is not None else None
    cu = customers.lazy().collect() if customers is not None else None
    est: dict[str, Estimate] = {}
    verdicts: dict[str, str] = {}
    lines: list[tuple[Claim | str, Estimate | None, str]] = []
    decomposition_rows: list[list[str]] = []
    last_day = int(d["day"].max())
    controls = _find(design, "control")
    control = controls[0] if controls else None
    if control is None:
        raise ValueError("flywheel sweep needs a control scenario (no shock, no cut, Prime on)")

    # -- feedback multiplier of the customer shock ----------------------------
    for shock in _find(design, "shock"):
        s = design[shock].shock_day or 0
        lo = s + IMPULSE_LAG_DAYS
        impulse = _diff(d, shock, control, "orders", lo, lo + IMPULSE_DAYS)
        final = _diff(d, shock, control, "orders", last_day - FINAL_DAYS + 1, None)
        m = bootstrap_ratio(final, impulse)
        est["impulse_orders"] = bootstrap_mean(impulse)
        est["final_orders"] = bootstrap_mean(final)
        est["multiplier"] = m
        verdicts["multiplier"] = MULTIPLIER.judge(m)
        lines.append(
            (
                MULTIPLIER,
                m,
                f"extra platform orders per day: {est['impulse_orders'].fmt()} over "
                f"{IMPULSE_DAYS} days from day {lo} ({IMPULSE_LAG_DAYS} days after the shock "
                f"on day {s}, once its customers' shopping journeys are under way), "
                f"{est['final_orders'].fmt()} in the "
                f"last {FINAL_DAYS} days; multiplier {m.fmt()}.",
            )
        )
        if cu is not None and "metro" in cu.columns:
            orders = (
                cu.filter(pl.col("metro"))
                .group_by("scenario", "seed")
                .agg((pl.col("orders_member") + pl.col("orders_nonmember")).sum().alias("o"))
            )
            a = orders.filter(pl.col("scenario") == shock).select("seed", pl.col("o").alias("a"))
            b = orders.filter(pl.col("scenario") == control).select("seed", pl.col("o").alias("b"))
            j = a.join(b, on="seed").sort("seed")
            rel = bootstrap_ratio((j["a"] - j["b"]).to_numpy(), j["b"].to_numpy())
            est["spillover"] = rel
            verdicts["spillover"] = SPILLOVER.judge(rel)
            lines.append(
                (
                    SPILLOVER,
                    rel,
                    f"metro customers' platform orders over the run changed by "
                    f"{rel.fmt(3, 100, '%')} vs. control.",
                )
            )

    # -- the loop's response to the shock, and the multiplier by channel --------
    for shock in _find(design, "shock")[:1]:
        s = design[shock].shock_day or 0
        lo, hi = s + RESPONSE_DAYS - FINAL_DAYS, s + RESPONSE_DAYS
        for col, what in (
            ("sellers_active", "active sellers"),
            ("products_active", "active products"),
            ("stations_rural", "stations in rural regions (where the shock lands)"),
            ("stations", "stations"),
        ):
            if col not in d.columns or lo > last_day:
                continue
            e = bootstrap_mean(_diff(d, shock, control, col, lo, hi))
            level = abs(float(_window_mean(d, control, col, lo, hi)[control].mean() or 0.0))
            claim = Claim(
                f"The shock raises {what} within {RESPONSE_DAYS} days",
                RESPONSE_MARGIN * level,
                f"{RESPONSE_MARGIN:.0%} of the control's level ({RESPONSE_MARGIN * level:.3g})",
                "a response smaller than this is too small to carry a feedback loop",
            )
            est[f"response_{col}"] = e
            verdicts[f"response_{col}"] = claim.judge(e)
            lines.append(
                (
                    claim,
                    e,
                    f"shocked minus control, mean over days {lo}-{hi - 1}: {e.fmt()}.",
                )
            )
        parts = {}
        for name, dd in design.items():
            if dd.kind != "shock" or not dd.prime:
                continue
            twins = _find(design, "control", freeze=dd.freeze)
            if twins:
                parts[dd.freeze] = decomposition.multiplier_parts(
                    d,
                    name,
                    twins[0],
                    (dd.shock_day or 0) + IMPULSE_LAG_DAYS,
                    IMPULSE_DAYS,
                    FINAL_DAYS,
                )
        if len(parts) > 1:
            dec = decomposition.channel_contributions(parts)
            for label, e in dec["multiplier"].items():
                est[f"multiplier[{label}]"] = e
            if "all frozen" in dec["multiplier"]:
                e = dec["multiplier"]["all frozen"]
                verdicts["multiplier_all_frozen"] = FROZEN.judge(e)
                lines.append(
                    (
                        FROZEN,
                        e,
                        f"multiplier {e.fmt()} (a loop that is switched off should give 1).",
                    )
                )
            rows = [
                [
                    ch,
                    dec["multiplier"].get(ch, Estimate(math.nan, math.nan, math.nan, 0)).fmt(),
                    dec["contribution"][ch].fmt(),
                    dec["share"][ch].fmt(3, 100, "%") if ch in dec["share"] else "n/a",
                ]
                for ch in dec["contribution"]
            ]
            decomposition_rows.extend(rows)
            for ch, e in dec["share"].items():
                est[f"channel_share[{ch}]"] = e

    # -- lock-in: rival price cut, members vs non-members ----------------------
    cuts = sorted(_find(design, "cut"), key=lambda c: design[c].depth)
    main_cut = min(cuts, key=lambda c: abs(design[c].depth - 0.10)) if cuts else None
    if main_cut is not None and ev is not None and "member" in ev.columns:
        dc = design[main_cut]
        hi = dc.reverse_day
        sh = _share_by_member(ev, dc.cut_day or 0, hi)
        rows = {}
        for member in (True, False):
            g = sh.filter(pl.col("member") == member)
            a = g.filter(pl.col("scenario") == control).select("seed", pl.col("share").alias("c"))
            b = g.filter(pl.col("scenario") == main_cut).select("seed", pl.col("share").alias("t"))
            rows[member] = a.join(b, on="seed").sort("seed")
        both = rows[True].join(rows[False], on="seed", suffix="_non").sort("seed")
        loss_m = (both["c"] - both["t"]).to_numpy()
        loss_n = (both["c_non"] - both["t_non"]).to_numpy()
        est["loss_members"] = bootstrap_mean(loss_m)
        est["loss_nonmembers"] = bootstrap_mean(loss_n)
        est["lockin_gap"] = bootstrap_mean(loss_n - loss_m)
        rel_m = loss_m / both["c"].to_numpy()
        rel_n = loss_n / both["c_non"].to_numpy()
        est["lockin_gap_relative"] = bootstrap_mean(rel_n - rel_m)
        claim = Claim(
            f"Prime members leave for a cheaper rival less than non-members ({dc.depth:.0%} cut)",
            LOCKIN_MARGIN,
            f"{LOCKIN_MARGIN * 100:.0f} pp of purchase share",
            LOCKIN_REASON,
        )
        verdicts["lockin_members"] = claim.judge(est["lockin_gap"])
        lines.append(
            (
                claim,
                est["lockin_gap"],
                f"platform share of purchases lost during the cut: members "
                f"{est['loss_members'].fmt(3, 100, ' pp')}, non-members "
                f"{est['loss_nonmembers'].fmt(3, 100, ' pp')}; non-members minus members "
                f"{est['lockin_gap'].fmt(3, 100, ' pp')} (relative to each group's own share: "
                f"{est['lockin_gap_relative'].fmt(3, 100, ' pp')}; membership as of each "
                "purchase, so it mixes the effect of Prime with who chooses to join).",
            )
        )
    np_controls = _find(design, "control", prime=False)
    np_cuts = [
        c
        for c in _find(design, "cut", prime=False)
        if main_cut and design[c].depth == design[main_cut].depth
    ]
    if main_cut is not None and np_controls and np_cuts:
        dc = design[main_cut]

        def share(frame: pl.DataFrame, scen: str) -> pl.DataFrame:
            f = (pl.col("scenario") == scen) & (pl.col("day") >= (dc.cut_day or 0))
            if dc.reverse_day is not None:
                f &= pl.col("day") < dc.reverse_day
            return (
                frame.filter(f)
                .group_by("seed")
                .agg(
                    (
                        pl.col("orders").sum()
                        / (pl.col("orders") + pl.col("rival_purchases")).sum()
                    ).alias(scen)
                )
            )

        parts = [share(d, s) for s in (control, main_cut, np_controls[0], np_cuts[0])]
        j = parts[0]
        for p in parts[1:]:
            j = j.join(p, on="seed")
        j = j.sort("seed")
        loss_p = (j[control] - j[main_cut]).to_numpy()
        loss_np = (j[np_controls[0]] - j[np_cuts[0]]).to_numpy()
        est["loss_prime_world"] = bootstrap_mean(loss_p)
        est["loss_noprime_world"] = bootstrap_mean(loss_np)
        est["prime_lockin"] = bootstrap_mean(loss_np - loss_p)
        claim = Claim(
            "Prime causally reduces the share lost to a cheaper rival (Prime vs. no-Prime world)",
            LOCKIN_MARGIN,
            f"{LOCKIN_MARGIN * 100:.0f} pp of purchase share",
            LOCKIN_REASON,
        )
        verdicts["prime_lockin"] = claim.judge(est["prime_lockin"])
        lines.append(
            (
                claim,
                est["prime_lockin"],
                f"platform share lost during the cut: {est['loss_prime_world'].fmt(3, 100, ' pp')} "
                f"with Prime, {est['loss_noprime_world'].fmt(3, 100, ' pp')} without; difference "
                f"{est['prime_lockin'].fmt(3, 100, ' pp')}.",
            )
        )

    # -- hysteresis -------------------------------------------------------------
    if main_cut is not None and design[main_cut].reverse_day is not None:
        dc = design[main_cut]
        r = (dc.reverse_day or 0) + SETTLE_DAYS
        if r < last_day:
            dd = d.with_columns(
                (pl.col("orders") / (pl.col("orders") + pl.col("rival_purchases"))).alias("ps")
            )
            gap = -_diff(dd, main_cut, control, "ps", r, None)
            during = -_diff(dd, main_cut, control, "ps", dc.cut_day or 0, dc.reverse_day)
            est["hysteresis"] = bootstrap_mean(gap)
            est["hysteresis_share_of_loss"] = bootstrap_ratio(gap, during)
            verdicts["hysteresis"] = HYSTERESIS.judge(est["hysteresis"])
            lines.append(
                (
                    HYSTERESIS,
                    est["hysteresis"],
                    f"from day {r} to the end, the platform share is still "
                    f"{est['hysteresis'].fmt(3, 100, ' pp')} below control, "
                    f"{est['hysteresis_share_of_loss'].fmt(3, 100, '%')} of the loss "
                    "during the cut.",
                )
            )

    # -- the cut needed to move a target share of members ------------------------
    curve_rows = []
    if cuts and ev is not None and "member" in ev.columns:
        seeds = None
        curves = []
        for c in [c for c in cuts if design[c].prime]:
            dc = design[c]
            sh = _share_by_member(ev, dc.cut_day or 0, dc.reverse_day).filter(pl.col("member"))
            a = sh.filter(pl.col("scenario") == control).select("seed", pl.col("share").alias("a"))
            b = sh.filter(pl.col("scenario") == c).select("seed", pl.col("share").alias("b"))
            j = a.join(b, on="seed").sort("seed")
            rel = ((j["a"] - j["b"]) / j["a"]).to_numpy()
            seeds = j["seed"] if seeds is None else seeds
            if len(rel) == len(seeds):
                curves.append((dc.depth, rel))
                curve_rows.append([f"{dc.depth:.0%}", bootstrap_mean(rel).fmt(3, 100, "%")])
        if curves:
            depths = np.array([0.0] + [c[0] for c in curves])
            mat = np.column_stack([np.zeros(len(curves[0][1]))] + [c[1] for c in curves])

            def needed(x: np.ndarray) -> float:
                mean = x.mean(axis=0)
                above = np.flatnonzero(mean >= TARGET_MEMBER_LOSS)
                if len(above) == 0:
                    return math.nan
                k = above[0]
                if k == 0:
                    return 0.0
                x0, x1, y0, y1 = depths[k - 1], depths[k], mean[k - 1], mean[k]
                return float(x0 + (TARGET_MEMBER_LOSS - y0) * (x1 - x0) / (y1 - y0))

            e = bootstrap(mat, needed)
            est["cut_needed"] = e
            reached = math.isfinite(e.value)
            lines.append(
                (
                    f"Price cut needed to move {TARGET_MEMBER_LOSS:.0%} of members' purchases",
                    None,
                    (
                        f"a rival price cut of {e.fmt(3, 100, '%')} moves "
                        f"{TARGET_MEMBER_LOSS:.0%} of members' platform purchases to the rival"
                        if reached
                        else f"not reached within the cuts swept (up to {depths.max():.0%})"
                    )
                    + " (interpolated between the depths swept; the interval is over seeds, "
                    "resamples that never reach the target are dropped).",
                )
            )

    result = FlywheelResult(est, verdicts)
    if out is None:
        return result
    rep = Report(
        Path(out),
        "Flywheel lock-in: feedback, Prime switching costs and hysteresis",
        intro=(
            "Scenarios paired by seed (common random numbers): "
            + ", ".join(
                f"`{s}` ({dd.kind}{'' if dd.prime else ', no Prime'}"
                + (
                    f", {dd.depth:.0%} cut days {dd.cut_day}-{dd.reverse_day}"
                    if dd.kind == "cut"
                    else ""
                )
                + (f", day {dd.shock_day}" if dd.kind == "shock" else "")
                + ")"
                for s, dd in design.items()
            )
            + ". Burn-in days are excluded. Intervals: 95% BCa bootstrap over seeds "
            f"({BOOTSTRAP_RESAMPLES} resamples of whole seeds, so pairs stay paired)."
        ),
        provenance=provenance,
    )
    for claim, e, sentence in lines:
        if isinstance(claim, Claim) and e is not None:
            rep.verdict(claim, e, sentence)
        else:
            rep.add(f"**{claim}:** {sentence}")
    if decomposition_rows:
        live = est.get("multiplier[live]")
        frozen = est.get("multiplier[all frozen]")
        rep.add(
            "### The multiplier by loop channel\n\n"
            f"Live multiplier {live.fmt() if live else 'n/a'}; every channel frozen "
            f"{frozen.fmt() if frozen else 'n/a'}. A channel's contribution is the live "
            "multiplier minus the multiplier with that channel alone frozen; its share divides "
            "by the live minus the all-frozen multiplier (channels interact, so shares need not "
            "add to 100%).\n\n"
            + table_md(
                decomposition_rows,
                ["frozen channel", "multiplier", "contribution", "share of the loop"],
            )
        )
    if curve_rows:
        rep.add(
            "### Members' relative loss of platform purchases by cut depth\n\n"
            + table_md(curve_rows, ["rival cut", "members' purchases lost"])
        )
    variants = [s for s, dd in design.items() if dd.kind == "variant"]
    if variants:
        shares = decomposition.final_shares(d, [control, *variants], FINAL_DAYS)
        plt = plot_setup()
        fig, ax = plt.subplots(figsize=(7, 3.5))
        bins = np.linspace(0, 1, 41)
        for scen, values in shares.items():
            ax.hist(values, bins=bins, alpha=0.6, label=f"{scen} ({len(values)} seeds)")
        ax.set_xlabel(f"platform share of purchases, last {FINAL_DAYS} days")
        ax.set_ylabel("seeds")
        ax.legend()
        rep.figure(fig, "path_dependence", "Final platform share over seeds (path dependence)")
        rep.add(
            "### Path dependence\n\n"
            + table_md(
                [
                    [s, f"{v.mean():.3f}", f"{v.std(ddof=1) if len(v) > 1 else math.nan:.3f}",
                     f"{v.min():.3f}", f"{v.max():.3f}"]
                    for s, v in shares.items()
                ],
                ["scenario", "mean final share", "sd over seeds", "min", "max"],
            )
        )  # fmt: skip
    plot_setup()
    keep = [s for s in design if design[s].prime and not design[s].freeze]
    ts = d.filter(pl.col("scenario").is_in(keep)).with_columns(
        (pl.col("orders") / (pl.col("orders") + pl.col("rival_purchases")))
        .rolling_mean(7)
        .over("scenario", "seed", order_by="day")
        .alias("platform_share_7d")
    )
    rep.figure(
        timeseries_figure(
            ts,
            [
                "platform_share_7d",
                "orders",
                "sellers_active",
                "products_active",
                "avg_price_cents",
                "mean_delivery_days",
                "stations",
                "prime_members",
                "same_day_share_orders",
            ],
        ),
        "time_series",
        "Platform share (7-day mean), orders, sellers, selection, prices, delivery days, "
        "stations and Prime members by scenario (mean over seeds, 95% bands)",
    )
    if ev is not None and main_cut is not None and "member" in ev.columns:
        import seaborn as sns

        plt = plot_setup()
        weekly = (
            ev.filter(pl.col("scenario").is_in([control, main_cut]))
            .with_columns((pl.col("day") // 7 * 7).alias("week"))
            .group_by("scenario", "seed", "member", "week")
            .agg(_ON_PLATFORM.mean().alias("platform_share"))
            .sort("week")
            .to_pandas()
        )
        fig, ax = plt.subplots(figsize=(8, 4))
        sns.lineplot(
            data=weekly,
            x="week",
            y="platform_share",
            hue="scenario",
            style="member",
            errorbar=("ci", 95),
            n_boot=200,
            ax=ax,
        )
        ax.axvline(design[main_cut].cut_day or 0, color="grey", ls=":")
        if design[main_cut].reverse_day:
            ax.axvline(design[main_cut].reverse_day, color="grey", ls=":")
        rep.figure(
            fig,
            "lockin",
            "Weekly platform share of purchases by Prime membership, "
            "control vs. rival cut (dotted: cut and reversal)",
        )
    result.report = rep.write()
    return result


def check_design(design: Mapping[str, Design], sweep_dir: str | Path) -> None:
    """Raise ValueError (one line) unless the sweep has what the flywheel claims need: a
    control and a customer shock or a rival price cut."""
    kinds = {d.kind for d in design.values()}
    missing = []
    if not _find(design, "control"):
        missing.append("a control scenario (no shock, no cut, Prime on)")
    if not kinds & {"shock", "cut"}:
        missing.append(
            "a customer-shock scenario (connectivity.satellite_start_day set) or a rival "
            "price cut (a schedule lowering rival.price_index)"
        )
    if missing:
        have = ", ".join(sorted(design)) or "none"
        raise ValueError(
            f"flywheel analysis: the sweep under {sweep_dir} lacks {' and '.join(missing)}; "
            f"its scenarios: {have} (see configs/sweeps/flywheel_quick.toml)"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: ``SWEEP_DIR --out REPORT_DIR``."""
    args = parse_args("flywheel analyze flywheel", __doc__.split("\n")[0], argv)
    design = design_from_manifests(args.sweep_dir)
    check_design(design, args.sweep_dir)
    daily = scan(args.sweep_dir, "daily")
    try:
        events = scan(args.sweep_dir, "events").select(
            "scenario", "seed", "day", "channel", "member"
        )
    except FileNotFoundError:
        events = None
    customers = scan(args.sweep_dir, "customers").select(
        "scenario", "seed", "metro", "orders_member", "orders_nonmember"
    )
    provenance = provenance_block(args.sweep_dir, analysis_command("flywheel", args))
    res = analyse(daily, design, events, customers, args.out, provenance=provenance)
    print(f"wrote {res.report}")
    print("\n".join(verdict_lines(res.report)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
