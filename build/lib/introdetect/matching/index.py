"""An inverted index of one series' fingerprints: hash → (episode, frame), so that matching a new episode
costs a lookup per hash instead of a comparison with every other episode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..settings import DEFAULT_MATCHING, MatchingOptions


@dataclass(frozen=True)
class Matches:
    """Hash matches of a query: the other episode, the query's frame and the other's frame (int32 arrays)."""

    other: np.ndarray
    query_frame: np.ndarray
    other_frame: np.ndarray
    query_reach: np.ndarray  # the query frame of the hash's last peak (the anchor's frame plus its pair's span)

    @property
    def size(self) -> int:
        return int(self.other.size)


class InvertedIndex:
    """Built once from every episode's (frames, hashes); queried with any (frames, hashes)."""

    def __init__(
        self, prints: Sequence[tuple[np.ndarray, np.ndarray]], options: MatchingOptions = DEFAULT_MATCHING
    ) -> None:
        frames = [np.asarray(f, dtype=np.int32) for f, _ in prints]
        hashes = [np.asarray(h, dtype=np.uint32) for _, h in prints]
        episode = np.concatenate(
            [np.full(f.size, i, dtype=np.int32) for i, f in enumerate(frames)] or [np.zeros(0, np.int32)]
        )
        all_hashes = np.concatenate(hashes or [np.zeros(0, np.uint32)])
        order = np.argsort(all_hashes, kind="stable")
        self.hashes = all_hashes[order]
        self.episode = episode[order]
        self.frame = np.concatenate(frames or [np.zeros(0, np.int32)])[order]
        self.n_episodes = len(prints)
        # a hash more frequent than max_postings_per_episode per indexed episode is a stop word
        self.max_postings = max(1, options.max_postings_per_episode * max(1, self.n_episodes))

    def query(
        self, frames: np.ndarray, hashes: np.ndarray, exclude: int | None = None, reach: np.ndarray | None = None
    ) -> Matches:
        """Every (other, query frame, other frame) whose hashes are equal; ``exclude`` drops one episode.
        ``reach`` gives each query hash's last frame (default: its anchor frame)."""
        lo = np.searchsorted(self.hashes, hashes, side="left")
        hi = np.searchsorted(self.hashes, hashes, side="right")
        count = hi - lo
        count[count > self.max_postings] = 0
        total = int(count.sum())
        if total == 0:
            empty = np.zeros(0, dtype=np.int32)
            return Matches(empty, empty, empty, empty)
        which = np.repeat(np.arange(hashes.size), count)
        # position of each posting: lo of its query hash plus its rank within the run
        starts = np.cumsum(count) - count
        pos = lo[which] + (np.arange(total) - starts[which])
        other = self.episode[pos]
        query_frame = np.asarray(frames, dtype=np.int32)[which]
        query_reach = (np.asarray(reach, dtype=np.int32) if reach is not None else np.asarray(frames, dtype=np.int32))[
            which
        ]
        other_frame = self.frame[pos]
        if exclude is not None:
            keep = other != exclude
            other, query_frame, other_frame, query_reach = (
                other[keep],
                query_frame[keep],
                other_frame[keep],
                query_reach[keep],
            )
        return Matches(other, query_frame, other_frame, query_reach)
