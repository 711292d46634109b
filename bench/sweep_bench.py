"""Sweep throughput with 1 worker and with N workers on this machine.

Runs the same sweep (two scenarios x replicates of the baseline, 16 runs by
default, each a few seconds long so that pool start-up is amortised) once
serially in process (``--workers 1``) and once on a local process pool, checks
that both wrote byte-identical tables, and writes runs per minute, their ratio
and the machine's details to ``bench/results_sweep.md``.

Usage::

    python bench/sweep_bench.py                 # 16 runs, 1 vs 2 workers
    python bench/sweep_bench.py --replicates 4 --workers 4 --customers 10000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _sweep_text(replicates: int, customers: int, days: int) -> str:
    return f"""
base = {json.dumps((ROOT / "configs" / "baseline.toml").as_posix())}
name = "bench"
root_seed = 20261121
replicates = {replicates}
outcomes = ["gmv_cents", "platform_share"]

[constants]
"run.n_customers" = {customers}
"run.days" = {days}

[scenarios.assistant_on]
"assistant.enabled" = true

[scenarios.assistant_off]
"assistant.enabled" = false
"""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _machine() -> list[str]:
    import psutil

    from sim.output import code_version, package_versions

    versions = dict(package_versions())
    from importlib.metadata import PackageNotFoundError, version

    for name in ("dask", "distributed", "SALib", "scipy"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return [
        f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"- CPU: {_cpu_model()}; {psutil.cpu_count(logical=False)} physical cores, "
        f"{psutil.cpu_count()} logical, {usable} usable by this process",
        f"- RAM: {psutil.virtual_memory().total / 2**30:.1f} GiB",
        f"- OS: {platform.platform()}",
        "- load average (1, 5, 15 min) at the end: "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg())
        + " (the benchmark's own workers included)",
        f"- code version: {code_version()}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
    ]


def _own_cpu() -> float:
    """CPU seconds of this process and its waited-for children (the pool's workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _busy_cpu() -> float:
    """CPU seconds the whole machine has been busy."""
    import psutil

    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def _tables(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for name in ("daily", "customers", "sellers")
        for p in sorted(out.rglob(f"{name}.parquet"))
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the results file; the exit code is 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=8, help="per scenario (2 scenarios)")
    parser.add_argument("--customers", type=int, default=80000, help="run.n_customers")
    parser.add_argument("--days", type=int, default=365, help="run.days")
    parser.add_argument("--workers", type=int, default=2, help="workers of the parallel pass")
    parser.add_argument(
        "--results", type=Path, default=ROOT / "bench" / "results_sweep.md", help="output file"
    )
    args = parser.parse_args(argv)

    from sim.experiments import load_sweep, run_sweep

    work = Path(tempfile.mkdtemp(prefix="flywheel-sweep-bench-"))
    try:
        sweep_file = work / "bench.toml"
        sweep_file.write_text(_sweep_text(args.replicates, args.customers, args.days))
        sweep = load_sweep(sweep_file)
        n = len(sweep.runs)
        timings: dict[int, float] = {}
        run_walls: dict[int, list[float]] = {}
        loads: dict[int, float] = {}
        others: dict[int, float] = {}
        cpu: dict[int, float] = {}
        for workers in (1, args.workers):
            out = work / f"w{workers}"
            loads[workers] = os.getloadavg()[0]
            own, busy = _own_cpu(), _busy_cpu()
            start = time.perf_counter()
            report = run_sweep(sweep, out, workers=workers, progress=True)
            timings[workers] = time.perf_counter() - start
            cpu[workers] = _own_cpu() - own
            others[workers] = (_busy_cpu() - busy) - cpu[workers]
            if not report.ok:
                print(f"bench: {report.n_failed} runs failed; see {out}", file=sys.stderr)
                return 1
            record = json.loads((out / "sweep.json").read_text())
            run_walls[workers] = [r["wall_seconds"] for r in record["runs"]]
        identical = _tables(work / "w1") == _tables(work / f"w{args.workers}")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rate = {w: n / t * 60 for w, t in timings.items()}
    ratio = rate[args.workers] / rate[1]
    mean_run = {w: sum(v) / len(v) for w, v in run_walls.items()}
    lines = [
        "# Sweep throughput",
        "",
        f"`python bench/sweep_bench.py` — {n} runs (2 scenarios x {args.replicates} replicates "
        f"of `configs/baseline.toml` with run.n_customers = {args.customers}, "
        f"run.days = {args.days}), local backend. Wall time includes pool start-up, "
        "sweep.json and summary.parquet.",
        "",
        "| workers | wall (s) | runs/min | mean run (s) | sweep CPU (s) | others' CPU (s) "
        "| load avg before |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {w} | {timings[w]:.1f} | {rate[w]:.2f} | {mean_run[w]:.2f} | {cpu[w]:.1f} "
            f"| {others[w]:.1f} | {loads[w]:.2f} |"
            for w in (1, args.workers)
        ),
        "",
        f"Throughput ratio {args.workers} workers / 1 worker: **{ratio:.2f}** "
        "(target >= 1.8 with 2 workers).",
        f"Tables of the two passes byte-identical: {'yes' if identical else 'NO'}.",
        "",
        f"CPU seconds of the sweep, 1 worker / {args.workers} workers: "
        f"**{cpu[1] / cpu[args.workers]:.2f}** (1.00 = the pool adds no work).",
        "",
        "*sweep CPU*: CPU seconds of the benchmark process and its pool workers. "
        "*others' CPU*: CPU seconds that processes outside the benchmark used during the "
        "pass (machine busy time minus the sweep's). Well above zero means the machine was "
        "shared and the wall-time ratio understates the sweep's scaling.",
        "",
        "## Machine",
        "",
        *_machine(),
        "",
    ]
    args.results.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
