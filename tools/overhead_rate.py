"""Set ``platform.overhead_rate`` from the platform's segment operating margin (F16).

The overhead (the platform's costs that the model does not simulate) is an
account that changes no decision, so its rate follows in closed form: run the
config with the overhead at 0 over the validation seeds, pool the operating
contribution and the platform revenue of F12 over the post-burn-in days, and
take ``rate = contribution / revenue - target`` (``--target``, F16's 6.4% by
default). ``--apply`` writes it into the config (value only; comments kept).
F13 is then measured by ``flywheel validate``, not set.

Run: ``python tools/overhead_rate.py [--config configs/baseline.toml] [--seeds 5]
[--workers 2] [--target 0.064] [--apply]`` (about a minute).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

from sim.config import Config, load_config
from sim.runner import simulate
from sim.validate import REVENUE_STREAMS, derive_seeds

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibrate import apply_to_config
from steady_state import map_configs

#: F16's centre: North America segment operating margin, Amazon 2024 Form 10-K.
SEGMENT_MARGIN = 0.064


def _totals(cfg: Config) -> tuple[float, float]:
    """Operating contribution and platform revenue over the post-burn-in days."""
    d = simulate(cfg).daily.filter(~pl.col("burn_in"))
    revenue = sum(float(d[c].sum()) for c in REVENUE_STREAMS)
    return float(d["operating_contribution_cents"].sum()), revenue


def overhead_rate(cfg: Config, seeds: list[int], target: float, workers: int) -> float:
    """The overhead rate that puts the pooled operating margin of ``cfg`` at ``target``."""
    free = [
        cfg.evolve(
            {"run.seed": s, "platform.overhead_rate": 0.0, "attribution.counterfactual_twin": False}
        )
        for s in seeds
    ]
    totals = map_configs(_totals, free, workers)
    contribution = sum(t[0] for t in totals)
    revenue = sum(t[1] for t in totals)
    return max(contribution / revenue - target, 0.0) if revenue else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="configs/baseline.toml")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--target", type=float, default=SEGMENT_MARGIN)
    ap.add_argument("--apply", action="store_true", help="write the rate into --config")
    args = ap.parse_args(argv)
    path = Path(args.config)
    cfg = load_config(path)
    rate = round(overhead_rate(cfg, derive_seeds(cfg.run.seed, args.seeds), args.target,
                               args.workers), 4)  # fmt: skip
    print(f"platform.overhead_rate = {rate} (operating margin {args.target:.3f} of revenue)")
    if args.apply:
        apply_to_config(path, {"platform.overhead_rate": rate})
        print(f"applied to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
