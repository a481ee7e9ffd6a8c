"""What recurs inside one episode: a stretch of its head heard again in its own tail (the intro's theme replayed in
the end credits, as most series do). For an episode with no siblings and no known intro, the model answers
alone and its boundaries are loose (a window's resolution, refined by change points); where such a stretch and
the model's span name the same piece, the stretch's boundaries, found by fingerprints and refined frame by frame
against the tail, stand (``fusion``). In a season, the credits' replay of the theme is a clean reference for the
end of the intro it starts with (``fusion``: where the partners carry dialogue over the theme's last bars, what
they share stops short of it). A stretch is never a sure intro on its own: a score cue or a bed may recur inside
an episode too; where the model hears no intro in a lone episode, a stretch whose replay starts its end credits
is an *unsure* one (``fusion._theme_replayed``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from ..matching.index import InvertedIndex
from ..matching.landmarks import landmark_hashes
from ..matching.recurring import EpisodePrint, build_regions, settle_extent
from ..matching.refine import Refiner
from ..matching.tail import heard_in_tail, tail_index, theme_replay
from ..result import Evidence, Kind, Match, Method
from ..settings import DEFAULT_MATCHING, MatchingOptions, digest
from ..timecode import Segment
from .base import Candidate, DetectorContext
from .credits import run_on
from .recurring import PAUSE_S, PAUSE_TAIL_S, end_before_pause

INSIDE_FAMILY = "inside"
"""The family of the candidates below: evidence the fusion reads, never an answer (``fusion._sharpened``)."""

INSIDE_RULES = "inside-3"
"""Version of the rules below, in the detector's key."""

MIN_INSIDE_S = 1.5
"""A stretch shorter than this is a chance match of a few hashes, not a piece heard twice (the shortest title
stings of the corpora are 2 s)."""


def replays_inside(
    episode: EpisodePrint, options: MatchingOptions = DEFAULT_MATCHING, index: InvertedIndex | None = None
) -> list[Segment]:
    """The stretches of the episode's head, before its tail begins, heard again in its tail: fingerprints of the
    head looked up among the tail's (``index``: the tail's, ``matching.tail.tail_index``, where the caller has
    it), then each stretch refined against the tail frame by frame, its end never across a pause
    (``recurring.end_before_pause``: a theme's reverb dying out in both places matches on into the quiet after
    it). Empty without a tail (none analysed, or the head reaches the end and holds it)."""
    tail, o = episode.tail, options
    if tail is None or tail.start_s <= episode.start_s:
        return []
    rate = episode.profile.frame_rate
    frames, hashes = landmark_hashes(episode.landmarks.peaks, 1.0, o)
    before = frames < (tail.start_s - episode.start_s) * rate  # the head before the tail: no stretch meets itself
    frames, hashes = frames[before], hashes[before]
    if not frames.size:
        return []
    index = index if index is not None else tail_index(tail, o)
    # the tail is episode 1 of the refinement (the head is 0)
    segments = [replace(s, other=1) for s in heard_in_tail(frames, hashes, index, rate, o)]
    refiner = Refiner([episode, tail], o)
    out = []
    for region in build_regions(0, segments, o):
        span = end_before_pause(refiner.refine(settle_extent(region, o)), episode, o)
        if span.duration_s >= MIN_INSIDE_S and episode.start_s + span.end_s <= tail.start_s:
            out.append(span)
    return sorted(out, key=lambda s: s.start_s)


NOTE_THEME_CREDITS = "where its own tail replays this stretch of its head"

THEME_MIN_S = MIN_INSIDE_S
"""The shortest replay of a stretch in the tail that starts credits (s): under it, a chance match of a theme's
first bar (held-out lone episodes: three replays of 0.6-0.9 s lay 42-120 s from the credits, against one right)."""

THEME_REACH_S = 70.0
"""Credits a replay implies end within this many seconds of the file's end: after them come at most a
post-credits scene and a preview (the corpora's: up to 40 s and 30 s); a replay earlier in the tail is the theme
quoted by a score cue (held-out lone episodes: three replays 100-120 s before the credits, every one caught)."""


def theme_credits(
    episode: EpisodePrint,
    stretch: Segment,
    options: MatchingOptions = DEFAULT_MATCHING,
    index: InvertedIndex | None = None,
) -> Segment | None:
    """The end credits an episode's tail implies where it replays ``stretch`` of its head from its start
    (``matching.tail.theme_replay``; ``index``: the tail's): from the replay's start to where its loudness stops
    holding (``credits.run_on``), when the replay lasts THEME_MIN_S and they end within THEME_REACH_S of the
    file's end; else None."""
    tail = episode.tail
    replay = theme_replay(episode, stretch, options, index)
    if tail is None or replay is None or replay.duration_s < THEME_MIN_S:
        return None
    rate = tail.profile.frame_rate
    start, end = round((replay.start_s - tail.start_s) * rate), round((replay.end_s - tail.start_s) * rate)
    stop = tail.start_s + run_on(tail, start, end) / rate
    if tail.end_s - stop > THEME_REACH_S:
        return None
    return Segment(replay.start_s, max(stop, replay.end_s))


@dataclass(frozen=True)
class InsideDetector:
    """The stretches of an episode's head that its tail replays: evidence the fusion uses to sharpen the model's
    span of an episode with no siblings, and to end a season's intro where its credits' replay ends; the credits
    such a replay implies for an episode with no siblings only (a season's are matched across its episodes)."""

    name: ClassVar[str] = "inside"
    family: ClassVar[str] = INSIDE_FAMILY
    kinds: ClassVar[frozenset[Kind]] = frozenset({Kind.INTRO, Kind.CREDITS})
    remote: ClassVar[bool] = False  # one index of one tail: cheap beside the decode
    answers: ClassVar[bool] = False  # evidence for the fusion, not an answer: the matcher still answers the episode

    options: MatchingOptions

    @classmethod
    def build(cls, context: DetectorContext) -> InsideDetector:
        return cls(context.matching)

    def key(self) -> str:
        return digest(
            self.name, INSIDE_RULES, THEME_MIN_S, THEME_REACH_S, PAUSE_S, PAUSE_TAIL_S, self.options.settings_hash
        )

    def detect_series(
        self, series: str, prints: Sequence[EpisodePrint], earlier: Sequence[Sequence[Candidate]] = ()
    ) -> list[list[Candidate] | None]:
        return [self._replays(episode, lone=len(prints) == 1) for episode in prints]

    def _replays(self, episode: EpisodePrint, lone: bool) -> list[Candidate] | None:
        tail = episode.tail
        if tail is None:
            return None
        found: list[Candidate] = []
        index = tail_index(tail, self.options)  # once: the stretches and the credits they imply look up in it
        for span in replays_inside(episode, self.options, index):
            found.append(
                Candidate(
                    Kind.INTRO, span, None, Method.RECURRING, f"heard again in its own tail (from {tail.start_s:.0f} s)"
                )
            )
            if not lone:
                continue
            credits = theme_credits(episode, span, self.options, index)
            if credits is not None:
                note = f"{NOTE_THEME_CREDITS} ({span})"
                evidence = Evidence((Match(span, (), 1.0),))
                found.append(Candidate(Kind.CREDITS, credits, None, Method.RECURRING, note, evidence))
        return found
