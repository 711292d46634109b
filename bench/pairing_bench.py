"""How much pairing by identity reduces the noise of a paired comparison.

For each of ``--seeds`` seeds, runs the assistant off, a placebo assistant with
labelled ads (its answers never enter the choice, but its ads are sold and
charged to the same budgets) and the baseline, at ``--customers`` x
``--days`` (no twin). For each comparison and outcome (post-burn-in totals of
orders, GMV and Prime member-days) it writes the ratio of the standard
deviation of the paired differences (same seed) to that of unpaired ones
(seeds shuffled: every cyclic shift of the off runs against the on runs,
variances averaged). Common random numbers that hold give a ratio well below
1; with independent draws it would be about 1.

Usage::

    python bench/pairing_bench.py                      # 10 seeds, 5,000 x 240 days
    python bench/pairing_bench.py --seeds 4 --days 120 --out /tmp/pairing.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tomllib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUTCOMES = {
    "orders": "orders",
    "GMV": "gmv_cents",
    "Prime member-days": "prime_members",
}
ARMS = {
    "off": {"assistant.enabled": False},
    "placebo_labelled": {"assistant.answers_enter_choice": False, "assistant.ad_mode": "labelled"},
    "baseline": {},
}
#: (label, on arm, off arm, outcomes, the ratio it should not exceed)
COMPARISONS = (
    (
        "placebo with labelled ads vs assistant off",
        "placebo_labelled",
        "off",
        ("orders", "GMV", "Prime member-days"),
        0.25,
    ),
    ("baseline vs assistant off", "baseline", "off", ("orders",), 0.45),
)


def _one(job: tuple[str, int, int, int, dict]) -> tuple[str, int, dict[str, float]]:
    arm, seed, customers, days, extra = job
    sys.path.insert(0, str(ROOT))
    from sim.config import load_config
    from sim.runner import simulate

    overrides = {
        "run.n_customers": customers,
        "run.days": days,
        "run.seed": seed,
        "attribution.counterfactual_twin": False,
        **extra,
        **ARMS[arm],
    }
    cfg = load_config(ROOT / "configs" / "baseline.toml", overrides=overrides)
    daily = simulate(cfg).daily
    post = daily.filter(daily["day"] >= cfg.run.burn_in_days)
    return arm, seed, {name: float(post[col].sum()) for name, col in OUTCOMES.items()}


def sd_ratio(on: np.ndarray, off: np.ndarray) -> tuple[float, float, float]:
    """(paired sd, unpaired sd, ratio): unpaired over every non-zero cyclic shift."""
    paired = float(np.std(on - off, ddof=1))
    shifts = [np.var(on - np.roll(off, k), ddof=1) for k in range(1, len(off))]
    unpaired = float(np.sqrt(np.mean(shifts)))
    return paired, unpaired, paired / unpaired if unpaired > 0 else float("nan")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python bench/pairing_bench.py", description=__doc__)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--customers", type=int, default=5000)
    p.add_argument("--days", type=int, default=240)
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results_pairing.md")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a config change applied to every arm (TOML value), e.g. search.noise_sd=0.5",
    )
    args = p.parse_args(argv)
    extra = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            p.error(f"--set: expected KEY=VALUE, got {item!r}")
        extra[key.strip()] = tomllib.loads(f"v = {value}")["v"]
    if args.seeds < 3:
        p.error("--seeds: at least 3 (an unpaired spread needs shuffles)")
    seeds = [1000 + i for i in range(args.seeds)]
    jobs = [(arm, s, args.customers, args.days, extra) for arm in ARMS for s in seeds]
    results: dict[str, dict[int, dict[str, float]]] = {arm: {} for arm in ARMS}
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for arm, seed, totals in pool.map(_one, jobs):
            results[arm][seed] = totals
            print(f"  {arm} seed {seed}: orders {totals['orders']:,.0f}", flush=True)

    code = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        "# Paired versus unpaired spread",
        "",
        f"Produced by `python bench/pairing_bench.py` ({args.seeds} seeds, "
        f"{args.customers:,} customers x {args.days} days, post-burn-in totals, no twin"
        + (f"; with {', '.join(args.set)}" if args.set else "")
        + ").",
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- python: {platform.python_version()}; code: {code or 'unknown'}",
        "",
        "| comparison | outcome | mean paired difference | paired sd | unpaired sd | ratio "
        "| target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ok = True
    for label, a, b, outcomes, target in COMPARISONS:
        for name in outcomes:
            on = np.array([results[a][s][name] for s in seeds])
            off = np.array([results[b][s][name] for s in seeds])
            paired, unpaired, ratio = sd_ratio(on, off)
            met = ratio <= target
            ok &= met
            lines.append(
                f"| {label} | {name} | {np.mean(on - off):+,.1f} | {paired:,.1f} "
                f"| {unpaired:,.1f} | {ratio:.3f} "
                f"| <= {target} | {'yes' if met else 'no'} |"
            )
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
