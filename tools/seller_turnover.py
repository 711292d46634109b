"""Seller turnover of a config over several seeds: the largest share of active sellers
that exits on one day, and entries and exits per year after burn-in.

Usage::

    python tools/seller_turnover.py                       # baseline, 3 seeds, 3 years
    python tools/seller_turnover.py --config configs/scenarios/strong_network.toml --days 730
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _one(job: tuple[str, int, int]) -> tuple[int, float, int, list[tuple[int, int, int, int]]]:
    import polars as pl

    from sim.config import load_config
    from sim.runner import simulate

    config, seed, days = job
    cfg = load_config(
        config,
        overrides={"run.days": days, "run.seed": seed, "attribution.counterfactual_twin": False},
    )
    d = simulate(cfg).daily
    prev = pl.col("sellers_active").shift(1).fill_null(pl.col("sellers_active"))
    d = d.with_columns(exit_share=pl.col("sellers_exited") / prev)
    post = d.filter(pl.col("day") >= cfg.run.burn_in_days)
    years = (
        post.group_by(((pl.col("day") - cfg.run.burn_in_days) // 365).alias("year"))
        .agg(
            pl.col("sellers_entered").sum(),
            pl.col("sellers_exited").sum(),
            pl.col("sellers_active").last(),
        )
        .sort("year")
    )
    worst = int(d["exit_share"].arg_max() or 0)
    return seed, float(d["exit_share"][worst]), int(d["day"][worst]), years.rows()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/seller_turnover.py", description=__doc__)
    p.add_argument("--config", default=str(ROOT / "configs" / "baseline.toml"))
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--days", type=int, default=1095)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    jobs = [(args.config, seed, args.days) for seed in range(1, args.seeds + 1)]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for seed, share, day, years in pool.map(_one, jobs):
            print(f"seed {seed}: largest daily exit share {share:.2%} (day {day})")
            for year, entered, exited, active in years:
                print(f"  year {year} after burn-in: {entered} entered, {exited} exited, "
                      f"{active} active at its end")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
