"""The reviewed-labels file: a person's decisions, in the label format, saved one decision at a time.

Every decision re-reads the file under a lock, changes one episode and writes the whole file atomically
(temporary file, fsync, rename, fsync of the folder): a crash or a kill leaves the old file or the new one,
never half of one, and a decision is on disk before the page is told it is saved. Two tabs (or two servers)
on the same file each change only the episodes they decide, so neither loses the other's decisions; each
entry carries a revision, and a decision made on a stale view of an episode (another tab changed it since)
is refused with the current entry, for the page to show.

An entry (readable by ``read_labels``, ``read_result`` and so by ``train``/``finetune``/``evaluate``)::

    "show01_s01e02": {"start": "0:00:41.700", "end": "0:00:46.800", "start_sec": 41.7, "end_sec": 46.8,
                      "method": "review", "decision": "corrected", "reviewed_by": "ann",
                      "reviewed_at": "2026-11-25T20:50:01Z", "revision": 2,
                      "detected": {"start_sec": 41.73, "end_sec": 46.8, "confidence": 0.27, "method": "recurring"}}

"no intro" is ``start``/``end`` null, as in the label files.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..atomic import sweep_parts, write_json_atomic
from ..errors import ReviewFileError, StaleDecision
from ..result import Method
from ..timecode import Segment, format_timecode

DECISIONS = ("confirmed", "corrected", "no_intro")

BOUNDARY_DIGITS = 3
"""Boundaries are kept to the millisecond: "set from the playhead" gives any time, and a 0.1 s nudge must
survive the round trip through the H:MM:SS text."""


@dataclass(frozen=True)
class Decision:
    """What a person decided for one episode: ``intro`` None is "no intro"."""

    decision: str
    intro: Segment | None
    reviewer: str
    detected: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, got {self.decision!r}")
        if (self.decision == "no_intro") != (self.intro is None):
            raise ValueError("'no_intro' has no start and end; the other decisions need both")
        if self.intro is not None and not (0 <= self.intro.start_s < self.intro.end_s):
            raise ValueError(f"the intro must start at or after 0 and end after it starts, got {self.intro}")


class ReviewStore:
    """Decisions kept in ``path`` (created at the first decision)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.load()  # a file that is not ours fails here, before anything is decided

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(lock_path, "a+b") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def load(self) -> dict[str, dict[str, Any]]:
        """Every decision on disk, by id."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise ReviewFileError(f"{self.path}: cannot read the reviewed labels: {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReviewFileError(f"{self.path}: not JSON (line {exc.lineno}): refusing to overwrite it") from None
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise ReviewFileError(f"{self.path}: not a label file (a JSON object of objects): refusing to overwrite it")
        return data

    def decide(self, episode: str, decision: Decision, revision: int | None) -> dict[str, Any]:
        """Save one decision. ``revision``: the entry's revision the page saw (None: it saw none); a different
        one on disk raises StaleDecision. Returns the saved entry."""
        with self._locked():
            entries = self.load()
            current = entries.get(episode)
            if _revision(current) != (revision or 0):
                raise StaleDecision(current)
            entry = _entry(decision, _revision(current) + 1)
            entries[episode] = entry
            self._write(entries)
            return entry

    def undo(self, episode: str, revision: int | None) -> None:
        """Forget the decision on ``episode`` (StaleDecision when it changed since the page saw it)."""
        with self._locked():
            entries = self.load()
            current = entries.get(episode)
            if _revision(current) != (revision or 0):
                raise StaleDecision(current)
            if current is not None:
                del entries[episode]
                self._write(entries)

    def _write(self, entries: dict[str, dict[str, Any]]) -> None:
        """Write every entry (under the lock); temporary files a killed writer left are removed first (no
        writer can be using them: writers hold the lock)."""
        sweep_parts(self.path.parent, self.path.name, older_than_s=0.0)
        write_json_atomic(self.path, entries)


def _revision(entry: dict[str, Any] | None) -> int:
    value = entry.get("revision", 1) if entry is not None else 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def _entry(decision: Decision, revision: int) -> dict[str, Any]:
    intro = decision.intro
    return {
        "start": format_timecode(intro.start_s, BOUNDARY_DIGITS) if intro else None,
        "end": format_timecode(intro.end_s, BOUNDARY_DIGITS) if intro else None,
        "start_sec": round(intro.start_s, BOUNDARY_DIGITS) if intro else None,
        "end_sec": round(intro.end_s, BOUNDARY_DIGITS) if intro else None,
        "method": str(Method.REVIEW),
        "decision": decision.decision,
        "reviewed_by": decision.reviewer,
        "reviewed_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "revision": revision,
        **({"detected": decision.detected} if decision.detected else {}),
    }
