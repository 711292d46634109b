"""Typed, frozen, validated configuration of a flywheel run.

One :class:`Config` object holds every parameter of the model, grouped in
sections (``[prime]``, ``[ads]``, ...). It is loaded from TOML with
:func:`load_config`, validated on load (unknown keys, wrong types and values
outside their range are rejected with a one-line :class:`ConfigError` naming
the key and what is allowed), and evolved for sweeps and scenarios with
:meth:`Config.evolve`, which validates again. Units are part of every name
(``_cents``, ``_rate``, ``_days``, ``_cells``, ``_share``).

Quantities that must scale with the population (station capacity and costs,
expansion thresholds, seller counts) are given per 1,000 customers so that a
scenario behaves alike at 5,000 and at 1,000,000 customers. Per-seller
quantities (fixed and entry costs) do not scale: sellers multiply with the
population, so each one's sales do not.

A config file may start with ``extends = "other.toml"`` (a path relative to
the file) and then override any key of the parent. Timed interventions go in
``[[schedule]]`` tables, each with a ``day`` and a ``set`` table of dotted
keys that take effect at the start of that day, e.g.::

    [[schedule]]
    day = 180
    set = { "rival.price_index" = 0.9 }

Examples
--------
>>> cfg = load_config("configs/baseline.toml", overrides=["run.days=30"])
>>> cfg.run.days
30
>>> cfg.evolve({"assistant.ad_mode": "blended"}).assistant.ad_mode
<AdMode.BLENDED: 'blended'>
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
import tomllib
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sim.config.sections import (
    SECTIONS,
    AdMode,
    AdsSection,
    AssistantSection,
    AttributionSection,
    AuctionFormat,
    CatalogueSection,
    ChannelSection,
    ConfigError,
    ConnectivitySection,
    CustomersSection,
    ExternalAgentsSection,
    FeesSection,
    FlywheelSection,
    GeographySection,
    LogisticsSection,
    LoopChannel,
    MarketSection,
    PlatformSection,
    PrimeSection,
    RivalSection,
    RunSection,
    ScheduledChange,
    SearchSection,
    SellersSection,
    param,
)

__all__ = [
    "SECTIONS",
    "AdMode",
    "AdsSection",
    "AssistantSection",
    "AttributionSection",
    "AuctionFormat",
    "CatalogueSection",
    "ChannelSection",
    "Config",
    "ConfigError",
    "ConnectivitySection",
    "CustomersSection",
    "ExternalAgentsSection",
    "FeesSection",
    "FlywheelSection",
    "GeographySection",
    "LogisticsSection",
    "LoopChannel",
    "MarketSection",
    "PlatformSection",
    "PrimeSection",
    "RivalSection",
    "RunSection",
    "ScheduledChange",
    "SearchSection",
    "SellersSection",
    "load_config",
    "param",
    "parse_overrides",
]


@dataclasses.dataclass(frozen=True, slots=True)
class Config:
    """The whole, validated configuration of a run (see the module docstring)."""

    run: RunSection = dataclasses.field(default_factory=RunSection)
    market: MarketSection = dataclasses.field(default_factory=MarketSection)
    geography: GeographySection = dataclasses.field(default_factory=GeographySection)
    catalogue: CatalogueSection = dataclasses.field(default_factory=CatalogueSection)
    customers: CustomersSection = dataclasses.field(default_factory=CustomersSection)
    channel: ChannelSection = dataclasses.field(default_factory=ChannelSection)
    rival: RivalSection = dataclasses.field(default_factory=RivalSection)
    search: SearchSection = dataclasses.field(default_factory=SearchSection)
    ads: AdsSection = dataclasses.field(default_factory=AdsSection)
    assistant: AssistantSection = dataclasses.field(default_factory=AssistantSection)
    attribution: AttributionSection = dataclasses.field(default_factory=AttributionSection)
    prime: PrimeSection = dataclasses.field(default_factory=PrimeSection)
    logistics: LogisticsSection = dataclasses.field(default_factory=LogisticsSection)
    connectivity: ConnectivitySection = dataclasses.field(default_factory=ConnectivitySection)
    sellers: SellersSection = dataclasses.field(default_factory=SellersSection)
    fees: FeesSection = dataclasses.field(default_factory=FeesSection)
    platform: PlatformSection = dataclasses.field(default_factory=PlatformSection)
    external_agents: ExternalAgentsSection = dataclasses.field(
        default_factory=ExternalAgentsSection
    )
    flywheel: FlywheelSection = dataclasses.field(default_factory=FlywheelSection)
    schedule: tuple[ScheduledChange, ...] = ()

    @property
    def weight(self) -> float:
        """Customers of the market each simulated customer stands for
        (``market.population / run.n_customers``)."""
        return self.market.population / self.run.n_customers

    @property
    def per_1k(self) -> float:
        """The market's customers in thousands: the scale of the per-1,000 parameters."""
        return self.market.population / 1000.0

    # -- conversion -------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON- and TOML-ready nested dict of every value (enums as strings)."""
        out: dict[str, Any] = {}
        for name in SECTIONS:
            section = getattr(self, name)
            out[name] = {
                f.name: _plain(getattr(section, f.name)) for f in dataclasses.fields(section)
            }
        out["schedule"] = [{"day": c.day, "set": dict(c.set)} for c in self.schedule]
        return out

    def hash(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`to_dict` (identifies the config)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def get(self, path: str) -> Any:
        """Value at a dotted path such as ``"prime.monthly_fee_cents"``."""
        section, _, key = path.partition(".")
        _check_path(path)
        return getattr(getattr(self, section), key)

    def evolve(self, changes: Mapping[str, Any] | Iterable[str]) -> Config:
        """A new validated config with dotted-path ``changes`` applied.

        ``changes`` is a mapping ``{"a.b": value}`` or an iterable of
        ``"a.b=value"`` strings (values parsed as TOML literals).
        """
        if not isinstance(changes, Mapping):
            changes = parse_overrides(changes)
        data = self.to_dict()
        for path, value in changes.items():
            _check_path(path)
            section, _, key = path.partition(".")
            data[section][key] = value
        return from_dict(data)

    def at_day(self, day: int) -> Config:
        """The config in force on ``day``: the schedule's changes up to that day applied."""
        due = [c for c in self.schedule if c.day <= day]
        if not due:
            return self
        merged: dict[str, Any] = {}
        for change in sorted(due, key=lambda c: c.day):
            merged.update(change.set)
        unscheduled = dataclasses.replace(self, schedule=())
        return dataclasses.replace(unscheduled.evolve(merged), schedule=self.schedule)

    @staticmethod
    def keys() -> list[str]:
        """Every dotted key a config accepts."""
        return [
            f"{name}.{f.name}" for name, cls in SECTIONS.items() for f in dataclasses.fields(cls)
        ]


# -- loading and validation ------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _check_path(path: str) -> None:
    section, dot, key = path.partition(".")
    if not dot or section not in SECTIONS:
        raise ConfigError(
            f"unknown key {path!r}: keys are section.name with section in {', '.join(SECTIONS)}"
        )
    names = [f.name for f in dataclasses.fields(SECTIONS[section])]
    if key not in names:
        raise ConfigError(f"unknown key {path!r}; allowed in [{section}]: {', '.join(names)}")


def _describe(tp: Any) -> str:
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + " / ".join(repr(m.value) for m in tp)
    if typing.get_origin(tp) is tuple:
        return f"a list of {typing.get_args(tp)[0].__name__}"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(
        tp, str(tp)
    )


def _coerce(path: str, tp: Any, value: Any, meta: Mapping[str, Any]) -> Any:
    """Check one value against its field's type and range; return the typed value."""
    lo, hi = meta.get("lo"), meta.get("hi")
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            raise ConfigError(f"{path} = {value!r}: must be {_describe(tp)}") from None
    if typing.get_origin(tp) is tuple:
        inner = typing.get_args(tp)[0]
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{path} = {value!r}: must be {_describe(tp)}")
        return tuple(_coerce(f"{path}[{i}]", inner, v, meta) for i, v in enumerate(value))
    ok = (
        (tp is bool and isinstance(value, bool))
        or (tp is int and isinstance(value, int) and not isinstance(value, bool))
        or (tp is float and isinstance(value, int | float) and not isinstance(value, bool))
        or (tp is str and isinstance(value, str))
    )
    if not ok:
        raise ConfigError(f"{path} = {value!r}: must be {_describe(tp)}")
    if tp is float:
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"{path} = {value!r}: must be a finite number")
    if tp in (int, float):
        if lo is not None and value < lo:
            rng = f">= {lo}" if hi is None else f"between {lo} and {hi}"
            raise ConfigError(f"{path} = {value!r}: must be {rng}")
        if hi is not None and value > hi:
            rng = f"<= {hi}" if lo is None else f"between {lo} and {hi}"
            raise ConfigError(f"{path} = {value!r}: must be {rng}")
    return value


def _build_section(name: str, raw: Any) -> Any:
    cls = SECTIONS[name]
    if not isinstance(raw, Mapping):
        raise ConfigError(f"[{name}] must be a table, got {raw!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in raw.items():
        if key not in fields:
            _check_path(f"{name}.{key}")
        values[key] = _coerce(f"{name}.{key}", hints[key], value, fields[key].metadata)
    return cls(**values)


def _check_cross(cfg: Config) -> None:
    """Constraints that involve more than one key."""
    c = cfg.customers
    if len(c.income_shares) != 3 or abs(sum(c.income_shares) - 1.0) > 1e-9:
        raise ConfigError("customers.income_shares: must be three shares that sum to 1")
    if any(s < 0 for s in c.income_shares):
        raise ConfigError("customers.income_shares: shares must be >= 0")
    if len(c.price_sensitivity_by_income) != 3 or min(c.price_sensitivity_by_income) <= 0:
        raise ConfigError("customers.price_sensitivity_by_income: must be three numbers > 0")
    s = cfg.search
    bad = [p for p in s.sponsored_positions if not 0 <= p < s.page_slots]
    if bad or len(set(s.sponsored_positions)) != len(s.sponsored_positions):
        raise ConfigError(
            f"search.sponsored_positions = {s.sponsored_positions}: must be distinct "
            f"positions from 0 to {s.page_slots - 1} (search.page_slots - 1)"
        )
    lg = cfg.logistics
    if lg.next_day_radius_cells < lg.same_day_radius_cells:
        raise ConfigError(
            "logistics.next_day_radius_cells: must be >= logistics.same_day_radius_cells"
        )
    if lg.n_centres > cfg.geography.n_metros:
        raise ConfigError(
            f"logistics.n_centres = {lg.n_centres}: must be <= geography.n_metros "
            f"({cfg.geography.n_metros})"
        )


def from_dict(data: Mapping[str, Any]) -> Config:
    """Build and validate a :class:`Config` from a nested dict (as TOML gives)."""
    allowed = [*SECTIONS, "schedule"]
    for key in data:
        if key not in allowed:
            raise ConfigError(f"unknown section {key!r}; allowed: {', '.join(allowed)}")
    sections = {name: _build_section(name, data.get(name, {})) for name in SECTIONS}
    schedule = []
    for i, entry in enumerate(data.get("schedule", [])):
        if not isinstance(entry, Mapping) or set(entry) != {"day", "set"}:
            raise ConfigError(f"schedule[{i}]: must be a table with exactly 'day' and 'set'")
        day = entry["day"]
        if not isinstance(day, int) or isinstance(day, bool) or day < 0:
            raise ConfigError(f"schedule[{i}].day = {day!r}: must be an integer >= 0")
        if not isinstance(entry["set"], Mapping) or not entry["set"]:
            raise ConfigError(f"schedule[{i}].set: must be a non-empty table of dotted keys")
        for path in entry["set"]:
            _check_path(path)
            if path.startswith(("run.", "market.")):
                raise ConfigError(f"schedule[{i}].set: {path!r} cannot change during a run")
        schedule.append(ScheduledChange(day=day, set=dict(entry["set"])))
    cfg = Config(**sections, schedule=tuple(schedule))
    _check_cross(cfg)
    unscheduled = dataclasses.replace(cfg, schedule=())
    for i, change in enumerate(cfg.schedule):
        try:
            unscheduled.evolve(change.set)
        except ConfigError as err:
            raise ConfigError(f"schedule[{i}]: {err}") from None
    return cfg


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word such as blended is taken as a string


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """Parse ``["a.b=1", "c.d=blended"]`` into ``{"a.b": 1, "c.d": "blended"}``."""
    out: dict[str, Any] = {}
    for item in items:
        path, eq, text = item.partition("=")
        if not eq or not path.strip():
            raise ConfigError(f"--set {item!r}: must be key.path=value")
        path = path.strip()
        _check_path(path)
        out[path] = _parse_value(text.strip())
    return out


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        elif key == "schedule" and isinstance(value, list):
            out[key] = [*out.get(key, []), *value]
        else:
            out[key] = value
    return out


def read_toml(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The raw dict of a config file with its ``extends`` chain merged in."""
    path = Path(path).resolve()
    if path in _seen:
        raise ConfigError(f"{path.name}: 'extends' loops back to itself")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config {path}: is a folder, not a TOML file") from None
    except PermissionError:
        raise ConfigError(f"config {path}: not readable (permission denied)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config {path}: not UTF-8 text (TOML files are UTF-8)") from None
    except OSError as err:
        raise ConfigError(f"config {path}: cannot be read ({err.strerror})") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path.name}: not valid TOML ({err})") from None
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ConfigError(f"{path.name}: extends must be a path string")
    return _merge(read_toml(path.parent / parent, (*_seen, path)), raw)


def load_config(
    path: str | Path, overrides: Mapping[str, Any] | Iterable[str] | None = None
) -> Config:
    """Load, merge (``extends``), override and validate a TOML config.

    Parameters
    ----------
    path
        A TOML file.
    overrides
        Dotted-key changes applied after loading: a mapping or
        ``"key.path=value"`` strings (the CLI's ``--set``).

    Raises
    ------
    ConfigError
        With a one-line message naming the key and what is allowed.
    """
    cfg = from_dict(read_toml(path))
    return cfg.evolve(overrides) if overrides else cfg
