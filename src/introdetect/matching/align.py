"""Offset voting: hash matches between a query episode and the others become shared segments.

Matches of content that two episodes share pile up at one offset (other frame − query frame); chance
matches spread thinly over all offsets. Each offset with enough votes is cut into runs of matches without
long gaps: every run is a stretch of the query that recurs in the other episode, at that offset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .index import Matches

OFFSET_TOLERANCE_FRAMES = 1
"""Votes within ±1 frame (±46 ms) of an offset count for it: peaks jitter by a frame under codecs and mixing."""

MIN_VOTES = 8
"""Fewest matching hashes, at one offset, for a shared segment. A query of ~70 000 hashes meets ~1 chance
match per offset bin and episode, so 8 in ±1 frame happens by chance about once in 10⁵ bins, while a 2 s
sting under dialogue still leaves 20 or more."""

MAX_GAP_S = 6.0
"""Matches further apart than this at one offset start a new segment: dialogue over an intro and quiet bars
of a theme leave gaps of several seconds, while two different recurring sounds at exactly one offset
within 6 s of each other are rare."""


LONE_VOTE_S = 1.0
"""A vote with no other vote at its offset within 1 s is dropped before segments are cut: chance matches
are single, while shared sound gives several votes a second."""


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
    matches: Matches, speed: float, frame_rate: float, min_votes: int = MIN_VOTES
) -> list[SharedSegment]:
    """Shared segments of a query (hashed at ``speed``) with each other episode, from its hash matches."""
    if matches.size == 0:
        return []
    warped = np.rint(matches.query_frame.astype(np.float64) * speed).astype(np.int64)
    offset = matches.other_frame.astype(np.int64) - warped
    lo = int(offset.min()) - OFFSET_TOLERANCE_FRAMES
    span = int(offset.max()) - lo + OFFSET_TOLERANCE_FRAMES + 1
    key = matches.other.astype(np.int64) * span + (offset - lo)
    n_others = int(matches.other.max()) + 1
    votes = np.bincount(key, minlength=n_others * span).reshape(n_others, span)
    # votes within the tolerance, and only offsets that are the local maximum of their neighbourhood
    width = 2 * OFFSET_TOLERANCE_FRAMES + 1
    kernel = np.ones(width, dtype=np.int64)
    smoothed = (
        np.apply_along_axis(lambda row: np.convolve(row, kernel, mode="same"), 1, votes) if span >= width else votes
    )
    candidates = np.argwhere(smoothed >= min_votes)
    # among neighbouring offsets with equal smoothed votes, the one with the most exact votes is the peak
    rank = smoothed * (votes.max() + 1) + votes
    max_gap = max(1, round(MAX_GAP_S * frame_rate))
    lone = max(1, round(LONE_VOTE_S * frame_rate))
    segments: list[SharedSegment] = []
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    for other, column in candidates:
        value = rank[other, column]
        left = rank[other, max(0, column - width) : column]
        right = rank[other, column + 1 : column + width + 1]
        if (left.size and left.max() >= value) or (right.size and right.max() > value):
            continue  # not the peak (exact ties go to the earliest offset)
        centre = other * span + column
        a = np.searchsorted(sorted_key, centre - OFFSET_TOLERANCE_FRAMES, side="left")
        b = np.searchsorted(sorted_key, centre + OFFSET_TOLERANCE_FRAMES, side="right")
        picked = order[a:b]
        by_frame = np.argsort(matches.query_frame[picked], kind="stable")
        frames = matches.query_frame[picked][by_frame]
        reach = matches.query_reach[picked][by_frame]
        # a lone vote (none other within a second at this offset) is chance: it must not stretch a segment
        gaps = np.diff(frames)
        near_prev = np.concatenate([[False], gaps <= lone])
        near_next = np.concatenate([gaps <= lone, [False]])
        keep = near_prev | near_next
        frames, reach = frames[keep], reach[keep]
        breaks = np.flatnonzero(np.diff(frames) > max_gap)
        for run, run_reach in zip(np.split(frames, breaks + 1), np.split(reach, breaks + 1), strict=True):
            if run.size >= min_votes:
                # the shared stretch runs from the first matching anchor to the last matching peak
                segments.append(SharedSegment(int(other), int(run[0]), int(run_reach.max()), int(column + lo), speed,
                                              int(run.size)))  # fmt: skip
    return segments
