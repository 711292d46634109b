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
  (``ads_recognised / ads_seen`` from ``customers.parquet``): the two differ,
  because recognising an ad lowers its choice probability by less than one
  (the discount is finite) and not at all where the pick is the only good
  option;
- ad revenue: ads in answers (blended) raise the platform's ad revenue over
  answers without ads;
- steering: they raise the sponsored share of purchases;
- harm: they lower consumer surplus (money and quality; the
  quality-adjusted price paid is reported beside it).

An effect within a small equivalence margin (0.5% of the no-ads level, see
``MARGINS``) counts as "does not hold".

Usage::

    flywheel analyze ad-opacity runs/ad_opacity_quick --out reports/ad_opacity_quick
    python -m analysis.ad_opacity runs/ad_opacity_quick --out reports/ad_opacity_quick
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from analysis.common import (
    Estimate,
    Report,
    bootstrap_mean,
    judge,
    parse_args,
    pct,
    plot_setup,
    scan,
    scan_frame,
    table_md,
    timeseries_figure,
    verdict_lines,
)

__all__ = ["AdOpacityResult", "analyse", "main", "run_metrics"]

LITERACY = "customers.ad_literacy_mean"
MODES = ("none", "labelled", "blended")
#: Relative equivalence margins (share of the no-ads level) per outcome.
MARGINS = {"ad_revenue": 0.005, "consumer_surplus": 0.005, "sponsored_share": 0.005}


@dataclasses.dataclass
class AdOpacityResult:
    """Estimates and verdicts of the ad-opacity analysis."""

    estimates: dict[str, Estimate]
    verdicts: dict[str, str]
    runs: pl.DataFrame
    report: Path | None = None


def _mode_expr(cols: Sequence[str]) -> pl.Expr:
    if "assistant.ad_mode" in cols:
        return pl.col("assistant.ad_mode").cast(pl.String)
    return pl.col("scenario")


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
            pl.col("seller_profit_cents").mean().alias("seller_profit"),
            pl.col("sponsored_purchase_share").mean().alias("sponsored_share"),
            pl.col("assistant_ad_pick_share").fill_nan(None).mean().alias("ad_pick_share"),
            pl.col("ads_recognised").sum().alias("ads_recognised"),
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
    if customers is not None:
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


def analyse(
    daily: pl.DataFrame | pl.LazyFrame,
    customers: pl.DataFrame | pl.LazyFrame | None = None,
    out: str | Path | None = None,
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
    """
    d = scan_frame(daily)
    c = customers.lazy() if customers is not None else None
    runs = run_metrics(d, c)
    modes = set(runs["mode"].unique().to_list())
    missing = {"none", "blended"} - modes
    if missing:
        raise ValueError(f"ad-opacity sweep needs scenarios none and blended; missing {missing}")
    est: dict[str, Estimate] = {}
    verdicts: dict[str, str] = {}
    sentences: dict[str, str] = {}

    # recognition: labelled - blended, from choices (and, beside it, from the flags)
    if "labelled" in modes:
        fdiff, fbase = _paired_by_seed(runs, "labelled", "blended", "recognition_rate")
        est["recognition_gap_flags"] = bootstrap_mean(fdiff)
        diff, base = _paired_by_seed(runs, "labelled", "blended", "paid_avoidance")
        e = bootstrap_mean(diff)
        est["recognition_gap"] = e
        verdicts["recognition"] = judge(e, 0.0, margin=0.02)
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
        else:
            ok = np.isfinite(base) and base != 0
            margin, scale, unit = (MARGINS[key] * abs(base) if ok else 1e-9), 0.01, " $"
        verdicts[key] = judge(e, 0.0, margin=margin, direction=direction)
        rel = e.value / abs(base) if base else float("nan")
        sentences[key] = (
            f"blended ads minus no ads in answers: {what} changed by {e.fmt(3, scale, unit)} "
            f"({pct(rel)} of the no-ads level; equivalence margin "
            f"{MARGINS[key] * 100:.1f}{'pp' if key == 'sponsored_share' else '%'})"
        )
    qdiff, qbase = _paired_by_seed(runs, "blended", "none", "qa_price")
    est["qa_price"] = bootstrap_mean(qdiff)
    pdiff, pbase = _paired_by_seed(runs, "blended", "none", "seller_profit")
    est["seller_profit"] = bootstrap_mean(pdiff)

    labels = {
        "recognition": "Blended ads in answers are harder to recognise than labelled ads",
        "ad_revenue": "Ads in assistant answers raise the platform's ad revenue",
        "sponsored_share": "Ads in assistant answers shift purchases toward advertisers",
        "consumer_surplus": "Ads in assistant answers cost customers (lower consumer surplus)",
    }
    result = AdOpacityResult(est, verdicts, runs)
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
            "levels) with 95% percentile-bootstrap intervals (2000 resamples over seeds). "
            "A claim holds when the whole interval lies in the claimed direction, does not "
            "hold when it lies on the other side or inside the equivalence margin, and is "
            "inconclusive otherwise."
        ),
    )
    for key, label in labels.items():
        if key in verdicts:
            rep.verdict(label, verdicts[key], sentences[key] + ".")
    rep.add(
        "Other paired differences (blended minus none): quality-adjusted price paid "
        f"{est['qa_price'].fmt(3, 0.01, ' $')} per order (no-ads level ${qbase / 100:.2f}); "
        f"third-party seller profit {est['seller_profit'].fmt(3, 0.01, ' $')} per day "
        f"(no-ads level ${pbase / 100:,.0f})."
    )
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


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: ``SWEEP_DIR --out REPORT_DIR``."""
    args = parse_args("flywheel analyze ad-opacity", __doc__.split("\n")[0], argv)
    daily = scan(args.sweep_dir, "daily")
    try:
        customers = scan(args.sweep_dir, "customers")
    except FileNotFoundError:
        customers = None
    res = analyse(daily, customers, args.out)
    print(f"wrote {res.report}")
    print("\n".join(verdict_lines(res.report)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
