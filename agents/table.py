"""Growable column storage for agent populations.

Agent state lives in numpy columns (one array per attribute) so that a day's
decisions are vectorised over whole populations. :class:`Table` keeps the
columns of a population that grows (sellers entering, products listed):
appending doubles capacity when needed, so growth costs amortised O(1) per
row, and ``table.col("name")`` is a view of the live rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

__all__ = ["Table", "shrunk_mean"]


class Table:
    """Columns of equal length that grow by appending rows.

    Parameters
    ----------
    schema
        Column name -> (dtype, fill value for new rows).

    Examples
    --------
    >>> t = Table({"x": (np.int64, 0), "y": (np.float64, 1.0)})
    >>> t.append(2, x=[5, 6])
    array([0, 1])
    >>> t.col("x").tolist(), t.col("y").tolist()
    ([5, 6], [1.0, 1.0])
    """

    def __init__(self, schema: Mapping[str, tuple[DTypeLike, object]], capacity: int = 16):
        self.schema = dict(schema)
        self.n = 0
        self._data = {
            name: np.full(capacity, fill, dtype=dtype) for name, (dtype, fill) in schema.items()
        }

    def __len__(self) -> int:
        return self.n

    def col(self, name: str) -> NDArray:
        """The live rows of column ``name`` (a view: writes go to the table)."""
        return self._data[name][: self.n]

    def append(self, count: int, **values: ArrayLike) -> NDArray[np.int64]:
        """Add ``count`` rows (unnamed columns take their fill value); return their indices."""
        unknown = set(values) - set(self._data)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")
        need = self.n + count
        cap = len(next(iter(self._data.values())))
        if need > cap:
            new_cap = max(need, 2 * cap)
            for name, arr in self._data.items():
                dtype, fill = self.schema[name]
                grown = np.full(new_cap, fill, dtype=dtype)
                grown[: self.n] = arr[: self.n]
                self._data[name] = grown
        rows = np.arange(self.n, need, dtype=np.int64)
        for name, value in values.items():
            self._data[name][self.n : need] = value
        self.n = need
        return rows


class RowView:
    """Mixin: attribute access to one row of a :class:`Table` (``self._table``, ``self.row``).

    Used by the Mesa agent classes whose state lives in columns, so that
    ``seller.profit_cents`` reads the seller's row without copying state.
    """

    _table: Table
    row: int

    def __getattr__(self, name: str) -> Any:
        table = self.__dict__.get("_table")
        if table is not None and name in table.schema:
            value = table.col(name)[self.__dict__["row"]]
            return value.item() if hasattr(value, "item") else value
        raise AttributeError(name)


def shrunk_mean(hits: Any, trials: Any, prior_mean: float, prior_weight: float) -> NDArray:
    """``(hits + prior_mean x prior_weight) / (trials + prior_weight)``: a rate or mean
    shrunk toward its prior (ratings, conversion rates); with neither trials nor prior
    weight it is the prior mean, not 0/0.

    >>> shrunk_mean(np.array([0, 3]), np.array([0, 4]), 0.1, 0.0).tolist()
    [0.1, 0.75]
    """
    total = prior_mean * prior_weight + hits
    count = prior_weight + trials
    return np.divide(total, count, out=np.full(np.shape(count), float(prior_mean)), where=count > 0)
