"""Time one visualised day: the model's step (with its counterfactual twin) plus the redraw.

The redraw is what the page does after every step: redraw the map and the
charts with the painters of ``sim.viz`` and encode both as PNG. With
``--browser`` it also serves the page (``flywheel viz``) and times the Step
button in headless Chromium, from click to the new day on screen.

Usage::

    python bench/viz_bench.py                      # default size, writes bench/results_viz.md
    python bench/viz_bench.py --customers 20000 50000 100000 --browser
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
BUDGET_MS = 250.0


def time_headless(n_customers: int, days: int, warmup: int) -> dict[str, float]:
    """Median wall and CPU milliseconds per day of step, map redraw and charts redraw."""
    from sim import viz

    model = viz.VizModel(n_customers=n_customers)
    map_painter, charts_painter = viz.MapPainter(), viz.ChartsPainter()
    parts: dict[str, list[float]] = {k: [] for k in ("step", "map", "charts", "total")}
    cpu: list[float] = []
    for day in range(warmup + days):
        c0 = time.process_time()
        t0 = time.perf_counter()
        model.step()
        t1 = time.perf_counter()
        viz.figure_png(map_painter.draw(model, "platform_share"))
        t2 = time.perf_counter()
        viz.figure_png(charts_painter.draw(viz.chart_series(model.daily_rows)))
        t3 = time.perf_counter()
        c1 = time.process_time()
        if day >= warmup:
            parts["step"].append(t1 - t0)
            parts["map"].append(t2 - t1)
            parts["charts"].append(t3 - t2)
            parts["total"].append(t3 - t0)
            cpu.append(c1 - c0)
    out = {k: 1000 * float(np.median(v)) for k, v in parts.items()}
    out["total_p90"] = 1000 * float(np.percentile(parts["total"], 90))
    out["cpu"] = 1000 * float(np.median(cpu))
    out["twin"] = float(model.twin is not None)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def time_browser(clicks: int) -> float:
    """Median milliseconds from a Step click to the next day's status line in Chromium."""
    import tempfile
    import urllib.request

    from playwright.sync_api import sync_playwright

    port = _free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "viz", "--port", str(port)],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).close()
                break
            except OSError as err:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode(errors="replace")
                    raise RuntimeError(f"flywheel viz did not start ({err}):\n{output}") from None
                time.sleep(0.3)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1250})
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector(".fw-status", timeout=60_000)
            step = page.get_by_role("button", name="Step")
            # Time in the page itself (click event to status text change), so that
            # Playwright's own click handling is not counted.
            step.evaluate(
                """button => {
                    button.addEventListener("click", () => { window.__t0 = performance.now(); },
                                            true);
                    const status = document.querySelector(".fw-status");
                    new MutationObserver(() => { window.__t1 = performance.now(); })
                        .observe(status, {childList: true, subtree: true, characterData: true});
                }"""
            )
            times = []
            for day in range(1, clicks + 1):
                step.click()
                page.wait_for_function(
                    f"document.querySelector('.fw-status').innerText.startsWith('Day {day} ')",
                    polling="raf",
                    timeout=60_000,
                )
                times.append(page.evaluate("window.__t1 - window.__t0") / 1000)
            browser.close()
        return 1000 * float(np.median(times[2:]))
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)


def machine() -> str:
    """CPU, cores, load and versions, for the record (model_bench's, plus Solara's)."""
    import matplotlib
    import solara
    from model_bench import machine as bench_machine  # bench/ is on sys.path when run as a script

    m = bench_machine()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{m['cpu']}, {m['cores']} logical cores, {m['memory']}, load average {load} at start; "
        f"Python {m['python']}, {m['packages']}, Solara {solara.__version__}, "
        f"matplotlib {matplotlib.__version__}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, nargs="+", default=None)
    parser.add_argument("--days", type=int, default=60, help="timed days per size")
    parser.add_argument("--warmup", type=int, default=10, help="untimed days first")
    parser.add_argument("--browser", action="store_true", help="also time Step in Chromium")
    parser.add_argument("--clicks", type=int, default=15)
    parser.add_argument("--out", default=str(REPO / "bench" / "results_viz.md"))
    args = parser.parse_args(argv)

    from sim import viz

    default_n = viz.model_params()["n_customers"]["value"]
    sizes = args.customers or [default_n]
    header = machine()
    rows = []
    for n in sizes:
        r = time_headless(n, args.days, args.warmup)
        rows.append((n, r))
        print(
            f"{n:>7,} customers: step {r['step']:.1f} + map {r['map']:.1f} + charts "
            f"{r['charts']:.1f} = {r['total']:.1f} ms/day (p90 {r['total_p90']:.1f}, "
            f"CPU {r['cpu']:.1f})",
            flush=True,
        )
    browser_ms = time_browser(args.clicks) if args.browser else None
    if browser_ms is not None:
        print(f"browser: Step click to new day on screen {browser_ms:.0f} ms (median)")

    lines = [
        "# Visualiser: time of one simulated day",
        "",
        "Written by `python bench/viz_bench.py"
        + (" " + " ".join(argv) if argv else (" " + " ".join(sys.argv[1:])).rstrip())
        + "`.",
        "",
        f"Machine: {header}.",
        "",
        "One day = `model.step()` (the model and its counterfactual twin, assistant off,",
        "in lockstep) + redrawing the map and the six charts with the painters the page",
        "uses + PNG encoding of both. Medians over "
        f"{args.days} days after {args.warmup} warm-up days; the budget is {BUDGET_MS:.0f} ms.",
        "Wall time includes waiting for the CPU on a shared machine; CPU time does not.",
        "",
        "| customers | twin | step ms | map ms | charts ms | day ms (wall) | p90 ms "
        "| day ms (CPU) | within budget |",
        "|---:|:-:|---:|---:|---:|---:|---:|---:|:-:|",
    ]
    for n, r in rows:
        mark = " (default)" if n == default_n else ""
        lines.append(
            f"| {n:,}{mark} | {'yes' if r['twin'] else 'no'} | {r['step']:.1f} | {r['map']:.1f} "
            f"| {r['charts']:.1f} | {r['total']:.1f} | {r['total_p90']:.1f} | {r['cpu']:.1f} "
            f"| {'yes' if r['total'] < BUDGET_MS else 'no'} |"
        )
    if browser_ms is not None:
        lines += [
            "",
            f"In the browser (headless Chromium, default size): a Step click to the new day on "
            f"screen takes {browser_ms:.0f} ms (median of {args.clicks - 2} clicks, timed in the "
            "page from the click event to the status line's change): the day above plus the "
            "websocket round trip, Solara's re-render of the page and sending both images.",
        ]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
