"""What every sub-command shares: one-line errors with exit code 2."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

from sim.interrupts import interrupted

__all__ = ["EXIT_USAGE", "Parser", "fail", "interrupted", "unwritable"]

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"flywheel: error: {message}\n")


def fail(message: str) -> int:
    """Print ``flywheel: error: message`` on stderr; the exit code of bad input."""
    print(f"flywheel: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def unwritable(path: Path, *, folder: bool = False) -> str | None:
    """Why a file (``folder``: a folder) could not be written at ``path`` later (None if
    it could), checked before any work: the nearest existing folder above it must be a
    writable folder."""
    if not folder and path.exists() and path.is_dir():
        return f"{path}: is a folder, expected a file path"
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"{path}: {parent} is a file, not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{path}: the folder {parent} is not writable"
    try:  # a probe, removed at once (some file systems refuse what access() allows)
        probe = tempfile.NamedTemporaryFile(dir=parent, prefix=".flywheel-probe-")
        probe.close()
    except OSError as err:
        return f"{path}: cannot write in {parent} ({err.strerror or err})"
    return None
