"""Versions of one episode: two files of a series whose audio is the same story (a 1080p and a 720p release, a
re-encode, a PAL-speed copy, a copy that starts two seconds later, a cut with a scene more or less).

Siblings of a season share pieces: the intro, the credits, a recap's scenes, a score cue, an ambience bed that
the series loops under its scenes. Versions share the episode itself: at one alignment (or a few, one per cut)
every frame sounds alike, dialogue included. ``find_versions`` takes each pair's strongest alignments from the
landmark queries matching makes, then compares the frames (log-mel, as boundary refinement does) at each of
them: the share of the two episodes' overlap, heads and tails, whose frames match at some alignment decides.
``Alignment`` then maps a time of the representative onto a copy, piece by piece (a cut moves what follows
it), and says how much of a span the copy's audio holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..settings import DEFAULT_MATCHING, MatchingOptions
from ..timecode import Segment
from .align import shared_segments
from .index import InvertedIndex
from .landmarks import hash_reach, landmark_hashes
from .recurring import EpisodePrint, alignment_groups
from .refine import normalised_frames

VERSION_SPAN = 0.6
VERSION_SHARE = 0.5
"""Two episodes are versions of one when the pieces they share span 0.6 of the analysed audio (head and tail) and
hold half of its foreground (``_pieces``). Measured (bench/bench_versions.py, docs/BENCHMARKS.md): siblings'
pieces (intro, credits, a cue, a stretch of a looped bed) span at most 0.30 (780 pairs of the full corpus) and
0.22 (the structured corpus, whose sparse foreground siblings may hold entirely: the span decides there);
re-encoded, PAL-speed and shifted copies span 0.87–0.98 and hold 0.84–1.0, a copy with a minute-long scene
inserted spans 0.74–0.87 and holds 0.55–0.98."""

ALIGNMENTS_PER_PAIR = 4
"""Alignments (speed, offset) of a pair compared frame by frame: the strongest by landmark votes. A version
has one, and one more per cut; siblings' strongest are their intro, credits and a looped bed."""

LOOP_MIN_S = 1.0
"""s: alignments of a pair closer than this are one (the peaks' jitter splits a true offset's votes over a few
frames, and frames a few hops apart correlate); a loop repeats after seconds."""

PARTNERS_COMPARED = 8
"""In a season of more episodes than this, each is compared frame by frame with the 8 episodes that share the
most landmark votes with it (a copy is among them: it shares the whole episode; a PAL-speed copy's votes are
fewer, as few as a sibling's intro, hence 8, not 1), so that the frames' cost grows with the episodes, not with
their pairs; the landmark queries, which cost most, are made once per episode as matching makes them."""

BIN_S = 5.0
"""s: frames are judged in bins of this length: a bin matches at an alignment when half its sounding frames do
(a frame of speech under another codec sometimes falls below the match level; a bin of other speech never
reaches half)."""

VERSION_MATCH_LEVEL = 0.9
"""A frame matches its version's when their log-mel correlation (``refine.normalised_frames``) is at least this:
the same audio under another codec or at PAL speed correlates 0.95–1.0 (10th percentile, measured on the corpus),
another line of dialogue over the same ambience bed 0.6–0.75 (the 90th percentile), which boundary refinement's
0.6 would take for a match."""

LOUD_PERCENTILE = 99.0
LOUD_BIN_DB = 15.0
"""A bin is compared when its loudest frame lies within 15 dB of the episode's loud frames (its 99th
percentile: the theme's and the dialogue's peaks): a line of dialogue, the theme, an effect, not a bed alone. A
series may loop one ambience bed under every episode (the corpus mixes it 20 dB under the dialogue, as broadcasts
do): siblings' beds match at the loop's offsets, their dialogue never does. Measured on the corpus: bins of bed
alone peak 25–30 dB under the 99th percentile, bins of dialogue 0–12 dB; with the 95th percentile (which a bed
filling most of an episode pulls down) the bed's bins counted and made siblings look like versions."""

SPED_MATCH_LEVEL = 0.8
"""The same at another speed (PAL's 25/24): the copy's pitch is 4 % higher, its harmonics a fraction of a mel band
away, and a theme's frames correlate 0.8–0.95 with the original's (measured on the corpus: at 0.9, 55 % of a
PAL copy's credits matched; at 0.8, 93 %)."""


def match_level(speed: float) -> float:
    """The correlation at which a frame matches its version's, at ``speed``."""
    return VERSION_MATCH_LEVEL if abs(speed - 1.0) < 1e-6 else SPED_MATCH_LEVEL


FOREGROUND_DB = 10.0
"""dB: within a compared bin, the frames within this of its loudest are compared (the syllables of a line,
not the pauses between them where the bed shows)."""

CUT_PIECE_S = 60.0
"""s: a piece at another alignment than a pair's main one counts towards their share when it is at least this
long: the part of a cut copy after an inserted or removed scene (minutes) counts, a cue or an intro that
siblings share at their own offset (seconds to two minutes at most) does not, beside the main one."""

SUPPORT_SHARE = 0.6
"""A part of the representative holds in a copy when the copy's frames match its sounding frames over at least
this share, at one of the pair's clocks (a recap cut from the copy, a scene it lacks: nothing matches there and
the copy keeps its own answer). A re-encode or a PAL-speed copy matches 0.95 and more of an intro's frames."""

CLOCK_TOLERANCE_S = 0.05
"""s: pieces whose offsets differ by less are at one clock (the landmark votes' offset is a frame, 46 ms)."""


@dataclass(frozen=True)
class Piece:
    """A stretch both episodes hold at one alignment: [start_s, end_s] of the first, [other_start_s,
    other_end_s] of the second, ``other_t = t · speed + offset_s`` (each in its stream's own time)."""

    start_s: float
    end_s: float
    other_start_s: float
    other_end_s: float
    speed: float
    offset_s: float

    def inverse(self) -> Piece:
        return Piece(
            self.other_start_s, self.other_end_s, self.start_s, self.end_s, 1 / self.speed, -self.offset_s / self.speed
        )

    def to_other(self, t: float) -> float:
        return t * self.speed + self.offset_s


@dataclass(frozen=True)
class Alignment:
    """How a copy's audio lines up with its representative's: the pieces they share, each from the
    representative (its start_s/end_s) to the copy, and the share of their overlap that the pieces hold."""

    copy: int
    rep: int
    pieces: tuple[Piece, ...]
    share: float
    # the pair's other alignments (scale, offset s), from the landmark votes: a stretch too short for a piece of
    # its own (an ident before a cut) is held at one of them
    others: tuple[tuple[float, float], ...] = ()

    @property
    def clocks(self) -> list[tuple[float, float]]:
        """The pieces' distinct clocks (scale, offset s), the longest piece's first."""
        return _distinct((p.speed, p.offset_s) for p in sorted(self.pieces, key=lambda p: p.start_s - p.end_s))

    def clock_for(
        self, segment: Segment, rep: EpisodePrint, copy: EpisodePrint, frames: FrameCache | None = None
    ) -> tuple[float, float] | None:
        """The clock (scale, offset s: ``t · scale + offset``) that takes ``segment`` of the representative onto
        the copy: the first, of the pieces' clocks (the nearest piece's first), the pair's other alignments and
        the same start (offset 0, at each speed), at which the copy's frames match ``SUPPORT_SHARE`` of the
        segment's sound; None where none holds it (a recap cut from the copy, a scene it lacks). ``rep``,
        ``copy``: their prints (heads, with their tails)."""
        frames = frames if frames is not None else FrameCache()

        def distance(p: Piece) -> float:
            return max(p.start_s - segment.end_s, segment.start_s - p.end_s)

        order = [(p.speed, p.offset_s) for p in sorted(self.pieces, key=distance)] + list(self.others)
        order += [(scale, 0.0) for scale in sorted({1.0, *(p.speed for p in self.pieces)})]  # the same start: often so
        return next((c for c in _distinct(order) if held_share(rep, copy, segment, c, frames) >= SUPPORT_SHARE), None)


def _distinct(clocks: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """The clocks in their order, each once (offsets within ``CLOCK_TOLERANCE_S`` at one speed are one)."""
    out: list[tuple[float, float]] = []
    for speed, offset in clocks:
        if all(abs(offset - o) > CLOCK_TOLERANCE_S or speed != s for s, o in out):
            out.append((speed, offset))
    return out


def align(rep: EpisodePrint, copy: EpisodePrint, options: MatchingOptions = DEFAULT_MATCHING) -> Alignment:
    """A copy's alignment with its representative, measured on the two prints alone."""
    return pair_matches([rep, copy], options)[(0, 1)].alignment(1, 0)


class FrameCache:
    """Each print's normalised frames (``refine.normalised_frames``), computed once."""

    def __init__(self) -> None:
        self._frames: dict[int, tuple[EpisodePrint, np.ndarray]] = {}

    def __call__(self, p: EpisodePrint) -> np.ndarray:
        if id(p) not in self._frames:
            self._frames[id(p)] = (p, normalised_frames(p))  # the print kept: its id stays its own
        return self._frames[id(p)][1]


def _holding(p: EpisodePrint, start_s: float, end_s: float) -> EpisodePrint | None:
    """Of an episode's head and tail, the print that holds most of [start_s, end_s] (None: neither)."""
    best, most = None, 0.0
    for q in (p, p.tail):
        if q is None:
            continue
        inside = min(q.end_s, end_s) - max(q.start_s, start_s)
        if inside > most or (end_s <= start_s and q.start_s <= start_s < q.end_s and best is None):
            best, most = q, max(inside, most)
    return best


def held_share(
    rep: EpisodePrint,
    copy: EpisodePrint,
    segment: Segment,
    clock: tuple[float, float],
    frames: FrameCache,
    options: MatchingOptions = DEFAULT_MATCHING,
) -> float:
    """The share of ``segment``'s sounding frames (the representative's, within ``silence_db`` of its loud
    frames) whose frame in the copy, at ``clock``, matches it (``VERSION_MATCH_LEVEL``)."""
    scale, by = clock
    r = _holding(rep, segment.start_s, segment.end_s)
    if r is None:
        return 0.0
    rate = r.profile.frame_rate
    lo = max(0, int(np.floor((segment.start_s - r.start_s) * rate)))
    hi = min(r.profile.n_frames, max(lo + 1, int(np.ceil((segment.end_s - r.start_s) * rate))))
    if hi <= lo:
        return 0.0
    times = r.start_s + np.arange(lo, hi) / rate
    mapped = times * scale + by
    c = _holding(copy, float(mapped[0]), float(mapped[-1]))
    if c is None:
        return 0.0
    at = np.rint((mapped - c.start_s) * c.profile.frame_rate).astype(np.int64)
    valid = (at >= 0) & (at < c.profile.n_frames)
    loudness = r.profile.loudness_db
    sounding = loudness[lo:hi] >= r.profile.episode_level(options.silence_db)
    if not sounding.any():
        return float(valid.mean())  # a silent span is there where the copy has audio for it
    match = np.zeros(hi - lo, dtype=bool)
    match[valid] = np.einsum("ij,ij->i", frames(r)[lo:hi][valid], frames(c)[at[valid]]) >= match_level(scale)
    return float(np.count_nonzero(match & sounding)) / float(np.count_nonzero(sounding))


@dataclass(frozen=True)
class VersionGroup:
    """Episodes (indices into the prints) that are versions of one episode: the representative, whose answers
    stand for all, and each copy's alignment with it."""

    rep: int
    copies: tuple[Alignment, ...]


def _candidates(
    query: EpisodePrint, index: InvertedIndex, exclude: int, options: MatchingOptions
) -> dict[int, tuple[int, list[tuple[float, float]]]]:
    """Per indexed episode, (the landmark votes it shares with the query at the speed that holds the most, its
    strongest alignments there: (speed, offset in frames))."""
    by_speed: dict[int, dict[float, list[tuple[int, float, float]]]] = {}
    for speed in options.speeds:
        frames, hashes = landmark_hashes(query.landmarks.peaks, speed, options)
        matches = index.query(frames, hashes, exclude=exclude, reach=hash_reach(frames, hashes, speed, options))
        segments = shared_segments(matches, speed, query.profile.frame_rate, options)
        for group in alignment_groups(segments, options):
            votes = sum(s.votes for s in group)
            offset = float(np.average([s.offset for s in group], weights=[s.votes for s in group]))
            by_speed.setdefault(group[0].other, {}).setdefault(speed, []).append((votes, speed, offset))
    out = {}
    apart = LOOP_MIN_S * query.profile.frame_rate
    for other, speeds in by_speed.items():
        rows = max(speeds.values(), key=lambda rows: sum(r[0] for r in rows))
        kept: list[tuple[float, float]] = []
        for _, speed, offset in sorted(rows, reverse=True):
            # offsets a frame or two apart are one alignment, split by the peaks' jitter: only the strongest
            if all(abs(offset - o) > apart for _, o in kept):
                kept.append((speed, offset))
        out[other] = (sum(r[0] for r in rows), kept[:ALIGNMENTS_PER_PAIR])
    return out


def _foreground(p: EpisodePrint, per_bin: int) -> tuple[np.ndarray, np.ndarray]:
    """(the frames compared: within ``FOREGROUND_DB`` of their bin's loudest, in bins whose loudest frame lies
    within ``FOREGROUND_DB`` of the episode's loud frames; those bins)."""
    loudness = p.profile.loudness_db
    n = loudness.size
    if n == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    starts = np.arange(0, n, per_bin)
    peak = np.maximum.reduceat(loudness, starts)
    loud = peak >= np.percentile(loudness, LOUD_PERCENTILE) - LOUD_BIN_DB
    frames = (loudness >= np.repeat(peak, np.diff(np.append(starts, n))) - FOREGROUND_DB) & np.repeat(
        loud, np.diff(np.append(starts, n))
    )
    return frames, loud


def _pieces(
    query: EpisodePrint,
    other: EpisodePrint,
    alignments: Sequence[tuple[float, float]],
    frames: tuple[np.ndarray, np.ndarray],
    options: MatchingOptions,
    foreground: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[list[Piece], float, float, list[tuple[float, float]]]:
    """The pieces of ``query`` whose frames match ``other``'s at one of the alignments, (seconds held, seconds
    of foreground the two could share at all), and the alignments as clocks (scale, offset s)."""
    own, theirs = frames
    n = own.shape[0]
    rate = query.profile.frame_rate
    per_bin = max(1, round(BIN_S * rate))
    starts = np.arange(0, n, per_bin)
    n_bins = starts.size
    t = np.arange(n)
    best_share = np.zeros(n_bins)
    best_k = np.full(n_bins, -1)
    agreeing = np.zeros(n_bins, dtype=np.int64)  # alignments at which a bin matches
    inside_any = np.zeros(n_bins, dtype=bool)
    compared, loud = foreground if foreground is not None else _foreground(query, per_bin)
    counts = np.add.reduceat(compared.astype(np.float64), starts) if n else np.zeros(0)
    for k, (speed, offset) in enumerate(alignments):
        mapped = np.rint(t * speed + offset).astype(np.int64)
        valid = (mapped >= 0) & (mapped < theirs.shape[0])
        match = np.zeros(n, dtype=bool)
        match[valid] = np.einsum("ij,ij->i", own[valid], theirs[mapped[valid]]) >= match_level(speed)
        match &= compared
        held = np.add.reduceat(match.astype(np.float64), starts)
        inside = np.add.reduceat((valid & compared).astype(np.float64), starts)
        share = np.where(counts > 0, held / np.maximum(counts, 1), 0.0)
        better = share > best_share
        best_share[better], best_k[better] = share[better], k
        agreeing += share >= 0.5
        inside_any |= inside >= 0.5 * np.maximum(counts, 1)
    # a bin that matches at two alignments is a loop (a bed, a repeated bar) heard at its period: it says
    # nothing of whether the two are one episode, and does not break a piece
    quiet = ~loud | (agreeing > 1)
    matched = (best_share >= 0.5) & ~quiet
    could = float(np.count_nonzero(inside_any & ~quiet)) * per_bin / rate
    counted = matched & inside_any
    pieces: list[Piece] = []
    runs: list[tuple[int, float, float]] = []  # per piece: its alignment, seconds long, seconds of it matched
    b = 0
    while b < n_bins:
        if not matched[b]:
            b += 1
            continue
        k, e = best_k[b], b
        while e + 1 < n_bins and ((matched[e + 1] and best_k[e + 1] == k) or (quiet[e + 1] and not matched[e + 1])):
            e += 1
        while e > b and not matched[e]:  # a run ends on a matched bin, not on the quiet ones after it
            e -= 1
        speed, offset = alignments[k]
        start, end = b * per_bin, min(n, (e + 1) * per_bin)
        offset_s = other.start_s + offset / rate - query.start_s * speed
        pieces.append(
            Piece(
                query.seconds(start),
                query.seconds(end),
                other.seconds(start * speed + offset),
                other.seconds(end * speed + offset),
                speed,
                offset_s,
            )
        )
        runs.append((int(k), (end - start) / rate, float(np.count_nonzero(counted[b : e + 1])) * per_bin / rate))
        b = e + 1
    # what counts: the pieces of the alignment that holds the most (one episode at one offset), and the long
    # pieces of others (a cut moves what follows it); the short pieces of other alignments are what siblings
    # share (the intro at one offset, a cue at another)
    by_k: dict[int, float] = {}
    for k, _, held in runs:
        by_k[k] = by_k.get(k, 0.0) + held
    main = max(by_k, key=lambda k: by_k[k], default=-1)
    held_s = sum(held for k, length, held in runs if k == main or length >= CUT_PIECE_S)
    clocks = [(speed, other.start_s + offset / rate - query.start_s * speed) for speed, offset in alignments]
    return pieces, held_s, could, clocks


@dataclass(frozen=True)
class PairMatch:
    """What two episodes share: the pieces (from the first to the second, heads and tails together), the share
    of their overlap's foreground those pieces hold (``_pieces``), and the share of the first's analysed audio
    the pieces span."""

    pieces: tuple[Piece, ...]
    share: float
    span: float
    clocks: tuple[tuple[float, float], ...] = ()  # every alignment compared, as (scale, offset s)

    @property
    def versions(self) -> bool:
        return self.share >= VERSION_SHARE and self.span >= VERSION_SPAN

    def inverse(self) -> PairMatch:
        back = tuple((1 / scale, -offset / scale) for scale, offset in self.clocks)
        return PairMatch(tuple(p.inverse() for p in self.pieces), self.share, self.span, back)

    def alignment(self, copy: int, rep: int) -> Alignment:
        """This match as a copy's alignment (this match measured from the representative to the copy)."""
        return Alignment(copy, rep, tuple(sorted(self.pieces, key=lambda p: p.start_s)), self.share, self.clocks)


def pair_matches(
    prints: Sequence[EpisodePrint], options: MatchingOptions = DEFAULT_MATCHING
) -> dict[tuple[int, int], PairMatch]:
    """For the ordered pairs (a, b) of the prints that are compared (every pair of a season of up to
    ``PARTNERS_COMPARED`` + 1; else each episode with the ``PARTNERS_COMPARED`` that share the most landmark votes
    with it), what they share (measured once, from the earlier print; the other way its inverse)."""
    rows: dict[tuple[int, int], list[tuple[list[Piece], float, float, list[tuple[float, float]]]]] = {}
    compared: set[tuple[int, int]] | None = None  # the pairs the heads' votes choose (the tails compare the same)
    for part in (list(prints), [p.tail for p in prints]):
        present = [i for i, p in enumerate(part) if p is not None]
        if len(present) < 2:
            continue
        index = InvertedIndex([landmark_hashes(part[i].landmarks.peaks, 1.0, options) for i in present], options)
        found = {i: _candidates(part[i], index, k, options) for k, i in enumerate(present)}
        if compared is None:
            compared = set()
            for k, i in enumerate(present):
                # a version is among the episodes that share the most with it: only those are compared
                ranked = sorted(found[i], key=lambda other_k: -found[i][other_k][0])[:PARTNERS_COMPARED]
                compared |= {tuple(sorted((i, present[other_k]))) for other_k in ranked}
                if len(present) <= PARTNERS_COMPARED + 1:
                    compared |= {tuple(sorted((i, j))) for j in present if j != i}
        frames = {i: normalised_frames(part[i]) for i in present}
        per_bin = {i: max(1, round(BIN_S * part[i].profile.frame_rate)) for i in present}
        foreground = {i: _foreground(part[i], per_bin[i]) for i in present}  # once per print, not per pair
        for i in present:
            for other_k, j in enumerate(present):
                if j <= i or (i, j) not in compared:
                    continue  # measured from the earlier print: the same frames compared
                # a pair without a shared alignment shares nothing: all its foreground counts against it
                alignments = found[i].get(other_k, (0, [(1.0, 0.0)]))[1]
                rows.setdefault((i, j), []).append(
                    _pieces(part[i], part[j], alignments, (frames[i], frames[j]), options, foreground[i])
                )
    out: dict[tuple[int, int], PairMatch] = {}
    for (i, j), found in rows.items():
        pieces = tuple(p for ps, _, _, _ in found for p in ps)
        could = sum(r[2] for r in found)
        share = min(1.0, sum(r[1] for r in found) / could) if could > 0 else 0.0
        first = prints[i]
        analysed = first.duration_s + (first.tail.duration_s if first.tail is not None else 0.0)
        span = min(1.0, sum(p.end_s - p.start_s for p in pieces) / analysed) if analysed > 0 else 0.0
        clocks = tuple(c for *_, cs in found for c in cs)
        out[(i, j)] = PairMatch(pieces, share, span, clocks)
        out[(j, i)] = out[(i, j)].inverse()
    return out


def find_versions(
    prints: Sequence[EpisodePrint],
    rank: Sequence[float] | None = None,
    options: MatchingOptions = DEFAULT_MATCHING,
) -> list[VersionGroup]:
    """The groups of versions among a series' episodes (an episode in no group is the only version of its
    episode). Two episodes are versions when their frames match over ``VERSION_SHARE`` of their overlap; a
    group holds every episode linked to it. ``rank``: per episode, higher is the better representative (the
    pipeline gives bytes per second of the file: the better release); ties go to the earlier print."""
    n = len(prints)
    if n < 2:
        return []
    pairs = pair_matches(prints, options)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (i, j), match in pairs.items():
        if i < j and match.versions:
            parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    ranks = list(rank) if rank is not None else [0.0] * n
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        rep = min(members, key=lambda i: (-ranks[i], i))
        copies = []
        for c in members:
            if c != rep:  # linked through another copy: measured now, as a pair
                match = pairs.get((rep, c))
                found = match.alignment(c, rep) if match is not None else align(prints[rep], prints[c], options)
                copies.append(replace(found, copy=c, rep=rep))
        out.append(VersionGroup(rep, tuple(copies)))
    return sorted(out, key=lambda g: g.rep)
