"""Offset voting: hash matches between a query episode and the others become shared segments.

Matches of content that two episodes share pile up at one offset (other frame − query frame); chance
matches spread thinly over all offsets. Each offset with enough votes is cut into runs of matches without
long gaps: every run is a stretch of the query that recurs in the other episode, at that offset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..settings import DEFAULT_MATCHING, MatchingOptions
from .index import Matches


@dataclass(frozen=True)
class SharedSegment:
    """A stretch [start, end] (query frames) that recurs in episode ``other`` at frame ``start·speed + offset``."""

    other: int
    start: int
    end: int
    offset: int
    speed: float
    votes: int

    def other_frame(self, query_frame: float) -> float:
        return query_frame * self.speed + self.offset


def shared_segments(
    matches: Matches, speed: float, frame_rate: float, options: MatchingOptions = DEFAULT_MATCHING
) -> list[SharedSegment]:
    """Shared segments of a query (hashed at ``speed``) with each other episode, from its hash matches (the
    constants: ``offset_tolerance_frames``, ``min_votes``, ``lone_vote_s``, ``max_gap_s``)."""
    if matches.size == 0:
        return []
    tolerance, min_votes = options.offset_tolerance_frames, options.min_votes
    warped = np.rint(matches.query_frame.astype(np.float64) * speed).astype(np.int64)
    offset = matches.other_frame.astype(np.int64) - warped
    lo = int(offset.min()) - tolerance
    span = int(offset.max()) - lo + tolerance + 1
    key = matches.other.astype(np.int64) * span + (offset - lo)
    n_others = int(matches.other.max()) + 1
    votes = np.bincount(key, minlength=n_others * span).reshape(n_others, span)
    # votes within the tolerance, and only offsets that are the local maximum of their neighbourhood
    width = 2 * tolerance + 1
    smoothed = votes.copy()
    for d in range(1, tolerance + 1):
        smoothed[:, d:] += votes[:, :-d]
        smoothed[:, :-d] += votes[:, d:]
    # the peaks: offsets with enough votes that beat every neighbour within ``width`` (among equal smoothed
    # votes, the one with the most exact votes; exact ties go to the earliest offset)
    rank = smoothed * (votes.max() + 1) + votes
    is_peak = smoothed >= min_votes
    for d in range(1, width + 1):
        is_peak[:, d:] &= rank[:, :-d] < rank[:, d:]  # the one d to the left must be lower
        is_peak[:, :-d] &= rank[:, d:] <= rank[:, :-d]  # the one d to the right must not be higher
    peak_other, peak_column = np.nonzero(is_peak)
    if peak_other.size == 0:
        return []
    peak_id = np.full(votes.shape, -1, dtype=np.int64)
    peak_id[peak_other, peak_column] = np.arange(peak_other.size)
    # each match votes for the peak within the tolerance of its offset (peaks are more than 2 × tolerance apart)
    column = offset - lo
    other = matches.other.astype(np.int64)
    pid = np.full(matches.size, -1, dtype=np.int64)
    for d in range(-tolerance, tolerance + 1):
        c = np.clip(column + d, 0, span - 1)
        hit = (pid < 0) & (peak_id[other, c] >= 0) & (column + d >= 0) & (column + d < span)
        pid[hit] = peak_id[other[hit], c[hit]]
    voted = pid >= 0
    pid = pid[voted]
    frames, reach = matches.query_frame[voted].astype(np.int64), matches.query_reach[voted].astype(np.int64)
    order = np.lexsort((frames, pid))
    pid, frames, reach = pid[order], frames[order], reach[order]
    # a lone vote (none other within a second at its offset) is chance: it must not stretch a segment
    same = pid[1:] == pid[:-1]
    close = same & (np.diff(frames) <= max(1, round(options.lone_vote_s * frame_rate)))
    keep = np.concatenate([[False], close]) | np.concatenate([close, [False]])
    pid, frames, reach = pid[keep], frames[keep], reach[keep]
    if pid.size == 0:
        return []
    max_gap = max(1, round(options.max_gap_s * frame_rate))
    starts = np.flatnonzero(np.concatenate([[True], (pid[1:] != pid[:-1]) | (np.diff(frames) > max_gap)]))
    counts = np.diff(np.concatenate([starts, [pid.size]]))
    ends = np.maximum.reduceat(reach, starts)
    segments = [
        # the shared stretch runs from the first matching anchor to the last matching peak
        SharedSegment(int(peak_other[pid[i]]), int(frames[i]), int(end), int(peak_column[pid[i]] + lo), speed, int(n))
        for i, end, n in zip(starts, ends, counts, strict=True)
        if n >= min_votes
    ]
    return segments
