"""One decode of an episode → what every detector needs of it: its print (landmark peaks and frame profile,
for matching) and, when a detector asks, the model's frame features, all from one FFT.

``analyse_many`` runs that per episode as a task (on this process, local processes or a Dask cluster), runs
the episode detectors on the result inside the task (the features never travel), and reads back or stores
each episode's outcome in the analysis cache, keyed by the file and by everything that shapes it.
``analyse_stories`` decodes, where a season's evidence asks, what lies between an episode's head and tail (its
story: fingerprints only), for the scenes recaps and previews replay; cached beside the analyses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import __version__
from .cache import AnalysisCache, EpisodeKey
from .errors import MediaError, ModelFileError
from .features.episode import EpisodeFeatures
from .features.frames import FrameStream
from .features.stream import FeatureAccumulator, decoding_alongside
from .matching.landmarks import LandmarkSink
from .matching.profile import ProfileSink
from .matching.recurring import EpisodePrint
from .media import MediaInfo, choose_language, episode_id, stream_audio
from .result import Failure
from .runner import ProgressHook, Tracker, one_line, relax_worker_malloc
from .settings import (
    DEFAULT_MATCHING,
    HOP_LENGTH,
    N_FFT,
    TAIL_MAX_SHARE,
    AudioOptions,
    FeatureOptions,
    MatchingOptions,
    digest,
)

if TYPE_CHECKING:
    from .detectors.base import Candidate, EpisodeDetector


@dataclass(frozen=True)
class EpisodeAnalysis:
    """One episode's decode, analysed: its print for matching and (when asked for) its frame features."""

    print: EpisodePrint
    features: EpisodeFeatures | None = None
    path: str | None = None  # the media file, for a detector that reads more of it (its tags)
    tail_features: EpisodeFeatures | None = None
    """The frame features of the tail (``print.tail``), when a detector asks (``needs_tail_features``); they begin
    where the tail's print does (``tail_start_s``)."""
    chapters: tuple[tuple[float, float, str], ...] = ()  # the file's chapters (start s, end s, title)

    @property
    def id(self) -> str:
        return self.print.id

    @property
    def tail_start_s(self) -> float:
        """Where the tail (its print, its features) begins in the episode's (stream) time; 0 without one."""
        return self.print.tail.start_s if self.print.tail is not None else 0.0


class EpisodeAnalyser:
    """Collects what matching needs while audio is pushed in blocks (one FFT shared by fingerprints and profile);
    with ``features``, the model's frame features too, from the same FFT."""

    def __init__(
        self,
        sample_rate: int,
        features: bool = False,
        matching: MatchingOptions = DEFAULT_MATCHING,
        mel: bool = True,
    ) -> None:
        """``mel`` False: the print's profile holds the frames' loudness alone (``ProfileSink``)."""
        self.sample_rate = sample_rate
        self.frame_rate = sample_rate / HOP_LENGTH
        self.matching = matching
        self._landmarks = LandmarkSink(self.frame_rate, matching)
        self._profile = ProfileSink(sample_rate, N_FFT, matching.profile_bands, mel=mel)
        self._features: FeatureAccumulator | None = None
        self._stream: FrameStream | None = None
        if features:  # the features need the FFT in float64 (see FrameStream); the fingerprints take it as it comes
            self._features = FeatureAccumulator(
                FeatureOptions(sample_rate=sample_rate), spectrum_sinks=[self._landmarks, self._profile]
            )
        else:
            self._stream = FrameStream(N_FFT, HOP_LENGTH, [self._landmarks, self._profile], double=matching.fft_double)

    def push(self, samples: np.ndarray) -> None:
        if self._features is not None:
            self._features.push(samples)
        else:
            assert self._stream is not None
            self._stream.push(samples)

    def finish(self, episode: str, window_s: float) -> EpisodeAnalysis:
        features = None
        if self._features is not None:
            features = self._features.finish()
            samples = self._features.samples
        else:
            assert self._stream is not None
            self._stream.finish()
            samples = self._stream.samples
        duration = samples / self.sample_rate
        episode_print = EpisodePrint(
            episode,
            self._landmarks.finish(),
            self._profile.finish(self.frame_rate),
            duration,
            reached_end=duration < window_s - self.matching.end_slack_s,
        )
        return EpisodeAnalysis(episode_print, features)


def analyse_samples(
    samples: np.ndarray,
    sample_rate: int,
    episode: str,
    window_s: float = np.inf,
    matching: MatchingOptions = DEFAULT_MATCHING,
) -> EpisodePrint:
    """The print of decoded mono audio (the pure core of ``analyse_episode``)."""
    analyser = EpisodeAnalyser(sample_rate, matching=matching)
    analyser.push(samples)
    return analyser.finish(episode, window_s).print


def analyse_episode(
    path: str | os.PathLike[str],
    options: AudioOptions | None = None,
    features: bool = False,
    matching: MatchingOptions = DEFAULT_MATCHING,
    tail_features: bool = False,
) -> EpisodeAnalysis:
    """Decode an episode's window once: its print and, with ``features``, its frame features; and its tail
    (``options.tail_s``), taken from the head where the episode ended inside it, else decoded by a seek from
    the end (with ``tail_features``, the tail's frame features too: cut from the head's where the head holds it
    and ``features`` were computed, else from the tail's own decode). Both in the stream's own
    time (0: its first sample, ``EpisodePrint.audio_start_s`` on the media's timeline), so that a delayed release
    is analysed as its undelayed copy; the pipeline adds the delay to every answer."""
    options = options or AudioOptions()
    analyser = EpisodeAnalyser(options.sample_rate, features, matching)
    infos: list[MediaInfo] = []
    # ffmpeg's window counts from the container's start; the analysis's, from the stream's first sample: decode a
    # little more and keep ``window_s`` of the stream, so that a delayed stream's window is its undelayed copy's
    wanted = int(round(options.window_s * options.sample_rate))
    pushed = 0
    with decoding_alongside():
        decode = replace(options, window_s=options.window_s + HEAD_MARGIN_S)
        for block in stream_audio(path, decode, on_info=infos.append, timeline=False):
            block = block[: max(0, wanted - pushed)]
            if block.size:
                analyser.push(block)
                pushed += block.size
        analysis = analyser.finish(episode_id(path), options.window_s)
        head, info = analysis.print, infos[0] if infos else None
        tail = None
        tail_frames: EpisodeFeatures | None = None
        if head.reached_end:
            length = tail_length_s(options, head.duration_s)
            tail = head.after(head.duration_s - length) if length > 0 else None
            if tail is not None and tail_features and analysis.features is not None:
                tail_frames = analysis.features.after(tail.start_s - head.start_s)[0]
        elif info is not None and info.duration_s is not None and tail_length_s(options, info.duration_s) > 0:
            tail, tail_frames = _decode_tail(path, options, matching, info, tail_features)
    chapters = info.chapters if info is not None else ()  # on the timeline: their detector's answers stay there
    start = info.audio_start_s if info is not None and info.audio_start_s is not None else 0.0
    head = replace(head, tail=tail, audio_start_s=start)
    return replace(analysis, print=head, path=str(path), chapters=chapters, tail_features=tail_frames)


def tail_length_s(options: AudioOptions, media_s: float) -> float:
    """Seconds of an episode of ``media_s`` analysed as its tail: ``options.tail_s``, at most its last third."""
    return max(0.0, min(options.tail_s, TAIL_MAX_SHARE * media_s))


HEAD_MARGIN_S = 10.0
"""s decoded past the head's window: the window is then counted from the audio stream's first sample, not from
the container's start (a stream delayed by a few seconds would otherwise lose them at the window's end)."""

TAIL_MARGIN_S = 10.0
"""s decoded before the tail: the tail is then cut to end where the audio ends, not where the container does (a
video track outlasting a delayed audio stream, or the reverse, by a few seconds), so that a delay does not move
the tail's window. 10 s covers the delays of remuxes (a few seconds) for 6 % more of a 180 s tail's decode."""


def _decode_tail(
    path: str | os.PathLike[str], options: AudioOptions, matching: MatchingOptions, head: MediaInfo, features: bool
) -> tuple[EpisodePrint, EpisodeFeatures | None]:
    """The print of the file's tail (``tail_length_s``), in the stream's time as the head is, ending where the
    stream ends. ffmpeg's seek from the end lands on the presentation timeline at the container's length less
    what is asked (the tail and ``TAIL_MARGIN_S``; the decode keeps it there), which is that less the stream's
    delay in its own time; the print is then cut to its last ``tail_length_s`` on the head's frame grid. The
    stream is the one the head's decode chose (a language is resolved from the head's log, not by a second
    ffprobe run). With ``features``, the frame features of the same tail (from the same FFT), else None."""
    assert head.duration_s is not None
    delay = head.audio_start_s or 0.0
    want = tail_length_s(options, head.duration_s)
    # the tail starts on the head's frame grid (a whole number of hops from the stream's first sample): its
    # frames are those a longer head would have had, whatever the container's length or the stream's delay
    hop_s = HOP_LENGTH / options.sample_rate
    first = np.ceil((head.duration_s - want - TAIL_MARGIN_S - max(delay, 0.0)) / hop_s - 1e-6)
    start = max(0.0, float(first * hop_s))  # in the stream's time; on the timeline, start + delay
    length = head.duration_s - delay - start
    options = replace(options, tail_s=length)
    if options.language is not None:
        options = replace(options, stream=choose_language(head, options.language).audio_index, language=None)
    analyser = EpisodeAnalyser(options.sample_rate, features, matching=matching)
    try:
        for block in stream_audio(path, options, tail=True):
            analyser.push(block)
    except MediaError as exc:
        raise MediaError(path, f"its last {want:g} s: {exc.problem}") from None
    decoded = analyser.finish(episode_id(path), np.inf)
    tail = replace(decoded.print, start_s=start, reached_end=True)
    cut = np.ceil((tail.end_s - want) / hop_s - 1e-6) * hop_s  # the last ``want`` s of the stream, on the grid
    frames = decoded.features
    if cut > tail.start_s:
        tail = replace(tail.after(float(cut)), reached_end=True)
        frames = frames.after(float(cut) - start)[0] if frames is not None else None
    return tail, frames


STORY_MIN_S = 30.0
"""The shortest stretch between an episode's head and its tail worth decoding as its story (s): less holds a
scene or two, and a second ffmpeg run costs more than what it could add."""


def story_span(head: EpisodePrint) -> tuple[float, float] | None:
    """Where an episode's story lies between its analysed head and tail (s of the stream's time), or None where
    the head reached the end, no tail was taken, or less than STORY_MIN_S lies between."""
    if head.reached_end or head.tail is None or head.tail.start_s - head.end_s < STORY_MIN_S:
        return None
    return head.end_s, head.tail.start_s


def analyse_story(
    path: str | os.PathLike[str],
    span: tuple[float, float],
    audio_start_s: float,
    options: AudioOptions,
    matching: MatchingOptions = DEFAULT_MATCHING,
) -> EpisodePrint:
    """The print of an episode's story (``story_span`` of its head), decoded by a seek: the scenes a season's
    recaps and previews replay (``detectors.replay``). Its fingerprints and frame loudness only: a story is
    matched against, never refined or summarised, and its log-mel frames would be 20 times the rest (10 MB for
    45 minutes); no features. In the stream's time as the head is (``audio_start_s``, the head's, places it on
    the timeline)."""
    start, end = span
    decode = replace(options, window_s=end - start)  # a language is resolved as a head's is (``stream_map``)
    analyser = EpisodeAnalyser(options.sample_rate, matching=matching, mel=False)
    try:
        with decoding_alongside():
            for block in stream_audio(path, decode, seek_s=start + audio_start_s):
                analyser.push(block)
    except MediaError as exc:
        raise MediaError(path, f"its story ({start:g}-{end:g} s): {exc.problem}") from None
    # it never holds the file's end (the tail does): a stretch heard at the same distance from the story's end as
    # from another episode's end is no structure of the season (``detectors.replay``: a preview's scene was
    # taken for one, 2026-12-03)
    return replace(analyser.finish(episode_id(path), np.inf).print, start_s=start, reached_end=False)


def _story_task(
    path: Path, span: tuple[float, float], audio_start_s: float, options: AudioOptions, matching: MatchingOptions
) -> tuple[Any, ...]:
    """One episode's story as a task result: ("ok", print) or ("failed", one line)."""
    relax_worker_malloc()
    try:
        return ("ok", analyse_story(path, span, audio_start_s, options, matching))
    except MediaError as exc:
        return ("failed", one_line(exc, path))


STORY_KEY = "story-3"
"""Version of the story's decode in its cache key (with the episode's own key and the span). 3: a story no
longer reaches the file's end (``reached_end``)."""


def analyse_stories(
    heads: dict[Path, EpisodePrint],
    options: AudioOptions,
    pool: Executor,
    cache: AnalysisCache | None = None,
    keys: dict[Path, EpisodeKey] | None = None,
    progress: ProgressHook | None = None,
    matching: MatchingOptions = DEFAULT_MATCHING,
) -> tuple[dict[Path, EpisodePrint], list[Failure]]:
    """The stories (``analyse_story``) of the episodes of ``heads`` that have one (``story_span``), on ``pool``,
    read back from or stored in the cache beside their analyses (``keys``, see ``episode_keys``). A file that
    fails now is a Failure: its head and tail still answer."""
    keys = keys or {}
    out: dict[Path, EpisodePrint] = {}
    failures: list[Failure] = []
    todo: dict[Path, tuple[tuple[float, float], str | None]] = {}
    for path, head in heads.items():
        span = story_span(head)
        if span is None:
            continue
        key = digest(STORY_KEY, keys[path].digest, span) if cache is not None and path in keys else None
        hit = cache.story(key) if cache is not None and key is not None else None
        if hit is not None:
            out[path] = hit
        else:
            todo[path] = (span, key)
    tracker = Tracker(progress, "analyse stories", len(todo))
    futures = {
        pool.submit(_story_task, path, span, heads[path].audio_start_s, options, matching): path
        for path, (span, _) in todo.items()
    }
    for path, outcome in _outcomes(futures, tracker):
        if outcome[0] == "failed":
            failures.append(Failure(str(path), outcome[1]))
        else:
            out[path] = outcome[1]
            key = todo[path][1]
            if cache is not None and key is not None:
                cache.put_story(key, outcome[1])
    return out, failures


ANALYSIS_TIME = "stream"
"""What an analysis's times count from: the chosen stream's first sample (its delay on the media's timeline
recorded beside it), not the timeline itself as extracted audio does. In the analysis key: analyses whose
times counted otherwise are made again."""


def analysis_key(
    options: AudioOptions, detectors: Sequence[EpisodeDetector] = (), matching: MatchingOptions = DEFAULT_MATCHING
) -> str:
    """A digest of everything that shapes an episode's analysis (the settings part of its cache key): the
    package version, decoding, the shared spectrum, the matching options that shape a print
    (``MatchingOptions.print_hash``), and each episode detector's own key (a model's file content and feature
    settings)."""
    needs = any(d.needs_features for d in detectors)
    features = FeatureOptions(sample_rate=options.sample_rate).settings_hash if needs else None
    tail_features = any(d.needs_tail_features for d in detectors)
    return digest(
        "analysis",
        ANALYSIS_TIME,
        HEAD_MARGIN_S,
        TAIL_MARGIN_S,
        __version__,
        options.settings_hash,
        options.tail_s,
        TAIL_MAX_SHARE,
        HOP_LENGTH,
        N_FFT,
        matching.print_hash,
        features,
        *(("tail features",) if tail_features else ()),
        [d.key() for d in detectors],
    )


def _analyse_task(
    path: Path, options: AudioOptions, detectors: Sequence[EpisodeDetector], matching: MatchingOptions
) -> tuple[Any, ...]:
    """One episode's analysis as a task result: ("ok", print, candidates), or ("failed", one line) for a file
    that cannot be read (a result, not an exception: a cluster would retry an exception)."""
    relax_worker_malloc()
    try:
        analysis = analyse_episode(
            path,
            options,
            any(d.needs_features for d in detectors),
            matching,
            any(d.needs_tail_features for d in detectors),
        )
    except MediaError as exc:
        return ("failed", one_line(exc, path))
    found = [replace(c, family=d.family) for d in detectors for c in d.detect(analysis)]
    return ("ok", analysis.print, found)


@dataclass
class Analysed:
    """``analyse_many``'s outcome: each readable episode's print and its episode detectors' candidates, and a
    Failure per file that could not be read."""

    prints: dict[Path, EpisodePrint] = field(default_factory=dict)
    candidates: dict[Path, list[Candidate]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)


def episode_keys(
    paths: Sequence[Path],
    options: AudioOptions,
    detectors: Sequence[EpisodeDetector],
    cache: AnalysisCache | None,
    matching: MatchingOptions = DEFAULT_MATCHING,
) -> dict[Path, EpisodeKey]:
    """Each readable file's cache key (none without a cache; a file that cannot be read is decoded, and fails,
    as usual)."""
    if cache is None or not paths:
        return {}
    settings = analysis_key(options, detectors, matching)
    keys = {}
    for path in paths:
        try:
            keys[path] = EpisodeKey.of(path, settings)
        except OSError:
            continue
    return keys


def _outcomes(futures: dict[Any, Path], tracker: Tracker) -> Iterator[tuple[Path, tuple[Any, ...]]]:
    """Each task's (path, outcome) as it finishes (``_analyse_task``, ``_story_task``: ("ok", …) or ("failed",
    one line)); an exception in a task is that file's failure, the model file's aside (every episode would fail
    the same way); the tracker told of each."""
    for future in as_completed(futures):
        path = futures[future]
        try:
            outcome = future.result()
        except ModelFileError:
            raise
        except Exception as exc:  # noqa: BLE001 - a batch goes on; the message still names the file
            outcome = ("failed", f"{path}: internal error: {type(exc).__name__}: {exc}")
        yield path, outcome
        tracker.advance()


def analyse_many(
    paths: Sequence[Path],
    options: AudioOptions,
    pool: Executor,
    detectors: Sequence[EpisodeDetector] = (),
    cache: AnalysisCache | None = None,
    keys: dict[Path, EpisodeKey] | None = None,
    progress: ProgressHook | None = None,
    matching: MatchingOptions = DEFAULT_MATCHING,
    stage: str = "analyse",
) -> Analysed:
    """Analyse episodes on ``pool``, each with the episode ``detectors``. With ``cache`` (and each path's
    ``keys``, see ``episode_keys``), an episode analysed before with the same file and settings is read back
    instead of decoded, and a new analysis is stored. ``stage``: the name ``progress`` is told."""
    out = Analysed()
    keys = keys or {}
    todo: list[Path] = []
    for path in paths:
        key = keys.get(path)
        hit = cache.episode(key) if cache is not None and key is not None else None
        if hit is None:
            todo.append(path)
            continue
        out.prints[path], out.candidates[path] = hit
    tracker = Tracker(progress, stage, len(todo))
    futures = {pool.submit(_analyse_task, p, options, detectors, matching): p for p in todo}
    for path, outcome in _outcomes(futures, tracker):
        if outcome[0] == "failed":
            out.failures.append(Failure(str(path), outcome[1]))
        else:
            _, out.prints[path], out.candidates[path] = outcome
            if cache is not None and path in keys:
                cache.put_episode(keys[path], (out.prints[path], out.candidates[path]))
    return out
