"""Batch sweeps: many runs of the model from one declarative TOML file.

A sweep file names a base config, the scenarios to compare, the parameters to
vary and how (grid, zipped lists, Latin hypercube, Sobol or Morris samples),
constants for every run, the outcomes to summarise, a number of replicates
and one root seed. :func:`load_sweep` validates the whole file and builds
every run's :class:`~sim.config.Config` before anything runs, so a bad key or
value is reported at once, in one line that names it. :func:`run_sweep` then
executes the runs through any :class:`concurrent.futures.Executor` (in
process, a local process pool, or a Dask cluster) and writes

- one folder per run in hive layout,
  ``OUT/scenario=NAME/seed=N/<key>=<value>/.../`` with the run's
  ``daily.parquet``, ``customers.parquet``, ``sellers.parquet``, optional
  ``events.parquet`` and ``manifest.json``. Every row of every table also
  carries ``run_id``, ``scenario``, ``replicate``, ``seed`` and each swept
  parameter as real, typed columns, so
  ``polars.scan_parquet("OUT/**/daily.parquet", hive_partitioning=True)``
  reads the whole sweep with no joins (where a hive key and a column share a
  name polars keeps the file's column; they hold the same value);
- ``OUT/sweep.json``: the resolved sweep (with the SHA-256 of the sweep
  file's bytes, ``definition.source_sha256``), code and package versions, and the
  status of every run (``done`` with its wall time, ``failed`` with its
  traceback, or ``pending``), rewritten atomically as runs finish;
- ``OUT/summary.parquet``: one row per run with its labels, status, wall time
  and, for every outcome column of ``daily``, ``<outcome>_mean`` and
  ``<outcome>_total`` over the post-burn-in days.

A run is written (by :func:`sim.runner.simulate`) to ``.tmp-<leaf>-<pid>``
beside its folder and renamed into place only when complete, so a folder that
exists is a finished run. ``resume=True`` (``--resume``) keeps every complete
run, deletes stale ``.tmp-*`` folders and does the rest, failed runs
included; nothing already written is lost, and a folder holding anything
other than this same sweep (or this sweep, without ``resume``) is refused.
A lock file (``OUT/.lock``) keeps two sweeps from writing one folder, and
local pool workers exit when the sweep process dies. Failed runs do not stop
the others; their tracebacks go to ``sweep.json``.

Sweep file schema
-----------------
Top-level keys (anything else is rejected):

``base`` (string, required)
    Path of the base config, relative to the sweep file.
``name`` (string)
    Name of the sweep; defaults to the file's stem.
``description`` (string)
    Free text, recorded in ``sweep.json``.
``root_seed`` (integer in 0 .. 2**63 - 1, required)
    Every seed of the sweep derives from it.
``replicates`` (integer >= 1, default 1)
    Runs per scenario and parameter point. Replicate ``r`` has seed
    ``SeedSequence(root_seed, spawn_key=(r,)).generate_state(1, uint32)[0]``,
    the same for every scenario and point (common random numbers: every
    comparison between scenarios or points is paired by seed).
``outcomes`` (list of ``daily`` column names)
    Columns summarised in ``summary.parquet``; default every numeric column.
``[constants]``
    Dotted config overrides applied to every run, e.g. ``"run.days" = 365``.
``[scenarios.NAME]``
    One table of dotted overrides per named scenario (an empty table is the
    base config unchanged). ``NAME`` becomes ``run.name`` and the
    ``scenario`` column. Without ``[scenarios]`` there is one scenario named
    after the base config's ``run.name``. A scenario may also carry timed
    interventions, ``schedule = [{day = 150, set = {"rival.price_index" =
    0.9}}, ...]``, added to the base config's own ``[[schedule]]``.
``[parameters]``
    How the varied parameters are generated; ``method`` is one of

    - ``"grid"``: ``[parameters.values]`` maps keys to lists; every
      combination (cartesian product) is a point;
    - ``"list"``: ``[parameters.values]`` lists of equal length, zipped;
    - ``"lhs"``: ``[parameters.bounds]`` maps keys to ``[lo, hi]``; ``n``
      points of a Latin hypercube (``scipy.stats.qmc``);
    - ``"sobol"``: ``bounds``, ``n`` base samples (a power of two) and
      ``second_order`` (default true); Saltelli's scheme from
      ``SALib.sample.sobol``, ``n * (2 * k + 2)`` points for ``k`` keys
      (``n * (k + 2)`` without second order);
    - ``"morris"``: ``bounds``, ``n`` trajectories and ``levels`` (default
      4); ``SALib.sample.morris``, ``n * (k + 1)`` points.

    Samplers draw from ``SeedSequence(root_seed, spawn_key=(2**32 - 1,))``.
    Integer config fields get samples rounded to the nearest integer; the
    design actually run (every point, in order, the SALib ``problem`` and, for
    ``lhs``, ``sobol`` and ``morris``, the sample ``matrix`` before rounding) is
    recorded in ``sweep.json`` under ``definition.parameters`` for analysis
    (``flywheel analyze sensitivity``). Points that coincide (after rounding)
    are run once.

Keys are dotted config keys (``"assistant.ad_weight"``); a nested table
(``[constants.run]`` with ``days = 60``) means the same. ``run.seed`` and
``run.name`` belong to the sweep and may not be set. A key may be set in only
one of ``[constants]``, the scenarios, and ``[parameters]``; parameters take
scalar values (lists such as ``search.sponsored_positions`` go in scenarios).
Runs are ordered replicate by replicate, point by point, scenario by
scenario, so paired runs finish close together.

Examples
--------
>>> sweep = load_sweep("configs/sweeps/example.toml")  # doctest: +SKIP
>>> len(sweep.runs), sweep.runs[0].path  # doctest: +SKIP
(18, PosixPath('scenario=labelled/seed=959183449/assistant.ad_weight=0.0'))
>>> report = run_sweep(sweep, "runs/example", workers=2)  # doctest: +SKIP
>>> report.n_failed  # doctest: +SKIP
0

From the shell::

    flywheel sweep configs/sweeps/example.toml --out runs/example --workers 4
    flywheel sweep configs/sweeps/example.toml --out runs/example --resume
    flywheel sweep configs/sweeps/example.toml --out runs/example \\
        --backend dask --scheduler tcp://10.0.0.5:8786
"""

from __future__ import annotations

from sim.experiments.loading import load_sweep
from sim.experiments.run import SweepReport, run_sweep
from sim.experiments.spec import METHODS, Run, Sweep, SweepError, replicate_seeds
from sim.experiments.summary import probe_daily_columns
from sim.experiments.worker import RunOutcome, RunSpec, execute_run, is_complete

__all__ = [
    "METHODS",
    "Run",
    "RunOutcome",
    "RunSpec",
    "Sweep",
    "SweepError",
    "SweepReport",
    "execute_run",
    "is_complete",
    "load_sweep",
    "probe_daily_columns",
    "replicate_seeds",
    "run_sweep",
]
