"""Golden regressions: a small run of the baseline and of every scenario reproduces the
summary statistics stored in ``tests/golden/<scenario>.json``.

A failure means results changed. If the change is deliberate (e.g. the baseline was
re-calibrated), regenerate with ``python tests/update_golden.py`` and commit the new
JSON with the change; otherwise it is a regression to fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from update_golden import CONFIG_PATHS, GOLDEN_DIR, REL_TOL, floats_close, golden_run

REGENERATE = "if deliberate, regenerate with `python tests/update_golden.py {name}`"


@pytest.mark.slow
@pytest.mark.parametrize("path", CONFIG_PATHS, ids=lambda p: p.stem)
def test_golden_statistics_unchanged(path: Path) -> None:
    """A small run of this scenario reproduces its stored golden statistics
    (integers exactly, float means to rel 1e-9)."""
    name = path.stem
    golden_file = GOLDEN_DIR / f"{name}.json"
    assert golden_file.exists(), f"no golden file {golden_file.name}; " + REGENERATE.format(
        name=name
    )
    want = json.loads(golden_file.read_text())
    got = golden_run(path)
    hint = REGENERATE.format(name=name)
    assert got["overrides"] == want["overrides"], f"golden run size changed; {hint}"
    diffs = [
        f"{k}: golden {want['ints'].get(k)} != now {v}"
        for k, v in got["ints"].items()
        if want["ints"].get(k) != v
    ]
    diffs += [
        f"{k}: golden {want['floats'].get(k)!r} != now {v!r} (rel {REL_TOL})"
        for k, v in got["floats"].items()
        if not floats_close(want["floats"].get(k), v)
    ]
    if got["config_hash"] != want["config_hash"]:
        diffs.insert(0, "config changed (hash differs)")
    assert not diffs, f"{name}: results changed; {hint}\n  " + "\n  ".join(diffs)


def test_every_shipped_config_has_a_golden_file() -> None:
    """Every shipped config has a golden file and no golden file is orphaned."""
    have = {p.stem for p in GOLDEN_DIR.glob("*.json")}
    want = {p.stem for p in CONFIG_PATHS}
    assert have == want, f"missing {sorted(want - have)}, orphaned {sorted(have - want)}"
