"""Tests of the claim analyses: verdicts on synthetic data and on tiny simulated sweeps."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from analysis import ad_opacity, attribution, flywheel
from analysis.common import Estimate, bootstrap_mean, bootstrap_ratio, judge

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- helpers


def run_sweep_file(path: Path, out: Path, overrides: dict[str, Any] | None = None) -> None:
    """Run a sweep file (scenario schedules included) with extra constants ``overrides``."""
    from sim.experiments import load_sweep, run_sweep

    sweep = load_sweep(path)
    if overrides:
        runs = tuple(
            dataclasses.replace(
                r,
                config=dataclasses.replace(r.config.evolve(overrides), schedule=r.config.schedule),
            )
            for r in sweep.runs
        )
        sweep = dataclasses.replace(sweep, runs=runs)
    run_sweep(sweep, out, workers=2, progress=False)


def _write_sweep(path: Path, text: str) -> Path:
    path.write_text(text.replace("BASE", str(ROOT / "configs" / "baseline.toml")))
    return path


# ----------------------------------------------------------------------------- common


def test_bootstrap_is_reproducible_and_covers_the_mean() -> None:
    """The same data give the same interval, and it contains the sample mean."""
    x = np.random.default_rng(1).normal(2.0, 1.0, 30)
    a, b = bootstrap_mean(x), bootstrap_mean(x)
    assert a == b
    assert a.lo < x.mean() < a.hi


def test_bootstrap_ratio_is_paired_by_seed() -> None:
    """A ratio of perfectly proportional pairs has a degenerate interval at that ratio."""
    den = np.array([1.0, 2.0, 3.0, 4.0])
    e = bootstrap_ratio(2.5 * den, den)
    assert e.lo == pytest.approx(2.5) and e.hi == pytest.approx(2.5)


def test_judge_can_say_holds_no_and_inconclusive() -> None:
    """Verdicts follow the interval: beyond, inside the margin, or straddling."""
    assert judge(Estimate(1.0, 0.5, 1.5, 10)) == "holds"
    assert judge(Estimate(-1.0, -1.5, -0.5, 10)) == "does not hold"
    assert judge(Estimate(0.0, -0.01, 0.01, 10), margin=0.05) == "does not hold"
    assert judge(Estimate(0.1, -0.5, 0.7, 10), margin=0.05) == "inconclusive"
    assert judge(Estimate(1.0, math.nan, math.nan, 1)) == "inconclusive"
    assert judge(Estimate(-1.0, -1.5, -0.5, 10), direction="less") == "holds"


# ----------------------------------------------------------------------------- synthetic


def _daily(scenarios: dict[str, dict[str, float]], seeds: int = 6, days: int = 20) -> pl.DataFrame:
    """Daily rows per scenario and seed: each column is its level plus seed noise."""
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(seeds):
        noise = rng.normal(0, 1, days)
        for scen, cols in scenarios.items():
            for day in range(days):
                row = {
                    "run_id": f"{scen}-{seed}",
                    "scenario": scen,
                    "seed": seed,
                    "day": day,
                    "burn_in": day < 2,
                }
                row.update({k: v * (1 + 0.01 * noise[day]) for k, v in cols.items()})
                rows.append(row)
    return pl.DataFrame(rows)


AD_COLS = {
    "consumer_surplus_cents": 1e6,
    "quality_adjusted_price_cents": 5000.0,
    "orders": 100.0,
    "ad_revenue_cents": 1e4,
    "ad_revenue_assistant_cents": 0.0,
    "seller_profit_cents": 5e4,
    "sponsored_purchase_share": 0.3,
    "assistant_ad_pick_share": 0.0,
    "ads_recognised": 0.0,
    "mean_trust": 0.6,
    "assistant_consults": 50.0,
}


def test_ad_opacity_reports_no_harm_when_modes_are_identical() -> None:
    """Identical outcomes under none and blended give no harm and no extra ad revenue."""
    d = _daily({"none": AD_COLS, "labelled": AD_COLS, "blended": AD_COLS})
    res = ad_opacity.analyse(d)
    assert res.verdicts["consumer_surplus"] == "does not hold"
    assert res.verdicts["ad_revenue"] == "does not hold"
    assert res.verdicts["recognition"] == "inconclusive"  # no ads were shown at all


def test_ad_opacity_reports_harm_when_blended_lowers_surplus() -> None:
    """A 5% fall in surplus and a rise in ad revenue under blended ads are reported."""
    worse = {**AD_COLS, "consumer_surplus_cents": 0.95e6, "ad_revenue_cents": 1.2e4}
    res = ad_opacity.analyse(_daily({"none": AD_COLS, "blended": worse}))
    assert res.verdicts["consumer_surplus"] == "holds"
    assert res.verdicts["ad_revenue"] == "holds"


FULL_AD_COLS = {
    **AD_COLS,
    "ad_revenue_search_cents": 1e4,
    "ad_sales_search_cents": 5e4,
    "ad_sales_assistant_cents": 0.0,
    "budget_bound_share": 0.2,
    "operating_contribution_cents": 2e5,
}


def _with_answer_ads(search: float, answers: float, bound: float) -> dict[str, float]:
    """Daily levels when answer slots earn ``answers`` and search ``search`` cents a day."""
    return {
        **FULL_AD_COLS,
        "ad_revenue_search_cents": search,
        "ad_revenue_assistant_cents": answers,
        "ad_revenue_cents": search + answers,
        "ad_sales_assistant_cents": 5 * answers,
        "budget_bound_share": bound,
    }


def test_ad_opacity_judges_each_contrast_and_explains_an_opposite_sign(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Loose budgets: answer slots add revenue and search keeps its own. Tight budgets:
    each answer-slot dollar is taken from search, so search ad revenue falls. Against the
    loose sweep, the tight sweep's report names the opposite sign and its mechanism."""
    loose = _daily({"none": _with_answer_ads(1e4, 0, 0.1),
                    "labelled": _with_answer_ads(1.02e4, 800, 0.1),
                    "blended": _with_answer_ads(1.04e4, 1600, 0.1)})  # fmt: skip
    tight = _daily({"none": _with_answer_ads(1e4, 0, 0.6),
                    "labelled": _with_answer_ads(9.2e3, 800, 0.6),
                    "blended": _with_answer_ads(8.4e3, 1600, 0.6)})  # fmt: skip
    ref = ad_opacity.analyse(loose)
    res = ad_opacity.analyse(tight, out=tmp_path / "rep", against=(loose, None))
    verdict = {
        (r["contrast"], r["outcome"]): r["verdict"] for r in res.effects.iter_rows(named=True)
    }
    assert verdict[("labelled - none", "ad_revenue_search")] == "falls"
    assert verdict[("blended - labelled", "ad_revenue_assistant")] == "rises"
    ref_verdict = {
        (r["contrast"], r["outcome"]): r["verdict"] for r in ref.effects.iter_rows(named=True)
    }
    assert ref_verdict[("labelled - none", "ad_revenue_search")] == "rises"
    assert res.differs is not None
    assert set(res.differs["outcome"]) == {"ad_revenue_search"}
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "Sign differs from the reference" in text and "cannibalise" in text
    assert "takes $1.00 of search ad revenue" in text  # 800 lost per 800 gained
    assert "60.0% of campaigns a day here against 10.0%" in text


ATT_ON = {
    "gmv_cents": 1e6,
    "platform_margin_cents": 2e5,
    "orders": 100.0,
    "assistant_consults": 30.0,
    "platform_sessions": 150.0,
    "dsi_revenue_cents": 3e5,
    "dsi_margin_cents": 6e4,
    "causal_revenue_cents": 0.0,
    "causal_margin_cents": 0.0,
    "consult_conversion": 0.9,
    "nonconsult_conversion": 0.6,
    "would_consult_sessions": 30.0,
    "would_consult_conversion": 0.9,
}


def _lift_runs(would_off: float) -> pl.DataFrame:
    """Users buy at 0.9 and non-users at 0.6; would-be users buy at ``would_off`` when off."""
    off = {
        **ATT_ON,
        "assistant_consults": 0.0,
        "consult_conversion": float("nan"),
        "would_consult_conversion": would_off,
    }
    return _daily({"on": ATT_ON, "off": off})


def test_observational_lift_overstates_when_users_are_self_selected() -> None:
    """Would-be users who buy at 0.8 anyway: the observed +50% overstates the true +12.5%."""
    res = attribution.analyse(_lift_runs(0.8))
    verdicts = [v for k, v in res.verdicts.items() if k.startswith("lift")]
    assert verdicts and all(v == "holds" for v in verdicts), res.verdicts


def test_observational_lift_is_not_flagged_without_selection() -> None:
    """Would-be users who buy at 0.6 like everyone else: observed and randomised lift agree."""
    res = attribution.analyse(_lift_runs(0.6))
    verdicts = [v for k, v in res.verdicts.items() if k.startswith("lift")]
    assert verdicts and all(v == "does not hold" for v in verdicts), res.verdicts


def test_attribution_flags_dsi_when_the_assistant_causes_nothing() -> None:
    """Same GMV with and without the assistant: causal ~ 0, DSI overstates it."""
    off = {
        **ATT_ON,
        "assistant_consults": 0.0,
        "dsi_revenue_cents": 0.0,
        "dsi_margin_cents": 0.0,
        "consult_conversion": float("nan"),
    }
    res = attribution.analyse(_daily({"on": ATT_ON, "off": off}))
    assert res.verdicts["causal"] == "does not hold"
    assert res.verdicts["dsi_wall"] == "holds"


def test_attribution_does_not_flag_dsi_when_it_equals_the_causal_effect() -> None:
    """When the off world loses exactly the DSI revenue, DSI is not an overstatement."""
    off = {
        **ATT_ON,
        "gmv_cents": 0.7e6,
        "assistant_consults": 0.0,
        "dsi_revenue_cents": 0.0,
        "consult_conversion": float("nan"),
    }
    res = attribution.analyse(_daily({"on": ATT_ON, "off": off}))
    assert res.verdicts["causal"] == "holds"
    assert res.verdicts["dsi_wall"] == "does not hold"


def test_attribution_decomposes_dsi_minus_causal_exactly() -> None:
    """Twin columns present: (a) anyway + (b) selection + (c) later = DSI - causal, and
    each part is what the twin's totals say: 30 consults at the off world's 0.4 per
    ordinary session, would-be consulters who bought 2.0e5 in the off world."""
    on = {
        **ATT_ON,
        "causal_revenue_cents": 5e4,
        "operating_contribution_cents": 2.5e5,
        "dsi_operating_cents": 7e4,
        "causal_operating_cents": 1e4,
        "cf_would_consult_revenue_cents": 2e5,
        "cf_other_session_revenue_cents": 4e4,
        "cf_other_platform_sessions": 1e5,
    }
    res = attribution.analyse(_daily({"on": on}))
    est = res.estimates
    gap = est["decomp_gap_wall"].value
    parts = [est[f"decomp_{k}_wall"].value for k in ("anyway", "selection", "later")]
    assert sum(parts) == pytest.approx(gap)
    days = 18  # post burn-in days of _daily
    assert est["decomp_anyway_wall"].value == pytest.approx(days * 30 * 0.4, rel=0.05)
    assert est["decomp_later_wall"].value == pytest.approx(days * (3e5 - 5e4 - 2e5), rel=0.05)
    assert est["gap_operating_wall"].value == pytest.approx(days * 6e4, rel=0.05)


def _events(loss_member: float, loss_non: float, seeds: int = 6) -> pl.DataFrame:
    """Purchases in control and cut runs with given platform-share losses by membership."""
    rng = np.random.default_rng(3)
    rows = []
    for seed in range(seeds):
        for scen, drop in (("control", (0.0, 0.0)), ("cut", (loss_member, loss_non))):
            for member, base, dl in ((True, 0.8, drop[0]), (False, 0.6, drop[1])):
                n = 40000
                plat = rng.random(n) < base - dl
                rows.append(
                    pl.DataFrame(
                        {
                            "scenario": scen,
                            "seed": seed,
                            "day": rng.integers(0, 40, n),
                            "member": member,
                            "channel": np.where(plat, "platform", "rival"),
                        }
                    )
                )
    return pl.concat(rows)


def _fw_design() -> dict[str, flywheel.Design]:
    return {
        "control": flywheel.Design("control"),
        "cut": flywheel.Design("cut", cut_day=10, reverse_day=30, depth=0.1),
    }


def test_flywheel_lockin_holds_only_when_members_lose_less() -> None:
    """Members losing 2 pp vs. non-members 10 pp holds; equal losses do not."""
    d = _daily(
        {
            "control": {"orders": 100.0, "rival_purchases": 50.0},
            "cut": {"orders": 100.0, "rival_purchases": 50.0},
        }
    )
    res = flywheel.analyse(d, _fw_design(), events=_events(0.02, 0.10))
    assert res.verdicts["lockin_members"] == "holds"
    res = flywheel.analyse(d, _fw_design(), events=_events(0.05, 0.05))
    assert res.verdicts["lockin_members"] == "does not hold"


def test_flywheel_design_is_read_from_a_config() -> None:
    """A scheduled cut and reversal are recognised with their days and depth."""
    from sim.config import load_config

    cfg = load_config(ROOT / "configs" / "scenarios" / "rival_price_cut.toml").to_dict()
    d = flywheel.design_from_config(cfg)
    assert (d.kind, d.cut_day, d.reverse_day, d.depth) == ("cut", 515, 635, pytest.approx(0.1))


# ----------------------------------------------------------------------------- simulated


@pytest.mark.slow
def test_ad_weight_zero_reports_no_ad_opacity_harm(tmp_path: Path) -> None:
    """With ad_weight 0 no paid pick enters answers, so no mode harms customers."""
    sweep = _write_sweep(
        tmp_path / "s.toml",
        """
base = "BASE"
root_seed = 7
replicates = 3
[constants]
"run.n_customers" = 800
"run.days" = 60
"run.burn_in_days" = 10
"attribution.counterfactual_twin" = false
"assistant.ad_weight" = 0.0
[scenarios.none]
"assistant.ad_mode" = "none"
[scenarios.labelled]
"assistant.ad_mode" = "labelled"
[scenarios.blended]
"assistant.ad_mode" = "blended"
""",
    )
    out = tmp_path / "runs"
    run_sweep_file(sweep, out)
    res = ad_opacity.analyse(
        flywheel_scan(out, "daily"), flywheel_scan(out, "customers"), tmp_path / "rep"
    )
    assert res.verdicts["consumer_surplus"] == "does not hold"
    assert res.verdicts["ad_revenue"] == "does not hold"
    assert (tmp_path / "rep" / "report.md").read_text().count("**Verdict:**") == 4


@pytest.mark.slow
def test_with_every_loop_channel_frozen_the_multiplier_includes_one(tmp_path: Path) -> None:
    """A small flywheel sweep (live and all-frozen control/shock pairs): with every loop
    channel held from burn-in, the shock's multiplier interval includes 1, and the report
    decomposes the live multiplier."""
    channels = ["seller_entry", "selection_value", "logistics_expansion", "habit", "reviews"]
    frozen = [*channels, "rival_response", "prime_adoption", "seller_pricing", "fulfilment_choice"]
    frozen = str(frozen).replace("'", '"')
    sweep = _write_sweep(
        tmp_path / "s.toml",
        f"""
base = "BASE"
root_seed = 5
replicates = 10
[constants]
"run.n_customers" = 1500
"run.days" = 200
"run.burn_in_days" = 40
"attribution.counterfactual_twin" = false
"connectivity.rural_offline_share" = 0.5
"connectivity.satellite_rollout_days" = 1
"connectivity.satellite_final_rural_offline_share" = 0.0
[scenarios.control]
[scenarios.shock]
"connectivity.satellite_start_day" = 80
[scenarios.control_frozen_all]
"flywheel.freeze" = {frozen}
[scenarios.shock_frozen_all]
"connectivity.satellite_start_day" = 80
"flywheel.freeze" = {frozen}
[scenarios.control_frozen_habit]
"flywheel.freeze" = ["habit"]
[scenarios.shock_frozen_habit]
"connectivity.satellite_start_day" = 80
"flywheel.freeze" = ["habit"]
""",
    )
    out = tmp_path / "runs"
    run_sweep_file(sweep, out)
    design = flywheel.design_from_manifests(out)
    assert design["shock_frozen_all"].freeze and not design["shock"].freeze
    res = flywheel.analyse(flywheel_scan(out, "daily"), design, out=tmp_path / "rep")
    m = res.estimates["multiplier[all frozen]"]
    assert m.n == 10 and m.lo <= 1.0 <= m.hi, m
    assert "channel_share[habit]" in res.estimates
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "The multiplier by loop channel" in text and "| habit |" in text


def flywheel_scan(out: Path, table: str) -> pl.LazyFrame:
    """The analyses' own reader."""
    from analysis.common import scan

    return scan(out, table)


@pytest.mark.slow
def test_members_leave_like_nonmembers_without_prime_benefits(tmp_path: Path) -> None:
    """No shipping fee, no slower delivery for non-members, no sunk cost: no member lock-in."""
    sweep = _write_sweep(
        tmp_path / "s.toml",
        """
base = "BASE"
root_seed = 11
replicates = 4
[constants]
"run.n_customers" = 2000
"run.days" = 150
"run.burn_in_days" = 30
"run.record_events" = true
"attribution.counterfactual_twin" = false
"prime.shipping_fee_cents" = 0
"prime.nonmember_days" = 0
"channel.sunk_cost_weight" = 0.0
[scenarios.control]
[scenarios.cut]
schedule = [
  { day = 80, set = { "rival.price_index" = 0.8 } },
  { day = 130, set = { "rival.price_index" = 1.0 } },
]
""",
    )
    out = tmp_path / "runs"
    run_sweep_file(sweep, out)
    ev = flywheel_scan(out, "events").select("scenario", "seed", "day", "channel", "member")
    res = flywheel.analyse(
        flywheel_scan(out, "daily"), flywheel.design_from_manifests(out), events=ev
    )
    assert res.verdicts["lockin_members"] != "holds", res.estimates["lockin_gap"]


@pytest.mark.slow
def test_assistant_that_cannot_change_choices_has_no_causal_effect(tmp_path: Path) -> None:
    """A placebo assistant (answers never enter the choice): causal ~ 0, DSI > 0."""
    sweep = _write_sweep(
        tmp_path / "s.toml",
        """
base = "BASE"
root_seed = 5
replicates = 4
[constants]
"run.n_customers" = 1500
"run.days" = 90
"run.burn_in_days" = 20
"attribution.counterfactual_twin" = true
"assistant.answers_enter_choice" = false
"assistant.ad_weight" = 0.0
"assistant.agentic_checkout_share" = 0.0
[scenarios.on]
"assistant.enabled" = true
[scenarios.off]
"assistant.enabled" = false
""",
    )
    out = tmp_path / "runs"
    run_sweep_file(sweep, out)
    res = attribution.analyse(flywheel_scan(out, "daily"))
    assert res.verdicts["causal"] != "holds", res.estimates["causal_revenue"]
    assert res.verdicts["dsi_wall"] == "holds"


def test_analyze_corrupt_sweep_folder_is_one_line_exit_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A truncated daily.parquet in the sweep folder gives one error line and exit 2."""
    from sim.cli import main

    run = tmp_path / "sweep" / "scenario=a" / "seed=1"
    run.mkdir(parents=True)
    (run / "daily.parquet").write_bytes(b"not parquet")
    code = main(["analyze", "attribution", str(tmp_path / "sweep"), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "cannot read the sweep" in err[0]


def test_a_daily_table_with_only_burn_in_days_is_refused() -> None:
    """Runs whose every day is in the burn-in (run.burn_in_days >= run.days) have
    nothing to measure: a one-line error naming the fields, not a crash later."""
    from analysis.common import scan_frame

    only_burn_in = pl.DataFrame({"day": [0, 1, 2], "burn_in": [True, True, True]})
    with pytest.raises(ValueError, match=r"run.burn_in_days must be below run.days"):
        scan_frame(only_burn_in)
    measured = pl.DataFrame({"day": [0, 1, 2], "burn_in": [True, False, False]})
    assert scan_frame(measured).collect()["day"].to_list() == [1, 2]
    assert scan_frame(only_burn_in.head(0)).collect().height == 0
