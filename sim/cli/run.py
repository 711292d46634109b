"""``flywheel run CONFIG --out DIR``: one run of a config, its tables written to DIR."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.cli._common import fail, interrupted, unwritable
from sim.config import ConfigError, load_config
from sim.interrupts import ctrl_c_kept

__all__ = ["register"]


def _cents(v: float) -> str:
    return f"${v / 100:,.0f}"


def _cmd_run(args: argparse.Namespace) -> int:
    from sim.runner import OutputExistsError, simulate

    overrides = list(args.set or [])
    if args.days is not None:
        overrides.append(f"run.days={args.days}")
    try:
        cfg = load_config(args.config, overrides=overrides)
        if args.seed is not None:
            cfg = cfg.evolve({"run.seed": args.seed})
    except ConfigError as err:
        return fail(str(err))
    out = Path(args.out)
    problem = unwritable(out, folder=True)  # its temporary sibling is made beside it
    if problem is not None:  # before the run, not after it
        return fail(f"--out {problem}")
    try:
        with ctrl_c_kept():
            result = simulate(
                cfg,
                out_dir=out,
                events=args.events or None,
                progress=not args.quiet,
                overwrite=args.force,
            )
    except OutputExistsError as err:
        return fail(f"--out: {err}")
    except (KeyboardInterrupt, SystemError) as err:
        if not interrupted(err):
            raise
        print(f"flywheel: interrupted; nothing was written to {out}", file=sys.stderr)
        return 130
    if not args.quiet:
        _print_summary(result, out)
    return 0


def _print_summary(result, out: Path) -> None:
    import polars as pl

    d = result.daily.filter(~pl.col("burn_in"))
    if d.height == 0:  # a run shorter than its burn-in: summarise every day
        d = result.daily
    m = result.manifest
    last = result.daily.row(-1, named=True)
    causal = (
        d["causal_revenue_cents"].sum() if d["causal_revenue_cents"].null_count() == 0 else None
    )
    lines = [
        f"run {m['run_id']}: {m['config']['run']['n_customers']:,} customers, "
        f"{result.daily.height} days, seed {m['seed']} ({m['wall_time_s']:.1f} s)",
        f"  platform share of purchases  {d['platform_share'].mean():.3f}",
        f"  GMV per day                  {_cents(d['gmv_cents'].mean())}",
        f"  Prime share of active        {last['prime_share_active']:.3f}",
        f"  ad revenue per day           {_cents(d['ad_revenue_cents'].mean())}",
        f"  sponsored share of top 12    {d['sponsored_top12_share'].mean():.3f}",
        f"  assistant consults per day   {d['assistant_consults'].mean():.1f}",
        f"  DSI-attributed revenue       {_cents(d['dsi_revenue_cents'].sum())}",
        "  causal assistant revenue     "
        + (_cents(causal) if causal is not None else "n/a (no counterfactual twin)"),
        f"  stations at end              {last['stations']}",
        f"written to {out}/",
    ]
    print("\n".join(lines))


def register(subparsers: Any) -> None:
    """Add the ``run`` sub-command."""
    run = subparsers.add_parser("run", help="run one config and write its tables")
    run.add_argument("config", help="a TOML config, e.g. configs/baseline.toml")
    run.add_argument("--out", required=True, help="output folder (must be new or empty)")
    run.add_argument("--seed", type=int, help="root seed (overrides run.seed)")
    run.add_argument("--days", type=int, help="simulated days (overrides run.days)")
    run.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set assistant.ad_mode=blended",
    )
    run.add_argument("--events", action="store_true", help="also write events.parquet")
    run.add_argument("--force", action="store_true", help="replace an existing output folder")
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    run.set_defaults(func=_cmd_run)
