"""Recap and preview as a series detector: audio that replays scenes of other episodes of the season.

A recap ("previously on") replays scenes of **earlier** episodes' story at the start of an episode; a preview
("next time") replays scenes of the **next** episode's story near its end. Both are found the same way: each
episode's head (its first RECAP_LEAD_S) and its tail are matched against every other episode's head, story and
tail (the fingerprints of ``matching/``), and a stretch is a *replay* when it recurs in the story of one other
episode (or two: a scene is replayed in another recap too; a theme, a cue or a bed recurs in more) at another
place than its own (a sting at the same place of every episode is the structure, not a scene), and, for a
recap, not strongly heard past the recap of a later episode or in its own story (a cue of the season: ``_scenes``).

A replayed scene is matched strongly (STRONG_VOTES: a line of dialogue replayed as it was gives dozens of
matching hashes; a stretch of bed or cue matched by chance, a handful); the strongly matched scenes that follow
each other closely form the part, and weaker matches just after one of them extend it (a scene's last words
over another bed). A recap opens the episode: its first scene within OPENING_ROOM_S of the start (after an
ident), and it starts there (its sting and its first scene's unmatched words before the first match). A preview
lies beside the credits (before them, or after them and any post-credits scene, to the file's end) and never
inside them; it ends where its sound does (its last words, which the hashes rarely reach), and starts at its
"next time" sting where the season's other previews open alike, frame by frame (``_sting_starts``: a short
sample the hashes rarely pair).

Only what was analysed can be recognised. The heads and tails alone hold few of the scenes a recap replays (they
lie anywhere in earlier episodes' story), so where the season's evidence asks (the model hears a recap or a
preview, or the heads' replays begin one), the pipeline decodes each episode's **story** too (between its head
and its tail: fingerprints only, ``analysis.analyse_story``) and this detector runs again with it
(``EpisodePrint.story``). docs/BENCHMARKS.md measures it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..matching.align import SharedSegment, shared_segments
from ..matching.index import InvertedIndex, Matches
from ..matching.landmarks import hash_reach, landmark_hashes
from ..matching.recurring import EpisodePrint
from ..matching.refine import normalised_frames
from ..result import Kind, Method
from ..settings import DEFAULT_MATCHING, MatchingOptions, digest
from ..timecode import Segment
from .base import Candidate, DetectorContext

VERSION = 27
"""Bumped when the rules change what they answer (it enters the detector's key, hence the cache key)."""

RECAP_LEAD_S = 240.0
"""Seconds from an episode's start where a recap is looked for: it opens the episode, after an ident; real
recaps run 15 s to 2 minutes."""

FIRST_WITHIN_S = 60.0
"""Where another episode's story can begin (s from its start): before it lie its ident, its recap (which replays
scenes too) and the first part of its cold open, not counted as a scene's source. 60 s: recaps of our corpus run
to 40 s, a cold open's first minute is rarely replayed."""

OPENING_ROOM_S = 12.0
"""A recap's first strongly matched scene begins this soon after the episode's opening (its start, or its
ident's end), and the recap starts at the opening: its sting (1–3 s) and its first scene (4–10 s) before the
first match fit in it. Chosen on the held-out validation and train splits and the parts corpus's (``bench/
replay_study.py --set``, the splits it chose on; 4 s: 16 of 41 recaps within ±2 s of both ends; 12 s: 23; 60 s:
25 and a false recap more): a run of replays beginning later is more often a cold open's cue than a recap. It
also bounds how late after the credits a preview following them may start (60 s: 6 previews holding over 5 s of
story, against 2)."""

CHAIN_GAP_S = 12.0
"""Replayed scenes further apart than this are not one recap or preview: between two recognised scenes lies at
most one unrecognised clip (4–10 s) and the pauses around it. Where weaker matches fill part of the gap (clips
whose words over another bed the hashes half recognised), it is the unfilled rest that must stay within this
(``_chain``; held-out validation seed 1 show18 e02: two weakly matched clips, 4.0 s of a 12.8 s gap, between the
recap's first scene and the rest, which had ended it after its first 5 s)."""

STRUCTURAL_S = 20.0
"""A stretch recurring within this many seconds of the same place of the other episode (from the start in a
head, from the end in a tail) is the structure (a sting, the theme), not a replayed scene."""

MAX_PARTNERS = 2
"""A replayed scene recurs in this many other episodes: its own story, and perhaps another recap or preview that
replays it. More is a score cue or a bed: the same excerpt in several. (Counted over the matches as strong as a
share PARTNER_SHARE of the scene's own, or STRONG_VOTES: a scene's words also match a bed weakly elsewhere.) A
stretch heard in more is still a scene where it is heard in the story of one of them only: recaps of several
episodes replay the season's key scenes (held-out test: show07's recaps, which share their scenes, were missed),
and a cue is heard in the story of most episodes."""

PARTNER_SHARE = 0.3
"""Share of a piece's votes another piece overlapping it needs to count as a partner (see MAX_PARTNERS)."""

STRONG_VOTES = 20
"""Hash votes (``align.SharedSegment.votes``) of a strongly matched scene: a line replayed as it was matches
with 25–120 votes on the held-out splits, a stretch of bed or cue matched by chance with 8–22 (a few reach 30–50:
MAX_PARTNERS catches those heard in several episodes). 20 on the validation and train splits (``bench/
replay_study.py --set``): 16 gave a recap holding over 5 s of story and 2 false previews more, 24 and 30 lost 2
and 5 right recaps."""

WEAK_GAP_S = 4.0
"""A weaker match (any the aligner keeps) extends a part when it begins within this many seconds of the part's
end: the last words of a scene replayed over another bed. Scenes in a part follow each other within a second."""

WITNESSES = 3
"""Episodes a season needs for a recap without a sting: a piece heard in the story of one other episode is a
replayed scene only where a third could have heard it too (a cue or a bed recurs in more; MAX_PARTNERS). In a
two-episode season a cold open's cue heard in both looks like a recap run from the opening (held-out pairs:
validation 1 false recap of 28, test 4 of 26, up to 107 s of story; seen on the test split first, so its pairs'
recap figures are no longer independent), so there a recap needs its sting (``_with_sting``), and a preview two
scenes (MIN_PIECES; validation pairs: false previews 2 of 26 on one scene)."""

MAX_RECAP_S = 120.0
"""The longest recap (s): real recaps run 15 s to 2 minutes; a longer run of replays is a bed or a cue."""

PREVIEW_SCENES = 1
"""A preview beside the credits rests on one strongly matched scene of the next episode or more: "next time"
runs 10–25 s, a sting and one or two clips, and a scene of the next episode's story heard just before or after
the credits is little else. On the validation and train splits (``bench/replay_study.py --set``, against two
scenes): right within ±2 s 7 → 10 of 30, at IoU >= 0.5 13 → 17, false previews 2 → 3 of about 160 episodes
without one, none with more story."""

MAX_PREVIEW_S = 60.0
"""The longest preview (s): "next time" runs 10–40 s."""

BESIDE_CREDITS_S = 15.0
"""A preview before the credits ends within this many seconds of their start, or, without credits, of the file's
end: a run of replays elsewhere in the tail is story (a scene heard again in the next episode is not a
preview). On the validation and train splits (``bench/replay_study.py --set``, against no such bound): previews
holding over 5 s of story 6 → 2, false previews 5 → 3, none right lost."""

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
    votes: int = 0  # the aligner's hash votes: how strongly it is matched


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

    @property
    def opening_s(self) -> float:
        """Where the episode's content opens: after its ident, else at its start."""
        return self.ident.end_s if self.ident is not None else 0.0

    def story(self, t: float) -> bool:
        """Whether ``t`` (s of the file) may lie in the episode's story: past its opening minute (where its ident
        and its own recap lie: FIRST_WITHIN_S) and outside its intro and credits (a cold open before a late intro
        and a post-credits scene are story)."""
        if t < max(FIRST_WITHIN_S, self.opening_s):
            return False
        return not any(span is not None and span.start_s <= t < span.end_s for span in (self.intro, self.credits))

    def proper(self, t: float) -> bool:
        """Whether ``t`` lies in the episode's story past where its recap could lie (after its intro, or without
        one past MAX_RECAP_S of its opening): no replay of another episode's scenes lies there but its preview
        (of the next episode)."""
        past = self.intro.end_s if self.intro is not None else self.opening_s + MAX_RECAP_S
        return t >= past and self.story(t)

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
        out.append(_Piece(start, max(end, start + 1 / rate), owner[seg.other], there, structural, seg.votes))
    return out


def _held(
    pieces: Sequence[_Piece], queries: Sequence[_Piece], share: float = PARTNER_SHARE, overlap: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``pieces`` partner each of ``queries`` (a (queries, pieces) bool matrix: overlapping it by more than
    ``overlap`` of the shorter of the two, and matched about as strongly, ``share`` of its votes or STRONG_VOTES,
    see ``_partners``), and each piece's other episode as a column of ``_count``."""
    start, end = np.array([p.start_s for p in pieces]), np.array([p.end_s for p in pieces])
    votes = np.array([p.votes for p in pieces])
    q_start, q_end = np.array([q.start_s for q in queries]), np.array([q.end_s for q in queries])
    floor = np.minimum(share * np.array([q.votes for q in queries]), STRONG_VOTES)
    common = np.minimum(q_end[:, None], end[None, :]) - np.maximum(q_start[:, None], start[None, :])
    if overlap > 0:  # the partners' count asks any overlap: no second (queries, pieces) matrix for it
        common -= overlap * np.minimum((q_end - q_start)[:, None], (end - start)[None, :])
    held = (common > 0) & (votes[None, :] >= floor[:, None])
    return held, np.unique([p.other for p in pieces], return_inverse=True)[1]


def _count(held: np.ndarray, episode: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Per row of ``_held``, the distinct other episodes among its partners (``keep``: only those pieces)."""
    if keep is not None:
        held = held & keep[None, :]
    in_episode = np.zeros((held.shape[0], int(episode.max()) + 1), dtype=bool)
    rows, cols = np.nonzero(held)
    in_episode[rows, episode[cols]] = True
    return in_episode.sum(axis=1)


def _where(pieces: Sequence[_Piece], where: Callable[[_Piece], bool]) -> np.ndarray:
    return np.array([where(p) for p in pieces], dtype=bool)


def _partner_counts(
    pieces: Sequence[_Piece], queries: Sequence[_Piece], where: Callable[[_Piece], bool] | None = None
) -> np.ndarray:
    """``_partners`` of each of ``queries`` among ``pieces``, all at once (one overlap matrix: a season's
    replays ask it of thousands of pieces)."""
    if not pieces or not queries:
        return np.zeros(len(queries), dtype=np.int64)
    held, episode = _held(pieces, queries)
    return _count(held, episode, None if where is None else _where(pieces, where))


def _partners(pieces: Sequence[_Piece], piece: _Piece, where: Callable[[_Piece], bool] | None = None) -> int:
    """In how many other episodes the stretch of ``piece`` recurs: those of the pieces overlapping it that are
    matched about as strongly (PARTNER_SHARE of its votes, or STRONG_VOTES), wherever in them (a cue heard at
    the start of two episodes and in the story of two more is heard in four); with ``where``, only the pieces
    it holds (those heard in another episode's story, say)."""
    return int(_partner_counts(pieces, [piece], where)[0])


TWICE_SHARE = 0.5
"""Share of a recap's scene's votes (or STRONG_VOTES) with which another episode must hold its stretch at two
places for it to be a cue (``_heard_twice``). Chosen on the held-out validation splits of both seeds and the
parts corpus's test split (the replays' inputs as the pipeline builds them, a one-off script): at 0.5 no right
recap is lost there; at 0.3, chance matches of a few words cut four right recaps short."""

TWICE_OVERLAP = 0.5
"""Share of the shorter of a scene and another piece their overlap must reach for that piece to hold the scene's
stretch (``_heard_twice``): two scenes a recap replays one after the other from two places of one episode overlap
by a few tenths of a second where their matches meet (held-out validation seed 1 show07 e04: 0.28 s of a 6 s and
a 4.5 s scene), which is not the stretch heard twice. On the dumped replays of both seeds' held-out validation
splits: that recap within ±2 s (its end had stopped 18 s early, before the two scenes); nothing else changed there,
on the test splits or the parts corpus's."""

TWICE_GAP_S = 30.0
"""Seconds between two places of one episode that make them two (``_heard_twice``): an episode's head, story
and tail overlap where it is short, and a scene's stretch matched in part lands a few seconds either way."""


def _heard_twice(pieces: Sequence[_Piece], scenes: Sequence[_Piece]) -> np.ndarray:
    """Per scene, whether one other episode holds its stretch at two places (matched with TWICE_SHARE of its votes
    or STRONG_VOTES, TWICE_GAP_S apart or more). A scene plays once in its episode, and a recap replays it from
    there; a stretch that one episode plays twice (at its opening and in its story, say) is a cue of the season.
    Held-out test show15: a 33 s cue opens every episode under different dialogue, and plays again in the story of
    most; after e06's recap, its first seconds matched e04's story (90 votes) and ran the recap 10.8 s into the
    cold open; e04 holds them at its opening too (27–31 votes)."""
    held, _ = _held(pieces, scenes, TWICE_SHARE, TWICE_OVERLAP)
    offset = np.array([p.there_s - p.start_s for p in pieces])  # where the stretch lies in the other episode
    other = np.array([p.other for p in pieces])
    twice = np.zeros(len(scenes), dtype=bool)
    for o in np.unique(other):
        mask = held & (other == o)[None, :]
        far = np.where(mask, offset[None, :], -np.inf).max(axis=1) - np.where(mask, offset[None, :], np.inf).min(axis=1)
        twice |= mask.any(axis=1) & (far > TWICE_GAP_S)
    return twice


def _in_story(layouts: Sequence[_Layout]) -> Callable[[_Piece], bool]:
    """Whether a piece is heard in its other episode's story (``layouts``, in season order)."""
    return lambda q: layouts[q.other].story(q.there_s)


def heard_in_stories(pieces: Sequence[_Piece], piece: _Piece, layouts: Sequence[_Layout]) -> int:
    """In how many other episodes' story (``layouts``, in season order) the stretch of ``piece`` is heard: a
    scene in one (its source) however many recaps replay it too; a cue in most (MAX_PARTNERS)."""
    return _partners(pieces, piece, _in_story(layouts))


MIN_PIECES = 2
"""A recap or preview rests on at least this many strongly matched scenes (distinct stretches): it replays
scenes, and one stretch alone may be a score cue heard once elsewhere."""


def _weak_lead(replays: list[_Piece], start_s: float) -> float:
    """Where a run starting at ``start_s`` starts with the weaker matches just before it: the earliest beginning
    within WEAK_GAP_S of it (a preview's first clip, whose words over another bed match only weakly, before the
    first strongly matched one). One step only: chained back from match to match, chance matches in the story
    before a preview took up to 12 s of it (held-out test, two-episode seasons)."""
    return min([start_s, *(p.start_s for p in replays if start_s - WEAK_GAP_S <= p.start_s < start_s)])


def _chain(replays: list[_Piece], first_by: float = np.inf, fewest: int = MIN_PIECES) -> tuple[Segment | None, int]:
    """The run of replays holding the most strongly matched scenes (STRONG_VOTES), the first beginning by
    ``first_by`` (s of the file), or led by a weaker match beginning by then (``_weak_lead``: its first clip,
    matched weakly, before it; the parts corpus's test split: show04 e06's recap, 3.3-20.9 s, whose first strong
    scene began at 16.3 s, 1.4 s past the bound, after a weak one at 13.5 s), each within CHAIN_GAP_S of the
    run's end (less what weaker matches between them fill), and weaker ones extending it where they begin within
    WEAK_GAP_S of it; and how many scenes it holds (None when fewer than ``fewest``)."""
    replays = sorted(replays, key=lambda p: p.start_s)
    best: tuple[Segment | None, int] = (None, 0)
    covered = -np.inf
    for first in replays:
        if first.votes < STRONG_VOTES or first.start_s < covered:
            continue
        if first.start_s > first_by + WEAK_GAP_S:
            break
        if first.start_s > first_by and _weak_lead(replays, first.start_s) > first_by:
            continue  # begins too late, and no weaker match just before it begins in time (its first clip)
        start, end = first.start_s, first.end_s
        heard, filled = end, 0.0  # weaker matches past the end: how far they reach, how much of the gap they fill
        scenes = {round(first.start_s, 1)}
        for p in replays:
            if p.start_s < first.start_s or p.end_s <= end:
                continue
            strong = p.votes >= STRONG_VOTES
            if not strong and p.start_s - heard <= CHAIN_GAP_S:  # a clip heard weakly between two scenes
                filled += max(0.0, p.end_s - max(p.start_s, heard))
                heard = max(heard, p.end_s)
            if (p.start_s - end - filled > CHAIN_GAP_S) if strong else (p.start_s - end > WEAK_GAP_S):
                if strong:
                    break
                continue
            end = p.end_s
            heard, filled = max(heard, end), 0.0
            if strong:
                scenes.add(round(p.start_s, 1))
        covered = end
        if len(scenes) > best[1]:
            best = (Segment(_weak_lead(replays, start), end), len(scenes))
    if best[1] < fewest:
        return None, best[1]
    return best


def _with_sting(span: Segment, pieces: list[_Piece], ident: Segment | None = None) -> Segment | None:
    """``span`` started at a structural piece (the part's sting, recurring at the same place of other episodes)
    that ends just before it and is short (STING_MAX_S: a score cue under the cold open of several episodes is
    no sting), never the ident; None without one."""
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


SOUND_DROP_DB = 15.0
"""A replayed part still sounds while its frame loudness stays within this many dB of its own loud frames (their
90th percentile): its last words fade into the room, 20–30 dB down, and a line's syllables dip 5–12 dB."""

SOUND_GAP_S = 1.0
"""The longest pause within a part (s): a scene's lines follow each other within a second, and "next time" cuts
to the credits after a longer one (our corpus: 1.3 s or more before them)."""

SOUND_REACH_S = 8.0
"""How far past its last matched scene a preview may still sound (s): one clip (4–10 s) whose words the hashes
missed, most of it matched already."""


def _sounding_end(tail: EpisodePrint | None, span: Segment, limit_s: float) -> float:
    """Where the sound of ``span`` (a part of ``tail``) ends: its last scene's last words, which the hashes rarely
    reach (a line's decay has no spectral peak to pair, and a preview's last clip may match only its first
    words). From the span's end on while the loudness stays within SOUND_DROP_DB of the span's loud frames,
    across pauses up to SOUND_GAP_S, at most SOUND_REACH_S further and never past ``limit_s``. Measured in
    docs/BENCHMARKS.md (previews' ends were 1–11 s early)."""
    if tail is None or not tail.profile.n_frames:
        return span.end_s
    loud_db, rate = tail.profile.loudness_db, tail.profile.frame_rate
    first = max(0, int((span.start_s - tail.start_s) * rate))
    last = min(len(loud_db), round((span.end_s - tail.start_s) * rate))
    stop = min(len(loud_db), int((min(limit_s, span.end_s + SOUND_REACH_S) - tail.start_s) * rate))
    if last <= first or stop <= last:
        return span.end_s
    level = tail.profile.loud_level(first, last, SOUND_DROP_DB)
    gap = round(SOUND_GAP_S * rate)
    reach = 0
    for j in np.flatnonzero(loud_db[last:stop] >= level):
        if j - reach > gap:
            break
        reach = int(j) + 1
    return max(span.end_s, tail.seconds(last + reach))


def _sounding_start(tail: EpisodePrint | None, from_s: float, span: Segment) -> float:
    """The first moment from ``from_s`` on where ``tail`` (a head, or a tail) sounds as ``span`` (a part of it)
    does: its loudness within SOUND_DROP_DB of the span's loud frames (``from_s`` itself where it already does,
    or without a print). A preview after the credits starts there: its sting, after the pause the credits leave;
    a recap after the opening likewise: its sting, after the pause that follows the ident."""
    if tail is None or not tail.profile.n_frames or span.start_s <= from_s:
        return from_s
    profile, rate = tail.profile, tail.profile.frame_rate
    first = max(0, round((from_s - tail.start_s) * rate))
    start = max(first, int((span.start_s - tail.start_s) * rate))
    end = min(profile.n_frames, round((span.end_s - tail.start_s) * rate))
    if end <= start:
        return from_s
    sounding = profile.first_loud(first, start, profile.loud_level(start, end, SOUND_DROP_DB))
    return tail.seconds(sounding) if sounding is not None else span.start_s


SOURCED_SCENE_S = 3.0
"""The shortest strongly matched stretch a recap may rest on alone (s): a replayed clip runs 4–10 s, and a line
of a second or two matched once is as likely a chance match (our parts corpus's test split: a 1.4 s match made a
1.9 s recap where the real one ran 17 s; the true recaps on one scene of the held-out splits rest on 3.8–14 s)."""


def _recap(
    replays: list[_Piece],
    layout: _Layout,
    sourced: Callable[[_Piece], bool] | None = None,
    head: EpisodePrint | None = None,
) -> tuple[Segment | None, int]:
    """The recap the replays of earlier episodes make (module doc): from where it sounds after the opening
    (``_sounding_start`` in ``head``: its sting, after the pause that follows an ident) to the last scene's end. On
    one strongly matched scene only where ``sourced`` holds for it: a recap may replay one long clip, but a cue
    heard once elsewhere is one stretch too, so that scene must be heard in the story of exactly one other
    episode, its source (a cue recurs in several; another recap replaying the scene does not count: measured in
    docs/BENCHMARKS.md). Replays over before the opening ends (matched inside the ident) are no scene of it."""
    first_by = layout.opening_s + OPENING_ROOM_S
    replays = [p for p in replays if p.end_s > layout.opening_s]  # one over before the content opens: the ident's
    chain, scenes = _chain(replays, first_by)
    if chain is None and sourced is not None:
        alone = [
            p for p in replays if p.votes < STRONG_VOTES or (p.end_s - p.start_s >= SOURCED_SCENE_S and sourced(p))
        ]
        chain, scenes = _chain(alone, first_by, fewest=1)
    if chain is None or chain.end_s - layout.opening_s > MAX_RECAP_S:
        return None, scenes
    return Segment(_sounding_start(head, layout.opening_s, chain), chain.end_s), scenes


def _preview(
    shown: list[_Piece],
    pieces: list[_Piece],
    layout: _Layout,
    file_end_s: float,
    fewest: int = PREVIEW_SCENES,
    tail: EpisodePrint | None = None,
) -> tuple[Segment | None, int]:
    """The preview the replays of the next episode make (module doc): beside the credits, never inside them, on
    ``fewest`` scenes or more, to where its sound ends (``_sounding_end`` in ``tail``: never into the credits
    after it)."""
    chain, scenes = _chain(shown, fewest=fewest)
    if chain is None:
        return None, scenes
    chain = _with_sting(chain, pieces) or chain
    credits = layout.credits
    if credits is None:
        beside = file_end_s - chain.end_s <= BESIDE_CREDITS_S
    else:
        after = chain.start_s < credits.end_s < chain.end_s or 0 <= chain.start_s - credits.end_s <= OPENING_ROOM_S
        if after:  # it starts where it sounds after them (its sting; a pause may lie between)
            chain = Segment(_sounding_start(tail, credits.end_s, chain), chain.end_s)
        elif chain.start_s < credits.start_s < chain.end_s:
            chain = Segment(chain.start_s, credits.start_s)
        beside = (
            after
            or 0 <= credits.start_s - chain.end_s <= BESIDE_CREDITS_S
            or file_end_s - chain.end_s <= BESIDE_CREDITS_S
        )
    if not beside or chain.end_s - chain.start_s > MAX_PREVIEW_S:
        return None, scenes
    limit = credits.start_s if credits is not None and chain.start_s < credits.start_s else file_end_s
    return Segment(chain.start_s, _sounding_end(tail, chain, min(limit, chain.start_s + MAX_PREVIEW_S))), scenes


def _with_next_time(
    preview: Segment, pieces: list[_Piece], previews: Sequence[Segment | None], credits: Segment | None
) -> Segment:
    """``preview`` started at its "next time" sting: a short piece (STING_MAX_S) ending within STING_GAP_S of its
    first scene, or over it, that recurs just before or at another episode's preview, the same sting (a preview
    replays the next episode's scenes, but its sting is the series'). A preview after the credits, started where
    it sounds after them (``_preview``), keeps that start: on the validation split the stings found after the
    credits were twice a scene that another preview's start holds too, 2 and 8 s off, against one right."""
    if credits is not None and credits.end_s <= preview.start_s <= credits.end_s + OPENING_ROOM_S:
        return preview
    reach = STING_GAP_S + STING_MAX_S
    stings = [
        p.start_s
        for p in pieces
        if p.end_s - p.start_s <= STING_MAX_S
        and preview.start_s - reach <= p.start_s <= preview.start_s
        and p.end_s >= preview.start_s - STING_GAP_S
        and (other := previews[p.other]) is not None
        and other.start_s - reach <= p.there_s <= other.start_s + 0.5
    ]
    return Segment(min(stings), preview.end_s) if stings else preview


STING_BACK_S = 12.0
"""How far before a preview's found start (its first matched scene, or the sting the hashes found) its "next
time" sting is looked for (s): one clip the hashes missed (4–10 s) and the sting before it."""

STING_PAST_S = 6.0
"""How far past a preview's found start its sting may begin (s): a start found on the weaker matches before its
first scene, or on the pause after the credits, lies up to a short clip early (held-out validation, against 1 s:
previews starting over 0.5 s early 3 -> 2, right within 2 s 22 -> 22 of 32; 12 s: 0 early, but 21 right)."""

STING_LEVEL = 0.8
"""Frame correlation (``refine.normalised_frames``: log-mel, the episode's mean spectrum removed) at which two
previews' frames sound alike: the same sting correlates 0.85–1.00 frame by frame across episodes (held-out
validation), a line or a bed at another place far less."""

STING_MIN_FRAMES = 5
"""Frames (about 0.23 s at 21.5 frames/s) that must sound alike in a row: a sting is a 0.2–2 s sample, and a
shorter run is as likely two syllables alike by chance."""

STING_DROP_DB = 20.0
"""Frames quieter than this under a preview's loud frames (``Profile.loud_level``) are not compared: a pause
(digital silence, a room's floor) sounds alike in every episode."""

STING_ONSET_DB = 10.0
"""A sting begins a preview after a cut: its first frames are at least this much louder (dB, medians) than the
half second before it, in both episodes. Without it a recurring stretch of bed or the theme's last note before
a preview was taken for its sting (held-out validation, 19 of 32 previews right within 2 s and 3 starting early
before the sting: 18 right and 9 early without this condition, 19 and 6 at 6 dB, 22 and 3 at 10 and 15 dB)."""

STING_PARTNERS = 2
"""Other episodes whose preview must open with the same sting (at the same place of this one, within
STING_CLUSTER_S) before a preview starts there: one partner may itself be a false preview (held-out validation
show05: a false preview's stretch moved a right preview 3 s early; with 2, 22 of 32 right within 2 s against 21,
no preview more starting early; one partner gained one more on our parts corpus's test split, 13 against 12 of 16)."""

STING_CLUSTER_S = 0.25
"""Two partners place the sting at one place of a preview when within this many seconds (about 5 frames)."""

STING_NEIGHBOURS = 6
"""Previews compared with each (the nearest in season order): enough partners for STING_PARTNERS, and the cost
stays linear in the season's length (each pair is a frame-by-frame comparison of two 13 s windows)."""


def _onset(loudness_db: np.ndarray, x: int, frames: int, rate: float) -> bool:
    """Whether ``frames`` frames from ``x`` sound STING_ONSET_DB louder (medians) than the half second before."""
    before = loudness_db[max(0, x - max(1, round(0.5 * rate))) : x]
    if before.size == 0:
        return True
    return float(np.median(loudness_db[x : x + frames])) - float(np.median(before)) >= STING_ONSET_DB


def _sting_starts(
    tails: Sequence[EpisodePrint | None], previews: Sequence[Segment | None], layouts: Sequence[_Layout]
) -> list[float | None]:
    """Per episode where its preview's "next time" sting begins (None: not found): the place, from STING_BACK_S
    before its found start to STING_PAST_S after it, whose frames sound as those of STING_PARTNERS other
    previews do at theirs (STING_LEVEL, STING_MIN_FRAMES in a row), after a cut in both (STING_ONSET_DB), never
    in the credits. A sting is a short sample (0.2–2 s) the landmark hashes rarely pair (``_with_next_time``),
    but it opens every preview of a series the same way; the scenes after it differ (each replays its own next
    episode)."""
    windows: dict[int, tuple[int, np.ndarray, np.ndarray]] = {}  # first frame, frames compared, the loudness
    for e, preview in enumerate(previews):
        tail = tails[e]
        if preview is None or tail is None or tail.profile.log_mel.shape[0] != tail.profile.n_frames:
            continue
        profile, rate = tail.profile, tail.profile.frame_rate
        first = max(0, int((preview.start_s - STING_BACK_S - tail.start_s) * rate))
        last = min(profile.n_frames, int((preview.start_s + STING_PAST_S - tail.start_s) * rate))
        span = (int((preview.start_s - tail.start_s) * rate), round((preview.end_s - tail.start_s) * rate))
        if last - first < STING_MIN_FRAMES or span[1] <= span[0]:
            continue
        frames = normalised_frames(tail)[first:last].copy()
        frames[profile.loudness_db[first:last] < profile.loud_level(*span, STING_DROP_DB)] = 0.0
        credits = layouts[e].credits
        if credits is not None:
            times = tail.start_s + (first + np.arange(last - first)) / rate
            frames[(times >= credits.start_s) & (times < credits.end_s)] = 0.0
        windows[e] = (first, frames, profile.loudness_db)
    found: dict[int, list[tuple[int, int, int]]] = {e: [] for e in windows}  # (frame, partner, frames alike)
    order = sorted(windows)
    rate = next((t.profile.frame_rate for t in tails if t is not None), 1.0)  # one analysis: one frame rate
    longest = round(STING_MAX_S * rate)
    for k, i in enumerate(order):
        first_i, frames_i, loud_i = windows[i]
        for j in order[k + 1 : k + 1 + STING_NEIGHBOURS]:
            first_j, frames_j, loud_j = windows[j]
            alike = frames_i @ frames_j.T >= STING_LEVEL
            begins = alike.copy()  # where a run of alike frames along a diagonal begins
            begins[1:, 1:] &= ~alike[:-1, :-1]
            for x, y in zip(*np.nonzero(begins), strict=True):
                length = 1  # counted to STING_MAX_S at most: a longer run is no sting, and the walk stays short
                while (
                    length < longest
                    and x + length < alike.shape[0]
                    and y + length < alike.shape[1]
                    and alike[x + length, y + length]
                ):
                    length += 1
                at_i, at_j = first_i + int(x), first_j + int(y)
                if (
                    length >= STING_MIN_FRAMES
                    and _onset(loud_i, at_i, length, rate)
                    and _onset(loud_j, at_j, length, rate)
                ):
                    found[i].append((at_i, j, length))
                    found[j].append((at_j, i, length))
    out: list[float | None] = [None] * len(previews)
    for e, places in found.items():
        tail = tails[e]
        assert tail is not None
        reach = STING_CLUSTER_S * tail.profile.frame_rate
        best: tuple[tuple[int, int], int] | None = None  # ((partners, longest run), earliest frame)
        for x, _, _ in places:
            near = [(y, j, length) for y, j, length in places if abs(y - x) <= reach]
            key = (len({j for _, j, _ in near}), max(length for _, _, length in near))
            if key[0] >= STING_PARTNERS and (best is None or key > best[0]):
                best = (key, min(y for y, _, _ in near))
        if best is not None:
            out[e] = tail.seconds(best[1])
    return out


def _scenes(
    pieces: list[_Piece],
    e: int,
    source: int | None,
    layouts: Sequence[_Layout],
    stories: bool,
    again: Sequence[_Piece] = (),
) -> list[_Piece]:
    """The pieces of episode ``e`` that replay scenes of another episode's story (of ``source``; None: of an
    earlier one, as a recap does): not the structure, heard in that episode's story, in few others
    (MAX_PARTNERS) or in the story of that one only (``stories``: where the stories were decoded), and, for a
    recap, never strongly heard (STRONG_VOTES) in the story proper (``_Layout.proper``) of a later episode or of
    its own (``again``: its head's pieces matched in its own head, story and tail), nor held at two places of
    one other episode (``_heard_twice``). A recap replays earlier
    episodes' scenes, a later episode's recap may replay them again, but past its recap no story holds them:
    what is heard there as strongly as a scene is a cue or a bed of the season (our parts corpus's test split:
    show02 e04's cold open, a cue heard in the stories of e01 and e06 with 126 votes, made its recap 21.6 s too
    long). A chance match there does not count (on that split a match of 9 votes cut a right recap's last 8 s,
    one of 8 another's; a false recap resting on the same cue as e04's, heard in its own story with 16 votes,
    stays: unsure, at the recaps' confidence). Not for previews: their clips lie over the episode's own bed,
    heard in other episodes' stories too (the rule on the previews of that split lost 3 of 11 right ones)."""
    scenes = [
        p
        for p in pieces
        if (p.other < e if source is None else p.other == source)
        and not p.structural
        and not layouts[e].structure(p)
        and layouts[p.other].story(p.there_s)
    ]
    if not scenes:
        return []
    held, episode = _held(pieces, scenes)  # once: every partner, those heard in a story, and where none may be
    partners = _count(held, episode)
    sources = _count(held, episode, _where(pieces, _in_story(layouts))) if stories else np.zeros(len(scenes))

    def later(q: _Piece) -> bool:
        return q.votes >= STRONG_VOTES and q.other > e and layouts[q.other].proper(q.there_s)

    elsewhere = _count(held, episode, _where(pieces, later)) if source is None else np.zeros(len(scenes))
    if again and source is None:  # its own story proper holds it too: a cue of the episode
        mine = _where(again, lambda q: q.votes >= STRONG_VOTES and layouts[e].proper(q.there_s))
        elsewhere = elsewhere + (_held(list(again), scenes)[0] & mine[None, :]).any(axis=1)
    if source is None:  # another episode plays it twice: a cue of the season
        elsewhere = elsewhere + _heard_twice(pieces, scenes)
    return [
        p
        for p, n, heard, bed in zip(scenes, partners, sources, elsewhere)
        if (n <= MAX_PARTNERS or heard == 1) and not bed
    ]


def replay_parts(
    prints: Sequence[EpisodePrint],
    earlier: Sequence[Sequence[Candidate]] = (),
    options: MatchingOptions = DEFAULT_MATCHING,
) -> list[tuple[Segment | None, Segment | None, int, int]]:
    """Per episode (in season order): its recap, its preview (None: none found), and how many replayed scenes
    each rests on. ``earlier``: the ident, intro and credits found before (where each episode's story lies: a
    recap lies before the intro and replays other episodes' story; a preview replays the next episode's
    story). Each print's head, ``story`` (where the pipeline decoded it) and tail are the scenes' sources."""
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
        for part in (p, p.story, tails[e]):
            if part is not None and part.profile.n_frames:
                owner[len(indexed)] = e
                places[e].add(len(indexed))
                indexed.append(part)
    index = InvertedIndex([landmark_hashes(p.landmarks.peaks, 1.0, options) for p in indexed], options)

    # where a piece is heard in the other episodes' stories is known only where they were decoded
    stories = any(p.story is not None and p.story.profile.n_frames for p in prints)

    out: list[tuple[Segment | None, Segment | None, int, int]] = []
    shown: list[list[_Piece]] = []  # each episode's tail pieces
    for e in range(n):
        heard = _pieces(heads[e], _query(index, heads[e], set(), indexed, options), owner, False)
        recap_pieces = [p for p in heard if p.other != e]
        again = [p for p in heard if p.other == e and not p.structural]  # its own story heard in its head
        sourced = (lambda p, pieces=recap_pieces: heard_in_stories(pieces, p, layouts) == 1) if stories else None
        recap, recapped = _recap(_scenes(recap_pieces, e, None, layouts, stories, again), layouts[e], sourced, heads[e])
        if recap is not None and n < WITNESSES and _with_sting(recap, recap_pieces, layouts[e].ident) is None:
            recap = None
        preview, previewed = None, 0
        tail = tails[e]
        tail_pieces: list[_Piece] = []
        if tail is not None and tail.profile.n_frames:
            tail_pieces = _pieces(tail, _query(index, tail, places[e], indexed, options), owner, True)
            fewest = PREVIEW_SCENES if n >= WITNESSES else MIN_PIECES  # a cue two episodes share: not one scene
            preview, previewed = _preview(
                _scenes(tail_pieces, e, e + 1, layouts, stories), tail_pieces, layouts[e], tail.end_s, fewest, tail
            )
        out.append((recap, preview, recapped, previewed))
        shown.append(tail_pieces)
    previews = [preview for _, preview, _, _ in out]
    for e, (recap, preview, recapped, previewed) in enumerate(out):
        if preview is not None:
            out[e] = (recap, _with_next_time(preview, shown[e], previews, layouts[e].credits), recapped, previewed)
    stings = _sting_starts(tails, [preview for _, preview, _, _ in out], layouts)
    for e, (recap, preview, recapped, previewed) in enumerate(out):
        sting = stings[e]
        if preview is not None and sting is not None and sting < preview.end_s:
            out[e] = (recap, Segment(sting, preview.end_s), recapped, previewed)
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
            OPENING_ROOM_S,
            CHAIN_GAP_S,
            STRUCTURAL_S,
            MAX_PARTNERS,
            WITNESSES,
            PARTNER_SHARE,
            STRONG_VOTES,
            WEAK_GAP_S,
            MAX_RECAP_S,
            MAX_PREVIEW_S,
            BESIDE_CREDITS_S,
            STING_GAP_S,
            IDENT_END_S,
            MIN_PIECES,
            PREVIEW_SCENES,
            STING_MAX_S,
            SOURCED_SCENE_S,
            SOUND_DROP_DB,
            SOUND_GAP_S,
            SOUND_REACH_S,
            STING_BACK_S,
            STING_PAST_S,
            STING_LEVEL,
            STING_MIN_FRAMES,
            STING_DROP_DB,
            STING_ONSET_DB,
            STING_PARTNERS,
            STING_CLUSTER_S,
            STING_NEIGHBOURS,
            TWICE_SHARE,
            TWICE_GAP_S,
            TWICE_OVERLAP,
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
