"""Boundary refinement: from the span of matching hashes to where the shared sound starts and ends.

Hashes exist only where spectral peaks stand out, so their span misses the quiet first and last moments
of an intro (a fade-out has no peaks above the floor). Around each boundary the episode's frames are
compared with the frames its partners hold at the same offset; the boundary moves out while most partners
still match and the episode is not silent. Frames are compared as log-mel vectors with the episode's mean
spectrum removed (EQ and loudness do not count), by Pearson correlation. The constants (how far a boundary
may move, what matches, what is quiet) are ``settings.MatchingOptions``'s.
"""

from __future__ import annotations

import math
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


def _needed(partners: int, quantile: float) -> int:
    """How many of ``partners`` must match for their ``quantile`` (percent) to: the share above it, rounded up,
    one at least (75 of 5 partners: 2)."""
    return max(1, math.ceil((1 - quantile / 100) * partners - 1e-9))


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

    def _partners(self, region: Region) -> list[tuple[SharedSegment, int]]:
        """Per partner (most votes first, at most ``max_partners``): its strongest piece and the last frame of
        this episode its alignment reaches (its pieces joined)."""
        dominant = dominant_alignments(region.members, self.options).values()
        found = [(max(pieces, key=lambda s: s.votes), max(s.end for s in pieces)) for pieces in dominant]
        return sorted(found, key=lambda f: -f[0].votes)[: self.options.max_partners]

    def partners(self, region: Region) -> list[SharedSegment]:
        """The partners' strongest pieces, most votes first (at most ``max_partners``)."""
        return [seg for seg, _ in self._partners(region)]

    def similarity(self, region: Region, lo: int, hi: int, quantile: float, at_end: bool = False) -> np.ndarray:
        """(hi − lo,) per-frame similarity of frames lo..hi with the partners' aligned frames: the ``quantile``
        of the partners', -1 where the episode is quiet (``silence_db`` under its loud frames, or
        ``piece_quiet_db`` under the region's own). ``at_end`` (around the region's end): partners whose alignment
        ends ``stopped_s`` before it have stopped (a trimmed intro) and say nothing of these frames: the others
        decide, as many of them as the quantile asks of all the partners (``_needed``)."""
        own = self.frames(region.episode)[lo:hi]
        partners = self._partners(region)
        rows = []
        for seg, _ in partners:
            other = self.frames(seg.other)
            mapped = np.rint(np.arange(lo, hi) * seg.speed + seg.offset).astype(np.int64)
            valid = (mapped >= 0) & (mapped < other.shape[0])
            row = np.full(hi - lo, -1.0)
            row[valid] = np.einsum("ij,ij->i", own[valid], other[mapped[valid]])
            rows.append(row)
        if not rows:
            return np.full(hi - lo, -1.0)
        o, rate = self.options, self.prints[region.episode].profile.frame_rate
        stopped = region.end - round(o.stopped_s * rate) if at_end else -1
        going = [row for row, (_, reach) in zip(rows, partners, strict=True) if reach >= stopped]
        if going and len(going) < len(rows):
            need = min(len(going), _needed(len(rows), quantile))
            curve = -np.sort(-np.array(going), axis=0)[need - 1]
        else:
            curve = np.percentile(np.array(rows), quantile, axis=0)
        profile = self.prints[region.episode].profile
        loudness = profile.loudness_db
        silent = loudness[lo:hi] < profile.episode_level(o.silence_db)
        if o.piece_quiet_db > 0:  # nor what is far quieter than the piece itself (a bed alike at any offset)
            silent |= loudness[lo:hi] < profile.loud_level(
                region.start, max(region.end, region.start + 1), o.piece_quiet_db
            )
        return np.where(silent, -1.0, curve)

    def refine(self, region: Region) -> Segment:
        rate = self.prints[region.episode].profile.frame_rate
        n = self.prints[region.episode].profile.n_frames
        o = self.options
        out, inward = round(o.reach_out_s * rate), round(o.reach_in_s * rate)
        start, end = region.start, max(region.end, region.start + 1)
        # start: earliest frame of the matching run that holds the hashes' first frame (never reaching back into
        # what is far quieter than the piece)
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
        # end: the frame after the last of the matching run that holds the hashes' last frame, judged by the
        # partners whose alignment goes on to near it (a trimmed partner has stopped: it says nothing of after),
        # never into what is far quieter than the piece (a bed that looks alike at any offset)
        lo, hi = max(0, end - 1 - inward), min(n, end + out)
        sim = self.similarity(region, lo, hi, o.end_quantile, at_end=True) >= o.match_level
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
