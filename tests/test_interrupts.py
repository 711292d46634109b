"""Ctrl-C is never lost: one that lands in a finaliser (where Python ignores it) ends
the run at the next simulated day."""

from __future__ import annotations

import sys

import pytest

from sim.interrupts import check, ctrl_c_kept


class _Finalised:
    """An object whose finaliser is hit by Ctrl-C, as llvmlite's are while numba
    compiles or loads a kernel."""

    def __del__(self) -> None:
        raise KeyboardInterrupt


def test_a_ctrl_c_lost_in_a_finaliser_is_raised_at_the_next_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with ctrl_c_kept():
        check()  # nothing yet
        _Finalised()  # Python ignores the interrupt raised in its finaliser
        with pytest.raises(KeyboardInterrupt):
            check()
    check()  # outside the block nothing is kept
    assert "Exception ignored" not in capsys.readouterr().err


def test_other_errors_in_finalisers_are_still_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def __del__(self) -> None:
            raise ValueError("in a finaliser")

    reported: list[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_value))
    with ctrl_c_kept():
        Broken()
        check()  # not an interrupt: the run goes on
    assert [type(e) for e in reported] == [ValueError]
    assert sys.unraisablehook is not None and not reported[1:]
