"""The sections of a flywheel config: one frozen dataclass per TOML table.

Every parameter is declared once here with :func:`param`: its type, a
one-line meaning with units, and its allowed range, which the loader checks
(:mod:`sim.config`). Its default value is the calibrated baseline's, read from
``configs/baseline.toml`` (:func:`baseline_defaults`), so the code and the
file cannot disagree. The enums of modes and formats live here too, at the
bottom of the layering, so that mechanisms can use them.
"""

from __future__ import annotations

import dataclasses
import enum
import tomllib
import types
import typing
from pathlib import Path
from typing import Any


class AuctionFormat(enum.StrEnum):
    """Pricing rule of the slot auction.

    Examples
    --------
    >>> AuctionFormat("vcg") is AuctionFormat.VCG
    True
    >>> [f.value for f in AuctionFormat]
    ['gsp', 'vcg', 'first_price']
    """

    GSP = "gsp"
    VCG = "vcg"
    FIRST_PRICE = "first_price"


class ConfigError(ValueError):
    """A config, override or sweep value that is not allowed; the message is one line."""


class LoopChannel(enum.StrEnum):
    """A channel of the flywheel that ``flywheel.freeze`` can hold at its burn-in state."""

    SELLER_ENTRY = "seller_entry"  # customers -> sellers: entry and exit
    SELECTION_VALUE = "selection_value"  # sellers -> selection -> customers
    LOGISTICS_EXPANSION = "logistics_expansion"  # customers -> stations -> promises
    HABIT = "habit"  # experiences -> habit
    REVIEWS = "reviews"  # purchases -> reviews -> ratings
    RIVAL_RESPONSE = "rival_response"  # the rival's prices, delivery and selection
    PRIME_ADOPTION = "prime_adoption"  # experience -> Prime joins and cancellations
    SELLER_PRICING = "seller_pricing"  # demand -> sellers' markups and prices
    FULFILMENT_CHOICE = "fulfilment_choice"  # sales uplift -> platform fulfilment -> delivery


class AdMode(enum.StrEnum):
    """How sponsored items enter the assistant's answers."""

    NONE = "none"
    LABELLED = "labelled"
    BLENDED = "blended"


def param(doc: str, *, lo: float | None = None, hi: float | None = None) -> Any:
    """A config field with a one-line description and an inclusive range.

    Its default is not written here: :func:`baseline_defaults` fills it in
    from ``configs/baseline.toml``, the one place the baseline's values live.
    """
    return dataclasses.field(metadata={"doc": doc, "lo": lo, "hi": hi})


#: The calibrated baseline; every field's default is read from it. Inside the
#: package it is a symbolic link to ``configs/baseline.toml`` (copied into a wheel).
BASELINE_PATH = Path(__file__).with_name("baseline.toml")


def _baseline_tables() -> dict[str, Any]:
    try:
        return tomllib.loads(BASELINE_PATH.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"{BASELINE_PATH}: cannot read the baseline config ({err})") from None


_BASELINE = _baseline_tables()


def _as_hint(hint: Any, value: Any) -> Any:
    """``value`` (as TOML gives it) in the type of its field: enums, tuples, floats."""
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if typing.get_origin(hint) is tuple:
        (item, *_) = typing.get_args(hint)
        return tuple(_as_hint(item, v) for v in value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def ceiling(name: str) -> float:
    """The largest value a numeric parameter without its own ``hi`` may take.

    Ceilings keep every money computation inside int64 over the longest allowed
    run (36,500 days of 50 million customers) and every exponential finite:
    money (``_cents``) at most $1,000,000, spreads (``sigma``, ``_sd``) at most
    5, rates and weights at most 100, durations (``_days``) at most 36,500,
    anything else at most 10**6.

    >>> ceiling("entry_cost_cents"), ceiling("price_sigma"), ceiling("markup_rate")
    (100000000, 5.0, 100.0)
    """
    if name.endswith("_cents") or "_cents_" in name:
        return 100_000_000
    if "sigma" in name or name.endswith("_sd"):
        return 5.0
    if name.endswith("_days"):
        return 36_500
    if name.endswith(("_rate", "_weight", "_factor", "_elasticity", "_bias", "_trust")):
        return 100.0
    return 1_000_000


def baseline_defaults(table: str) -> Any:
    """Class decorator: give every :func:`param` field of ``table`` its baseline value.

    Applied beneath ``@dataclass``, so ``Config()`` (and Mesa's
    ``MarketplaceModel()``) is the calibrated baseline, with no second set of
    defaults that could drift from the file. A key missing from the file is an
    error at import.
    """

    def apply(cls: type) -> type:
        values = _BASELINE.get(table, {})
        hints = typing.get_type_hints(cls)
        for name in cls.__annotations__:
            if name not in values:
                raise ConfigError(
                    f"{BASELINE_PATH.name}: [{table}] lacks {name!r}; every parameter "
                    "takes its default from the baseline"
                )
            field = cls.__dict__[name]
            field.default = _as_hint(hints[name], values[name])
            meta = dict(field.metadata)
            if meta.get("hi") is None and hints[name] in (int, float):
                meta["hi"] = ceiling(name)
                field.metadata = types.MappingProxyType(meta)
        return cls

    return apply


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("run")
class RunSection:
    """Size, length and bookkeeping of one run."""

    name: str = param("scenario name written to every output row")
    seed: int = param("root seed of the run's random streams", lo=0, hi=2**63 - 1)
    days: int = param("number of simulated days (one step = one day)", lo=1, hi=36500)
    burn_in_days: int = param(
        "days flagged as burn-in (kept in outputs, excluded by analysis)", lo=0
    )
    n_customers: int = param(
        "simulated customers: a sample of market.population (sets noise, not the market)",
        lo=100,
        hi=50_000_000,
    )
    record_events: bool = param("write one row per purchase to events.parquet")


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("market")
class MarketSection:
    """The market the simulated customers are a sample of.

    Each simulated customer stands for ``population / run.n_customers`` customers
    (:attr:`weight`): sellers, products, stations, budgets and every money or count
    total are in market units, so ``run.n_customers`` changes the noise of a run,
    not its market. The market's structure (the map and the taste profiles; the
    category prices are the quantiles of their distribution) comes from
    ``structure_seed``, not from ``run.seed``: the runs of a sweep's seeds are
    histories of one market, and a structural robustness check sweeps
    ``market.structure_seed``.
    """

    population: int = param(
        "customers the market has (sets counts of sellers, products and stations, and all totals)",
        lo=100,
        hi=1_000_000_000,
    )
    structure_seed: int = param(
        "seed of the market's structure (the map, the customers' taste profiles): "
        "the same market in every run, whatever run.seed",
        lo=0,
        hi=2**63 - 1,
    )


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("geography")
class GeographySection:
    """The grid of regions customers live in."""

    width_cells: int = param("grid width in regions", lo=2, hi=500)
    height_cells: int = param("grid height in regions", lo=2, hi=500)
    n_metros: int = param("metro clusters on the map", lo=1, hi=100)
    metro_sigma_cells: float = param("spread of a metro's population kernel", lo=0.1)
    rural_density: float = param("population floor of a rural cell vs a metro peak", lo=0.0)


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("catalogue")
class CatalogueSection:
    """Product categories and their price levels."""

    n_categories: int = param("product categories (queries)", lo=1, hi=1000)
    median_price_cents: int = param("median of the category reference prices", lo=100)
    price_sigma: float = param("log-sd of category reference prices", lo=0.0, hi=3.0)
    review_rate: float = param("chance a purchase leaves a review", lo=0.0, hi=1.0)
    review_noise_sd: float = param("noise of one review around realised quality", lo=0.0)
    review_prior_count: float = param("pseudo-reviews behind a new product's rating", lo=0.0)
    review_prior_mean: float = param("rating a product starts from", lo=0.0, hi=1.0)


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("customers")
class CustomersSection:
    """Heterogeneous customer traits (population means and spreads)."""

    need_rate_per_day: float = param(
        "mean arrivals of shopping needs per customer per day", lo=0.0, hi=5.0
    )
    need_rate_sigma: float = param("log-sd of individual need rates", lo=0.0, hi=3.0)
    n_taste_profiles: int = param("archetypes of category interest", lo=1, hi=256)
    taste_concentration: float = param(
        "Dirichlet concentration of a profile's category mix", lo=0.01
    )
    income_shares: tuple[float, ...] = param(
        "shares of low / middle / high income classes (sum to 1)"
    )
    price_sensitivity_by_income: tuple[float, ...] = param(
        "price-sensitivity multiplier per income class"
    )
    price_sensitivity_mean: float = param(
        "inverse logit scale: utility per category-price of surplus", lo=0.01
    )
    price_sensitivity_sigma: float = param("log-sd of price sensitivity", lo=0.0)
    quality_taste_mean: float = param("value of quality, in category prices", lo=0.0)
    quality_taste_sd: float = param("sd of quality taste", lo=0.0)
    value_base: float = param("willingness to pay for an average item, in category prices", lo=0.0)
    delay_cost_per_day_mean: float = param(
        "cost of one day's wait, as a share of the category price", lo=0.0
    )
    delay_cost_per_day_sigma: float = param("log-sd of delay cost", lo=0.0)
    patience_mean: float = param(
        "chance to look at the next result (position-bias decay)", lo=0.0, hi=1.0
    )
    patience_sd: float = param("sd of patience", lo=0.0)
    click_base: float = param(
        "chance to click an examined result of average appeal", lo=0.0, hi=1.0
    )
    ad_literacy_mean: float = param("mean chance to recognise a labelled ad", lo=0.0, hi=1.0)
    ad_literacy_concentration: float = param("Beta concentration of ad literacy", lo=0.1)
    literacy_learning_rate: float = param(
        "step of ad literacy toward 1 after discovering paid advice", lo=0.0, hi=1.0
    )
    assistant_propensity_mean: float = param(
        "mean propensity to consult the assistant", lo=0.0, hi=1.0
    )
    assistant_propensity_concentration: float = param(
        "Beta concentration of assistant propensity", lo=0.1
    )
    initial_trust: float = param(
        "mean trust in the assistant at the start (the steady state's)", lo=0.0, hi=1.0
    )
    initial_habit: float = param(
        "mean platform habit at the start (the steady state's)", lo=0.0, hi=1.0
    )
    initial_orders_per_need: float = param(
        "platform orders per need before day 0: sets each customer's last platform "
        "purchase (the steady state's; 0 = nobody bought before)",
        lo=0.0,
        hi=1.0,
    )
    initial_assistant_user_share: float = param(
        "share of customers who consulted the assistant in the 365 days before day 0, "
        "on days spread over them (the steady state's; 0 = nobody)",
        lo=0.0,
        hi=1.0,
    )
    habit_learning_rate: float = param(
        "weight of one experience in the platform habit", lo=0.0, hi=1.0
    )
    habit_after_bad_experience: float = param(
        "experience a late or disappointing platform purchase counts as (0..1)", lo=0.0, hi=1.0
    )
    habit_decay_days: float = param(
        "e-folding days of platform habit without a platform purchase (0 = none)", lo=0.0
    )
    intent_sd: float = param(
        "sd of a need's purchase intent (shifts the no-purchase option)", lo=0.0
    )
    no_purchase_value: float = param(
        "utility of not buying for a need of average intent", lo=-10.0, hi=10.0
    )
    need_persistence: float = param(
        "chance an unmet need returns the next day with its intent (a journey)", lo=0.0, hi=1.0
    )
    need_max_days: int = param(
        "days a shopping journey lasts at most (1 = needs never persist)", lo=1, hi=60
    )


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("channel")
class ChannelSection:
    """Platform vs. outside option (rival) choice."""

    habit_weight: float = param("utility of full platform habit", lo=0.0)
    platform_bias: float = param("constant utility of the platform vs the rival")
    sunk_cost_weight: float = param("utility of a Prime payment just made (sunk-cost term)", lo=0.0)
    sunk_cost_decay_days: float = param(
        "e-folding days of the sunk-cost term since the last payment", lo=0.1
    )
    expected_price_weight: float = param(
        "weight of the expected price gap in the channel logit", lo=0.0
    )
    selection_weight: float = param(
        "weight of the change in a category's selection value (inclusive value)", lo=0.0
    )


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("rival")
class RivalSection:
    """The rival retailer (outside option)."""

    price_index: float = param("rival prices relative to category reference", lo=0.01)
    price_noise_sd: float = param("daily log-noise of rival category prices", lo=0.0)
    quality: float = param("quality of the rival's typical item (0..1)", lo=0.0, hi=1.0)
    delivery_days: float = param("rival delivery days", lo=0.0)
    review_days: int = param("days between the rival's price reviews", lo=1)
    price_response: float = param(
        "log price change per unit of relative share shortfall, per review", lo=0.0
    )
    max_price_step: float = param("largest log price change per review", lo=0.0, hi=1.0)
    cost_index: float = param(
        "lowest price level the rival's reviews reach, relative to its list", lo=0.0, hi=1.0
    )
    scale_elasticity: float = param(
        "elasticity of the rival's delivery speed and selection to its volume", lo=0.0
    )


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("search")
class SearchSection:
    """Results page and organic ranking."""

    page_slots: int = param("results on the first page", lo=1, hi=60)
    sponsored_positions: tuple[int, ...] = param("0-based page positions of sponsored slots")
    relevance_weight: float = param("organic score weight of the review signal", lo=0.0)
    sales_rank_weight: float = param("organic score weight of recent sales", lo=0.0)
    self_preference_weight: float = param(
        "organic score boost of the platform's own products", lo=0.0
    )
    prime_boost: float = param("organic score boost of Prime-eligible items", lo=0.0)
    noise_sd: float = param("daily noise of organic scores", lo=0.0)
    top_position_trust: float = param(
        "extra click appeal of the first result (trust bias), in utility", lo=0.0
    )


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("ads")
class AdsSection:
    """Sponsored-product auctions and advertisers."""

    format: AuctionFormat = param("auction pricing rule")
    reserve_cents: int = param("reserve price per click", lo=0)
    min_relevance: float = param("minimum relevance (0..1) of an ad", lo=0.0, hi=1.0)
    advertiser_share: float = param("share of third-party sellers that advertise", lo=0.0, hi=1.0)
    budget_share_of_revenue: float = param(
        "starting daily budget as a share of expected daily revenue", lo=0.0
    )
    min_daily_budget_cents: int = param("smallest daily budget of a campaign", lo=0)
    budget_adjust_rate: float = param(
        "weekly log step of a budget per unit of its ACoS gap (a share of the budget)",
        lo=0.0,
        hi=1.0,
    )
    target_acos_mean: float = param("mean target ad cost of sales", lo=0.01, hi=2.0)
    target_acos_sd: float = param("sd of target ACoS", lo=0.0)
    prior_conversion_rate: float = param("prior conversion rate of a click", lo=0.0, hi=1.0)
    prior_clicks: float = param("weight of the prior in clicks", lo=0.0)
    bid_adjust_rate: float = param(
        "weekly log step of a target-ACoS bid multiplier per unit of its ACoS gap",
        lo=0.0,
        hi=1.0,
    )
    pacing_adjust_rate: float = param("budget pacing correction per day", lo=0.0, hi=1.0)
    paced_share: float = param(
        "share of advertisers whose campaigns pace their spend (the rest bid in every "
        "auction until the day's budget runs out)",
        lo=0.0,
        hi=1.0,
    )
    quality_noise_sd: float = param("log-noise of predicted click rate per query", lo=0.0)
    batches_per_day: int = param(
        "budget checks per day (bidders out of budget drop)", lo=1, hi=1_000
    )
    candidates_per_query: int = param(
        "campaigns retrieved per query by expected rank score before the auction", lo=1
    )


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("assistant")
class AssistantSection:
    """The platform's shopping assistant."""

    enabled: bool = param("assistant offered at all")
    ad_mode: AdMode = param("ads in answers: none / labelled / blended")
    ad_weight: float = param("how far a bid lifts an ad over the answer's relevance floor", lo=0.0)
    ad_slots: int = param(
        "answer slots sold to advertisers (the last ones: premium, then budget)", lo=0, hi=3
    )
    self_preference: float = param("tilt toward the platform's own products", lo=0.0)
    model_scale: float = param("model size (noise falls, cost grows with it)", lo=0.01, hi=1000.0)
    noise_sd: float = param("utility-estimate noise at model_scale 1", lo=0.0)
    noise_scale_exponent: float = param("noise = noise_sd * scale^-exponent", lo=0.0, hi=2.0)
    inference_cost_cents: float = param("inference cost per consult at scale 1", lo=0.0)
    cost_scale_exponent: float = param("cost = inference_cost * scale^exponent", lo=0.0, hi=2.0)
    candidates: int = param("products retrieved per consult", lo=3, hi=200)
    advice_reliance: float = param(
        "weight of the assistant's estimate in a fully trusting customer's valuation of a pick",
        lo=0.0,
        hi=1.0,
    )
    attention_cost: float = param(
        "share of the results page a consulting customer no longer examines", lo=0.0, hi=1.0
    )
    consult_price_elasticity: float = param(
        "elasticity of consulting to the category's price (dearer: more often)", lo=0.0
    )
    unfamiliar_consult_factor: float = param(
        "consult odds multiplier in a category the customer never bought in", lo=0.0
    )
    lapsed_consult_factor: float = param(
        "consult odds multiplier for a customer who has not consulted in the past 365 days "
        "(the platform's prompts to try the assistant)",
        lo=0.0,
    )
    recognised_ad_discount: float = param("utility penalty of a recognised ad", lo=0.0)
    blended_recognition_factor: float = param(
        "recognition of a blended ad relative to a labelled one", lo=0.0, hi=1.0
    )
    trust_learning_rate: float = param("step of trust after followed advice", lo=0.0, hi=1.0)
    discovery_rate: float = param(
        "chance to find out later that followed advice was paid", lo=0.0, hi=1.0
    )
    discovery_trust_penalty: float = param("trust lost on that discovery", lo=0.0, hi=1.0)
    discovery_if_disappointed: float = param(
        "chance to find out that followed advice was paid when the pick disappointed",
        lo=0.0,
        hi=1.0,
    )
    # with customers.intent_sd <= 5 the consult tilt's log-sd stays <= 25, where the
    # mean-preserving base is solved exactly (agents.customer.consult_probability)
    intent_consult_elasticity: float = param(
        "how strongly purchase intent drives consulting", lo=0.0, hi=5.0
    )
    agentic_checkout_share: float = param(
        "share of consults where the assistant buys its top pick", lo=0.0, hi=1.0
    )
    answers_enter_choice: bool = param(
        "picks join the consideration set (false: a placebo that cannot change choices)"
    )


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("attribution")
class AttributionSection:
    """Downstream-impact (DSI) and causal attribution."""

    window_days: int = param("DSI window after an assistant interaction", lo=0, hi=365)
    same_category_only: bool = param("credit only purchases in the consulted category")
    counterfactual_twin: bool = param("step an assistant-off twin in lockstep for causal impact")


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("prime")
class PrimeSection:
    """Prime membership."""

    enabled: bool = param("Prime offered at all")
    monthly_fee_cents: int = param("monthly plan fee", lo=0)
    annual_fee_cents: int = param("annual plan fee", lo=0)
    trial_days: int = param("free-trial length (0 = no trial)", lo=0)
    annual_plan_share: float = param(
        "share of customers who prefer the annual plan", lo=0.0, hi=1.0
    )
    initial_member_share: float = param(
        "share of customers who are paying members at the start (the steady state's)",
        lo=0.0,
        hi=1.0,
    )
    other_benefits_cents_per_month: int = param(
        "mean value of non-shipping benefits (video, ...)", lo=0
    )
    status_quo_bias_cents: int = param("extra value of staying at a renewal", lo=0)
    cancellation_friction_cents: int = param("hassle cost of cancelling", lo=0)
    decision_noise_cents: int = param("logistic scale of Prime decisions", lo=1)
    offer_rate: float = param(
        "chance a non-member considers joining on a platform visit", lo=0.0, hi=1.0
    )
    free_shipping_threshold_cents: int = param("non-member free-shipping threshold", lo=0)
    shipping_fee_cents: int = param("non-member shipping fee below the threshold", lo=0)
    nonmember_days: int = param("standard delivery days for non-members", lo=0)


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("logistics")
class LogisticsSection:
    """Fulfilment centres, delivery stations and delivery cost."""

    n_centres: int = param("fulfilment centres (at the largest metros)", lo=1, hi=64)
    stations_per_centre: int = param("initial delivery stations per centre", lo=0)
    station_min_spacing_cells: float = param("minimum distance between stations", lo=0.0)
    same_day_radius_cells: float = param("same-day radius around a station", lo=0.0)
    next_day_radius_cells: float = param("next-day radius around a station", lo=0.0)
    # promises are stored in int8 and standard shipping is slower than same day
    standard_days: int = param("promise for platform-fulfilled items elsewhere", lo=1, hi=127)
    self_fulfilled_days: int = param("promise for self-fulfilled items", lo=0, hi=127)
    stock_share: float = param("chance a centre stocks a fulfilled item", lo=0.0, hi=1.0)
    station_capacity_per_1k: float = param(
        "daily parcels a station handles, per 1,000 customers", lo=0.0
    )
    delivery_base_cost_cents: int = param("cost per delivery at half utilisation", lo=0)
    density_elasticity: float = param("cost elasticity to route density", lo=0.0)
    learning_rate: float = param("cost cut per doubling of cumulative volume", lo=0.0, hi=0.9)
    carrier_cost_cents: int = param("cost per delivery outside any station", lo=0)
    station_opex_cents_per_day_per_1k: int = param(
        "daily running cost of a station, per 1,000 customers", lo=0
    )
    station_capex_cents_per_1k: int = param("cost of opening a station, per 1,000 customers", lo=0)
    review_days: int = param("days between station-expansion reviews", lo=1)
    expansion_threshold_per_1k: float = param(
        "daily orders (per 1,000 customers) that justify a station", lo=0.0
    )
    rural_expansion: bool = param("whether stations may open in rural cells")
    rural_threshold_factor: float = param("rural threshold relative to metro", lo=0.0)
    max_new_stations: int = param("stations opened per review at most", lo=0)


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("connectivity")
class ConnectivitySection:
    """Internet access, and a satellite roll-out scenario."""

    rural_offline_share: float = param("rural customers without internet", lo=0.0, hi=1.0)
    metro_offline_share: float = param("metro customers without internet", lo=0.0, hi=1.0)
    satellite_start_day: int = param("day the satellite roll-out starts (-1 = never)", lo=-1)
    satellite_rollout_days: int = param("days to reach the final share", lo=1)
    satellite_final_rural_offline_share: float = param(
        "rural offline share once roll-out is complete", lo=0.0, hi=1.0
    )


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("sellers")
class SellersSection:
    """Third-party sellers and the platform's own retail arm."""

    # the catalogue's size bounds memory: at most 100x, 5,000x and 500x the baseline's
    initial_per_category_per_1k: float = param(
        "third-party sellers per category at start, per 1,000 customers", lo=0.0, hi=100.0
    )
    min_initial_per_category: int = param("at least this many per category", lo=1, hi=10_000)
    products_per_seller: float = param("mean products per seller (1 + Poisson)", lo=1.0, hi=1_000.0)
    quality_a: float = param("Beta a of latent product quality", lo=0.01)
    quality_b: float = param("Beta b of latent product quality", lo=0.01)
    unit_cost_share: float = param("mean unit cost as a share of category price", lo=0.01)
    quality_cost_slope: float = param("extra unit cost per unit of quality", lo=0.0)
    markup_rate: float = param("target markup over unit cost", lo=0.0)
    min_markup_rate: float = param("markup floor when repricing", lo=0.0)
    competitive_weight: float = param("weight of competitors' prices in repricing", lo=0.0, hi=1.0)
    reprice_days: int = param("days between repricing", lo=1)
    fba_initial_share: float = param("share starting with platform fulfilment", lo=0.0, hi=1.0)
    fulfilment_review_days: int = param("days between fulfilment choices", lo=1)
    self_ship_cost_rate: float = param(
        "own shipping cost of a self-fulfilled unit, share of price", lo=0.0
    )
    entry_review_days: int = param("days between entry decisions", lo=1)
    entry_cost_cents: int = param("fixed cost for a seller to enter a category", lo=0)
    entry_horizon_days: int = param("horizon over which entrants expect profit", lo=1)
    entry_rate: float = param("entrants per category per review per unit of profit/cost", lo=0.0)
    max_entrants_per_category: int = param("entrants per category per review at most", lo=0)
    exit_loss_days: int = param("trailing days of losses that make a seller exit", lo=1)
    exit_patience_sigma: float = param(
        "log-sd of a seller's own tolerance of losses around exit_loss_days", lo=0.0
    )
    reserve_days: float = param("mean cash reserve of a seller, in days of its fixed cost", lo=0.0)
    initial_age_max_days: int = param(
        "starting sellers entered up to this many days before day 0", lo=0
    )
    initial_earnings_per_day_cents: float = param(
        "starting sellers' earnings before day 0 per day of their age, added to their "
        "reserve (the steady state's)",
        lo=0.0,
    )
    platform_retail: bool = param("the platform sells its own products")
    platform_products_per_category_per_1k: float = param(
        "platform retail products per category, per 1,000 customers (at least 1)",
        lo=0.0,
        hi=100.0,
    )
    private_label_per_category_per_1k: float = param(
        "private-label products per category, per 1,000 customers (at least 1)",
        lo=0.0,
        hi=100.0,
    )
    platform_markup_rate: float = param("markup of the platform's retail arm", lo=0.0)
    daily_fixed_cost_cents: int = param("overhead of a third-party seller per day", lo=0)


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("fees")
class FeesSection:
    """What the platform charges sellers."""

    referral_fee_rate: float = param("share of the sale price", lo=0.0, hi=1.0)
    fulfilment_fee_cents: int = param("per-unit fulfilment fee, fixed part", lo=0)
    fulfilment_fee_rate: float = param("per-unit fulfilment fee, share of price", lo=0.0)


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("platform")
class PlatformSection:
    """The platform's operating costs that the model does not simulate."""

    overhead_rate: float = param(
        "costs beyond delivery, stations and inference (warehouses, technology, marketing, "
        "administration) per cent of platform revenue",
        lo=0.0,
        hi=1.0,
    )


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("external_agents")
class ExternalAgentsSection:
    """Neutral third-party shopping agents (off by default)."""

    share: float = param("customers who use an external agent", lo=0.0, hi=1.0)
    blocked: bool = param("the platform blocks external agents")
    noise_sd: float = param("utility-estimate noise of the external agent", lo=0.0)


@dataclasses.dataclass(frozen=True, slots=True)
@baseline_defaults("flywheel")
class FlywheelSection:
    """Switches that hold loop channels at their burn-in state, for decomposition."""

    freeze: tuple[LoopChannel, ...] = param(
        "loop channels held from freeze_day on (seller_entry, selection_value, ...)"
    )
    freeze_day: int = param("day frozen channels are held from (-1 = run.burn_in_days)", lo=-1)

    def holds(self, channel: LoopChannel, day: int, burn_in_days: int) -> bool:
        """Whether ``channel`` is frozen on ``day``."""
        start = burn_in_days if self.freeze_day < 0 else self.freeze_day
        return channel in self.freeze and day >= start


@dataclasses.dataclass(frozen=True, slots=True)
class ScheduledChange:
    """Overrides that take effect at the start of ``day``."""

    day: int
    set: dict[str, Any]


SECTIONS: dict[str, type] = {
    "run": RunSection,
    "market": MarketSection,
    "geography": GeographySection,
    "catalogue": CatalogueSection,
    "customers": CustomersSection,
    "channel": ChannelSection,
    "rival": RivalSection,
    "search": SearchSection,
    "ads": AdsSection,
    "assistant": AssistantSection,
    "attribution": AttributionSection,
    "prime": PrimeSection,
    "logistics": LogisticsSection,
    "connectivity": ConnectivitySection,
    "sellers": SellersSection,
    "fees": FeesSection,
    "platform": PlatformSection,
    "external_agents": ExternalAgentsSection,
    "flywheel": FlywheelSection,
}
