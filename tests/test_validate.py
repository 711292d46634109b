"""The ``validate`` command: facts table, markdown output, exit codes."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.validate import FACTS, FactRow, derive_seeds, format_table, summarise

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
    assert sorted(rows, key=lambda k: int(k[1:])) == [f"F{i}" for i in range(1, 13)]
    any_outside = False
    for key, r in rows.items():
        lo, hi, mean = float(r["lo"]), float(r["hi"]), float(r["mean"])
        assert (lo, hi) == pytest.approx((FACTS[key].lo, FACTS[key].hi))
        assert r["inside"] in {"yes", "no"}
        inside = math.isfinite(mean) and lo <= mean <= hi
        assert (r["inside"] == "yes") == inside, key
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
