"""Boundary refinement: from the span of matching hashes to where the shared sound starts and ends.

Hashes exist only where spectral peaks stand out, so their span misses the quiet first and last moments
of an intro (a fade-out has no peaks above the floor). Around each boundary the episode's frames are
compared with the frames its partners hold at the same offset; the boundary moves out while most partners
still match and the episode is not silent. Frames are compared as log-mel vectors with the episode's mean
spectrum removed (EQ and loudness do not count), by Pearson correlation. The constants (how far a boundary
may move, what matches, what is quiet) are ``settings.MatchingOptions``'s.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..settings import DEFAULT_MATCHING, MatchingOptions
from ..timecode import Segment
from .align import SharedSegment
from .recurring import EpisodePrint, Region, dominant_alignments


def normalised_frames(p: EpisodePrint) -> np.ndarray:
    """Each frame's log-mel with the episode's mean spectrum removed, unit length: a dot product of two is their
    Pearson correlation (EQ and loudness do not count)."""
    x = p.profile.log_mel - p.profile.log_mel.mean(axis=0)
    x = x - x.mean(axis=1, keepdims=True)
    return (x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-6)).astype(np.float32)


class Refiner:
    """Refines regions of one series' episodes; keeps each episode's normalised frames once."""

    def __init__(self, prints: Sequence[EpisodePrint], options: MatchingOptions = DEFAULT_MATCHING) -> None:
        self.prints = list(prints)
        self.options = options
        self._frames: dict[int, np.ndarray] = {}

    def frames(self, episode: int) -> np.ndarray:
        if episode not in self._frames:
            self._frames[episode] = normalised_frames(self.prints[episode])
        return self._frames[episode]

    def partners(self, region: Region) -> list[SharedSegment]:
        dominant = dominant_alignments(region.members, self.options).values()
        strongest = [max(pieces, key=lambda s: s.votes) for pieces in dominant]
        return sorted(strongest, key=lambda s: -s.votes)[: self.options.max_partners]

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
        silent = loudness[lo:hi] < np.percentile(loudness, 95) - self.options.silence_db
        return np.where(silent, -1.0, curve)

    def refine(self, region: Region) -> Segment:
        rate = self.prints[region.episode].profile.frame_rate
        n = self.prints[region.episode].profile.n_frames
        o = self.options
        out, inward = round(o.reach_out_s * rate), round(o.reach_in_s * rate)
        start, end = region.start, max(region.end, region.start + 1)
        # start: earliest frame of the matching run that holds the hashes' first frame
        lo, hi = max(0, start - out), min(n, start + inward + 1)
        sim = self.similarity(region, lo, hi, o.start_quantile) >= o.match_level
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
        sim = self.similarity(region, lo, hi, o.end_quantile) >= o.match_level
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
