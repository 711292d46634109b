"""Claim 2, ad opacity: do ads inside assistant answers go unrecognised, pay, and harm customers?

Reads a sweep whose scenarios set ``assistant.ad_mode`` to ``none``,
``labelled`` and ``blended`` (names taken from the ``scenario`` column, or
from an ``assistant.ad_mode`` column when present), optionally crossed with
``customers.ad_literacy_mean``. Every comparison is paired by seed (and
literacy level); the per-seed differences are averaged over literacy levels
and bootstrapped over seeds.

Claims judged (see :func:`analysis.common.judge`):

- recognition, measured from choices: a blended paid pick is avoided less
  than a labelled one. A paid pick's *avoidance* is ``1 - chosen /
  chosen as organic``: how often considered paid picks are bought, against how
  often they would be if valued like an organic pick of equal value (the logit
  probability without the ad discount, summed in ``paid_pick_chosen_as_organic``).
  The gap is labelled minus blended avoidance. Beside it the report shows the
  gap the parameters imply, from the drawn recognition flags
  (``ads_recognised / assistant_ad_picks`` over the measured days of
  ``daily.parquet``; ``customers.parquet``'s whole-run totals for outputs
  without those columns): the two differ,
  because recognising an ad lowers its choice probability by less than one
  (the discount is finite) and not at all where the pick is the only good
  option;
- ad revenue: ads in answers (blended) raise the platform's ad revenue over
  answers without ads;
- steering: they raise the sponsored share of purchases;
- harm: they lower consumer surplus (money and quality; the
  quality-adjusted price paid is reported beside it).

Each claim has a practical margin (``MARGINS``: 0.5% of the no-ads level for
money, 0.5 pp for the sponsored share, 2 pp for recognition), stated with its
reason in the report; an interval entirely within it "does not hold".

Usage::

    flywheel analyze ad-opacity runs/ad_opacity_quick --out reports/ad_opacity_quick
    python -m analysis.ad_opacity runs/ad_opacity_quick --out reports/ad_opacity_quick
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from analysis.common import (
    BOOTSTRAP_RESAMPLES,
    FAILS,
    HOLDS,
    Claim,
    Estimate,
    Report,
    analysis_command,
    bootstrap_mean,
    judge,
    parse_args,
    pct,
    plot_setup,
    provenance_block,
    scan,
    scan_frame,
    table_md,
    timeseries_figure,
    verdict_lines,
)

__all__ = [
    "AdOpacityResult",
    "analyse",
    "effects",
    "main",
    "mechanism",
    "run_metrics",
    "sign_verdict",
]

LITERACY = "customers.ad_literacy_mean"
MODES = ("none", "labelled", "blended")
#: Practical margins per outcome: share of the no-ads level for money, absolute for the
#: sponsored share of purchases and for recognition (avoidance of a paid pick).
MARGINS = {
    "ad_revenue": 0.005,
    "consumer_surplus": 0.005,
    "sponsored_share": 0.005,
    "recognition": 0.02,
}
LABELS = {
    "recognition": "Blended ads in answers are harder to recognise than labelled ads",
    "ad_revenue": "Ads in assistant answers raise the platform's ad revenue",
    "sponsored_share": "Ads in assistant answers shift purchases toward advertisers",
    "consumer_surplus": "Ads in assistant answers cost customers (lower consumer surplus)",
}
REASONS = {
    "recognition": "a gap under two percentage points in how often paid picks are avoided "
    "is too small to say customers tell labelled from blended ads apart",
    "ad_revenue": "a change under half a percent of ad revenue is too small to be a business "
    "reason for putting ads in answers",
    "sponsored_share": "half a percentage point of purchases moved to advertisers is too "
    "little steering to matter to sellers who do not advertise",
    "consumer_surplus": "a loss under half a percent of consumer surplus is too small to call "
    "harm to customers in a policy argument",
}
RECOGNITION = Claim(
    LABELS["recognition"],
    MARGINS["recognition"],
    f"{MARGINS['recognition'] * 100:.0f} pp of paid-pick avoidance",
    REASONS["recognition"],
)


@dataclasses.dataclass
class AdOpacityResult:
    """Estimates and verdicts of the ad-opacity analysis."""

    estimates: dict[str, Estimate]
    verdicts: dict[str, str]
    runs: pl.DataFrame
    report: Path | None = None
    #: per contrast and outcome: effect, interval, verdict (:func:`effects`)
    effects: pl.DataFrame | None = None
    #: the same for welfare by group (:data:`WELFARE`)
    welfare: pl.DataFrame | None = None
    #: with a reference sweep: the effects whose sign differs from the reference's
    differs: pl.DataFrame | None = None


def _mode_expr(cols: Sequence[str]) -> pl.Expr:
    if "assistant.ad_mode" in cols:
        return pl.col("assistant.ad_mode").cast(pl.String)
    return pl.col("scenario")


def _optional(cols: Sequence[str], needs: str, *exprs: pl.Expr) -> list[pl.Expr]:
    """``exprs`` when the sweep has column ``needs`` (older outputs lack it), else nulls."""
    if needs in cols:
        return list(exprs)
    return [pl.lit(None, pl.Float64).alias(e.meta.output_name()) for e in exprs]


def run_metrics(daily: pl.LazyFrame, customers: pl.LazyFrame | None = None) -> pl.DataFrame:
    """One row per run: mode, literacy, seed and post-burn-in outcomes."""
    cols = daily.collect_schema().names()
    lit = pl.col(LITERACY) if LITERACY in cols else pl.lit(float("nan"))
    out = (
        daily.with_columns(_mode_expr(cols).alias("mode"), lit.alias("literacy"))
        .group_by("run_id", "mode", "literacy", "seed")
        .agg(
            pl.col("consumer_surplus_cents").mean().alias("consumer_surplus"),
            (
                (pl.col("quality_adjusted_price_cents") * pl.col("orders")).sum()
                / pl.col("orders").sum()
            ).alias("qa_price"),
            pl.col("ad_revenue_cents").mean().alias("ad_revenue"),
            pl.col("ad_revenue_assistant_cents").mean().alias("ad_revenue_assistant"),
            *_optional(
                cols,
                "ad_revenue_search_cents",
                pl.col("ad_revenue_search_cents").mean().alias("ad_revenue_search"),
            ),
            *_optional(
                cols,
                "ad_sales_assistant_cents",
                pl.col("ad_sales_search_cents").mean().alias("ad_sales_search"),
                pl.col("ad_sales_assistant_cents").mean().alias("ad_sales_assistant"),
                pl.col("budget_bound_share").fill_nan(None).mean().alias("budget_bound_share"),
            ),
            *_optional(
                cols,
                "operating_contribution_cents",
                pl.col("operating_contribution_cents").mean().alias("platform_operating"),
            ),
            *_optional(
                cols,
                "paid_pick_value_gap_cents",
                pl.col("paid_pick_value_gap_cents").mean().alias("paid_pick_surplus"),
                pl.col("paid_pick_purchases").mean().alias("paid_pick_purchases"),
                (
                    pl.col("sold_slot_value_gap_cents").sum()
                    / pl.col("sold_slots_displacing").sum()
                ).alias("slot_gap"),
                (
                    pl.col("paid_pick_value_gap_cents").sum() / pl.col("paid_pick_purchases").sum()
                ).alias("bought_gap"),
            ),
            pl.col("seller_profit_cents").mean().alias("seller_profit"),
            pl.col("sponsored_purchase_share").mean().alias("sponsored_share"),
            pl.col("assistant_ad_pick_share").fill_nan(None).mean().alias("ad_pick_share"),
            pl.col("ads_recognised").sum().alias("ads_recognised"),
            *_optional(
                cols, "assistant_ad_picks", pl.col("assistant_ad_picks").sum().alias("ad_picks")
            ),
            *(
                [
                    (
                        1.0
                        - pl.col("paid_pick_chosen").sum()
                        / pl.col("paid_pick_chosen_as_organic").sum()
                    ).alias("paid_avoidance")
                ]
                if "paid_pick_chosen" in cols
                else [pl.lit(None, pl.Float64).alias("paid_avoidance")]
            ),
            pl.col("mean_trust").tail(30).mean().alias("trust_end"),
            pl.col("assistant_consults").mean().alias("consults"),
        )
        .collect()
    )
    if "assistant_ad_picks" in cols:
        # the flags of the measured days only (a sweep that switches modes after the
        # burn-in must not count the burn-in's ads)
        out = out.with_columns(
            pl.when(pl.col("ad_picks") > 0)
            .then(pl.col("ads_recognised") / pl.col("ad_picks"))
            .otherwise(None)
            .alias("recognition_rate"),
            pl.lit(None).alias("ads_seen"),
        )
    elif customers is not None:
        rec = (
            customers.group_by("run_id")
            .agg(pl.col("ads_seen").sum(), pl.col("ads_recognised").sum().alias("rec_c"))
            .with_columns(
                pl.when(pl.col("ads_seen") > 0)
                .then(pl.col("rec_c") / pl.col("ads_seen"))
                .otherwise(None)
                .alias("recognition_rate")
            )
            .select("run_id", "ads_seen", "recognition_rate")
            .collect()
        )
        out = out.join(rec, on="run_id", how="left")
    else:
        out = out.with_columns(
            pl.lit(None, pl.Float64).alias("recognition_rate"), pl.lit(None).alias("ads_seen")
        )
    out = out.with_columns(
        (pl.col("ad_revenue_search") / pl.col("ad_sales_search")).alias("acos_search"),
        (pl.col("ad_revenue_assistant") / pl.col("ad_sales_assistant")).alias("acos_assistant"),
        (
            pl.col("ad_sales_search")
            + pl.col("ad_sales_assistant")
            - pl.col("ad_revenue_search")
            - pl.col("ad_revenue_assistant")
        ).alias("advertiser_return"),
    )
    return out.sort("mode", "literacy", "seed")


def _paired_by_seed(runs: pl.DataFrame, a: str, b: str, col: str) -> tuple[np.ndarray, float]:
    """Per-seed mean over literacy levels of ``col[a] - col[b]``, and the mean of ``col[b]``."""
    left = runs.filter(pl.col("mode") == a).select("seed", "literacy", pl.col(col).alias("x"))
    right = runs.filter(pl.col("mode") == b).select("seed", "literacy", pl.col(col).alias("y"))
    j = left.join(right, on=["seed", "literacy"], how="inner", nulls_equal=True).drop_nulls()
    j = j.filter(pl.col("x").is_not_nan() & pl.col("y").is_not_nan())
    if j.height == 0:
        return np.zeros(0), float("nan")
    per = j.group_by("seed").agg((pl.col("x") - pl.col("y")).mean().alias("d")).sort("seed")
    return per["d"].to_numpy(), float(j["y"].mean())


#: The paired contrasts judged outcome by outcome: (treatment, reference).
CONTRASTS = (("blended", "labelled"), ("labelled", "none"))
#: Outcomes judged per contrast: column -> (what, display scale, unit).
EFFECTS = {
    "consumer_surplus": ("consumer surplus per day", 0.01, " $"),
    "ad_revenue_search": ("search ad revenue per day", 0.01, " $"),
    "ad_revenue_assistant": ("answer-slot ad revenue per day", 0.01, " $"),
    "seller_profit": ("third-party seller profit per day", 0.01, " $"),
    "trust_end": ("mean trust in the assistant (last 30 days)", 1.0, ""),
    "consults": ("assistant consults per day (later usage)", 1.0, ""),
    "paid_pick_surplus": (
        "consumer surplus of paid picks bought against the organic picks they displaced, "
        "per day (within sessions)",
        0.01,
        " $",
    ),
}
#: What a paid pick does to the customer, measured inside each session (run_metrics).
DIRECT = {
    "slot_gap": ("value of a sold slot's paid pick minus the displaced organic pick", 0.01, " $"),
    "paid_pick_purchases": ("orders of paid picks per day", 1.0, ""),
    "bought_gap": ("the same gap per order of a paid pick", 0.01, " $"),
    "paid_pick_surplus": ("consumer surplus of paid picks bought, per day", 0.01, " $"),
}
#: Welfare by group: column -> who (per day; advertisers are sellers, not added again).
WELFARE = {
    "consumer_surplus": "consumers: consumer surplus",
    "seller_profit": "sellers: third-party profit after fees and ad spend",
    "advertiser_return": "advertisers: ad-attributed sales minus ad spend (part of sellers')",
    "platform_operating": "platform: operating contribution",
}
#: Equivalence margins of the per-contrast verdicts: money relative to the larger of the
#: two levels compared; trust absolute.
RELATIVE_MARGIN, TRUST_MARGIN = 0.005, 0.005


def sign_verdict(est: Estimate, margin: float) -> str:
    """The direction of an effect under the rule of :func:`analysis.common.judge`, applied
    both ways: ``rises`` (the whole interval above ``+margin``), ``falls`` (below
    ``-margin``), ``no effect`` (the whole interval within ``+/- margin``; "(small rise)"
    or "(small fall)" added when it also excludes 0), else ``inconclusive``.

    >>> sign_verdict(Estimate(2.0, 1.0, 3.0, 10), 0.5)
    'rises'
    >>> sign_verdict(Estimate(0.1, -0.2, 0.3, 10), 0.5)
    'no effect'
    >>> sign_verdict(Estimate(0.3, 0.1, 0.4, 10), 0.5)
    'no effect (small rise)'
    """
    up, down = judge(est, 0.0, margin, "greater"), judge(est, 0.0, margin, "less")
    if up == HOLDS:
        return "rises"
    if down == HOLDS:
        return "falls"
    if up == FAILS and down == FAILS:
        if est.lo > 0:
            return "no effect (small rise)"
        if est.hi < 0:
            return "no effect (small fall)"
        return "no effect"
    return "inconclusive"


def effects(runs: pl.DataFrame, outcomes: dict[str, Any] | None = None) -> pl.DataFrame:
    """Paired effect of each contrast on each outcome, with interval and verdict."""
    rows = []
    modes = set(runs["mode"].to_list())
    for a, b in CONTRASTS:
        if not {a, b} <= modes:
            continue
        for col in outcomes or EFFECTS:
            diff, base = _paired_by_seed(runs, a, b, col)
            e = bootstrap_mean(diff)
            if col == "trust_end":
                margin = TRUST_MARGIN
            else:
                level = max(abs(base), abs(base + e.value)) if math.isfinite(e.value) else 0.0
                margin = RELATIVE_MARGIN * level if math.isfinite(level) else 0.0
            rows.append(
                {
                    "contrast": f"{a} - {b}",
                    "outcome": col,
                    "value": e.value,
                    "lo": e.lo,
                    "hi": e.hi,
                    "seeds": e.n,
                    "reference_level": base,
                    "margin": margin,
                    "verdict": sign_verdict(e, margin),
                }
            )
    return pl.DataFrame(rows)


def _fmt_effect(row: dict[str, Any], scale: float, unit: str) -> str:
    e = Estimate(row["value"], row["lo"], row["hi"], row["seeds"])
    return e.fmt(3, scale, unit)


def _mode_means(runs: pl.DataFrame, col: str) -> dict[str, Estimate]:
    """Per mode: mean over seeds (literacy levels averaged) with its interval."""
    out = {}
    for mode in MODES:
        per = (
            runs.filter(pl.col("mode") == mode)
            .group_by("seed")
            .agg(pl.col(col).cast(pl.Float64).mean())
            .sort("seed")  # group_by's order varies; the bootstrap resamples by position
            .drop_nulls()
            .filter(pl.col(col).is_not_nan())
        )
        if per.height:
            out[mode] = bootstrap_mean(per[col].to_numpy())
    return out


def _cannibalisation(runs: pl.DataFrame, a: str, b: str) -> float:
    """Search ad revenue lost per unit of answer-slot revenue gained, ``a`` vs ``b``."""
    ds, _ = _paired_by_seed(runs, a, b, "ad_revenue_search")
    da, _ = _paired_by_seed(runs, a, b, "ad_revenue_assistant")
    if len(ds) == 0 or not np.isfinite(da.mean()) or da.mean() == 0:
        return float("nan")
    return float(-ds.mean() / da.mean())


def mechanism(outcome: str, contrast: str, runs: pl.DataFrame, other: pl.DataFrame) -> str:
    """Why ``outcome`` of ``contrast`` differs between two sweeps, from their numbers:
    how tightly budgets bind and how much answer-slot revenue is taken from search."""
    a, b = (x.strip() for x in contrast.split("-"))
    bb_here = _mode_means(runs, "budget_bound_share").get(a)
    bb_there = _mode_means(other, "budget_bound_share").get(a)
    c_here, c_there = _cannibalisation(runs, a, b), _cannibalisation(other, a, b)
    bound = (
        f"budgets bind for {pct(bb_here.value)} of campaigns a day here against "
        f"{pct(bb_there.value)} in the reference"
        if bb_here is not None and bb_there is not None
        else "budgets bind differently"
    )
    share = (
        f"each $1 the answer slots earn takes ${c_here:.2f} of search ad revenue here "
        f"(${c_there:.2f} in the reference)"
        if math.isfinite(c_here) and math.isfinite(c_there)
        else "the answer slots' revenue is drawn from the same budgets as search"
    )
    return (
        f"{bound}; with one budget per campaign checked before every batch, {share}: "
        "the answer slots cannibalise the search inventory instead of adding spend, so "
        f"{EFFECTS.get(outcome, (outcome,))[0]} moves the other way"
    )


def analyse(
    daily: pl.DataFrame | pl.LazyFrame,
    customers: pl.DataFrame | pl.LazyFrame | None = None,
    out: str | Path | None = None,
    against: tuple[pl.DataFrame | pl.LazyFrame, pl.DataFrame | pl.LazyFrame | None] | None = None,
    provenance: str = "",
) -> AdOpacityResult:
    """Estimate the ad-opacity effects, judge the claims and (with ``out``) write the report.

    Parameters
    ----------
    daily
        Daily rows of the sweep (``burn_in`` rows are dropped here too), with
        ``run_id``, ``scenario`` (or ``assistant.ad_mode``), ``seed`` and the
        daily outcome columns.
    customers
        Customer rows with ``run_id``, ``ads_seen``, ``ads_recognised``
        (for recognition rates); optional.
    out
        Report folder; nothing is written without it.
    against
        The daily (and customer) rows of a reference sweep of the same design (for
        example the baseline's budgets): the report sets each effect's verdict
        beside the reference's and explains every sign that differs.
    """
    d = scan_frame(daily)
    c = customers.lazy() if customers is not None else None
    runs = run_metrics(d, c)
    modes = set(runs["mode"].unique().to_list())
    missing = {"none", "blended"} - modes
    if missing:
        have = ", ".join(sorted(str(m) for m in modes)) or "none"
        raise ValueError(
            f"ad-opacity analysis: the sweep lacks the ad modes {', '.join(sorted(missing))} "
            f"(scenarios, or assistant.ad_mode values, named none / labelled / blended); it "
            f"has: {have} (see configs/sweeps/ad_opacity_quick.toml)"
        )
    est: dict[str, Estimate] = {}
    verdicts: dict[str, str] = {}
    sentences: dict[str, str] = {}
    claims: dict[str, Claim] = {"recognition": RECOGNITION}

    # recognition: labelled - blended, from choices (and, beside it, from the flags)
    if "labelled" in modes:
        fdiff, fbase = _paired_by_seed(runs, "labelled", "blended", "recognition_rate")
        est["recognition_gap_flags"] = bootstrap_mean(fdiff)
        diff, base = _paired_by_seed(runs, "labelled", "blended", "paid_avoidance")
        e = bootstrap_mean(diff)
        est["recognition_gap"] = e
        verdicts["recognition"] = RECOGNITION.judge(e)
        if e.n == 0:
            sentences["recognition"] = (
                "no paid placements were considered in assistant answers, so recognition "
                "cannot be measured from choices"
            )
        else:
            sentences["recognition"] = (
                f"from choices: labelled paid picks were avoided {e.fmt(3, 100, ' pp')} more "
                f"than blended ones (blended avoidance {pct(base)}: bought that much less "
                "often than an organic pick of equal value); the parameters imply a gap in "
                f"recognition of {est['recognition_gap_flags'].fmt(3, 100, ' pp')} "
                f"(blended recognition rate {pct(fbase)}), a different number"
            )
    for key, col, direction, what in (
        ("ad_revenue", "ad_revenue", "greater", "ad revenue per day"),
        ("sponsored_share", "sponsored_share", "greater", "sponsored share of purchases"),
        ("consumer_surplus", "consumer_surplus", "less", "consumer surplus per day"),
    ):
        diff, base = _paired_by_seed(runs, "blended", "none", col)
        e = bootstrap_mean(diff)
        est[key] = e
        if key == "sponsored_share":
            margin, scale, unit = MARGINS[key], 100.0, " pp"
            text = f"{MARGINS[key] * 100:.1f} pp of purchases"
        else:
            ok = np.isfinite(base) and base != 0
            margin, scale, unit = (MARGINS[key] * abs(base) if ok else 1e-9), 0.01, " $"
            text = f"{MARGINS[key]:.1%} of the no-ads level (${margin / 100:,.2f} per day)"
        claims[key] = Claim(LABELS[key], margin, text, REASONS[key], direction=direction)
        verdicts[key] = claims[key].judge(e)
        rel = e.value / abs(base) if base else float("nan")
        sentences[key] = (
            f"blended ads minus no ads in answers: {what} changed by {e.fmt(3, scale, unit)} "
            f"({pct(rel)} of the no-ads level)"
        )
    qdiff, qbase = _paired_by_seed(runs, "blended", "none", "qa_price")
    est["qa_price"] = bootstrap_mean(qdiff)
    pdiff, pbase = _paired_by_seed(runs, "blended", "none", "seller_profit")
    est["seller_profit"] = bootstrap_mean(pdiff)

    table = effects(runs)
    welfare = effects(runs, WELFARE)
    for row in table.iter_rows(named=True):
        est[f"{row['outcome']}: {row['contrast']}"] = Estimate(
            row["value"], row["lo"], row["hi"], row["seeds"]
        )
    reference = None
    if against is not None:
        other_c = against[1].lazy() if against[1] is not None else None
        other = run_metrics(scan_frame(against[0]), other_c)
        reference = (other, effects(other))

    result = AdOpacityResult(est, verdicts, runs, effects=table, welfare=welfare)
    if reference is not None:
        result.differs = _compare(table, reference[1])
    if out is None:
        return result

    rep = Report(
        Path(out),
        "Ad opacity: ads inside assistant answers",
        intro=(
            "Scenarios: assistant answers with no ads, labelled ads, and blended (unmarked) "
            "ads, paired by seed"
            + (" and crossed with mean ad literacy" if runs["literacy"].is_not_nan().any() else "")
            + ". Estimates are means over seeds of paired differences (averaged over literacy "
            f"levels) with 95% BCa bootstrap intervals ({BOOTSTRAP_RESAMPLES} resamples of "
            "whole seeds, so pairs stay paired)."
        ),
        provenance=provenance,
    )
    for key in LABELS:
        if key in verdicts:
            rep.verdict(claims[key], est["recognition_gap" if key == "recognition" else key],
                        sentences[key] + ".")  # fmt: skip
    rep.add(
        "Other paired differences (blended minus none): quality-adjusted price paid "
        f"{est['qa_price'].fmt(3, 0.01, ' $')} per order (no-ads level ${qbase / 100:.2f}); "
        f"third-party seller profit {est['seller_profit'].fmt(3, 0.01, ' $')} per day "
        f"(no-ads level ${pbase / 100:,.0f})."
    )
    rep.add(_effects_section(table, reference, runs))
    rep.add(_advertiser_section(runs, welfare))
    rep.add(_direct_section(runs))
    show = [
        "consumer_surplus",
        "qa_price",
        "ad_revenue",
        "ad_revenue_assistant",
        "seller_profit",
        "sponsored_share",
        "ad_pick_share",
        "recognition_rate",
        "paid_avoidance",
        "trust_end",
        "consults",
    ]
    agg = (
        runs.group_by("mode", "literacy")
        .agg([pl.col(c).cast(pl.Float64).mean() for c in show])
        .sort("literacy", "mode")
    )
    rows = [[f"{v:,.3g}" if isinstance(v, float) else v for v in r] for r in agg.iter_rows()]
    rep.add("### Means over seeds by ad mode and literacy\n\n" + table_md(rows, agg.columns))

    plt = plot_setup()
    import seaborn as sns

    pdf = (
        runs.with_columns(
            pl.when(pl.col("literacy").is_nan())
            .then(pl.lit("not swept"))
            .otherwise(pl.col("literacy").cast(pl.String))
            .alias("literacy")
        )
        .select(
            "mode",
            "literacy",
            "consumer_surplus",
            "qa_price",
            "ad_revenue",
            "seller_profit",
            "ad_pick_share",
            "recognition_rate",
        )
        .to_pandas()
    )
    fig, axes = plt.subplots(2, 3, figsize=(15, 7))
    for ax, col in zip(
        axes.flat,
        [
            "consumer_surplus",
            "qa_price",
            "ad_revenue",
            "seller_profit",
            "ad_pick_share",
            "recognition_rate",
        ],
        strict=True,
    ):
        sns.pointplot(
            data=pdf,
            x="literacy",
            y=col,
            hue="mode",
            hue_order=[m for m in MODES if m in modes],
            errorbar=("ci", 95),
            dodge=0.3,
            ax=ax,
            n_boot=500,
            seed=1,
        )
        ax.set_title(col, fontsize=10)
    fig.tight_layout()
    rep.figure(
        fig,
        "outcomes_by_mode",
        "Run-level outcomes by ad mode and mean ad literacy "
        "(means over seeds, 95% bootstrap bands)",
    )
    dcols = d.collect_schema().names()
    ts = (
        d.with_columns(_mode_expr(dcols).alias("ad_mode"))
        .select(
            "day",
            "ad_mode",
            "seed",
            "mean_trust",
            "assistant_consults",
            "assistant_ad_pick_share",
            "consumer_surplus_cents",
            "ad_revenue_cents",
            "sponsored_purchase_share",
        )
        .collect()
    )
    rep.figure(
        timeseries_figure(
            ts,
            [
                "mean_trust",
                "assistant_consults",
                "assistant_ad_pick_share",
                "consumer_surplus_cents",
                "ad_revenue_cents",
                "sponsored_purchase_share",
            ],
            hue="ad_mode",
        ),
        "over_time",
        "Trust, assistant usage, ad share of picks, consumer surplus and ad revenue over time "
        "(post burn-in, mean over seeds and literacy levels)",
    )
    result.report = rep.write()
    return result


def _compare(table: pl.DataFrame, ref: pl.DataFrame) -> pl.DataFrame:
    """Effects whose verdicts are opposite signs here and in the reference."""
    j = table.join(
        ref.select("contrast", "outcome", pl.col("verdict").alias("reference_verdict")),
        on=["contrast", "outcome"],
        how="inner",
    )
    here, there = pl.col("verdict"), pl.col("reference_verdict")
    opposite = (here.str.starts_with("rises") & there.str.starts_with("falls")) | (
        here.str.starts_with("falls") & there.str.starts_with("rises")
    )
    return j.filter(opposite)


def _effects_section(
    table: pl.DataFrame,
    reference: tuple[pl.DataFrame, pl.DataFrame] | None,
    runs: pl.DataFrame,
) -> str:
    head = ["contrast", "outcome", "effect [95% CI; seeds]", "verdict"]
    if reference is not None:
        head.append("reference verdict")
        ref = {
            (r["contrast"], r["outcome"]): r["verdict"] for r in reference[1].iter_rows(named=True)
        }
    rows = []
    for r in table.iter_rows(named=True):
        what, scale, unit = EFFECTS[r["outcome"]]
        row = [r["contrast"], what, _fmt_effect(r, scale, unit), r["verdict"]]
        if reference is not None:
            row.append(ref.get((r["contrast"], r["outcome"]), "n/a"))
        rows.append(row)
    text = (
        "### Paired effects by contrast\n\n"
        "Each effect is the mean over seeds of the paired difference, with its 95% "
        "BCa bootstrap interval, judged by the report's one rule in both directions against "
        f"a margin of {RELATIVE_MARGIN:.1%} of the larger level for money and usage and "
        f"{TRUST_MARGIN} for trust: *rises* / *falls*: the whole interval beyond the margin "
        "on that side; *no effect*: the whole interval within the margin (*small rise* / "
        "*small fall*: and on one side of zero); otherwise *inconclusive*.\n\n"
        + table_md(rows, head)
    )
    if reference is not None:
        diff = _compare(table, reference[1])
        if diff.height == 0:
            text += "\n\nNo effect has the opposite sign in the reference sweep."
        for r in diff.iter_rows(named=True):
            what = EFFECTS[r["outcome"]][0]
            text += (
                f"\n\n**Sign differs from the reference:** {what}, {r['contrast']}: "
                f"{r['verdict']} here, {r['reference_verdict']} in the reference. Mechanism: "
                + mechanism(r["outcome"], r["contrast"], runs, reference[0])
                + "."
            )
    return text


def _mode_table(runs: pl.DataFrame, cols: dict[str, tuple[str, float, str]]) -> str:
    """One row per column of ``cols`` (label, scale, unit): its mean over seeds by ad mode
    with the interval (:func:`_mode_means`), "n/a" for a mode without values."""
    rows = []
    for col, (what, scale, unit) in cols.items():
        means = _mode_means(runs, col)
        rows.append([what, *(means[m].fmt(3, scale, unit) if m in means else "n/a" for m in MODES)])
    return table_md(rows, ["", *MODES])


def _advertiser_section(runs: pl.DataFrame, welfare: pl.DataFrame) -> str:
    cols = {
        "ad_revenue_search": ("spend on search slots per day", 0.01, " $"),
        "ad_revenue_assistant": ("spend on answer slots per day", 0.01, " $"),
        "budget_bound_share": ("campaigns at their daily budget", 100.0, "%"),
        "acos_search": ("ACoS of search slots", 100.0, "%"),
        "acos_assistant": ("ACoS of answer slots", 100.0, "%"),
    }
    text = (
        "### The advertiser side\n\nMeans over seeds by ad mode (95% bootstrap intervals). "
        "Spend by placement is the platform's ad revenue from it; ACoS is a placement's "
        "spend over the sales it is credited with.\n\n" + _mode_table(runs, cols)
    )
    wrows = [
        [r["contrast"], WELFARE[r["outcome"]], _fmt_effect(r, 0.01, " $"), r["verdict"]]
        for r in welfare.iter_rows(named=True)
    ]
    text += "\n\n### Welfare by group (paired, per day)\n\n" + table_md(
        wrows, ["contrast", "group", "effect [95% CI; seeds]", "verdict"]
    )
    return text


def _direct_section(runs: pl.DataFrame) -> str:
    """Per mode: what a sold answer slot and a bought paid pick are worth to the customer
    against the organic pick they displaced (n/a for outputs without those columns)."""
    return (
        "### What a paid pick costs the customer (within sessions)\n\n"
        "Means over seeds by ad mode (95% bootstrap intervals). Each sold answer slot's "
        "paid pick is valued against the organic pick it displaced, both at their latent "
        "quality and promised delivery, for the customer who was shown them: the direct "
        "effect of the slot, measured inside each session and so free of the paired runs' "
        "divergence (the consumer-surplus effects above include everything the market does "
        "afterwards). The per-day row is the consumer surplus of the paid picks customers "
        "bought, against what the displaced picks would have given them.\n\n"
        + _mode_table(runs, DIRECT)
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: ``SWEEP_DIR --out REPORT_DIR``."""
    args = parse_args("flywheel analyze ad-opacity", __doc__.split("\n")[0], argv, against=True)
    daily = scan(args.sweep_dir, "daily")
    try:
        customers = scan(args.sweep_dir, "customers")
    except FileNotFoundError:
        customers = None
    against = None
    if getattr(args, "against", None):
        try:
            other_c = scan(args.against, "customers")
        except FileNotFoundError:
            other_c = None
        against = (scan(args.against, "daily"), other_c)
    provenance = provenance_block(args.sweep_dir, analysis_command("ad-opacity", args))
    res = analyse(daily, customers, args.out, against=against, provenance=provenance)
    print(f"wrote {res.report}")
    print("\n".join(verdict_lines(res.report)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
