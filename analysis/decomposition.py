"""The flywheel multiplier by loop channel, and path dependence over seeds.

A flywheel sweep may hold loop channels at their burn-in state
(``flywheel.freeze`` in a scenario): for each freeze set it has a control and
a shocked scenario. The multiplier of a freeze set is computed as for the
live model (extra orders per day at the end over those right after the
shock, paired by seed). A channel's contribution is the live multiplier
minus the multiplier with that channel frozen, and its share is that
contribution over the live multiplier minus the multiplier with every channel
frozen (shares need not add to 1: channels interact). Intervals are
bootstraps over seeds, resampled jointly across scenarios.

Path dependence: the distribution over seeds of the platform's final share
(mean over the last days) for the control and for any ``strong_network``
scenario.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import polars as pl
from numpy.typing import NDArray

from analysis.common import Estimate, bootstrap

__all__ = ["CHANNELS", "channel_contributions", "final_shares", "multiplier_parts"]

#: The loop channels a scenario can freeze (``sim.config.LoopChannel``).
CHANNELS = (
    "seller_entry",
    "selection_value",
    "logistics_expansion",
    "habit",
    "reviews",
    "rival_response",
    "prime_adoption",
    "seller_pricing",
    "fulfilment_choice",
)


def _window(daily: pl.DataFrame, scen: str, lo: int, hi: int | None) -> pl.DataFrame:
    f = (pl.col("scenario") == scen) & (pl.col("day") >= lo)
    if hi is not None:
        f &= pl.col("day") < hi
    return daily.filter(f).group_by("seed").agg(pl.col("orders").mean().alias("v"))


def multiplier_parts(
    daily: pl.DataFrame,
    shock: str,
    control: str,
    impulse_start: int,
    impulse_days: int,
    final_days: int,
) -> pl.DataFrame:
    """Per seed: extra orders per day over ``impulse_days`` from ``impulse_start`` (the
    shock's direct effect, ``impulse``) and at the end of the run (``final``), shocked
    minus control."""
    last = int(daily["day"].max())
    out = []
    for name, lo, hi in (
        ("impulse", impulse_start, impulse_start + impulse_days),
        ("final", last - final_days + 1, None),
    ):
        a = _window(daily, shock, lo, hi).rename({"v": "a"})
        b = _window(daily, control, lo, hi).rename({"v": "b"})
        out.append(a.join(b, on="seed").select("seed", (pl.col("a") - pl.col("b")).alias(name)))
    return out[0].join(out[1], on="seed").sort("seed")


def _ratio(final: NDArray[np.float64], impulse: NDArray[np.float64]) -> float:
    d = impulse.mean()
    return float(final.mean() / d) if d != 0 else float("nan")


def channel_contributions(
    parts: Mapping[tuple[str, ...], pl.DataFrame],
) -> dict[str, dict[str, Estimate]]:
    """Multiplier of every freeze set, and each single channel's contribution and share.

    ``parts`` maps a freeze set (sorted tuple; ``()`` is the live model) to its
    :func:`multiplier_parts`. Returns ``{"multiplier": {label: est}, "contribution":
    {channel: est}, "share": {channel: est}}`` with labels ``"live"``, ``"all frozen"``
    or the frozen channels joined by ``+``.
    """
    keys = sorted(parts, key=lambda k: (len(k), k))
    seeds = None
    for k in keys:
        s = set(parts[k]["seed"].to_list())
        seeds = s if seeds is None else seeds & s
    if not seeds or () not in parts:
        return {"multiplier": {}, "contribution": {}, "share": {}}
    order = sorted(seeds)
    cols = []
    for k in keys:
        f = parts[k].filter(pl.col("seed").is_in(order)).sort("seed")
        cols += [f["final"].to_numpy(), f["impulse"].to_numpy()]
    data = np.column_stack(cols)
    index = {k: i for i, k in enumerate(keys)}

    def m_of(k: tuple[str, ...]) -> Callable[[NDArray[np.float64]], float]:
        i = 2 * index[k]
        return lambda x: _ratio(x[:, i], x[:, i + 1])

    everything = max(keys, key=len)
    all_frozen = everything if set(everything) >= set(CHANNELS) else None
    out: dict[str, dict[str, Estimate]] = {"multiplier": {}, "contribution": {}, "share": {}}
    for k in keys:
        label = "live" if not k else ("all frozen" if k == all_frozen else " + ".join(k))
        out["multiplier"][label] = bootstrap(data, m_of(k))
    live = m_of(())
    for k in keys:
        if len(k) != 1:
            continue
        frozen = m_of(k)
        out["contribution"][k[0]] = bootstrap(data, lambda x, f=frozen: live(x) - f(x))
        if all_frozen is not None:
            base = m_of(all_frozen)

            def share(x: NDArray[np.float64], f: Callable = frozen, b: Callable = base) -> float:
                total = live(x) - b(x)
                return (live(x) - f(x)) / total if total != 0 else float("nan")

            out["share"][k[0]] = bootstrap(data, share)
    return out


def final_shares(daily: pl.DataFrame, scenarios: Sequence[str], final_days: int) -> dict:
    """Scenario -> the platform's share of purchases over the last ``final_days`` days,
    one value per seed."""
    last = int(daily["day"].max())
    out = {}
    for scen in scenarios:
        f = daily.filter((pl.col("scenario") == scen) & (pl.col("day") > last - final_days))
        g = f.group_by("seed").agg(
            (pl.col("orders").sum() / (pl.col("orders") + pl.col("rival_purchases")).sum()).alias(
                "share"
            )
        )
        out[scen] = g.sort("seed")["share"].to_numpy()
    return out
