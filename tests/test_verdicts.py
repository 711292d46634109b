"""The analyses' statistics: the verdict rule, seeds to resolve, bootstrap intervals,
provenance, sensitivity indices, and analyses refusing a sweep of the wrong design."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from analysis import sensitivity
from analysis.common import (
    Claim,
    Estimate,
    Report,
    bootstrap,
    bootstrap_mean,
    bootstrap_ratio,
    judge,
    provenance_block,
    seeds_to_resolve,
)

ROOT = Path(__file__).resolve().parent.parent
BASE = str(ROOT / "configs" / "baseline.toml")


def est(lo: float, hi: float, n: int = 10) -> Estimate:
    return Estimate((lo + hi) / 2, lo, hi, n)


# ----------------------------------------------------------------------------- verdict rule


@pytest.mark.parametrize(
    ("lo", "hi", "verdict"),
    [
        (0.2, 0.4, "holds"),  # wholly beyond the margin
        (0.02, 0.08, "does not hold"),  # precise but within the margin: too small to matter
        (-0.04, 0.08, "does not hold"),  # straddles 0 but within the margin
        (-0.5, -0.2, "does not hold"),  # the other side
        (0.05, 0.3, "inconclusive"),  # reaches past the margin on one end only
        (-0.2, 0.3, "inconclusive"),  # straddles the margin and 0
    ],
)
def test_verdict_rule_on_synthetic_intervals(lo: float, hi: float, verdict: str) -> None:
    """Holds beyond the margin, does not hold within it or on the other side, else
    inconclusive; with margin 0.1 above threshold 0."""
    assert judge(est(lo, hi), 0.0, margin=0.1) == verdict


def test_verdict_rule_margin_edges() -> None:
    """An interval ending exactly on the margin: from below it does not hold (within the
    margin, inclusive); from above it is not wholly beyond it, so inconclusive."""
    assert judge(est(0.0, 0.1), 0.0, margin=0.1) == "does not hold"
    assert judge(est(0.1, 0.3), 0.0, margin=0.1) == "inconclusive"
    assert judge(est(0.1 + 1e-12, 0.3), 0.0, margin=0.1) == "holds"
    assert judge(est(0.1 - 1e-12, 0.1), 0.0, margin=0.1) == "does not hold"
    # margin 0: any interval excluding the threshold on the claimed side holds
    assert judge(est(1e-9, 1.0), 0.0, margin=0.0) == "holds"
    assert judge(est(0.0, 1.0), 0.0, margin=0.0) == "inconclusive"


def test_verdict_rule_is_symmetric_in_direction_and_threshold() -> None:
    """Mirroring the interval and the direction gives the same verdict; a threshold shifts it."""
    for lo, hi in [(0.2, 0.4), (0.02, 0.08), (0.05, 0.3), (-0.5, -0.2)]:
        greater = judge(est(lo, hi), 0.0, margin=0.1)
        assert judge(est(-hi, -lo), 0.0, margin=0.1, direction="less") == greater
        assert judge(est(lo + 1.0, hi + 1.0), 1.0, margin=0.1) == greater


def test_verdict_rule_without_an_interval_and_bad_arguments() -> None:
    assert judge(Estimate(1.0, math.nan, math.nan, 1), margin=0.1) == "inconclusive"
    assert judge(Estimate(1.0, 0.5, 1.5, 1), margin=0.1) == "inconclusive"  # one seed
    with pytest.raises(ValueError, match="direction"):
        judge(est(0, 1), direction="up")
    with pytest.raises(ValueError, match="margin"):
        judge(est(0, 1), margin=-0.1)


def test_seeds_to_resolve_scales_the_interval_by_one_over_root_n() -> None:
    """Half-width 0.05 beside a point 0.01 from the margin: (0.05 / 0.01)^2 = 25 times the
    seeds brings the end onto the margin; holds needs it strictly beyond (one more seed),
    does not hold allows it on the margin. Resolved or undecidable: as said."""
    assert seeds_to_resolve(Estimate(0.06, 0.01, 0.11, 10), margin=0.05) == 251
    assert seeds_to_resolve(Estimate(0.04, -0.01, 0.09, 10), margin=0.05) == 250
    assert seeds_to_resolve(Estimate(0.05, 0.0, 0.1, 10), margin=0.05) is None
    assert seeds_to_resolve(Estimate(0.3, 0.2, 0.4, 10), margin=0.1) == 10
    assert seeds_to_resolve(Estimate(0.3, math.nan, math.nan, 1), margin=0.1) is None
    # the promised number of seeds, with the interval shrunk as assumed, resolves it and
    # one seed fewer does not (0.07 with half-width 0.07: (0.07 / 0.02)^2 x 12 = 147 brings
    # the lower end exactly onto the margin 0.05)
    e = Estimate(0.07, 0.0, 0.14, 12)
    k = seeds_to_resolve(e, margin=0.05)
    assert k == 148

    def shrunk(seeds: int) -> Estimate:
        s = math.sqrt(e.n / seeds)
        return Estimate(
            e.value, e.value - (e.value - e.lo) * s, e.value + (e.hi - e.value) * s, seeds
        )

    assert judge(shrunk(k), margin=0.05) == "holds"
    assert judge(shrunk(k - 2), margin=0.05) == "inconclusive"
    f = Estimate(0.03, 0.0, 0.06, 12)  # the upper end must come down to 0.05
    kf = seeds_to_resolve(f, margin=0.05)
    assert kf == math.ceil(12 * (0.03 / 0.02) ** 2)
    s = math.sqrt(f.n / kf)
    assert (
        judge(Estimate(0.03, 0.03 - 0.03 * s, 0.03 + 0.03 * s, kf), margin=0.05) == "does not hold"
    )


def test_claim_note_says_how_many_seeds_only_when_inconclusive() -> None:
    c = Claim("effect", 0.05, "5%", "why")
    assert c.resolve_note(Estimate(0.06, 0.01, 0.11, 10)).startswith("About 251 seeds")
    assert c.resolve_note(Estimate(0.3, 0.2, 0.4, 10)) == ""
    assert "no interval" in c.resolve_note(Estimate(0.3, math.nan, math.nan, 1))


# ----------------------------------------------------------------------------- bootstrap


def test_bootstrap_is_bca_and_wider_than_percentile_on_skewed_data() -> None:
    """scipy's BCa: the same interval as a direct call, and corrected toward the skew."""
    from scipy import stats

    x = np.random.default_rng(3).lognormal(0.0, 1.0, 12)
    e = bootstrap_mean(x)
    direct = stats.bootstrap(
        (x,), np.mean, n_resamples=9999, method="BCa", rng=np.random.default_rng(20260101)
    )
    assert e.method == "BCa"
    # resampling indices rather than values: the same interval up to resampling noise
    assert e.lo == pytest.approx(direct.confidence_interval.low, rel=0.05)
    assert e.hi == pytest.approx(direct.confidence_interval.high, rel=0.05)
    pct = stats.bootstrap((x,), np.mean, n_resamples=9999, method="percentile",
                          rng=np.random.default_rng(20260101))  # fmt: skip
    assert e.hi > pct.confidence_interval.high  # BCa reaches further into the right tail


def test_bootstrap_degenerate_and_non_finite_resamples() -> None:
    """Identical seeds: a point interval. A ratio whose denominator is 0 in some resamples:
    the percentile interval of the finite ones, flagged. One seed: no interval."""
    same = bootstrap_mean([2.0, 2.0, 2.0, 2.0])
    assert (same.lo, same.hi, same.method) == (2.0, 2.0, "BCa")
    den = np.array([0.0, 0.0, 1.0, 2.0, 1.5, 0.5, 1.0, 2.0])
    r = bootstrap_ratio(den * 3.0, den)
    assert r.method == "percentile" and r.lo == pytest.approx(3.0) and r.hi == pytest.approx(3.0)
    assert "percentile" in r.fmt()
    one = bootstrap_mean([1.0])
    assert one.n == 1 and math.isnan(one.lo) and judge(one) == "inconclusive"
    # mostly undefined: no interval at all
    with np.errstate(divide="ignore"):
        mostly = bootstrap(np.array([0.0, 0.0, 0.0, 1.0]), lambda x: 1.0 / x[:, 0].min())
    assert math.isnan(mostly.lo)


def test_bootstrap_is_paired_resampling_whole_seeds() -> None:
    """Treated = control + 1 exactly, with large seed noise: the paired difference has a
    point interval at 1, which only whole-seed resampling gives."""
    control = np.random.default_rng(0).normal(0, 100, 10)
    e = bootstrap(np.column_stack([control + 1.0, control]), lambda x: (x[:, 0] - x[:, 1]).mean())
    assert e.lo == pytest.approx(1.0) and e.hi == pytest.approx(1.0)


# ----------------------------------------------------------------------------- reports


def _fake_sweep(root: Path, n: int = 3000, days: int = 200) -> None:
    """A sweep.json and two run manifests, as `flywheel sweep` writes them."""
    root.mkdir(parents=True)
    (root / "sweep.json").write_text(
        json.dumps(
            {
                "name": "quick",
                "definition_hash": "ab" * 32,
                "code_version": "v1",
                "counts": {"runs": 2, "done": 2},
                "definition": {
                    "source": str(root / "quick.toml"),
                    "source_sha256": "cd" * 32,
                    "root_seed": 42,
                },
            }
        )
    )
    for seed in (11, 12):
        run = root / "scenario=a" / f"seed={seed}"
        run.mkdir(parents=True)
        (run / "manifest.json").write_text(
            json.dumps(
                {
                    "seed": seed,
                    "code_version": "v1",
                    "config": {
                        "run": {"n_customers": n, "days": days, "burn_in_days": 60},
                        "market": {"population": 20000},
                    },
                }
            )
        )


def test_provenance_block_states_what_reproduces_the_report(tmp_path: Path) -> None:
    _fake_sweep(tmp_path / "s")
    block = provenance_block(tmp_path / "s", "flywheel analyze x s --out r")
    for needed in (
        "## Provenance",
        "`quick`",
        "cd" * 32,  # the sweep file's hash
        "ab" * 32,  # the runs' hash
        "`v1`",
        "3,000 simulated customers",
        "20,000 customers in the market",
        "200, of which the first 60 are burn-in",
        "2: 11, 12 (root seed 42)",
        "flywheel sweep",
        "`flywheel analyze x s --out r`",
        "the market is the calibrated baseline's",
    ):
        assert needed in block, needed


def test_report_starts_with_provenance_and_writes_nothing_until_written(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    r = Report(out=out, title="T", provenance="## Provenance\n\n| a | b |")
    c = Claim("effect", 0.1, "0.1", "reason")
    r.verdict(c, est(0.2, 0.4), "It is large.")
    r.add("details")
    assert not out.exists()
    text = r.write().read_text()
    lines = text.splitlines()
    assert lines[0] == "# T" and lines[2] == "## Provenance"
    assert text.index("## Provenance") < text.index("## Verdicts") < text.index("## Margins")
    assert "| effect | above 0 | 0.1 | reason |" in text


def test_sample_note_names_the_sample_and_ignores_temporaries(tmp_path: Path) -> None:
    """A quick sweep's report names its sample, its weight and that its market is the
    baseline's; a run from before the sample/market split (no market table: its market
    was its sample) is named as another market; dot-folders (temporaries) are ignored."""
    from analysis.common import BASELINE_POPULATION, sample_note
    from sim.config import Config

    assert Config().market.population == BASELINE_POPULATION
    _fake_sweep(tmp_path / "quick")
    tmp = tmp_path / "quick" / ".tmp-x-1"
    tmp.mkdir()
    (tmp / "manifest.json").write_text(
        json.dumps({"config": {"run": {"n_customers": 20000, "days": 365}}})
    )
    _fake_sweep(tmp_path / "paper", n=20000, days=365)
    quick = sample_note(tmp_path / "quick")
    assert "3,000 simulated customers of 20,000 x 200 days (weight 6.67)" in quick
    assert "market is the calibrated baseline's" in quick
    assert "every fact agrees with a 200,000-customer run" in quick  # how it was checked
    assert "x 365" not in quick
    assert "200,000-customer run" not in sample_note(tmp_path / "paper")
    old = tmp_path / "old" / "run"
    old.mkdir(parents=True)
    (old / "manifest.json").write_text(
        json.dumps({"config": {"run": {"n_customers": 3000, "days": 200}}})
    )
    assert "not the calibrated baseline's market" in sample_note(tmp_path / "old")


# ----------------------------------------------------------------------------- sensitivity


def _sobol_record(names: list[str], n: int) -> tuple[dict, np.ndarray]:
    from SALib.sample import sobol

    problem = {"num_vars": len(names), "names": names, "bounds": [[-math.pi, math.pi]] * 3
               + [[0.0, 1.0]] * (len(names) - 3)}  # fmt: skip
    x = sobol.sample(problem, n, calc_second_order=False, seed=1)
    record = {"method": "sobol", "problem": problem, "matrix": x.tolist(),
              "second_order": False}  # fmt: skip
    return record, x


def test_sobol_indices_rank_ishigami_and_give_a_dummy_zero() -> None:
    """Ishigami's function of x1..x3 with a fourth, unused parameter: ST ranks x1, x3, x2
    above the dummy and the dummy's ST interval includes 0."""
    record, x = _sobol_record(["x1", "x2", "x3", "dummy"], 512)
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    ind = sensitivity.indices(record, y)
    t = {r["parameter"]: r for r in ind.table.iter_rows(named=True)}
    assert t["dummy"]["rank"] == 4
    assert t["dummy"]["ST_lo"] <= 0.0 <= t["dummy"]["ST_hi"]
    assert t["x1"]["ST"] == pytest.approx(0.56, abs=0.1)  # analytic 0.558
    assert t["x2"]["ST"] == pytest.approx(0.44, abs=0.1)  # analytic 0.442
    for name in ("x1", "x2", "x3"):
        assert t[name]["ST_lo"] > 0.0


def test_morris_indices_screen_out_a_dummy() -> None:
    from SALib.sample import morris

    problem = {"num_vars": 3, "names": ["a", "b", "dummy"], "bounds": [[0, 1]] * 3}
    x = morris.sample(problem, 20, num_levels=4, seed=2)
    y = 3 * x[:, 0] + x[:, 1] ** 2
    record = {"method": "morris", "problem": problem, "matrix": x.tolist(), "levels": 4}
    ind = sensitivity.indices(record, y)
    assert ind.table["parameter"].to_list() == ["a", "b", "dummy"]
    assert ind.table.filter(parameter="dummy")["mu_star"].item() == 0.0


def test_sensitivity_refuses_an_outcome_without_variance() -> None:
    record, x = _sobol_record(["x1", "x2", "x3"], 8)
    with pytest.raises(ValueError, match="same at every design point"):
        sensitivity.indices(record, np.ones(len(x)))


SOBOL_SWEEP = """
base = "BASE"
root_seed = 11
replicates = 2
[constants]
"run.n_customers" = 400
"run.days" = 30
"run.burn_in_days" = 10
"attribution.counterfactual_twin" = false
[scenarios.none]
"assistant.ad_mode" = "none"
[scenarios.blended]
"assistant.ad_mode" = "blended"
[parameters]
method = "sobol"
n = 2
second_order = false
[parameters.bounds]
"assistant.ad_weight" = [0.0, 1.5]
"attribution.window_days" = [1, 30]
"""

CLAIM_SWEEP = """
base = "BASE"
root_seed = 12
replicates = 2
[constants]
"run.n_customers" = 300
"run.days" = 20
"run.burn_in_days" = 5
"attribution.counterfactual_twin" = false
[scenarios.none]
"assistant.ad_mode" = "none"
[scenarios.labelled]
"assistant.ad_mode" = "labelled"
[scenarios.blended]
"assistant.ad_mode" = "blended"
"""


def _sweep(tmp_path_factory: pytest.TempPathFactory, text: str, name: str) -> Path:
    from sim.experiments import run_sweep

    root = tmp_path_factory.mktemp(name)
    source = root / f"{name}.toml"
    source.write_text(text.replace("BASE", BASE))
    run_sweep(source, root / "runs", workers=2, progress=False)
    return root / "runs"


@pytest.fixture(scope="module")
def sobol_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real, tiny Sobol' sweep: 2 x (2 + 2) = 8 points x 2 scenarios x 2 seeds."""
    return _sweep(tmp_path_factory, SOBOL_SWEEP, "sobol")


@pytest.fixture(scope="module")
def ad_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real, tiny ad-opacity sweep (none, labelled, blended; no parameters)."""
    return _sweep(tmp_path_factory, CLAIM_SWEEP, "claim")


def test_a_parameter_that_decides_nothing_has_total_index_zero(sobol_sweep: Path) -> None:
    """attribution.window_days only changes how DSI is counted: on the model's own runs,
    paired by seed, its total Sobol' index interval includes 0 (it is 0: the runs at points
    that differ only in the window are identical), while the ad weight moves the outcome."""
    for contrast, outcome in [(("blended", "none"), "consumer_surplus_cents"), (None, "orders")]:
        params, y, per_seed = sensitivity.outcome_vector(
            sobol_sweep, outcome, scenario=None if contrast else "blended", contrast=contrast
        )
        ind = sensitivity.indices(params, y, per_seed)
        t = {r["parameter"]: r for r in ind.table.iter_rows(named=True)}
        dummy = t["attribution.window_days"]
        assert dummy["ST_lo"] <= 0.0 <= dummy["ST_hi"]
        assert abs(dummy["ST"]) < 1e-9
        assert t["assistant.ad_weight"]["rank"] == 1


def test_sensitivity_cli_ranks_and_writes_a_report(
    sobol_sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.cli import main

    out = tmp_path / "rep"
    args = ["--outcome", "consumer_surplus_cents", "--contrast", "blended-none"]
    code = main(["analyze", "sensitivity", str(sobol_sweep), *args, "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    text = (out / "report.md").read_text()
    assert text.splitlines()[2] == "## Provenance"
    assert "| 1 | `assistant.ad_weight` |" in text and "## Verdicts" not in text
    assert (out / "indices.png").stat().st_size > 0
    assert (out / "indices.csv").read_text().startswith("rank,parameter,S1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outcome", "orders"], "choose one with --scenario"),
        (["--outcome", "nope", "--scenario", "none"], "'nope' is not a column"),
        (["--outcome", "orders", "--contrast", "blended-gone"], "'gone' is not in the sweep"),
        (["--outcome", "orders", "--contrast", "blended"], "must be A-B"),
        (["--outcome", "orders/", "--scenario", "none"], "must be a daily column"),
        ([], "--outcome"),
    ],
)
def test_sensitivity_bad_arguments_are_one_line_and_write_nothing(
    sobol_sweep: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    from sim.cli import main

    out = tmp_path / "rep"
    code = main(["analyze", "sensitivity", str(sobol_sweep), "--out", str(out), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert not out.exists()


def test_sensitivity_on_a_sweep_without_a_sobol_design_is_one_line(
    ad_sweep: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sim.cli import main

    out = tmp_path / "rep"
    code = main(["analyze", "sensitivity", str(ad_sweep), "--outcome", "orders",
                 "--scenario", "none", "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and 'method = "sobol" or "morris"' in err[0]
    assert not out.exists()


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        ("flywheel", "lacks a customer-shock scenario"),
        ("attribution", "counterfactual_twin"),
    ],
)
def test_a_claim_analysis_on_the_wrong_sweep_is_one_line_exit_2(
    ad_sweep: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    claim: str,
    message: str,
) -> None:
    """`flywheel analyze flywheel` (or attribution) on an ad-opacity sweep: one error line
    naming what is missing, exit 2, and no report folder."""
    from sim.cli import main

    out = tmp_path / "rep"
    code = main(["analyze", claim, str(ad_sweep), "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("flywheel: error: ") and message in err[0], err
    assert not out.exists()


def test_ad_opacity_on_a_sweep_without_its_modes_is_one_line(
    ad_sweep: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The runs of one ad mode only (a copy of the sweep's ``none`` runs): one line naming
    the missing modes."""
    import shutil

    from sim.cli import main

    only_none = tmp_path / "only_none"
    shutil.copytree(ad_sweep / "scenario=none", only_none / "scenario=none")
    out = tmp_path / "rep"
    code = main(["analyze", "ad-opacity", str(only_none), "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert "lacks the ad modes blended" in err[0], err
    assert not out.exists()


def test_sensitivity_options_are_refused_by_claim_analyses(
    ad_sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.cli import main

    code = main(["analyze", "ad-opacity", str(ad_sweep), "--outcome", "orders",
                 "--out", str(tmp_path / "rep")])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "only sensitivity" in err[0]


def test_the_claim_analysis_of_a_real_sweep_starts_with_provenance(
    ad_sweep: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sim.cli import main

    out = tmp_path / "rep"
    assert main(["analyze", "ad-opacity", str(ad_sweep), "--out", str(out)]) == 0
    lines = (out / "report.md").read_text().splitlines()
    assert lines[2] == "## Provenance"
    text = "\n".join(lines)
    assert "sweep file SHA-256 | `" in text and "300 simulated customers" in text
    assert "## Margins" in text


SWEEPS = sorted((ROOT / "configs" / "sweeps").glob("*.toml"))


@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_every_shipped_sweep_loads_and_sensitivity_sweeps_record_their_design(path: Path) -> None:
    """Every shipped sweep resolves; a sensitivity sweep is Sobol' or Morris, records the
    matrix SALib's analyzer needs, and its header states its number of runs."""
    import re

    from sim.experiments import load_sweep

    sweep = load_sweep(path)
    assert sweep.runs and len(sweep.source_sha256) == 64
    if path.stem.startswith("sensitivity_"):
        params = sweep.definition()["parameters"]
        assert params["method"] in ("sobol", "morris")
        assert len(params["matrix"]) == len(params["points"])
        stated = {
            int(m.replace(",", "")) for m in re.findall(r"([\d,]+)(?: runs|:)", path.read_text())
        }
        assert len(sweep.runs) in stated, (len(sweep.runs), stated)
