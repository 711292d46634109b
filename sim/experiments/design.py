"""Experimental designs of a sweep's varied parameters: grid, zipped lists, Latin hypercube, Sobol
and Morris samples (SALib).

Part of :mod:`sim.experiments` (see its docstring for the sweep file format).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.config import Config
from sim.experiments.spec import (
    DESIGN_SPAWN_KEY,
    METHODS,
    _check_keys,
    _fail,
    _flatten,
    _int,
    _scalar_kind,
)

if TYPE_CHECKING:
    pass


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
        # the sample as drawn, before integer fields are rounded: SALib's analyzers
        # (analysis.sensitivity) need the matrix in this order
        record["matrix"] = matrix.tolist()
        points = []
        for row in matrix:
            point: dict[str, Any] = {}
            for key, x in zip(keys, row, strict=True):
                is_int = _scalar_kind(base.get(key)) is int
                point[key] = int(np.rint(x)) if is_int else float(x)
            points.append(point)
    record["keys"] = keys
    return record, points
