"""What one episode's tail replays of its head (the theme again in its end credits): fingerprints of a stretch of
the head looked up among the tail's, at normal speed (head and tail are one release: no speed between them).
The credits detector starts an episode's credits where its tail replays its intro; a lone episode's evidence
(``detectors/inside.py``) finds the stretches its tail replays and the credits they imply."""

from __future__ import annotations

import numpy as np

from ..settings import DEFAULT_MATCHING, MatchingOptions
from ..timecode import Segment
from .align import SharedSegment, shared_segments
from .index import InvertedIndex
from .landmarks import hash_reach, landmark_hashes
from .recurring import EpisodePrint

THEME_LEAD_S = 6.0
"""The intro's replay in the tail must begin within this many seconds of the intro's first frame for the credits
to start where the theme does: the last scene's dialogue runs over the credits' first 2-6 s (and hides the
theme's hashes there); a replay matching only further in is a later part of the theme, whose start in the tail
says nothing of the credits'."""


def tail_index(tail: EpisodePrint, options: MatchingOptions = DEFAULT_MATCHING) -> InvertedIndex:
    """The tail's fingerprints, indexed to look stretches of the head up in (episode 0 of the index)."""
    return InvertedIndex([landmark_hashes(tail.landmarks.peaks, 1.0, options)], options)


def heard_in_tail(
    frames: np.ndarray,
    hashes: np.ndarray,
    index: InvertedIndex,
    frame_rate: float,
    options: MatchingOptions = DEFAULT_MATCHING,
) -> list[SharedSegment]:
    """The shared segments of a head's hashes (``frames``, ``hashes``: ``landmark_hashes`` at speed 1) with the
    tail of ``index``, those with at least ``options.min_lookup_votes`` (fewer is a chance alignment)."""
    matches = index.query(frames, hashes, reach=hash_reach(frames, hashes, 1.0, options))
    return [s for s in shared_segments(matches, 1.0, frame_rate, options) if s.votes >= options.min_lookup_votes]


def theme_replay(
    episode: EpisodePrint,
    intro: Segment,
    options: MatchingOptions = DEFAULT_MATCHING,
    index: InvertedIndex | None = None,
) -> Segment | None:
    """Where (s of the file) the episode's tail replays its ``intro``, from the intro's first frame on, when the
    replay begins within THEME_LEAD_S of it (the credits replay the theme from its start); None otherwise.
    ``index``: the tail's (``tail_index``), where the caller has it. The head and the tail of one episode share
    its release's EQ and codec, so a theme's quiet or bass-only first bars match there when the season's other
    episodes do not."""
    tail = episode.tail
    if tail is None or intro.end_s > tail.start_s:
        return None
    head = episode.between(intro.start_s, intro.end_s)
    frames, hashes = landmark_hashes(head.landmarks.peaks, 1.0, options)
    if not frames.size:
        return None
    index = index if index is not None else tail_index(tail, options)
    found = heard_in_tail(frames, hashes, index, head.profile.frame_rate, options)
    if not found:
        return None
    best = max(found, key=lambda seg: seg.votes)
    if best.start / head.profile.frame_rate > THEME_LEAD_S:
        return None
    return Segment(tail.seconds(best.other_frame(0.0)), tail.seconds(best.other_frame(best.end)))
