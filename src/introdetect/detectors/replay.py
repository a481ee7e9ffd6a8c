"""Recap and preview as a series detector: audio that replays scenes of other episodes of the season.

A recap ("previously on") replays scenes of **earlier** episodes' story near the start of an episode; a preview
("next time") replays scenes of the **next** episode's story near its end. Both are found the same way: the
start of each episode's head (its first RECAP_LEAD_S) and its tail are matched against every other episode's
head and tail (the fingerprints of ``matching/``), and a stretch is a *replay* when it recurs in one or two
other episodes (a scene exists once, and perhaps in one other recap: a theme or a sting recurs in most) at
another place than its own (a sting at the same place of every episode is the structure, not a scene). The
replays of earlier episodes that begin near the start and follow each other with short gaps form the recap;
those of the next episode in the tail form the preview. A piece recurring at the same place of other episodes
just before them (the "previously on" or "next time" sting) starts the part, and is required: replayed pieces
that nothing announces are more likely a score cue heard elsewhere (a wrong skip costs more than a miss).

Only what was analysed can be recognised: a scene replayed from beyond an episode's head and tail windows is
not found, so a recap or preview is found when at least one of its scenes lies in them, and its ends may fall
short where its first or last scenes do not (docs/BENCHMARKS.md measures it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..matching.align import SharedSegment, shared_segments
from ..matching.index import InvertedIndex, Matches
from ..matching.landmarks import hash_reach, landmark_hashes
from ..matching.recurring import EpisodePrint
from ..result import Kind, Method
from ..settings import DEFAULT_MATCHING, MatchingOptions, digest
from ..timecode import Segment
from .base import Candidate, DetectorContext

VERSION = 8
"""Bumped when the rules change what they answer (it enters the detector's key, hence the cache key)."""

RECAP_LEAD_S = 240.0
"""Seconds from an episode's start where a recap is looked for: it opens the episode, after an ident; real
recaps run 15 s to 2 minutes."""

FIRST_WITHIN_S = 60.0
"""A recap's first replayed scene begins this soon after the start (after an ident and the sting)."""

CHAIN_GAP_S = 12.0
"""Replayed scenes further apart than this are not one recap or preview: between two recognised scenes lies at
most one unrecognised clip (4–10 s) and the pauses around it."""

STRUCTURAL_S = 20.0
"""A stretch recurring within this many seconds of the same place of the other episode (from the start in a
head, from the end in a tail) is the structure (a sting, the theme), not a replayed scene."""

MAX_PARTNERS = 1
"""A replayed scene recurs in the story of this many other episodes: its own (other recaps and previews that
replay it lie outside their episodes' story). More is a score cue: the same excerpt in the story of several."""

STING_GAP_S = 3.0
"""A structural piece ending this soon before the first replayed scene is the part's sting and starts it."""

IDENT_END_S = 0.5
"""A piece starting before the ident's end less this is the ident, never a recap's sting."""

STING_MAX_S = 4.0
"""The longest piece taken for a "previously on" or "next time" sting (s): an announcer's line or a sting lasts
1–3 s; a score cue or a theme is longer (our parts corpus's show06: a 30 s cue opening the cold open of two
episodes started a recap of chance matches after it)."""


@dataclass(frozen=True)
class _Piece:
    start_s: float  # in the file of the episode queried
    end_s: float
    other: int  # the episode it recurs in
    there_s: float  # where, in that episode's file
    structural: bool


@dataclass(frozen=True)
class _Layout:
    """What the detectors before this one found of an episode: where its story lies."""

    intro: Segment | None
    credits: Segment | None
    ident: Segment | None = None

    def structure(self, piece: _Piece) -> bool:
        """Whether ``piece`` (of this episode) lies mostly in its own intro or credits: the theme, not a scene."""
        length = piece.end_s - piece.start_s
        return any(
            span is not None and min(span.end_s, piece.end_s) - max(span.start_s, piece.start_s) > 0.5 * length
            for span in (self.intro, self.credits)
        )

    def story(self, t: float) -> bool:
        """Whether ``t`` (s of the file) lies in the episode's story: after its intro (or past where a recap can
        be, without one) and before its credits."""
        after = self.intro.end_s if self.intro is not None else FIRST_WITHIN_S
        before = self.credits.start_s if self.credits is not None else np.inf
        return after <= t < before

    @classmethod
    def of(cls, found: Sequence[Candidate]) -> _Layout:
        def span(kind: Kind) -> Segment | None:
            return next((c.segment for c in found if c.kind == kind and c.segment is not None), None)

        return cls(span(Kind.INTRO), span(Kind.CREDITS), span(Kind.IDENT))


def _query(
    index: InvertedIndex, query: EpisodePrint, own: set[int], prints: list[EpisodePrint], options: MatchingOptions
) -> list[tuple[SharedSegment, EpisodePrint]]:
    """Shared segments of ``query`` with every indexed print not of its own episode (``own``: their places in the
    index), each with the print it recurs in."""
    rate = query.profile.frame_rate
    found = []
    for speed in options.speeds:
        frames, hashes = landmark_hashes(query.landmarks.peaks, speed, options)
        matches = index.query(frames, hashes, reach=hash_reach(frames, hashes, speed, options))
        keep = ~np.isin(matches.other, list(own))
        matches = Matches(
            matches.other[keep], matches.query_frame[keep], matches.other_frame[keep], matches.query_reach[keep]
        )
        found += [(seg, prints[seg.other]) for seg in shared_segments(matches, speed, rate, options)]
    return found


def _pieces(
    query: EpisodePrint, shared: list[tuple[SharedSegment, EpisodePrint]], owner: dict[int, int], from_end: bool
) -> list[_Piece]:
    """The shared segments as pieces on the queried file's timeline, each marked structural or not."""
    rate = query.profile.frame_rate
    out = []
    for seg, other in shared:
        start, end = query.seconds(seg.start), query.seconds(seg.end)
        there = other.seconds(seg.other_frame(seg.start))
        if from_end:  # distances from each episode's end (both tails end their files)
            structural = other.reached_end and abs((query.end_s - start) - (other.end_s - there)) <= STRUCTURAL_S
        else:
            structural = other.start_s == 0.0 and abs(start - there) <= STRUCTURAL_S
        out.append(_Piece(start, max(end, start + 1 / rate), owner[seg.other], there, structural))
    return out


def _partners(pieces: list[_Piece], piece: _Piece, layouts: Sequence[_Layout]) -> int:
    """In how many other episodes' story the stretch of ``piece`` recurs (any piece overlapping it): a scene's
    own episode; other recaps or previews replaying it too are not story and do not count."""
    return len(
        {
            p.other
            for p in pieces
            if min(p.end_s, piece.end_s) > max(p.start_s, piece.start_s) and layouts[p.other].story(p.there_s)
        }
    )


MIN_PIECES = 2
"""A recap or preview rests on at least this many replayed pieces (distinct stretches): it replays scenes, and
one stretch alone may be a score cue heard once elsewhere."""


def _chain(replays: list[_Piece], first_by: float) -> tuple[Segment | None, int]:
    """The run of replays that begins by ``first_by`` (s of the file) and whose gaps stay under CHAIN_GAP_S, and
    how many distinct stretches it holds (None when fewer than MIN_PIECES)."""
    replays = sorted(replays, key=lambda p: p.start_s)
    if not replays or replays[0].start_s > first_by:
        return None, 0
    start, end = replays[0].start_s, replays[0].end_s
    stretches = {round(replays[0].start_s, 1)}
    for p in replays[1:]:
        if p.start_s - end > CHAIN_GAP_S:
            break
        end = max(end, p.end_s)
        stretches.add(round(p.start_s, 1))
    if len(stretches) < MIN_PIECES:
        return None, len(stretches)
    return Segment(start, end), len(stretches)


def _with_sting(span: Segment, pieces: list[_Piece], ident: Segment | None = None) -> Segment | None:
    """``span`` started at a structural piece (the part's sting, recurring at the same place of other episodes)
    that ends just before it and is short (STING_MAX_S: a score cue under the cold open of several episodes is
    no sting), never the ident; None without one: a run of replayed pieces that no sting announces is more
    likely a score cue heard elsewhere than a recap (a wrong skip costs more than a miss)."""
    stings = [
        p
        for p in pieces
        if p.structural
        and p.end_s - p.start_s <= STING_MAX_S
        and p.start_s <= span.start_s + 0.5
        and p.end_s >= span.start_s - STING_GAP_S
        and (ident is None or p.start_s >= ident.end_s - IDENT_END_S)
    ]
    if not stings:
        return None
    return Segment(min(min(p.start_s for p in stings), span.start_s), span.end_s)


def replay_parts(
    prints: Sequence[EpisodePrint],
    earlier: Sequence[Sequence[Candidate]] = (),
    options: MatchingOptions = DEFAULT_MATCHING,
) -> list[tuple[Segment | None, Segment | None, int, int]]:
    """Per episode (in season order): its recap, its preview (None: none found), and how many replayed pieces
    each rests on. ``earlier``: the intro and credits found before (where each episode's story lies: a recap
    lies before the intro and replays other episodes' story; a preview replays the next episode's story)."""
    n = len(prints)
    layouts = [_Layout.of(earlier[e] if e < len(earlier) else ()) for e in range(n)]
    leads = [
        min(RECAP_LEAD_S, layouts[e].intro.start_s if layouts[e].intro is not None else RECAP_LEAD_S) for e in range(n)
    ]
    heads = [p.between(0.0, leads[e]) for e, p in enumerate(prints)]
    tails = [p.tail for p in prints]
    indexed: list[EpisodePrint] = []
    owner: dict[int, int] = {}
    places: dict[int, set[int]] = {e: set() for e in range(n)}
    for e, p in enumerate(prints):
        for part in (p, tails[e]):
            if part is not None and part.profile.n_frames:
                owner[len(indexed)] = e
                places[e].add(len(indexed))
                indexed.append(part)
    index = InvertedIndex([landmark_hashes(p.landmarks.peaks, 1.0, options) for p in indexed], options)
    partners = MAX_PARTNERS
    out = []
    for e in range(n):
        recap_pieces = _pieces(heads[e], _query(index, heads[e], places[e], indexed, options), owner, False)
        replays = [
            p
            for p in recap_pieces
            if p.other < e
            and not p.structural
            and not layouts[e].structure(p)
            and layouts[p.other].story(p.there_s)
            and _partners(recap_pieces, p, layouts) <= partners
        ]
        recap, recapped = _chain(replays, heads[e].start_s + FIRST_WITHIN_S)
        recap = _with_sting(recap, recap_pieces, layouts[e].ident) if recap is not None else None
        preview, previewed = None, 0
        tail = tails[e]
        if tail is not None and tail.profile.n_frames:
            tail_pieces = _pieces(tail, _query(index, tail, places[e], indexed, options), owner, True)
            shown = [
                p
                for p in tail_pieces
                if p.other == e + 1
                and not p.structural
                and not layouts[e].structure(p)
                and layouts[p.other].story(p.there_s)
                and _partners(tail_pieces, p, layouts) <= partners
            ]
            preview, previewed = _chain(shown, np.inf)
            preview = _with_sting(preview, tail_pieces) if preview is not None else None
        out.append((recap, preview, recapped, previewed))
    return out


def confidence_of(pieces: int) -> float:
    """How sure a part is from the replayed stretches it rests on: two, likelier than not; four or more, near
    certain. (Not calibrated on held-out series yet: docs/BENCHMARKS.md measures how often it is right.)"""
    return float(min(0.9, 0.5 + 0.1 * pieces))


ABSENT_CONFIDENCE = 0.6
"""How sure "no recap" / "no preview" is: only what was analysed can be recognised (module doc)."""


@dataclass(frozen=True)
class ReplayDetector:
    """Recaps and previews: stretches replaying other episodes' scenes (module doc)."""

    name: ClassVar[str] = "replay"
    family: ClassVar[str] = "matching"
    kinds: ClassVar[frozenset[Kind]] = frozenset({Kind.RECAP, Kind.PREVIEW})
    remote: ClassVar[bool] = True
    answers: ClassVar[bool] = True

    options: MatchingOptions = DEFAULT_MATCHING

    @classmethod
    def build(cls, context: DetectorContext) -> ReplayDetector:
        return cls(context.matching)

    def key(self) -> str:
        constants = (
            RECAP_LEAD_S,
            FIRST_WITHIN_S,
            CHAIN_GAP_S,
            STRUCTURAL_S,
            MAX_PARTNERS,
            STING_GAP_S,
            IDENT_END_S,
            MIN_PIECES,
            STING_MAX_S,
        )
        return digest(self.name, VERSION, constants, ABSENT_CONFIDENCE, self.options.settings_hash)

    def detect_series(
        self, series: str, prints: Sequence[EpisodePrint], earlier: Sequence[Sequence[Candidate]] = ()
    ) -> list[list[Candidate] | None]:
        prints = list(prints)
        if len(prints) < 2:
            return [None] * len(prints)
        out: list[list[Candidate] | None] = []
        for recap, preview, recapped, previewed in replay_parts(prints, earlier, self.options):
            given = [
                Candidate(Kind.RECAP, recap, confidence_of(recapped) if recap else ABSENT_CONFIDENCE, Method.RECURRING)
            ]
            given.append(
                Candidate(
                    Kind.PREVIEW, preview, confidence_of(previewed) if preview else ABSENT_CONFIDENCE, Method.RECURRING
                )
            )
            out.append(given)
        return out
