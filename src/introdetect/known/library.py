"""Known intros: labelled episodes fingerprinted once, so that a new episode of a known series is answered by
lookup alone, even when it is the only new episode.

    library = build_library(labels, videos)        # analyses each labelled video once
    library.save("shows.introlib")                 # one .npz file, written atomically
    answer = library.lookup(episode_print, series)

Labels are whole seconds and sometimes off by a second or more. Where a series has two or more labelled
episodes, their intros are found again in the audio (the recurring motif that best overlaps the labels)
and the audio's extent is kept; how far each label is from it is reported (``LabelAudit``), and labels the
audio contradicts are flagged; a label that runs past what its partners share, where their own labels end,
is kept (a season's intro can come in a short and a long cut) and flagged for a look. A lookup maps the known
extent through the alignment of the new episode to the references of the version it holds, then refines it
where the new episode and those references still sound alike; where the references agree to a frame on a
boundary the new episode's shared sound stops short of (speech over its first bars), their boundary stands
(``version_boundaries``); where they hold different cuts, the episode's is the longest its sound reaches.
"""

from __future__ import annotations

import io
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path
from ..errors import LibraryFileError
from ..labels import Label
from ..matching.align import SharedSegment, shared_segments
from ..matching.index import InvertedIndex
from ..matching.landmarks import Landmarks, hash_reach, landmark_hashes
from ..matching.profile import Profile, quiet_runs
from ..matching.recurring import (
    EpisodePrint,
    Region,
    alignment_groups,
    build_regions,
    dominant_alignments,
    query_segments,
    settle_extent,
)
from ..matching.refine import Refiner
from ..settings import DEFAULT_MATCHING, MatchingOptions
from ..timecode import Segment

LIBRARY_FORMAT = 1

AGREEING_IOU = 0.8
"""Two references' known intros, mapped onto a looked-up episode, are the same version of the intro when they
overlap this much: whole-second labels a second or two apart overlap more than 0.9 on a 20 s intro; a 37 s and
a 73 s cut of one theme 0.5."""


@dataclass(frozen=True)
class KnownIntro:
    """One labelled episode's intro: where it is (audio-refined when possible) and the audio around it."""

    id: str
    series: str
    intro: Segment  # in the reference episode's time
    label: Segment  # as labelled
    refined: bool  # intro found again in the audio of the series' labelled episodes
    first_frame: int  # frame of the reference episode where the stored slice starts
    reference: EpisodePrint  # peaks and profile of the slice, frames counted from first_frame


@dataclass(frozen=True)
class LabelAudit:
    id: str
    series: str
    label: Segment
    audio: Segment | None  # the intro as the audio shows it (None: not found again)
    flagged: bool
    reason: str


@dataclass(frozen=True)
class Lookup:
    intro: Segment | None
    confidence: float
    references: tuple[str, ...]
    # the episode shares less than MAPPED_COVERAGE of the known intro: another version or cut of it, whose own
    # extent its season's matching may hear better than the references (``detectors/known.py``)
    partial: bool = False


def _slice(
    p: EpisodePrint, intro: Segment, label_id: str, series: str, label: Segment, refined: bool, margin_s: float
) -> KnownIntro:
    rate = p.profile.frame_rate
    lo = max(0, int((intro.start_s - margin_s) * rate))
    hi = min(p.profile.n_frames, int(np.ceil((intro.end_s + margin_s) * rate)) + 1)
    peaks = p.landmarks.peaks
    keep = (peaks[:, 0] >= lo) & (peaks[:, 0] < hi)
    sliced = peaks[keep].copy()
    sliced[:, 0] -= lo
    reference = EpisodePrint(
        label_id,
        Landmarks(sliced, rate, hi - lo),
        Profile(p.profile.log_mel[lo:hi].copy(), p.profile.loudness_db[lo:hi].copy(), rate),
        (hi - lo) / rate,
    )
    return KnownIntro(label_id, series, intro, label, refined, lo, reference)


@dataclass(frozen=True)
class RefinedLabel:
    """A labelled episode's intro as the audio shows it (``refine_labels``), and what the partners' own labels
    say of each boundary (start, end), mapped into their time through the shared stretch:

    * ``partners_at_audio``: every partner's label is where the shared stretch is: the stretch stops there
      because the partners' intros stop there, not because this episode's does (a longer version of the intro,
      or the partner's cut short);
    * ``partners_agree``: every partner's label is where this episode's label is: two annotators put the
      boundary at the same place of the same theme, while the shared audio falls short of it (speech or
      effects over one episode's first bars, EQ)."""

    audio: Segment | None
    reason: str = ""
    partners_at_audio: tuple[bool, bool] = (False, False)
    partners_agree: tuple[bool, bool] = (False, False)


def _partner_labels(
    region: Region, audio: Segment, label: Segment, labels: Sequence[Label], rate: float, options: MatchingOptions
) -> tuple[tuple[bool, bool], tuple[bool, bool]]:
    """``RefinedLabel``'s two views: whether every partner of ``region`` has its own label's start (end) within
    ``audit_tolerance_s`` of where ``audio`` starts (ends), and of where ``label`` does, in the partner's time.
    Of a partner's alignments (a looped theme aligns at several offsets, its loop apart, and the widest need not
    be the true one), the one under which one boundary of the two labels agrees best (the other may differ: a
    trimmed or a longer cut), of those with at least a third of the strongest one's votes (as
    ``dominant_alignments`` asks)."""

    def mapped(seg: SharedSegment, t: float) -> float:  # this episode's time in the partner's
        return seg.other_frame(t * rate) / rate

    groups: dict[int, list[list[SharedSegment]]] = defaultdict(list)
    for pieces in alignment_groups(region.members, options):
        groups[pieces[0].other].append(pieces)
    at_audio, agree = [bool(groups)] * 2, [bool(groups)] * 2
    for other, alignments in groups.items():
        theirs = labels[other].segment
        if theirs is None:
            return (False, False), (False, False)
        strongest = max(sum(s.votes for s in pieces) for pieces in alignments)
        seg = min(
            (pieces[0] for pieces in alignments if 3 * sum(s.votes for s in pieces) >= strongest),
            key=lambda g: min(
                abs(mapped(g, label.start_s) - theirs.start_s), abs(mapped(g, label.end_s) - theirs.end_s)
            ),
        )
        for side, (heard, said, their) in enumerate(
            ((audio.start_s, label.start_s, theirs.start_s), (audio.end_s, label.end_s, theirs.end_s))
        ):
            at_audio[side] &= abs(mapped(seg, heard) - their) <= options.audit_tolerance_s
            agree[side] &= abs(mapped(seg, said) - their) <= options.audit_tolerance_s
    return (at_audio[0], at_audio[1]), (agree[0], agree[1])


def refine_labels(
    prints: Sequence[EpisodePrint], labels: Sequence[Label], options: MatchingOptions = DEFAULT_MATCHING
) -> list[RefinedLabel]:
    """The intro of each labelled episode of one series as its audio shows it: of the stretches it shares
    with the series' other labelled episodes, the one that best overlaps its label, refined frame by frame;
    and what the partners' labels say of its boundaries (``RefinedLabel``). No audio (and the reason)
    where no shared stretch overlaps the label."""
    if len(prints) < 2:
        return [RefinedLabel(None, "only labelled episode of its series: nothing to compare with") for _ in prints]
    rate = prints[0].profile.frame_rate
    index = InvertedIndex([landmark_hashes(p.landmarks.peaks, 1.0, options) for p in prints], options)
    segments = query_segments(index, prints, rate, options)
    refiner = Refiner(prints, options)
    result: list[RefinedLabel] = []
    for e, label in enumerate(labels):
        segment = label.segment
        regions = build_regions(e, segments[e], options) if segment is not None else []
        scored = [(Segment(r.start / rate, max(r.end, r.start + 1) / rate).iou(segment), r) for r in regions]
        best = max(scored, key=lambda x: x[0], default=(0.0, None))
        if best[1] is None or best[0] < 0.3:
            result.append(
                RefinedLabel(None, "no audio shared with the series' other labelled episodes overlaps the label")
            )
            continue
        audio = refiner.refine(best[1])
        result.append(RefinedLabel(audio, "", *_partner_labels(best[1], audio, segment, labels, rate, options)))
    return result


def _intro_hashes(entry: KnownIntro, options: MatchingOptions) -> tuple[np.ndarray, np.ndarray]:
    """Hashes anchored inside the known intro only: the margins kept around it (for refinement) may hold a
    network logo or a recap sting that other episodes share, which must not be looked up as the intro."""
    frames, hashes = landmark_hashes(entry.reference.landmarks.peaks, 1.0, options)
    rate = entry.reference.profile.frame_rate
    lo, hi = entry.intro.start_s * rate - entry.first_frame, entry.intro.end_s * rate - entry.first_frame
    inside = (frames >= lo) & (frames < hi)
    return frames[inside], hashes[inside]


def _intro_region(episode: EpisodePrint, regions: Sequence[Region], options: MatchingOptions) -> Region:
    """Of the stretches that match the known intros well (half the best's references and a third of its
    votes), the strongest that does not end the episode: end credits replay the theme after the intro, and
    a score cue that quotes the theme, under speech, matches less of it. Where the head stops short of the
    file's end, its tail tells how long the file is (held-out validation seed 0 show09 e05: a head analysed to
    15:00 of a 15:50 file held the credits' replay of the sting at 14:55, which matched more strongly than the
    intro at 7:55 and was answered)."""
    rate = episode.profile.frame_rate
    partners = {id(r): len({m.other for m in r.members}) for r in regions}
    top_partners = max(partners.values())
    top_votes = max(r.votes for r in regions)
    good = [r for r in regions if 2 * partners[id(r)] >= top_partners and 3 * r.votes >= top_votes]

    end = episode.file_end_s
    length = None if end is None else end - episode.start_s  # the file's length from the head's start

    def closing(r: Region) -> bool:  # end credits: end the episode, or start in its last fifth
        return length is not None and (
            length - r.end / rate < options.end_s or r.start / rate > options.closing_share * length
        )

    opening = [r for r in good if not closing(r)]
    return max(opening or good, key=lambda r: (r.votes, -r.start))


def _mapped(t: float, entry: KnownIntro, seg: SharedSegment, rate: float) -> float:
    """A time of a known intro's reference episode in the looked-up episode's time, through ``seg``."""
    return (t * rate - entry.first_frame - seg.offset) / seg.speed / rate


def _agreeing_references(
    chosen: Sequence[KnownIntro], region: Region, rate: float, options: MatchingOptions
) -> dict[int, tuple[list[SharedSegment], Segment]]:
    """The references the episode's intro is answered from: per reference heard in ``region`` its pieces at
    its dominant alignment and its known intro mapped onto the episode, kept where that agrees with the one the
    episode's audio holds best (the most of it heard, less what is not heard). Two versions of a series'
    intro (a 37 s cut and a 73 s one) map to different spans: an episode of the short version holds the long
    one's first half only, an episode of the long one holds all of both; the median of the two is neither."""
    partners = dominant_alignments(region.members, options)
    spans: dict[int, Segment] = {}
    held: dict[int, float] = {}
    for k, pieces in partners.items():
        entry, seg = chosen[k], pieces[0]
        start, end = _mapped(entry.intro.start_s, entry, seg, rate), _mapped(entry.intro.end_s, entry, seg, rate)
        spans[k] = Segment(max(0.0, start), max(end, start + 0.1))
        heard = Segment(min(s.start for s in pieces) / rate, max(s.end for s in pieces) / rate)
        held[k] = 2 * spans[k].overlap_s(heard) - spans[k].duration_s
    top = max(held, key=lambda k: (held[k], sum(s.votes for s in partners[k])))
    return {k: (pieces, spans[k]) for k, pieces in partners.items() if spans[k].iou(spans[top]) >= AGREEING_IOU}


MAPPED_AGREEMENT_S = 0.25
"""References whose known intros were found again in their audio (frame-precise, not whole-second labels) and
whose boundaries, mapped onto a new episode through their own alignments, fall within 0.25 s of one another
(or a lone one) locate that boundary better than the new episode's shared sound does where that sound stops
short of it: speech or effects over the first bars of a reference, or of the episode, leave the frames there
unlike (held-out test: three starts 0.6–0.8 s late where the mapped ones were within 0.05 s; validation: a
start 0.5 s late under dialogue, from one reference)."""

OTHER_CUT_S = 0.5
"""References whose known intros map a boundary onto an episode further apart than this hold different cuts of
the intro: two audio-refined references of one cut land within ±0.2 s of the truth each (0.37 s apart in
held-out seed 1 test show16, the widest seen), while a trimmed cut is at least 15 % shorter than the full one
(0.6 s of a 4 s sting)."""

MAPPED_COVERAGE = 0.9
"""The references' settled boundaries (MAPPED_AGREEMENT_S) are answered only where the episode's shared sound
covers this share of the mapped intro: a boundary the sound misses costs a few per cent of an intro (0.7 s of
a 15 s theme, 1.4 s of a 57 s one), while an episode holding another version of it (a season whose intro
changes half-way; an excerpt of the same theme that starts later) shares less (held-out validation: 2.3 s of a
3.0 s sting), and there the episode's own sound is right."""


def version_boundaries(
    spans: Mapping[int, Segment],
    refined: Mapping[int, bool],
    reach: Callable[[int], Segment],
    slack_s: float,
) -> tuple[Segment, tuple[bool, bool], tuple[float | None, float | None]]:
    """Where the agreeing references (``_agreeing_references``: their known intros mapped onto the episode,
    ``spans``) put the episode's intro, and whether each boundary is settled (answered even where the episode's
    shared sound stops short of it).

    Per boundary: where the references map it within OTHER_CUT_S of one another, their median, settled when
    they lie within MAPPED_AGREEMENT_S and every one of them was audio-refined (frame-precise, not a
    whole-second label). Where they differ more, they hold different cuts of the intro (a trimmed one and the
    full one map to one start and two ends): the episode holds every cut whose boundary its own sound reaches
    when refined against that reference alone
    (``reach(k)``, within ``slack_s``), and so the longest of those (an episode of the long cut holds all of
    the short one; one of the short cut does not reach the long one's end): the outermost reached boundary,
    settled as above among the references that put it there, and what the episode's sound says of it is what
    it says against those references (third item; None where the references agreed: the sound refined against
    all of them says it). None reached: the median, unsettled."""
    if not spans:
        raise ValueError("no reference to map the intro from")
    chosen: list[float] = []
    settled: list[bool] = []
    heard: list[float | None] = []
    reached: dict[int, Segment] = {}
    for side in (0, 1):
        values = {k: (span.start_s if side == 0 else span.end_s) for k, span in spans.items()}
        spread = max(values.values()) - min(values.values())
        if spread <= OTHER_CUT_S:
            chosen.append(float(np.median(list(values.values()))))
            settled.append(spread <= MAPPED_AGREEMENT_S and all(refined[k] for k in values))
            heard.append(None)
            continue
        for k in values:
            if k not in reached:
                reached[k] = reach(k)
        held = [
            k
            for k, v in values.items()
            if (reached[k].start_s <= v + slack_s if side == 0 else reached[k].end_s >= v - slack_s)
        ]
        if not held:
            chosen.append(float(np.median(list(values.values()))))
            settled.append(False)
            heard.append(None)
            continue
        value = min(values[k] for k in held) if side == 0 else max(values[k] for k in held)
        group = [k for k in held if abs(values[k] - value) <= MAPPED_AGREEMENT_S]
        chosen.append(float(np.median([values[k] for k in group])))
        settled.append(all(refined[k] for k in group))
        heard.append(float(np.median([reached[k].start_s if side == 0 else reached[k].end_s for k in group])))
    expected = Segment(chosen[0], max(chosen[1], chosen[0] + 0.1))
    return expected, (settled[0], settled[1]), (heard[0], heard[1])


class IntroLibrary:
    """Known intros by series; ``lookup`` answers a new episode from them."""

    def __init__(
        self,
        entries: Iterable[KnownIntro] = (),
        audits: Iterable[LabelAudit] = (),
        options: MatchingOptions = DEFAULT_MATCHING,
    ) -> None:
        self.entries = list(entries)
        self.audits = list(audits)
        self.options = options  # what the references' fingerprints were made with, and lookups use
        self._indexes: dict[str | None, tuple[list[KnownIntro], InvertedIndex]] = {}

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def series(self) -> set[str]:
        return {e.series for e in self.entries}

    def _index(self, series: str | None) -> tuple[list[KnownIntro], InvertedIndex] | None:
        if series not in self._indexes:
            chosen = [e for e in self.entries if series is None or e.series == series]
            if not chosen:
                return None
            index = InvertedIndex([_intro_hashes(e, self.options) for e in chosen], self.options)
            self._indexes[series] = (chosen, index)
        return self._indexes[series]

    def lookup(self, episode: EpisodePrint, series: str | None) -> Lookup | None:
        """The episode's intro from the known intros of its series (of every series when it is unknown).
        None when no reference is heard in it."""
        found = self._index(series if series in self.series else None)
        if found is None:
            return None
        chosen, index = found
        o = self.options
        rate = episode.profile.frame_rate
        segments = []
        for speed in o.speeds:
            frames, hashes = landmark_hashes(episode.landmarks.peaks, speed, o)
            matches = index.query(frames, hashes, reach=hash_reach(frames, hashes, speed, o))
            segments += [s for s in shared_segments(matches, speed, rate, o) if s.votes >= o.min_lookup_votes]
        if not segments:
            return None
        region = _intro_region(episode, build_regions(0, segments, o), o)
        agree = _agreeing_references(chosen, region, rate, o)
        partners = {k: pieces for k, (pieces, _) in agree.items()}
        # refine against the references of that version, as a series' episodes are refined against each other
        # (the region's extent as those references hear it: another version's would cut it short); the
        # references follow the episode in ``prints``: their indices move up by one
        refiner = Refiner([episode] + [e.reference for e in chosen], o)

        def reach(k: int) -> Segment:  # the episode's sound refined against reference k alone
            alone = [replace(m, other=m.other + 1) for m in region.members if m.other == k]
            return refiner.refine(settle_extent(replace(region, members=alone), o))

        expected, mapped, own = version_boundaries(
            {k: span for k, (_, span) in agree.items()},
            {k: chosen[k].refined for k in agree},
            reach,
            o.audit_tolerance_s,
        )
        agreeing = [replace(m, other=m.other + 1) for m in region.members if m.other in partners]
        audio = refiner.refine(settle_extent(replace(region, members=agreeing), o))
        if own != (None, None):  # a boundary of one cut: as the episode's sound hears it against that cut
            start_heard = audio.start_s if own[0] is None else own[0]
            audio = Segment(start_heard, max(audio.end_s if own[1] is None else own[1], start_heard + 0.1))
        confidence = 1.0 - 0.5 ** (len(partners) + min(region.votes, 400) / 100)
        references = tuple(chosen[i].id for i in partners)
        if audio.duration_s < o.min_coverage * expected.duration_s:
            # a few seconds of the theme, not the intro: a quoted bar in a score cue, or a chance match
            return Lookup(None, float(confidence), references)
        start, end = expected.start_s, expected.end_s
        best_ref, pieces = max(partners.items(), key=lambda item: sum(s.votes for s in item[1]))
        best_seg, reference = pieces[0], chosen[best_ref].reference
        loudness = episode.profile.loudness_db
        quiet_below = _quiet_below(loudness, o)
        tolerance = o.audit_tolerance_s
        excerpt = audio.start_s > expected.start_s + tolerance and audio.end_s < expected.end_s - tolerance
        # another version of the intro (not a boundary the shared sound missed): a stretch short of the known
        # intro, or one inside it at both ends (held-out test seed 1 show10 e05: 37 s of a 40 s first version, in
        # a second version of 49 s cut from the same theme), which the season's matching hears whole
        partial = audio.duration_s < MAPPED_COVERAGE * expected.duration_s or excerpt
        if partial:
            mapped = (False, False)
        for side, (heard, said) in enumerate(((audio.start_s, expected.start_s), (audio.end_s, expected.end_s))):
            inside = heard > said if side == 0 else heard < said
            if inside and mapped[side] and abs(heard - said) <= o.audit_tolerance_s:
                continue  # the references agree to a frame where it lies; the shared sound fell short of it
            if abs(heard - said) <= o.audit_tolerance_s:
                # an ident before the sting, bridged by the alignment: the boundary after the pause
                paused = _after_pause(loudness, rate, heard, said, side, quiet_below, o.audit_tolerance_s)
                heard = heard if paused is None else paused
                start, end = (heard, end) if side == 0 else (start, heard)
                continue
            if excerpt:  # the episode shares a middle stretch of the known intro only: another version of it
                start, end = (heard, end) if side == 0 else (start, heard)
                continue
            if side == 0:
                continue  # intros are cut at the end; a start that the audio misplaces has speech over it
            # the new episode and its known intro part ways at the end: believe the audio where the reference
            # still sounds there (this episode's intro was cut short), the mapping where the reference is
            # quiet too (a fade, which the audio cannot place)
            lo, hi = sorted((heard, said))
            ref_lo, ref_hi = (int(round(t * rate * best_seg.speed + best_seg.offset)) for t in (lo, hi))
            ref_loudness = reference.profile.loudness_db
            stretch = ref_loudness[max(ref_lo, 0) : max(min(ref_hi, ref_loudness.size), max(ref_lo, 0) + 1)]
            if stretch.size and float(np.percentile(stretch, 75)) >= _quiet_below(ref_loudness, o):
                end = heard
        return Lookup(Segment(start, max(end, start + 0.1)), float(confidence), references, partial)

    # --- storage ----------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        arrays: dict[str, np.ndarray] = {}
        meta: list[dict[str, Any]] = []
        for k, e in enumerate(self.entries):
            arrays[f"peaks_{k}"] = e.reference.landmarks.peaks.astype(np.int32)
            arrays[f"log_mel_{k}"] = e.reference.profile.log_mel.astype(np.float16)
            arrays[f"loudness_{k}"] = e.reference.profile.loudness_db.astype(np.float16)
            meta.append(
                {
                    "id": e.id,
                    "series": e.series,
                    "intro": [e.intro.start_s, e.intro.end_s],
                    "label": [e.label.start_s, e.label.end_s],
                    "refined": e.refined,
                    "first_frame": e.first_frame,
                    "frame_rate": e.reference.profile.frame_rate,
                }
            )
        header = {
            "format": LIBRARY_FORMAT,
            "matching": self.options.settings_hash,
            "entries": meta,
            "audits": [
                {
                    "id": a.id,
                    "series": a.series,
                    "label": [a.label.start_s, a.label.end_s],
                    "audio": [a.audio.start_s, a.audio.end_s] if a.audio else None,
                    "flagged": a.flagged,
                    "reason": a.reason,
                }
                for a in self.audits
            ],
        }
        arrays["header"] = np.frombuffer(json.dumps(header, ensure_ascii=False).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        with atomic_path(Path(path)) as tmp:
            Path(tmp).write_bytes(buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike[str], options: MatchingOptions = DEFAULT_MATCHING) -> IntroLibrary:
        """A saved library; one fingerprinted with other matching options than ``options`` is refused."""
        try:
            with np.load(Path(path), allow_pickle=False) as data:
                header = json.loads(bytes(data["header"]).decode())
                if header.get("format") != LIBRARY_FORMAT:
                    raise LibraryFileError(
                        f"{path}: intro library format {header.get('format')}, expected {LIBRARY_FORMAT}"
                    )
                if header.get("matching", options.settings_hash) != options.settings_hash:
                    raise LibraryFileError(
                        f"{path}: made with other matching settings than these: build it again (library build)"
                    )
                entries = []
                for k, m in enumerate(header["entries"]):
                    rate = float(m["frame_rate"])
                    log_mel = data[f"log_mel_{k}"].astype(np.float32)
                    reference = EpisodePrint(
                        m["id"],
                        Landmarks(data[f"peaks_{k}"], rate, log_mel.shape[0]),
                        Profile(log_mel, data[f"loudness_{k}"].astype(np.float32), rate),
                        log_mel.shape[0] / rate,
                    )
                    entries.append(
                        KnownIntro(
                            m["id"],
                            m["series"],
                            Segment(*m["intro"]),
                            Segment(*m["label"]),
                            bool(m["refined"]),
                            int(m["first_frame"]),
                            reference,
                        )
                    )
                audits = [
                    LabelAudit(
                        a["id"],
                        a["series"],
                        Segment(*a["label"]),
                        Segment(*a["audio"]) if a["audio"] else None,
                        a["flagged"],
                        a["reason"],
                    )
                    for a in header.get("audits", [])
                ]
        except (OSError, ValueError, KeyError) as exc:
            raise LibraryFileError(f"{path}: not an introdetect intro library ({exc})") from None
        return cls(entries, audits, options)


PAUSE_S = 0.3
"""A quiet run this long between the audio's boundary and a label's close by is a pause between two pieces (a
network ident's decay, then the title sting a second later): the shared audio bridged them because both episodes
open alike, and the label's side of the pause is the intro. The shortest gap between an ident and a sting in the
corpora is 0.9 s; a theme's own rests inside the label's second of slack are not in question."""


def _quiet_below(loudness: np.ndarray, options: MatchingOptions) -> float:
    """The level under which an episode's sound is quiet: ``quiet_db`` under its loud frames (95th percentile)."""
    return float(np.percentile(loudness, 95)) - options.quiet_db if loudness.size else 0.0


def _after_pause(
    loudness: np.ndarray, rate: float, heard: float, said: float, side: int, quiet_below: float, slack_s: float
) -> float | None:
    """Where a boundary lies when the audio's (``heard``) reaches outward past the label's (``said``, within
    ``slack_s``) across a pause: at least PAUSE_S of quiet with loud sound on both sides. The start: where the
    sound resumes after the last such pause up to the label's (+ slack); the end: where the first such pause
    from the label's (− slack) begins. None where no pause lies there, or the audio's boundary lies inside."""
    if (heard >= said) if side == 0 else (heard <= said):
        return None
    if side == 0:
        lo, hi = max(int(heard * rate), 0), min(int(np.ceil((said + slack_s) * rate)), loudness.size)
    else:
        lo, hi = max(int((said - slack_s) * rate), 0), min(int(np.ceil(heard * rate)), loudness.size)
    runs = [
        (a, b) for a, b in quiet_runs(loudness[lo:hi], quiet_below) if b - a >= PAUSE_S * rate and a > 0 and b < hi - lo
    ]
    if not runs:
        return None
    return (lo + runs[-1][1]) / rate if side == 0 else (lo + runs[0][0]) / rate


def reconcile(
    label: Segment,
    audio: Segment,
    episode: EpisodePrint,
    options: MatchingOptions = DEFAULT_MATCHING,
    refined: RefinedLabel | None = None,
) -> tuple[Segment, bool, str]:
    """Where a label and the audio disagree, which to believe.

    Per boundary: within ``audit_tolerance_s`` the audio's (it is precise to a frame); further apart, the label's
    when what lies between the two is quiet (a fade or a soft first bar is part of an intro, yet gives the
    audio nothing to match); the audio's when it is loud (the label cuts into other sound): then the label is
    contradicted. Where the audio's boundary lies inside the label, what the partners' labels say
    (``refined``, a ``RefinedLabel``) weighs too: where they agree with this label through the alignment, the
    label stands (two annotators, one place; the shared audio falls short under speech or effects); where they
    lie at the audio's boundary, the label stands but is flagged: the others may hold a shorter version of the
    intro (that they lack a part is no evidence that this label is wrong), or this label runs on into the
    story, which two episodes cannot tell apart. A lookup hears which version a new episode holds
    (``_agreeing_references``), so a kept label that runs on does not stretch the answers.
    Returns (segment, flagged, reason)."""
    refined = refined or RefinedLabel(audio)
    rate = episode.profile.frame_rate
    loudness = episode.profile.loudness_db
    quiet_below = _quiet_below(loudness, options)
    chosen, notes, flagged = [], [], False
    for side, (name, said, heard) in enumerate(
        (("start", label.start_s, audio.start_s), ("end", label.end_s, audio.end_s))
    ):
        inside = heard > said if side == 0 else heard < said
        if abs(said - heard) <= options.audit_tolerance_s:
            paused = _after_pause(loudness, rate, heard, said, side, quiet_below, options.audit_tolerance_s)
            chosen.append(heard if paused is None else paused)
            if paused is not None:
                notes.append(
                    f"{name} at {paused:.1f} s: the audio shared before it lies across a pause (another piece)"
                )
            continue
        lo, hi = sorted((int(said * rate), int(heard * rate)))
        between = loudness[max(lo, 0) : max(hi, lo + 1)]
        away = f"{name} {said - heard:+.1f} s from the audio"
        # quiet throughout (a fade): its loud quarter still quiet; speech has pauses, but its loud quarter is not
        if between.size and float(np.percentile(between, 75)) < quiet_below:
            chosen.append(said)
            notes.append(f"{away} over quiet sound (kept)")
        elif inside and refined.partners_agree[side]:
            chosen.append(said)
            notes.append(f"{away}, where the other labelled episodes' labels {name} too (kept)")
        elif inside and refined.partners_at_audio[side]:
            chosen.append(said)
            flagged = True
            notes.append(
                f"{away} shared with the other labelled episodes, whose intros {name} there: another version of "
                "the intro, or a label that runs on (kept; check it)"
            )
        else:
            chosen.append(heard)
            flagged = True
            notes.append(f"{away}, over other sound")
    segment = Segment(chosen[0], max(chosen[1], chosen[0] + 0.1))
    return segment, flagged, "; ".join(notes) or "label agrees with the audio"


def build_library_from_prints(
    labelled: Sequence[tuple[Label, EpisodePrint, str]], options: MatchingOptions = DEFAULT_MATCHING
) -> IntroLibrary:
    """Known intros from analysed labelled episodes (label, print, series as ``grouping.series_of`` names
    it); labels refined and audited per series."""
    by_series: dict[str, list[tuple[Label, EpisodePrint]]] = defaultdict(list)
    given: dict[str, Segment] = {}  # each label as the user gave it, on the media's timeline (for the audits)
    for label, p, series in labelled:
        if label.segment is not None:
            given[label.id] = label.segment
            by_series[series].append((_in_stream_time(label, p), p))
    entries: list[KnownIntro] = []
    audits: list[LabelAudit] = []
    for series, members in sorted(by_series.items()):
        members.sort(key=lambda lp: lp[0].id)
        found = refine_labels([p for _, p in members], [lb for lb, _ in members], options)
        for (label, p), refined in zip(members, found, strict=True):
            audio, reason = refined.audio, refined.reason
            assert label.segment is not None
            if label.segment.start_s >= p.duration_s - 1.0:
                audits.append(
                    LabelAudit(
                        label.id,
                        series,
                        given[label.id],
                        None,
                        False,
                        f"intro lies beyond the analysed {p.duration_s:.0f} s: not checked, not stored",
                    )
                )
                continue
            intro, flagged = label.segment, False
            if audio is not None:
                intro, flagged, reason = reconcile(label.segment, audio, p, options, refined)
            elif len(members) >= 2:
                flagged = True
            # the audit speaks of the media's timeline, where the user gave the label
            shown = audio.shifted(p.audio_start_s) if audio is not None else None
            audits.append(LabelAudit(label.id, series, given[label.id], shown, flagged, reason))
            entries.append(_slice(p, intro, label.id, series, label.segment, audio is not None, options.margin_s))
    return IntroLibrary(entries, audits, options)


def _in_stream_time(label: Label, p: EpisodePrint) -> Label:
    """A label (on the media's timeline, as a player shows it) in the time of its episode's analysis, which
    counts from the audio stream's first sample."""
    if not p.audio_start_s or label.start_s is None or label.end_s is None:
        return label
    return replace(
        label, start_s=max(0.0, label.start_s - p.audio_start_s), end_s=max(0.0, label.end_s - p.audio_start_s)
    )
