"""The whole job: episodes → series → every detector's candidates → each episode's parts.

    result = introdetect.detect(paths)              # series from names and folders; folders are searched
    result = introdetect.detect(paths, labels=...)  # names from a label file, known intros looked up
    for d in result: d.intro, d.part(Kind.INTRO).confidence
    result.failures                                  # a Failure per file that could not be read

Each episode is decoded once (``analysis.py``), its episode detectors run beside the decode; the episodes
are grouped into series and each series detector answers the episodes left to it (``detectors/``); fusion
decides (``fusion.py``). Tasks run on this process, local processes or a Dask cluster (``runner.py``), and
an episode's analysis and a series' matching are cached by content (``cache.py``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .analysis import Analysed, analyse_many, analyse_stories, episode_keys, story_span
from .batch import assign_ids
from .cache import AnalysisCache, EpisodeKey
from .detectors import DEFAULT_MODEL, FAMILIES, Candidate, DetectorContext, build_detectors
from .detectors.base import SeriesDetector
from .errors import SettingsError
from .fusion import USES, fuse
from .grouping import SeriesNames, labelled_aliases, labelled_videos
from .known.library import IntroLibrary, build_library_from_prints
from .labels import Label, LabelSet
from .matching.confidence import ConfidenceModel
from .matching.recurring import EpisodePrint, prepare_clustering
from .matching.scoring import MotifScorer
from .matching.versions import Alignment, FrameCache, align, find_versions
from .media import episode_id, find_media
from .result import Detection, DetectResult, Failure, Kind, Method
from .runner import ProgressHook, Tracker, check_workers, executor, is_cluster, relax_worker_malloc
from .settings import (
    CLIPPED_MARGIN_S,
    EXTENDED_WINDOW_S,
    LABELLED_REACH_S,
    LATE_MARGIN_S,
    MODEL_UNSURE_BELOW,
    AudioOptions,
    MatchingOptions,
    digest,
)
from .trust import TrustMap, shipped_trust

__all__ = ["DEFAULT_MODEL", "USES", "Candidates", "candidates", "detect"]


@dataclass(frozen=True)
class Candidates:
    """What every detector said of every episode, from one decode each: per episode (in the order of the paths)
    its detection without parts (id, series, path, seconds analysed) and its candidates; the failures."""

    episodes: list[Detection]
    found: dict[str, list[Candidate]]
    failures: list[Failure] = field(default_factory=list)

    def answers(self, use: str = "fused", trust: TrustMap | None = None) -> DetectResult:
        """Each episode's parts from the detectors ``use`` names (fusion.USES): fused, matching, or model. Each
        intro candidate's confidence is first mapped by ``trust`` onto the share right on held-out material
        (None: the shipped map, ``trust.py``; ``trust.IDENTITY``: the detectors' own confidences, which the map
        is fitted on), so that fusion weighs confidences that mean the same for every detector; the fused intro's
        confidence is then mapped by the answer map of the method that decided it (``TrustMap.answer``;
        ``trust.decisions()``: without it)."""
        if use not in USES:
            raise SettingsError(f"use must be one of {', '.join(USES)}, got {use!r}")
        trust = trust if trust is not None else shipped_trust()
        detections = [
            replace(
                d, parts=tuple(trust.answer(p) for p in fuse([trust.part(c) for c in self.found.get(d.id, [])], use))
            )
            for d in self.episodes
        ]
        return DetectResult(detections, list(self.failures))


def detect(
    paths: Iterable[str | os.PathLike[str]],
    labels: LabelSet | None = None,
    series: str | None = None,
    options: AudioOptions | None = None,
    workers: int | None = None,
    progress: ProgressHook | None = None,
    scorer: MotifScorer | None = None,
    library: IntroLibrary | None = None,
    videos: Iterable[str | os.PathLike[str]] = (),
    model: str | os.PathLike[str] | None = DEFAULT_MODEL,
    use: str = "fused",
    cache: AnalysisCache | None = None,
    scheduler: Any = None,
    matching: MatchingOptions | None = None,
) -> DetectResult:
    """Find the parts of every episode in ``paths`` (files, or folders searched for media), in their order.

    ``labels`` name the episodes (their series) and, with ``videos`` (where the labelled episodes are: files
    or folders), teach the known intros; a saved ``library`` does the same without re-analysing them.
    Episodes of a known series are answered by lookup; the others by what recurs among the episodes of their
    series, and by the model. A file that cannot be read is a Failure in the result: never skipped silently.

    ``model``: the supervised model's file (DEFAULT_MODEL: the shipped one; None: none). ``use``: "fused"
    (every detector, see ``fusion.py``), "matching" (known intros and recurrence only) or "model" (the model
    alone, each episode on its own). ``cache``: an ``AnalysisCache``: unchanged episodes are not decoded again,
    unchanged series not matched again. ``scheduler``: a Dask scheduler (``tcp://HOST:PORT`` or a
    ``distributed.Client``) to run the per-episode and per-series tasks on, instead of ``workers`` local
    processes. ``progress``: a hook told of each stage's progress (``runner.RichProgress`` draws bars).
    """
    if use not in USES:
        raise SettingsError(f"use must be one of {', '.join(USES)}, got {use!r}")
    if use == "model" and model is None:
        raise SettingsError("use='model' needs a model")
    found = candidates(
        paths,
        labels,
        series,
        options,
        workers,
        progress,
        scorer,
        library,
        videos,
        model,
        families=USES[use],
        cache=cache,
        scheduler=scheduler,
        matching=matching,
    )
    return found.answers(use)


def _series_task(
    detector: SeriesDetector, name: str, prints: list[EpisodePrint], earlier: list[list[Candidate]]
) -> list[list[Candidate] | None]:
    relax_worker_malloc()
    return detector.detect_series(name, prints, earlier)


def _spans(found: list[Candidate]) -> list[tuple[str, float | None, float | None]]:
    """What of earlier candidates enters a cache key: their kinds and spans."""
    return [(str(c.kind), *((c.segment.start_s, c.segment.end_s) if c.segment else (None, None))) for c in found]


def _story_of(p: EpisodePrint) -> tuple[float, float] | None:
    """What of an episode's story enters a series' cache key: its span where it was decoded (its content follows
    from the file and the settings, already in the episode's key)."""
    return None if p.story is None else (p.story.start_s, p.story.end_s)


def _ship(pool: Executor, prints: list[EpisodePrint]) -> Any:
    """A series' prints as the task will get them: on a Dask cluster, scattered to the workers first (a season is
    10+ MB: sent inside the task graph it would go through the scheduler, which warns about it); elsewhere, as is."""
    client = is_cluster(pool)
    return prints if client is None else client.scatter(prints)


def _run_series_detector(
    detector: SeriesDetector,
    jobs: list[tuple[str, list[Path]]],
    prints: dict[Path, EpisodePrint],
    pool: Executor,
    cache: AnalysisCache | None,
    keys: dict[Path, EpisodeKey],
    progress: ProgressHook | None,
    found: dict[Path, list[Candidate]] | None = None,
) -> dict[Path, list[Candidate]]:
    """One series detector over every series' open episodes (told what earlier detectors ``found`` for them): in
    this process, or (``remote``) as a task each on ``pool``, a series whose episodes, earlier candidates and
    detector are unchanged read back from the cache."""
    out: dict[Path, list[Candidate]] = {}
    found = found or {}

    def take(members: list[Path], answers: list[list[Candidate] | None]) -> None:
        for path, found in zip(members, answers, strict=True):
            if found is not None:
                out[path] = [replace(c, family=detector.family) for c in found]

    jobs = [(name, members) for name, members in jobs if members]
    if not detector.remote:
        for name, members in jobs:
            take(
                members, detector.detect_series(name, [prints[p] for p in members], [found.get(p, []) for p in members])
            )
        return out
    tracker = Tracker(progress, detector.name, len(jobs))
    todo: dict[Any, tuple[list[Path], str | None]] = {}
    for name, members in jobs:
        key = None
        if cache is not None and all(p in keys for p in members):
            earlier = [_spans(found.get(p, [])) for p in members]
            stories = [_story_of(prints[p]) for p in members]
            key = digest("series", detector.key(), name, [keys[p].digest for p in members], earlier, stories)
            hit = cache.series(key)
            if hit is not None:
                take(members, hit)
                tracker.advance()
                continue
        given = [found.get(p, []) for p in members]
        future = pool.submit(_series_task, detector, name, _ship(pool, [prints[p] for p in members]), given)
        todo[future] = (members, key)
    for future in as_completed(todo):
        members, key = todo[future]
        answers = future.result()
        if cache is not None and key is not None:
            cache.put_series(key, answers)
        take(members, answers)
        tracker.advance()
    return out


def candidates(
    paths: Iterable[str | os.PathLike[str]],
    labels: LabelSet | None = None,
    series: str | None = None,
    options: AudioOptions | None = None,
    workers: int | None = None,
    progress: ProgressHook | None = None,
    scorer: MotifScorer | None = None,
    library: IntroLibrary | None = None,
    videos: Iterable[str | os.PathLike[str]] = (),
    model: str | os.PathLike[str] | None = DEFAULT_MODEL,
    families: Sequence[str] | None = None,
    cache: AnalysisCache | None = None,
    scheduler: Any = None,
    matching: MatchingOptions | None = None,
) -> Candidates:
    """Every detector's candidates for every episode (``detect`` fuses them): one decode per episode, whatever
    the detectors. ``families``: which detectors run ("matching", "model"; None: all); the rest as ``detect``."""
    families = tuple(FAMILIES if families is None else families)
    workers = check_workers(workers)
    options = options or AudioOptions()
    matching = matching or MatchingOptions()
    scorer = scorer or MotifScorer.load()
    confidence = ConfidenceModel.load()
    failures: list[Failure] = []
    unique = [path for _, path in assign_ids(find_media(paths), failures)]
    refs: list[Path] = []
    pairs: list = []
    names = SeriesNames(labels, series)
    if labels is not None and "matching" in families:
        pairs, _ = labelled_videos(labels, videos)
        names = SeriesNames(labels, series, labelled_aliases(pairs, labels))
        seen = {episode_id(p) for p in unique}
        refs = [v for _, v in pairs if episode_id(v) not in seen]
    if library is not None and library.options != matching:
        raise SettingsError("the library of known intros was made with other matching options than these")
    context = DetectorContext(None if model is None else str(model), library, scorer, confidence, matching)
    episode_detectors, _ = build_detectors(context, families)  # a bad model file fails here, before decoding
    keys = episode_keys(unique, options, episode_detectors, cache, matching)
    reach = _labelled_reach(pairs, refs, options)
    for window, members in reach.items():
        keys |= episode_keys(members, window, [], cache, matching)
    if len(unique) + len(refs) > 1 and "matching" in families and scheduler is None:
        prepare_clustering()  # before the local workers fork: imported once, not in each
    with executor(workers, scheduler, len(unique) + len(refs)) as pool:
        analysed = analyse_many(unique, options, pool, episode_detectors, cache, keys, progress, matching)
        for window, members in reach.items():
            more = analyse_many(members, window, pool, (), cache, keys, progress, matching, "analyse labelled")
            analysed.prints.update(more.prints)
            analysed.failures += more.failures
        if pairs:  # labelled episodes with their videos: known intros, beside the library's
            known = build_library_from_prints(
                [(label, analysed.prints[v], names.of(v)) for label, v in pairs if v in analysed.prints],
                matching,
            )
            merged = IntroLibrary([*(library.entries if library else []), *known.entries], known.audits, matching)
            context = DetectorContext(context.model, merged, scorer, confidence, matching)
        late = _late_known_series(context.library, options)
        _, series_detectors = build_detectors(context, families)
        # versions of one episode: the season is matched on one of each, the others answered through it
        copies = (
            _find_copies(unique, analysed, names, matching, cache, keys) if "matching" in families else {}
        )  # use="model": each episode on its own
        reps = [p for p in unique if p not in copies]
        found = _series_candidates(reps, analysed, names, series_detectors, pool, cache, keys, progress)
        longer = replace(options, window_s=max(options.window_s, EXTENDED_WINDOW_S))
        extended: set[Path] = set()
        # the evidence asks for more of these heads: analyse them again, longer, and match their seasons again
        # (twice at most: the siblings' intros found further on may show that more episodes' intros lie past)
        for _ in range(2):
            asked = _needs_longer_head(reps, analysed, found, names, options, late)
            further = [p for extend, _ in asked for p in extend if p not in extended]
            if not further:
                break
            # a copy is heard as far as its representative, for its answers to map
            further += [c for c, (rep, _) in copies.items() if rep in further and c not in extended]
            extended.update(further)
            keys |= episode_keys(further, longer, episode_detectors, cache, matching)
            more = analyse_many(
                further, longer, pool, episode_detectors, cache, keys, progress, matching, "analyse further"
            )
            analysed.prints.update(more.prints)  # a file that fails now keeps its first analysis
            analysed.candidates.update(more.candidates)
            seasons = [p for extend, members in asked if set(extend) & set(further) for p in members]
            found |= _series_candidates(seasons, analysed, names, series_detectors, pool, cache, keys, progress)
        # the evidence asks for the scenes recaps and previews replay: decode those seasons' stories, match again
        asked = _needs_stories(reps, analysed, found, names)
        if asked:
            stories, failed = analyse_stories(
                {p: analysed.prints[p] for p in asked}, options, pool, cache, keys, progress, matching
            )
            analysed.failures += failed
            for path, story in stories.items():
                analysed.prints[path] = replace(analysed.prints[path], story=story)
            if stories:
                _match_replays_again(asked, analysed, names, series_detectors, found, pool, cache, keys, progress)
        for copy, (rep, _) in list(copies.items()):
            if {copy, rep} & extended:  # the longer heads align further: the copy's pieces measured again
                copies[copy] = (rep, align(analysed.prints[rep], analysed.prints[copy], matching))
    return _collect(unique, analysed, found, names, failures, copies)


VERSIONS_KEY = "versions-4"
"""Version of the copy finding's rules (matching/versions.py) in its cache key: bump when they change."""


def _bytes_per_second(path: Path, p: EpisodePrint) -> float:
    """A file's size per second of its media: the better release of an episode (a 1080p over a 720p, the
    original over a re-encode) has more."""
    length = p.tail.end_s if p.tail is not None else p.end_s
    try:
        return path.stat().st_size / max(length, 1e-3)
    except OSError:
        return 0.0


def _find_copies(
    unique: list[Path],
    analysed: Analysed,
    names: SeriesNames,
    matching: MatchingOptions,
    cache: AnalysisCache | None,
    keys: dict[Path, EpisodeKey],
) -> dict[Path, tuple[Path, Alignment]]:
    """Per copy of an episode (another file of a series whose audio is the same episode, see
    ``matching/versions.py``): its representative (the file with the most bytes per second of the group) and
    how its audio aligns with the representative's. A series' answer is cached under its episodes' keys."""
    out: dict[Path, tuple[Path, Alignment]] = {}
    for members in names.group([p for p in unique if p in analysed.prints]).values():
        if len(members) < 2:
            continue
        members = sorted(members, key=lambda p: p.name)
        prints = [analysed.prints[p] for p in members]
        key = None
        if cache is not None and all(p in keys for p in members):
            key = digest("series", VERSIONS_KEY, matching.settings_hash, [keys[p].digest for p in members])
        groups = cache.series(key) if cache is not None and key is not None else None
        if groups is None:
            groups = find_versions(prints, [_bytes_per_second(p, q) for p, q in zip(members, prints)], matching)
            if cache is not None and key is not None:
                cache.put_series(key, groups)
        for group in groups:
            for alignment in group.copies:
                out[members[alignment.copy]] = (members[group.rep], alignment)
    return out


def _as_copy(
    own: list[Candidate],
    rep: list[Candidate],
    alignment: Alignment,
    prints: tuple[EpisodePrint, EpisodePrint],
) -> list[Candidate]:
    """A copy's candidates: its representative's, each kind mapped onto the copy's audio at the clock whose frames
    hold every span of that kind (``Alignment.clock_for``; ``prints``: the representative's and the copy's);
    where the copy's audio does not hold them (a recap cut from the copy, a scene it lacks), the copy's own
    candidates of that kind. The copy's own chapters stay its own."""
    frames = FrameCache()
    out = [c for c in own if c.method == Method.CHAPTER]
    for kind in Kind:
        theirs = [c for c in rep if c.kind == kind and c.method != Method.CHAPTER]
        clocks = [alignment.clock_for(c.segment, *prints, frames) if c.segment is not None else None for c in theirs]
        spans = [c.segment is not None for c in theirs]
        if theirs and all(clock is not None for clock, span in zip(clocks, spans) if span):
            # "none of this kind here" has no span: it is the representative's answer, at the main clock
            main = next(
                (clock for clock in clocks if clock is not None),
                alignment.clocks[0] if alignment.clocks else (1.0, 0.0),
            )
            out += [c.mapped(*(clock or main)) for c, clock in zip(theirs, clocks)]
        else:
            out += [c for c in own if c.kind == kind and c.method != Method.CHAPTER]
    return out


def _labelled_reach(
    pairs: Sequence[tuple[Label, Path]], refs: Sequence[Path], options: AudioOptions
) -> dict[AudioOptions, list[Path]]:
    """The labelled videos ``refs`` by the analysis that holds their labelled intro: the default window, or one
    reaching LABELLED_REACH_S past the label's end (at least EXTENDED_WINDOW_S, in whole minutes): a label past
    the window says where to listen, and a known intro cut by the window is looked up by its first bars only."""
    ends = {v: label.end_s for label, v in pairs if label.end_s is not None}
    out: dict[AudioOptions, list[Path]] = {}
    for v in refs:
        needed = ends.get(v, 0.0) + LABELLED_REACH_S
        longer = max(EXTENDED_WINDOW_S, 60.0 * math.ceil(needed / 60.0))
        window = options if needed <= options.window_s else replace(options, window_s=longer)
        out.setdefault(window, []).append(v)
    return out


def _late_known_series(library: IntroLibrary | None, options: AudioOptions) -> set[str]:
    """The series with a known intro ending within LATE_MARGIN_S of the head window's end, or past it: their new
    episodes' intros may lie past the window (``_needs_longer_head``)."""
    if library is None:
        return set()
    return {e.series for e in library.entries if e.intro.end_s > options.window_s - LATE_MARGIN_S}


def _needs_longer_head(
    unique: list[Path],
    analysed: Analysed,
    found: dict[Path, list[Candidate]],
    names: SeriesNames,
    options: AudioOptions,
    late_known: set[str],
) -> list[tuple[list[Path], list[Path]]]:
    """Per season whose evidence asks for more of some heads: (the episodes to analyse further, to
    EXTENDED_WINDOW_S; every episode of the season, to match again). A season asks when it has two or more
    episodes, matching answered it, and an intro of it starts late in the window (within LATE_MARGIN_S of its
    end) or none was found; it asks for the episodes whose intro matching did not find, or found ending at the
    window's end (CLIPPED_MARGIN_S: the theme runs on past it), and whose head window did not reach their end.
    Any episode, lone or in a season, whose model intro ends at its window's end asks for its own head too, as
    does a lone episode whose model answer is unsure (``_model_unsure``); and
    in a series of ``late_known`` (``_late_known_series``), any episode whose lookup heard none of its known
    intros or one cut by the window (``_known_asks``)."""
    if options.window_s >= EXTENDED_WINDOW_S:
        return []
    out: list[tuple[list[Path], list[Path]]] = []
    for members in names.group([p for p in unique if p in analysed.prints]).values():
        asked = set(_season_asks(members, analysed, found, options))
        if names.of(members[0]) in late_known:  # a known series whose intros lie late: not heard, or cut
            asked |= set(_known_asks(members, found, options))
        # the model's intro cut by the window (a lone episode, or one its season's matching did not ask for)
        asked |= {p for p in members if _model_clipped(analysed, p, options)}
        if len(members) == 1:  # a lone episode the model is unsure of: its intro may lie past the window
            asked |= {p for p in members if _model_unsure(analysed, found, p)}
        extend = [p for p in members if p in asked and not analysed.prints[p].reached_end]
        if extend:
            out.append((extend, members))
    return out


def _season_asks(
    members: list[Path], analysed: Analysed, found: dict[Path, list[Candidate]], options: AudioOptions
) -> list[Path]:
    """The episodes of a season whose heads its matching asks to hear further (``_needs_longer_head``)."""
    answers = {p: [c for c in found.get(p, []) if c.kind == Kind.INTRO and c.family == "matching"] for p in members}
    if len(members) < 2 or not any(answers.values()):
        return []  # a lone episode, or matching did not run (use="model")
    intros = {p: next((c.segment for c in cs if c.segment is not None), None) for p, cs in answers.items()}
    starts = [s.start_s for s in intros.values() if s is not None]
    if starts and max(starts) < options.window_s - LATE_MARGIN_S:
        return []
    clipped = options.window_s - CLIPPED_MARGIN_S
    return [p for p in members if intros[p] is None or intros[p].end_s >= clipped]


def _known_asks(members: list[Path], found: dict[Path, list[Candidate]], options: AudioOptions) -> list[Path]:
    """The episodes of a known series whose lookup heard none of its known intros, or one that the window cuts."""
    clipped = options.window_s - CLIPPED_MARGIN_S
    out = []
    for p in members:
        known = [c for c in found.get(p, []) if c.kind == Kind.INTRO and c.method == Method.KNOWN]
        if known and (known[0].segment is None or known[0].segment.end_s >= clipped):
            out.append(p)
    return out


def _model_clipped(analysed: Analysed, path: Path, options: AudioOptions) -> bool:
    """The model's intro of this episode ends within CLIPPED_MARGIN_S of its head window's end, or reaches the
    model's last window (centred half a window before it): the theme runs on past what was heard (held-out
    packages: lone episodes' 55 s themes at 7:46 answered 7:46–8:00, then refused by the matcher's correct span
    in two-episode seasons). Whether the head reached the episode's end is the caller's to check."""
    for c in analysed.candidates.get(path, []):
        if c.family == "model" and c.kind == Kind.INTRO and c.segment is not None:
            curve = c.evidence.curve
            last = curve.times()[-1] if curve is not None and curve.values else options.window_s
            return c.segment.end_s >= min(options.window_s - CLIPPED_MARGIN_S, last)
    return False


def _model_unsure(analysed: Analysed, found: dict[Path, list[Candidate]], path: Path) -> bool:
    """No series detector found this episode's intro, and the model answered "no intro" or an intro under
    MODEL_UNSURE_BELOW: the intro may lie past the head window (``IntroModel.heard_further``)."""
    if any(c.kind == Kind.INTRO and c.segment is not None for c in found.get(path, [])):
        return False
    for c in analysed.candidates.get(path, []):
        if c.family == "model" and c.kind == Kind.INTRO:
            return c.segment is None or (c.confidence or 0.0) < MODEL_UNSURE_BELOW
    return False


REPLAYED_KINDS = frozenset({Kind.RECAP, Kind.PREVIEW})
"""The parts that replay scenes of other episodes: heard in a season, they ask for its stories."""


def _needs_stories(
    unique: list[Path], analysed: Analysed, found: dict[Path, list[Candidate]], names: SeriesNames
) -> list[Path]:
    """The episodes of every season whose evidence asks for their stories (``analysis.analyse_stories``): a season
    of two or more episodes, matched (``found`` holds its series detectors' answers), where the model or the
    replays in heads and tails mark a recap or a preview in at least one episode, and some episode has a story
    between its head and tail (``story_span``). Each extra second decoded is asked for by that evidence; a
    season without recaps or previews decodes nothing more."""
    out: list[Path] = []
    for members in names.group([p for p in unique if p in analysed.prints]).values():
        if len(members) < 2 or not any(found.get(p) for p in members):
            continue
        heard = any(
            c.kind in REPLAYED_KINDS and c.segment is not None
            for p in members
            for c in (*found.get(p, []), *analysed.candidates.get(p, []))
        )
        if heard and any(story_span(analysed.prints[p]) is not None for p in members):
            out += members
    return out


def _match_replays_again(
    asked: list[Path],
    analysed: Analysed,
    names: SeriesNames,
    detectors: Sequence[SeriesDetector],
    found: dict[Path, list[Candidate]],
    pool: Executor,
    cache: AnalysisCache | None,
    keys: dict[Path, EpisodeKey],
    progress: ProgressHook | None,
) -> None:
    """The detectors of recaps and previews (the only ones that read the stories) again on the seasons of
    ``asked``, now with their stories; their answers replace the first ones in ``found`` (no series detector
    before them answers these kinds, so every episode was open to them)."""
    replaying = [d for d in detectors if d.kinds & REPLAYED_KINDS]
    jobs = [(name, sorted(members, key=lambda p: p.name)) for name, members in names.group(asked).items()]
    for detector in replaying:
        again = _run_series_detector(detector, jobs, analysed.prints, pool, cache, keys, progress, found)
        for path, given in again.items():
            kept = [c for c in found.get(path, []) if not (c.kind in detector.kinds and c.family == detector.family)]
            found[path] = [*kept, *given]


def _series_candidates(
    unique: list[Path],
    analysed: Analysed,
    names: SeriesNames,
    detectors: Sequence[SeriesDetector],
    pool: Executor,
    cache: AnalysisCache | None,
    keys: dict[Path, EpisodeKey],
    progress: ProgressHook | None,
) -> dict[Path, list[Candidate]]:
    """Each series detector in turn, on the episodes that earlier ones left open for its kinds (a detector of
    evidence only, ``answers`` False, on every episode: its candidates close no kind). Where an earlier one
    answered an episode provisionally (``Candidate.provisional``), the next hears its whole season, the closed
    episodes too, and answers the open ones."""
    groups = {
        name: sorted(members, key=lambda p: p.name)
        for name, members in names.group([p for p in unique if p in analysed.prints]).items()
    }
    found: dict[Path, list[Candidate]] = {}
    answered: dict[Path, set[Kind]] = {}
    provisional: set[Path] = set()  # answered provisionally: open to the detectors after
    for detector in detectors:
        closes = detector.answers

        def closed(p: Path, detector: SeriesDetector = detector) -> bool:
            return detector.answers and detector.kinds <= answered.get(p, set())

        jobs = []
        for name, members in groups.items():
            left = [p for p in members if not closed(p)]
            # a provisional answer: the detector hears the whole season (the closed episodes too), answers it
            jobs.append((name, members if closes and provisional & set(left) else left))
        answers = _run_series_detector(detector, jobs, analysed.prints, pool, cache, keys, progress, found)
        for path, given in answers.items():
            if closed(path):
                continue  # heard for its siblings' sake, answered already
            found.setdefault(path, []).extend(given)
            if closes:
                answered.setdefault(path, set()).update(c.kind for c in given if not c.provisional)
                provisional |= {path} if any(c.provisional for c in given) else set()
    return found


def _collect(
    unique: list[Path],
    analysed: Analysed,
    found: dict[Path, list[Candidate]],
    names: SeriesNames,
    failures: list[Failure],
    copies: dict[Path, tuple[Path, Alignment]] | None = None,
) -> Candidates:
    """Per analysed episode (in path order) its detection without parts and its candidates (a copy's: its
    representative's, mapped onto its audio); every failure (a repeated id, an unreadable file, a labelled
    video that could not be read)."""
    copies = copies or {}
    episodes, by_id = [], {}
    for path in unique:
        if path not in analysed.prints:
            continue
        vid = episode_id(path)
        head = analysed.prints[path]
        delay = head.audio_start_s  # the analysis counts from the stream's first sample: here it goes on the timeline
        length = head.file_end_s
        own = [*found.get(path, []), *analysed.candidates.get(path, [])]
        version_of = None
        if path in copies:
            rep, alignment = copies[path]
            version_of = episode_id(rep)
            theirs = [*found.get(rep, []), *analysed.candidates.get(rep, [])]
            own = _as_copy(own, theirs, alignment, (analysed.prints[rep], head))
        episodes.append(
            Detection(
                vid,
                (),
                names.of(path),
                str(path),
                head.duration_s,
                length + delay if length is not None else None,
                audio_start_s=delay,
                version_of=version_of,
                story_s=head.story.duration_s if head.story is not None else None,
            )
        )
        # the file's chapters are on the timeline; the rest counts from the stream's first sample
        by_id[vid] = [c if c.method == Method.CHAPTER else c.shifted(delay) for c in own]
    return Candidates(episodes, by_id, failures + analysed.failures)
