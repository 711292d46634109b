"""Does the market depend on the sample size? Every fact of ``flywheel validate`` at a
small and a large ``run.n_customers``, side by side.

``run.n_customers`` is meant to be a sample of ``market.population``: changing it
should change the noise of a run, not its market. This runs the validation seeds at
both sizes and prints, per fact, both means with their Student-t 95% intervals and
two checks:

- *within*: the means differ by less than the width of the small run's 95% interval
  (issue 14's criterion, read as the whole interval, hi - lo);
- *p*: Welch's two-sided t-test of equal means, which also counts the large run's
  own noise (a small p says the sample size itself moves the fact).

Run: ``python tools/sample_size.py [--config configs/baseline.toml] [--small 3000]
[--small-seeds 30] [--large 200000] [--large-seeds 5] [--workers 2] [--no-f7]
[--out runs/validate/sample_size.md]`` (about 5 minutes at the defaults).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from scipy import stats

from sim.config import load_config
from sim.validate import run_seeds, summarise


def _values(per_seed: Sequence[Mapping[str, float]], key: str) -> np.ndarray:
    x = np.asarray([r.get(key, math.nan) for r in per_seed], dtype=float)
    return x[np.isfinite(x)]


def compare(
    small: Sequence[Mapping[str, float]], large: Sequence[Mapping[str, float]]
) -> list[dict[str, object]]:
    """Per fact: both means and intervals, the gap, the small interval's width, whether
    the gap is within it, and Welch's p-value (nan with fewer than two seeds a side)."""
    rows = []
    for s_row, l_row in zip(summarise(small), summarise(large), strict=True):
        key = s_row.fact.key
        a, b = _values(small, key), _values(large, key)
        width = s_row.hi95 - s_row.lo95
        gap = abs(s_row.mean - l_row.mean)
        if len(a) > 1 and len(b) > 1:
            p = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
        else:
            p = math.nan
        rows.append(
            {
                "fact": key,
                "small": s_row,
                "large": l_row,
                "gap": gap,
                "width": width,
                "within": bool(np.isfinite(gap) and gap < width),
                "p": p,
            }
        )
    return rows


def _interval(row: object) -> str:
    return f"{row.mean:.4g} [{row.lo95:.4g}, {row.hi95:.4g}]"  # type: ignore[attr-defined]


def markdown(rows: Sequence[Mapping[str, object]], small_n: int, large_n: int) -> str:
    """The comparison as a markdown table, with a closing count of facts within."""
    lines = [
        f"| fact | {small_n:,} customers: mean [95% CI] | {large_n:,} customers: mean [95% CI]"
        " | gap | small CI width | within | Welch p |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['fact']} | {_interval(r['small'])} | {_interval(r['large'])} "
            f"| {r['gap']:.3g} | {r['width']:.3g} | {'yes' if r['within'] else 'no'} "
            f"| {r['p']:.3g} |"
        )
    bad = [str(r["fact"]) for r in rows if not r["within"]]
    lines.append("")
    outside = ", ".join(bad) or "none"
    lines.append(f"facts whose gap is not within the small run's interval: {outside}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="configs/baseline.toml")
    ap.add_argument("--small", type=int, default=3000, help="small run.n_customers")
    ap.add_argument("--small-seeds", type=int, default=30)
    ap.add_argument("--large", type=int, default=200_000, help="large run.n_customers")
    ap.add_argument("--large-seeds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-f7", action="store_true", help="skip the paired F7 runs")
    ap.add_argument("--out", default="runs/validate/sample_size.md")
    args = ap.parse_args(argv)
    for name in ("small", "large", "small_seeds", "large_seeds"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} = {getattr(args, name)}: must be >= 1")
    cfg = load_config(args.config)
    paired = not args.no_f7
    small = run_seeds(
        cfg.evolve({"run.n_customers": args.small}), args.small_seeds,
        workers=args.workers, paired=paired,
    )  # fmt: skip
    large = run_seeds(
        cfg.evolve({"run.n_customers": args.large}), args.large_seeds,
        workers=args.workers, paired=paired,
    )  # fmt: skip
    text = (
        f"# Sample size: {args.config}, {args.small:,} customers x {args.small_seeds} seeds "
        f"against {args.large:,} x {args.large_seeds} (market.population "
        f"{cfg.market.population:,})\n\n" + markdown(compare(small, large), args.small, args.large)
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(out)
    print(text, end="")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
