"""What opens every episode of a season the same way: the episodes' first seconds compared frame by frame at
0:00 (pure: prints in, one span per episode out).

A network or studio ident is often too low or too noisy for landmark hashes (a 2.9 s bass note, a 0.56 s
cymbal: no spectral peak stands out long enough to pair), so the season's recurring motifs hold no piece for
it. Yet it sits at the same place in every episode: the file's start. Each episode's frames (log-mel, its mean
spectrum removed, as ``refine.normalised_frames``) are compared with every other episode's at the same time
(within OPENING_LAG_FRAMES, a decoder's priming), and the opening is the run from the first sounding frame for
as long as the partners' median similarity stays at ``MatchingOptions.match_level``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..settings import DEFAULT_MATCHING, MatchingOptions
from ..timecode import Segment
from .recurring import EpisodePrint
from .refine import normalised_frames

OPENING_RULES = "opening-3"
"""Version of these rules, in the recurring detector's cache key: bump when they change."""

OPENING_LOOK_S = 12.0
"""s of each episode compared: an ident runs 2–5 s, a studio logo with music up to 10 s; a longer shared opening
is a title sequence (the intro), which the caller tells apart by its length."""

OPENING_LAG_FRAMES = 3
"""Frames (about 0.14 s at 21.5 frames/s) either way that an episode's start may sit off its partners' (an
encoder's priming samples, a remux's first packet)."""

LEAD_S = 1.0
"""s of silence (or near it) an episode may open with before its opening sounds."""

HEAD_S = 1.0
"""s at the start over which the lag between two episodes is chosen (their best mean similarity there)."""


def shared_openings(
    prints: Sequence[EpisodePrint], options: MatchingOptions = DEFAULT_MATCHING
) -> list[Segment | None]:
    """Per episode the span at its start that sounds as its partners' starts do (None: nothing shared there)."""
    prints = list(prints)
    if len(prints) < 2:
        return [None] * len(prints)
    rate = prints[0].profile.frame_rate
    look = round(OPENING_LOOK_S * rate)
    frames = [normalised_frames(p)[:look] for p in prints]
    out: list[Segment | None] = []
    for i, p in enumerate(prints):
        sounding = p.profile.loudness_db[:look] >= p.profile.episode_level(options.silence_db)
        first = int(np.argmax(sounding)) if sounding.any() else look
        if first > LEAD_S * rate:
            out.append(None)
            continue
        rows = [_aligned(frames[i], frames[j], round(HEAD_S * rate)) for j in range(len(prints)) if j != i]
        n = min(r.size for r in rows)
        if n <= first:
            out.append(None)
            continue
        similar = (np.median(np.array([r[:n] for r in rows]), axis=0) >= options.match_level) & sounding[:n]
        k = first
        while k < n and similar[k]:
            k += 1
        out.append(Segment(first / rate, k / rate) if k > first else None)
    return out


def _aligned(own: np.ndarray, other: np.ndarray, head: int) -> np.ndarray:
    """Per frame of ``own`` its similarity with ``other`` at the lag (within OPENING_LAG_FRAMES) where their
    first ``head`` frames agree best; -1 where ``other`` has no frame."""
    n = own.shape[0]
    best, best_row = -np.inf, np.full(n, -1.0)
    for lag in range(-OPENING_LAG_FRAMES, OPENING_LAG_FRAMES + 1):
        idx = np.arange(n) + lag
        valid = (idx >= 0) & (idx < other.shape[0])
        row = np.full(n, -1.0)
        row[valid] = np.einsum("ij,ij->i", own[valid], other[idx[valid]])
        agreement = float(row[: max(1, min(n, head))].mean())
        if agreement > best:
            best, best_row = agreement, row
    return best_row
