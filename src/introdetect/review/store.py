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
                      "reviewed_at": "2026-11-25T20:50:01Z", "revision": 3,
                      "detected": {"start_sec": 41.73, "end_sec": 46.8, "confidence": 0.27, "method": "recurring"},
                      "credits_start": "0:21:02.400", "credits_end": "0:22:30.000",
                      "reviews": {"credits": {"decision": "corrected", "reviewed_by": "ann",
                                              "reviewed_at": "2026-11-25T20:51:40Z", "detected": {...}}}}

The intro's decision is the top level (as before parts were reviewed); every other part (ident, recap, credits,
preview) is the label format's ``<kind>_start``/``<kind>_end`` pair, with who decided it, when, and what was
detected under ``reviews``. "no intro" is ``start``/``end`` null, as in the label files; "none of this kind"
is the kind's pair null. An entry whose intro nobody decided has no ``start``/``end`` at all: it says nothing
of the intro (``labels.states_intro``), so its parts never make it a "no intro" label.
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
from ..result import Kind, Method
from ..timecode import Segment, format_timecode

DECISIONS = ("confirmed", "corrected", "no_intro", "none")
"""What a person may decide of a part: its span as detected, or corrected (or added where nothing was found),
or that the episode has none of it: "no_intro" for the intro (the word the label files and the page always
used), "none" for the other kinds."""

INTRO_FIELDS = ("start", "end", "start_sec", "end_sec", "decision", "reviewed_by", "reviewed_at", "detected")
"""The top-level keys of an entry that belong to the intro's decision."""

BOUNDARY_DIGITS = 3
"""Boundaries are kept to the millisecond: "set from the playhead" gives any time, and a 0.1 s nudge must
survive the round trip through the H:MM:SS text."""


@dataclass(frozen=True)
class Decision:
    """What a person decided of one part (``kind``, the intro by default) of one episode: ``segment`` None is
    "none of it" (decision "no_intro" for the intro, "none" for another kind)."""

    decision: str
    segment: Segment | None
    reviewer: str
    detected: dict[str, Any] | None = None
    kind: Kind = Kind.INTRO

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, got {self.decision!r}")
        absent = "no_intro" if self.kind == Kind.INTRO else "none"
        if self.decision in ("no_intro", "none") and self.decision != absent:
            raise ValueError(f"'none of it' is '{absent}' for the {self.kind}, got {self.decision!r}")
        if (self.decision == absent) != (self.segment is None):
            raise ValueError(f"'{absent}' has no start and end; the other decisions need both")
        if self.segment is not None and not (0 <= self.segment.start_s < self.segment.end_s):
            raise ValueError(f"the {self.kind} must start at or after 0 and end after it starts, got {self.segment}")


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
        """Save one decision of one part; the episode's decisions of its other parts stay. ``revision``: the
        entry's revision the page saw (None: it saw none); a different one on disk raises StaleDecision.
        Returns the saved entry."""
        with self._locked():
            entries = self.load()
            current = entries.get(episode)
            if _revision(current) != (revision or 0):
                raise StaleDecision(current)
            entry = _with_decision(_without(current, decision.kind), decision, _revision(current) + 1)
            entries[episode] = entry
            self._write(entries)
            return entry

    def undo(self, episode: str, revision: int | None, kind: Kind = Kind.INTRO) -> dict[str, Any] | None:
        """Forget the decision of ``kind`` on ``episode`` (StaleDecision when the entry changed since the page
        saw it); the entry goes when no decision is left in it. Returns what is left (None: nothing)."""
        with self._locked():
            entries = self.load()
            current = entries.get(episode)
            if _revision(current) != (revision or 0):
                raise StaleDecision(current)
            if current is None:
                return None
            left = _without(current, kind)
            if decided_kinds(left):
                left["revision"] = _revision(current) + 1
                entries[episode] = left
            else:
                del entries[episode]
                left = None
            self._write(entries)
            return left

    def _write(self, entries: dict[str, dict[str, Any]]) -> None:
        """Write every entry (under the lock); temporary files a killed writer left are removed first (no
        writer can be using them: writers hold the lock)."""
        sweep_parts(self.path.parent, self.path.name, older_than_s=0.0)
        write_json_atomic(self.path, entries)


def _revision(entry: dict[str, Any] | None) -> int:
    value = entry.get("revision", 1) if entry is not None else 0
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def decided_kinds(entry: dict[str, Any] | None) -> list[Kind]:
    """The parts an entry holds a decision of (the intro where it has its ``decision``)."""
    if not entry:
        return []
    reviews = entry.get("reviews")
    others = [Kind(k) for k in reviews if k in set(Kind) - {Kind.INTRO}] if isinstance(reviews, dict) else []
    return ([Kind.INTRO] if "decision" in entry else []) + others


def _without(entry: dict[str, Any] | None, kind: Kind) -> dict[str, Any]:
    """A copy of ``entry`` without its decision of ``kind``."""
    out = dict(entry or {})
    if kind == Kind.INTRO:
        for key in INTRO_FIELDS:
            out.pop(key, None)
        return out
    out.pop(f"{kind}_start", None)
    out.pop(f"{kind}_end", None)
    reviews = {k: v for k, v in (out.get("reviews") or {}).items() if k != kind}
    if reviews:
        out["reviews"] = reviews
    else:
        out.pop("reviews", None)
    return out


def _with_decision(entry: dict[str, Any], decision: Decision, revision: int) -> dict[str, Any]:
    """``entry`` (without a decision of the decision's kind) with it, at ``revision``."""
    span = decision.segment
    times = (
        {"start": format_timecode(span.start_s, BOUNDARY_DIGITS), "end": format_timecode(span.end_s, BOUNDARY_DIGITS)}
        if span
        else {"start": None, "end": None}
    )
    who = {
        "decision": decision.decision,
        "reviewed_by": decision.reviewer,
        "reviewed_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        **({"detected": decision.detected} if decision.detected else {}),
    }
    out = dict(entry)
    if decision.kind == Kind.INTRO:
        out.update(
            {
                **times,
                "start_sec": round(span.start_s, BOUNDARY_DIGITS) if span else None,
                "end_sec": round(span.end_s, BOUNDARY_DIGITS) if span else None,
                **who,
            }
        )
    else:
        out[f"{decision.kind}_start"], out[f"{decision.kind}_end"] = times["start"], times["end"]
        out["reviews"] = {**(out.get("reviews") or {}), str(decision.kind): who}
    out["method"] = str(Method.REVIEW)
    out["revision"] = revision
    return out
