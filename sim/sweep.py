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
- ``OUT/sweep.json``: the resolved sweep, code and package versions, and the
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
``root_seed`` (integer >= 0, required)
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
    design actually run (every point, in order, and the SALib ``problem``) is
    recorded in ``sweep.json`` under ``definition.parameters`` for analysis.
    Points that coincide (after rounding) are run once.

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

import argparse
import contextlib
import dataclasses
import datetime as dt
import difflib
import enum
import hashlib
import itertools
import json
import os
import re
import shutil
import socket
import sys
import threading
import time
import tomllib
import traceback
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.config import Config, ConfigError, from_dict, load_config

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "METHODS",
    "Run",
    "RunOutcome",
    "RunSpec",
    "Sweep",
    "SweepError",
    "SweepReport",
    "add_arguments",
    "execute_run",
    "is_complete",
    "load_sweep",
    "main",
    "probe_daily_columns",
    "register_cli",
    "replicate_seeds",
    "run_sweep",
]

#: Parameter-generation methods and the keys each takes besides ``method``.
METHODS: dict[str, tuple[str, ...]] = {
    "grid": ("values",),
    "list": ("values",),
    "lhs": ("bounds", "n"),
    "sobol": ("bounds", "n", "second_order"),
    "morris": ("bounds", "n", "levels"),
}
TOP_KEYS = (
    "base",
    "name",
    "description",
    "root_seed",
    "replicates",
    "outcomes",
    "constants",
    "scenarios",
    "parameters",
)
RESERVED_KEYS = ("run.seed", "run.name")
TABLES = ("daily", "customers", "sellers", "events")
FORMAT = "flywheel-sweep/1"
MAX_REPLICATES = 1_000_000
#: Spawn key of the samplers' stream; replicate keys stay below it.
DESIGN_SPAWN_KEY = 2**32 - 1
DAY_COLUMN = "day"
BURN_IN_COLUMN = "burn_in"
LABEL_COLUMNS = ("run_id", "scenario", "replicate", "seed")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*\Z")
_TMP_RE = re.compile(r"\.tmp-.+-\d+\Z")
_LOCK_NAME = ".lock"
_JSON_NAME = "sweep.json"
_SUMMARY_NAME = "summary.parquet"
_SAVE_INTERVAL_S = 1.0


class SweepError(ConfigError):
    """A sweep file, option or output folder that cannot be used; the message is one line."""


# ----------------------------------------------------------------------------- the plan


@dataclasses.dataclass(frozen=True)
class Run:
    """One planned run of a sweep.

    Attributes
    ----------
    run_id
        12 hex digits of SHA-256 over (scenario, seed, params): the same for
        the same run in every rerun, resume and backend.
    scenario, replicate, seed
        The scenario name, replicate index and the run's root seed.
    params
        The swept parameters of this run, typed as in the config
        (enums as their string values).
    config
        The run's fully resolved config (``run.name`` is the scenario,
        ``run.seed`` the seed).
    path
        The run's folder relative to the sweep's output folder.
    """

    run_id: str
    scenario: str
    replicate: int
    seed: int
    params: dict[str, Any]
    config: Config
    path: Path

    @property
    def labels(self) -> dict[str, Any]:
        """Constant columns added to every row of the run's tables."""
        return {
            "run_id": self.run_id,
            "scenario": self.scenario,
            "replicate": self.replicate,
            "seed": self.seed,
            **self.params,
        }


@dataclasses.dataclass(frozen=True)
class Sweep:
    """A validated sweep file with every run resolved (see the module docstring)."""

    name: str
    source: Path
    base: Path
    description: str
    root_seed: int
    replicates: int
    seeds: tuple[int, ...]
    outcomes: tuple[str, ...] | None
    constants: dict[str, Any]
    scenarios: dict[str, dict[str, Any]]
    parameters: dict[str, Any]
    param_keys: tuple[str, ...]
    base_config: Config
    runs: tuple[Run, ...]

    def hash(self) -> str:
        """SHA-256 identifying what the sweep runs: every run's id, folder and config hash.

        Names, descriptions and outcomes are not part of it, so a sweep whose
        summary columns change can still be resumed.
        """
        ident = [[r.run_id, r.path.as_posix(), r.config.hash()] for r in self.runs]
        return hashlib.sha256(_canonical(ident).encode()).hexdigest()

    def definition(self) -> dict[str, Any]:
        """The resolved sweep as a JSON-ready dict (recorded in ``sweep.json``)."""
        return {
            "name": self.name,
            "description": self.description,
            "source": str(self.source),
            "base": str(self.base),
            "root_seed": self.root_seed,
            "replicates": self.replicates,
            "seeds": list(self.seeds),
            "outcomes": None if self.outcomes is None else list(self.outcomes),
            "constants": self.constants,
            "scenarios": self.scenarios,
            "parameters": self.parameters,
            "base_config": self.base_config.to_dict(),
        }

    def table(self) -> pl.DataFrame:
        """One row per run: run_id, scenario, replicate, seed and the swept parameters."""
        import polars as pl

        return pl.DataFrame(
            [r.labels for r in self.runs],
            schema=_label_schema(self),
            orient="row",
        )


def _label_schema(sweep: Sweep) -> dict[str, Any]:
    import polars as pl

    schema: dict[str, Any] = {
        "run_id": pl.String,
        "scenario": pl.String,
        "replicate": pl.Int64,
        "seed": pl.Int64,
    }
    kinds = {bool: pl.Boolean, int: pl.Int64, float: pl.Float64, str: pl.String}
    for key in sweep.param_keys:
        schema[key] = kinds[_scalar_kind(sweep.base_config.get(key))]
    return schema


def replicate_seeds(root_seed: int, replicates: int) -> tuple[int, ...]:
    """The seed of each replicate, derived from the root seed.

    Replicate ``r`` gets the first 32-bit word of
    ``SeedSequence(root_seed, spawn_key=(r,))``, the ``r``-th child of
    ``SeedSequence(root_seed).spawn(replicates)``.

    Examples
    --------
    >>> replicate_seeds(12345, 3) == replicate_seeds(12345, 5)[:3]
    True
    """
    return tuple(
        int(np.random.SeedSequence(root_seed, spawn_key=(r,)).generate_state(1, np.uint32)[0])
        for r in range(replicates)
    )


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _scalar_kind(value: Any) -> type:
    if isinstance(value, bool):
        return bool
    if isinstance(value, enum.Enum | str):
        return str
    if isinstance(value, int):
        return int
    if isinstance(value, float):
        return float
    raise TypeError(type(value))


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _path_value(value: Any) -> str:
    """How a label value is spelt in a hive folder name (polars parses it back)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return urllib.parse.quote(str(value), safe="")


def _run_id(scenario: str, seed: int, params: Mapping[str, Any]) -> str:
    blob = _canonical([scenario, seed, sorted(params.items())])
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


# ----------------------------------------------------------------------------- loading


def _fail(where: str, message: str) -> SweepError:
    return SweepError(f"{where}: {message}")


def _flatten(where: str, table: Any) -> dict[str, Any]:
    """Dotted keys of a table; nested tables (``[constants.run]``) join with dots."""
    if not isinstance(table, Mapping):
        raise _fail(where, f"must be a table of dotted config keys, got {table!r}")
    out: dict[str, Any] = {}

    def walk(prefix: str, node: Mapping[str, Any]) -> None:
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, Mapping):
                walk(path, value)
            elif path in out:
                raise _fail(where, f"key {path!r} is given twice")
            else:
                out[path] = value

    walk("", table)
    return out


def _check_keys(where: str, keys: Sequence[str]) -> None:
    known = Config.keys()
    for key in keys:
        if key in RESERVED_KEYS:
            raise _fail(where, f"{key!r} is set by the sweep (scenario name, replicate seed)")
        if key not in known:
            near = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise _fail(where, f"unknown config key {key!r}{hint}")


def _int(where: str, value: Any, lo: int, hi: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < lo:
        raise _fail(where, f"must be an integer >= {lo}, got {value!r}")
    if hi is not None and value > hi:
        raise _fail(where, f"must be an integer <= {hi}, got {value!r}")
    return value


def _design(
    where: str, raw: Any, base: Config, root_seed: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The parameters section resolved: its JSON record and the points in design order."""
    if raw is None:
        return {"method": None, "keys": [], "points": [{}]}, [{}]
    if not isinstance(raw, Mapping):
        raise _fail(where, f"must be a table, got {raw!r}")
    method = raw.get("method", "grid")
    if method not in METHODS:
        raise _fail(
            f"{where}.method", f"unknown method {method!r}; use one of {', '.join(METHODS)}"
        )
    allowed = ("method", *METHODS[method])
    for key in raw:
        if key not in allowed:
            raise _fail(
                where, f"unknown key {key!r} for method {method!r}; allowed: {', '.join(allowed)}"
            )
    record: dict[str, Any] = {"method": method}
    if method in ("grid", "list"):
        if "values" not in raw:
            raise _fail(where, f"method {method!r} needs a [parameters.values] table")
        values = _flatten(f"{where}.values", raw["values"])
        if not values:
            raise _fail(f"{where}.values", "is empty: list at least one parameter")
        _check_keys(f"{where}.values", list(values))
        for key, vals in values.items():
            if not isinstance(vals, list):
                raise _fail(f"{where}.values", f"{key!r} must be a list of values, got {vals!r}")
            if not vals:
                raise _fail(f"{where}.values", f"{key!r} is an empty list (empty grid)")
            for v in vals:
                if not isinstance(v, bool | int | float | str):
                    raise _fail(
                        f"{where}.values",
                        f"{key!r} holds {v!r}: parameter values must be scalars "
                        "(put list-valued changes in scenarios)",
                    )
        keys = list(values)
        if method == "grid":
            rows = list(itertools.product(*values.values()))
        else:
            lengths = {len(v) for v in values.values()}
            if len(lengths) > 1:
                sizes = ", ".join(f"{k}: {len(v)}" for k, v in values.items())
                raise _fail(f"{where}.values", f"method 'list' needs equal lengths ({sizes})")
            rows = list(zip(*values.values(), strict=True))
        record["values"] = values
        points = [dict(zip(keys, row, strict=True)) for row in rows]
    else:
        if "bounds" not in raw:
            raise _fail(where, f"method {method!r} needs a [parameters.bounds] table")
        bounds = _flatten(f"{where}.bounds", raw["bounds"])
        if not bounds:
            raise _fail(f"{where}.bounds", "is empty: give at least one parameter")
        _check_keys(f"{where}.bounds", list(bounds))
        for key, b in bounds.items():
            ok = (
                isinstance(b, list)
                and len(b) == 2
                and all(isinstance(x, int | float) and not isinstance(x, bool) for x in b)
            )
            if not ok:
                raise _fail(f"{where}.bounds", f"{key!r} must be [lo, hi] numbers, got {b!r}")
            if not b[0] < b[1]:
                raise _fail(f"{where}.bounds", f"{key!r} = {b!r}: lo must be < hi")
            kind = _scalar_kind(base.get(key))
            if kind not in (int, float):
                raise _fail(
                    f"{where}.bounds",
                    f"{key!r} is not a numeric config field; sample it with method 'grid'",
                )
        if "n" not in raw:
            raise _fail(where, f"method {method!r} needs n (number of samples)")
        n = _int(f"{where}.n", raw["n"], 1)
        keys = list(bounds)
        problem = {"num_vars": len(keys), "names": keys, "bounds": [bounds[k] for k in keys]}
        rng = np.random.default_rng(
            np.random.SeedSequence(root_seed, spawn_key=(DESIGN_SPAWN_KEY,))
        )
        if method == "lhs":
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=len(keys), rng=rng).random(n)
            lo = np.array([bounds[k][0] for k in keys], dtype=float)
            hi = np.array([bounds[k][1] for k in keys], dtype=float)
            matrix = lo + unit * (hi - lo)
        elif method == "sobol":
            from SALib.sample import sobol

            if n & (n - 1):
                raise _fail(f"{where}.n", f"Sobol' sampling needs a power of two, got {n}")
            second = raw.get("second_order", True)
            if not isinstance(second, bool):
                raise _fail(f"{where}.second_order", f"must be true or false, got {second!r}")
            matrix = sobol.sample(problem, n, calc_second_order=second, seed=rng)
            record["second_order"] = second
        else:
            from SALib.sample import morris

            levels = _int(f"{where}.levels", raw.get("levels", 4), 2)
            matrix = morris.sample(problem, n, num_levels=levels, seed=rng)
            record["levels"] = levels
        record["bounds"] = bounds
        record["n"] = n
        record["problem"] = problem
        points = []
        for row in matrix:
            point: dict[str, Any] = {}
            for key, x in zip(keys, row, strict=True):
                is_int = _scalar_kind(base.get(key)) is int
                point[key] = int(np.rint(x)) if is_int else float(x)
            points.append(point)
    record["keys"] = keys
    return record, points


def _check_schedule(where: str, schedule: Any) -> list[dict[str, Any]]:
    """A scenario's ``schedule``: a list of ``{day = N, set = {key = value}}`` tables."""
    if not isinstance(schedule, list) or not schedule:
        raise _fail(where, "must be a non-empty list of {day = N, set = {...}} tables")
    out = []
    for i, entry in enumerate(schedule):
        if not isinstance(entry, Mapping) or set(entry) != {"day", "set"}:
            raise _fail(f"{where}[{i}]", "must be a table with exactly 'day' and 'set'")
        if not isinstance(entry["set"], Mapping):
            raise _fail(f"{where}[{i}].set", "must be a table of dotted config keys")
        _check_keys(f"{where}[{i}].set", list(entry["set"]))
        out.append({"day": entry["day"], "set": dict(entry["set"])})
    return out


def _with_schedule(cfg: Config, schedule: list[dict[str, Any]]) -> Config:
    """``cfg`` with a scenario's scheduled changes added to its own (validated)."""
    data = cfg.to_dict()
    data["schedule"] = [*data["schedule"], *schedule]
    return from_dict(data)


def load_sweep(path: str | Path) -> Sweep:
    """Read, validate and resolve a sweep file; build every run's config.

    Parameters
    ----------
    path
        A sweep TOML file (schema in the module docstring).

    Returns
    -------
    Sweep
        With ``runs`` in execution order.

    Raises
    ------
    SweepError
        With a one-line message naming the file and the problem: unknown
        top-level key, unknown config key, empty grid, bad sampler, wrong
        types, bounds with lo >= hi, replicates < 1, or a value the config
        rejects for some run.
    """
    source = Path(path)
    where = source.name
    try:
        raw = tomllib.loads(source.read_text())
    except FileNotFoundError:
        raise SweepError(f"sweep file not found: {source}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SweepError(f"{source}: cannot read ({err})") from None
    except tomllib.TOMLDecodeError as err:
        raise SweepError(f"{where}: not valid TOML ({err})") from None
    for key in raw:
        if key not in TOP_KEYS:
            raise _fail(where, f"unknown key {key!r}; allowed: {', '.join(TOP_KEYS)}")
    for key in ("base", "root_seed"):
        if key not in raw:
            raise _fail(where, f"missing required key {key!r}")

    name = raw.get("name", source.stem)
    if not isinstance(name, str) or not name:
        raise _fail(f"{where}: name", f"must be a non-empty string, got {name!r}")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise _fail(f"{where}: description", f"must be a string, got {description!r}")
    if not isinstance(raw["base"], str):
        raise _fail(f"{where}: base", f"must be a path string, got {raw['base']!r}")
    root_seed = _int(f"{where}: root_seed", raw["root_seed"], 0)
    replicates = _int(f"{where}: replicates", raw.get("replicates", 1), 1, MAX_REPLICATES)
    outcomes = raw.get("outcomes")
    if outcomes is not None:
        if (
            not isinstance(outcomes, list)
            or not outcomes
            or not all(isinstance(o, str) and o for o in outcomes)
        ):
            raise _fail(
                f"{where}: outcomes", f"must be a non-empty list of column names, got {outcomes!r}"
            )
        dupes = sorted({o for o in outcomes if outcomes.count(o) > 1})
        if dupes:
            raise _fail(f"{where}: outcomes", f"listed twice: {', '.join(dupes)}")
        outcomes = tuple(outcomes)

    base_path = (source.parent / raw["base"]).resolve()
    try:
        base = load_config(base_path)
    except ConfigError as err:
        raise _fail(f"{where}: base", str(err)) from None

    constants = _flatten(f"{where}: [constants]", raw.get("constants", {}))
    _check_keys(f"{where}: [constants]", list(constants))

    scen_raw = raw.get("scenarios")
    schedules: dict[str, list[dict[str, Any]]] = {}
    if scen_raw is None:
        scenarios: dict[str, dict[str, Any]] = {base.run.name: {}}
        if not _NAME_RE.match(base.run.name):
            raise _fail(
                where,
                f"base run.name {base.run.name!r} is not a folder-safe scenario name; "
                "add a [scenarios.NAME] table",
            )
    else:
        if not isinstance(scen_raw, Mapping) or not scen_raw:
            raise _fail(f"{where}: [scenarios]", "must hold at least one [scenarios.NAME] table")
        scenarios = {}
        for scen, table in scen_raw.items():
            if not _NAME_RE.match(scen):
                raise _fail(
                    f"{where}: [scenarios.{scen}]",
                    "scenario names use letters, digits and _ . + - (and start with a "
                    "letter or digit)",
                )
            table = dict(table) if isinstance(table, Mapping) else table
            schedule = table.pop("schedule", None) if isinstance(table, dict) else None
            overrides = _flatten(f"{where}: [scenarios.{scen}]", table)
            _check_keys(f"{where}: [scenarios.{scen}]", list(overrides))
            if schedule is not None:
                schedules[scen] = _check_schedule(f"{where}: [scenarios.{scen}] schedule", schedule)
            for key in overrides:
                if key in constants:
                    raise _fail(
                        where,
                        f"{key!r} is set in [constants] and in [scenarios.{scen}]; "
                        "set it in one place",
                    )
            scenarios[scen] = overrides
    for scen, schedule in schedules.items():  # recorded (and hashed) with the scenario
        scenarios[scen] = {**scenarios[scen], "schedule": schedule}

    record, points = _design(f"{where}: [parameters]", raw.get("parameters"), base, root_seed)
    keys = record["keys"]
    for key in keys:
        if key in constants:
            raise _fail(where, f"{key!r} is both a parameter and in [constants]")
        for scen, overrides in scenarios.items():
            if key in overrides:
                raise _fail(where, f"{key!r} is both a parameter and set in [scenarios.{scen}]")

    seeds = replicate_seeds(root_seed, replicates)
    if len(set(seeds)) < len(seeds):
        raise _fail(f"{where}: root_seed", "gives two replicates the same seed; pick another")

    # Build every run's config now so that bad values fail before anything runs.
    configs: dict[tuple[str, int], Config] = {}
    typed_points: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, point in enumerate(points):
        for scen, overrides in scenarios.items():
            changes = {**constants, **overrides, **point, "run.name": scen}
            changes.pop("schedule", None)
            try:
                cfg = base.evolve(changes)
                if scen in schedules:
                    cfg = _with_schedule(cfg, schedules[scen])
            except ConfigError as err:
                at = f"point {i} {point}" if point else ""
                raise _fail(f"{where}: [scenarios.{scen}] {at}".rstrip(), str(err)) from None
            typed = {k: _plain(cfg.get(k)) for k in keys}
            configs[(scen, i)] = cfg
        typed_points.append(typed)
        seen.setdefault(_canonical(typed), i)
    record["points"] = typed_points
    unique = sorted(set(seen.values()))

    runs: list[Run] = []
    for r, seed in enumerate(seeds):
        for i in unique:
            params = typed_points[i]
            for scen in scenarios:
                cfg = configs[(scen, i)]
                cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, seed=seed))
                folder = Path(f"scenario={scen}", f"seed={seed}")
                for key in keys:
                    folder /= f"{key}={_path_value(params[key])}"
                runs.append(
                    Run(
                        run_id=_run_id(scen, seed, params),
                        scenario=scen,
                        replicate=r,
                        seed=seed,
                        params=dict(params),
                        config=cfg,
                        path=folder,
                    )
                )
    return Sweep(
        name=name,
        source=source.resolve(),
        base=base_path,
        description=description,
        root_seed=root_seed,
        replicates=replicates,
        seeds=seeds,
        outcomes=outcomes,
        constants=constants,
        scenarios=scenarios,
        parameters=record,
        param_keys=tuple(keys),
        base_config=base,
        runs=tuple(runs),
    )


# ----------------------------------------------------------------------------- one run


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs for one run; small and picklable.

    ``config`` is :meth:`Config.to_dict`; the worker rebuilds the config and
    checks its hash against ``config_hash`` (a worker whose flywheel differs
    from the client's fails loudly instead of running another model).
    ``simulate`` is a module-level function with the signature of
    :func:`sim.runner.simulate`, or None for that function.
    """

    run_id: str
    config: dict[str, Any]
    config_hash: str
    seed: int
    labels: dict[str, Any]
    target: str
    simulate: Callable[..., Any] | None = None


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    """What a worker reports back about one run."""

    run_id: str
    status: str
    wall_seconds: float
    host: str
    pid: int
    finished_at: str
    error: str | None = None
    traceback: str | None = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _default_simulate() -> Callable[..., Any]:
    import sim.runner  # imported on first use: keeps importing this module cheap

    return sim.runner.simulate


def _manifest_rows(manifest: Mapping[str, Any]) -> dict[str, int] | None:
    rows = manifest.get("row_counts", manifest.get("rows"))
    if not isinstance(rows, Mapping):
        return None
    return {str(k): int(v) for k, v in rows.items() if isinstance(v, int)}


def is_complete(run_dir: str | Path) -> bool:
    """Whether ``run_dir`` holds a finished run.

    True when ``manifest.json`` parses and every table it counts rows of is a
    readable Parquet file with that many rows.
    """
    import pyarrow.parquet as pq

    folder = Path(run_dir)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        rows = _manifest_rows(manifest)
        if not rows or "daily" not in rows:
            return False
        for table, count in rows.items():
            if table not in TABLES:
                continue
            file = folder / f"{table}.parquet"
            if not file.exists() and table == "events" and count == 0:
                continue
            if pq.read_metadata(file).num_rows != count:
                return False
    except (OSError, ValueError, TypeError, AttributeError):
        return False
    return True


def execute_run(spec: RunSpec) -> RunOutcome:
    """Run one simulation into its folder; the folder appears only when complete.

    :func:`sim.runner.simulate` writes the run to a temporary folder
    (``.tmp-<leaf>-<pid>``) beside the target and renames it into place when
    every file is written. A target that is already complete is kept and
    reported done. An exception is caught and returned as a ``failed``
    outcome with its traceback.

    Parameters
    ----------
    spec
        The run to do.

    Returns
    -------
    RunOutcome
        ``status`` is ``"done"`` or ``"failed"``.
    """
    start = time.perf_counter()
    target = Path(spec.target)
    status, error, tb = "done", None, None
    try:
        if not is_complete(target):
            simulate = spec.simulate or _default_simulate()
            config = from_dict(spec.config)
            if config.hash() != spec.config_hash:
                raise RuntimeError(
                    "the config rebuilt on this worker differs from the sweep's: "
                    "is the same flywheel version installed on every worker?"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            simulate(config, seed=spec.seed, out_dir=target, labels=spec.labels)
            if not is_complete(target):
                raise RuntimeError(f"simulate returned but {target} is not a complete run")
    except Exception as err:
        status = "failed"
        error = f"{type(err).__name__}: {err}".splitlines()[0]
        tb = traceback.format_exc()
    return RunOutcome(
        run_id=spec.run_id,
        status=status,
        wall_seconds=round(time.perf_counter() - start, 3),
        host=socket.gethostname(),
        pid=os.getpid(),
        finished_at=_now(),
        error=error,
        traceback=tb,
    )


def _init_worker(parent_pid: int) -> None:
    """Start a pool worker: exit when the sweep process dies, and import the model now.

    Without the watch an orphaned worker would go on running (and writing)
    after its sweep was killed. Importing the model here lets every worker
    load it at once, while the first task (the outcomes probe) runs.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(70)

    threading.Thread(target=watch, name="flywheel-parent-watch", daemon=True).start()
    with contextlib.suppress(ImportError):  # a run that needs it will report the error
        import sim.runner  # noqa: F401


# ----------------------------------------------------------------------------- executors


class _InlineExecutor(Executor):
    """Runs each call at submit time in this process (``--workers 1``)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as err:
            future.set_exception(err)
        return future


@contextlib.contextmanager
def _open_executor(
    backend: str, workers: int | None, scheduler: str | None
) -> Iterator[tuple[Executor, int | None]]:
    """The executor for a backend and the number of runs to keep in flight (None: all)."""
    if backend == "local":
        n = workers or _cpu_count()
        if n == 1:
            yield _InlineExecutor(), 1
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # An explicit spawn context: safe with threads, and independent of the
        # process-wide start method that importing Mesa sets.
        pool = ProcessPoolExecutor(
            max_workers=n,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )
        # The pool spawns a worker per submit while none is idle: start all of
        # them now, so that they load the model in parallel (see _init_worker).
        for _ in range(n):
            pool.submit(os.getpid)
        try:
            yield pool, 2 * n
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    import logging

    from distributed import Client, LocalCluster

    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="30s")
        else:
            cluster = LocalCluster(
                n_workers=workers or _cpu_count(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
    except (OSError, TimeoutError, RuntimeError) as err:
        if cluster is not None:
            cluster.close()
        where = f"scheduler {scheduler}" if scheduler else "a local Dask cluster"
        raise SweepError(f"cannot connect to {where}: {err}") from None
    try:
        yield client.get_executor(pure=False), None
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# ----------------------------------------------------------------------------- the record


def _provenance() -> dict[str, Any]:
    """Code version and package versions, as every run's manifest records them."""
    from sim.output import code_version, package_versions

    return {"code_version": code_version(), "packages": package_versions()}


def _write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w") as fh:
        json.dump(data, fh, indent=1)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class _Record:
    """``sweep.json``: the resolved sweep and the status of every run."""

    def __init__(self, out: Path, sweep: Sweep, previous: Mapping[str, Any] | None) -> None:
        self.path = out / _JSON_NAME
        self.sweep = sweep
        old_runs = {r["run_id"]: r for r in (previous or {}).get("runs", [])}
        self.runs: dict[str, dict[str, Any]] = {}
        for run in sweep.runs:
            entry = {
                "run_id": run.run_id,
                "scenario": run.scenario,
                "replicate": run.replicate,
                "seed": run.seed,
                "params": run.params,
                "path": run.path.as_posix(),
                "config_hash": run.config.hash(),
                "status": "pending",
            }
            self.runs[run.run_id] = entry
        self.old_runs = old_runs
        self.created_at = (previous or {}).get("created_at", _now())
        self.sessions: list[dict[str, Any]] = list((previous or {}).get("sessions", []))
        self.last_save = 0.0
        self.provenance = _provenance()
        self.definition_hash = sweep.hash()
        self.definition = sweep.definition()

    def counts(self) -> dict[str, int]:
        statuses = [r["status"] for r in self.runs.values()]
        return {
            "runs": len(statuses),
            "done": statuses.count("done"),
            "failed": statuses.count("failed"),
            "pending": statuses.count("pending"),
        }

    def set_done_found(self, run: Run) -> None:
        """Mark a run found complete on disk, keeping what was recorded when it finished."""
        entry = self.runs[run.run_id]
        old = self.old_runs.get(run.run_id, {})
        if old.get("status") == "done":
            entry.update({k: v for k, v in old.items() if k not in entry})
        else:  # finished after the last save of sweep.json
            entry["note"] = "found complete on resume"
        entry["status"] = "done"

    def update(self, outcome: RunOutcome) -> None:
        entry = self.runs[outcome.run_id]
        for key in ("error", "traceback", "note"):
            entry.pop(key, None)
        entry.update(
            status=outcome.status,
            wall_seconds=outcome.wall_seconds,
            finished_at=outcome.finished_at,
            host=outcome.host,
            pid=outcome.pid,
        )
        if outcome.status != "done":
            entry.update(error=outcome.error, traceback=outcome.traceback)

    def save(self, *, force: bool = False) -> None:
        """Rewrite sweep.json atomically (at most once a second unless forced)."""
        now = time.monotonic()
        if not force and now - self.last_save < _SAVE_INTERVAL_S:
            return
        self.last_save = now
        counts = self.counts()
        data = {
            "format": FORMAT,
            "name": self.sweep.name,
            "definition_hash": self.definition_hash,
            "created_at": self.created_at,
            "updated_at": _now(),
            **self.provenance,
            "counts": counts,
            "wall_seconds": round(sum(s.get("wall_seconds") or 0.0 for s in self.sessions), 3),
            "sessions": self.sessions,
            "definition": self.definition,
            "runs": list(self.runs.values()),
        }
        _write_json_atomic(self.path, data)


# ----------------------------------------------------------------------------- summary


def _write_summary(out: Path, sweep: Sweep, record: _Record) -> Path:
    """``summary.parquet``: one row per run, with outcome means and totals after burn-in."""
    import polars as pl

    done = [r for r in sweep.runs if record.runs[r.run_id]["status"] == "done"]
    info = sweep.table().with_columns(
        status=pl.Series([record.runs[r.run_id]["status"] for r in sweep.runs], dtype=pl.String),
        wall_seconds=pl.Series(
            [record.runs[r.run_id].get("wall_seconds") for r in sweep.runs], dtype=pl.Float64
        ),
        burn_in_days=pl.Series([r.config.run.burn_in_days for r in sweep.runs], dtype=pl.Int64),
    )
    if not done:
        info.write_parquet(out / _SUMMARY_NAME)
        return out / _SUMMARY_NAME
    files = [str(out / r.path / "daily.parquet") for r in done]
    daily = pl.scan_parquet(files, hive_partitioning=False)
    schema = daily.collect_schema()
    skip = {*LABEL_COLUMNS, *sweep.param_keys, DAY_COLUMN}
    if sweep.outcomes is None:
        outcomes = [c for c, t in schema.items() if c not in skip and t.is_numeric()]
    else:
        outcomes = [c for c in sweep.outcomes if c in schema]
    if BURN_IN_COLUMN in schema:
        post = daily.filter(~pl.col(BURN_IN_COLUMN))
    else:
        burn = info.lazy().select("run_id", "burn_in_days")
        post = daily.join(burn, on="run_id").filter(pl.col(DAY_COLUMN) >= pl.col("burn_in_days"))
    agg = (
        post.select("run_id", *outcomes)
        .group_by("run_id")
        .agg(
            pl.len().alias("days_summarised"),
            *[pl.col(c).mean().alias(f"{c}_mean") for c in outcomes],
            *[pl.col(c).sum().alias(f"{c}_total") for c in outcomes],
        )
    )
    summary = info.lazy().join(agg, on="run_id", how="left", maintain_order="left").collect()
    summary.write_parquet(out / _SUMMARY_NAME)
    return out / _SUMMARY_NAME


def probe_daily_columns(
    config: Mapping[str, Any], simulate: Callable[..., Any] | None = None
) -> list[str]:
    """The numeric columns of ``daily``, from a one-day run of 100 customers of ``config``.

    The daily schema does not depend on the config, so this tiny run tells
    which outcomes a sweep can summarise. It runs where the sweep's runs run
    (a pool worker imports the model anyway), keeping the parent light.
    """
    probe = from_dict(config).evolve(
        {
            "run.days": 1,
            "run.burn_in_days": 0,
            "run.n_customers": 100,
            "run.record_events": False,
            "attribution.counterfactual_twin": False,
        }
    )
    daily = (simulate or _default_simulate())(probe).daily
    return [c for c, t in daily.schema.items() if t.is_numeric()]


def _daily_columns(
    sweep: Sweep,
    out: Path,
    complete: set[str],
    pool: Executor,
    simulate: Callable[..., Any] | None,
) -> list[str]:
    """Numeric daily columns: from a finished run's file, else from a probe run in ``pool``."""
    import polars as pl

    for run in sweep.runs:
        if run.run_id in complete:
            schema = pl.scan_parquet(out / run.path / "daily.parquet").collect_schema()
            return [c for c, t in schema.items() if t.is_numeric()]
    probe = pool.submit(probe_daily_columns, sweep.base_config.to_dict(), simulate)
    try:
        return probe.result()
    except Exception as err:
        message = f"cannot check outcomes: a one-day probe run failed ({type(err).__name__}: {err})"
        raise SweepError(message.splitlines()[0]) from err


def _check_outcomes(sweep: Sweep, numeric: Sequence[str]) -> None:
    """Reject outcomes that are not numeric columns of ``daily``."""
    for name in sweep.outcomes or ():
        if name not in numeric:
            near = difflib.get_close_matches(name, numeric, n=1) or [
                c for c in numeric if c.startswith(name)
            ]
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise SweepError(
                f"{sweep.source.name}: outcomes: {name!r} is not a numeric column of daily{hint}"
            )


# ----------------------------------------------------------------------------- running


@dataclasses.dataclass(frozen=True)
class SweepReport:
    """What :func:`run_sweep` did (or, for a dry run, would do).

    Attributes
    ----------
    out
        The output folder.
    plan
        One row per run: run_id, scenario, replicate, seed, params, status.
    n_runs, n_done, n_failed, n_pending
        Counts after this call; ``n_skipped`` runs were already complete.
    failed
        The run ids that failed.
    wall_seconds
        Wall time of this call.
    dry_run
        True when nothing was run or written.
    """

    out: Path
    plan: pl.DataFrame
    n_runs: int
    n_done: int
    n_failed: int
    n_pending: int
    n_skipped: int
    failed: tuple[str, ...]
    wall_seconds: float
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """Every run is done."""
        return self.n_done == self.n_runs


def _inspect_out(out: Path, sweep: Sweep) -> dict[str, Any] | None:
    """The previous sweep.json of this same sweep in ``out``, None if ``out`` is new or empty.

    Raises SweepError when ``out`` holds anything else.
    """
    if not out.exists():
        return None
    if not out.is_dir():
        raise SweepError(f"--out {out}: exists and is not a folder")
    entries = [
        p
        for p in out.iterdir()
        if p.name != _LOCK_NAME and not p.name.startswith(f".{_JSON_NAME}.tmp-")
    ]
    if not entries:
        return None
    file = out / _JSON_NAME
    if not file.is_file():
        raise SweepError(
            f"--out {out}: folder is not empty and holds no {_JSON_NAME}; "
            "choose a new or empty folder"
        )
    try:
        previous = json.loads(file.read_text())
        same = previous["definition_hash"] == sweep.hash()
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SweepError(f"{file}: unreadable ({err}); refusing to write into {out}") from None
    if not same:
        raise SweepError(
            f"--out {out}: holds a different sweep ({previous.get('name')!r}, "
            f"{previous.get('counts', {}).get('runs', '?')} runs); choose another folder"
        )
    return previous


@contextlib.contextmanager
def _lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out`` so that two sweeps never write into it at once."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: no locking
        yield
        return
    with open(out / _LOCK_NAME, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepError(f"--out {out}: another flywheel sweep is writing to it") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_stale(out: Path) -> int:
    """Delete leftover ``.tmp-*`` run folders and sweep.json temporaries; return how many."""
    stale = [
        p
        for p in out.rglob(".*")
        if (p.is_dir() and _TMP_RE.match(p.name))
        or (p.is_file() and p.name.startswith(f".{_JSON_NAME}.tmp-"))
    ]
    for p in stale:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    return len(stale)


def _check_options(backend: str, workers: int | None, scheduler: str | None) -> None:
    if backend not in ("local", "dask"):
        raise SweepError(f"--backend {backend!r}: use local or dask")
    if workers is not None and (
        not isinstance(workers, int) or isinstance(workers, bool) or workers < 1
    ):
        raise SweepError(f"--workers {workers!r}: must be an integer >= 1")
    if scheduler and backend != "dask":
        raise SweepError("--scheduler needs --backend dask")
    if scheduler and workers is not None:
        raise SweepError("--workers sizes a local cluster; with --scheduler the cluster decides")


def run_sweep(
    sweep: Sweep | str | Path,
    out: str | Path,
    *,
    workers: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    dry_run: bool = False,
    progress: bool = True,
    executor: Executor | None = None,
    simulate: Callable[..., Any] | None = None,
) -> SweepReport:
    """Run every run of a sweep that is not complete yet, and record it.

    Parameters
    ----------
    sweep
        A :class:`Sweep` or the path of a sweep file.
    out
        The output folder: new, empty, or (with ``resume``) holding this
        same sweep.
    workers
        Parallel runs: local processes, or the workers of a local Dask
        cluster; default the CPUs available. With the local backend,
        ``workers=1`` runs serially in this process.
    backend
        ``"local"`` (a spawn-context process pool) or ``"dask"``.
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); without
        it the Dask backend starts a ``LocalCluster``.
    resume
        Finish a sweep already started in ``out``: keep complete runs,
        delete stale temporaries, run the rest (failed runs included).
    dry_run
        Validate and plan only; write nothing.
    progress
        Show a tqdm bar over runs on stderr.
    executor
        Any :class:`concurrent.futures.Executor` to use instead of the
        backend's (it is not shut down here).
    simulate
        A module-level function used instead of :func:`sim.runner.simulate`
        (it must be importable by the workers).

    Returns
    -------
    SweepReport

    Raises
    ------
    SweepError
        Before anything is written, for an invalid sweep or options, or an
        output folder holding anything but this sweep (or this sweep without
        ``resume``).
    KeyboardInterrupt
        After recording the runs finished so far.
    """
    start = time.perf_counter()
    _check_options(backend, workers, scheduler)
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep)
    out = Path(out)
    previous = _inspect_out(out, sweep)
    complete = {r.run_id for r in sweep.runs if previous is not None and is_complete(out / r.path)}

    def plan(record: _Record | None) -> pl.DataFrame:
        import polars as pl

        if record is None:
            status = ["done" if r.run_id in complete else "pending" for r in sweep.runs]
        else:
            status = [record.runs[r.run_id]["status"] for r in sweep.runs]
        return sweep.table().with_columns(status=pl.Series(status, dtype=pl.String))

    if dry_run:
        if sweep.outcomes is not None:
            _check_outcomes(sweep, probe_daily_columns(sweep.base_config.to_dict(), simulate))
        return SweepReport(
            out=out,
            plan=plan(None),
            n_runs=len(sweep.runs),
            n_done=len(complete),
            n_failed=0,
            n_pending=len(sweep.runs) - len(complete),
            n_skipped=len(complete),
            failed=(),
            wall_seconds=time.perf_counter() - start,
            dry_run=True,
        )
    if previous is not None and not resume:
        raise SweepError(
            f"--out {out}: already holds this sweep ({len(complete)} of {len(sweep.runs)} runs "
            "complete); pass --resume to finish it"
        )

    if executor is not None:
        ctx: contextlib.AbstractContextManager[tuple[Executor, int | None]]
        ctx = contextlib.nullcontext((executor, None))
    elif len(complete) == len(sweep.runs):  # nothing to run: start no workers
        ctx = contextlib.nullcontext((_InlineExecutor(), 1))
    else:
        ctx = _open_executor(backend, workers, scheduler)
    with ctx as (pool, window):
        if sweep.outcomes is not None:
            _check_outcomes(sweep, _daily_columns(sweep, out, complete, pool, simulate))
        out.mkdir(parents=True, exist_ok=True)
        with _lock(out):
            previous = _inspect_out(out, sweep)  # again, now that no one else can write
            _remove_stale(out)
            record = _Record(out, sweep, previous)
            todo = []
            for run in sweep.runs:
                if previous is not None and is_complete(out / run.path):
                    record.set_done_found(run)
                    continue
                if (out / run.path).exists():  # an incomplete folder (cannot come from us)
                    shutil.rmtree(out / run.path)
                todo.append(run)
            skipped = len(sweep.runs) - len(todo)
            session: dict[str, Any] = {
                "started_at": _now(),
                "finished_at": None,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "backend": "executor" if executor is not None else backend,
                "workers": workers,
                "scheduler": scheduler,
                "resume": resume,
                "runs_to_do": len(todo),
                "wall_seconds": None,
            }
            record.sessions.append(session)
            record.save(force=True)
            try:
                _drive(sweep, out, todo, pool, window, record, progress, simulate)
            finally:
                session["finished_at"] = _now()
                session["wall_seconds"] = round(time.perf_counter() - start, 3)
                record.save(force=True)
            _write_summary(out, sweep, record)
    counts = record.counts()
    return SweepReport(
        out=out,
        plan=plan(record),
        n_runs=counts["runs"],
        n_done=counts["done"],
        n_failed=counts["failed"],
        n_pending=counts["pending"],
        n_skipped=skipped,
        failed=tuple(k for k, v in record.runs.items() if v["status"] == "failed"),
        wall_seconds=time.perf_counter() - start,
    )


def _drive(
    sweep: Sweep,
    out: Path,
    todo: list[Run],
    pool: Executor,
    window: int | None,
    record: _Record,
    progress: bool,
    simulate: Callable[..., Any] | None,
) -> None:
    """Submit the runs (at most ``window`` in flight) and record each as it finishes."""
    from tqdm import tqdm

    root = out.resolve()
    queue = iter(todo)
    in_flight: dict[Future[RunOutcome], Run] = {}
    n_done = len(sweep.runs) - len(todo)
    n_failed = 0
    bar = tqdm(
        total=len(sweep.runs),
        initial=n_done,
        desc=sweep.name,
        unit="run",
        disable=not progress,
        dynamic_ncols=True,
        file=sys.stderr,
    )

    def lost(run: Run, err: BaseException) -> RunOutcome:
        return RunOutcome(
            run_id=run.run_id,
            status="failed",
            wall_seconds=0.0,
            host=socket.gethostname(),
            pid=os.getpid(),
            finished_at=_now(),
            error=f"{type(err).__name__}: {err}".splitlines()[0],
            traceback="".join(traceback.format_exception(err)),
        )

    def settle(run: Run, outcome: RunOutcome) -> None:
        nonlocal n_done, n_failed
        record.update(outcome)
        if outcome.status == "done":
            n_done += 1
        else:
            n_failed += 1
        record.save(force=outcome.status != "done")
        bar.set_postfix(done=n_done, failed=n_failed, refresh=False)
        bar.update(1)

    def fill() -> None:
        while window is None or len(in_flight) < window:
            run = next(queue, None)
            if run is None:
                return
            spec = RunSpec(
                run_id=run.run_id,
                config=run.config.to_dict(),
                config_hash=run.config.hash(),
                seed=run.seed,
                labels=run.labels,
                target=str(root / run.path),
                simulate=simulate,
            )
            try:
                in_flight[pool.submit(execute_run, spec)] = run
            except RuntimeError as err:  # e.g. a broken process pool
                settle(run, lost(run, err))

    bar.set_postfix(done=n_done, failed=n_failed)
    try:
        fill()
        while in_flight:
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                run = in_flight.pop(future)
                try:
                    outcome = future.result()
                except Exception as err:  # the worker itself died, or could not unpickle
                    outcome = lost(run, err)
                settle(run, outcome)
            fill()
    finally:
        for future in in_flight:
            future.cancel()
        bar.close()


# ----------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sweep command's arguments to ``parser``."""
    parser.add_argument("sweep_file", metavar="SWEEP.toml", help="sweep definition")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="parallel runs (default: the CPUs available; 1 = serial, in process)",
    )
    parser.add_argument(
        "--backend",
        choices=("local", "dask"),
        default=None,
        help="local process pool (default) or Dask",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies dask)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="finish a sweep already started in DIR"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the runs and their count; write nothing"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _format_plan(plan: pl.DataFrame) -> str:
    cols = plan.columns
    rows = [[_cell(v) for v in row] for row in plan.iter_rows()]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _command(args: argparse.Namespace) -> int:
    """Carry out ``flywheel sweep``; the exit code: 0 all done, 1 runs failed, 2 bad input."""
    backend = args.backend or ("dask" if args.scheduler else "local")
    try:
        report = run_sweep(
            args.sweep_file,
            args.out,
            workers=args.workers,
            backend=backend,
            scheduler=args.scheduler,
            resume=args.resume,
            dry_run=args.dry_run,
            progress=not args.quiet,
        )
    except ConfigError as err:
        print(f"flywheel: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"flywheel: interrupted; finished runs are kept in {args.out}; "
            "rerun with --resume to finish",
            file=sys.stderr,
        )
        return 130
    if report.dry_run:
        count = f"{report.n_runs} runs"
        if report.n_done:
            count += f" ({report.n_done} already complete in {report.out})"
        try:
            print(_format_plan(report.plan))
            print(count)
            sys.stdout.flush()
        except BrokenPipeError:  # e.g. piped into head: not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if report.n_failed or report.n_pending:
        bad = report.n_failed + report.n_pending
        print(
            f"flywheel: {bad} of {report.n_runs} runs failed; see {report.out / _JSON_NAME}",
            file=sys.stderr,
        )
        return 1
    print(
        f"flywheel: {report.n_runs} runs done ({report.n_skipped} kept from before) "
        f"in {report.wall_seconds:.1f} s; summary in {report.out / _SUMMARY_NAME}"
    )
    return 0


def register_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``sweep`` subcommand to the ``flywheel`` command's subparsers.

    Parameters
    ----------
    subparsers
        What ``ArgumentParser.add_subparsers`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The subcommand's parser; its ``func(args)`` returns the exit code.
    """
    parser = subparsers.add_parser(
        "sweep",
        help="run a batch sweep (scenarios x parameters x replicates)",
        description=(
            "Run every run of a sweep file, in parallel, into DIR in hive layout, with "
            "DIR/sweep.json (status of every run) and DIR/summary.parquet."
        ),
    )
    add_arguments(parser)
    parser.set_defaults(func=_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.sweep SWEEP.toml --out DIR ...``: the sweep command on its own."""
    parser = argparse.ArgumentParser(prog="flywheel sweep", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return _command(parser.parse_args(argv))


if __name__ == "__main__":
    # Import the module by name so that pickled functions refer to sim.sweep, not __main__.
    from sim.sweep import main as _main

    raise SystemExit(_main())
