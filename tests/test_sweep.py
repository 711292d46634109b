"""Tests for sim.experiments: sweep files, seeds, backends, output layout, failures, resume."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import helpers_sweep
import numpy as np
import polars as pl
import psutil
import pytest

import sim.runner
from sim.cli import main as cli_main
from sim.experiments import Sweep, is_complete, load_sweep, replicate_seeds, run_sweep

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "configs" / "baseline.toml"

#: Runs of about a third of a second each.
TINY = """
[constants]
"run.days" = 20
"run.burn_in_days" = 5
"run.n_customers" = 300
"attribution.counterfactual_twin" = false
"""

#: Two scenarios x two ad weights; with root_seed 2 the two replicate seeds
#: straddle 2**31, so label columns must be Int64 in every file.
PAIRED = """
[scenarios.on]
"assistant.enabled" = true

[scenarios.off]
"assistant.enabled" = false

[parameters]
method = "grid"

[parameters.values]
"assistant.ad_weight" = [0.0, 0.5]
"""

#: One scenario whose runs raise under helpers_sweep.simulate_or_fail.
BROKEN = """
[scenarios.ok]
"assistant.enabled" = true

[scenarios.broken]
"assistant.enabled" = false
"""

TABLES = ("daily", "customers", "sellers")
ALL_TABLES = (*TABLES, "products", "prime_events", "events")


def write_sweep(folder: Path, tables: str = "", *, tiny: bool = True, **top: str | None) -> Path:
    """Write a sweep file; ``top`` holds raw TOML values of top-level keys (None drops one)."""
    header: dict[str, str | None] = {
        "base": json.dumps(BASE.as_posix()),
        "name": '"t"',
        "root_seed": "2",
        "replicates": "2",
    }
    header.update(top)
    lines = [f"{k} = {v}" for k, v in header.items() if v is not None]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sweep.toml"
    path.write_text("\n".join(lines) + "\n" + (TINY if tiny else "") + tables)
    return path


def table_bytes(out: Path) -> dict[str, bytes]:
    """Bytes of every run table of a sweep, by path relative to the sweep folder."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for name in ALL_TABLES
        for p in sorted(out.rglob(f"{name}.parquet"))
    }


def mtimes(out: Path) -> dict[str, int]:
    """Modification time of every file under ``out``."""
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*")}


def manifest_state(out: Path, sweep: Sweep) -> dict[str, tuple[int, bytes]]:
    """(mtime, bytes) of the manifest of every complete run."""
    state = {}
    for run in sweep.runs:
        file = out / run.path / "manifest.json"
        if is_complete(out / run.path):
            state[run.run_id] = (file.stat().st_mtime_ns, file.read_bytes())
    return state


def assert_complete_sweep(out: Path, sweep: Sweep) -> None:
    """Every run exactly once, complete and readable, and nothing half-written left."""
    found = sorted(p.parent.relative_to(out) for p in out.rglob("daily.parquet"))
    assert found == sorted(r.path for r in sweep.runs)
    assert not list(out.rglob(".tmp-*"))
    for run in sweep.runs:
        rows = json.loads((out / run.path / "manifest.json").read_text())["rows"]
        for name in TABLES:
            assert pl.read_parquet(out / run.path / f"{name}.parquet").height == rows[name]
    record = json.loads((out / "sweep.json").read_text())
    assert record["counts"] == {"runs": len(sweep.runs), "done": len(sweep.runs)} | {
        "failed": 0,
        "pending": 0,
    }
    summary = pl.read_parquet(out / "summary.parquet")
    assert sorted(summary["run_id"]) == sorted(r.run_id for r in sweep.runs)


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The PAIRED sweep (8 runs, with events) run serially: (sweep file, output folder)."""
    folder = tmp_path_factory.mktemp("serial")
    events = '"run.record_events" = true\n'  # still inside TINY's [constants]
    sweep_file = write_sweep(folder, events + PAIRED, outcomes='["gmv_cents", "platform_share"]')
    out = folder / "out"
    report = run_sweep(sweep_file, out, workers=1, progress=False)
    assert report.ok, report
    return sweep_file, out


# ----------------------------------------------------------------------------- plan and seeds


def test_replicate_seeds_derive_from_root_seed_and_pair_scenarios(tmp_path: Path) -> None:
    """Replicate r has SeedSequence(root_seed).spawn()[r]'s seed; all scenarios/points share it."""
    sweep = load_sweep(write_sweep(tmp_path, PAIRED, root_seed="12345", replicates="3"))
    spawned = [
        int(c.generate_state(1, np.uint32)[0]) for c in np.random.SeedSequence(12345).spawn(3)
    ]
    assert list(sweep.seeds) == spawned == list(replicate_seeds(12345, 3))
    table = sweep.table()
    assert table.height == 2 * 2 * 3
    per_replicate = table.group_by("replicate").agg(pl.col("seed").unique()).sort("replicate")
    assert per_replicate["seed"].to_list() == [[s] for s in spawned]
    per_cell = table.group_by("scenario", "assistant.ad_weight").agg(pl.col("seed").sort())
    assert all(seeds == sorted(spawned) for seeds in per_cell["seed"].to_list())
    for run in sweep.runs:
        assert (run.config.run.seed, run.config.run.name) == (run.seed, run.scenario)
        assert run.config.assistant.ad_weight == run.params["assistant.ad_weight"]
    again = load_sweep(tmp_path / "sweep.toml")
    assert again.table().equals(table) and again.hash() == sweep.hash()
    assert table["run_id"].n_unique() == table.height
    other = load_sweep(write_sweep(tmp_path / "b", PAIRED, root_seed="12346", replicates="3"))
    assert set(other.seeds).isdisjoint(sweep.seeds)


@pytest.mark.parametrize(
    ("method", "extra", "count"),
    [
        ("lhs", "n = 8", 8),
        ("sobol", "n = 4", 4 * (2 * 2 + 2)),
        ("sobol", "n = 4\nsecond_order = false", 4 * (2 + 2)),
        ("morris", "n = 3\nlevels = 4", 3 * (2 + 1)),
    ],
)
def test_samplers_give_seeded_points_within_bounds(
    tmp_path: Path, method: str, extra: str, count: int
) -> None:
    """LHS/Sobol/Morris: documented size, in bounds, integer fields rounded, seeded by root_seed."""
    tables = f"""
[parameters]
method = "{method}"
{extra}

[parameters.bounds]
"assistant.ad_weight" = [0.0, 2.0]
"prime.monthly_fee_cents" = [999, 1999]
"""
    sweep = load_sweep(write_sweep(tmp_path, tables, replicates="1"))
    points = sweep.parameters["points"]
    assert len(points) == count
    weights = [p["assistant.ad_weight"] for p in points]
    fees = [p["prime.monthly_fee_cents"] for p in points]
    assert all(isinstance(w, float) and 0.0 <= w <= 2.0 for w in weights)
    assert all(isinstance(f, int) and 999 <= f <= 1999 for f in fees)
    distinct = {(p["assistant.ad_weight"], p["prime.monthly_fee_cents"]) for p in points}
    assert len(sweep.runs) == len(distinct)
    for run in sweep.runs:
        assert run.config.prime.monthly_fee_cents == run.params["prime.monthly_fee_cents"]
    if method == "lhs":  # one point in each of the n strata of every dimension
        assert sorted(int(w / 2.0 * 8) for w in weights) == list(range(8))
    assert load_sweep(tmp_path / "sweep.toml").parameters["points"] == points
    other = load_sweep(write_sweep(tmp_path / "b", tables, replicates="1", root_seed="3"))
    assert other.parameters["points"] != points


def test_nested_tables_mean_dotted_keys(tmp_path: Path) -> None:
    """[constants.run] with days = 20 is the same sweep as "run.days" = 20."""
    nested = """
[constants.run]
days = 20
burn_in_days = 5
n_customers = 300

[constants.attribution]
counterfactual_twin = false
"""
    a = load_sweep(write_sweep(tmp_path / "a", PAIRED))
    b = load_sweep(write_sweep(tmp_path / "b", nested + PAIRED, tiny=False))
    assert a.hash() == b.hash()


def test_dry_run_prints_plan_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run prints every run (id, scenario, seed, params) and the count; creates nothing."""
    sweep_file = write_sweep(tmp_path, PAIRED)
    out = tmp_path / "out"
    assert cli_main(["sweep", str(sweep_file), "--out", str(out), "--dry-run"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == [
        "run_id",
        "scenario",
        "replicate",
        "seed",
        "assistant.ad_weight",
        "status",
    ]
    assert printed[-1] == "8 runs"
    for run in load_sweep(sweep_file).runs:
        assert any(
            line.split()[:4] == [run.run_id, run.scenario, str(run.replicate), str(run.seed)]
            for line in printed
        )
    assert not out.exists()


# ----------------------------------------------------------------------------- validation

MALFORMED = [
    (
        "unknown-parameter",
        {},
        '[parameters]\nmethod = "grid"\n[parameters.values]\n"assistant.ad_wieght" = [0.1]\n',
        "unknown config key 'assistant.ad_wieght'; did you mean 'assistant.ad_weight'?",
    ),
    (
        "empty-grid",
        {},
        '[parameters]\nmethod = "grid"\n[parameters.values]\n"assistant.ad_weight" = []\n',
        "'assistant.ad_weight' is an empty list (empty grid)",
    ),
    (
        "no-parameters",
        {},
        '[parameters]\nmethod = "grid"\n[parameters.values]\n',
        "[parameters].values: is empty",
    ),
    (
        "bad-sampler",
        {},
        '[parameters]\nmethod = "halton"\n[parameters.bounds]\n"assistant.ad_weight" = [0, 1]\n',
        "unknown method 'halton'",
    ),
    (
        "wrong-value-type",
        {},
        '[parameters]\nmethod = "grid"\n[parameters.values]\n"assistant.ad_weight" = ["high"]\n',
        "assistant.ad_weight = 'high': must be a number",
    ),
    (
        "value-out-of-range",
        {},
        '[scenarios.a]\n"assistant.ad_weight" = -1.0\n',
        "assistant.ad_weight = -1.0: must be between 0.0 and 100.0",
    ),
    (
        "replicates-type",
        {"replicates": '"3"'},
        "",
        "replicates: must be an integer >= 1, got '3'",
    ),
    ("replicates-zero", {"replicates": "0"}, "", "replicates: must be an integer >= 1, got 0"),
    ("unknown-top-key", {"replicas": "3"}, "", "unknown key 'replicas'"),
    ("missing-root-seed", {"root_seed": None}, "", "missing required key 'root_seed'"),
    ("missing-base", {"base": '"nope.toml"'}, "", "config file not found"),
    (
        "bounds-order",
        {},
        '[parameters]\nmethod = "lhs"\nn = 4\n'
        '[parameters.bounds]\n"assistant.ad_weight" = [1.0, 0.5]\n',
        "'assistant.ad_weight' = [1.0, 0.5]: lo must be < hi",
    ),
    (
        "bounds-on-enum",
        {},
        '[parameters]\nmethod = "lhs"\nn = 4\n[parameters.bounds]\n"assistant.ad_mode" = [0, 1]\n',
        "'assistant.ad_mode' is not a numeric config field",
    ),
    (
        "sobol-not-power-of-two",
        {},
        '[parameters]\nmethod = "sobol"\nn = 6\n'
        '[parameters.bounds]\n"assistant.ad_weight" = [0, 1]\n',
        "Sobol' sampling needs a power of two, got 6",
    ),
    (
        "list-lengths",
        {},
        '[parameters]\nmethod = "list"\n[parameters.values]\n'
        '"assistant.ad_weight" = [0.0, 0.5]\n"assistant.self_preference" = [0.1]\n',
        "method 'list' needs equal lengths",
    ),
    (
        "grid-with-n",
        {},
        '[parameters]\nmethod = "grid"\nn = 3\n'
        '[parameters.values]\n"assistant.ad_weight" = [0.0]\n',
        "unknown key 'n' for method 'grid'",
    ),
    (
        "reserved-seed",
        {},
        '[scenarios.a]\n"run.seed" = 7\n',
        "'run.seed' is set by the sweep",
    ),
    (
        "parameter-and-constant",
        {},
        '[parameters]\nmethod = "grid"\n[parameters.values]\n"run.days" = [10, 20]\n',
        "'run.days' is both a parameter and in [constants]",
    ),
    ("bad-scenario-name", {}, '[scenarios."a/b"]\n', "scenario names use letters"),
    (
        "unknown-outcome",
        {"outcomes": '["gmv"]'},
        "",
        "outcomes: 'gmv' is not a numeric column of daily; did you mean 'gmv_cents'?",
    ),
    ("not-toml", {"name": "unquoted words"}, "", "not valid TOML"),
]


@pytest.mark.parametrize(
    ("top", "tables", "message"),
    [pytest.param(t, b, m, id=i) for i, t, b, m in MALFORMED],
)
def test_malformed_sweep_is_rejected_before_any_run(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    top: dict[str, str | None],
    tables: str,
    message: str,
) -> None:
    """A malformed sweep exits 2 with one stderr line naming the problem; no output folder."""
    sweep_file = write_sweep(tmp_path, tables, **top)
    out = tmp_path / "out"
    assert cli_main(["sweep", str(sweep_file), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("flywheel: error: sweep.toml")
    assert message in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--workers", "0"], "--workers 0: must be an integer >= 1"),
        (["--backend", "local", "--scheduler", "tcp://x:1"], "--scheduler needs --backend dask"),
    ],
)
def test_bad_options_are_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    """Impossible command-line options exit 2 with one line and create no output."""
    out = tmp_path / "out"
    assert cli_main(["sweep", str(write_sweep(tmp_path, PAIRED)), "--out", str(out), *options]) == 2
    assert capsys.readouterr().err == f"flywheel: error: {message}\n"
    assert not out.exists()


# ----------------------------------------------------------------------------- outputs


def test_scan_parquet_reads_whole_sweep_without_joins(serial: tuple[Path, Path]) -> None:
    """scan_parquet over the hive layout: every row, labels and params as single typed columns."""
    sweep_file, out = serial
    sweep = load_sweep(sweep_file)
    plan = sweep.table()
    for name in ALL_TABLES:
        frame = pl.scan_parquet(out / "**" / f"{name}.parquet", hive_partitioning=True).collect()
        assert len(frame.columns) == len(set(frame.columns))
        assert {c: frame.schema[c] for c in plan.columns} == dict(plan.schema)
        rows = sum(
            json.loads((out / r.path / "manifest.json").read_text())["rows"][name]
            for r in sweep.runs
        )
        assert frame.height == rows
        labels = frame.select(plan.columns).unique().sort("run_id")
        assert labels.equals(plan.sort("run_id"))


def test_summary_has_one_row_per_run_with_post_burn_in_outcomes(serial: tuple[Path, Path]) -> None:
    """summary.parquet: one row per run; <outcome>_mean/_total cover the days not in burn-in."""
    sweep_file, out = serial
    sweep = load_sweep(sweep_file)
    summary = pl.read_parquet(out / "summary.parquet")
    assert summary["run_id"].to_list() == [r.run_id for r in sweep.runs]
    assert set(summary["status"]) == {"done"}
    for run, row in zip(sweep.runs, summary.iter_rows(named=True), strict=True):
        daily = pl.read_parquet(out / run.path / "daily.parquet").filter(~pl.col("burn_in"))
        assert row["days_summarised"] == daily.height == 15
        assert row["gmv_cents_total"] == daily["gmv_cents"].sum()
        assert row["platform_share_mean"] == pytest.approx(daily["platform_share"].mean())
        assert (row["scenario"], row["seed"]) == (run.scenario, run.seed)


def test_sweep_json_records_definition_versions_and_status(serial: tuple[Path, Path]) -> None:
    """sweep.json holds the resolved sweep, versions, and each run's status and wall time."""
    sweep_file, out = serial
    sweep = load_sweep(sweep_file)
    record = json.loads((out / "sweep.json").read_text())
    assert record["definition_hash"] == sweep.hash()
    assert record["definition"]["seeds"] == list(sweep.seeds)
    assert record["code_version"] and record["packages"]["polars"] == pl.__version__
    assert [r["run_id"] for r in record["runs"]] == [r.run_id for r in sweep.runs]
    assert all(r["status"] == "done" and r["wall_seconds"] > 0 for r in record["runs"])


# ----------------------------------------------------------------------------- refusing


def test_refuses_folder_holding_anything_but_this_sweep(
    serial: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A foreign folder, another sweep, or this one without --resume: exit 2, nothing touched."""
    sweep_file, out = serial
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    assert cli_main(["sweep", str(sweep_file), "--out", str(foreign), "--workers", "1"]) == 2
    assert "holds no sweep.json" in capsys.readouterr().err
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]

    before = mtimes(out)
    assert cli_main(["sweep", str(sweep_file), "--out", str(out), "--workers", "1"]) == 2
    assert "pass --resume to finish it" in capsys.readouterr().err
    other = write_sweep(tmp_path / "other", PAIRED, root_seed="3")
    assert cli_main(["sweep", str(other), "--out", str(out), "--resume", "--workers", "1"]) == 2
    assert "holds a different sweep" in capsys.readouterr().err
    assert mtimes(out) == before


def test_second_sweep_cannot_write_while_one_holds_the_folder(
    serial: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """While one sweep holds the folder's lock, a --resume into it exits 2."""
    sweep_file, out = serial
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    with open(copy / ".lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        rc = cli_main(["sweep", str(sweep_file), "--out", str(copy), "--resume", "--workers", "1"])
    assert rc == 2
    assert "another flywheel sweep is writing to it" in capsys.readouterr().err


def test_resume_of_finished_sweep_redoes_nothing(serial: tuple[Path, Path], tmp_path: Path) -> None:
    """--resume on a finished sweep runs nothing and leaves every run's files as they were."""
    sweep_file, out = serial
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    sweep = load_sweep(sweep_file)
    before = manifest_state(copy, sweep)
    tables = table_bytes(copy)
    report = run_sweep(sweep_file, copy, workers=1, resume=True, progress=False)
    assert (report.n_skipped, report.n_done) == (8, 8)
    assert manifest_state(copy, sweep) == before and table_bytes(copy) == tables
    assert_complete_sweep(copy, sweep)


# ----------------------------------------------------------------------------- slow


@pytest.mark.slow
def test_backends_write_identical_tables(serial: tuple[Path, Path], tmp_path: Path) -> None:
    """Serial, a 2-process pool and a 2-worker Dask LocalCluster write byte-identical tables."""
    from distributed import LocalCluster

    sweep_file, out = serial
    expected = table_bytes(out)
    assert len(expected) == 8 * len(ALL_TABLES)

    pool = tmp_path / "pool"
    assert run_sweep(sweep_file, pool, workers=2, progress=False).ok
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        dask = tmp_path / "dask"
        report = run_sweep(
            sweep_file, dask, backend="dask", scheduler=cluster.scheduler_address, progress=False
        )
        assert report.ok
    for other in (pool, dask):
        got = table_bytes(other)
        assert sorted(got) == sorted(expected)
        for name, data in expected.items():
            assert got[name] == data, f"{other.name}: {name} differs"


@pytest.mark.slow
def test_killed_sweep_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    """SIGKILL part way, then --resume: every run once, complete, no .tmp, finished runs kept."""
    sweep_file = write_sweep(tmp_path, PAIRED, replicates="3")
    sweep = load_sweep(sweep_file)
    out = tmp_path / "out"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(sweep_file), "--out", str(out)]
    proc = subprocess.Popen(
        [*cmd, "--workers", "2", "--quiet"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not any((out / r.path / "manifest.json").exists() for r in sweep.runs):
        assert proc.poll() is None, "the sweep ended before any run finished"
        assert time.monotonic() < deadline, "no run finished in 120 s"
        time.sleep(0.01)
    workers = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _, alive = psutil.wait_procs(workers, timeout=20)
    assert not alive, "pool workers outlived the killed sweep"

    before = manifest_state(out, sweep)
    assert 0 < len(before) < len(sweep.runs)
    resume = ["sweep", str(sweep_file), "--out", str(out), "--resume", "--workers", "1", "--quiet"]
    assert cli_main(resume) == 0
    assert_complete_sweep(out, sweep)
    after = manifest_state(out, sweep)
    assert {k: after[k] for k in before} == before


@pytest.mark.slow
def test_failed_run_is_recorded_and_the_rest_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A raising run is recorded with its traceback, others finish, exit 1; --resume redoes it."""
    tables = BROKEN
    sweep_file = write_sweep(tmp_path, tables)
    sweep = load_sweep(sweep_file)
    out = tmp_path / "out"
    args = ["sweep", str(sweep_file), "--out", str(out), "--workers", "1", "--quiet"]
    monkeypatch.setattr(sim.runner, "simulate", helpers_sweep.simulate_or_fail)
    assert cli_main(args) == 1
    assert capsys.readouterr().err == f"flywheel: 2 of 4 runs failed; see {out / 'sweep.json'}\n"
    record = {r["run_id"]: r for r in json.loads((out / "sweep.json").read_text())["runs"]}
    for run in sweep.runs:
        entry = record[run.run_id]
        if run.scenario == "broken":
            assert entry["status"] == "failed"
            assert entry["error"] == "RuntimeError: injected failure in scenario 'broken'"
            assert "Traceback" in entry["traceback"] and "simulate_or_fail" in entry["traceback"]
            assert not is_complete(out / run.path)
        else:
            assert entry["status"] == "done" and is_complete(out / run.path)
    summary = pl.read_parquet(out / "summary.parquet")
    assert summary.filter(pl.col("status") == "failed")["scenario"].to_list() == ["broken"] * 2
    assert summary.filter(pl.col("status") == "failed")["gmv_cents_mean"].null_count() == 2

    monkeypatch.undo()
    before = manifest_state(out, sweep)
    assert cli_main([*args, "--resume"]) == 0
    assert_complete_sweep(out, sweep)
    assert {k: v for k, v in manifest_state(out, sweep).items() if k in before} == before


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_its_runs_retried(
    serial: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker of a 2-worker local sweep dies in the middle of a run: the pool is
    restarted, the runs it took down are retried, every run finishes, and the tables
    are byte-identical to the serial sweep's."""
    sweep_file, reference = serial
    marker = tmp_path / "died"
    monkeypatch.setenv(helpers_sweep.DIE_ENV, str(marker))
    out = tmp_path / "out"
    report = run_sweep(
        sweep_file,
        out,
        backend="local",
        workers=2,
        progress=False,
        simulate=helpers_sweep.simulate_or_die,
    )
    assert marker.exists()  # a worker did die
    assert report.ok and report.n_failed == 0, report
    assert table_bytes(out) == table_bytes(reference)


@pytest.mark.slow
def test_failures_in_worker_processes_come_back_with_tracebacks(tmp_path: Path) -> None:
    """On a Dask LocalCluster a raising run fails alone and its traceback reaches sweep.json."""
    tables = BROKEN
    sweep_file = write_sweep(tmp_path, tables)
    out = tmp_path / "out"
    report = run_sweep(
        sweep_file,
        out,
        backend="dask",
        workers=2,
        progress=False,
        simulate=helpers_sweep.simulate_or_fail,
    )
    assert (report.n_done, report.n_failed) == (2, 2)
    record = json.loads((out / "sweep.json").read_text())
    failed = [r for r in record["runs"] if r["status"] == "failed"]
    assert {r["scenario"] for r in failed} == {"broken"}
    assert all("injected failure" in r["traceback"] for r in failed)


def test_resume_reruns_a_run_whose_data_pages_are_corrupted(
    serial: tuple[Path, Path], tmp_path: Path
) -> None:
    """Bytes flipped in the middle of a table (its footer intact, so it still opens) no
    longer match the manifest's SHA-256: --resume re-runs that run, and only that one,
    and the tables end as in the uninterrupted sweep."""
    sweep_file, out = serial
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    expected = table_bytes(copy)
    victim = sorted(copy.rglob("daily.parquet"))[0]
    data = bytearray(victim.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    victim.write_bytes(bytes(data))
    assert not is_complete(victim.parent)
    report = run_sweep(sweep_file, copy, workers=1, resume=True, progress=False)
    assert (report.n_skipped, report.n_done) == (7, 8)
    assert table_bytes(copy) == expected


def test_analyze_rejects_a_run_whose_table_does_not_match_its_manifest(
    serial: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A table altered after the run (SHA-256 mismatch): analyze exits 2 with one line
    naming the file, and writes no report."""
    _, out = serial
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    victim = sorted(copy.rglob("daily.parquet"))[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    rep = tmp_path / "rep"
    assert cli_main(["analyze", "attribution", str(copy), "--out", str(rep)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "SHA-256" in err[0] and str(victim) in err[0]
    assert not (rep / "report.md").exists()


def _interrupted_in_a_kernel(*args: object, **kwargs: object) -> None:
    """A simulate hit by Ctrl-C while numba loads a kernel: a SystemError caused by it."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as err:
        raise SystemError("CPUDispatcher returned a result with an exception set") from err


def _broken(*args: object, **kwargs: object) -> None:
    raise SystemError("a real failure")


def test_a_run_hit_by_ctrl_c_is_not_recorded_as_failed(tmp_path: Path) -> None:
    """A worker re-raises an error caused by Ctrl-C as the interrupt (the sweep stops
    with 130 and --resume redoes the run); any other error is the run's failure."""
    from sim.config import Config
    from sim.experiments.worker import RunSpec, execute_run

    cfg = Config()
    spec = RunSpec("r", cfg.to_dict(), cfg.hash(), 1, {}, str(tmp_path / "run"))
    with pytest.raises(KeyboardInterrupt):
        execute_run(dataclasses.replace(spec, simulate=_interrupted_in_a_kernel))
    out = execute_run(dataclasses.replace(spec, simulate=_broken))
    assert out.status == "failed" and out.error == "SystemError: a real failure"
