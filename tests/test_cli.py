"""Tests of the ``flywheel run`` command: outputs, summary, one-line errors, and that every
output SPEC section 5 names exists."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from conftest import BASELINE
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli import main

SMALL = ["--set", "run.n_customers=400", "--days", "12", "--set", "run.burn_in_days=0"]

# SPEC section 5, item by item -> our column names (every one must exist).
SPEC_DAILY = {
    "active customers": ["active_customers"],
    "platform and rival share of purchases": ["platform_share", "rival_share"],
    "orders": ["orders"],
    "GMV": ["gmv_cents"],
    "average price paid": ["avg_price_cents"],
    "delivered quality": ["delivered_quality"],
    "consumer surplus": ["consumer_surplus_cents"],
    "Prime members / joins / cancels / renewals": [
        "prime_members", "prime_joins", "prime_cancels", "prime_renewals",
    ],
    "same-day share of orders and of population covered": [
        "same_day_share_orders", "same_day_population_share",
    ],
    "mean delivery days": ["mean_delivery_days"],
    "cost per delivery": ["cost_per_delivery_cents"],
    "stations": ["stations"],
    "sellers active / entered / exited": ["sellers_active", "sellers_entered", "sellers_exited"],
    "seller profit": ["seller_profit_cents"],
    "ad revenue": ["ad_revenue_cents"],
    "mean CPC": ["mean_cpc_cents"],
    "sponsored share of impressions and of purchases": [
        "sponsored_impression_share", "sponsored_purchase_share",
    ],
    "assistant consults": ["assistant_consults"],
    "share of assistant picks that were ads": ["assistant_ad_pick_share"],
    "ads recognised": ["ads_recognised"],
    "mean trust": ["mean_trust"],
    "DSI-attributed revenue": ["dsi_revenue_cents"],
    "platform revenue by stream": [
        "revenue_referral_cents", "revenue_fulfilment_cents", "revenue_ads_cents",
        "revenue_prime_cents", "revenue_shipping_cents", "revenue_own_retail_cents",
    ],
    "cost by kind": [
        "cost_delivery_cents", "cost_stations_cents", "cost_capex_cents", "cost_inference_cents",
    ],
    "burn-in flagged, not deleted": ["burn_in", "day"],
}  # fmt: skip
SPEC_CUSTOMERS = {
    "region": ["region"],
    "traits": [
        "income_class", "price_sensitivity", "quality_taste", "delay_cost", "need_rate_per_day",
        "patience", "ad_literacy", "assistant_propensity",
    ],
    "Prime first join day": ["prime_first_join_day"],
    "Prime plan": ["prime_plan"],
    "Prime renewals, cancellations": ["prime_renewals", "prime_cancellations"],
    "days as member": ["prime_days_member"],
    "trial outcome": ["trial_outcome"],
    "orders and spend split between member and non-member days": [
        "orders_member", "orders_nonmember", "spend_member_cents", "spend_nonmember_cents",
    ],
    "purchases from the rival": ["rival_purchases"],
    "assistant consults": ["assistant_consults"],
    "ads seen and recognised": ["ads_seen", "ads_recognised"],
    "final trust and habit": ["final_trust", "final_habit"],
}  # fmt: skip
SPEC_SELLERS = {
    "entry and exit days": ["entry_day", "exit_day"],
    "category": ["category"],
    "products": ["products"],
    "fulfilment choice": ["fulfilment"],
    "units": ["units"],
    "revenue": ["revenue_cents"],
    "fees paid by kind": ["referral_fees_cents", "fulfilment_fees_cents"],
    "ad spend": ["ad_spend_cents"],
    "profit": ["profit_cents"],
    "platform's own retail arm": ["is_platform"],
}
SPEC_EVENTS = {
    "who": ["customer_id"],
    "what": ["product_id"],
    "price": ["price_cents"],
    "sponsored?": ["sponsored"],
    "via assistant?": ["via_assistant"],
    "ad recognised?": ["ad_recognised"],
    "delivery days": ["delivery_days"],
}
SPEC_MANIFEST = {
    "full resolved config": ["config"],
    "its hash": ["config_hash"],
    "seed": ["seed"],
    "package versions": ["packages"],
    "code version": ["code_version"],
    "start/end time": ["started_at", "finished_at"],
    "wall time": ["wall_time_s"],
    "peak memory": ["peak_memory_mb"],
    "row counts": ["rows"],
}
LABELS = ["run_id", "scenario", "seed"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ``flywheel run --events`` output folder, shared by read-only tests."""
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["run", str(BASELINE), "--out", str(out), "--events", "--quiet", *SMALL]) == 0
    return out


def test_run_writes_all_files_and_prints_a_summary(tmp_path: Path, capsys) -> None:
    """``flywheel run`` writes every table and the manifest and prints a summary."""
    out = tmp_path / "out"
    code = main(["run", str(BASELINE), "--out", str(out), *SMALL])
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {"daily.parquet", "customers.parquet", "sellers.parquet", "manifest.json"} <= names
    assert "events.parquet" not in names
    text = capsys.readouterr().out
    assert "platform share of purchases" in text
    assert str(out) in text
    assert pl.read_parquet(out / "daily.parquet").height == 12
    assert pl.read_parquet(out / "customers.parquet").height == 400


def test_console_script_runs_in_a_subprocess(tmp_path: Path) -> None:
    """``python -m sim.cli run`` exits 0 and writes the run."""
    out = tmp_path / "sub"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "run",
            str(BASELINE),
            "--out",
            str(out),
            "--quiet",
            *SMALL,
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "manifest.json").exists()


BAD_SETS = [
    pytest.param("prime.monthly_fee=1", "prime.monthly_fee", id="unknown-key"),
    pytest.param("prime.monthly_fee_cents=cheap", "prime.monthly_fee_cents", id="wrong-type"),
    pytest.param("run.days=0", "run.days", id="out-of-range"),
    pytest.param("assistant.ad_mode=sneaky", "assistant.ad_mode", id="bad-enum"),
    pytest.param("nokey", "nokey", id="no-equals"),
    pytest.param("assistant.model_scale=1e308", "assistant.model_scale", id="huge-scale"),
    pytest.param(
        "prime.monthly_fee_cents=9223372036854775807", "prime.monthly_fee_cents", id="int64-fee"
    ),
    pytest.param("catalogue.price_sigma=1e6", "catalogue.price_sigma", id="huge-spread"),
    pytest.param("sellers.markup_rate=1e12", "sellers.markup_rate", id="huge-markup"),
]


@pytest.mark.parametrize(("item", "key"), BAD_SETS)
def test_bad_set_is_one_line_exit_2_and_no_output(
    tmp_path: Path, capsys, item: str, key: str
) -> None:
    """A bad ``--set`` gives exactly one stderr line naming the key, exit 2, no folder."""
    out = tmp_path / "never"
    code = main(["run", str(BASELINE), "--out", str(out), "--set", item])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert key in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def _folder(path: Path) -> None:
    path.mkdir()


def _binary(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 4)


def _utf16(path: Path) -> None:
    path.write_text('[run]\nname = "x"\n', encoding="utf-16")


def _unreadable(path: Path) -> None:
    path.write_text('[run]\nname = "x"\n')
    path.chmod(0)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_folder, "is a folder"),
        (_binary, "not UTF-8"),
        (_utf16, "not UTF-8"),
        (_unreadable, "not readable"),
    ],
    ids=["directory", "binary", "utf-16", "unreadable"],
)
def test_a_config_that_is_not_a_toml_file_is_one_line_exit_2(
    tmp_path: Path, capsys, make, words: str
) -> None:
    """A config path that is a folder, binary, UTF-16 or unreadable: one line, exit 2."""
    import os

    cfg = tmp_path / "c.toml"
    make(cfg)
    if words == "not readable" and os.geteuid() == 0:
        cfg.chmod(0o644)
        pytest.skip("root reads any file")
    out = tmp_path / "never"
    code = main(["run", str(cfg), "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and words in err[0] and "c.toml" in err[0]
    assert not out.exists()


@pytest.mark.parametrize(
    ("where", "words"),
    [("file/x.md", "is a file, not a folder"), (".", "is a folder")],
    ids=["under-a-file", "a-folder"],
)
def test_validate_refuses_a_bad_out_before_running_any_seed(
    tmp_path: Path, capsys, where: str, words: str
) -> None:
    """``validate --out`` that could not be written is refused at once (no seed runs)."""
    import time

    (tmp_path / "file").write_text("x")
    t0 = time.perf_counter()
    code = main(["validate", "--out", str(tmp_path / where), "--seeds", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and words in err[0]
    assert time.perf_counter() - t0 < 5  # one seed of the baseline takes longer than this
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize("seed", [2**63, -1])
def test_a_seed_out_of_range_is_refused_before_running(tmp_path: Path, capsys, seed: int) -> None:
    """Seeds must fit a signed 64-bit integer; refused up front with one line."""
    out = tmp_path / "never"
    code = main(["run", str(BASELINE), "--out", str(out), "--seed", str(seed)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "seed" in err[0]
    assert not out.exists()


@pytest.mark.parametrize(
    ("section", "line", "key"),
    [
        ("prime", "monthly_fee = 1", "monthly_fee"),
        ("prime", 'monthly_fee_cents = "cheap"', "prime.monthly_fee_cents"),
        ("fees", "referral_fee_rate = 2.0", "fees.referral_fee_rate"),
        ("ads", 'format = "dutch"', "ads.format"),
    ],
    ids=["unknown-key", "wrong-type", "out-of-range", "bad-enum"],
)
def test_bad_config_file_is_one_line_exit_2_and_no_output(
    tmp_path: Path, capsys, section: str, line: str, key: str
) -> None:
    """A bad value in a config file gives one stderr line naming the key, exit 2, no folder."""
    cfg = tmp_path / "bad.toml"
    cfg.write_text(f'extends = "{BASELINE.as_posix()}"\n[{section}]\n{line}\n')
    out = tmp_path / "never"
    code = main(["run", str(cfg), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert key in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_bad_value_via_subprocess_exit_code_and_stderr(tmp_path: Path) -> None:
    """The real command exits 2 with one stderr line for a bad value, and writes nothing."""
    out = tmp_path / "never"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "run",
            str(BASELINE),
            "--out",
            str(out),
            "--set",
            "run.days=-3",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "run.days" in proc.stderr
    assert proc.stdout == ""
    assert not out.exists()


def test_existing_nonempty_out_is_refused_untouched(tmp_path: Path, capsys) -> None:
    """An existing non-empty ``--out`` is refused with exit 2 and its contents untouched."""
    out = tmp_path / "taken"
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    code = main(["run", str(BASELINE), "--out", str(out), "--quiet", *SMALL])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "--out" in err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # no temp folder left


def test_existing_empty_out_is_used(tmp_path: Path) -> None:
    """An existing empty ``--out`` folder is fine."""
    out = tmp_path / "empty"
    out.mkdir()
    assert main(["run", str(BASELINE), "--out", str(out), "--quiet", *SMALL]) == 0
    assert (out / "daily.parquet").exists()


def test_events_flag_writes_events_with_documented_columns(run_dir: Path) -> None:
    """``--events`` writes events.parquet, one row per purchase, with the documented columns."""
    ev = pl.read_parquet(run_dir / "events.parquet")
    daily = pl.read_parquet(run_dir / "daily.parquet")
    documented = [
        "day", "customer_id", "channel", "product_id", "seller_id", "category", "price_cents",
        "shipping_fee_cents", "sponsored", "via_assistant", "agentic", "ad_recognised",
        "member", "delivery_days",
    ]  # fmt: skip
    assert set(documented) <= set(ev.columns)
    # one row per simulated purchase; daily.parquet counts the market's (times the weight)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    for channel, column in (("platform", "orders"), ("rival", "rival_purchases")):
        counted = ev.filter(pl.col("channel") == channel).group_by("day").len()
        counted = daily.select("day").join(counted, on="day", how="left").fill_null(0)["len"]
        assert [round(manifest["weight"] * n) for n in counted] == daily[column].to_list()
    assert set(ev["channel"].unique().to_list()) <= {"platform", "rival"}
    assert manifest["rows"]["events"] == ev.height


def _missing(columns: list[str], spec: dict[str, list[str]]) -> list[str]:
    return [f"{item} -> {c}" for item, cols in spec.items() for c in cols if c not in columns]


@pytest.mark.parametrize(
    ("table", "spec"),
    [
        ("daily", SPEC_DAILY),
        ("customers", SPEC_CUSTOMERS),
        ("sellers", SPEC_SELLERS),
        ("events", SPEC_EVENTS),
    ],
)
def test_every_spec_output_column_exists(run_dir: Path, table: str, spec: dict) -> None:
    """Every output SPEC section 5 names for this table exists, and every row is labelled."""
    columns = pl.read_parquet_schema(run_dir / f"{table}.parquet")
    missing = _missing(list(columns), {**spec, "run labels": LABELS})
    assert missing == []


def test_every_spec_manifest_field_exists(run_dir: Path) -> None:
    """The manifest has every field SPEC section 5 names, and row counts match the files."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert _missing(list(manifest), SPEC_MANIFEST) == []
    assert manifest["config"]["run"]["n_customers"] == 400
    for name in ("daily", "customers", "sellers"):
        assert manifest["rows"][name] == pl.read_parquet(run_dir / f"{name}.parquet").height


# ----------------------------------------------------------------------------- fuzzing


def _fuzz_keys() -> list[str]:
    import dataclasses

    from sim.config import SECTIONS

    return [
        f"{name}.{f.name}"
        for name, cls in SECTIONS.items()
        for f in dataclasses.fields(cls)
        if f.type in ("int", "float") and name != "run"
    ]


_EXTREMES = st.sampled_from(
    [0, -1, 1, 2**31, 2**63 - 1, 2**63, 1e308, -1e308, 1e-308, 0.5, 1e6, 1e9, 100]
)


@settings(max_examples=60, deadline=None)
@given(key=st.sampled_from(_fuzz_keys()), value=_EXTREMES)
def test_fuzzed_values_end_in_exit_0_or_a_one_line_exit_2(key: str, value: object) -> None:
    """Any numeric key set to an extreme value: no traceback; exit 0 with sound money
    (no negative totals from overflow) or exit 2 with one line naming the key and
    nothing written."""
    import contextlib
    import io
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(
                ["run", str(BASELINE), "--out", str(out), "--days", "4",
                 "--set", "run.n_customers=300", "--set", "run.burn_in_days=0",
                 "--set", "attribution.counterfactual_twin=false", "--set", f"{key}={value}"]
            )  # fmt: skip
        lines = err.getvalue().strip().splitlines()
        assert code in (0, 2), (key, value, err.getvalue()[-400:])
        if code == 2:
            assert len(lines) == 1 and key in lines[0], (key, value, lines)
            assert not out.exists()
            return
        daily = pl.read_parquet(out / "daily.parquet")
        money = ["gmv_cents", "revenue_prime_cents", "ad_revenue_cents", "customer_payments_cents",
                 "cost_delivery_cents", "revenue_shipping_cents"]  # fmt: skip
        assert all(daily[c].min() >= 0 for c in money), (key, value)
