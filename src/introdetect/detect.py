"""The pipeline: episodes → series → fingerprints → recurring motifs → the intro of every episode.

    detections = introdetect.detect(paths)              # series from names and folders
    detections = introdetect.detect(paths, labels=...)  # names from a label file, known intros looked up

Only ``analyse_episode`` touches media (one ffmpeg decode per episode, shared by every consumer of the
spectrum); the rest works on arrays and dataclasses.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import write_json_atomic
from .cache import AnalysisCache, EpisodeKey, digest
from .features.compute import EpisodeFeatures
from .features.frames import FrameStream
from .features.stream import FeatureAccumulator, decoding_alongside
from .grouping import group_series, series_of
from .labels import LabelSet
from .library import IntroLibrary, Lookup, build_library_from_prints, labelled_videos
from .matching.confidence import AnswerFeatures, ConfidenceModel, logit
from .matching.landmarks import FFT_DOUBLE, LandmarkSink
from .matching.profile import ProfileSink
from .matching.recurring import EpisodePrint, alignment_groups, span
from .matching.refine import Refiner
from .matching.scoring import MotifScorer
from .matching.series import SeriesAnalysis, analyse_series
from .media import MediaError, stream_audio
from .model.file import ModelFileError
from .model.infer import IntroModel, ModelAnswer
from .runner import (
    BatchResult,
    _assign_ids,
    _one_line,
    _progress,
    default_workers,
    episode_id,
    executor,
    relax_worker_malloc,
)
from .settings import HOP_LENGTH, N_FFT, AudioOptions, FeatureOptions, SettingsError
from .timecode import Segment, format_timecode

MIN_INTRO_PROBABILITY = 0.5
"""A series' best motif is taken for its intro only when the scorer gives it at least even odds; below,
every episode is answered "no intro" (some series have none)."""

EMBEDDED_RATIO = 1.8
"""An episode whose instance of the intro goes on, in step with some partner, for 1.8 times the intro's typical
length holds the theme inside a longer recurring piece (a score cue quoting it), not as its opening intro.
On the corpus's validation and test splits 1.5 and 1.8 gave the same answers (one false intro fewer on test,
none lost); 1.3 began to drop genuine intros."""

END_SLACK_S = 1.0
"""Audio shorter than the window by more than this means the episode ended inside the window."""

DEFAULT_MODEL = "default"
"""``detect(model=DEFAULT_MODEL)``: the model shipped in the package (None: no model)."""

USES = ("fused", "matching", "model")
"""What answers: every detector fused (default), matching alone (known intros and recurrence), the model alone."""

METHOD_RECURRING = "recurring"
METHOD_NONE_LONE = "unmatched"


MAX_MATCHES = 3
"""Recurring motifs kept per episode as evidence (the best by the scorer's probability): the intro and the
other candidates a reviewer may want to see (end credits, a recap's music)."""


def _seconds(value: float) -> float:
    return round(float(value), 3)


def segment_json(segment: Segment | None) -> dict[str, Any]:
    """``start_sec``/``end_sec`` of a segment (None: no intro), to the millisecond, as result files hold them."""
    return {
        "start_sec": _seconds(segment.start_s) if segment else None,
        "end_sec": _seconds(segment.end_s) if segment else None,
    }


def _segment_of(row: dict[str, Any]) -> Segment | None:
    start, end = row.get("start_sec"), row.get("end_sec")
    return Segment(float(start), float(end)) if start is not None and end is not None else None


@dataclass(frozen=True)
class Match:
    """A piece of the episode heard elsewhere: in its siblings (``kind`` "recurring", ``probability`` the
    scorer's that this motif is the intro) or in a known intro of its series ("known", the lookup's confidence)."""

    segment: Segment
    partners: tuple[str, ...]
    probability: float
    kind: str = "recurring"

    def to_json(self) -> dict[str, Any]:
        return {
            **segment_json(self.segment),
            "with": list(self.partners),
            "probability": round(self.probability, 4),
            "kind": self.kind,
        }

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Match:
        segment = _segment_of(row)
        if segment is None:
            raise ValueError("a match needs start_sec and end_sec")
        return cls(
            segment,
            tuple(str(x) for x in row.get("with", [])),
            float(row.get("probability", 0.0)),
            str(row.get("kind", "recurring")),
        )


@dataclass(frozen=True)
class Curve:
    """The model's P(intro) per window (by the centre rule), at window centres ``start_s + i * step_s``."""

    start_s: float
    step_s: float
    values: tuple[float, ...]

    @classmethod
    def of(cls, answer: ModelAnswer) -> Curve:
        out = answer.outputs
        step = float(out.start_s[1] - out.start_s[0]) if len(out.start_s) > 1 else out.length_s / 2
        start = float(out.start_s[0]) + out.length_s / 2 if len(out.start_s) else out.length_s / 2
        return cls(start, step, tuple(round(float(v), 3) for v in out.intro))

    def times(self) -> np.ndarray:
        return self.start_s + self.step_s * np.arange(len(self.values))


@dataclass(frozen=True)
class Evidence:
    """What an answer rests on, kept in the result for the review page and the report: how much audio was
    analysed, what recurred, the model's curve and answer, and what matching alone answered."""

    analysed_s: float | None = None
    matches: tuple[Match, ...] = ()
    curve: Curve | None = None
    model: tuple[Segment | None, float] | None = None  # the model's answer and its confidence
    matcher: tuple[Segment | None, float | None, str] | None = None  # matching's answer, confidence, method

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.analysed_s is not None:
            out["analysed_sec"] = _seconds(self.analysed_s)
        if self.matches:
            out["matches"] = [m.to_json() for m in self.matches]
        if self.curve is not None:
            out["curve"] = {
                "start_sec": self.curve.start_s,
                "step_sec": self.curve.step_s,
                "intro_probability": list(self.curve.values),
            }
        if self.model is not None:
            out["model"] = {**segment_json(self.model[0]), "confidence": round(self.model[1], 4)}
        if self.matcher is not None:
            segment, confidence, method = self.matcher
            out["matcher"] = {
                **segment_json(segment),
                "confidence": None if confidence is None else round(confidence, 4),
                "method": method,
            }
        return out

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Evidence:
        """The inverse of ``to_json`` (ValueError/TypeError/KeyError on a malformed row)."""
        curve, model, matcher = row.get("curve"), row.get("model"), row.get("matcher")
        analysed = row.get("analysed_sec")
        return cls(
            analysed_s=None if analysed is None else float(analysed),
            matches=tuple(Match.from_json(m) for m in row.get("matches", [])),
            curve=None if curve is None else _curve_of(curve),
            model=None if model is None else (_segment_of(model), float(model["confidence"])),
            matcher=None if matcher is None else _matcher_of(matcher),
        )


def _curve_of(row: dict[str, Any]) -> Curve:
    return Curve(float(row["start_sec"]), float(row["step_sec"]), tuple(float(v) for v in row["intro_probability"]))


def _matcher_of(row: dict[str, Any]) -> tuple[Segment | None, float | None, str]:
    confidence = row.get("confidence")
    return _segment_of(row), None if confidence is None else float(confidence), str(row.get("method"))


@dataclass(frozen=True)
class Detection:
    """One episode's answer. ``intro`` None means no intro (or none found); confidence in [0, 1]."""

    id: str
    intro: Segment | None
    confidence: float | None
    method: str
    series: str | None = None
    path: str | None = None
    note: str | None = None
    evidence: Evidence | None = None

    def to_json(self) -> dict[str, Any]:
        intro = self.intro
        return {
            "start": format_timecode(intro.start_s, 1) if intro else None,
            "end": format_timecode(intro.end_s, 1) if intro else None,
            **segment_json(intro),
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "method": self.method,
            **({"series": self.series} if self.series else {}),
            **({"path": str(Path(self.path).resolve())} if self.path else {}),
            **({"note": self.note} if self.note else {}),
            **({"evidence": self.evidence.to_json()} if self.evidence else {}),
        }


# --- the media edge -----------------------------------------------------------------------------------------


class EpisodeAnalyser:
    """Collects what matching needs while audio is pushed in blocks (one FFT shared by fingerprints and profile);
    with ``features``, the model's frame features too, from the same FFT."""

    def __init__(self, sample_rate: int, features: bool = False) -> None:
        self.sample_rate = sample_rate
        self.frame_rate = sample_rate / HOP_LENGTH
        self._landmarks = LandmarkSink(self.frame_rate)
        self._profile = ProfileSink(sample_rate, N_FFT)
        self._features: FeatureAccumulator | None = None
        if features:  # the features need the FFT in float64 (see FrameStream); the fingerprints take it as it comes
            self._features = FeatureAccumulator(
                FeatureOptions(sample_rate=sample_rate), spectrum_sinks=[self._landmarks, self._profile]
            )
            self._stream = None
        else:
            self._stream = FrameStream(N_FFT, HOP_LENGTH, [self._landmarks, self._profile], double=FFT_DOUBLE)
        self.features: EpisodeFeatures | None = None

    def push(self, samples: np.ndarray) -> None:
        (self._features or self._stream).push(samples)  # type: ignore[union-attr]

    def finish(self, episode: str, window_s: float) -> EpisodePrint:
        if self._features is not None:
            self.features = self._features.finish()
            samples = self._features.samples
        else:
            self._stream.finish()  # type: ignore[union-attr]
            samples = self._stream.samples  # type: ignore[union-attr]
        duration = samples / self.sample_rate
        return EpisodePrint(
            episode,
            self._landmarks.finish(),
            self._profile.finish(self.frame_rate),
            duration,
            reached_end=duration < window_s - END_SLACK_S,
        )


def analyse_samples(samples: np.ndarray, sample_rate: int, episode: str, window_s: float = np.inf) -> EpisodePrint:
    """An EpisodePrint of decoded mono audio (the pure core of ``analyse_episode``)."""
    analyser = EpisodeAnalyser(sample_rate)
    analyser.push(samples)
    return analyser.finish(episode, window_s)


def analyse_episode(path: str | os.PathLike[str], options: AudioOptions | None = None) -> EpisodePrint:
    """Decode an episode's window once and collect its landmark peaks and frame profile."""
    return analyse_with_model(path, options, None)[0]


_MODELS: dict[str, IntroModel] = {}


def _model(source: str) -> IntroModel:
    """The model of ``source`` (a path, or DEFAULT_MODEL), loaded once per process."""
    if source not in _MODELS:
        _MODELS[source] = IntroModel.load(None if source == DEFAULT_MODEL else source)
    return _MODELS[source]


def analyse_with_model(
    path: str | os.PathLike[str], options: AudioOptions | None, model: str | None
) -> tuple[EpisodePrint, ModelAnswer | None]:
    """One decode of the episode's window: its print for matching and, with ``model``, the model's answer."""
    options = options or AudioOptions()
    analyser = EpisodeAnalyser(options.sample_rate, features=model is not None)
    with decoding_alongside():
        for block in stream_audio(path, options):
            analyser.push(block)
    vid = episode_id(path)
    result = analyser.finish(vid, options.window_s)
    if model is None or analyser.features is None:
        return result, None
    return result, _model(model).predict(analyser.features, vid)


def analysis_settings(options: AudioOptions, model: str | None) -> str:
    """A hash of everything that shapes an episode's analysis (the cache key's settings part): decoding, the
    shared spectrum, the package version, and the model file's content (with its feature settings)."""
    from . import __version__
    from .cache import digest, file_digest
    from .model.file import default_model_path

    model_hash = None if model is None else file_digest(default_model_path() if model == DEFAULT_MODEL else model)
    features = FeatureOptions(sample_rate=options.sample_rate).settings_hash if model is not None else None
    return digest("analysis", __version__, options.settings_hash, HOP_LENGTH, N_FFT, FFT_DOUBLE, features, model_hash)


def _analyse_task(path: Path, options: AudioOptions, model: str | None) -> tuple[Any, ...]:
    """One episode's analysis as a task result: ("ok", print, answer), or ("failed", one line) for a file that
    cannot be read (a result, not an exception: a cluster would retry an exception)."""
    relax_worker_malloc()
    try:
        return ("ok", *analyse_with_model(path, options, model))
    except MediaError as exc:
        return ("failed", _one_line(exc, path))


def analyse_many(
    paths: Sequence[Path],
    options: AudioOptions,
    workers: int | Executor,
    show_progress: bool,
    failed: list[tuple[str, str]],
    model: str | None = None,
    answers: dict[Path, ModelAnswer] | None = None,
    cache: AnalysisCache | None = None,
    keys: dict[Path, EpisodeKey] | None = None,
) -> dict[Path, EpisodePrint]:
    """Analyse episodes on ``workers`` (a number of local processes, or an executor: a Dask cluster's);
    failures go to ``failed`` as one line each. With ``model``, each episode's model answer goes to
    ``answers``. With ``cache`` (and each path's ``keys``), an episode analysed before with the same file and
    settings is read back instead of decoded, and a new analysis is stored."""
    prints: dict[Path, EpisodePrint] = {}
    todo: list[Path] = []
    for path in paths:
        key = keys.get(path) if keys is not None else None
        hit = cache.episode(key) if cache is not None and key is not None else None
        if hit is None:
            todo.append(path)
            continue
        prints[path], answer = hit
        if answer is not None and answers is not None:
            answers[path] = answer
    pool = contextlib.nullcontext(workers) if isinstance(workers, Executor) else executor(workers, None, len(todo))
    with pool as run, _progress(show_progress and bool(todo)) as progress:
        task = progress.add_task("analyse", total=len(todo))
        futures = {run.submit(_analyse_task, p, options, model): p for p in todo}
        for future in as_completed(futures):
            path = futures[future]
            try:
                outcome = future.result()
            except ModelFileError:
                raise  # the model, not the episode: every episode would fail the same way
            except Exception as exc:  # noqa: BLE001 - a batch goes on; the message still names the file
                outcome = ("failed", f"{path}: internal error: {type(exc).__name__}: {exc}")
            if outcome[0] == "failed":
                failed.append((str(path), outcome[1]))
            else:
                _, prints[path], answer = outcome
                if answer is not None and answers is not None:
                    answers[path] = answer
                if cache is not None and keys is not None and path in keys:
                    cache.put_episode(keys[path], (prints[path], answer))
            progress.advance(task)
    return prints


# --- one series -----------------------------------------------------------------------------------------------


def series_matches(
    prints: Sequence[EpisodePrint], analysis: SeriesAnalysis, limit: int = MAX_MATCHES
) -> list[tuple[Match, ...]]:
    """Per episode, the recurring motifs heard in it (its main region of each), best first, at most ``limit``."""
    order = np.argsort(-analysis.probabilities, kind="stable")[:limit] if analysis.motifs else []
    found: list[list[Match]] = [[] for _ in prints]
    for k in order:
        motif = analysis.motifs[int(k)]
        for e in motif.regions:
            region = motif.main_region(e)
            rate = prints[e].profile.frame_rate
            partners = tuple(sorted({prints[m.other].id for m in region.members}))
            found[e].append(
                Match(
                    Segment(region.start / rate, max(region.end, region.start + 1) / rate),
                    partners,
                    float(analysis.probabilities[int(k)]),
                )
            )
    return [tuple(m) for m in found]


def series_answers(
    prints: Sequence[EpisodePrint], scorer: MotifScorer, analysis: SeriesAnalysis | None = None
) -> list[tuple[Segment | None, AnswerFeatures]]:
    """Every episode's answer from what recurs across the series (two or more episodes), with what the
    matcher saw for it (``AnswerFeatures``, from which its confidence is computed)."""
    prints = list(prints)
    n = len(prints)
    analysis = analysis or analyse_series(prints, scorer)
    if not analysis.motifs or analysis.probabilities.max() < MIN_INTRO_PROBABILITY:
        best = float(analysis.probabilities.max()) if analysis.motifs else 0.0
        return [(None, AnswerFeatures(0.0, logit(best), 0.0, 0.0, 0.0, 0.0, math.log(n), 0.0)) for _ in prints]
    k = int(np.argmax(analysis.probabilities))
    motif, probability = analysis.motifs[k], float(analysis.probabilities[k])
    refiner = Refiner(prints)
    share = len(motif.episodes) / n
    reach = {e: max(map(span, alignment_groups(motif.main_region(e).members))) for e in motif.regions}
    typical = float(np.median([r.end - r.start for r in (motif.main_region(e) for e in motif.regions)]))
    answers: list[tuple[Segment | None, AnswerFeatures]] = []
    for e, p in enumerate(prints):
        if e not in motif.regions or (len(motif.regions) >= 3 and reach[e] > EMBEDDED_RATIO * typical):
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
        answers.append((refiner.refine(region), features))
    return answers


def detect_series(
    prints: Sequence[EpisodePrint],
    scorer: MotifScorer,
    series: str | None = None,
    confidence: ConfidenceModel | None = None,
) -> list[Detection]:
    """Every episode's intro from what recurs across the series' episodes."""
    prints = list(prints)
    if len(prints) < 2:
        return [
            Detection(
                p.id,
                None,
                None,
                METHOD_NONE_LONE,
                series,
                note="a lone episode of an unknown series cannot be matched: add its siblings or "
                "labelled episodes of its series",
            )
            for p in prints
        ]
    confidence = confidence or ConfidenceModel.load()
    analysis = analyse_series(prints, scorer)
    answers = series_answers(prints, scorer, analysis)
    matches = series_matches(prints, analysis)
    return [
        Detection(
            p.id, segment, confidence.confidence(features), METHOD_RECURRING, series, evidence=Evidence(matches=found)
        )
        for p, (segment, features), found in zip(prints, answers, matches, strict=True)
    ]


# --- the whole job ------------------------------------------------------------------------------------------

METHOD_KNOWN = "known"
METHOD_FAILED = "failed"


def detect(
    paths: Iterable[str | os.PathLike[str]],
    labels: LabelSet | None = None,
    series: str | None = None,
    options: AudioOptions | None = None,
    workers: int | None = None,
    show_progress: bool = False,
    scorer: MotifScorer | None = None,
    library: IntroLibrary | None = None,
    videos: Iterable[str | os.PathLike[str]] = (),
    model: str | os.PathLike[str] | None = DEFAULT_MODEL,
    use: str = "fused",
    cache: AnalysisCache | None = None,
    scheduler: Any = None,
) -> list[Detection]:
    """Find the intro of every episode in ``paths``, in their order.

    ``labels`` name the episodes (their series) and, with ``videos`` (where the labelled episodes are), teach
    the known intros; a saved ``library`` does the same without re-analysing them. Episodes of a known
    series are answered by lookup; the others by what recurs among the episodes of their series. A file
    that cannot be read is answered with method "failed" and the reason in ``note``: never skipped.

    ``model``: the supervised model's file (DEFAULT_MODEL: the shipped one; None: none). ``use``: "fused" (every
    detector, see ``fusion.py``), "matching" (known intros and recurrence only) or "model" (the model alone,
    each episode on its own). ``cache``: an ``AnalysisCache``: unchanged episodes are not decoded again, unchanged
    series not matched again. ``scheduler``: a Dask scheduler (``tcp://HOST:PORT`` or a ``distributed.Client``)
    to run the per-episode and per-series tasks on, instead of ``workers`` local processes.
    """
    if use not in USES:
        raise SettingsError(f"use must be one of {', '.join(USES)}, got {use!r}")
    model_source = None if model is None or use == "matching" else str(model)
    if use == "model" and model_source is None:
        raise SettingsError("use='model' needs a model")
    found = candidates(
        paths,
        labels,
        series,
        options,
        workers,
        show_progress,
        scorer,
        library,
        videos,
        model_source,
        match=use != "model",
        cache=cache,
        scheduler=scheduler,
    )
    return found.answers(use)


@dataclass(frozen=True)
class Candidates:
    """What each detector said of every episode, from one decode each: the matcher's answers (known intros,
    recurrence; failures too), in the order of the paths, and the model's answers by id."""

    matched: list[Detection]
    model: dict[str, ModelAnswer]

    def answers(self, use: str = "fused") -> list[Detection]:
        """One answer per episode: fused (see fusion.py), matching alone, or the model alone."""
        from .fusion import METHOD_MODEL, fuse

        if use == "matching" or not self.model:
            return list(self.matched)
        out = []
        for d in self.matched:
            answer = self.model.get(d.id)
            if answer is None or d.method == METHOD_FAILED:
                out.append(d)
                continue
            evidence = replace(
                d.evidence or Evidence(), curve=Curve.of(answer), model=(answer.intro, answer.confidence)
            )
            if use == "model":
                out.append(
                    replace(
                        d,
                        intro=answer.intro,
                        confidence=answer.confidence,
                        method=METHOD_MODEL,
                        note=None,
                        evidence=replace(evidence, matches=()),
                    )
                )
            else:
                matcher = None if d.method == METHOD_NONE_LONE else (d.intro, d.confidence, d.method)
                out.append(replace(fuse(d, answer), evidence=replace(evidence, matcher=matcher)))
        return out


def _known(vid: str, found: Lookup, series: str) -> Detection:
    """An answer by lookup in the series' known intros; the matched known intro is its evidence."""
    assert found.intro is not None
    match = Match(found.intro, found.references, found.confidence, kind="known")
    return Detection(
        vid,
        found.intro,
        found.confidence,
        METHOD_KNOWN,
        series,
        note="matched " + ", ".join(found.references[:3]),
        evidence=Evidence(matches=(match,)),
    )


def _keys(
    paths: Sequence[Path], options: AudioOptions, model: str | None, cache: AnalysisCache | None
) -> dict[Path, EpisodeKey]:
    """Each readable file's cache key (none without a cache; a file that cannot be read is decoded, and fails,
    as usual)."""
    if cache is None or not paths:
        return {}
    settings = analysis_settings(options, model)
    keys = {}
    for path in paths:
        with contextlib.suppress(OSError):
            keys[path] = EpisodeKey.of(path, settings)
    return keys


def _lookup(
    members: list[Path], name: str, prints: dict[Path, EpisodePrint], library: IntroLibrary | None
) -> tuple[dict[str, Detection], list[Path]]:
    """Answers by lookup in the known intros (a known series; a lone episode of an unnamed one), and the
    members left for matching."""
    answers: dict[str, Detection] = {}
    if library is None or not len(library):
        return answers, members
    unknown: list[Path] = []
    for path in members:
        vid = episode_id(path)
        if name in library.series:
            found = library.lookup(prints[path], name)
            if found is not None and found.intro is not None:
                answers[vid] = _known(vid, found, name)
            else:
                answers[vid] = Detection(
                    vid, None, 0.5, METHOD_KNOWN, name, note="none of the series' known intros is heard"
                )
            continue
        unknown.append(path)
    if len(unknown) == 1:  # a lone episode of an unnamed series: try every known intro before giving up
        found = library.lookup(prints[unknown[0]], None)
        if found is not None and found.intro is not None:
            vid = episode_id(unknown[0])
            answers[vid] = _known(vid, found, name)
            unknown = []
    return answers, unknown


def _match_series(
    jobs: list[tuple[str, list[Path]]],
    prints: dict[Path, EpisodePrint],
    scorer: MotifScorer,
    confidence: ConfidenceModel,
    pool: Executor,
    cache: AnalysisCache | None,
    keys: dict[Path, EpisodeKey],
    show_progress: bool,
) -> list[Detection]:
    """Every series matched (a task each on ``pool``); with a cache, a series whose episodes and models are
    unchanged is read back, not matched again."""
    out: list[Detection] = []
    todo: dict[Any, tuple[str, str | None]] = {}
    models = _models_digest(scorer, confidence) if cache is not None else ""
    with _progress(show_progress and len(jobs) > 1) as progress:
        task = progress.add_task("match", total=len(jobs))
        for name, members in jobs:
            if not members:
                progress.advance(task)
                continue
            key = None
            if cache is not None and all(p in keys for p in members):
                key = digest("series", name, [keys[p].digest for p in members], models)
                hit = cache.series(key)
                if hit is not None:
                    out.extend(hit)
                    progress.advance(task)
                    continue
            future = pool.submit(_series_task, _ship(pool, [prints[p] for p in members]), scorer, name, confidence)
            todo[future] = (name, key)
        for future in as_completed(todo):
            name, key = todo[future]
            found = future.result()
            if cache is not None and key is not None:
                cache.put_series(key, found)
            out.extend(found)
            progress.advance(task)
    return out


def _ship(pool: Executor, prints: list[EpisodePrint]) -> Any:
    """A series' prints as the task will get them: on a Dask cluster, scattered to the workers first (a season is
    10+ MB: sent inside the task graph it would go through the scheduler, which warns about it); elsewhere, as is."""
    client = getattr(pool, "_client", None)  # distributed's ClientExecutor
    if client is None:
        return prints
    return client.scatter(prints)


def _series_task(
    prints: list[EpisodePrint], scorer: MotifScorer, name: str, confidence: ConfidenceModel
) -> list[Detection]:
    relax_worker_malloc()
    return detect_series(prints, scorer, name, confidence)


def _models_digest(scorer: MotifScorer, confidence: ConfidenceModel) -> str:
    import hashlib
    import pickle

    return hashlib.sha256(pickle.dumps((scorer, confidence), protocol=5)).hexdigest()


def candidates(
    paths: Iterable[str | os.PathLike[str]],
    labels: LabelSet | None = None,
    series: str | None = None,
    options: AudioOptions | None = None,
    workers: int | None = None,
    show_progress: bool = False,
    scorer: MotifScorer | None = None,
    library: IntroLibrary | None = None,
    videos: Iterable[str | os.PathLike[str]] = (),
    model: str | None = DEFAULT_MODEL,
    match: bool = True,
    cache: AnalysisCache | None = None,
    scheduler: Any = None,
) -> Candidates:
    """Every detector's answer for every episode (``detect`` combines them). ``model``: its source (None: no
    model); ``match=False``: the model alone is wanted, so no matching or lookup is done. ``cache``: reuse
    (and store) episode analyses and series results (see ``cache.py``). ``scheduler``: a Dask scheduler's
    address or client: per-episode analyses and per-series matching run there (else ``workers`` local
    processes)."""
    if model is not None:
        _model(model)  # a bad model file fails here, once, before any decoding
    options = options or AudioOptions()
    scorer = scorer or MotifScorer.load()
    confidence = ConfidenceModel.load()
    workers = workers or default_workers()
    batch = BatchResult()
    unique = [path for _, path in _assign_ids(list(paths), batch)]
    failed = batch.failed
    seen = {episode_id(p): p for p in unique}
    references: list[Path] = []
    pairs: list = []
    if labels is not None and videos and match:
        pairs, _ = labelled_videos(labels, [Path(v) for v in videos])
        references = [v for _, v in pairs if episode_id(v) not in seen]
    keys = _keys(unique, options, model, cache) | _keys(references, options, None, cache)
    model_answers: dict[Path, ModelAnswer] = {}
    with executor(workers, scheduler, len(unique) + len(references)) as pool:
        prints = analyse_many(unique, options, pool, show_progress, failed, model, model_answers, cache, keys)
        if references:
            prints.update(analyse_many(references, options, pool, show_progress, failed, None, None, cache, keys))
        if pairs:
            known = build_library_from_prints(
                [(label, prints[v], series_of(v, labels)) for label, v in pairs if v in prints]
            )
            library = IntroLibrary([*(library.entries if library else []), *known.entries], known.audits)
        answers: dict[str, Detection] = {}
        to_match: list[tuple[str, list[Path]]] = []
        groups = group_series([p for p in unique if p in prints], labels, series)
        for name, members in groups.items():
            members = sorted(members, key=lambda p: p.name)
            if not match:  # placeholders that the model's answers replace
                answers.update(
                    (episode_id(p), Detection(episode_id(p), None, None, METHOD_NONE_LONE, name)) for p in members
                )
                continue
            known_answers, unknown = _lookup(members, name, prints, library)
            answers.update(known_answers)
            to_match.append((name, unknown))
        for det in _match_series(to_match, prints, scorer, confidence, pool, cache, keys, show_progress):
            answers[det.id] = det
    for path_text, message in failed:
        vid = episode_id(path_text)
        if vid in seen and seen[vid] == Path(path_text):
            answers[vid] = Detection(vid, None, None, METHOD_FAILED, None, path_text, note=message)
    result = []
    for path in unique:
        d = answers.get(episode_id(path))
        if d is not None:
            evidence = replace(d.evidence or Evidence(), analysed_s=prints[path].duration_s) if path in prints else None
            result.append(replace(d, path=str(path), evidence=evidence))
    # failures of files outside the answered ones (a repeated id, a labelled video) are listed too
    for path_text, message in failed:
        if Path(path_text) not in unique:
            result.append(Detection(episode_id(path_text), None, None, METHOD_FAILED, None, path_text, note=message))
    return Candidates(result, {episode_id(p): a for p, a in model_answers.items()})


def write_detections(path: str | os.PathLike[str], detections: Iterable[Detection]) -> None:
    """The label format keyed by id, with exact seconds, confidence and method (written atomically).
    Failed files are left out: they have no answer (the CLI lists them)."""
    write_json_atomic(Path(path), {d.id: d.to_json() for d in detections if d.method != METHOD_FAILED})


def read_detections(path: str | os.PathLike[str]) -> list[Detection]:
    """A result file of ``write_detections`` (or any file in the label format: the answers without evidence),
    in file order. A row that cannot be read is a PredictionError naming the file and the id."""
    from .labels import shown
    from .metrics import PredictionError, read_answer_rows

    out = []
    for vid, row, answer in read_answer_rows(path):
        try:
            evidence = Evidence.from_json(row["evidence"]) if isinstance(row.get("evidence"), dict) else None
        except (ValueError, TypeError, KeyError) as exc:
            raise PredictionError(f"{path}: {shown(vid)}: evidence: {exc}") from None
        text = {k: row[k] if isinstance(row.get(k), str) else None for k in ("series", "path", "note")}
        out.append(
            Detection(
                vid,
                answer.intro,
                answer.confidence,
                answer.method or "label",
                text["series"],
                text["path"],
                text["note"],
                evidence,
            )
        )
    return out
