"""Paired runs are truly paired: random numbers by identity (:mod:`sim.rng`).

A draw is a function of (seed, stream, identity) only, so a paired
comparison differs only by what the switched mechanism does.
"""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
from conftest import CONFIGS, small_config

import sim.day.assistant
from sim.config import load_config
from sim.model import MarketplaceModel
from sim.rng import KEYED, Keyed, Streams, poisson_quantile
from sim.runner import simulate

#: Columns that only describe the use of the assistant (a placebo consults; an
#: assistant that is off does not).
ASSISTANT_USE = {
    "daily": {
        "assistant_consults",
        "assistant_picks",
        "assistant_ad_pick_share",
        "consult_conversion",
        "nonconsult_conversion",
        "assistant_users_365d",
        "dsi_orders",
        "dsi_revenue_cents",
        "dsi_margin_cents",
        "dsi_operating_cents",
        "dsi_session_revenue_cents",
        "dsi_later_revenue_cents",
        "dsi_share_gmv",
        "consult_share_sessions",
        "cost_inference_cents",
        "operating_contribution_cents",  # less the consults' inference cost
    },
    "customers": {"assistant_consults", "final_trust"},
    "sellers": set(),
}
#: Columns that name the run rather than describe it.
LABELS = {"run_id", "scenario", "seed"}


# ------------------------------------------------------------------ the keyed draws


@pytest.mark.parametrize("name", sorted(KEYED))
def test_a_draw_does_not_depend_on_how_many_draws_other_entities_made(name: str) -> None:
    """For every stream: entity 17's draws on day 40 are the same whether it is drawn
    alone, among 10 entities or among 100,000, and in whatever order."""
    k = Streams(7).keyed(name)
    alone = k.uniform(40, 17, np.arange(3))
    few = k.uniform(40, np.arange(10)[:, None], np.arange(3))[17 % 10 :][0]
    many = k.uniform(40, np.arange(100_000)[::-1][:, None], np.arange(3))
    np.testing.assert_array_equal(alone, many[100_000 - 1 - 17])
    if 17 < 10:
        np.testing.assert_array_equal(alone, few)
    # and the streams differ from one another and from another seed
    assert not np.array_equal(alone, Streams(8).keyed(name).uniform(40, 17, np.arange(3)))


def test_keyed_streams_are_distinct_and_uniform() -> None:
    """Different streams give different numbers; each is uniform on (0, 1) by moments."""
    s = Streams(1)
    draws = {n: s.keyed(n).uniform(np.arange(200_000)) for n in KEYED}
    for n, u in draws.items():
        assert 0 < u.min() and u.max() < 1
        assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002, n
    names = sorted(draws)
    for a, b in itertools.pairwise(names):
        assert abs(np.corrcoef(draws[a], draws[b])[0, 1]) < 0.01


def test_normal_gumbel_and_poisson_have_their_moments() -> None:
    """The inverse-CDF transforms give the right distributions."""
    k = Keyed(3, "test")
    ids = np.arange(400_000)
    z = k.normal(ids)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    g = k.gumbel(ids)
    assert abs(g.mean() - np.euler_gamma) < 0.01 and abs(g.var() - np.pi**2 / 6) < 0.03
    for lam in (0.02, 0.7, 4.0, 200.0):
        n = k.poisson(lam, ids)
        assert abs(n.mean() - lam) < 0.02 * max(lam, 1) and abs(n.var() - lam) < 0.05 * max(lam, 1)


def test_poisson_by_inverse_cdf_is_monotone_in_its_mean() -> None:
    """The same uniform never gives fewer events for a larger mean (monotone coupling)."""
    u = Keyed(5, "test").uniform(np.arange(50_000))
    low, high = poisson_quantile(np.full(len(u), 0.3), u), poisson_quantile(np.full(len(u), 0.5), u)
    assert (high >= low).all() and (high > low).any()


def test_identities_must_be_integers_and_streams_known() -> None:
    k = Keyed(1, "needs")
    with pytest.raises(TypeError, match="integers"):
        k.uniform(np.array([0.5]))
    with pytest.raises(KeyError, match="unknown keyed stream"):
        Streams(1).keyed("no_such_stream")


# ------------------------------------------------------------- whole runs, paired


def _frames(cfg) -> dict[str, pl.DataFrame]:  # type: ignore[no-untyped-def]
    r = simulate(cfg)
    return {"daily": r.daily, "customers": r.customers, "sellers": r.sellers}


def test_placebo_assistant_equals_assistant_off_column_by_column() -> None:
    """A placebo (answers never enter the choice, no ads) against the assistant off,
    365 days: every column of daily, customers and sellers is identical except those that
    only describe assistant use."""
    base = small_config(
        run__days=365, run__n_customers=2000, attribution__counterfactual_twin=False
    )
    placebo = _frames(
        base.evolve({"assistant.answers_enter_choice": False, "assistant.ad_mode": "none"})
    )
    off = _frames(base.evolve({"assistant.enabled": False}))
    assert placebo["daily"]["assistant_consults"].sum() > 0
    for table, frame in placebo.items():
        other = off[table]
        assert frame.columns == other.columns and frame.height == other.height, table
        for col in frame.columns:
            if col in LABELS or col in ASSISTANT_USE[table]:
                continue
            assert frame[col].equals(other[col]), f"{table}.{col} differs"


def test_placebo_has_no_causal_effect_on_any_basis_but_dsi_credits_it() -> None:
    """The placebo with its in-run twin, shopping journeys on: every causal column is
    exactly 0 on every day, except operating contribution, which loses exactly the
    inference cost of the consults; DSI credits the placebo with revenue."""
    from sim.day.record import CAUSAL_COLUMNS

    cfg = small_config(
        run__days=200,
        run__n_customers=2000,
        assistant__answers_enter_choice=False,
        assistant__ad_mode="none",
        customers__need_persistence=0.4,
    )
    daily = simulate(cfg).daily
    for col in CAUSAL_COLUMNS:
        assert daily[col].null_count() == 0, col
        if col != "causal_operating_cents":
            assert (daily[col] == 0).all(), col
    lost = daily["causal_operating_cents"] + daily["cost_inference_cents"]
    assert lost.abs().max() <= 1 and daily["cost_inference_cents"].sum() > 0  # cent rounding
    assert daily["dsi_revenue_cents"].sum() > 0 and daily["dsi_operating_cents"].sum() != 0


SCENARIOS = ("ads_none", "ads_labelled", "ads_blended", "assistant_off", "no_prime")


def test_needs_are_shared_by_every_scenario() -> None:
    """Same seed: daily new needs (sessions that are not a returning journey) and online
    new needs are identical day by day across the ad, assistant and Prime scenarios."""
    small = {"run.n_customers": 1500, "attribution.counterfactual_twin": False}
    days = {}
    for name in SCENARIOS:
        cfg = load_config(CONFIGS / "scenarios" / f"{name}.toml", overrides=small)
        daily = simulate(cfg).daily
        days[name] = daily.select("day", "new_needs", "online_new_needs")
    first = days[SCENARIOS[0]]
    assert first.height >= 365
    for name in SCENARIOS[1:]:
        assert days[name].equals(first), name


def test_would_be_consulters_are_the_consulters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust learning off and familiarity not weighing on consulting (the two states
    that purchases can make differ): a session on the platform in both the run and its
    assistant-off twin is consulted in the run exactly when the twin marks it a
    would-be consulter (at least 99%; by identity, all)."""
    seen: dict[bool, dict[int, dict[int, bool]]] = {True: {}, False: {}}
    consults = sim.day.assistant.consults

    def recording(m, s, draws):  # type: ignore[no-untyped-def]
        consults(m, s, draws)
        on = m.config.assistant.enabled
        flags = s.consult if on else s.would_consult
        platform = np.flatnonzero(s.platform)
        seen[on][m.day] = dict(zip(s.key[platform].tolist(), flags[platform].tolist(), strict=True))

    monkeypatch.setattr(sim.day.assistant, "consults", recording)
    cfg = small_config(
        run__days=120, assistant__trust_learning_rate=0.0, assistant__unfamiliar_consult_factor=1.0
    )
    model = MarketplaceModel(cfg)
    while model.running:
        model.step()
    both = agree = 0
    for day, run in seen[True].items():
        twin = seen[False][day]
        shared = run.keys() & twin.keys()
        both += len(shared)
        agree += sum(run[k] == twin[k] for k in shared)
    assert both > 3_000
    assert agree / both >= 0.99
    assert sum(v for d in seen[True].values() for v in d.values()) > 100


def test_twin_equals_a_separate_assistant_off_run_to_the_cent() -> None:
    """The counterfactual twin's days are those of the same seed run with the assistant
    off on its own: causal revenue is today's GMV minus that run's, to the cent."""
    cfg = small_config(run__days=90)
    with_twin = simulate(cfg).daily
    off = simulate(
        cfg.evolve({"assistant.enabled": False, "attribution.counterfactual_twin": False})
    ).daily
    causal = with_twin["gmv_cents"] - off["gmv_cents"]
    assert with_twin["causal_revenue_cents"].equals(causal.alias("causal_revenue_cents"))
    assert with_twin["causal_orders"].equals(
        (with_twin["orders"] - off["orders"]).alias("causal_orders")
    )


def test_a_switch_of_ad_mode_leaves_every_day_before_it_identical() -> None:
    """The design of configs/sweeps/ad_opacity_switch.toml: runs that switch the answers'
    ads on one day share every row before it, and differ from it on (the switch is all
    that separates them, not a burn-in's worth of divergence)."""
    from sim.config import from_dict

    base = small_config(
        run__days=30, attribution__counterfactual_twin=False, assistant__ad_weight=5.0
    )
    daily = {}
    for mode in ("none", "blended"):
        data = base.to_dict()
        data["schedule"] = [{"day": 20, "set": {"assistant.ad_mode": mode}}]
        daily[mode] = simulate(from_dict(data)).daily.drop("run_id")
    before = [d.filter(pl.col("day") < 20) for d in daily.values()]
    assert before[0].equals(before[1])
    after = [d.filter(pl.col("day") >= 20) for d in daily.values()]
    assert after[0]["assistant_ad_picks"].sum() == 0 < after[1]["assistant_ad_picks"].sum()
