"""A command never deletes or replaces what it did not create: `flywheel run` outputs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from sim.runner import file_sha256

ROOT = Path(__file__).resolve().parents[1]
#: A run of a few seconds, so that two can overlap.
SMALL = ["--set", "run.n_customers=3000", "--set", "run.days=120"]


def _run(out: Path, size: list[str] = SMALL) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "sim.cli", "run", str(ROOT / "configs" / "baseline.toml")]
    return subprocess.Popen(
        [*cmd, "--out", str(out), *size],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _intact(out: Path) -> bool:
    manifest = json.loads((out / "manifest.json").read_text())
    return all(file_sha256(out / name) == d for name, d in manifest["sha256"].items())


def test_two_runs_on_one_out_one_wins_and_nothing_of_it_is_lost(tmp_path: Path) -> None:
    """Two `flywheel run` started on the same --out: exactly one exits 0, the other exits
    2 with one line saying where its own finished outputs are; the winner is intact."""
    out = tmp_path / "out"
    a, b = _run(out), _run(out)
    results = [(p.wait(timeout=300), p.stderr.read()) for p in (a, b)]
    codes = sorted(rc for rc, _ in results)
    assert codes == [0, 2], results
    loser = next(err for rc, err in results if rc == 2)
    assert "Traceback" not in loser and "finished outputs are in" in loser.strip().splitlines()[-1]
    assert _intact(out)
    kept = list(tmp_path.glob(".out.finished-*"))
    assert len(kept) == 1 and _intact(kept[0])
    assert not list(tmp_path.glob(".tmp-*"))


def test_a_file_put_into_out_during_a_run_is_kept(tmp_path: Path) -> None:
    """Someone writes into --out while the run works: the run leaves the folder alone,
    exits 2, and keeps its own outputs beside it."""
    out = tmp_path / "out"
    p = _run(out)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".tmp-out-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    rc = p.wait(timeout=300)
    assert rc == 2, p.stderr.read()
    assert [f.name for f in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "mine"
    assert len(list(tmp_path.glob(".out.finished-*"))) == 1


def test_stale_temporaries_are_cleaned_by_the_next_run(tmp_path: Path) -> None:
    """A temporary left by a killed run (its process gone) is removed by the next run on
    that folder; the analyses' readers skip dot-folders anyway."""
    stale = tmp_path / ".tmp-out-999999999"
    stale.mkdir()
    (stale / "daily.parquet").write_bytes(b"half")
    p = _run(tmp_path / "out")
    assert p.wait(timeout=300) == 0, p.stderr.read()
    assert not stale.exists()


def test_ctrl_c_ends_a_run_with_one_line_and_130_writing_nothing(tmp_path: Path) -> None:
    """SIGINT during `flywheel run`: exit 130, one line, no --out and no temporary left."""
    import signal

    out = tmp_path / "out"
    # long enough (tens of seconds) that the signal always lands inside the run
    p = _run(out, ["--set", "run.n_customers=20000", "--set", "run.days=3000"])
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".tmp-out-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    rc = p.wait(timeout=120)
    err = p.stderr.read()
    assert rc == 130, err
    assert "Traceback" not in err and "interrupted" in err.strip().splitlines()[-1]
    assert not out.exists() and not list(tmp_path.glob(".tmp-*"))
