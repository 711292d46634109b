"""The sweep and its runs: the file format's constants, ``Sweep``, ``Run``, seeds and run ids.

Part of :mod:`sim.experiments` (see its docstring for the sweep file format).
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import hashlib
import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.config import Config, ConfigError

if TYPE_CHECKING:
    import polars as pl


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
TABLES = ("daily", "customers", "sellers", "products", "prime_events", "events")
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
    #: SHA-256 of the sweep file's bytes as read (reports cite it as provenance)
    source_sha256: str = ""

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
            "source_sha256": self.source_sha256,
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
