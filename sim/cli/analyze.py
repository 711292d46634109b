"""The ``flywheel analyze`` sub-command: claim reports over a sweep folder.

``flywheel analyze {flywheel,ad-opacity,attribution} SWEEP_DIR --out REPORT_DIR``
runs the matching ``analysis`` script, which reads the sweep's Parquet tables
and writes ``REPORT_DIR/report.md`` with its figures. ``--against SWEEP_DIR``
(ad-opacity) sets each verdict beside that of a reference sweep.
``flywheel analyze sensitivity SWEEP_DIR --outcome NAME [--scenario S |
--contrast A-B] --out REPORT_DIR`` computes Sobol' or Morris indices of one
outcome over a Sobol' or Morris sweep (:mod:`analysis.sensitivity`).
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
    "sensitivity": "analysis.sensitivity",
}
#: Analyses that can compare a sweep with a reference sweep (``--against``).
COMPARES = ("ad-opacity",)
#: Options only the sensitivity analysis takes.
SENSITIVITY_OPTIONS = ("outcome", "scenario", "contrast")


def _error(message: str) -> int:
    print(f"flywheel: error: {message}", file=sys.stderr)
    return 2


def _command(args: argparse.Namespace) -> int:
    module = importlib.import_module(ANALYSES[args.claim])
    import polars as pl

    argv = [args.sweep_dir, "--out", args.out]
    if args.against is not None:
        if args.claim not in COMPARES:
            return _error(f"--against: only {', '.join(COMPARES)} compares two sweeps")
        argv += ["--against", args.against]
    for option in SENSITIVITY_OPTIONS:
        value = getattr(args, option)
        if value is None:
            continue
        if args.claim != "sensitivity":
            return _error(f"--{option}: only sensitivity takes it, not {args.claim}")
        argv += [f"--{option}", value]
    if args.claim == "sensitivity" and args.outcome is None:
        return _error("--outcome: sensitivity needs it (a daily column, A/B or A-B)")
    try:
        return int(module.main(argv))
    except (FileNotFoundError, ValueError) as err:
        return _error(str(err))
    except (pl.exceptions.PolarsError, OSError) as err:
        # a truncated or foreign file in the sweep folder: name the folder, one line
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return _error(f"cannot read the sweep under {args.sweep_dir}: {first}")


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
    p.add_argument(
        "--outcome",
        metavar="NAME",
        help="sensitivity: a daily column (its post-burn-in mean per run), A/B (ratio of "
        "the two columns' post-burn-in totals) or A-B (difference of their daily means)",
    )
    p.add_argument("--scenario", metavar="S", help="sensitivity: analyse scenario S's runs")
    p.add_argument(
        "--contrast",
        metavar="A-B",
        help="sensitivity: analyse scenario A minus scenario B per seed and point",
    )
    p.set_defaults(func=_command)
    return p
