"""Reading a sweep file: schema and checks, scenarios and schedules, and ``load_sweep``; every
run's config is built and validated before the first run starts.

Part of :mod:`sim.experiments` (see its docstring for the sweep file format).
"""

from __future__ import annotations

import dataclasses
import hashlib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.config import Config, ConfigError, from_dict, load_config
from sim.experiments.design import _design
from sim.experiments.spec import (
    _NAME_RE,
    MAX_REPLICATES,
    TOP_KEYS,
    Run,
    Sweep,
    SweepError,
    _canonical,
    _check_keys,
    _fail,
    _flatten,
    _int,
    _path_value,
    _plain,
    _run_id,
    replicate_seeds,
)

if TYPE_CHECKING:
    pass


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
        data = source.read_bytes()
        raw = tomllib.loads(data.decode())
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
    root_seed = _int(f"{where}: root_seed", raw["root_seed"], 0, 2**63 - 1)  # as run.seed
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
        source_sha256=hashlib.sha256(data).hexdigest(),
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
