"""Every detector, behind the interfaces of ``base.py``. A new detector is one module here and one entry
below: episode detectors run beside each episode's decode, series detectors in this order."""

from __future__ import annotations

from .base import Candidate, DetectorContext, EpisodeDetector, SeriesDetector
from .chapters import ChapterDetector
from .credits import CreditsDetector
from .inside import InsideDetector
from .known import KnownDetector
from .model import DEFAULT_MODEL, ModelDetector
from .recurring import RecurringDetector
from .replay import ReplayDetector

EPISODE_DETECTORS = (ModelDetector, ChapterDetector)
SERIES_DETECTORS = (KnownDetector, RecurringDetector, CreditsDetector, ReplayDetector, InsideDetector)

FAMILIES = tuple(dict.fromkeys(d.family for d in (*EPISODE_DETECTORS, *SERIES_DETECTORS)))
"""What ``detect(use=…)`` chooses from: matching (known intros and recurrence), the model, the file's chapters;
and what recurs inside an episode (``inside``: its head heard again in its own tail, evidence that sharpens the
model's span and ends a season's intro where its credits' replay does, never an answer)."""


def build_detectors(
    context: DetectorContext, families: tuple[str, ...] | None = None
) -> tuple[list[EpisodeDetector], list[SeriesDetector]]:
    """The detectors of ``families`` (None: all) that ``context`` allows (a model detector needs a model file, a
    known-intro detector a library)."""
    families = FAMILIES if families is None else families
    episode = [d for cls in EPISODE_DETECTORS if cls.family in families and (d := cls.build(context)) is not None]
    series = [d for cls in SERIES_DETECTORS if cls.family in families and (d := cls.build(context)) is not None]
    return episode, series


__all__ = [
    "DEFAULT_MODEL",
    "EPISODE_DETECTORS",
    "FAMILIES",
    "SERIES_DETECTORS",
    "Candidate",
    "ChapterDetector",
    "CreditsDetector",
    "DetectorContext",
    "EpisodeDetector",
    "InsideDetector",
    "KnownDetector",
    "ModelDetector",
    "RecurringDetector",
    "ReplayDetector",
    "SeriesDetector",
    "build_detectors",
]
