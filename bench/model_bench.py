"""Performance benchmark: ``python bench/model_bench.py`` writes ``bench/results.md``.

Each scale runs the baseline config in a fresh child process pinned to one
thread (``OMP_NUM_THREADS=1``, ``POLARS_MAX_THREADS=1``), with outputs
written to a temporary folder, and reports wall time, customer-days per
second, shopping sessions per second, peak resident memory and a per-phase
profile of the day. In the parent process Mesa's own ``BoltzmannWealth``
example (10,000 agents, 100 steps) is timed as agent-steps per second for
comparison, the start-up cost (import plus building a 5,000-customer model)
is measured in fresh processes, and a local sweep of four 100k x 3-year runs
on two workers gives the sweep throughput in runs per hour (``--no-sweep``
skips it). With ``--events`` the streaming of ``events.parquet`` is checked:
peak memory at 1M customers for N and 2N days should not grow with the
number of days.

The figures are measurements, never test assertions; the targets they are
compared with come from the project's performance issue.

Examples
--------
``python bench/model_bench.py --quick`` (10k and 100k only, a few minutes), or
``python bench/model_bench.py`` (all scales, about a quarter of an hour).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["main"]

SCALES: dict[str, tuple[int, int]] = {
    "10k": (10_000, 365),
    "100k": (100_000, 365),
    "1M": (1_000_000, 365),
    "10M": (10_000_000, 30),
}
PHASES = (
    "needs",
    "channel",
    "search_auctions",
    "assistant",
    "choice",
    "delivery",
    "rival",
    "prime",
    "sellers",
    "advertisers",
    "logistics",
    "record",
    "output",
)
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "POLARS_MAX_THREADS": "1",
}


def _child_run(n: int, days: int, config: str, events: bool) -> dict[str, Any]:
    """Run one scale in this (child) process and return its figures."""
    import resource

    from sim.config import load_config
    from sim.runner import simulate

    cfg = load_config(
        config, overrides={"run.n_customers": n, "run.days": days, "run.burn_in_days": 0}
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = simulate(cfg, out_dir=Path(tmp) / "run", events=events, profile_phases=True)
        wall = time.perf_counter() - t0
    sessions = int(result.daily["sessions"].sum())
    return {
        "customers": n,
        "days": days,
        "wall_s": wall,
        "events": events,
        "twin": cfg.attribution.counterfactual_twin and cfg.assistant.enabled,
        "customer_days_per_s": n * days / wall,
        "sessions": sessions,
        "sessions_per_s": sessions / wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "phase_seconds": result.manifest["phase_seconds"],
    }


def _startup() -> dict[str, float]:
    """Import plus building a 5,000-customer model, in this fresh process."""
    t0 = time.perf_counter()
    from sim.model import MarketplaceModel

    t1 = time.perf_counter()
    MarketplaceModel(n_customers=5000)
    t2 = time.perf_counter()
    return {"import_s": t1 - t0, "build_s": t2 - t1, "total_s": t2 - t0}


def _in_child(args: list[str], **env_vars: str) -> dict[str, Any]:
    env = {**os.environ, **ONE_THREAD, **env_vars}
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"benchmark child {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def boltzmann_agent_steps_per_s(n: int = 10_000, steps: int = 100) -> float:
    """Mesa's BoltzmannWealth example timed as agent-steps per second."""
    from mesa.examples import BoltzmannWealth

    model = BoltzmannWealth(n=n, width=100, height=100, seed=1)
    t0 = time.perf_counter()
    for _ in range(steps):
        model.step()
    return n * steps / (time.perf_counter() - t0)


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    import psutil

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from sim.output import code_version, package_versions

    pk = package_versions()
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "python": pk["python"],
        "packages": ", ".join(f"{k} {v}" for k, v in pk.items() if k != "python"),
        "code": code_version(),
    }


def _report(
    rows: dict[str, dict],
    boltz: float,
    start: dict,
    events: list[dict] | None,
    info: dict[str, str],
    config: str,
    sweep: dict[str, Any] | None = None,
) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `python bench/model_bench.py` (config `{config}`, every scale in a fresh "
        "process on one thread, outputs written).",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += [
        "",
        "## Scales",
        "",
        "| scale | customers | days | twin | wall (s) | customer-days/s | sessions/s "
        "| peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['customers']:,} | {r['days']} | {'yes' if r['twin'] else 'no'} "
            f"| {r['wall_s']:.1f} | {r['customer_days_per_s']:,.0f} | {r['sessions_per_s']:,.0f} "
            f"| {r['peak_rss_mb']:,.0f} |"
        )
    lines += [
        "",
        "## Time per phase of the day (s, model and twin together)",
        "",
        "| phase | " + " | ".join(rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for ph in PHASES:
        cells = [f"{r['phase_seconds'].get(ph, 0.0):.2f}" for r in rows.values()]
        lines.append(f"| {ph} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Mesa comparison and start-up",
        "",
        f"- Mesa BoltzmannWealth (10,000 agents, 100 steps): {boltz:,.0f} agent-steps/s",
        f"- start-up (import + 5,000-customer model): {start['total_s']:.2f} s "
        f"(import {start['import_s']:.2f} s, build {start['build_s']:.2f} s), with the "
        "compiled kernels of sim/kernels.py cached; the first start on a machine (or after "
        f"a change to sim/kernels.py) compiles them: {start['first_total_s']:.2f} s",
    ]
    for name, r in rows.items():
        lines.append(f"- {name}: {r['customer_days_per_s'] / boltz:.1f}x Boltzmann's agent-steps/s")
    if events:
        lines += [
            "",
            "## events.parquet streaming at 1M customers",
            "",
            "| days | wall (s) | sessions/s | peak RSS (MB) |",
            "|---|---|---|---|",
        ]
        for r in events:
            lines.append(
                f"| {r['days']} | {r['wall_s']:.1f} | {r['sessions_per_s']:,.0f} "
                f"| {r['peak_rss_mb']:,.0f} |"
            )
    lines += ["", "## Targets", "", "| target | figure | met |", "|---|---|---|"]

    def target(text: str, figure: str, ok: bool | None) -> None:
        lines.append(f"| {text} | {figure} | {'n/a' if ok is None else ('yes' if ok else 'NO')} |")

    m1 = rows.get("1M")
    if m1:
        target("1M x 365 with the twin at most 60 s", f"{m1['wall_s']:.0f} s", m1["wall_s"] <= 60)
        target(
            "1M x 365 at most 15% slower than before keyed draws (109 s, so 125 s)",
            f"{m1['wall_s']:.0f} s",
            m1["wall_s"] <= 109 * 1.15,
        )
        target(
            "1M x 365 at most 2 GB",
            f"{m1['peak_rss_mb'] / 1024:.2f} GB",
            m1["peak_rss_mb"] <= 2 * 1024,
        )
        phases = {k: v for k, v in m1["phase_seconds"].items() if k != "output"}
        top = max(phases, key=phases.__getitem__)
        share = phases[top] / sum(phases.values())
        target("no phase above 30% of the day (1M)", f"{top} {share:.1%}", share <= 0.30)
        if "100k" in rows:
            ratio = rows["100k"]["customer_days_per_s"] / m1["customer_days_per_s"]
            target("cost per customer-day at 1M within 1.5x of 100k", f"{ratio:.2f}x", ratio <= 1.5)
    m10 = rows.get("10M")
    if m10:
        target(
            "10M x 30 under 20 GB",
            f"{m10['peak_rss_mb'] / 1024:.2f} GB",
            m10["peak_rss_mb"] < 20 * 1024,
        )
    best = max(r["customer_days_per_s"] for r in rows.values())
    target(
        "customer-days/s at least 5x Boltzmann agent-steps/s",
        f"{best / boltz:.1f}x",
        best / boltz >= 5,
    )
    if events and len(events) == 2:
        grow = events[1]["peak_rss_mb"] / events[0]["peak_rss_mb"]
        target("events memory does not grow with days (2N vs N days)", f"{grow:.2f}x", grow < 1.15)
    target("start-up under 2 s", f"{start['total_s']:.2f} s", start["total_s"] < 2)
    if sweep:
        target(
            f"sweep throughput, {sweep['customers'] // 1000}k x {sweep['days'] // 365} years "
            f"with {sweep['workers']} workers",
            f"{sweep['runs_per_hour']:.0f} runs/h "
            f"(1,000 runs: {1000 / sweep['runs_per_hour']:.1f} h)",
            None,
        )
    return "\n".join(lines) + "\n"


def sweep_throughput(
    config: str, runs: int = 4, workers: int = 2, customers: int = 100_000, days: int = 1095
) -> dict[str, Any]:
    """Runs per hour of a local sweep of ``runs`` replicates of ``config`` (with its twin)."""
    from sim.experiments import load_sweep, run_sweep

    text = f"""
base = {json.dumps(str(Path(config).resolve().as_posix()))}
name = "throughput"
root_seed = 20261204
replicates = {runs}

[constants]
"run.n_customers" = {customers}
"run.days" = {days}
"""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sweep.toml"
        path.write_text(text)
        sweep = load_sweep(path)
        t0 = time.perf_counter()
        report = run_sweep(sweep, Path(tmp) / "out", workers=workers, progress=False)
        wall = time.perf_counter() - t0
    if not report.ok:
        raise RuntimeError(f"throughput sweep: {report.n_failed} runs failed")
    return {
        "runs": runs,
        "workers": workers,
        "customers": customers,
        "days": days,
        "wall_s": wall,
        "runs_per_hour": runs / wall * 3600,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write its results file."""
    p = argparse.ArgumentParser(
        prog="python bench/model_bench.py", description=__doc__.split("\n")[0]
    )
    p.add_argument("--config", default="configs/baseline.toml")
    p.add_argument("--scales", default=",".join(SCALES), help="comma list of " + ", ".join(SCALES))
    p.add_argument("--quick", action="store_true", help="only 10k and 100k")
    p.add_argument("--events", action="store_true", help="also check events streaming at 1M")
    p.add_argument("--out", default="bench/results.md")
    p.add_argument(
        "--no-sweep", action="store_true", help="skip the sweep throughput (100k x 3 years)"
    )
    p.add_argument("--one", nargs=2, type=int, metavar=("N", "DAYS"), help=argparse.SUPPRESS)
    p.add_argument("--with-events", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--startup", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        n, days = args.one
        print(json.dumps(_child_run(n, days, args.config, args.with_events)))
        return 0
    if args.startup:
        print(json.dumps(_startup()))
        return 0
    names = ["10k", "100k"] if args.quick else [s for s in args.scales.split(",") if s]
    unknown = [s for s in names if s not in SCALES]
    if unknown:
        p.error(f"--scales: unknown {unknown}; allowed: {', '.join(SCALES)}")
    rows = {}
    for name in names:
        n, days = SCALES[name]
        print(f"{name}: {n:,} customers x {days} days ...", flush=True)
        rows[name] = _in_child(["--one", str(n), str(days), "--config", args.config])
        print(f"  {rows[name]['wall_s']:.1f} s, {rows[name]['peak_rss_mb']:,.0f} MB", flush=True)
    events = None
    if args.events:
        events = [
            _in_child(["--one", "1000000", str(d), "--with-events", "--config", args.config])
            for d in (60, 120)
        ]
    # start-up with the compiled kernels cached (as after the first run on a machine),
    # and the first start in a fresh cache, when sim/kernels.py is compiled
    with tempfile.TemporaryDirectory() as cache:
        cold = _in_child(["--startup"], NUMBA_CACHE_DIR=cache)
        start = _in_child(["--startup"], NUMBA_CACHE_DIR=cache)
    start["first_total_s"] = cold["total_s"]
    boltz = boltzmann_agent_steps_per_s()
    sweep = None
    if not args.no_sweep:
        print("sweep throughput: 4 runs of 100k x 3 years, 2 workers ...", flush=True)
        sweep = sweep_throughput(args.config)
    text = _report(rows, boltz, start, events, machine(), args.config, sweep)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
