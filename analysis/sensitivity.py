"""Global sensitivity of one outcome over a Sobol' or Morris sweep (SALib).

Reads a sweep whose ``[parameters]`` use ``method = "sobol"`` or
``method = "morris"`` (see ``configs/sweeps/sensitivity_*.toml``). Its
``sweep.json`` records the SALib problem and the sample matrix in design
order; each design point is matched to its runs by their parameters, each
run is reduced to one number, the numbers are averaged over the replicate
seeds (which every point shares, so the seed noise is common to all points),
and SALib's analyzer turns the vector into indices:

- Sobol': first-order ``S1`` and total ``ST`` indices with 95% bootstrap
  intervals (SALib's, ``NUM_RESAMPLES`` resamples of the sample), ranked by
  ``ST``. A parameter with no effect has ``ST`` near 0; ``ST - S1`` is the
  share of variance it explains through interactions.
- Morris: ``mu*`` (mean absolute elementary effect) with its interval and
  ``sigma`` (spread of the effects: non-linearity or interactions), ranked by
  ``mu*``.

The outcome of a run is a daily column (its mean over the post-burn-in days),
``A/B``, the ratio of two columns' post-burn-in totals (for example
``ad_revenue_cents/gmv_cents``), or ``A-B``, the difference of their daily
means (for example ``dsi_revenue_cents-causal_revenue_cents``, what DSI
credits beyond the causal effect). ``--scenario S`` analyses the runs
of one scenario; ``--contrast A-B`` analyses, per seed and point, scenario A's
outcome minus scenario B's (the paired effect of what separates them).

Usage::

    flywheel analyze sensitivity runs/sensitivity_flywheel_quick \\
        --outcome platform_share --contrast cut-control --out reports/sens_flywheel
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from analysis.common import (
    LEVEL,
    Report,
    _shown,
    plot_setup,
    provenance_block,
    scan,
    table_md,
)

__all__ = ["Indices", "analyse", "indices", "main", "outcome_vector"]

#: Bootstrap resamples of SALib's interval estimates.
NUM_RESAMPLES = 1000
#: Seed of SALib's resampling, so a report is reproducible to the digit.
SALIB_SEED = 20260101


@dataclasses.dataclass(frozen=True)
class Indices:
    """Sensitivity indices of one outcome, one row per parameter, ranked."""

    method: str  # "sobol" or "morris"
    table: pl.DataFrame  # parameter, rank and the method's indices
    n_points: int
    n_seeds: int
    noise_share: float  # seed noise of the averaged outcome over its variance across points


# ----------------------------------------------------------------------------- reading


def _design(sweep_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The sweep's parameter design (method, problem, matrix, points) and its run records."""
    path = sweep_dir / "sweep.json"
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} not found: sensitivity needs the sweep folder written by `flywheel sweep`"
        ) from None
    except (OSError, ValueError):
        raise ValueError(f"{path}: not a readable sweep.json") from None
    params = record.get("definition", {}).get("parameters", {})
    method = params.get("method")
    if method not in ("sobol", "morris"):
        shown = "none" if method is None else repr(method)
        raise ValueError(
            f"{path}: parameters.method is {shown}; sensitivity needs a sweep with "
            'method = "sobol" or "morris"'
        )
    for key in ("problem", "matrix", "points"):
        if key not in params:
            raise ValueError(
                f"{path}: parameters.{key} is missing (a sweep.json from before sensitivity "
                "analysis was added); re-run the sweep with --resume to rewrite it"
            )
    return params, list(record.get("runs", []))


def _key(params: dict[str, Any]) -> str:
    return json.dumps(sorted(params.items()), separators=(",", ":"))


def _parse_outcome(outcome: str) -> tuple[list[str], str]:
    """``NAME``, ``A/B`` or ``A-B`` as (columns, operator)."""
    for op in ("/", "-"):
        if op in outcome:
            parts = outcome.split(op)
            if len(parts) == 2 and all(parts):
                return parts, op
            break
    else:
        if outcome:
            return [outcome], ""
    raise ValueError(
        f"--outcome: {outcome!r} must be a daily column, A/B (ratio of totals) or A-B "
        "(difference of daily means)"
    )


def _run_values(sweep_dir: Path, outcome: str) -> pl.DataFrame:
    """One row per run (run_id, scenario, seed) with the outcome's value."""
    parts, op = _parse_outcome(outcome)
    lf = scan(sweep_dir, "daily")
    schema = lf.collect_schema()
    for col in parts:
        if col not in schema.names():
            numeric = [c for c, t in schema.items() if t.is_numeric()]
            raise ValueError(
                f"--outcome: {col!r} is not a column of daily.parquet; numeric columns: "
                + ", ".join(c for c in numeric if c not in ("day", "seed", "replicate"))
            )
    cols = [pl.col(c).cast(pl.Float64) for c in parts]
    if op == "":
        value = cols[0].mean()
    elif op == "-":
        value = cols[0].mean() - cols[1].mean()
    else:
        num, den = cols[0].sum(), cols[1].sum()
        value = pl.when(den != 0).then(num / den).otherwise(None)
    return (
        lf.group_by("run_id", "scenario", "seed").agg(value.alias("value")).collect().sort("run_id")
    )


def outcome_vector(
    sweep_dir: str | Path,
    outcome: str,
    *,
    scenario: str | None = None,
    contrast: str | tuple[str, str] | None = None,
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """The design record, the outcome per design point (mean over seeds) and per point and seed.

    Returns ``(parameters, y, per_seed)`` where ``y[i]`` is the mean over seeds
    of point ``i``'s outcome (or contrast) and ``per_seed`` has shape
    ``(points, seeds)``.

    Raises
    ------
    ValueError
        One line naming what is missing: a scenario, a run of some point and
        seed, an outcome column, or a finite value.
    """
    root = Path(sweep_dir)
    params, runs = _design(root)
    scenarios = sorted({r["scenario"] for r in runs})
    if isinstance(contrast, str):
        contrast = parse_contrast(contrast, scenarios)
    wanted = list(contrast) if contrast else [scenario] if scenario else []
    if not wanted:
        if len(scenarios) > 1:
            raise ValueError(
                f"the sweep has scenarios {', '.join(scenarios)}: choose one with --scenario "
                "or a paired difference with --contrast A-B"
            )
        wanted = scenarios
    for s in wanted:
        if s not in scenarios:
            raise ValueError(
                f"scenario {s!r} is not in the sweep; it has {', '.join(scenarios) or 'none'}"
            )
    values = _run_values(root, outcome)
    by_id = dict(zip(values["run_id"].to_list(), values["value"].to_list(), strict=True))
    seeds = sorted({int(r["seed"]) for r in runs})
    lookup = {(r["scenario"], int(r["seed"]), _key(r["params"])): r["run_id"] for r in runs}
    points = params["points"]
    per_seed = np.full((len(points), len(seeds)), np.nan)
    for i, point in enumerate(points):
        for j, seed in enumerate(seeds):
            got = []
            for s in wanted:
                run_id = lookup.get((s, seed, _key(point)))
                if run_id is None or run_id not in by_id:
                    raise ValueError(
                        f"point {i} {point} of scenario {s!r}, seed {seed} has no finished run "
                        "under the sweep folder; finish it with flywheel sweep --resume"
                    )
                got.append(by_id[run_id])
            if any(v is None or not math.isfinite(v) for v in got):
                raise ValueError(
                    f"--outcome {outcome!r} is not finite at point {i} {point}, seed {seed} "
                    "(a ratio over a zero total?)"
                )
            per_seed[i, j] = got[0] - got[1] if contrast else got[0]
    return params, per_seed.mean(axis=1), per_seed


# ----------------------------------------------------------------------------- indices


def indices(params: dict[str, Any], y: np.ndarray, per_seed: np.ndarray | None = None) -> Indices:
    """SALib indices of ``y`` (one value per design point, in design order).

    ``params`` is the ``parameters`` record of ``sweep.json`` (method, problem,
    matrix and, for Sobol', second_order; for Morris, levels).
    """
    problem = {k: params["problem"][k] for k in ("num_vars", "names", "bounds")}
    names = list(problem["names"])
    y = np.asarray(y, dtype=float)
    if not np.all(np.isfinite(y)):
        raise ValueError("the outcome has non-finite values at some design points")
    if float(np.var(y)) == 0.0:
        raise ValueError(
            "the outcome is the same at every design point: no parameter moves it, so "
            "there is no variance to apportion"
        )
    method = params["method"]
    if method == "sobol":
        from SALib.analyze import sobol

        si = sobol.analyze(
            problem,
            y,
            calc_second_order=bool(params.get("second_order", True)),
            num_resamples=NUM_RESAMPLES,
            conf_level=LEVEL,
            seed=SALIB_SEED,
        )
        table = pl.DataFrame(
            {
                "parameter": names,
                "S1": np.asarray(si["S1"], dtype=float),
                "S1_conf": np.asarray(si["S1_conf"], dtype=float),
                "ST": np.asarray(si["ST"], dtype=float),
                "ST_conf": np.asarray(si["ST_conf"], dtype=float),
            }
        ).with_columns(
            (pl.col("S1") - pl.col("S1_conf")).alias("S1_lo"),
            (pl.col("S1") + pl.col("S1_conf")).alias("S1_hi"),
            (pl.col("ST") - pl.col("ST_conf")).alias("ST_lo"),
            (pl.col("ST") + pl.col("ST_conf")).alias("ST_hi"),
        )
        rank_by = "ST"
    elif method == "morris":
        from SALib.analyze import morris

        si = morris.analyze(
            problem,
            np.asarray(params["matrix"], dtype=float),
            y,
            num_resamples=NUM_RESAMPLES,
            conf_level=LEVEL,
            num_levels=int(params.get("levels", 4)),
            seed=SALIB_SEED,
        )
        table = pl.DataFrame(
            {
                "parameter": names,
                "mu_star": np.asarray(si["mu_star"], dtype=float),
                "mu_star_conf": np.asarray(si["mu_star_conf"], dtype=float),
                "mu": np.asarray(si["mu"], dtype=float),
                "sigma": np.asarray(si["sigma"], dtype=float),
            }
        ).with_columns(
            (pl.col("mu_star") - pl.col("mu_star_conf")).alias("mu_star_lo"),
            (pl.col("mu_star") + pl.col("mu_star_conf")).alias("mu_star_hi"),
        )
        rank_by = "mu_star"
    else:
        raise ValueError(f"method {method!r}: sensitivity indices need sobol or morris")
    table = (
        table.sort(rank_by, descending=True, nulls_last=True)
        .with_row_index("rank", offset=1)
        .with_columns(pl.col("rank").cast(pl.Int64))
    )
    noise = math.nan
    if per_seed is not None and per_seed.shape[1] > 1:
        # variance of a point's seed mean from the seeds alone, over the variance of y
        noise = float(np.mean(np.var(per_seed, axis=1, ddof=1)) / per_seed.shape[1] / np.var(y))
    n_seeds = 1 if per_seed is None else int(per_seed.shape[1])
    return Indices(method, table, len(y), n_seeds, noise)


# ----------------------------------------------------------------------------- report


def _figure(ind: Indices, outcome: str) -> Any:
    plt = plot_setup()
    t = ind.table.reverse()
    n = t.height
    fig, ax = plt.subplots(figsize=(7, 0.5 * n + 1.6))
    y = np.arange(n)
    if ind.method == "sobol":
        ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="total (ST)", capsize=3)
        ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="first order (S1)", capsize=3)
        ax.set_xlabel("Sobol' index (95% interval)")
        ax.axvline(0, color="black", lw=0.8)
    else:
        ax.barh(y, t["mu_star"], 0.6, xerr=t["mu_star_conf"], label="mu*", capsize=3)
        ax.scatter(t["sigma"], y, color="black", zorder=3, label="sigma")
        ax.set_xlabel("Morris elementary effects (outcome units)")
    ax.set_yticks(y, t["parameter"].to_list())
    ax.set_title(f"Sensitivity of {outcome}", fontsize=11)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def _table(ind: Indices) -> str:
    def f(x: float) -> str:
        return f"{x:.3g}" if math.isfinite(x) else "n/a"

    if ind.method == "sobol":
        header = ["rank", "parameter", "S1 [95% interval]", "ST [95% interval]", "ST - S1"]
        rows = [
            [
                r["rank"],
                f"`{r['parameter']}`",
                f"{f(r['S1'])} [{f(r['S1_lo'])}, {f(r['S1_hi'])}]",
                f"{f(r['ST'])} [{f(r['ST_lo'])}, {f(r['ST_hi'])}]",
                f(r["ST"] - r["S1"]),
            ]
            for r in ind.table.iter_rows(named=True)
        ]
    else:
        header = ["rank", "parameter", "mu* [95% interval]", "mu", "sigma"]
        rows = [
            [
                r["rank"],
                f"`{r['parameter']}`",
                f"{f(r['mu_star'])} [{f(r['mu_star_lo'])}, {f(r['mu_star_hi'])}]",
                f(r["mu"]),
                f(r["sigma"]),
            ]
            for r in ind.table.iter_rows(named=True)
        ]
    return table_md(rows, header)


def _describe(outcome: str, scenario: str | None, contrast: tuple[str, str] | None) -> str:
    parts, op = _parse_outcome(outcome)
    what = {
        "": f"the mean of `{outcome}` per post-burn-in day",
        "/": f"the ratio of post-burn-in totals `{parts[0]}` / `{parts[-1]}`",
        "-": f"the mean per post-burn-in day of `{parts[0]}` minus `{parts[-1]}`",
    }[op]
    if contrast:
        return f"{what}, scenario `{contrast[0]}` minus `{contrast[1]}` paired by seed"
    return what + (f" in scenario `{scenario}`" if scenario else "")


def analyse(
    sweep_dir: str | Path,
    out: str | Path,
    outcome: str,
    *,
    scenario: str | None = None,
    contrast: str | tuple[str, str] | None = None,
    provenance: str = "",
) -> tuple[Path, Indices]:
    """Compute the indices, write ``out/report.md``, ``indices.csv`` and the figure, and
    return the report's path with the indices."""
    if isinstance(contrast, str):
        _, runs = _design(Path(sweep_dir))
        contrast = parse_contrast(contrast, sorted({r["scenario"] for r in runs}))
    params, y, per_seed = outcome_vector(sweep_dir, outcome, scenario=scenario, contrast=contrast)
    ind = indices(params, y, per_seed)
    described = _describe(outcome, scenario, contrast)
    top = ind.table.row(0, named=True)
    lead = "ST" if ind.method == "sobol" else "mu_star"
    report = Report(
        out=Path(out),
        title=f"Sensitivity of {outcome}"
        + (f" ({contrast[0]} - {contrast[1]})" if contrast else ""),
        provenance=provenance,
        intro=(
            f"Outcome: {described}, averaged over {ind.n_seeds} seed(s) at each of "
            f"{ind.n_points} design points ({'Sobol' if ind.method == 'sobol' else 'Morris'} "
            f"design of {len(params['problem']['names'])} parameters, SALib). Most influential: "
            f"`{top['parameter']}` ({lead} = {top[lead]:.3g})."
        ),
    )
    report.add("## Ranking\n\n" + _table(ind))
    if ind.method == "sobol":
        report.add(
            "S1 is the share of the outcome's variance across the design explained by the "
            "parameter alone, ST the share it explains with all its interactions; a parameter "
            "whose ST interval includes 0 has no detectable effect over these bounds. "
            f"Intervals are SALib's bootstrap ({NUM_RESAMPLES} resamples, {LEVEL:.0%}); with "
            "few base samples they are wide and indices can fall slightly outside [0, 1]."
        )
    else:
        report.add(
            "mu* is the mean absolute change of the outcome per step of one parameter "
            "(elementary effect), sigma their spread; a large sigma beside mu* means the "
            f"effect depends on where the other parameters are. Intervals of mu* are SALib's "
            f"bootstrap ({NUM_RESAMPLES} resamples, {LEVEL:.0%})."
        )
    if math.isfinite(ind.noise_share):
        share = ind.noise_share
        if share > 0.5:
            verdict = (
                ": most of the variation across the design is seed noise, so this ranking is "
                "not reliable; run more replicates (the paper-size sweep) or more customers."
            )
        elif share > 0.05:
            verdict = "; indices smaller than that share cannot be told from noise: add replicates."
        else:
            verdict = "."
        report.add(
            f"**Seed noise.** The variance of a point's mean over its {ind.n_seeds} seeds, from "
            f"the seeds alone, is {share:.1%} of the outcome's variance across the design"
            + verdict
            + " (SALib's intervals resample the design, not the seeds, so they leave this out.)"
        )
    report.figure(_figure(ind, outcome), "indices", f"Sensitivity indices of {outcome}, ranked")
    report.files["indices.csv"] = _csv(ind.table)
    return report.write(), ind


def _csv(table: pl.DataFrame) -> bytes:
    import io

    buf = io.BytesIO()
    table.write_csv(buf)
    return buf.getvalue()


def command(args: argparse.Namespace) -> str:
    """The command line that wrote a sensitivity report, for its provenance."""
    cmd = f"flywheel analyze sensitivity {_shown(args.sweep_dir)} --outcome {args.outcome}"
    if args.contrast:
        cmd += f" --contrast {args.contrast}"
    if args.scenario:
        cmd += f" --scenario {args.scenario}"
    return cmd + f" --out {_shown(args.out)}"


def parse_contrast(text: str | None, scenarios: Sequence[str] = ()) -> tuple[str, str] | None:
    """``A-B`` as ``(A, B)``, split where both sides are among ``scenarios`` (names may hold
    ``-``), else at the first ``-``.

    >>> parse_contrast("cut-control")
    ('cut', 'control')
    >>> parse_contrast("cut-10-control", ["cut-10", "control"])
    ('cut-10', 'control')
    """
    if text is None:
        return None
    splits = [(text[:i], text[i + 1 :]) for i, ch in enumerate(text) if ch == "-"]
    splits = [(a, b) for a, b in splits if a and b]
    if not splits:
        raise ValueError(f"--contrast: {text!r} must be A-B, two scenario names")
    known = [(a, b) for a, b in splits if a in scenarios and b in scenarios]
    return known[0] if known else splits[0]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sensitivity options beyond ``SWEEP_DIR --out``."""
    parser.add_argument(
        "--outcome",
        metavar="NAME",
        help="daily column (post-burn-in mean per run), A/B (ratio of totals) or A-B "
        "(difference of daily means)",
    )
    parser.add_argument("--scenario", metavar="S", help="analyse the runs of scenario S")
    parser.add_argument(
        "--contrast", metavar="A-B", help="analyse scenario A minus scenario B, paired by seed"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: ``SWEEP_DIR --outcome NAME [--scenario S | --contrast A-B]
    --out DIR``."""
    parser = argparse.ArgumentParser(
        prog="flywheel analyze sensitivity", description=__doc__.split("\n")[0]
    )
    parser.add_argument("sweep_dir", help="folder written by `flywheel sweep`")
    parser.add_argument("--out", required=True, help="report folder")
    add_arguments(parser)
    args = parser.parse_args(argv)
    if not args.outcome:
        raise ValueError("--outcome: required for sensitivity (a daily column, A/B or A-B)")
    if args.scenario and args.contrast:
        raise ValueError("--scenario and --contrast: give one, not both")
    provenance = provenance_block(args.sweep_dir, command(args))
    path, ind = analyse(
        args.sweep_dir,
        args.out,
        args.outcome,
        scenario=args.scenario,
        contrast=args.contrast,
        provenance=provenance,
    )
    print(f"wrote {path}")
    lead = "ST" if ind.method == "sobol" else "mu_star"
    for r in ind.table.head(10).iter_rows(named=True):
        print(f"  {r['rank']:>2}. {r['parameter']}: {lead} = {r[lead]:.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
