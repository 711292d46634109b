"""The ``flywheel analyze`` sub-command: claim reports over a sweep folder.

``flywheel analyze {flywheel,ad-opacity,attribution} SWEEP_DIR --out REPORT_DIR``
runs the matching ``analysis`` script, which reads the sweep's Parquet tables
and writes ``REPORT_DIR/report.md`` with its figures. ``--against SWEEP_DIR``
(ad-opacity) sets each verdict beside that of a reference sweep.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any

__all__ = ["ANALYSES", "register"]

#: Sub-command name -> analysis module.
ANALYSES = {
    "flywheel": "analysis.flywheel",
    "ad-opacity": "analysis.ad_opacity",
    "attribution": "analysis.attribution",
}
#: Analyses that can compare a sweep with a reference sweep (``--against``).
COMPARES = ("ad-opacity",)


def _command(args: argparse.Namespace) -> int:
    module = importlib.import_module(ANALYSES[args.claim])
    import polars as pl

    argv = [args.sweep_dir, "--out", args.out]
    if args.against is not None:
        if args.claim not in COMPARES:
            print(
                f"flywheel: error: --against: only {', '.join(COMPARES)} compares two sweeps",
                file=sys.stderr,
            )
            return 2
        argv += ["--against", args.against]
    try:
        return int(module.main(argv))
    except (FileNotFoundError, ValueError) as err:
        print(f"flywheel: error: {err}", file=sys.stderr)
        return 2
    except (pl.exceptions.PolarsError, OSError) as err:
        # a truncated or foreign file in the sweep folder: name the folder, one line
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(
            f"flywheel: error: cannot read the sweep under {args.sweep_dir}: {first}",
            file=sys.stderr,
        )
        return 2


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``analyze`` sub-command to the ``flywheel`` parser."""
    p = subparsers.add_parser("analyze", help="write a claim report from a sweep folder")
    p.add_argument("claim", choices=sorted(ANALYSES), help="which claim to analyse")
    p.add_argument("sweep_dir", help="folder written by `flywheel sweep`")
    p.add_argument("--out", required=True, help="report folder (report.md and figures)")
    p.add_argument(
        "--against",
        metavar="SWEEP_DIR",
        help="ad-opacity: a reference sweep of the same design; each verdict is set "
        "beside the reference's and every opposite sign is explained",
    )
    p.set_defaults(func=_command)
    return p
