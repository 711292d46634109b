"""The ``flywheel`` command line: a thin layer over :func:`sim.runner.simulate` and friends.

Sub-commands: ``run`` (one run to Parquet), ``sweep`` (batch sweeps),
``validate`` (baseline vs public facts), ``analyze`` (claim reports) and
``viz`` (the browser visualiser), one module each in this package and listed
in :data:`COMMANDS`. Bad input gives one line on stderr naming the problem
and exit code 2, and writes nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sim.cli import analyze, run, sweep, validate, viz
from sim.cli._common import Parser

__all__ = ["COMMANDS", "build_parser", "main"]

#: The sub-commands, in the order ``flywheel --help`` lists them.
COMMANDS = (run, sweep, validate, analyze, viz)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``flywheel`` command."""
    parser = Parser(prog="flywheel", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``flywheel`` console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
