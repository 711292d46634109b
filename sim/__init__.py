"""flywheel: an agent-based model of an AI-assisted online marketplace.

The public entry points are :func:`load_config` and :func:`simulate`;
``sim.model.MarketplaceModel`` is the Mesa model and ``sim.auctions``,
``sim.search``, ``sim.choice``, ``sim.prime`` and ``sim.logistics`` are the
pure mechanisms it is built from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from sim.runner import Result, simulate

__all__ = ["Config", "ConfigError", "Result", "load_config", "simulate"]


def __getattr__(name: str) -> Any:
    # simulate pulls in Mesa (slow to import); load it on first use only
    if name in ("simulate", "Result"):
        from sim import runner

        return getattr(runner, name)
    raise AttributeError(name)
