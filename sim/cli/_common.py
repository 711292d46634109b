"""What every sub-command shares: one-line errors with exit code 2."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

__all__ = ["EXIT_USAGE", "Parser", "fail"]

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"flywheel: error: {message}\n")


def fail(message: str) -> int:
    """Print ``flywheel: error: message`` on stderr; the exit code of bad input."""
    print(f"flywheel: error: {message}", file=sys.stderr)
    return EXIT_USAGE
