"""``flywheel validate [CONFIG]``: the config over seeds against the public facts."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli._common import fail, unwritable
from sim.config import ConfigError, load_config
from sim.validate import (
    DEFAULT_CONFIG,
    DEFAULT_OUT,
    EXIT_OUTSIDE,
    drift_warnings,
    facts_markdown,
    format_table,
    run_seeds,
    summarise,
    usage_lines,
)

__all__ = ["register"]


def _cmd_validate(args: argparse.Namespace) -> int:
    if args.write_facts:
        path = Path(args.write_facts)
        if path.is_dir():
            return fail(f"--write-facts {path}: is a folder, expected a markdown file path")
        path.write_text(facts_markdown())
        print(f"facts table written to {path}")
        return 0
    if args.seeds < 1:
        return fail(f"--seeds {args.seeds}: must be at least 1")
    if args.workers < 1:
        return fail(f"--workers {args.workers}: must be at least 1")
    try:
        cfg = load_config(args.config, overrides=list(args.set or []))
    except ConfigError as err:
        return fail(str(err))
    out = Path(args.out)
    problem = unwritable(out)
    if problem is not None:  # before any seed runs
        return fail(f"--out {problem}")
    per_seed = run_seeds(cfg, args.seeds, workers=args.workers, paired=not args.no_f7)
    rows = summarise(per_seed)
    title = (
        f"Validation of {args.config} ({cfg.run.n_customers:,} customers, "
        f"{cfg.run.days} days, {args.seeds} seeds from root seed {cfg.run.seed})"
    )
    table = format_table(rows, title) + usage_lines(per_seed)
    warnings = drift_warnings(per_seed)
    if warnings:
        table += "\n" + "\n".join(f"- {w}" for w in warnings) + "\n"
    print(table, end="")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(table)
    tmp.replace(out)
    outside = [r.fact.key for r in rows if not r.inside]
    print(f"written to {out}; outside the band: {', '.join(outside) if outside else 'none'}")
    return EXIT_OUTSIDE if outside else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` sub-command to the ``flywheel`` parser."""
    p = subparsers.add_parser(
        "validate", help="run a config over seeds and compare facts F1-F16 with their bands"
    )
    p.add_argument(
        "config", nargs="?", default=DEFAULT_CONFIG, help=f"TOML config (default {DEFAULT_CONFIG})"
    )
    p.add_argument("--seeds", type=int, default=5, help="number of seeds (default 5)")
    p.add_argument(
        "--out", default=DEFAULT_OUT, help=f"markdown file for the table (default {DEFAULT_OUT})"
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set run.n_customers=5000",
    )
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument(
        "--no-f7", action="store_true", help="skip the paired faster-delivery runs (F7 = nan)"
    )
    p.add_argument(
        "--write-facts",
        metavar="PATH",
        help="write the facts table (docs/FACTS.md) and exit, running nothing",
    )
    p.set_defaults(func=_cmd_validate)
