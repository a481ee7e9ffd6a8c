"""From shared segments to recurring motifs of a series: what recurs, where, in which episodes.

1. Every episode is queried against the series' inverted index (at normal speed and at PAL's ±4 %), and
   offset voting gives its shared segments with each other episode (``align.shared_segments``).
2. Within an episode, shared segments that cover the same stretch (whoever they are shared with) form a
   *region*: the intro of episode 3 is one region, supported by every other episode that has the intro.
3. Regions of different episodes linked by shared segments form a *motif*: the intro, the network logo, a
   recap sting, a score cue, a reused theme. A motif grows as a star around its best-linked region; the
   design's DBSCAN over the regions' MFCC / contrast summaries then drops members that do not sound like
   the seed (a chance link between an intro and a reused line of dialogue).

Which motif is the intro is decided elsewhere (``scoring.py``) from the motif's ``MotifFeatures``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from ..settings import DEFAULT_MATCHING, MatchingOptions
from .align import SharedSegment, shared_segments
from .index import InvertedIndex
from .landmarks import Landmarks, hash_reach, landmark_hashes
from .profile import Profile


def prepare_clustering() -> None:
    """Import the clustering (scikit-learn's DBSCAN: ~1 s, and with it scipy.stats and scipy.signal) in this
    process. A season calls it before its worker processes fork, so that they do not each import it again; a
    lone episode never clusters, and a command that never matches never pays it."""
    import sklearn.cluster  # noqa: F401


@dataclass(frozen=True)
class EpisodePrint:
    """What matching needs of one episode: its landmark peaks and its frame profile, of the head window; the
    same of its last minutes (``tail``, whose frame 0 lies at ``tail.start_s`` of the file), for the credits,
    and where asked of what lies between (``story``), for the scenes recaps and previews replay."""

    id: str
    landmarks: Landmarks
    profile: Profile
    duration_s: float  # of the analysed audio
    reached_end: bool = False  # the episode ended inside the analysis window (its end credits may be in it)
    start_s: float = 0.0  # where frame 0 lies in the file (0 for the head; the tail's start for a tail)
    tail: EpisodePrint | None = None
    # where the decoded stream's first sample lies on the media's timeline (its delay against the container's
    # start, already applied by the decode: what precedes it is silence); recorded, never added again
    audio_start_s: float = 0.0
    # the episode between the head and the tail (fingerprints and loudness, no log-mel frames), decoded where a
    # season's evidence asks for the scenes a recap or preview replays (``analysis.analyse_story``); None: not
    story: EpisodePrint | None = None

    @property
    def end_s(self) -> float:
        """Where this print ends in the file (the file's length, for a tail or a head that reached the end)."""
        return self.start_s + self.duration_s

    @property
    def file_end_s(self) -> float | None:
        """Where the file ends (s), where the analysis knows: its tail's end (decoded back from the file's end), or
        this print's own where it reached the end; None otherwise."""
        if self.tail is not None:
            return self.tail.end_s
        return self.end_s if self.reached_end else None

    def seconds(self, frame: float) -> float:
        """A frame of this print as seconds of the file."""
        return self.start_s + frame / self.profile.frame_rate

    def after(self, start_s: float) -> EpisodePrint:
        """The part of this print from ``start_s`` of the file on, as a print of its own (a short episode's tail,
        taken from its head window instead of decoded again)."""
        return self.between(start_s, np.inf)

    def between(self, start_s: float, end_s: float) -> EpisodePrint:
        """The part of this print from ``start_s`` to ``end_s`` of the file, as a print of its own (its frame 0
        at ``start_s``, its ``tail`` dropped)."""
        rate = self.profile.frame_rate
        first = max(0, int(round((start_s - self.start_s) * rate)))
        last = self.profile.n_frames if not np.isfinite(end_s) else int(round((end_s - self.start_s) * rate))
        last = max(first, min(self.profile.n_frames, last))
        frames = self.landmarks.peaks[:, 0]
        peaks = self.landmarks.peaks[(frames >= first) & (frames < last)].copy()
        peaks[:, 0] -= first
        landmarks = Landmarks(peaks, self.landmarks.frame_rate, last - first)
        profile = Profile(self.profile.log_mel[first:last], self.profile.loudness_db[first:last], rate)
        return EpisodePrint(
            self.id,
            landmarks,
            profile,
            profile.n_frames / rate,
            self.reached_end and last == self.profile.n_frames,
            self.start_s + first / rate,
        )


@dataclass
class Region:
    episode: int
    start: int  # frames
    end: int
    members: list[SharedSegment] = field(default_factory=list)
    votes: int = 0
    spread: float = 0.0  # how far its partners disagree on where it starts and ends: mean IQR, frames

    def overlap(self, start: int, end: int) -> float:
        """Shared length over the shorter of this region and [start, end]."""
        inter = min(self.end, end) - max(self.start, start)
        return inter / max(1, min(self.end - self.start, end - start))


@dataclass
class Motif:
    """Regions of several episodes that hold the same recurring sound; ``regions[e]`` lists episode e's."""

    regions: dict[int, list[Region]]
    repeats: float = 1.0  # regions per partner episode that the seed links to (a cue used twice → 2)
    agreement: dict[int, float] = field(default_factory=dict)  # per episode: share of other members it links to

    @property
    def episodes(self) -> list[int]:
        return sorted(self.regions)

    def main_region(self, episode: int) -> Region:
        """The episode's region with the most votes (a theme reused later in the score comes second)."""
        return max(self.regions[episode], key=lambda r: (r.votes, -r.start))


def query_segments(
    index: InvertedIndex,
    prints: Sequence[EpisodePrint],
    frame_rate: float,
    options: MatchingOptions = DEFAULT_MATCHING,
) -> list[list[SharedSegment]]:
    """Shared segments of every episode with every other one, at each speed hypothesis (``options.speeds``)."""
    result: list[list[SharedSegment]] = []
    for i, p in enumerate(prints):
        segments: list[SharedSegment] = []
        for speed in options.speeds:
            frames, hashes = landmark_hashes(p.landmarks.peaks, speed, options)
            matches = index.query(frames, hashes, exclude=i, reach=hash_reach(frames, hashes, speed, options))
            segments += shared_segments(matches, speed, frame_rate, options)
        result.append(segments)
    return result


def _overlaps(starts: np.ndarray, ends: np.ndarray, start: int, end: int) -> np.ndarray:
    """``Region.overlap`` of [start, end] with many regions at once."""
    inter = np.minimum(ends, end) - np.maximum(starts, start)
    return inter / np.maximum(1, np.minimum(ends - starts, end - start))


def alignment_groups(
    members: Sequence[SharedSegment], options: MatchingOptions = DEFAULT_MATCHING
) -> list[list[SharedSegment]]:
    """The pieces of a region shared with one partner at one alignment (same speed, offset within the
    tolerance), each group a list of pieces."""
    tolerance = options.offset_tolerance_frames
    groups: dict[tuple[int, float, int], list[SharedSegment]] = {}
    for m in members:
        key = next(
            (k for k in groups if k[0] == m.other and k[1] == m.speed and abs(k[2] - m.offset) <= tolerance),
            (m.other, m.speed, m.offset),
        )
        groups.setdefault(key, []).append(m)
    return list(groups.values())


def span(pieces: Sequence[SharedSegment]) -> int:
    """Frames from the first piece's start to the last piece's end."""
    return max(s.end for s in pieces) - min(s.start for s in pieces)


def dominant_alignments(
    members: Sequence[SharedSegment], options: MatchingOptions = DEFAULT_MATCHING
) -> dict[int, list[SharedSegment]]:
    """Per partner, the pieces of the alignment (speed, offset) that spans the most of the region.

    A partner can match one stretch at several offsets: a theme with repeated sections, or end credits that
    replay the intro and go on. Only the true alignment holds all of it, so the widest one wins, provided it
    has at least a third of the strongest one's votes (a wide but thin alignment is chance)."""
    groups = alignment_groups(members, options)
    strongest: dict[int, int] = defaultdict(int)
    for pieces in groups:
        strongest[pieces[0].other] = max(strongest[pieces[0].other], sum(s.votes for s in pieces))
    best: dict[int, tuple[int, int, list[SharedSegment]]] = {}
    for pieces in groups:
        other, votes = pieces[0].other, sum(s.votes for s in pieces)
        if 3 * votes >= strongest[other] and (other not in best or (span(pieces), votes) > best[other][:2]):
            best[other] = (span(pieces), votes, pieces)
    return {other: pieces for other, (_, _, pieces) in best.items()}


def build_regions(
    episode: int, segments: Sequence[SharedSegment], options: MatchingOptions = DEFAULT_MATCHING
) -> list[Region]:
    """Group one episode's shared segments into regions, strongest first. A segment joins the region it overlaps
    most (``region_overlap``) among those whose first segment is of its kind (``_one_sound``)."""
    regions: list[Region] = []
    ordered = sorted(segments, key=lambda s: (-s.votes, s.other, s.start))
    starts = np.zeros(len(ordered), dtype=np.int64)  # each region's extent while grouping: its first segment's
    ends = np.zeros(len(ordered), dtype=np.int64)
    densities = np.zeros(len(ordered))  # its first segment's votes per frame
    for seg in ordered:
        k = len(regions)
        if k:
            overlaps = _overlaps(starts[:k], ends[:k], seg.start, seg.end)
            overlaps[~_one_sound(seg, starts[:k], ends[:k], densities[:k], options)] = -1.0
            best = int(np.argmax(overlaps))
            if overlaps[best] >= options.region_overlap:
                regions[best].members.append(seg)
                regions[best].votes += seg.votes
                continue
        starts[k], ends[k] = seg.start, seg.end
        densities[k] = seg.votes / max(seg.end - seg.start, 1)
        regions.append(Region(episode, seg.start, seg.end, [seg], seg.votes))
    for region in regions:
        settle_extent(region, options)
    return regions


def _one_sound(
    seg: SharedSegment, starts: np.ndarray, ends: np.ndarray, densities: np.ndarray, options: MatchingOptions
) -> np.ndarray:
    """Per region (its first segment's extent and votes per frame), whether ``seg`` may be the same sound: not
    a stretch under half as long as the other and ``region_density_ratio`` times as dense (a title sting over
    an ambience bed two episodes share, or the bed under it), which is other sound over it."""
    length = max(seg.end - seg.start, 1)
    lengths = np.maximum(ends - starts, 1)
    density = seg.votes / length
    shorter, longer = np.minimum(lengths, length), np.maximum(lengths, length)
    short_dense = np.where(length < lengths, density, densities)
    long_thin = np.where(length < lengths, densities, density)
    ratio = options.region_density_ratio
    return ~((2 * shorter < longer) & (short_dense > ratio * long_thin)) if ratio > 0 else np.ones(len(starts), bool)


def settle_extent(region: Region, options: MatchingOptions = DEFAULT_MATCHING) -> Region:
    """Set the region's extent (and spread) from its members, and return it: one extent per partner (its pieces
    joined), then what partners agree on: the start is their median (a partner whose logo happens to sit at
    the intro's offset reaches back into the logo), the end a high quantile (a trimmed partner stops early).
    Other alignments with a partner (a repeated section, its logo nearby) do not count."""
    dominant = dominant_alignments(region.members, options).values()
    starts = np.array([min(s.start for s in pieces) for pieces in dominant])
    ends = np.array([max(s.end for s in pieces) for pieces in dominant])
    region.start = int(np.percentile(starts, 50))
    region.end = int(np.percentile(ends, 75))
    iqr = np.subtract(*np.percentile(starts, [75, 25])) + np.subtract(*np.percentile(ends, [75, 25]))
    region.spread = float(iqr) / 2
    return region


def region_summary(profile: Profile, region: Region, frames: int | None = None) -> np.ndarray:
    """Mean MFCC (2..13) and mean band contrast of a region (of its first ``frames`` frames when given): what
    it sounds like, not how loud it is."""
    start, end = region.start, max(region.end, region.start + 1)
    if frames is not None:
        end = min(end, start + max(frames, 1))
    return np.concatenate([profile.mfcc(start, end, 13)[:, 1:].mean(axis=0), profile.contrast(start, end).mean(axis=0)])


def _iou(starts: np.ndarray, ends: np.ndarray, start: int, end: int) -> np.ndarray:
    """Intersection over union of [start, end] with many regions at once."""
    inter = np.minimum(ends, end) - np.maximum(starts, start)
    return inter / np.maximum(1, np.maximum(ends, end) - np.minimum(starts, start))


def _links(regions: Sequence[Sequence[Region]], overlap: float) -> dict[int, dict[int, dict[int, int]]]:
    """For every region (by id), the regions of other episodes it shares a segment with: {other episode:
    {region id: votes}}; a link found from either side counts for both."""
    links: dict[int, dict[int, dict[int, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    extents = [
        (np.array([r.start for r in rs], dtype=np.int64), np.array([r.end for r in rs], dtype=np.int64))
        for rs in regions
    ]
    for episode_regions in regions:
        for region in episode_regions:
            for seg in region.members:
                if not regions[seg.other]:
                    continue
                lo, hi = int(seg.other_frame(seg.start)), int(seg.other_frame(seg.end))
                overlaps = _overlaps(*extents[seg.other], lo, hi)
                if overlaps.max() < overlap:
                    continue
                # of the regions it overlaps enough, the one most like it in extent: a sting's stretch links to
                # the sting's region, not to the bed's around it (``build_regions``)
                best = int(np.argmax(np.where(overlaps >= overlap, _iou(*extents[seg.other], lo, hi), -1.0)))
                target = regions[seg.other][best]
                links[id(region)][seg.other][id(target)] += seg.votes
                links[id(target)][region.episode][id(region)] += seg.votes
    return links


def find_motifs(
    prints: Sequence[EpisodePrint],
    segments: Sequence[Sequence[SharedSegment]],
    options: MatchingOptions = DEFAULT_MATCHING,
) -> list[Motif]:
    """Recurring motifs of a series, from every episode's shared segments.

    A motif grows from a seed region as a star: the seed and, in every other episode, the region it shares
    the most with. Stars, not chains: a chain of chance links (intro ~ line A ~ line B) would merge what
    does not recur together. Seeds are taken in order of how many episodes they link to, so the motifs
    that recur most widely are formed first and keep their regions.
    """
    regions = [build_regions(e, segs, options) for e, segs in enumerate(segments)]
    by_id = {id(r): r for rs in regions for r in rs}
    if not by_id:
        return []
    links = _links(regions, options.region_overlap)
    summaries = {rid: region_summary(prints[r.episode].profile, r) for rid, r in by_id.items()}
    scale = np.array(list(summaries.values())).std(axis=0) + 1e-6
    seeds = sorted(by_id, key=lambda rid: (-len(links[rid]), -by_id[rid].votes, by_id[rid].episode, by_id[rid].start))
    assigned: set[int] = set()
    motifs: list[Motif] = []
    for seed in seeds:
        if seed in assigned:
            continue
        members = {by_id[seed].episode: seed}
        repeats = []
        for other, targets in links[seed].items():
            free = {rid: v for rid, v in targets.items() if rid not in assigned}
            repeats.append(len(targets))
            if free and other not in members:
                members[other] = max(free, key=lambda rid: free[rid])
        if len(members) < 2:
            continue
        if len(members) >= 3:
            ids = list(members.values())
            # compared over the length they all have: an intro trimmed in one episode keeps its beginning
            common = min(by_id[rid].end - by_id[rid].start for rid in ids)
            x = np.array([region_summary(prints[by_id[rid].episode].profile, by_id[rid], common) for rid in ids])
            x = x / scale
            # a handful of points: one thread. And never an OpenMP thread team: a process forked after one
            # exists (the local worker pool) deadlocks in its next OpenMP call (seen: a 2-worker detect run
            # after a 1-worker run in the same process hung in DBSCAN)
            from sklearn.cluster import DBSCAN  # see prepare_clustering

            with threadpool_limits(limits=1, user_api="openmp"):
                labels = DBSCAN(eps=options.dbscan_eps * np.sqrt(x.shape[1]), min_samples=2).fit_predict(x)
            seed_label = labels[ids.index(seed)]
            if seed_label >= 0:
                members = {e: rid for e, rid in members.items() if labels[ids.index(rid)] == seed_label}
        # how many of the other members each member shares a segment with: the seed's own links are the
        # reason it is there; a member that nobody else recognises came in by a chance link
        agreement = {
            e: sum(1 for o, other in members.items() if o != e and other in links[rid].get(o, {})) / (len(members) - 1)
            for e, rid in members.items()
        }
        if len(members) >= 4:
            members = {e: rid for e, rid in members.items() if rid == seed or agreement[e] >= options.min_agreement}
        assigned.update(members.values())
        if len(members) >= 2:
            motifs.append(
                Motif(
                    {e: [by_id[rid]] for e, rid in members.items()},
                    float(np.mean(repeats)),
                    {e: agreement[e] for e in members},
                )
            )
    return motifs
