"""Find the baseline's steady state: its long-run levels, and how long a run takes to reach them.

The baseline starts from an initial state (customers' platform habit and trust
in the assistant, the starting sellers) and runs a burn-in before anything is
measured. A steady state is a run whose headline series no longer drift after
the burn-in. This tool runs the config for ``--years`` (5) with ``--seeds``
(3) seeds, takes the last ``--window`` (365) days as the steady state, and
reports:

- the steady-state levels of the state variables that the initial state
  sets: mean platform habit (``customers.initial_habit``), mean trust in the
  assistant (``customers.initial_trust``), platform orders per need (which
  dates each customer's last purchase before day 0,
  ``customers.initial_orders_per_need``), the share of customers who consulted
  the assistant in the past year (``customers.initial_assistant_user_share``:
  the platform prompts customers who have not consulted for a year), paying
  Prime members as a share of the market's customers
  (``prime.initial_member_share``), active
  third-party sellers per category and 1,000 customers of the market
  (``sellers.initial_per_category_per_1k``) and what active sellers earned
  per day in business (``sellers.initial_earnings_per_day_cents``: the
  starting sellers' cash at day 0 is their reserve plus that times their age);
- the post-burn-in drift per year of the headline series that ``flywheel
  validate`` checks (platform share, Prime share of active customers, active
  sellers; the same measure, :func:`sim.validate.trends`) over the year after
  each of a range of burn-ins, and the shortest burn-in after which every
  mean drift is within :data:`sim.validate.DRIFT_LIMITS`.

With ``--apply`` the initial-state values are written into the config
(values only; keys and comments kept), so the next run starts at the levels
the model itself settles at. The levels depend on the initial state only
through the slow variables (never-consulting customers keep their initial
trust), so two passes converge. Nothing is fitted to a public fact here: the
values are the model's own long-run state.

Run: ``python tools/steady_state.py [--years 5] [--seeds 3] [--workers 2]
[--set KEY=VALUE ...] [--apply]``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import polars as pl

from sim.config import Config, load_config, parse_overrides
from sim.runner import simulate
from sim.validate import DRIFT_LIMITS, USAGE, derive_seeds, trends

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibrate import apply_to_config

T = TypeVar("T")

#: Series whose steady-state level the initial state takes.
LEVELS = (
    "mean_habit",
    "mean_trust",
    "member_share",
    "orders_per_need",
    "assistant_user_share",
    "sellers_active",
    "earnings_per_day",
)
#: Burn-ins tried (days).
BURN_INS = (60, 90, 120, 180, 240, 300, 365, 455, 545, 730)


def _daily(cfg: Config) -> pl.DataFrame:
    res = simulate(cfg)
    members = pl.col("prime_members") / cfg.market.population
    per_need = pl.col("orders") / pl.col("new_needs")
    users = pl.col("assistant_users_365d") / cfg.market.population
    return res.daily.with_columns(
        members.alias("member_share"),
        per_need.alias("orders_per_need"),
        users.alias("assistant_user_share"),
        pl.lit(seller_earnings_per_day(res.sellers, cfg.run.days)).alias("earnings_per_day"),
    )


def seller_earnings_per_day(sellers: pl.DataFrame, days: int) -> float:
    """What a third-party seller active at the end of a run earned per day since it
    entered: the median over those sellers of profit / days in business (the median,
    so that a few category leaders do not set every starting seller's cash), counting
    only sellers that entered during the run, whose whole history it holds."""
    s = sellers.filter(pl.col("active") & ~pl.col("is_platform") & (pl.col("entry_day") > 0))
    if s.height == 0:
        return 0.0
    per_day = s["profit_cents"] / (days - s["entry_day"]).clip(lower_bound=1)
    return float(per_day.median())  # type: ignore[arg-type]


def map_configs(fn: Callable[[Config], T], cfgs: list[Config], workers: int) -> list[T]:
    """``fn`` over ``cfgs`` in order, in ``workers`` spawned processes (1: in process)."""
    if workers <= 1:
        return [fn(c) for c in cfgs]
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        return list(pool.map(fn, cfgs))


def steady_state(cfg: Config, seeds: list[int], window: int, workers: int) -> dict[str, Any]:
    """Steady-state levels and drift by burn-in of ``cfg`` over ``seeds`` (see the module)."""
    runs = map_configs(_daily, [cfg.evolve({"run.seed": s}) for s in seeds], workers)
    days = cfg.run.days
    tail = pl.concat([r.select("day", *LEVELS) for r in runs]).filter(
        pl.col("day") >= days - window
    )
    levels = {k: float(tail[k].mean()) for k in LEVELS}  # type: ignore[arg-type]
    drift = {}
    for b in (b for b in BURN_INS if b <= days - 365):
        # the first year after the burn-in: what a one-year measurement would see
        year = (pl.col("day") >= b) & (pl.col("day") < b + 365)
        per_seed = [trends(r.filter(year)) for r in runs]
        drift[b] = {k: float(np.mean([t[k] for t in per_seed])) for k in DRIFT_LIMITS}
    steady = [b for b, t in drift.items() if all(abs(t[k]) <= DRIFT_LIMITS[k] for k in t)]
    per_1k = cfg.market.population / 1000.0
    # the starting sellers at the steady state's count (its third-party sellers, all
    # entered before day 0 at staggered dates)
    initial = {
        "customers.initial_habit": round(levels["mean_habit"], 3),
        "customers.initial_trust": round(levels["mean_trust"], 3),
        "customers.initial_orders_per_need": round(levels["orders_per_need"], 3),
        "customers.initial_assistant_user_share": round(levels["assistant_user_share"], 3),
        "prime.initial_member_share": round(levels["member_share"], 3),
        "sellers.initial_per_category_per_1k": round(
            levels["sellers_active"] / cfg.catalogue.n_categories / per_1k, 4
        ),
        "sellers.initial_earnings_per_day_cents": round(max(levels["earnings_per_day"], 0.0)),
    }
    return {
        "levels": levels,
        "drift": drift,
        "burn_in": min(steady) if steady else None,
        "initial": initial,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the config long, print its steady state, and optionally apply the initial state."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="configs/baseline.toml")
    ap.add_argument("--years", type=int, default=5, help="years simulated (default 5)")
    ap.add_argument("--window", type=int, default=365, help="last days taken as steady state")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--apply", action="store_true", help="write the initial state into --config")
    args = ap.parse_args(argv)
    path = Path(args.config)
    base = load_config(path)
    changes = parse_overrides(args.set)
    changes.update({"run.days": 365 * args.years, "attribution.counterfactual_twin": False})
    cfg = base.evolve(changes)
    seeds = derive_seeds(base.run.seed, args.seeds)
    out = steady_state(cfg, seeds, args.window, args.workers)
    span = f"{args.years} years, {args.seeds} seeds, last {args.window} days"
    print(f"# Steady state of {path} ({span})")
    print("| burn-in (days) | " + " | ".join(USAGE[k] for k in DRIFT_LIMITS) + " |")
    print("|---|" + "---|" * len(DRIFT_LIMITS))
    for b, t in out["drift"].items():
        print(f"| {b} | " + " | ".join(f"{t[k]:+.2f}" for k in DRIFT_LIMITS) + " |")
    print(f"\nshortest burn-in with every drift within its limit: {out['burn_in']} days")
    print("\nsteady-state levels (last days of the runs):")
    for k, v in out["levels"].items():
        print(f"  {k} = {v:.4g}")
    print("initial state at the steady state:")
    for k, v in out["initial"].items():
        print(f"  {k} = {v}")
    if args.apply:
        apply_to_config(path, out["initial"])
        print(f"applied to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
