"""Shared pieces of the claim analyses: reading a sweep, bootstrap intervals, verdicts, reports.

Every analysis reads the Parquet tables of a sweep laid out in hive folders
(``DIR/scenario=NAME/seed=N/<key>=<value>/...``) lazily with polars, drops
burn-in days, reduces each run to a few numbers, and compares runs that share
a seed (common random numbers). Intervals are bias-corrected and accelerated
(BCa) bootstraps over seeds by :func:`scipy.stats.bootstrap`, resampling whole
seeds so that paired numbers stay together, with a fixed-seed generator, so a
report is reproducible to the digit.

A verdict is one of ``holds``, ``does not hold`` or ``inconclusive``, from the
interval and the claim's practical margin alone (:func:`judge`, the same rule
for every claim): the claim holds when the whole interval lies beyond the
margin in the claimed direction, does not hold when it lies entirely within
the margin or on the other side, and is inconclusive when it straddles the
margin. An inconclusive line says how many seeds would resolve it
(:func:`seeds_to_resolve`).

Examples
--------
>>> est = bootstrap_mean([1.0, 1.2, 0.9, 1.1])
>>> round(est.value, 3), est.lo < est.value < est.hi
(1.05, True)
>>> judge(est, threshold=0.0, margin=0.1)
'holds'
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import shutil
import subprocess
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "BOOTSTRAP_SEED",
    "Claim",
    "Estimate",
    "Report",
    "bootstrap",
    "bootstrap_mean",
    "bootstrap_ratio",
    "judge",
    "paired",
    "parse_args",
    "provenance_block",
    "scan",
    "seeds_to_resolve",
]

BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 20260101
LEVEL = 0.95
HOLDS, FAILS, UNSURE = "holds", "does not hold", "inconclusive"


# ----------------------------------------------------------------------------- reading


def scan(sweep_dir: str | Path, table: str = "daily", *, burn_in: bool = False) -> pl.LazyFrame:
    """Lazy frame of one table over every run of a sweep folder.

    Parameters
    ----------
    sweep_dir
        Folder holding run folders (hive layout) with ``<table>.parquet``.
    table
        ``daily``, ``customers``, ``sellers`` or ``events``.
    burn_in
        Keep burn-in days of ``daily`` (default: dropped).

    Raises
    ------
    FileNotFoundError
        When no run in ``sweep_dir`` has that table.
    ValueError
        When a table's bytes differ from the SHA-256 its run's ``manifest.json``
        records (a corrupted or altered run is rejected, not analysed).
    """
    root = Path(sweep_dir)
    files = [
        f
        for f in sorted(root.glob(f"**/{table}.parquet"))
        if not any(part.startswith(".") for part in f.relative_to(root).parts)
    ]
    if not files:
        raise FileNotFoundError(f"no {table}.parquet under {root}")
    for f in files:
        verify_table(f)
    schemas = {tuple(pl.read_parquet_schema(f).items()) for f in files}
    if len(schemas) == 1:
        # every row carries run_id, scenario, seed and the swept parameters as
        # columns, so the hive folder names are not needed to label rows
        lf = pl.scan_parquet(files, hive_partitioning=False)
    else:
        # label columns typed differently between runs (e.g. seed as Int32 in one
        # file and Int64 in another): scan file by file and relax the types
        frames = []
        for f in files:
            schema = pl.read_parquet_schema(f)
            ints = [c for c, t in schema.items() if t.is_integer() and c in ("seed", "replicate")]
            frames.append(pl.scan_parquet(f).with_columns(pl.col(ints).cast(pl.Int64)))
        lf = pl.concat(frames, how="diagonal_relaxed")
    if table == "daily" and not burn_in:
        lf = lf.filter(~pl.col("burn_in"))
    return lf


def verify_table(path: Path) -> None:
    """Check a run table against the SHA-256 in its run's ``manifest.json`` (if any)."""
    manifest = path.parent / "manifest.json"
    if not manifest.exists():
        return
    try:
        loaded = json.loads(manifest.read_text())
        if not _manifest_shaped(loaded):
            raise ValueError
        recorded = loaded.get("sha256", {}).get(path.name)
    except (OSError, ValueError, AttributeError):
        raise ValueError(
            f"{manifest}: not a readable manifest (expected the JSON object flywheel run "
            "writes); re-run it with flywheel sweep --resume"
        ) from None
    if recorded is None:
        return
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    if h.hexdigest() != recorded:
        raise ValueError(
            f"{path}: its bytes differ from the SHA-256 in manifest.json (corrupted or "
            "altered); re-run it with flywheel sweep --resume"
        )


def scan_frame(frame: pl.DataFrame | pl.LazyFrame, *, burn_in: bool = False) -> pl.LazyFrame:
    """A daily frame given directly (synthetic data), lazily, without burn-in rows.

    Raises ``ValueError`` when the frame has days but every one is in the burn-in
    (nothing would be measured)."""
    lf = frame.lazy()
    if not burn_in and "burn_in" in lf.collect_schema().names():
        flags = lf.select(pl.len(), pl.col("burn_in").not_().any().alias("measured")).collect()
        if flags["len"][0] > 0 and not flags["measured"][0]:
            raise ValueError(
                "daily: every day is in the burn-in, nothing to measure; run.burn_in_days "
                "must be below run.days (set both in the sweep's [constants])"
            )
        lf = lf.filter(~pl.col("burn_in"))
    return lf


def paired(
    runs: pl.DataFrame, treated: str, control: str, value: str, on: Sequence[str] = ("seed",)
) -> pl.DataFrame:
    """Per-seed (and per-point) ``value`` of ``treated`` and ``control`` scenarios side by side.

    ``runs`` has one row per run with ``scenario``, the ``on`` columns and
    ``value``. Only seeds present in both scenarios are kept.
    """
    keys = list(on)
    t = runs.filter(pl.col("scenario") == treated).select([*keys, pl.col(value).alias("treated")])
    c = runs.filter(pl.col("scenario") == control).select([*keys, pl.col(value).alias("control")])
    return t.join(c, on=keys, how="inner").with_columns(
        (pl.col("treated") - pl.col("control")).alias("diff")
    )


# ----------------------------------------------------------------------------- bootstrap


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A point estimate with a bootstrap interval over seeds.

    ``method`` is ``BCa`` unless some resamples gave no finite statistic (a
    ratio over a zero, a target never reached): then BCa is undefined and the
    interval is the percentile interval of the finite resamples (``percentile``).
    """

    value: float
    lo: float
    hi: float
    n: int
    method: str = "BCa"

    def fmt(self, digits: int = 3, scale: float = 1.0, unit: str = "") -> str:
        """``value [95% CI lo, hi; n seeds]`` times ``scale``; ``unit`` "$" is a prefix."""

        def f(x: float) -> str:
            if not math.isfinite(x):
                return "n/a"
            v = x * scale
            num = f"{v:,.0f}" if abs(v) >= 10**digits else f"{v:.{digits}g}"
            if unit.strip() == "$":
                return f"-${num[1:]}" if num.startswith("-") else f"${num}"
            return f"{num}{unit}"

        how = "" if self.method == "BCa" else f", {self.method}"
        return f"{f(self.value)} [95% CI {f(self.lo)}, {f(self.hi)}; {self.n} seeds{how}]"


def bootstrap(
    data: ArrayLike,
    stat: Callable[[NDArray[np.float64]], Any],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    level: float = LEVEL,
    vectorized: bool = False,
) -> Estimate:
    """BCa bootstrap of ``stat`` over the rows of ``data`` (one row per seed).

    The rows are resampled whole by :func:`scipy.stats.bootstrap` (it draws row
    indices), so the numbers of one seed (treated and control, or several
    scenarios) stay together: the bootstrap is paired wherever the design is.

    Parameters
    ----------
    data
        One row per seed, one column per number of that seed.
    stat
        Statistic of a ``(seeds, columns)`` array. With ``vectorized`` it also
        takes ``(..., seeds, columns)`` arrays and reduces the seeds axis
        (``-2``), which is much faster.

    Notes
    -----
    When every resample gives the same statistic (identical seeds) the interval
    is that value. When some resamples give no finite statistic, BCa is
    undefined; the percentile interval of the finite resamples is returned
    (``method="percentile"``) if at least half are finite, else no interval.
    """
    from scipy import stats

    x = np.asarray(data, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    x = x[np.isfinite(x).all(axis=1)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    value = float(stat(x))
    if n == 1:
        return Estimate(value, math.nan, math.nan, 1)

    def on_rows(i: NDArray[np.int64], axis: int = -1) -> Any:
        return stat(x[i])

    with warnings.catch_warnings():
        # degenerate and non-finite resamples are handled below, not warned about
        warnings.simplefilter("ignore")
        res = stats.bootstrap(
            (np.arange(n),),
            on_rows,
            n_resamples=resamples,
            vectorized=vectorized,
            confidence_level=level,
            method="BCa",
            rng=np.random.default_rng(seed),
        )
    dist = np.asarray(res.bootstrap_distribution, dtype=np.float64)
    finite = dist[np.isfinite(dist)]
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if len(finite) == len(dist) and finite.min() == finite.max():
        return Estimate(value, value, value, n)
    if math.isfinite(lo) and math.isfinite(hi):
        return Estimate(value, lo, hi, n)
    if len(finite) < len(dist) / 2:
        return Estimate(value, math.nan, math.nan, n)
    a = (1 - level) / 2
    plo, phi = np.quantile(finite, [a, 1 - a])
    return Estimate(value, float(plo), float(phi), n, method="percentile")


def bootstrap_mean(values: ArrayLike, **kw: Any) -> Estimate:
    """Mean over seeds with its bootstrap interval."""
    return bootstrap(values, lambda x: x[..., 0].mean(axis=-1), vectorized=True, **kw)


def bootstrap_ratio(num: ArrayLike, den: ArrayLike, **kw: Any) -> Estimate:
    """``mean(num) / mean(den)`` over seeds, resampling seeds jointly (paired)."""

    def stat(x: NDArray[np.float64]) -> Any:
        d = x[..., 1].mean(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(d != 0, x[..., 0].mean(axis=-1) / np.where(d != 0, d, 1), np.nan)

    return bootstrap(np.column_stack([num, den]), stat, vectorized=True, **kw)


# ----------------------------------------------------------------------------- verdicts


def judge(
    est: Estimate, threshold: float = 0.0, margin: float = 0.0, direction: str = "greater"
) -> str:
    """Verdict on the claim "the effect exceeds ``threshold`` by more than ``margin`` in
    ``direction``" (``greater`` or ``less``); the one rule of every claim.

    With the interval measured from ``threshold`` in the claimed direction
    (``[lo, hi]``):

    - ``holds``: the whole interval lies beyond the margin, ``lo > margin``;
    - ``does not hold``: the whole interval lies within the margin or on the
      other side, ``hi <= margin`` (an effect too small to matter, or of the
      wrong sign, whichever side of ``threshold`` the estimate is on);
    - ``inconclusive``: the interval straddles the margin, or there is no
      interval (fewer than two seeds).

    The rule is symmetric: what decides is where the interval lies against the
    practical margin, not whether it excludes ``threshold``. A precise but tiny
    effect (``0 < lo < hi <= margin``) does not hold; one whose interval reaches
    past the margin on one end only is inconclusive.

    Examples
    --------
    >>> judge(Estimate(0.3, 0.2, 0.4, 10), 0.0, margin=0.1)
    'holds'
    >>> judge(Estimate(0.01, -0.02, 0.03, 10), 0.0, margin=0.05)
    'does not hold'
    >>> judge(Estimate(0.06, 0.01, 0.09, 10), 0.0, margin=0.05)
    'inconclusive'
    >>> judge(Estimate(-0.3, -0.4, -0.2, 10), 0.0, margin=0.1, direction="less")
    'holds'
    """
    if direction not in ("greater", "less"):
        raise ValueError(f"direction: {direction!r}; allowed: 'greater', 'less'")
    if margin < 0 or not math.isfinite(margin):
        raise ValueError(f"margin: {margin!r}; allowed: a finite number >= 0")
    if est.n < 2 or not (math.isfinite(est.lo) and math.isfinite(est.hi)):
        return UNSURE
    sign = 1.0 if direction == "greater" else -1.0
    lo, hi = sorted((sign * (est.lo - threshold), sign * (est.hi - threshold)))
    if lo > margin:
        return HOLDS
    if hi <= margin:
        return FAILS
    return UNSURE


def seeds_to_resolve(
    est: Estimate, threshold: float = 0.0, margin: float = 0.0, direction: str = "greater"
) -> int | None:
    """Seeds that would make an inconclusive verdict conclusive at the observed variance.

    The interval's half-width on the side facing the margin is scaled as
    ``1 / sqrt(seeds)`` (the spread over seeds stays what it is) until that end
    clears the margin with the point estimate where it is: ``holds`` if the
    estimate lies beyond the margin, ``does not hold`` otherwise. None when the
    estimate sits on the margin (no number of seeds settles it) or there is no
    interval. An approximation for planning, not a power analysis.

    >>> seeds_to_resolve(Estimate(0.06, 0.01, 0.09, 10), 0.0, margin=0.05)
    251
    >>> seeds_to_resolve(Estimate(0.04, -0.01, 0.06, 10), 0.0, margin=0.05)
    250
    """
    if est.n < 2 or not all(math.isfinite(v) for v in (est.value, est.lo, est.hi)):
        return None
    sign = 1.0 if direction == "greater" else -1.0
    v = sign * (est.value - threshold)
    lo, hi = sorted((sign * (est.lo - threshold), sign * (est.hi - threshold)))
    if v > margin:
        half, room = v - lo, v - margin
    elif v < margin:
        half, room = hi - v, margin - v
    else:
        return None
    x = est.n * (half / room) ** 2  # seeds at which the facing end reaches the margin
    if v > margin:
        # holds needs that end strictly beyond the margin: the next whole seed past x
        k = math.floor(x * (1 + 1e-12)) + 1
    else:
        # does not hold allows the end on the margin (within it, inclusive)
        k = math.ceil(x * (1 - 1e-12))
    return max(k, est.n)


@dataclasses.dataclass(frozen=True)
class Claim:
    """What a verdict tests: the effect exceeds ``threshold`` by more than ``margin``
    (in the estimate's units) in ``direction``.

    ``margin_text`` states the margin as the report shows it (e.g. "1 pp of
    purchase share"), ``reason`` why an effect that small does not matter.
    """

    label: str
    margin: float
    margin_text: str
    reason: str
    threshold: float = 0.0
    direction: str = "greater"

    def judge(self, est: Estimate) -> str:
        """The verdict on ``est`` (:func:`judge`)."""
        return judge(est, self.threshold, self.margin, self.direction)

    def resolve_note(self, est: Estimate) -> str:
        """For an inconclusive verdict: how many seeds would resolve it."""
        if self.judge(est) != UNSURE:
            return ""
        k = seeds_to_resolve(est, self.threshold, self.margin, self.direction)
        if k is None:
            return (
                "More seeds alone would not resolve it: the estimate sits on the margin."
                if est.n >= 2 and math.isfinite(est.lo)
                else "There is no interval to judge (fewer than two seeds with a finite value)."
            )
        return f"About {k:,} seeds would resolve it at the observed variance ({est.n} ran)."


# ----------------------------------------------------------------------------- report


@dataclasses.dataclass
class Report:
    """A markdown report with figures, a verdict section and the margins of its claims.

    Nothing touches the disk before :meth:`write`: figures are kept in memory,
    so an analysis that fails half-way leaves ``out`` as it was.
    """

    out: Path
    title: str
    intro: str = ""
    provenance: str = ""
    sections: list[str] = dataclasses.field(default_factory=list)
    verdicts: list[str] = dataclasses.field(default_factory=list)
    claims: list[Claim] = dataclasses.field(default_factory=list)
    #: files written beside report.md (figures, tables), kept in memory until :meth:`write`
    files: dict[str, bytes] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self.out = Path(self.out)

    def add(self, text: str) -> None:
        """Append a markdown block."""
        self.sections.append(text.strip())

    def verdict(self, claim: Claim, est: Estimate, sentence: str) -> str:
        """Judge ``est`` against ``claim`` and record the line
        ``**Verdict:** label: **verdict**. sentence [seeds to resolve]``; return the verdict."""
        v = claim.judge(est)
        note = claim.resolve_note(est)
        line = f"**Verdict:** {claim.label}: **{v}**. {sentence}" + (f" {note}" if note else "")
        self.verdicts.append(line)
        if claim not in self.claims:
            self.claims.append(claim)
        return v

    def figure(self, fig: Any, name: str, caption: str) -> None:
        """Render a matplotlib figure as ``name.png`` (written by :meth:`write`) and embed it."""
        import io

        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        self.files[f"{name}.png"] = buf.getvalue()
        self.add(f"![{caption}]({name}.png)\n\n*{caption}*")

    def margins_md(self) -> str:
        """The margins section: each judged claim, its margin and why."""
        if not self.claims:
            return ""
        rows = [
            [
                c.label,
                f"{'above' if c.direction == 'greater' else 'below'} {c.threshold:g}",
                c.margin_text,
                c.reason,
            ]
            for c in self.claims
        ]
        return (
            "## Margins\n\n"
            + (
                "A claim holds when its whole 95% interval lies beyond the margin in the claimed "
                "direction, does not hold when the interval lies entirely within the margin or on "
                "the other side, and is inconclusive when it straddles the margin.\n\n"
            )
            + table_md(rows, ["claim", "effect", "practical margin", "why this margin"])
        )

    def write(self) -> Path:
        """Write ``report.md`` (provenance, verdicts, margins, details) and the figures into
        ``out``, each file through a temporary and a rename; return the report's path."""
        parts = [f"# {self.title}", self.provenance.strip(), self.intro.strip()]
        if self.verdicts:  # a claim report; a sensitivity report has sections only
            parts += ["## Verdicts", *self.verdicts, self.margins_md(), "## Details"]
        parts += self.sections
        self.out.mkdir(parents=True, exist_ok=True)
        files = {**self.files, "report.md": ("\n\n".join(p for p in parts if p) + "\n").encode()}
        for name, blob in files.items():
            tmp = self.out / f".{name}.tmp-{os.getpid()}"
            tmp.write_bytes(blob)
            os.replace(tmp, self.out / name)
        return self.out / "report.md"


def table_md(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def plot_setup() -> Any:
    """matplotlib with the Agg backend and seaborn's theme; returns pyplot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    return plt


def timeseries_figure(
    daily: pl.DataFrame, columns: Sequence[str], hue: str = "scenario", title: str = ""
) -> Any:
    """A grid of seaborn line plots of ``columns`` by day, mean over seeds with 95% bands."""
    plt = plot_setup()
    import seaborn as sns

    n = len(columns)
    ncol = min(3, n)
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(5 * ncol, 3.2 * nrow), squeeze=False)
    keep = ["day", hue, *columns]
    pdf = daily.select([c for c in dict.fromkeys(keep) if c in daily.columns]).to_pandas()
    for ax, col in zip(axes.flat, columns, strict=False):
        sns.lineplot(data=pdf, x="day", y=col, hue=hue, errorbar=("ci", 95), ax=ax, n_boot=200)
        ax.set_title(col, fontsize=10)
        ax.set_ylabel("")
        if ax is not axes.flat[0] and ax.get_legend() is not None:
            ax.get_legend().remove()
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def parse_args(
    prog: str, doc: str, argv: Sequence[str] | None, against: bool = False
) -> argparse.Namespace:
    """``SWEEP_DIR --out REPORT_DIR [--against SWEEP_DIR]`` arguments of an analysis."""
    parser = argparse.ArgumentParser(prog=prog, description=doc)
    add_arguments(parser, against)
    return parser.parse_args(argv)


def add_arguments(parser: argparse.ArgumentParser, against: bool = False) -> None:
    """Add ``SWEEP_DIR``, ``--out`` (and, for analyses that compare, ``--against``)."""
    parser.add_argument("sweep_dir", help="folder written by `flywheel sweep`")
    parser.add_argument("--out", required=True, help="report folder (report.md and figures)")
    if against:
        parser.add_argument(
            "--against",
            metavar="SWEEP_DIR",
            help="a reference sweep of the same design: set each verdict beside its own",
        )


def verdict_lines(report: Path | None) -> list[str]:
    """The ``**Verdict:**`` lines of a written report."""
    if report is None:
        return []
    return [ln for ln in Path(report).read_text().splitlines() if ln.startswith("**Verdict:**")]


def pct(x: float, digits: int = 1) -> str:
    """``x`` as a percentage string."""
    return f"{100 * x:.{digits}f}%" if math.isfinite(x) else "n/a"


#: Customers of the calibrated baseline's market (``market.population`` of
#: ``configs/baseline.toml``; a test keeps the two equal).
BASELINE_POPULATION = 20_000


def sample_note(sweep_dir: str | Path) -> str:
    """One paragraph on the sweep's sample and market, read from its runs' manifests.

    The market (sellers, stations, budgets, every total) is set by
    ``market.population``; ``run.n_customers`` is only how many of its customers
    were simulated. A run of a manifest without a ``market`` table (before the
    sample/market split) simulated a market of its own sample's size.
    """
    sizes: set[tuple[int, int, int]] = set()
    for manifest in _manifests(Path(sweep_dir)):
        try:
            config = manifest["config"]
            run = config["run"]
            n = int(run["n_customers"])
            population = int(config.get("market", {}).get("population", n))
            sizes.add((n, int(run["days"]), population))
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
    if not sizes:
        return ""
    shown = ", ".join(
        f"{n:,} simulated customers of {pop:,} x {d} days (weight {pop / n:.3g})"
        for n, d, pop in sorted(sizes)
    )
    if all(pop == BASELINE_POPULATION for _, _, pop in sizes):
        market = (
            "the market is the calibrated baseline's (its population); the sample size "
            "sets the noise of each run, not the market"
        )
        if any(n < pop for n, _, pop in sizes):
            market += (
                "; a sample smaller than the population is checked, not assumed: at "
                "3,000 customers every fact agrees with a 200,000-customer run within "
                "the small run's 95% interval (`python tools/sample_size.py` measures "
                'them, docs/CALIBRATION.md, "Round 10")'
            )
    else:
        market = (
            f"not the calibrated baseline's market of {BASELINE_POPULATION:,} customers "
            "(`market.population`), so its sellers, stations, budgets and totals are "
            "another market's; check its facts with `flywheel validate` before reading "
            "its verdicts as the baseline's"
        )
    return f"**Sample.** Runs of {shown}: {market}."


def _manifests(sweep_dir: Path) -> list[dict[str, Any]]:
    """Every readable run manifest of a sweep folder (temporaries skipped)."""
    out = []
    for path in sorted(sweep_dir.glob("**/manifest.json")):
        if any(part.startswith(".") for part in path.relative_to(sweep_dir).parts):
            continue
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if _manifest_shaped(manifest):  # else not a manifest (verify_table rejects it)
            out.append(manifest)
    return out


def _manifest_shaped(manifest: Any) -> bool:
    """A JSON object whose ``config`` and ``config.run`` (if any) are objects and whose
    ``seed`` (if any) is an integer, as :func:`sim.runner.simulate` writes them."""
    if not isinstance(manifest, dict):
        return False
    config = manifest.get("config", {})
    seed = manifest.get("seed", 0)
    return (
        isinstance(config, dict)
        and isinstance(config.get("run", {}), dict)
        and isinstance(seed, int)
        and not isinstance(seed, bool)
    )


def _this_code_version() -> str:
    """``git describe`` of the analysis code's checkout, else the installed package version."""
    from importlib import metadata

    root = Path(__file__).resolve().parent.parent
    if shutil.which("git") and (root / ".git").exists():
        try:
            done = subprocess.run(
                ["git", "describe", "--always", "--dirty", "--tags"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=5,
                check=True,
            )
            return done.stdout.strip()
        except (subprocess.SubprocessError, OSError):
            pass
    try:
        return metadata.version("flywheel")
    except metadata.PackageNotFoundError:
        return "unknown"


def _shown(path: str | Path) -> str:
    """``path`` relative to the working directory when it lies under it."""
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def provenance_block(sweep_dir: str | Path, command: str) -> str:
    """The provenance block a report starts with, from ``sweep.json`` and the run manifests.

    States the code version of the runs (and of the analysis, when it differs),
    the sweep file with the SHA-256 of its bytes as run and the hash of its
    resolved runs, the sample size, population, days, burn-in and seeds, and
    the commands that reproduce the report (``command`` is the analysis's own).
    """
    root = Path(sweep_dir)
    record: dict[str, Any] = {}
    try:
        record = json.loads((root / "sweep.json").read_text())
    except (OSError, ValueError):
        record = {}
    definition = record.get("definition", {}) if isinstance(record, dict) else {}
    manifests = _manifests(root)
    runs = [m.get("config", {}).get("run", {}) for m in manifests]
    versions = sorted({str(m.get("code_version", "unknown")) for m in manifests}) or [
        str(record.get("code_version", "unknown"))
    ]
    here = _this_code_version()

    def values(key: str) -> str:
        found = sorted({r[key] for r in runs if key in r})
        return ", ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in found) or "n/a"

    seeds = sorted({int(m["seed"]) for m in manifests if "seed" in m})
    populations = sorted(
        {
            int(m["config"].get("market", {}).get("population", r.get("n_customers", 0)))
            for m, r in zip(manifests, runs, strict=True)
            if isinstance(m.get("config"), dict)
        }
    )
    source = definition.get("source")
    file_hash, runs_hash = definition.get("source_sha256"), record.get("definition_hash")
    rows = [
        [
            "sweep",
            f"`{record.get('name', root.name)}`"
            + (f" from `{_shown(source)}`" if source else " (no sweep.json: a folder of runs)"),
        ],
        ["sweep file SHA-256", f"`{file_hash}`" if file_hash else "not recorded"],
        ["runs' SHA-256", f"`{runs_hash}`" if runs_hash else "n/a"],
        [
            "code version",
            ", ".join(f"`{v}`" for v in versions)
            + (" (runs from more than one version)" if len(versions) > 1 else "")
            + ("" if versions == [here] else f"; report written by `{here}`"),
        ],
        ["runs", f"{len(manifests):,} read"
         + (f" ({record['counts'].get('done', '?')} done of {record['counts'].get('runs', '?')})"
            if isinstance(record.get("counts"), dict) else "")],
        ["sample", f"{values('n_customers')} simulated customers per run"],
        [
            "population",
            (", ".join(f"{p:,}" for p in populations) + " customers in the market (each "
             "simulated customer stands for population / sample of them)")
            if populations else "n/a",
        ],
        ["days", f"{values('days')}, of which the first {values('burn_in_days')} are burn-in "
         "(excluded from every estimate)"],
        [
            "seeds",
            f"{len(seeds)}: " + ", ".join(str(x) for x in seeds[:12])
            + (", ..." if len(seeds) > 12 else "")
            + (f" (root seed {definition['root_seed']})" if "root_seed" in definition else ""),
        ],
        [
            "reproduce",
            (f"`flywheel sweep {_shown(source)} --out {_shown(root)}`, then " if source else "")
            + f"`{command}`",
        ],
    ]  # fmt: skip
    note = sample_note(root)
    return "## Provenance\n\n" + table_md(rows, ["", ""]) + (f"\n\n{note}" if note else "")


def analysis_command(claim: str, args: argparse.Namespace) -> str:
    """The ``flywheel analyze`` command line that wrote a report, for its provenance."""
    cmd = f"flywheel analyze {claim} {_shown(args.sweep_dir)} --out {_shown(args.out)}"
    if getattr(args, "against", None):
        cmd += f" --against {_shown(args.against)}"
    return cmd
