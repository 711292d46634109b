"""Shared pieces of the claim analyses: reading a sweep, bootstrap intervals, verdicts, reports.

Every analysis reads the Parquet tables of a sweep laid out in hive folders
(``DIR/scenario=NAME/seed=N/<key>=<value>/...``) lazily with polars, drops
burn-in days, reduces each run to a few numbers, and compares runs that share
a seed (common random numbers). Intervals are percentile bootstraps over
seeds with a fixed-seed :class:`numpy.random.Generator`, so a report is
reproducible to the digit. A verdict is one of ``holds``, ``does not hold`` or
``inconclusive``; it is derived from the interval alone (see :func:`judge`),
so no claim can come out "holds" by construction.

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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "BOOTSTRAP_SEED",
    "Estimate",
    "Report",
    "bootstrap",
    "bootstrap_mean",
    "bootstrap_ratio",
    "judge",
    "paired",
    "parse_args",
    "scan",
]

BOOTSTRAP_RESAMPLES = 2000
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
        recorded = json.loads(manifest.read_text()).get("sha256", {}).get(path.name)
    except (OSError, ValueError, AttributeError):
        raise ValueError(f"{manifest}: not a readable manifest") from None
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
    """A daily frame given directly (synthetic data), lazily, without burn-in rows."""
    lf = frame.lazy()
    if not burn_in and "burn_in" in lf.collect_schema().names():
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
    """A point estimate with a percentile bootstrap interval over seeds."""

    value: float
    lo: float
    hi: float
    n: int

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

        return f"{f(self.value)} [95% CI {f(self.lo)}, {f(self.hi)}; {self.n} seeds]"


def bootstrap(
    data: ArrayLike,
    stat: Callable[[NDArray[np.float64]], float],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    level: float = LEVEL,
) -> Estimate:
    """Percentile bootstrap of ``stat`` over the rows of ``data`` (one row per seed).

    Rows are resampled with replacement; a row may hold several paired
    numbers of one seed (e.g. treated and control), so pairing is kept.
    """
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
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    stats = np.array([stat(x[i]) for i in idx], dtype=np.float64)
    stats = stats[np.isfinite(stats)]
    if len(stats) < resamples / 2:
        return Estimate(value, math.nan, math.nan, n)
    a = (1 - level) / 2
    lo, hi = np.quantile(stats, [a, 1 - a])
    return Estimate(value, float(lo), float(hi), n)


def bootstrap_mean(values: ArrayLike, **kw: Any) -> Estimate:
    """Mean over seeds with its bootstrap interval."""
    return bootstrap(values, lambda x: float(x[:, 0].mean()), **kw)


def bootstrap_ratio(num: ArrayLike, den: ArrayLike, **kw: Any) -> Estimate:
    """``mean(num) / mean(den)`` over seeds, resampling seeds jointly (paired)."""

    def stat(x: NDArray[np.float64]) -> float:
        d = x[:, 1].mean()
        return float(x[:, 0].mean() / d) if d != 0 else math.nan

    return bootstrap(np.column_stack([num, den]), stat, **kw)


# ----------------------------------------------------------------------------- verdicts


def judge(
    est: Estimate, threshold: float = 0.0, margin: float = 0.0, direction: str = "greater"
) -> str:
    """Verdict on the claim "the effect is beyond ``threshold`` in ``direction``".

    - ``holds``: the whole interval lies beyond ``threshold``;
    - ``does not hold``: the whole interval lies on the other side, or inside
      ``threshold +/- margin`` (an effect too small to matter, equivalence);
    - ``inconclusive``: otherwise, or with fewer than two seeds.

    Examples
    --------
    >>> judge(Estimate(0.01, -0.02, 0.03, 10), 0.0, margin=0.05)
    'does not hold'
    >>> judge(Estimate(0.2, -0.1, 0.5, 10), 0.0, margin=0.05)
    'inconclusive'
    """
    if est.n < 2 or not (math.isfinite(est.lo) and math.isfinite(est.hi)):
        return UNSURE
    sign = 1.0 if direction == "greater" else -1.0
    lo, hi = sorted((sign * (est.lo - threshold), sign * (est.hi - threshold)))
    if lo > 0:
        return HOLDS
    if hi < 0 or (margin > 0 and -margin <= lo and hi <= margin):
        return FAILS
    return UNSURE


# ----------------------------------------------------------------------------- report


@dataclasses.dataclass
class Report:
    """A markdown report with figures and a verdict section, written to one folder."""

    out: Path
    title: str
    intro: str = ""
    sections: list[str] = dataclasses.field(default_factory=list)
    verdicts: list[str] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self.out.mkdir(parents=True, exist_ok=True)

    def add(self, text: str) -> None:
        """Append a markdown block."""
        self.sections.append(text.strip())

    def verdict(self, claim: str, verdict: str, sentence: str) -> str:
        """Record one verdict line ``**Verdict:** claim — verdict. sentence``."""
        line = f"**Verdict:** {claim}: **{verdict}**. {sentence}"
        self.verdicts.append(line)
        return line

    def figure(self, fig: Any, name: str, caption: str) -> None:
        """Save a matplotlib figure as ``name.png`` and embed it."""
        import matplotlib.pyplot as plt

        fig.savefig(self.out / f"{name}.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        self.add(f"![{caption}]({name}.png)\n\n*{caption}*")

    def write(self) -> Path:
        """Write ``report.md`` (verdicts first) and return its path."""
        parts = [f"# {self.title}", self.intro.strip(), "## Verdicts", *self.verdicts]
        parts += ["## Details", *self.sections]
        path = self.out / "report.md"
        path.write_text("\n\n".join(p for p in parts if p) + "\n")
        return path


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


#: Customers of the calibrated baseline: the market is the baseline's only at this size.
BASELINE_CUSTOMERS = 20_000


def sample_note(sweep_dir: str | Path) -> str:
    """One paragraph on the sweep's sample size, read from its runs' manifests.

    Sellers, stations and budgets are set per 1,000 simulated customers, so a sweep
    run at another size studies a different market than the calibrated baseline
    (issue 14: the sample/market split is not built yet); the report says so.
    """
    sizes: set[tuple[int, int]] = set()
    for manifest in sorted(Path(sweep_dir).glob("**/manifest.json"))[:200]:
        if any(part.startswith(".") for part in manifest.relative_to(sweep_dir).parts):
            continue
        try:
            run = json.loads(manifest.read_text())["config"]["run"]
            sizes.add((int(run["n_customers"]), int(run["days"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    if not sizes:
        return ""
    shown = ", ".join(f"{n:,} customers x {d} days" for n, d in sorted(sizes))
    same = all(n == BASELINE_CUSTOMERS for n, _ in sizes)
    market = (
        "the calibrated baseline's size, so its market is the baseline's"
        if same
        else (
            f"not the calibrated baseline's {BASELINE_CUSTOMERS:,} customers: sellers, "
            "stations and budgets are set per 1,000 simulated customers, so this "
            "sample is a smaller (or larger) market than the baseline's, not only a "
            "noisier view of it; check its facts with `flywheel validate --set "
            "run.n_customers=...` before reading its verdicts as the baseline's"
        )
    )
    return f"**Sample.** Runs of {shown}: {market}."


def add_sample_note(report: Path | None, sweep_dir: str | Path) -> None:
    """Put :func:`sample_note` under the title of a written report."""
    if report is None:
        return
    note = sample_note(sweep_dir)
    if not note:
        return
    text = Path(report).read_text()
    title, _, rest = text.partition("\n\n")
    Path(report).write_text(f"{title}\n\n{note}\n\n{rest}")
