"""What every sub-command shares: one-line errors with exit code 2."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

__all__ = ["EXIT_USAGE", "Parser", "fail", "interrupted", "unwritable"]

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"flywheel: error: {message}\n")


def interrupted(err: BaseException) -> bool:
    """Whether ``err`` is Ctrl-C: a :class:`KeyboardInterrupt`, or an error raised
    because of one (numba wraps an interrupt that lands while it loads a compiled
    kernel in a :class:`SystemError` whose cause is the interrupt).

    >>> interrupted(KeyboardInterrupt()), interrupted(SystemError("x"))
    (True, False)
    >>> wrapped = SystemError("kernel"); wrapped.__cause__ = KeyboardInterrupt()
    >>> interrupted(wrapped)
    True
    """
    seen: set[int] = set()
    e: BaseException | None = err
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


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
