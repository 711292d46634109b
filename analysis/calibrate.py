"""Calibrate the baseline's mechanism parameters to the public facts F1-F12.

A reproducible search, not hand-tuning: two stages of Latin-hypercube
sampling (``scipy.stats.qmc.LatinHypercube`` with a fixed seed) over the
mechanism parameters in :data:`SPACE`, each candidate run on a reduced model
(10,000 customers, the full 365 days so that the end-of-year facts F1 and F11
mean the same as in the baseline) for two seeds derived from the baseline's
root seed. A candidate's score is the mean over seeds of

    sum over facts of  max(0, |x - centre| / half_width - 1)**2
                       + 0.05 * (|x - centre| / half_width)**2

(zero cost inside a band except a gentle pull to its centre; quadratic
outside). F7 needs a paired run per seed and is left to ``flywheel
validate``. Stage 2 samples again in a box a quarter as wide around the best
stage-1 candidate. The best candidate overall is printed and written as
dotted overrides to ``runs/calibrate/chosen.toml`` (plus every candidate's
facts to ``runs/calibrate/candidates.csv``); the chosen values are then copied
into ``configs/baseline.toml`` by hand (values only).

Outputs measured by the search are the facts of :mod:`sim.validate`;
nothing in the model reads a target. Only behavioural and economic
parameters are searched (Prime value and frictions, seller costs and markups,
search patience and clicks, ad budgets, slots and reserve, assistant
propensity); no output is forced.

Run: ``python analysis/calibrate.py [--candidates 32] [--refine 16]
[--customers 10000] [--days 365] [--seeds 2] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import math
import multiprocessing
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import qmc

from sim.config import Config, load_config
from sim.validate import FACTS, compute_facts, derive_seeds

#: Searched parameters: (dotted key, low, high, kind). ``kind`` is "float",
#: "int" or "choice" (then low/high index :data:`CHOICES`).
SPACE: list[tuple[str, float, float, str]] = [
    ("prime.offer_rate", 0.1, 0.5, "float"),
    ("prime.other_benefits_cents_per_month", 500, 1400, "int"),
    ("prime.status_quo_bias_cents", 0, 800, "int"),
    ("prime.cancellation_friction_cents", 0, 500, "int"),
    ("prime.decision_noise_cents", 120, 500, "int"),
    ("sellers.unit_cost_share", 0.25, 0.45, "float"),
    ("sellers.markup_rate", 0.9, 2.0, "float"),
    ("sellers.platform_markup_rate", 0.5, 1.6, "float"),
    ("sellers.daily_fixed_cost_cents", 100, 800, "int"),
    ("ads.budget_share_of_revenue", 0.05, 0.4, "float"),
    ("ads.target_acos_mean", 0.2, 0.4, "float"),
    ("ads.reserve_cents", 10, 60, "int"),
    ("search.sponsored_positions", 0, 2.999, "choice"),
    ("customers.patience_mean", 0.6, 0.8, "float"),
    ("customers.click_base", 0.4, 0.7, "float"),
    ("customers.assistant_propensity_mean", 0.2, 0.5, "float"),
]

CHOICES: dict[str, list[Any]] = {
    "search.sponsored_positions": [[0, 1, 5, 8], [0, 1, 2, 6, 9], [0, 1, 2, 5, 8, 11]],
}

SCORED = [k for k in FACTS if k != "F7"]
SEARCH_SEED = 20261121


def decode(unit: np.ndarray, space: list[tuple[str, float, float, str]]) -> dict[str, Any]:
    """Dotted overrides from a point of the unit hypercube."""
    out: dict[str, Any] = {}
    for u, (key, lo, hi, kind) in zip(unit, space, strict=True):
        x = lo + float(u) * (hi - lo)
        if kind == "int":
            out[key] = round(x)
        elif kind == "choice":
            out[key] = CHOICES[key][math.floor(x)]
        else:
            out[key] = round(float(x), 4)
    return out


def score(facts: dict[str, float]) -> float:
    """Distance of one run's facts to their bands (see the module docstring)."""
    total = 0.0
    for key in SCORED:
        f = FACTS[key]
        x = facts.get(key, math.nan)
        if not math.isfinite(x):
            total += 25.0
            continue
        z = abs(x - f.centre) / (0.5 * (f.hi - f.lo))
        total += max(0.0, z - 1.0) ** 2 + 0.05 * z * z
    return total


def _run(cfg: Config, changes: dict[str, Any], seed: int) -> dict[str, float]:
    from sim.runner import simulate

    return compute_facts(simulate(cfg.evolve(changes), seed=seed))


def evaluate(
    cfg: Config, candidates: list[dict[str, Any]], seeds: list[int], workers: int
) -> list[dict[str, Any]]:
    """Facts (mean over seeds) and score of every candidate."""
    jobs = [(i, s) for i in range(len(candidates)) for s in seeds]
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        facts = list(
            pool.map(
                _run, [cfg] * len(jobs), [candidates[i] for i, _ in jobs], [s for _, s in jobs]
            )
        )
    out = []
    for i, changes in enumerate(candidates):
        mine = [f for (j, _), f in zip(jobs, facts, strict=True) if j == i]
        mean = {k: float(np.nanmean([f[k] for f in mine])) for k in mine[0]}
        out.append(
            {"changes": changes, "facts": mean, "score": float(np.mean([score(f) for f in mine]))}
        )
    return out


def _shrunk(space, best_unit: np.ndarray, factor: float):
    """The search box ``factor`` as wide, centred on ``best_unit`` (clipped to the space)."""
    new = []
    for u, (key, lo, hi, kind) in zip(best_unit, space, strict=True):
        if kind == "choice":
            k = math.floor(lo + u * (hi - lo))
            new.append((key, k, k + 0.999, kind))
            continue
        width = (hi - lo) * factor
        centre = lo + u * (hi - lo)
        a = max(lo, centre - width / 2)
        b = min(hi, centre + width / 2)
        new.append((key, a, b, kind))
    return new


def _toml_value(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(str(x) for x in v) + "]"
    return repr(v)


def main(argv: list[str] | None = None) -> int:
    """Run the two-stage search and write the chosen values."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="configs/baseline.toml")
    ap.add_argument("--candidates", type=int, default=32, help="stage-1 samples")
    ap.add_argument("--refine", type=int, default=16, help="stage-2 samples")
    ap.add_argument("--customers", type=int, default=10000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="runs/calibrate")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    base = load_config(args.config).evolve(
        {
            "run.n_customers": args.customers,
            "run.days": args.days,
            "attribution.counterfactual_twin": False,
        }
    )
    seeds = derive_seeds(base.run.seed, args.seeds)
    results: list[dict[str, Any]] = []
    space = SPACE
    units_all: list[np.ndarray] = []
    for stage, n in ((1, args.candidates), (2, args.refine)):
        if n <= 0:
            continue
        sampler = qmc.LatinHypercube(d=len(space), seed=SEARCH_SEED + stage)
        units = sampler.random(n)
        cands = [decode(u, space) for u in units]
        res = evaluate(base, cands, seeds, args.workers)
        for r, u in zip(res, units, strict=True):
            r["stage"] = stage
            # position of this candidate in the *original* space (for refinement)
            r["unit"] = np.array(
                [
                    (lo2 + ui * (hi2 - lo2) - lo) / (hi - lo)
                    for ui, (_, lo2, hi2, _k), (_, lo, hi, _k2) in zip(u, space, SPACE, strict=True)
                ]
            )
        results += res
        units_all.append(units)
        best = min(results, key=lambda r: r["score"])
        print(
            f"stage {stage}: {n} candidates x {len(seeds)} seeds, best score "
            f"{best['score']:.3f} ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
        space = _shrunk(SPACE, best["unit"], 0.25)

    best = min(results, key=lambda r: r["score"])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "candidates.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        keys = [k for k, *_ in SPACE]
        w.writerow(["stage", "score", *keys, *FACTS])
        for r in results:
            w.writerow(
                [r["stage"], round(r["score"], 4)]
                + [_toml_value(r["changes"][k]) for k in keys]
                + [round(r["facts"].get(k, math.nan), 4) for k in FACTS]
            )
    lines = [f"# chosen by analysis/calibrate.py (score {best['score']:.3f})"]
    lines += [f'"{k}" = {_toml_value(v)}' for k, v in best["changes"].items()]
    (out / "chosen.toml").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print("facts of the chosen candidate (reduced model, mean over seeds):")
    for k in SCORED:
        f = FACTS[k]
        x = best["facts"][k]
        flag = "in" if f.lo <= x <= f.hi else "OUT"
        print(f"  {k:>4} {x:8.3f}  band {f.lo:g}-{f.hi:g}  {flag}")
    print(f"runtime {time.perf_counter() - t0:.0f} s; written to {out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
