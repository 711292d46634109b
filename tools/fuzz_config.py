"""Every numeric config key at every extreme value of the fuzz test, exhaustively.

The suite's Hypothesis test (``tests/test_cli.py``) samples 60 of these
combinations per run; this pass runs all of them (169 keys x 13 values, about
two minutes on two workers) through ``flywheel run`` at 300 customers for 4
days and prints each combination that

* raises instead of exiting 0 or 2, or exits otherwise,
* exits 2 with more than one line or a line that does not name the key,
* exits 0 with a negative money total in ``daily.parquet``, or
* emits a ``RuntimeWarning`` (an overflow, 0/0 or an invalid cast on the way).

Its exit code is 1 when anything was printed. Usage::

    python tools/fuzz_config.py              # 2 workers
    python tools/fuzz_config.py --workers 1
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import sys
import tempfile
import warnings
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The fuzz test's extreme values (tests/test_cli.py::_EXTREMES).
VALUES = (0, -1, 1, 2**31, 2**63 - 1, 2**63, 1e308, -1e308, 1e-308, 0.5, 1e6, 1e9, 100)
MONEY = (
    "gmv_cents",
    "revenue_prime_cents",
    "ad_revenue_cents",
    "customer_payments_cents",
    "cost_delivery_cents",
    "revenue_shipping_cents",
)


def keys() -> list[str]:
    """The numeric keys the fuzz test draws from (every section but ``run``)."""
    from sim.config import SECTIONS

    return [
        f"{name}.{f.name}"
        for name, cls in SECTIONS.items()
        for f in dataclasses.fields(cls)
        if f.type in ("int", "float") and name != "run"
    ]


def check(case: tuple[str, object]) -> str | None:
    """What is wrong with ``flywheel run ... --set key=value`` (None if nothing)."""
    import polars as pl

    from sim.cli import main

    key, value = case
    argv = ["run", str(ROOT / "configs" / "baseline.toml"), "--days", "4",
            "--set", "run.n_customers=300", "--set", "run.burn_in_days=0",
            "--set", "attribution.counterfactual_twin=false",
            "--set", f"{key}={value}"]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = Path(tmp) / "run"
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main([*argv, "--out", str(out)])
        except BaseException as exc:  # any escape is a finding
            return f"{key}={value}: raised {type(exc).__name__}: {str(exc)[:160]}"
        lines = err.getvalue().strip().splitlines()
        if code not in (0, 2):
            return f"{key}={value}: exit {code}"
        if code == 2 and (len(lines) != 1 or key not in lines[0]):
            return f"{key}={value}: exit 2 with {lines[:2]}"
        if code == 0:
            daily = pl.read_parquet(out / "daily.parquet")
            negative = [c for c in MONEY if daily[c].min() < 0]
            if negative:
                return f"{key}={value}: negative {negative}"
    runtime = sorted(
        {
            f"{w.message} ({Path(w.filename).name}:{w.lineno})"
            for w in caught
            if issubclass(w.category, RuntimeWarning)
        }
    )
    return f"{key}={value}: RuntimeWarning {'; '.join(runtime)}" if runtime else None


def main(argv: list[str] | None = None) -> int:
    """Run every combination; print the findings; 1 if there were any."""
    p = argparse.ArgumentParser(prog="python tools/fuzz_config.py", description=__doc__)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    cases = [(k, v) for k in keys() for v in VALUES]
    findings = 0
    with Pool(max(1, args.workers)) as pool:
        for found in pool.imap_unordered(check, cases, chunksize=8):
            if found:
                findings += 1
                print(found, flush=True)
    print(f"{len(cases)} combinations, {findings} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
