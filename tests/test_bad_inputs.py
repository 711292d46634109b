"""Issue 16's bad inputs that no other test covers: one line, exit 2, nothing written.

Covered elsewhere (not repeated here): a ``run`` config that is a folder, unreadable,
binary or UTF-16, ``validate --out`` under a file or at a folder, ``--seed 2**63``,
``model_scale=1e308`` and the monthly fee at int64 max via ``--set`` (test_cli.py);
``--resume`` over corrupted data pages and ``analyze`` over a table whose SHA-256
differs (test_sweep.py); two runs on one ``--out``, stale ``.tmp-out-PID/`` folders
and Ctrl-C on ``run`` (test_output_safety.py); temporaries ignored by the reports'
readers (test_verdicts.py); ``ads.advertiser_share`` 0 and 0.01 in the model
(test_model.py). Here: everything else the issue lists, through the command line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from conftest import BASELINE, REPO

from sim.cli import main
from sim.experiments import is_complete, run_sweep
from sim.model import MarketplaceModel

INT64_MAX = 2**63 - 1
TINY = ["--set", "run.n_customers=200", "--days", "5", "--set", "run.burn_in_days=0"]
SWEEP = f"""base = "{BASELINE.as_posix()}"
root_seed = 1
replicates = REPLICATES
[constants]
"run.n_customers" = 200
"run.days" = 5
"run.burn_in_days" = 0
"attribution.counterfactual_twin" = false
"""
#: A folder no process may create anything in, root included (Linux).
SYSTEM = Path("/proc")

#: The --out each command is given inside an unwritable folder (never created).
LEAVES = {"run": "fw-run-out", "sweep": "fw-sweep-out", "validate": "fw-validate.md"}
#: A case builds its inputs under tmp_path and returns (argv, text the line must name).
Case = Callable[[Path], tuple[list[str], str]]


def _sweep_file(tmp: Path, replicates: int = 1) -> Path:
    path = tmp / "sweep.toml"
    path.write_text(SWEEP.replace("REPLICATES", str(replicates)))
    return path


def _a_file(tmp: Path) -> Path:
    (tmp / "file").write_text("x")
    return tmp / "file"


def _read_only(tmp: Path) -> Path:
    if os.geteuid() == 0:
        pytest.skip("root writes into any folder (see the /proc case)")
    folder = tmp / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


def _system(tmp: Path) -> Path:
    if not SYSTEM.is_dir():
        pytest.skip(f"needs Linux's {SYSTEM}")
    return SYSTEM


def _run(out: Path | str, *extra: str) -> list[str]:
    return ["run", str(BASELINE), "--out", str(out), "--quiet", *TINY, *extra]


def _sweep(tmp: Path, out: Path | str) -> list[str]:
    return ["sweep", str(_sweep_file(tmp)), "--out", str(out), "--workers", "1", "--quiet"]


def _validate(out: Path | str, *extra: str) -> list[str]:
    return ["validate", str(BASELINE), "--out", str(out), "--seeds", "1", "--no-f7", *extra]


def _config_file(tmp: Path, section: str, line: str) -> list[str]:
    cfg = tmp / "big.toml"
    cfg.write_text(f'extends = "{BASELINE.as_posix()}"\n[{section}]\n{line}\n')
    return ["run", str(cfg), "--out", str(tmp / "never"), "--quiet", *TINY]


def _set(key: str, value: object) -> Case:
    return lambda tmp: (_run(tmp / "never", "--set", f"{key}={value}"), key)


def _sweep_def(write: Callable[[Path], None]) -> Case:
    def case(tmp: Path) -> tuple[list[str], str]:
        path = tmp / "s.toml"
        write(path)
        return ["sweep", str(path), "--out", str(tmp / "never"), "--quiet"], "s.toml"

    return case


@pytest.fixture(scope="module")
def one_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny finished run, copied into a fake sweep folder by the manifest cases."""
    out = tmp_path_factory.mktemp("run") / "run"
    assert main(_run(out)) == 0
    return out


def _manifest(
    claim: str, write: Callable[[Path], None]
) -> Callable[[Path, Path], tuple[list[str], str]]:
    def case(tmp: Path, run: Path) -> tuple[list[str], str]:
        folder = tmp / "sweep" / "scenario=a" / "seed=1"
        shutil.copytree(run, folder)
        (folder / "manifest.json").unlink()
        write(folder / "manifest.json")
        argv = ["analyze", claim, str(tmp / "sweep"), "--out", str(tmp / "report")]
        return argv, str(folder / "manifest.json")

    return case


def _validate_folder_config(tmp: Path) -> tuple[list[str], str]:
    (tmp / "c.toml").mkdir()
    return ["validate", str(tmp / "c.toml"), "--out", str(tmp / "v.md")], "c.toml"


def _text(text: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(text)


def _binary(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 4)


def _utf16(path: Path) -> None:
    path.write_text(SWEEP.replace("REPLICATES", "1"), encoding="utf-16")


def _out(command: str, where: Callable[[Path], Path], named: Callable[[Path], str]) -> Case:
    """``command``'s output path inside the folder ``where`` makes; the line names it."""
    leaf = LEAVES[command]

    def case(tmp: Path) -> tuple[list[str], str]:
        target = where(tmp) / leaf
        argv = {"run": _run, "validate": _validate}.get(command)
        return (argv(target) if argv else _sweep(tmp, target)), named(tmp)

    return case


def _file_named(tmp: Path) -> str:
    return str(tmp / "file")


def _ro_named(tmp: Path) -> str:
    return str(tmp / "ro")


def _system_named(tmp: Path) -> str:
    return str(SYSTEM)


def _in_file(key: str, line: str) -> Case:
    section = key.split(".")[0]
    return lambda tmp: (_config_file(tmp, section, line), key)


def _validate_set(key: str, value: object) -> Case:
    return lambda tmp: (_validate(tmp / "v.md", "--set", f"{key}={value}"), key)


CASES: list = [
    # --out that cannot be written: refused before the run, not with a traceback after it
    pytest.param(_out("run", _a_file, _file_named), id="run-out-under-a-file"),
    pytest.param(_out("run", _read_only, _ro_named), id="run-out-in-read-only-folder"),
    pytest.param(_out("run", _system, _system_named), id="run-out-in-system-folder"),
    pytest.param(_out("sweep", _a_file, _file_named), id="sweep-out-under-a-file"),
    pytest.param(_out("sweep", _read_only, _ro_named), id="sweep-out-in-read-only-folder"),
    pytest.param(_out("sweep", _system, _system_named), id="sweep-out-in-system-folder"),
    pytest.param(_out("validate", _read_only, _ro_named), id="validate-out-in-read-only-folder"),
    pytest.param(_out("validate", _system, _system_named), id="validate-out-in-system-folder"),
    # a sweep file or validate config that is not a TOML file
    pytest.param(_sweep_def(lambda p: p.mkdir()), id="sweep-file-directory"),
    pytest.param(_sweep_def(_binary), id="sweep-file-binary"),
    pytest.param(_sweep_def(_utf16), id="sweep-file-utf-16"),
    pytest.param(
        _sweep_def(lambda p: p.write_text(SWEEP.replace("root_seed = 1", f"root_seed = {2**63}"))),
        id="sweep-root-seed-2**63",
    ),
    pytest.param(_validate_folder_config, id="validate-config-directory"),
    # seeds of 2**63 or more, refused up front by every way of giving one
    pytest.param(_set("run.seed", 2**63), id="run-set-seed-2**63"),
    pytest.param(_validate_set("run.seed", 2**63), id="validate-seed-2**63"),
    pytest.param(_in_file("run.seed", f"seed = {2**63}"), id="config-file-seed-2**63"),
    # prices and fees at int64 max, and beyond; huge scales
    pytest.param(_set("catalogue.median_price_cents", INT64_MAX), id="price-int64-max"),
    pytest.param(_set("fees.fulfilment_fee_cents", INT64_MAX), id="fulfilment-fee-int64-max"),
    pytest.param(_set("prime.annual_fee_cents", INT64_MAX), id="annual-fee-int64-max"),
    pytest.param(_set("prime.shipping_fee_cents", INT64_MAX), id="shipping-fee-int64-max"),
    pytest.param(_set("ads.reserve_cents", INT64_MAX), id="reserve-price-int64-max"),
    pytest.param(_set("prime.monthly_fee_cents", 2**63), id="fee-beyond-int64"),
    pytest.param(_set("assistant.model_scale", "inf"), id="model-scale-inf"),
    # found by an exhaustive pass over the fuzz test's values: a catalogue of 10^8 or
    # more products exhausts memory, 10^6 budget batches a day take hours, a tilt this
    # steep overflows, a zero-day standard promise breaks the promise rule
    pytest.param(_set("sellers.products_per_seller", 1e6), id="products-per-seller-1e6"),
    pytest.param(_set("sellers.min_initial_per_category", 10**6), id="sellers-per-category-1e6"),
    pytest.param(
        _set("sellers.initial_per_category_per_1k", 1e6), id="sellers-per-1k-customers-1e6"
    ),
    pytest.param(_set("ads.batches_per_day", 10**6), id="budget-batches-1e6"),
    pytest.param(_set("assistant.intent_consult_elasticity", 100), id="consult-tilt-100"),
    pytest.param(_set("logistics.standard_days", 0), id="standard-promise-0-days"),
    pytest.param(
        _in_file("assistant.model_scale", "model_scale = 1e308"), id="config-file-model-scale-1e308"
    ),
    pytest.param(
        _in_file("fees.fulfilment_fee_cents", f"fulfilment_fee_cents = {INT64_MAX}"),
        id="config-file-fee-int64-max",
    ),
]

MANIFESTS = [
    pytest.param(_manifest("flywheel", _text("{oops")), id="manifest-not-json-flywheel"),
    pytest.param(_manifest("attribution", _text("{oops")), id="manifest-not-json-attribution"),
    pytest.param(_manifest("attribution", _text("[]")), id="manifest-json-list-attribution"),
    pytest.param(_manifest("flywheel", _text('{"sha256": "x"}')), id="manifest-no-config-flywheel"),
    pytest.param(
        _manifest("ad-opacity", _text('{"seed": "x", "config": []}')), id="manifest-wrong-types"
    ),
    pytest.param(_manifest("attribution", _binary), id="manifest-binary"),
    pytest.param(_manifest("flywheel", lambda p: p.mkdir()), id="manifest-a-folder"),
    pytest.param(_manifest("ad-opacity", _text("")), id="manifest-empty"),
]


def _tree(root: Path) -> list[tuple[str, int]]:
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size if p.is_file() else -1) for p in root.rglob("*")
    )


def _one_line_exit_2(argv: list[str], named: str, tmp: Path, capsys, monkeypatch) -> None:
    """``argv`` exits 2 before any model is built, with one ``flywheel: error:`` line
    naming ``named``, and leaves ``tmp`` as it was (nothing created, nothing removed)."""

    def no_model(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a model was built before the bad input was refused")

    monkeypatch.setattr(MarketplaceModel, "__init__", no_model)
    before = _tree(tmp)
    try:
        code = main(argv)
    finally:
        for folder in tmp.rglob("ro"):
            folder.chmod(0o755)  # so that pytest can remove tmp
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured.err
    assert len(lines) == 1 and lines[0].startswith("flywheel: error: "), lines
    assert named in lines[0], lines
    assert captured.out == ""
    assert _tree(tmp) == before
    assert not any((SYSTEM / leaf).exists() for leaf in LEAVES.values())


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    case: Case, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv, named = case(tmp_path)
    _one_line_exit_2(argv, named, tmp_path, capsys, monkeypatch)


@pytest.mark.parametrize("case", MANIFESTS)
def test_analyze_with_a_malformed_manifest_is_one_line_exit_2(
    case, one_run: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv, named = case(tmp_path, one_run)
    _one_line_exit_2(argv, named, tmp_path, capsys, monkeypatch)
    assert not (tmp_path / "report").exists()


@pytest.mark.parametrize("share", [0.0, 0.01], ids=["advertiser-share-0", "advertiser-share-0.01"])
def test_no_or_few_advertisers_run_from_the_command_line(share: float, tmp_path: Path) -> None:
    """A valid market without campaigns (or with almost none): exit 0 on several seeds."""
    for seed in range(3):
        out = tmp_path / f"seed{seed}"
        extra = [
            "--seed",
            str(seed),
            "--set",
            f"ads.advertiser_share={share}",
            "--set",
            "assistant.ad_mode=blended",
        ]
        assert main(_run(out, *extra)) == 0
        if share == 0.0:
            assert pl.read_parquet(out / "daily.parquet")["ad_revenue_cents"].sum() == 0


def test_ctrl_c_ends_a_sweep_with_one_line_and_130_keeping_finished_runs(tmp_path: Path) -> None:
    """SIGINT during ``flywheel sweep``: exit 130, one line pointing to --resume, no
    traceback; the runs finished so far are kept whole and no temporary is left."""
    out = tmp_path / "out"
    sweep = _sweep_file(tmp_path, 20)
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(sweep)]
    p = subprocess.Popen(
        [*cmd, "--out", str(out), "--workers", "1", "--quiet"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list(out.glob("**/manifest.json")):
        assert p.poll() is None and time.monotonic() < deadline, "no run finished"
        time.sleep(0.02)
    p.send_signal(signal.SIGINT)
    rc = p.wait(timeout=120)
    err = p.stderr.read() if p.stderr else ""
    assert rc == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "interrupted" in lines[0] and "--resume" in lines[0], err
    runs = json.loads((out / "sweep.json").read_text())["runs"]
    assert all(r["status"] != "failed" for r in runs)
    finished = [r for r in runs if (out / r["path"] / "manifest.json").exists()]
    assert 0 < len(finished) < len(runs)
    assert all(is_complete(out / r["path"]) for r in finished)
    assert not list(out.rglob(".tmp-*"))
    report = run_sweep(sweep, out, workers=1, resume=True, progress=False)
    assert report.ok and report.n_skipped == len(finished)  # kept, not run again
