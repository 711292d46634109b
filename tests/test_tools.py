"""The maintainers' tools: the steady-state measurement, the overhead rate and writing
values into a config."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import BASELINE, small_config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

from calibrate import apply_to_config
from overhead_rate import _totals, overhead_rate
from sample_size import compare, markdown
from steady_state import LEVELS, steady_state

from sim.config import load_config


def test_steady_state_reports_levels_drift_and_the_initial_state() -> None:
    """Two seeds of a small two-year run: every level is measured, the drift is given
    for every burn-in that leaves a year, and the initial state is built from the levels."""
    cfg = small_config(run__n_customers=1000, run__days=730, attribution__counterfactual_twin=False)
    out = steady_state(cfg, [1, 2], window=180, workers=1)
    assert set(out["levels"]) == set(LEVELS)
    assert 0 < out["levels"]["mean_habit"] < 1 and out["levels"]["sellers_active"] > 0
    assert list(out["drift"]) == [60, 90, 120, 180, 240, 300, 365]
    assert out["burn_in"] is None or out["burn_in"] in out["drift"]
    init = out["initial"]
    assert init["customers.initial_habit"] == pytest.approx(out["levels"]["mean_habit"], abs=5e-4)
    assert init["prime.initial_member_share"] == pytest.approx(
        out["levels"]["member_share"], abs=5e-4
    )
    assert init["sellers.initial_earnings_per_day_cents"] >= 0


def test_the_overhead_rate_puts_the_operating_margin_at_its_target() -> None:
    """The closed form: with the rate it finds, the pooled operating contribution over
    the platform revenue of the same runs is the target."""
    cfg = small_config(run__days=60, run__burn_in_days=20, attribution__counterfactual_twin=False)
    rate = overhead_rate(cfg, [1, 2], target=0.064, workers=1)
    assert 0 < rate < 1
    totals = [_totals(cfg.evolve({"run.seed": s, "platform.overhead_rate": rate})) for s in (1, 2)]
    margin = sum(t[0] for t in totals) / sum(t[1] for t in totals)
    assert margin == pytest.approx(0.064, abs=1e-4)


def test_values_written_into_a_config_load_back(tmp_path: Path) -> None:
    """apply_to_config writes numbers and booleans as TOML (true, not True), values only."""
    path = tmp_path / "baseline.toml"
    shutil.copy(BASELINE, path)
    before = path.read_text().count("#")
    apply_to_config(path, {"attribution.same_category_only": False, "prime.offer_rate": 0.3})
    cfg = load_config(path)
    assert cfg.attribution.same_category_only is False and cfg.prime.offer_rate == 0.3
    assert path.read_text().count("#") == before  # comments kept
    with pytest.raises(KeyError):
        apply_to_config(path, {"prime.no_such_key": 1})


def test_the_sample_size_comparison_flags_a_gap_beyond_the_small_interval() -> None:
    """tools/sample_size.py's check on made-up per-seed facts: a fact the large sample
    moves by more than the small run's interval is flagged and its Welch p is small; a
    fact that agrees is within."""
    rng = np.random.default_rng(0)
    small = [{"F1": 0.65 + 0.01 * z, "F2": 0.62 + 0.01 * z} for z in rng.standard_normal(30)]
    large = [{"F1": 0.65 + 0.01 * z, "F2": 0.58 + 0.01 * z} for z in rng.standard_normal(5)]
    rows = {r["fact"]: r for r in compare(small, large)}
    assert rows["F1"]["within"] and rows["F1"]["p"] > 0.01
    assert not rows["F2"]["within"] and rows["F2"]["p"] < 1e-3
    assert rows["F3"]["within"] is False  # no values: never counted as agreeing
    text = markdown(list(rows.values()), 3000, 200_000)
    assert "not within the small run's interval: F2, F3" in text
