"""Telling Ctrl-C apart from a failure, wherever it lands.

An interrupt can reach the code as a :class:`KeyboardInterrupt` or wrapped in
another error: numba raises a :class:`SystemError` whose cause is the
interrupt when it lands while a cached kernel loads. The command line exits
130 on it, and a sweep's worker must not record the run it was doing as
failed (the sweep stops, and ``--resume`` redoes that run).
"""

from __future__ import annotations

__all__ = ["interrupted"]


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
