"""``flywheel sweep SWEEP.toml --out DIR``: run a batch sweep (see :mod:`sim.experiments`)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli._common import fail, interrupted, unwritable
from sim.config import ConfigError
from sim.experiments.run import run_sweep
from sim.experiments.spec import _JSON_NAME, _SUMMARY_NAME

if TYPE_CHECKING:
    import polars as pl

__all__ = ["add_arguments", "main", "register"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sweep command's arguments to ``parser``."""
    parser.add_argument("sweep_file", metavar="SWEEP.toml", help="sweep definition")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="parallel runs (default: the CPUs available; 1 = serial, in process)",
    )
    parser.add_argument(
        "--backend",
        choices=("local", "dask"),
        default=None,
        help="local process pool (default) or Dask",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies dask)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="finish a sweep already started in DIR"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the runs and their count; write nothing"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _format_plan(plan: pl.DataFrame) -> str:
    cols = plan.columns
    rows = [[_cell(v) for v in row] for row in plan.iter_rows()]
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _command(args: argparse.Namespace) -> int:
    """Carry out ``flywheel sweep``; the exit code: 0 all done, 1 runs failed, 2 bad input."""
    backend = args.backend or ("dask" if args.scheduler else "local")
    problem = None if args.dry_run else unwritable(Path(args.out) / _JSON_NAME)
    if problem is not None:  # before any worker starts
        return fail(f"--out {problem}")
    try:
        report = run_sweep(
            args.sweep_file,
            args.out,
            workers=args.workers,
            backend=backend,
            scheduler=args.scheduler,
            resume=args.resume,
            dry_run=args.dry_run,
            progress=not args.quiet,
        )
    except ConfigError as err:
        print(f"flywheel: error: {err}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, SystemError) as err:
        if not interrupted(err):
            raise
        print(
            f"flywheel: interrupted; finished runs are kept in {args.out}; "
            "rerun with --resume to finish",
            file=sys.stderr,
        )
        return 130
    if report.dry_run:
        count = f"{report.n_runs} runs"
        if report.n_done:
            count += f" ({report.n_done} already complete in {report.out})"
        try:
            print(_format_plan(report.plan))
            print(count)
            sys.stdout.flush()
        except BrokenPipeError:  # e.g. piped into head: not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if report.n_failed or report.n_pending:
        bad = report.n_failed + report.n_pending
        print(
            f"flywheel: {bad} of {report.n_runs} runs failed; see {report.out / _JSON_NAME}",
            file=sys.stderr,
        )
        return 1
    print(
        f"flywheel: {report.n_runs} runs done ({report.n_skipped} kept from before) "
        f"in {report.wall_seconds:.1f} s; summary in {report.out / _SUMMARY_NAME}"
    )
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``sweep`` subcommand to the ``flywheel`` command's subparsers.

    Parameters
    ----------
    subparsers
        What ``ArgumentParser.add_subparsers`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The subcommand's parser; its ``func(args)`` returns the exit code.
    """
    parser = subparsers.add_parser(
        "sweep",
        help="run a batch sweep (scenarios x parameters x replicates)",
        description=(
            "Run every run of a sweep file, in parallel, into DIR in hive layout, with "
            "DIR/sweep.json (status of every run) and DIR/summary.parquet."
        ),
    )
    add_arguments(parser)
    parser.set_defaults(func=_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.experiments SWEEP.toml --out DIR ...``: the sweep command on its own."""
    parser = argparse.ArgumentParser(prog="flywheel sweep", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return _command(parser.parse_args(argv))
