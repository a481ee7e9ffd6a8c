"""Boundary refinement: from the span of matching hashes to where the shared sound starts and ends.

Hashes exist only where spectral peaks stand out, so their span misses the quiet first and last moments
of an intro (a fade-out has no peaks above the floor). Around each boundary the episode's frames are
compared with the frames its partners hold at the same offset; the boundary moves out while most partners
still match and the episode is not silent. Frames are compared as log-mel vectors with the episode's mean
spectrum removed (EQ and loudness do not count), by Pearson correlation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..timecode import Segment
from .align import SharedSegment
from .recurring import EpisodePrint, Region, dominant_alignments

REACH_OUT_S = 2.0
"""How far beyond the hashes' span a boundary may move: a fade-out or a soft first note lasts a second or
two; further out lies the next sound, which must not join."""

REACH_IN_S = 0.5
"""How far inside the span a boundary may move back, when the frames at the span's edge do not match."""

MATCH_LEVEL = 0.6
"""A frame matches a partner when their correlation is at least 0.6: unrelated frames of one series
correlate around 0–0.3, the same sound under speech or another codec 0.6–0.95 (0.5 and 0.75 were tried on
the validation split: 0.6 and 0.75 gave the same hits, 0.5 let the next sound in)."""

SILENCE_DB = 20.0
"""Frames more than 20 dB below the episode's loud level (its 95th-percentile frame) count as quiet and never
extend a boundary: room tone and an ambience bed sound alike at any offset. Measured on the validation
split: 45 dB let the ambience after an intro extend its end by 0.5 s (median); 20 dB gave a median
boundary error of 0.02 s; 15 dB began to cut fade-outs short."""

MAX_PARTNERS = 8
"""Partners compared per region (those with the most votes)."""

START_QUANTILE = 50.0
END_QUANTILE = 75.0
"""Per frame, a quantile of the partners' similarities. Before the start, half the partners must still match
(a partner whose logo sits at the intro's offset must not pull the start back into the logo); after the end,
a quarter (a trimmed partner has stopped, speech is over another)."""


def _normalised(p: EpisodePrint) -> np.ndarray:
    x = p.profile.log_mel - p.profile.log_mel.mean(axis=0)
    x = x - x.mean(axis=1, keepdims=True)
    return (x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-6)).astype(np.float32)


class Refiner:
    """Refines regions of one series' episodes; keeps each episode's normalised frames once."""

    def __init__(self, prints: Sequence[EpisodePrint]) -> None:
        self.prints = list(prints)
        self._frames: dict[int, np.ndarray] = {}

    def frames(self, episode: int) -> np.ndarray:
        if episode not in self._frames:
            self._frames[episode] = _normalised(self.prints[episode])
        return self._frames[episode]

    def partners(self, region: Region) -> list[SharedSegment]:
        strongest = [max(pieces, key=lambda s: s.votes) for pieces in dominant_alignments(region.members).values()]
        return sorted(strongest, key=lambda s: -s.votes)[:MAX_PARTNERS]

    def similarity(self, region: Region, lo: int, hi: int, quantile: float) -> np.ndarray:
        """(hi − lo,) per-frame similarity of frames lo..hi with the partners' aligned frames."""
        own = self.frames(region.episode)[lo:hi]
        rows = []
        for seg in self.partners(region):
            other = self.frames(seg.other)
            mapped = np.rint(np.arange(lo, hi) * seg.speed + seg.offset).astype(np.int64)
            valid = (mapped >= 0) & (mapped < other.shape[0])
            row = np.full(hi - lo, -1.0)
            row[valid] = np.einsum("ij,ij->i", own[valid], other[mapped[valid]])
            rows.append(row)
        if not rows:
            return np.full(hi - lo, -1.0)
        curve = np.percentile(np.array(rows), quantile, axis=0)
        loudness = self.prints[region.episode].profile.loudness_db
        silent = loudness[lo:hi] < np.percentile(loudness, 95) - SILENCE_DB
        return np.where(silent, -1.0, curve)

    def refine(self, region: Region) -> Segment:
        rate = self.prints[region.episode].profile.frame_rate
        n = self.prints[region.episode].profile.n_frames
        out, inward = round(REACH_OUT_S * rate), round(REACH_IN_S * rate)
        start, end = region.start, max(region.end, region.start + 1)
        # start: earliest frame of the matching run that holds the hashes' first frame
        lo, hi = max(0, start - out), min(n, start + inward + 1)
        sim = self.similarity(region, lo, hi, START_QUANTILE) >= MATCH_LEVEL
        k = start - lo
        if k < sim.size and sim[k]:
            while k > 0 and sim[k - 1]:
                k -= 1
        else:
            while k < sim.size - 1 and not sim[k]:
                k += 1
            if not sim[k]:
                k = start - lo
        new_start = lo + k
        # end: the frame after the last of the matching run that holds the hashes' last frame
        lo, hi = max(0, end - 1 - inward), min(n, end + out)
        sim = self.similarity(region, lo, hi, END_QUANTILE) >= MATCH_LEVEL
        k = end - 1 - lo
        if 0 <= k < sim.size and sim[k]:
            while k < sim.size - 1 and sim[k + 1]:
                k += 1
        else:
            while k > 0 and not sim[k]:
                k -= 1
            if not sim[k]:
                k = end - 1 - lo
        new_end = lo + k + 1
        if new_end <= new_start:
            new_start, new_end = start, end
        return Segment(new_start / rate, new_end / rate)
