"""Smoke runs of every shipped config, each asserting a mechanical fact of its scenario.

Assertions are facts the mechanisms must produce (counts that must be zero, exact
prices, identical days before an intervention in paired runs with the same seed),
never a calibrated direction that a different parameterisation could reverse.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import CONFIGS, SHIPPED, config_id, money_gaps

from sim.config import Config, load_config
from sim.model import MarketplaceModel
from sim.output import daily_frame
from sim.runner import simulate

SCEN = CONFIGS / "scenarios"


def scenario(name: str, **changes: object) -> Config:
    """A shipped scenario at a small size (400 customers, 30 days, no burn-in, no twin)."""
    base = {
        "run.n_customers": 400,
        "run.days": 30,
        "run.burn_in_days": 0,
        "attribution.counterfactual_twin": False,
    }
    base.update({k.replace("__", ".", 1): v for k, v in changes.items()})
    path = CONFIGS / "baseline.toml" if name == "baseline" else SCEN / f"{name}.toml"
    return load_config(path, overrides=base)


def run_model(cfg: Config) -> tuple[MarketplaceModel, pl.DataFrame]:
    """Step a model to the end; return it and its daily table."""
    m = MarketplaceModel(cfg)
    while m.running:
        m.step()
    return m, daily_frame(m.daily_rows)


@pytest.mark.parametrize("path", SHIPPED, ids=config_id)
def test_shipped_config_runs_and_conserves_money(path: Path) -> None:
    """Every shipped config runs at a small size, sells something, labels its rows with
    its scenario name and conserves money to the cent."""
    result = simulate(scenario(path.stem))
    d = result.daily
    assert d.height == 30
    assert d["orders"].sum() > 0
    assert d["scenario"].unique().to_list() == [path.stem]
    gaps = money_gaps(d)
    assert gaps["payment_gap"].abs().max() == 0
    assert gaps["ad_gap"].abs().max() == 0


def test_assistant_off_has_no_consults() -> None:
    """assistant_off: nobody consults the assistant and it attributes nothing."""
    d = simulate(scenario("assistant_off")).daily
    assert d["assistant_consults"].sum() == 0
    assert d["dsi_revenue_cents"].sum() == 0
    assert d["ad_revenue_assistant_cents"].sum() == 0


def test_ads_none_has_no_paid_picks() -> None:
    """ads_none: consults happen but no answer carries a paid placement."""
    r = simulate(scenario("ads_none"))
    assert r.daily["assistant_consults"].sum() > 0
    assert r.daily["ad_revenue_assistant_cents"].sum() == 0
    assert r.customers["ads_seen"].sum() == 0


def test_blended_ads_are_recognised_less_than_labelled() -> None:
    """ads_blended vs ads_labelled: paid picks are shown in both, recognised far less often
    when blended (recognition factor 0.15 of ad literacy)."""
    size = {"run__days": 60, "run__n_customers": 2000}
    lab = simulate(scenario("ads_labelled", **size)).customers
    bl = simulate(scenario("ads_blended", **size)).customers
    assert lab["ads_seen"].sum() > 50 and bl["ads_seen"].sum() > 50
    rate_lab = lab["ads_recognised"].sum() / lab["ads_seen"].sum()
    rate_bl = bl["ads_recognised"].sum() / bl["ads_seen"].sum()
    assert rate_bl < rate_lab


def test_no_prime_has_no_members() -> None:
    """no_prime: nobody joins, trials or pays a fee."""
    r = simulate(scenario("no_prime", run__days=60))
    assert r.daily["prime_members"].max() == 0
    assert r.daily["prime_joins"].sum() == 0
    assert r.daily["revenue_prime_cents"].sum() == 0
    assert r.customers["prime_first_join_day"].is_null().all()


def _without_schedule(cfg: Config) -> Config:
    """The same config with its schedule dropped."""
    return dataclasses.replace(cfg, schedule=())


def _payments(d: pl.DataFrame) -> pl.Series:
    """Prime payments per day: converted trials, renewals and paid (non-trial) joins."""
    return (
        d["prime_trial_conversions"] + d["prime_renewals"] + d["prime_joins"]
        - d["prime_trials_started"]
    )  # fmt: skip


def _fees_explain_revenue(revenue: int, payments: int, monthly: int, annual: int) -> bool:
    """Whether ``revenue`` is ``payments`` fees each either ``monthly`` or ``annual``."""
    return any(m * monthly + (payments - m) * annual == revenue for m in range(payments + 1))


@pytest.mark.slow
def test_prime_fee_increase_charges_new_fees_from_its_day() -> None:
    """prime_fee_increase: before its scheduled day every payment is an old fee, from that
    day a new one; the run equals the unscheduled baseline up to the day before."""
    cfg = scenario("prime_fee_increase", prime__offer_rate=0.2)
    day0 = cfg.schedule[0].day
    cfg = cfg.evolve({"run.days": day0 + 60})
    d = simulate(cfg).daily
    plain = simulate(_without_schedule(cfg)).daily
    pay = _payments(d)
    assert pay[:day0].sum() > 0 and pay[day0:].sum() > 0
    for day, (rev, n) in enumerate(zip(d["revenue_prime_cents"], pay, strict=True)):
        old, new = (1499, 13900), (1799, 16900)
        fees = old if day < day0 else new
        assert _fees_explain_revenue(rev, n, *fees), day
    body = [c for c in d.columns if c not in ("run_id",)]
    assert d.select(body)[:day0].equals(plain.select(body)[:day0])
    assert not d.select(body)[day0:].equals(plain.select(body)[day0:])


@pytest.mark.slow
def test_rival_price_cut_lowers_rival_prices_exactly_and_costs_platform_sessions() -> None:
    """rival_price_cut: against the unscheduled run with the same seed, the rival's list
    price is exactly 0.9x from the cut's day to the day before the reversal and equal
    otherwise; its quoted prices are exactly 0.9x on the cut's day (before its own price
    reviews react) and lower through the cut; earlier days are identical and on the cut's
    day no more sessions go to the platform."""
    cfg = scenario("rival_price_cut")
    cut, back = cfg.schedule[0].day, cfg.schedule[1].day
    cfg = cfg.evolve({"run.days": back + 30})
    plain_cfg = _without_schedule(cfg)
    logs = []
    for c in (cfg, plain_cfg):
        m = MarketplaceModel(c)
        prices, lists = [], []
        while m.running:
            m.step()
            prices.append(m.rival.price_index_today.copy())
            lists.append(m.rival.terms.price_index)
        logs.append((np.array(prices), np.array(lists), daily_frame(m.daily_rows)))
    (cut_p, cut_l, cut_d), (plain_p, plain_l, plain_d) = logs
    listed = cut_l / plain_l
    assert np.allclose(listed[cut:back], 0.9) and np.allclose(listed[:cut], 1.0)
    assert np.allclose(listed[back:], 1.0)
    ratio = cut_p / plain_p
    assert np.allclose(ratio[:cut], 1.0, rtol=1e-12) and np.allclose(ratio[cut], 0.9, rtol=1e-12)
    assert ratio[cut:back].mean() < 1.0  # its own reviews then raise prices with its share
    assert cut_d[:cut].equals(plain_d[:cut])
    assert cut_d["platform_sessions"][cut] <= plain_d["platform_sessions"][cut]
    assert cut_d["rival_purchases"][cut:back].sum() != plain_d["rival_purchases"][cut:back].sum()


@pytest.mark.slow
def test_rural_expansion_opens_rural_stations_only_when_allowed() -> None:
    """rural_expansion: stations may open in rural cells; the baseline never opens one."""
    out = {}
    for name in ("baseline", "rural_expansion"):
        m, d = run_model(scenario(name, run__n_customers=800, run__days=240))
        initial = int(d["stations"][0] - d["stations_opened"][0])
        opened = m.station_region[initial:]
        out[name] = int((~m.regions.is_metro[opened]).sum())
        assert d["stations"][-1] == len(m.station_region)
    assert out["baseline"] == 0
    assert out["rural_expansion"] > 0


def test_satellite_rollout_brings_rural_customers_online() -> None:
    """satellite_rollout: the share of rural customers online never falls and is higher
    after the roll-out starts than before."""
    start = scenario("satellite_rollout").connectivity.satellite_start_day
    m = MarketplaceModel(scenario("satellite_rollout", run__days=start + 60))
    pop = m.customers
    rural = ~m.regions.is_metro[pop.region]
    share = []
    while m.running:
        online = pop.online_u >= m.offline_share()[pop.region]
        share.append(float(online[rural].mean()))
        m.step()
    assert all(b >= a for a, b in itertools.pairwise(share))
    assert share[-1] > share[start - 1] == share[0]


def test_agentic_checkout_buys_for_customers() -> None:
    """agentic_checkout: the assistant completes purchases itself."""
    d = simulate(scenario("agentic_checkout")).daily
    assert d["agentic_purchases"].sum() > 0
    assert (d["agentic_purchases"] <= d["assistant_consults"]).all()


@pytest.mark.parametrize(("name", "allowed"), [("external_agents_allowed", True),
                                                ("external_agents_blocked", False)])  # fmt: skip
def test_external_agents_allowed_or_blocked(name: str, allowed: bool) -> None:
    """external agents: sessions go through them only when the platform lets them in."""
    d = simulate(scenario(name)).daily
    if allowed:
        assert d["external_agent_sessions"].sum() > 0
    else:
        assert d["external_agent_sessions"].sum() == 0
    assert (d["external_agent_sessions"] <= d["online_sessions"]).all()
