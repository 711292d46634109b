"""Tests for sim.config: loading, round-trips, hashing, validation, extends and schedules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BASELINE, CONFIGS, REPO, SCENARIOS, SHIPPED, config_id
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config import AdMode, AuctionFormat, Config, ConfigError, from_dict, load_config

# ----------------------------------------------------------------------------- loading


@pytest.mark.parametrize("path", SHIPPED, ids=config_id)
def test_every_shipped_config_loads(path: Path) -> None:
    """The baseline and every scenario load and validate, named after their file."""
    cfg = load_config(path)
    assert isinstance(cfg, Config)
    assert cfg.run.name == path.stem


@pytest.mark.parametrize("path", SCENARIOS, ids=config_id)
def test_scenario_differs_from_baseline_only_where_it_says(path: Path) -> None:
    """A scenario extends the baseline: every key it does not set keeps the baseline value."""
    import tomllib

    raw = tomllib.loads(path.read_text())
    own = {f"{s}.{k}" for s, tbl in raw.items() if isinstance(tbl, dict) for k in tbl}
    base, scen = load_config(BASELINE), load_config(path)
    for key in Config.keys():
        if key not in own:
            assert scen.get(key) == base.get(key), key


def test_baseline_enums_are_typed() -> None:
    """Enum-valued keys load as enums, not strings."""
    cfg = load_config(BASELINE)
    assert isinstance(cfg.assistant.ad_mode, AdMode)
    assert isinstance(cfg.ads.format, AuctionFormat)


def test_overrides_apply_after_loading() -> None:
    """``overrides`` strings are parsed as TOML literals and applied on top of the file."""
    cfg = load_config(BASELINE, overrides=["run.days=30", "assistant.ad_mode=blended"])
    assert cfg.run.days == 30
    assert cfg.assistant.ad_mode is AdMode.BLENDED


# ----------------------------------------------------------------------------- round trips


_fields = st.fixed_dictionaries(
    {
        "run.seed": st.integers(0, 2**63 - 1),
        "run.n_customers": st.integers(100, 50_000_000),
        "prime.monthly_fee_cents": st.integers(0, 10**7),
        "fees.referral_fee_rate": st.floats(0.0, 1.0, allow_nan=False),
        "customers.need_rate_per_day": st.floats(0.0, 5.0, allow_nan=False),
        "assistant.ad_weight": st.floats(0.0, 100.0, allow_nan=False, allow_infinity=False),
        "assistant.ad_mode": st.sampled_from([m.value for m in AdMode]),
        "ads.format": st.sampled_from([f.value for f in AuctionFormat]),
    }
)


@settings(max_examples=40, deadline=None)
@given(changes=_fields)
def test_to_dict_from_dict_round_trip(changes: dict) -> None:
    """Config -> to_dict -> from_dict gives an equal config with the same hash."""
    cfg = Config().evolve(changes)
    back = from_dict(cfg.to_dict())
    assert back == cfg
    assert back.hash() == cfg.hash()


@settings(max_examples=40, deadline=None)
@given(changes=_fields)
def test_round_trip_through_json(changes: dict) -> None:
    """The manifest's JSON of a config rebuilds exactly the same config (floats included)."""
    cfg = Config().evolve(changes)
    assert from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_round_trip_keeps_schedule() -> None:
    """A config with a schedule survives to_dict -> from_dict unchanged."""
    cfg = load_config(REPO / "configs/scenarios/rival_price_cut.toml")
    assert cfg.schedule
    assert from_dict(cfg.to_dict()) == cfg


# ----------------------------------------------------------------------------- one baseline


def test_defaults_are_the_baseline_file() -> None:
    """``Config()`` is ``configs/baseline.toml``: the code has no second set of defaults."""
    assert Config() == load_config(REPO / "configs" / "baseline.toml")
    assert Config().hash() == load_config(REPO / "configs" / "baseline.toml").hash()


def test_the_packaged_baseline_is_the_configs_file() -> None:
    """The package reads its defaults from the same file users cite (a link, not a copy)."""
    from sim.config.sections import BASELINE_PATH

    assert BASELINE_PATH.resolve() == (REPO / "configs" / "baseline.toml").resolve()


def test_mesa_face_is_the_calibrated_baseline() -> None:
    """``MarketplaceModel()`` runs the baseline, and Mesa's own batch runner can drive it."""
    import mesa

    from sim.model import MarketplaceModel

    assert MarketplaceModel().config == load_config(REPO / "configs" / "baseline.toml")
    rows = mesa.batch_run(
        MarketplaceModel,
        parameters={},
        iterations=2,
        max_steps=20,
        number_processes=1,
        display_progress=False,
    )
    assert len(rows) == 2 and all(r["Step"] == 20 and r["orders"] > 0 for r in rows)


# ----------------------------------------------------------------------------- hashing


def test_hash_is_stable_for_equal_configs() -> None:
    """Equal configs built in different ways have the same SHA-256 hash."""
    a = Config()
    b = Config().evolve({"prime.monthly_fee_cents": 1}).evolve({"prime.monthly_fee_cents": 1499})
    assert a == b
    assert a.hash() == b.hash()
    assert len(a.hash()) == 64 and int(a.hash(), 16) >= 0


def test_hash_changes_with_any_value() -> None:
    """Changing one value (or one schedule entry) changes the hash."""
    base = Config()
    assert base.evolve({"fees.referral_fee_rate": 0.16}).hash() != base.hash()
    assert base.evolve({"run.seed": base.run.seed + 1}).hash() != base.hash()
    scheduled = from_dict({"schedule": [{"day": 5, "set": {"rival.price_index": 0.9}}]})
    assert scheduled.hash() != base.hash()


def test_hash_does_not_depend_on_the_process() -> None:
    """The hash is the same in a fresh interpreter with a different PYTHONHASHSEED."""
    code = "from sim.config import Config; print(Config().evolve({'run.days': 17}).hash())"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == Config().evolve({"run.days": 17}).hash()


# ----------------------------------------------------------------------------- validation


BAD_VALUES = [
    pytest.param("prime.monthly_fee", 1, "prime.monthly_fee", id="unknown-key"),
    pytest.param("primo.monthly_fee_cents", 1, "primo.monthly_fee_cents", id="unknown-section"),
    pytest.param("prime.monthly_fee_cents", "cheap", "prime.monthly_fee_cents", id="wrong-type"),
    pytest.param("run.days", 3.5, "run.days", id="float-for-int"),
    pytest.param("run.days", True, "run.days", id="bool-for-int"),
    pytest.param("prime.enabled", 1, "prime.enabled", id="int-for-bool"),
    pytest.param("run.days", 0, "run.days", id="below-range"),
    pytest.param("fees.referral_fee_rate", 1.5, "fees.referral_fee_rate", id="above-range"),
    pytest.param("assistant.ad_weight", float("nan"), "assistant.ad_weight", id="nan"),
    pytest.param("assistant.ad_mode", "sneaky", "assistant.ad_mode", id="bad-enum"),
    pytest.param("ads.format", "dutch", "ads.format", id="bad-auction-format"),
    pytest.param("search.sponsored_positions", [0, 99], "search.sponsored_positions", id="cross"),
]


@pytest.mark.parametrize(("key", "value", "named"), BAD_VALUES)
def test_bad_value_raises_one_line_config_error(key: str, value: object, named: str) -> None:
    """A bad key, type, range or enum raises ConfigError with one line naming the key."""
    with pytest.raises(ConfigError) as err:
        Config().evolve({key: value})
    message = str(err.value)
    assert "\n" not in message
    assert named in message


@pytest.mark.parametrize(("key", "value", "named"), BAD_VALUES)
def test_bad_value_in_toml_file_raises_one_line_config_error(
    tmp_path: Path, key: str, value: object, named: str
) -> None:
    """The same bad values in a config file are rejected on load, naming the key."""
    section, _, name = key.partition(".")
    literal = json.dumps(value) if not isinstance(value, float) or value == value else "nan"
    text = f'extends = "{BASELINE.as_posix()}"\n[{section}]\n{name} = {literal}\n'
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert "\n" not in message
    # An unknown [section] is named as such; otherwise the message names section and key.
    section_known = section in Config().to_dict()
    assert section in message
    assert (name in message) or not section_known


def test_unknown_top_level_section_is_rejected() -> None:
    """An unknown top-level table is rejected, naming it."""
    with pytest.raises(ConfigError, match="nonsense"):
        from_dict({"nonsense": {"a": 1}})


def test_bad_override_string_is_rejected() -> None:
    """An override without '=' is rejected with a one-line message."""
    with pytest.raises(ConfigError) as err:
        load_config(BASELINE, overrides=["run.days"])
    assert "run.days" in str(err.value) and "\n" not in str(err.value)


def test_invalid_toml_is_one_line_config_error(tmp_path: Path) -> None:
    """A file that is not TOML raises a one-line ConfigError naming the file."""
    path = tmp_path / "broken.toml"
    path.write_text("[run\ndays = 3\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "broken.toml" in str(err.value) and "\n" not in str(err.value)


# ----------------------------------------------------------------------------- extends


def test_extends_chain_merges_in_order(tmp_path: Path) -> None:
    """A child extends a parent that extends the baseline; the nearest file wins."""
    (tmp_path / "parent.toml").write_text(
        f'extends = "{BASELINE.as_posix()}"\n'
        '[run]\nname = "parent"\ndays = 50\n[prime]\nmonthly_fee_cents = 1000\n'
        '[[schedule]]\nday = 10\nset = { "rival.price_index" = 0.95 }\n'
    )
    (tmp_path / "child.toml").write_text(
        'extends = "parent.toml"\n[run]\nname = "child"\n[prime]\nannual_fee_cents = 9000\n'
        '[[schedule]]\nday = 20\nset = { "rival.price_index" = 0.9 }\n'
    )
    cfg = load_config(tmp_path / "child.toml")
    base = load_config(BASELINE)
    assert cfg.run.name == "child"
    assert cfg.run.days == 50
    assert cfg.prime.monthly_fee_cents == 1000
    assert cfg.prime.annual_fee_cents == 9000
    assert cfg.fees == base.fees
    assert [c.day for c in cfg.schedule] == [10, 20]


def test_extends_loop_is_rejected(tmp_path: Path) -> None:
    """Files that extend each other raise a one-line ConfigError."""
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "a.toml")
    assert "extends" in str(err.value) and "\n" not in str(err.value)


def test_missing_parent_is_rejected(tmp_path: Path) -> None:
    """``extends`` pointing at a missing file raises ConfigError."""
    (tmp_path / "a.toml").write_text('extends = "nowhere.toml"\n')
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "a.toml")


# ----------------------------------------------------------------------------- schedule


def test_at_day_applies_changes_from_their_day() -> None:
    """``at_day`` applies scheduled changes from their day on, cumulatively and in order."""
    cfg = load_config(REPO / "configs/scenarios/rival_price_cut.toml")
    assert cfg.at_day(0).rival.price_index == cfg.rival.price_index == 1.0
    assert cfg.at_day(514).rival.price_index == 1.0
    assert cfg.at_day(515).rival.price_index == 0.9
    assert cfg.at_day(634).rival.price_index == 0.9
    assert cfg.at_day(635).rival.price_index == 1.0
    assert cfg.at_day(10_000).rival.price_index == 1.0
    assert cfg.at_day(600).schedule == cfg.schedule


def test_at_day_prime_fee_increase() -> None:
    """The Prime fee scenario raises both fees on day 545 and not before."""
    cfg = load_config(REPO / "configs/scenarios/prime_fee_increase.toml")
    before, after = cfg.at_day(544).prime, cfg.at_day(545).prime
    assert (before.monthly_fee_cents, before.annual_fee_cents) == (1499, 13900)
    assert (after.monthly_fee_cents, after.annual_fee_cents) == (1799, 16900)


def test_schedule_cannot_change_run_keys() -> None:
    """A scheduled change of any ``run.*`` key is rejected, naming the key."""
    with pytest.raises(ConfigError) as err:
        from_dict({"schedule": [{"day": 5, "set": {"run.days": 10}}]})
    assert "run.days" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ({"day": 5, "set": {"rival.price_index": -1.0}}, "rival.price_index"),
        ({"day": 5, "set": {"rival.no_such_key": 1}}, "rival.no_such_key"),
        ({"day": -1, "set": {"rival.price_index": 0.9}}, "day"),
        ({"day": 5, "set": {}}, "set"),
        ({"day": 5}, "schedule[0]"),
    ],
    ids=["out-of-range", "unknown-key", "negative-day", "empty-set", "missing-set"],
)
def test_bad_schedule_entry_is_rejected(entry: dict, named: str) -> None:
    """A schedule entry with a bad day, key or value raises a one-line ConfigError."""
    with pytest.raises(ConfigError) as err:
        from_dict({"schedule": [entry]})
    assert named in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("sweep", ["flywheel_quick", "flywheel_paper"])
def test_flywheel_sweeps_use_the_shipped_strong_network_values(sweep: str) -> None:
    """The flywheel sweeps' strong_network is configs/scenarios/strong_network.toml."""
    import tomllib

    spec = tomllib.loads((CONFIGS / "sweeps" / f"{sweep}.toml").read_text())
    inline = spec["scenarios"]["strong_network"]
    shipped = tomllib.loads((CONFIGS / "scenarios" / "strong_network.toml").read_text())
    flat = {
        f"{section}.{key}": value
        for section, table in shipped.items()
        if isinstance(table, dict) and section != "run"
        for key, value in table.items()
    }
    assert inline == flat
