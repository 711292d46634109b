"""``flywheel viz [CONFIG]``: serve the browser visualiser (:mod:`sim.viz`) with ``solara run``."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sim import viz
from sim.config import ConfigError

__all__ = ["register"]


def _cmd_viz(args: argparse.Namespace) -> int:
    def fail(message: str) -> int:
        print(f"flywheel: error: {message}", file=sys.stderr)
        return 2

    if not 0 < args.port < 65536:
        return fail(f"--port {args.port}: must be between 1 and 65535")
    path = Path(args.config) if args.config is not None else viz.viz_config_path()
    try:
        viz.load_viz_config(path)
    except ConfigError as err:
        return fail(str(err))
    env = {**os.environ, viz.ENV_CONFIG: str(path.resolve())}
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(Path(viz.__file__).resolve()),
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--production",
        "--open" if args.open else "--no-open",
    ]
    print(f"flywheel viz: serving {path.name} at http://{args.host}:{args.port}/", flush=True)
    # the server and everything it starts run in their own process group, stopped as
    # one when flywheel viz ends (Ctrl-C, SIGTERM, or the server exiting by itself)
    server = subprocess.Popen(cmd, env=env, start_new_session=True)

    def _terminate(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop_group(server)


def _stop_group(server: subprocess.Popen, grace_s: float = 10.0) -> None:
    """SIGTERM the server's process group, then SIGKILL what is left after ``grace_s``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return  # the group is gone
        try:
            server.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            continue
        # the leader is gone; give its children the same grace
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            try:
                os.killpg(server.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``flywheel viz [CONFIG] [--host H] [--port P] [--open]`` to the CLI."""
    p = subparsers.add_parser(
        "viz",
        help="serve the browser visualiser (SolaraViz) of a config",
        description="Serve the browser visualiser of a config through `solara run`.",
    )
    p.add_argument(
        "config",
        nargs="?",
        help=f"a TOML config (default: ${viz.ENV_CONFIG} or configs/baseline.toml)",
    )
    p.add_argument(
        "--host", default=viz.DEFAULT_HOST, help=f"interface (default {viz.DEFAULT_HOST})"
    )
    p.add_argument(
        "--port", type=int, default=viz.DEFAULT_PORT, help=f"port (default {viz.DEFAULT_PORT})"
    )
    p.add_argument("--open", action="store_true", help="also open the page in a web browser")
    p.set_defaults(func=_cmd_viz)
