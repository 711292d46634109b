"""The examples in the docstrings of the mechanism, agent and model modules run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = (
    "sim.attribution",
    "sim.auctions",
    "sim.choice",
    "sim.config",
    "sim.config.sections",
    "sim.fees",
    "sim.geography",
    "sim.logistics",
    "sim.prime",
    "sim.rng",
    "sim.search",
    "sim.valuation",
    "agents.advertiser",
    "agents.assistant",
    "agents.customer",
    "agents.seller",
    "sim.model",
    "sim.viz_figures",
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    """Every ``>>>`` example of the module gives the output its docstring shows."""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
