"""The sweep folder on disk: ``sweep.json`` (status of every run), completeness checks, the lock,
stale temporaries and resume.

Part of :mod:`sim.experiments` (see its docstring for the sweep file format).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.experiments.spec import (
    _JSON_NAME,
    _LOCK_NAME,
    _SAVE_INTERVAL_S,
    _TMP_RE,
    FORMAT,
    Run,
    Sweep,
    SweepError,
)
from sim.experiments.worker import RunOutcome, _now

if TYPE_CHECKING:
    pass


def _provenance() -> dict[str, Any]:
    """Code version and package versions, as every run's manifest records them."""
    from sim.output import code_version, package_versions

    return {"code_version": code_version(), "packages": package_versions()}


def _write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w") as fh:
        json.dump(data, fh, indent=1)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class _Record:
    """``sweep.json``: the resolved sweep and the status of every run."""

    def __init__(self, out: Path, sweep: Sweep, previous: Mapping[str, Any] | None) -> None:
        self.path = out / _JSON_NAME
        self.sweep = sweep
        old_runs = {r["run_id"]: r for r in (previous or {}).get("runs", [])}
        self.runs: dict[str, dict[str, Any]] = {}
        for run in sweep.runs:
            entry = {
                "run_id": run.run_id,
                "scenario": run.scenario,
                "replicate": run.replicate,
                "seed": run.seed,
                "params": run.params,
                "path": run.path.as_posix(),
                "config_hash": run.config.hash(),
                "status": "pending",
            }
            self.runs[run.run_id] = entry
        self.old_runs = old_runs
        self.created_at = (previous or {}).get("created_at", _now())
        self.sessions: list[dict[str, Any]] = list((previous or {}).get("sessions", []))
        self.last_save = 0.0
        self.provenance = _provenance()
        self.definition_hash = sweep.hash()
        self.definition = sweep.definition()

    def counts(self) -> dict[str, int]:
        statuses = [r["status"] for r in self.runs.values()]
        return {
            "runs": len(statuses),
            "done": statuses.count("done"),
            "failed": statuses.count("failed"),
            "pending": statuses.count("pending"),
        }

    def set_done_found(self, run: Run) -> None:
        """Mark a run found complete on disk, keeping what was recorded when it finished."""
        entry = self.runs[run.run_id]
        old = self.old_runs.get(run.run_id, {})
        if old.get("status") == "done":
            entry.update({k: v for k, v in old.items() if k not in entry})
        else:  # finished after the last save of sweep.json
            entry["note"] = "found complete on resume"
        entry["status"] = "done"

    def update(self, outcome: RunOutcome) -> None:
        entry = self.runs[outcome.run_id]
        for key in ("error", "traceback", "note"):
            entry.pop(key, None)
        entry.update(
            status=outcome.status,
            wall_seconds=outcome.wall_seconds,
            finished_at=outcome.finished_at,
            host=outcome.host,
            pid=outcome.pid,
        )
        if outcome.status != "done":
            entry.update(error=outcome.error, traceback=outcome.traceback)

    def save(self, *, force: bool = False) -> None:
        """Rewrite sweep.json atomically (at most once a second unless forced)."""
        now = time.monotonic()
        if not force and now - self.last_save < _SAVE_INTERVAL_S:
            return
        self.last_save = now
        counts = self.counts()
        data = {
            "format": FORMAT,
            "name": self.sweep.name,
            "definition_hash": self.definition_hash,
            "created_at": self.created_at,
            "updated_at": _now(),
            **self.provenance,
            "counts": counts,
            "wall_seconds": round(sum(s.get("wall_seconds") or 0.0 for s in self.sessions), 3),
            "sessions": self.sessions,
            "definition": self.definition,
            "runs": list(self.runs.values()),
        }
        _write_json_atomic(self.path, data)


def _inspect_out(out: Path, sweep: Sweep) -> dict[str, Any] | None:
    """The previous sweep.json of this same sweep in ``out``, None if ``out`` is new or empty.

    Raises SweepError when ``out`` holds anything else.
    """
    if not out.exists():
        return None
    if not out.is_dir():
        raise SweepError(f"--out {out}: exists and is not a folder")
    entries = [
        p
        for p in out.iterdir()
        if p.name != _LOCK_NAME and not p.name.startswith(f".{_JSON_NAME}.tmp-")
    ]
    if not entries:
        return None
    file = out / _JSON_NAME
    if not file.is_file():
        raise SweepError(
            f"--out {out}: folder is not empty and holds no {_JSON_NAME}; "
            "choose a new or empty folder"
        )
    try:
        previous = json.loads(file.read_text())
        same = previous["definition_hash"] == sweep.hash()
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SweepError(f"{file}: unreadable ({err}); refusing to write into {out}") from None
    if not same:
        raise SweepError(
            f"--out {out}: holds a different sweep ({previous.get('name')!r}, "
            f"{previous.get('counts', {}).get('runs', '?')} runs); choose another folder"
        )
    return previous


@contextlib.contextmanager
def _lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out`` so that two sweeps never write into it at once."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: no locking
        yield
        return
    with open(out / _LOCK_NAME, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepError(f"--out {out}: another flywheel sweep is writing to it") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_stale(out: Path) -> int:
    """Delete leftover ``.tmp-*`` run folders and sweep.json temporaries; return how many."""
    stale = [
        p
        for p in out.rglob(".*")
        if (p.is_dir() and _TMP_RE.match(p.name))
        or (p.is_file() and p.name.startswith(f".{_JSON_NAME}.tmp-"))
    ]
    for p in stale:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    return len(stale)
