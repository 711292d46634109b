"""The ``validate`` command: facts table, markdown output, exit codes."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from sim.cli import main
from sim.config import Config
from sim.validate import (
    FACTS,
    FactRow,
    delivery_response,
    derive_seeds,
    f7_window,
    faster_delivery,
    format_table,
    measure_f7,
    summarise,
)

SMALL = ["--set", "run.n_customers=1000", "--set", "run.days=60", "--set", "run.burn_in_days=10"]


def _parse(md: str) -> dict[str, dict[str, str]]:
    rows = {}
    for line in md.splitlines():
        m = re.match(r"^\|\s*(F\d+)\s*\|", line)
        if m:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows[m.group(1)] = dict(
                zip(
                    ["fact", "desc", "unit", "lo", "hi", "mean", "ci_lo", "ci_hi", "n", "inside"],
                    cells,
                    strict=True,
                )
            )
    return rows


@pytest.mark.slow
def test_validate_writes_a_consistent_table(tmp_path: Path, capsys) -> None:
    """A small validate run writes one row per fact whose inside flag matches band and mean."""
    out = tmp_path / "v.md"
    code = main(["validate", "--seeds", "2", "--out", str(out), *SMALL])
    assert out.exists()
    rows = _parse(out.read_text())
    assert sorted(rows, key=lambda k: int(k[1:])) == [f"F{i}" for i in range(1, len(FACTS) + 1)]
    any_outside = False
    for key, r in rows.items():
        lo, hi, mean = float(r["lo"]), float(r["hi"]), float(r["mean"])
        assert (lo, hi) == pytest.approx((FACTS[key].lo, FACTS[key].hi))
        assert r["inside"] in {"yes", "no"}
        inside = math.isfinite(mean) and lo <= mean <= hi
        # the table prints the mean rounded: at a band's edge its flag is the unrounded one
        decimals = len(r["mean"].split(".")[1]) if "." in r["mean"] else 0
        at_edge = min(abs(mean - lo), abs(mean - hi)) <= 0.5 * 10.0**-decimals
        assert at_edge or (r["inside"] == "yes") == inside, key
        inside = r["inside"] == "yes"
        any_outside |= not inside
        assert int(r["n"]) <= 2
    assert code == (1 if any_outside else 0)
    assert "| F1 |" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "--set", "run.n_customers=-5"],
        ["validate", "--set", "no_such.key=1"],
        ["validate", "missing-config.toml"],
        ["validate", "--seeds", "0"],
    ],
)
def test_validate_bad_input_is_one_line_exit_2(argv, tmp_path: Path, capsys) -> None:
    """Bad config, key or seed count: exit 2, one line on stderr, no table written."""
    out = tmp_path / "v.md"
    try:
        code = main([*argv, "--out", str(out)])
    except SystemExit as exc:  # argparse errors exit directly
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err and len(err.splitlines()) == 1
    assert not out.exists()


def test_summarise_interval_and_inside() -> None:
    """The mean is inside when within the band; the 95% interval brackets the mean."""
    per_seed = [dict.fromkeys(FACTS, 0.0) for _ in range(3)]
    for i, r in enumerate(per_seed):
        r["F1"] = 0.65 + 0.01 * i
    rows = {r.fact.key: r for r in summarise(per_seed)}
    f1 = rows["F1"]
    assert f1.inside and f1.lo95 < f1.mean < f1.hi95
    assert not rows["F3"].inside
    assert np.isclose(f1.mean, 0.66)


def test_nan_is_outside_and_printed() -> None:
    """A fact that could not be measured is reported as nan and counted outside."""
    row = FactRow(FACTS["F7"], math.nan, math.nan, math.nan, 0)
    assert not row.inside
    assert "| F7 |" in format_table([row]) and "nan" in format_table([row])


def test_seeds_are_derived_and_distinct() -> None:
    """Seeds come from the root seed's SeedSequence: reproducible and distinct."""
    a = derive_seeds(20261121, 5)
    assert a == derive_seeds(20261121, 5) and len(set(a)) == 5
    assert a != derive_seeds(1, 5)


def test_faster_delivery_is_a_scheduled_change_at_burn_in() -> None:
    """The F7 counterfactual shortens the three promises by one day from the burn-in day only."""
    cfg = Config().evolve({"run.days": 200, "run.burn_in_days": 40})
    fast = faster_delivery(cfg)
    assert f7_window(cfg) == (40, 70) and fast.run.days == 70
    assert fast.schedule[-1].day == 40
    before, after = fast.at_day(39), fast.at_day(40)
    assert before.logistics == cfg.logistics and before.prime == cfg.prime
    assert after.logistics.standard_days == cfg.logistics.standard_days - 1
    assert after.logistics.self_fulfilled_days == cfg.logistics.self_fulfilled_days - 1
    assert after.prime.nonmember_days == cfg.prime.nonmember_days - 1


def test_delivery_response_uses_the_window_only() -> None:
    """F7 compares orders and delivery days inside the window, ignoring days outside it."""

    class R:
        def __init__(self, orders: list[int], days: list[float]) -> None:
            self.daily = pl.DataFrame(
                {"day": list(range(len(orders))), "orders": orders, "mean_delivery_days": days}
            )

    base = R([100, 100, 100, 999], [3.0, 3.0, 3.0, 3.0])
    fast = R([100, 102, 102, 1], [3.0, 2.0, 2.0, 1.0])
    assert delivery_response(base, fast, 1, 3) == pytest.approx(2.0)
    assert math.isnan(delivery_response(base, base, 1, 3))


@pytest.mark.slow
def test_measure_f7_is_finite_and_paired() -> None:
    """On a small run the scheduled speed-up gives a finite F7."""
    cfg = Config().evolve(
        {
            "run.n_customers": 1000,
            "run.days": 40,
            "run.burn_in_days": 10,
            "attribution.counterfactual_twin": False,
        }
    )
    assert math.isfinite(measure_f7(cfg, seed=3))


def test_the_repository_facts_table_is_generated_from_the_facts_validate_reads() -> None:
    """docs/FACTS.md is what ``flywheel validate --write-facts`` writes (regenerate it
    after changing ``sim.validate.FACTS``)."""
    from sim.validate import facts_markdown

    path = Path(__file__).resolve().parents[1] / "docs" / "FACTS.md"
    assert path.read_text() == facts_markdown()


def test_validate_measures_and_warns_about_drift_after_burn_in() -> None:
    """A series that climbs 0.01 a month drifts about 12 pp a year and is warned about;
    flat series are not."""
    from sim.validate import drift_warnings, trends

    days = np.arange(300)
    d = pl.DataFrame(
        {
            "day": days,
            "platform_share": 0.6 + 0.01 * days / 30,
            "prime_share_active": np.full(300, 0.6),
            "sellers_active": np.full(300, 200),
        }
    )
    t = trends(d)
    assert abs(t["trend_platform_share"] - 12.17) < 0.05
    assert abs(t["trend_prime_share"]) < 1e-9 and abs(t["trend_sellers"]) < 1e-9
    warnings = drift_warnings([t, t])
    assert len(warnings) == 1 and "platform share" in warnings[0]
