"""Regenerate the golden regression data in ``tests/golden/<scenario>.json``.

The goldens pin a handful of summary statistics of one small run of the
baseline and of every scenario in ``configs/scenarios/``; ``tests/test_golden.py``
compares fresh runs against them. They change only deliberately: after a
change to the model or a shipped config that is *meant* to change results
(e.g. re-calibrating the baseline), run from the repository root::

    python tests/update_golden.py            # rewrite every golden file
    python tests/update_golden.py baseline   # or only the named ones

then look at ``git diff tests/golden`` and commit the new files with the
change that explains them. Never edit the JSON by hand, and never run this
to make an unexplained test failure go away.

Each scenario runs at a size chosen so that its scheduled days and roll-outs
fall inside the run (see :func:`golden_overrides`), in about 2 s or less.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GOLDEN_DIR = HERE / "golden"
CONFIG_PATHS = [
    REPO / "configs" / "baseline.toml",
    *sorted((REPO / "configs/scenarios").glob("*.toml")),
]

#: Daily integer columns summed over the run (compared exactly).
INT_SUMS = (
    "sessions",
    "orders",
    "rival_purchases",
    "gmv_cents",
    "customer_payments_cents",
    "consumer_surplus_cents",
    "prime_joins",
    "prime_cancels",
    "prime_renewals",
    "revenue_prime_cents",
    "revenue_referral_cents",
    "revenue_shipping_cents",
    "ad_revenue_cents",
    "ad_revenue_assistant_cents",
    "ad_clicks",
    "assistant_consults",
    "ads_recognised",
    "agentic_purchases",
    "external_agent_sessions",
    "dsi_revenue_cents",
    "causal_revenue_cents",
    "seller_profit_cents",
    "sellers_entered",
    "sellers_exited",
    "stations_opened",
    "cost_delivery_cents",
)
#: Daily integer columns on the last day (compared exactly).
INT_LAST = ("prime_members", "stations", "sellers_active", "products_active")
#: Daily float columns averaged over days where defined (compared to rel 1e-9).
FLOAT_MEANS = (
    "platform_share",
    "avg_price_cents",
    "delivered_quality",
    "mean_delivery_days",
    "sponsored_impression_share",
    "assistant_ad_pick_share",
    "mean_trust",
    "mean_habit",
)
REL_TOL = 1e-9


def golden_overrides(cfg: Any) -> dict[str, Any]:
    """Run size for a scenario's golden run: long enough to cover its schedule.

    800 customers for 60 days, unless the scenario has a scheduled change or a
    satellite roll-out later than that; then 30 days past the last such day
    (at least 300 days when a schedule exists) with 400 customers.
    """
    days = 60
    last = max([c.day for c in cfg.schedule] + [cfg.connectivity.satellite_start_day])
    if last >= days - 30:
        days = max(last + 30, 300 if cfg.schedule else 0)
    return {
        "run.n_customers": 800 if days <= 60 else 400,
        "run.days": days,
        "run.burn_in_days": 0,
    }


def golden_config(path: Path) -> Any:
    """The config of a scenario's golden run."""
    from sim.config import load_config

    base = load_config(path)
    return base.evolve(golden_overrides(base))


def summarize(daily: pl.DataFrame, customers: pl.DataFrame, sellers: pl.DataFrame) -> dict:
    """The statistics a golden file pins: exact integers and float means."""
    ints: dict[str, int | None] = {}
    for col in INT_SUMS:
        s = daily[col]
        ints[f"sum:{col}"] = None if s.null_count() == len(s) else int(s.sum())
    for col in INT_LAST:
        ints[f"last:{col}"] = int(daily[col][-1])
    ints["customers:spend_cents"] = int(
        customers["spend_member_cents"].sum() + customers["spend_nonmember_cents"].sum()
    )
    ints["customers:prime_ever"] = int((customers["prime_first_join_day"] >= 0).sum())
    ints["sellers:rows"] = sellers.height
    ints["sellers:profit_cents"] = int(sellers["profit_cents"].sum())
    floats: dict[str, float | None] = {}
    for col in FLOAT_MEANS:
        s = daily[col].fill_nan(None).drop_nulls()
        floats[f"mean:{col}"] = float(s.mean()) if len(s) else None  # type: ignore[arg-type]
    floats["customers:mean_final_trust"] = float(customers["final_trust"].mean())  # type: ignore[arg-type]
    return {"ints": ints, "floats": floats}


def golden_run(path: Path) -> dict:
    """Run a scenario's golden config and return its golden record."""
    from sim.runner import simulate

    cfg = golden_config(path)
    result = simulate(cfg)
    return {
        "scenario": path.stem,
        "config_file": str(path.relative_to(REPO)),
        "overrides": golden_overrides(cfg),
        "config_hash": cfg.hash(),
        **summarize(result.daily, result.customers, result.sellers),
    }


def floats_close(a: float | None, b: float | None) -> bool:
    """Equal within ``REL_TOL`` (both None counts as equal)."""
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=0.0)


def main(names: list[str]) -> int:
    """Rewrite the golden files of ``names`` (stems), or of every shipped config."""
    GOLDEN_DIR.mkdir(exist_ok=True)
    paths = [p for p in CONFIG_PATHS if not names or p.stem in names]
    unknown = set(names) - {p.stem for p in CONFIG_PATHS}
    if unknown:
        print(f"unknown scenario(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    for path in paths:
        record = golden_run(path)
        out = GOLDEN_DIR / f"{path.stem}.json"
        out.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        print(f"wrote {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main(sys.argv[1:]))
