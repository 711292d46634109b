"""Simulated vs public facts: the ``flywheel validate`` command.

:func:`compute_facts` is a pure function from one run's tables (a
:class:`sim.runner.Result`) to the facts F1-F16 of ``FACTS.md`` that a single
run can measure; :func:`run_seeds` runs a config for several seeds (derived
from the config's root seed with :class:`numpy.random.SeedSequence`) and adds
F7, which needs a paired run; :func:`summarise` turns the per-seed facts into
a table of mean, 95% interval over seeds and whether the mean lies inside the
fact's band.

How each fact is measured (``daily`` rows with ``burn_in == False`` unless
said otherwise; sums are pooled over those days, so busy days weigh more):

- F1 Prime share of active customers: ``prime_share_active`` on the last day
  (steady state at the end of the run).
- F2 trial conversion: ``sum(prime_trial_conversions) / sum(prime_trial_ends)``.
- F3 third-party unit share: ``sum(third_party_unit_share * orders) / sum(orders)``.
- F4 platform's cut of third-party revenue:
  ``(referral + fulfilment + ad revenue) / third_party_revenue`` (only
  third-party sellers advertise, so all ad revenue is theirs).
- F5 sponsored share of the top 12: day-mean of ``sponsored_top12_share``.
- F6 click share of the first position: day-mean of ``top_position_click_share``.
- F7 sales response to faster delivery, in percent per day: a scheduled
  change. The paired run is the same config and seed (common random numbers)
  with a ``[[schedule]]`` change at day ``run.burn_in_days`` that shortens
  ``logistics.standard_days``, ``logistics.self_fulfilled_days`` and
  ``prime.nonmember_days`` by one day (never below 0; same-day and next-day
  promises and the rival are unchanged). Over the ``F7_WINDOW_DAYS`` (30)
  days from the change,
  ``100 * (orders_fast / orders_base - 1) / (days_base - days_fast)`` where
  ``orders`` are platform orders and ``days`` the order-weighted mean realised
  delivery time of the window. Both runs are identical up to the change, and
  a short window keeps them from drifting apart through seller entry and
  exit, repricing and ad learning, so the difference is precise; dividing by
  the realised speed-up makes it "per day of faster delivery" even though
  same-day and next-day orders cannot get faster. The paired run stops at
  the end of the window. It is a short-run response (customers' channel and
  item choices at the new promises, plus a month of habit and Prime
  learning), the horizon of the store-level estimates of Fisher, Gallino &
  Xu (2019).
- F8 cost per click, in dollars: ``sum(ad_revenue_search) / sum(ad_clicks) / 100``.
- F9 conversion of an ad click: ``sum(ad_conversions) / (sum(ad_clicks) +
  sum(assistant_ad_clicks))``: conversions count purchases after a search-ad
  click *or* an opened paid assistant pick, and an opened paid pick is charged
  like a click, so both enter the denominator (without ``assistant_ad_clicks``
  in the table, search clicks only).
- F10 ACoS: ``sum(ad_revenue) / sum(ad_sales_cents)`` (ad spend over the sales
  of the advertised items that were bought after an ad click or paid pick).
- F11 assistant reach: ``assistant_users_365d / active_customers`` on the last day.
- F12 ads share of platform revenue: ads / (referral + fulfilment + ads +
  Prime fees + shipping fees + own-retail revenue).
- F13 DSI operating contribution: ``sum(dsi_operating_cents) / sum(gmv_cents)``
  (the margin of DSI-credited purchases plus the assistant's ad revenue minus
  its inference cost and the overhead on that revenue).
- F14 DSI revenue: ``sum(dsi_revenue_cents) / sum(gmv_cents)``.
- F15 observational lift: purchase rate of consult sessions over that of
  the other platform sessions, minus 1 (pooled over days).
- F16 platform operating margin: ``sum(operating_contribution_cents)`` over
  the platform revenue of F12. ``platform.overhead_rate`` (the costs the
  model does not simulate, per cent of revenue) is set from it
  (``docs/CALIBRATION.md``); F13 is then measured, not set.

The counterfactual twin (``attribution.counterfactual_twin``) only feeds the
causal-attribution columns and draws from its own streams, so validation
switches it off to halve the run time; no fact changes.

Examples
--------
>>> from sim.config import Config
>>> cfg = Config().evolve({"run.n_customers": 300, "run.days": 20, "run.burn_in_days": 5})
>>> from sim.runner import simulate
>>> facts = compute_facts(simulate(cfg, seed=1))
>>> sorted(facts)[:3]
['F1', 'F10', 'F11']
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import math
import multiprocessing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from sim.config import Config, ScheduledChange

__all__ = [
    "DRIFT_LIMITS",
    "FACTS",
    "REVENUE_STREAMS",
    "USAGE",
    "Fact",
    "FactRow",
    "compute_facts",
    "delivery_response",
    "derive_seeds",
    "drift_warnings",
    "f7_window",
    "facts_markdown",
    "faster_delivery",
    "format_table",
    "measure_f7",
    "run_seeds",
    "summarise",
    "trends",
    "usage_lines",
    "validate",
]

EXIT_OUTSIDE = 1
EXIT_USAGE = 2
DEFAULT_CONFIG = "configs/baseline.toml"
DEFAULT_OUT = "runs/validate/validation.md"


@dataclass(frozen=True)
class Fact:
    """A public fact with its target band (inclusive), in the units it is reported in."""

    key: str
    name: str
    lo: float
    hi: float
    unit: str = ""
    #: the public source the band comes from (as in ``FACTS.md``)
    source: str = ""

    @property
    def centre(self) -> float:
        """Middle of the band."""
        return 0.5 * (self.lo + self.hi)


#: The facts of ``FACTS.md`` in the units :func:`compute_facts` reports them.
FACTS: dict[str, Fact] = {
    f.key: f
    for f in (
        Fact("F1", "Prime share of active customers (end of run)", 0.60, 0.75, "",
             'CIRP, "An updated look at US Amazon Prime membership" (2023): ~70% of customers'),
        Fact("F2", "Free-trial to paid conversion", 0.60, 0.75, "",
             "CIRP via Multichannel Merchant (2021): 69%"),
        Fact("F3", "Third-party share of units", 0.55, 0.65, "",
             "Amazon Q3 2025 earnings: 62%"),
        Fact("F4", "Platform cut of third-party revenue", 0.40, 0.55, "",
             'Marketplace Pulse, "Amazon takes a 50% cut of sellers\' revenue" (2023)'),
        Fact("F5", "Sponsored share of top-12 results", 0.30, 0.45, "",
             "Tradeswell (2021-22), Momentum Commerce via AdExchanger"),
        Fact("F6", "Click share of the first position", 0.25, 0.40, "",
             "Compete via MarketingCharts (2014): 35% click the top result"),
        Fact("F7", "Sales response to 1 day faster delivery", 1.0, 2.0, "% per day",
             "Fisher, Gallino & Xu, J. Marketing Research 56(5), 2019: +1.5% per business day"),
        Fact("F8", "Cost per click", 0.50, 1.50, "$", "industry reports; weak prior"),
        Fact("F9", "Conversion rate of an ad click", 0.05, 0.15, "",
             "industry reports; weak prior"),
        Fact("F10", "ACoS of advertisers", 0.20, 0.35, "", "industry reports; weak prior"),
        Fact("F11", "Assistant users in last 365 days / active customers", 0.50, 0.80, "",
             "Amazon Q3 2025: 250M customers used Rufus in 2025"),
        Fact("F12", "Ads share of platform revenue", 0.07, 0.10, "",
             "Amazon Q3 2025: $17.7B ads"),
        Fact("F13", "DSI-credited operating contribution / GMV", 0.0005, 0.0025, "",
             "Business Insider via the press (April 2025): $711M DSI-credited operating "
             "profit for 2025; platform GMV roughly $700-800B"),
        Fact("F14", "DSI-credited revenue / GMV", 0.005, 0.025, "",
             'Amazon Q3 2025: assistant "on track to deliver over $10B incremental '
             'annualised sales"; GMV roughly $700-800B'),
        Fact("F15", "Observational purchase lift of consult sessions", 0.40, 0.80, "",
             'Amazon Q3 2025: assistant users "60% more likely" to complete a purchase'),
        Fact("F16", "Platform operating margin (operating contribution / platform revenue)",
             0.04, 0.08, "",
             "Amazon 2024 Form 10-K, segment information: North America operating income "
             "$25.0B on net sales $387.5B (6.4%)"),
    )
}  # fmt: skip

#: Diagnostics of assistant usage reported beside the facts (not targets).
USAGE: dict[str, str] = {
    "consult_share": "consults / platform sessions",
    "consults_per_user_year": "consults per assistant user per year",
    "dsi_share": "DSI revenue / GMV",
    "causal_share": "causal revenue / GMV (twin; nan without it)",
    "budget_bound_min": "campaigns at their daily budget, lowest day after burn-in",
    "budget_bound_mean": "campaigns at their daily budget, mean day after burn-in",
    "budget_bound_max": "campaigns at their daily budget, highest day after burn-in",
    "trend_platform_share": "drift after burn-in: platform share, pp per year",
    "trend_prime_share": "drift after burn-in: Prime share of active customers, pp per year",
    "trend_sellers": "drift after burn-in: active sellers, % per year",
}
#: Drift per year above which :func:`drift_warnings` warns (a steady baseline stays under).
DRIFT_LIMITS = {"trend_platform_share": 2.0, "trend_prime_share": 2.0, "trend_sellers": 5.0}
_ASSISTANT_KEYS = ("consult_share", "consults_per_user_year", "dsi_share", "causal_share")


#: The platform's revenue (F12's and F16's denominator; what the overhead is charged on).
REVENUE_STREAMS = (
    "revenue_referral_cents",
    "revenue_fulfilment_cents",
    "revenue_ads_cents",
    "revenue_prime_cents",
    "revenue_shipping_cents",
    "revenue_own_retail_cents",
)


def _div(a: float, b: float) -> float:
    return float(a) / float(b) if b else float("nan")


def _post_burn_in(daily: pl.DataFrame) -> pl.DataFrame:
    d = daily.filter(~pl.col("burn_in"))
    return d if d.height else daily


def compute_facts(result: Any) -> dict[str, float]:
    """Facts F1-F16 (except F7, which needs a paired run: :func:`measure_f7`) of one run,
    and the usage diagnostics of :data:`USAGE`.

    Parameters
    ----------
    result
        A :class:`sim.runner.Result` (only its ``daily`` table is read).

    Returns
    -------
    dict
        Fact key to value in the units of :data:`FACTS`; NaN where the run
        has nothing to measure (e.g. no trial ended).
    """
    daily: pl.DataFrame = result.daily
    d = _post_burn_in(daily)
    last = daily.row(-1, named=True)
    s = d.select(
        pl.col(
            "prime_trial_conversions",
            "prime_trial_ends",
            "orders",
            "third_party_revenue_cents",
            "ad_revenue_search_cents",
            "ad_revenue_cents",
            "ad_clicks",
            "ad_conversions",
            "operating_contribution_cents",
            *REVENUE_STREAMS,
        ).sum(),
        (pl.col("third_party_unit_share").fill_nan(None) * pl.col("orders"))
        .sum()
        .alias("third_party_units"),
        pl.col("sponsored_top12_share").fill_nan(None).mean(),
        pl.col("top_position_click_share").fill_nan(None).mean(),
    ).row(0, named=True)
    ad_sales = float(d["ad_sales_cents"].sum()) if "ad_sales_cents" in d.columns else math.nan
    paid_picks = (
        float(d["assistant_ad_clicks"].sum()) if "assistant_ad_clicks" in d.columns else 0.0
    )
    platform_revenue = sum(float(s[c]) for c in REVENUE_STREAMS)
    cut = s["revenue_referral_cents"] + s["revenue_fulfilment_cents"] + s["revenue_ads_cents"]

    def _f(v: Any) -> float:
        return float(v) if v is not None else float("nan")

    return {
        "F1": _f(last["prime_share_active"]),
        "F2": _div(s["prime_trial_conversions"], s["prime_trial_ends"]),
        "F3": _div(_f(s["third_party_units"]), s["orders"]),
        "F4": _div(cut, s["third_party_revenue_cents"]),
        "F5": _f(s["sponsored_top12_share"]),
        "F6": _f(s["top_position_click_share"]),
        "F8": _div(s["ad_revenue_search_cents"], s["ad_clicks"]) / 100.0,
        "F9": _div(s["ad_conversions"], s["ad_clicks"] + paid_picks),
        "F10": _div(s["ad_revenue_cents"], ad_sales),
        "F11": _div(last["assistant_users_365d"], last["active_customers"]),
        "F12": _div(s["revenue_ads_cents"], platform_revenue),
        "F16": _div(s["operating_contribution_cents"], platform_revenue),
        **_assistant_facts(d, daily),
        **_budget_facts(d),
        **trends(d),
    }


def _slope_per_year(day: pl.Series, y: pl.Series) -> float:
    """Least-squares slope of ``y`` on ``day``, times 365 (NaN with under 30 days)."""
    x = day.to_numpy().astype(float)
    v = y.cast(pl.Float64).fill_nan(None).to_numpy().astype(float)
    ok = np.isfinite(v)
    if ok.sum() < 30:
        return math.nan
    return float(np.polyfit(x[ok], v[ok], 1)[0] * 365.0)


def trends(d: pl.DataFrame) -> dict[str, float]:
    """Post-burn-in drift per year of the headline series (a steady state has none)."""
    if d.height < 30 or "sellers_active" not in d.columns:
        return {k: math.nan for k in DRIFT_LIMITS}
    sellers = d["sellers_active"].cast(pl.Float64)
    mean_sellers = float(sellers.mean())  # type: ignore[arg-type]
    return {
        "trend_platform_share": 100 * _slope_per_year(d["day"], d["platform_share"]),
        "trend_prime_share": 100 * _slope_per_year(d["day"], d["prime_share_active"]),
        "trend_sellers": 100 * _slope_per_year(d["day"], sellers) / mean_sellers
        if mean_sellers > 0
        else math.nan,
    }


def drift_warnings(per_seed: Sequence[Mapping[str, float]]) -> list[str]:
    """One warning per headline series whose mean drift exceeds :data:`DRIFT_LIMITS`."""
    out = []
    for key, limit in DRIFT_LIMITS.items():
        x = np.asarray([r.get(key, math.nan) for r in per_seed], dtype=float)
        x = x[np.isfinite(x)]
        if len(x) and abs(float(x.mean())) > limit:
            unit = "%" if key == "trend_sellers" else " pp"
            out.append(
                f"warning: {USAGE[key]} is {x.mean():+.2f} (limit {limit:g}{unit.strip()}): "
                "the run is not at a steady state after burn-in"
            )
    return out


def _budget_facts(d: pl.DataFrame) -> dict[str, float]:
    """Daily share of campaigns that hit their budget: lowest, mean and highest day."""
    bound = (
        d["budget_bound_share"].fill_nan(None).drop_nulls()
        if "budget_bound_share" in d.columns
        else pl.Series([], dtype=pl.Float64)
    )
    if bound.len() == 0:
        return {k: math.nan for k in ("budget_bound_min", "budget_bound_mean", "budget_bound_max")}
    return {
        "budget_bound_min": float(bound.min()),  # type: ignore[arg-type]
        "budget_bound_mean": float(bound.mean()),  # type: ignore[arg-type]
        "budget_bound_max": float(bound.max()),  # type: ignore[arg-type]
    }


def _assistant_facts(d: pl.DataFrame, daily: pl.DataFrame) -> dict[str, float]:
    """F13-F15 and the usage diagnostics (:data:`USAGE`) of post-burn-in days ``d``."""
    if "dsi_operating_cents" not in d.columns:
        return {k: math.nan for k in ("F13", "F14", "F15", *_ASSISTANT_KEYS)}
    gmv = float(d["gmv_cents"].sum())
    consults = float(d["assistant_consults"].sum())
    other = float((d["platform_sessions"] - d["assistant_consults"]).sum())
    bought_c = float((d["consult_conversion"].fill_nan(0.0) * d["assistant_consults"]).sum())
    nonconsult = d["platform_sessions"] - d["assistant_consults"]
    bought_o = float((d["nonconsult_conversion"].fill_nan(0.0) * nonconsult).sum())
    users = float(daily["assistant_users_365d"][-1])
    causal = d["causal_revenue_cents"]
    return {
        "F13": _div(float(d["dsi_operating_cents"].sum()), gmv),
        "F14": _div(float(d["dsi_revenue_cents"].sum()), gmv),
        "F15": _div(_div(bought_c, consults), _div(bought_o, other)) - 1.0,
        "consult_share": _div(consults, float(d["platform_sessions"].sum())),
        "consults_per_user_year": _div(consults * 365.0 / d.height, users),
        "dsi_share": _div(float(d["dsi_revenue_cents"].sum()), gmv),
        "causal_share": _div(float(causal.sum()), gmv) if causal.null_count() == 0 else math.nan,
    }


#: Days after the scheduled speed-up over which F7 compares orders.
F7_WINDOW_DAYS = 30


def _orders_and_days(result: Any, start: int, end: int) -> tuple[float, float]:
    """Platform orders and their mean realised delivery days on days ``start <= day < end``."""
    d = result.daily.filter((pl.col("day") >= start) & (pl.col("day") < end))
    orders = float(d["orders"].sum())
    days = float((d["mean_delivery_days"].fill_nan(None) * d["orders"]).sum())
    return orders, _div(days, orders)


def f7_window(cfg: Config, window_days: int = F7_WINDOW_DAYS) -> tuple[int, int]:
    """Days ``[start, end)`` over which F7 is measured: from ``run.burn_in_days`` for
    ``window_days`` days, cut at the end of the run (the change is at day 1 at
    the earliest, so that the first day is shared).

    >>> from sim.config import Config
    >>> f7_window(Config())
    (60, 90)
    >>> f7_window(Config().evolve({"run.days": 70}))
    (60, 70)
    """
    start = min(max(1, cfg.run.burn_in_days), cfg.run.days - 1)
    return start, min(cfg.run.days, start + window_days)


def delivery_response(base: Any, fast: Any, start: int, end: int) -> float:
    """F7 from a base run and its paired run with the speed-up from day ``start``:
    % more platform orders per day of faster delivery over days ``[start, end)``."""
    o0, d0 = _orders_and_days(base, start, end)
    o1, d1 = _orders_and_days(fast, start, end)
    speedup = d0 - d1
    if not (o0 > 0 and speedup > 1e-9):
        return float("nan")
    return 100.0 * (o1 / o0 - 1.0) / speedup


def faster_delivery(cfg: Config, window_days: int = F7_WINDOW_DAYS) -> Config:
    """The F7 counterfactual: ``cfg`` with a scheduled change at the start of the F7
    window (``run.burn_in_days``) that makes the platform standard, self-fulfilled
    and non-member promises one day shorter (never below 0); same-day, next-day
    and the rival unchanged. The run stops at the end of the window.

    >>> from sim.config import Config
    >>> fast = faster_delivery(Config())
    >>> fast.run.days, fast.schedule[-1].day, fast.at_day(60).logistics.standard_days
    (90, 60, 2)
    """
    start, end = f7_window(cfg, window_days)
    lg, pr = cfg.logistics, cfg.prime
    change = ScheduledChange(
        start,
        {
            "logistics.standard_days": max(0, lg.standard_days - 1),
            "logistics.self_fulfilled_days": max(0, lg.self_fulfilled_days - 1),
            "prime.nonmember_days": max(0, pr.nonmember_days - 1),
        },
    )
    short = cfg.evolve({"run.days": end})
    return dataclasses.replace(short, schedule=(*short.schedule, change))


def measure_f7(cfg: Config, seed: int, base: Any | None = None) -> float:
    """F7 of ``cfg`` for one seed; ``base`` is the run of ``cfg`` with ``seed`` when
    already at hand (else only the window's length of it is run)."""
    from sim.runner import simulate

    start, end = f7_window(cfg)
    if base is None:
        base = simulate(cfg.evolve({"run.days": end}), seed=seed)
    return delivery_response(base, simulate(faster_delivery(cfg), seed=seed), start, end)


def derive_seeds(root_seed: int, n: int) -> list[int]:
    """``n`` run seeds spawned from ``root_seed`` with :class:`numpy.random.SeedSequence`.

    >>> derive_seeds(1, 2) == derive_seeds(1, 2)
    True
    """
    children = np.random.SeedSequence(int(root_seed)).spawn(int(n))
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def _one_seed(cfg: Config, seed: int, paired: bool) -> dict[str, float]:
    """Facts of one seed (F7 from a paired scheduled speed-up when ``paired``)."""
    from sim.runner import simulate

    base = simulate(cfg, seed=seed)
    facts = compute_facts(base)
    facts["F7"] = measure_f7(cfg, seed, base) if paired else float("nan")
    return facts


def run_seeds(
    cfg: Config, n_seeds: int = 5, *, workers: int = 2, paired: bool = True
) -> list[dict[str, float]]:
    """Facts of ``cfg`` for ``n_seeds`` seeds derived from ``cfg.run.seed``.

    Runs in a spawn-context process pool of ``workers`` processes (``workers
    <= 1`` runs in this process). The counterfactual twin is switched off (it
    does not affect any fact). With ``paired``, each seed also runs its
    scheduled faster-delivery run (to the end of the F7 window) for F7.
    """
    cfg = cfg.evolve({"attribution.counterfactual_twin": False})
    seeds = derive_seeds(cfg.run.seed, n_seeds)
    if workers <= 1 or n_seeds == 1:
        return [_one_seed(cfg, s, paired) for s in seeds]
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=min(workers, n_seeds), mp_context=ctx) as pool:
        return list(pool.map(_one_seed, [cfg] * n_seeds, seeds, [paired] * n_seeds))


@dataclass(frozen=True)
class FactRow:
    """One line of the validation table."""

    fact: Fact
    mean: float
    lo95: float
    hi95: float
    n: int

    @property
    def inside(self) -> bool:
        """Whether the mean over seeds lies inside the band."""
        return bool(np.isfinite(self.mean) and self.fact.lo <= self.mean <= self.fact.hi)


def summarise(per_seed: Sequence[Mapping[str, float]]) -> list[FactRow]:
    """Mean and Student-t 95% interval over seeds of each fact, in :data:`FACTS` order."""
    rows = []
    for key, fact in FACTS.items():
        x = np.asarray([r.get(key, math.nan) for r in per_seed], dtype=float)
        x = x[np.isfinite(x)]
        n = len(x)
        if n == 0:
            rows.append(FactRow(fact, math.nan, math.nan, math.nan, 0))
            continue
        mean = float(x.mean())
        if n > 1:
            half = float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n))
        else:
            half = math.nan
        rows.append(FactRow(fact, mean, mean - half, mean + half, n))
    return rows


def _num(v: float) -> str:
    if not np.isfinite(v):
        return "nan"
    if abs(v) >= 100:
        return f"{v:.1f}"
    # three decimals, or three significant digits for small values (F13's 0.0005)
    return f"{v:.3f}" if v == 0 or abs(v) >= 0.01 else f"{v:.3g}"


def format_table(rows: Sequence[FactRow], title: str | None = None) -> str:
    """The validation table as GitHub markdown (also readable as plain text)."""
    lines = []
    if title:
        lines += [f"# {title}", ""]
    lines += [
        "| fact | description | unit | band lo | band hi | mean | 95% lo | 95% hi | seeds "
        "| inside |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        f = r.fact
        lines.append(
            f"| {f.key} | {f.name} | {f.unit or 'share'} | {_num(f.lo)} | {_num(f.hi)} | "
            f"{_num(r.mean)} | {_num(r.lo95)} | {_num(r.hi95)} | {r.n} | "
            f"{'yes' if r.inside else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def usage_lines(per_seed: Sequence[Mapping[str, float]]) -> str:
    """The assistant-usage diagnostics (:data:`USAGE`) as markdown: mean and 95% interval."""
    lines = ["", "| usage diagnostic | mean | 95% lo | 95% hi |", "|---|---|---|---|"]
    for key, name in USAGE.items():
        x = np.asarray([r.get(key, math.nan) for r in per_seed], dtype=float)
        x = x[np.isfinite(x)]
        if len(x) == 0:
            lines.append(f"| {name} | nan | nan | nan |")
            continue
        mean = float(x.mean())
        half = (
            float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
            if len(x) > 1
            else math.nan
        )
        lines.append(f"| {name} | {mean:.4g} | {mean - half:.4g} | {mean + half:.4g} |")
    return "\n".join(lines) + "\n"


def facts_markdown() -> str:
    """``docs/FACTS.md``: the facts table :func:`compute_facts` is checked against."""
    lines = [
        "# Public facts the baseline is calibrated to",
        "",
        "Generated from `sim.validate.FACTS` (the table `flywheel validate` reads) by",
        "`flywheel validate --write-facts docs/FACTS.md`; do not edit by hand. How each",
        "fact is measured from a run is documented in `sim/validate.py`.",
        "",
        "| # | fact | band | unit | source |",
        "|---|---|---|---|---|",
    ]
    for f in FACTS.values():
        lines.append(
            f"| {f.key} | {f.name} | {f.lo:g} - {f.hi:g} | {f.unit or 'share'} | {f.source} |"
        )
    return "\n".join(lines) + "\n"


def validate(
    cfg: Config, n_seeds: int = 5, *, workers: int = 2, paired: bool = True
) -> list[FactRow]:
    """Run ``cfg`` over ``n_seeds`` seeds and summarise its facts against their bands."""
    return summarise(run_seeds(cfg, n_seeds, workers=workers, paired=paired))


# -- command line ---------------------------------------------------------------
