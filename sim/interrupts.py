"""Telling Ctrl-C apart from a failure, wherever it lands.

An interrupt can reach the code as a :class:`KeyboardInterrupt` or wrapped in
another error: numba raises a :class:`SystemError` whose cause is the
interrupt when it lands while a cached kernel loads. The command line exits
130 on it, and a sweep's worker must not record the run it was doing as
failed (the sweep stops, and ``--resume`` redoes that run). An interrupt can
also be lost: Python ignores an exception raised in a finaliser, and llvmlite
runs finalisers while numba compiles or loads a kernel, so a Ctrl-C that lands
there is printed as "Exception ignored" and the run goes on. Within
:func:`ctrl_c_kept` such a Ctrl-C is kept, and :func:`check` (once a simulated
day) raises it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["check", "ctrl_c_kept", "interrupted"]

_pending = False


@contextmanager
def ctrl_c_kept() -> Iterator[None]:
    """Within the block, a Ctrl-C that Python ignores because it landed in a finaliser
    is kept (and not printed) until :func:`check` raises it; other errors in
    finalisers are reported as before."""
    global _pending
    _pending = False
    previous = sys.unraisablehook

    def keep(unraisable: Any) -> None:
        global _pending
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            _pending = True
        else:
            previous(unraisable)

    sys.unraisablehook = keep
    try:
        yield
    finally:
        sys.unraisablehook = previous
        _pending = False


def check() -> None:
    """Raise the :class:`KeyboardInterrupt` that :func:`ctrl_c_kept` kept, if any."""
    if _pending:
        raise KeyboardInterrupt


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
