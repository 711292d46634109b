"""Discrete choice: multinomial logit over a consideration set.

Utilities are in logit units. A row of ``utility`` is one decision; entries
with ``available == False`` (padding, duplicates, products not considered)
cannot be chosen. Sampling adds standard Gumbel shocks and takes the
argmax, which reproduces the logit probabilities of
:func:`logit_probabilities` exactly in distribution (McFadden 1974) and
uses one shock per alternative, so paired runs share their shocks.

Examples
--------
>>> import numpy as np
>>> u = np.array([[0.0, np.log(3.0)]])
>>> logit_probabilities(u, np.ones_like(u, bool)).round(2)
array([[0.25, 0.75]])
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim import kernels

__all__ = ["binary_logit", "choose", "logit_probabilities", "logsum", "mark_duplicates"]


def logit_probabilities(utility: NDArray[np.float64], available: NDArray[np.bool_]) -> NDArray:
    """Row-wise multinomial-logit choice probabilities (0 where unavailable)."""
    u = np.where(available, utility, -np.inf)
    m = np.max(u, axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.where(available, np.exp(u - m), 0.0)
    total = e.sum(axis=1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def logsum(utility: NDArray[np.float64], available: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Row-wise expected maximum utility (the inclusive value), -inf if nothing available."""
    u = np.where(available, utility, -np.inf)
    m = np.max(u, axis=1)
    finite = np.isfinite(m)
    safe = np.where(finite, m, 0.0)
    s = np.where(available, np.exp(u - safe[:, None]), 0.0).sum(axis=1)
    return np.where(finite, safe + np.log(np.where(s > 0, s, 1.0)), -np.inf)


def choose(
    utility: NDArray[np.float64], available: NDArray[np.bool_], gumbel: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Index of the chosen alternative per row: argmax of utility plus Gumbel shock.

    Rows with nothing available return -1. ``gumbel`` has the shape of
    ``utility`` (draw it with ``rng.gumbel(size=...)``).
    """
    return kernels.argmax_available(
        np.ascontiguousarray(utility, dtype=np.float64),
        np.ascontiguousarray(available, dtype=np.bool_),
        np.ascontiguousarray(np.broadcast_to(gumbel, np.shape(utility)), dtype=np.float64),
    )


def binary_logit(
    diff: NDArray[np.float64], *, out: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Probability of the first of two options whose utility exceeds the other's by ``diff``.

    With ``out`` (a float64 array of ``diff``'s shape, ``diff`` itself allowed) the
    same numbers are worked out in it, without temporaries.

    >>> d = np.array([-1.0, 0.0, 2.0])
    >>> bool((binary_logit(d.copy(), out=d) == binary_logit(np.array([-1.0, 0.0, 2.0]))).all())
    True
    """
    if out is None:
        return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(diff, dtype=np.float64)))
    np.multiply(diff, 0.5, out=out)
    np.tanh(out, out=out)
    np.add(out, 1.0, out=out)
    np.multiply(out, 0.5, out=out)
    return out


def mark_duplicates(items: NDArray[np.int64]) -> NDArray[np.bool_]:
    """True where a row repeats an item already seen to its left (or the item is -1).

    >>> mark_duplicates(np.array([[3, 5, 3, -1]]))
    array([[False, False,  True,  True]])
    """
    return kernels.repeats(np.ascontiguousarray(items, dtype=np.int64))
