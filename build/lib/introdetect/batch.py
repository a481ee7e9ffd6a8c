"""Folders of per-episode outputs (``extract``, ``features``): parallel, resumable, with progress and a failure list.

A batch never stops at a bad file: each failure is kept as one line naming the file, and the caller prints
them all at the end. Outputs are written atomically and recorded in the folder's manifest as each episode
finishes, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .atomic import sweep_parts
from .errors import FeatureFileError, MediaError, SettingsError
from .features.compute import compute_features
from .features.episode import EpisodeFeatures, row_names
from .features.store import save_features
from .features.stream import FeatureAccumulator, decoding_alongside
from .manifest import Manifest, ManifestError, SourceStamp
from .media import MEDIA_SUFFIXES, episode_id, extract_audio, find_media, load_audio, stream_audio
from .result import Failure
from .runner import ProgressHook, Tracker, check_workers, one_line, process_pool
from .settings import AudioOptions, FeatureOptions

MANIFEST_FLUSH_S = 1.0
"""Finished entries are merged into the manifest at most once a second: per-episode resume granularity
without rewriting a large manifest for every one of thousands of episodes."""


@dataclass
class BatchResult:
    """What a batch did: ids done, ids already up to date, and a Failure per file that failed."""

    done: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def assign_ids(paths: Sequence[str | os.PathLike[str]], failed: list[Failure]) -> list[tuple[str, Path]]:
    """(id, path) of each file; a file whose id another file already has is a failure (ids must be unique)."""
    seen: dict[str, Path] = {}
    items: list[tuple[str, Path]] = []
    for raw in paths:
        path = Path(raw)
        vid = episode_id(path)
        if vid in seen:
            failed.append(
                Failure(str(path), f"{path}: episode id {vid!r} already used by {seen[vid]}; rename one file")
            )
            continue
        seen[vid] = path
        items.append((vid, path))
    return items


def _run(
    items: list[tuple[str, Path]],
    work: Callable[..., dict[str, Any]],
    args: tuple[Any, ...],
    manifests: dict[str, Manifest],
    result: BatchResult,
    workers: int,
    use_processes: bool,
    description: str,
    progress: ProgressHook | None,
    item_args: dict[str, tuple[Any, ...]] | None = None,
) -> None:
    """Run ``work(vid, path, *args, *item_args[vid])`` over ``items``; it returns {manifest kind: entry}."""
    pool: Executor
    pool = process_pool(workers) if use_processes and workers > 1 else ThreadPoolExecutor(workers)
    pending: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in manifests}

    def flush() -> None:
        for kind, entries in pending.items():
            manifests[kind].update(entries)
            entries.clear()

    last_flush = time.monotonic()
    tracker = Tracker(progress, description, len(items))
    with pool:
        futures: dict[Future[dict[str, Any]], tuple[str, Path]] = {
            pool.submit(work, vid, path, *args, *(item_args or {}).get(vid, ())): (vid, path) for vid, path in items
        }
        try:
            for future in as_completed(futures):
                vid, path = futures[future]
                try:
                    for kind, entry in future.result().items():
                        pending[kind][vid] = entry
                    result.done.append(vid)
                except (MediaError, FeatureFileError, ValueError, OSError) as exc:
                    result.failed.append(Failure(str(path), one_line(exc, path)))
                except Exception as exc:  # noqa: BLE001 - a batch goes on; the message still names the file
                    result.failed.append(Failure(str(path), f"{path}: internal error: {type(exc).__name__}: {exc}"))
                tracker.advance()
                if time.monotonic() - last_flush >= MANIFEST_FLUSH_S:
                    flush()
                    last_flush = time.monotonic()
        finally:
            flush()


def extract_one(
    vid: str,
    video: Path,
    out_dir: Path,
    options: AudioOptions,
    features_dir: Path | None,
    feature_options: FeatureOptions,
) -> dict[str, dict[str, Any]]:
    """One video's window to ``out_dir/<vid>.wav`` (and its features, with ``features_dir``); returns its
    manifest entries by kind. A batch's unit of work (the benchmarks time it alone)."""
    out_path = out_dir / f"{vid}.wav"
    stamp = SourceStamp.of(video)
    accumulator = FeatureAccumulator(feature_options) if features_dir is not None else None
    sinks = [accumulator.push] if accumulator is not None else []
    with decoding_alongside():
        extracted = extract_audio(video, out_path, options, sinks=sinks)
    entries: dict[str, dict[str, Any]] = {
        "audio": {
            "video": str(video.resolve()),
            "audio": out_path.name,
            "duration_s": round(extracted.duration_s, 6),
            "source_duration_s": extracted.source_duration_s,
            "sample_rate": options.sample_rate,
            "window_s": options.window_s,
            "stream": {
                "index": extracted.stream.index,
                "codec": extracted.stream.codec,
                "channels": extracted.stream.channels,
                "language": extracted.stream.language,
            },
            "settings_hash": options.settings_hash,
            "source_size": stamp.size,
            "source_mtime_ns": stamp.mtime_ns,
        }
    }
    if accumulator is not None and features_dir is not None:
        features = accumulator.finish()
        # the features' source is the WAV just written: `features` on that folder then finds them up to date
        entries["features"] = _store_features(
            vid, features, features_dir, feature_options, options, video=str(video.resolve()), audio=out_path.resolve()
        )
    return entries


def extract_many(
    videos: Iterable[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    options: AudioOptions | None = None,
    workers: int | None = None,
    force: bool = False,
    progress: ProgressHook | None = None,
    features_dir: str | os.PathLike[str] | None = None,
    feature_options: FeatureOptions | None = None,
) -> BatchResult:
    """Decode the analysis window of every video to ``out_dir/<id>.wav`` and record it in mapping.json.

    ``videos``: files, or folders searched for media. With ``features_dir``, features are computed from the
    same decode, while it runs, into that folder.
    """
    workers = check_workers(workers)
    videos = find_media(videos)
    options = options or AudioOptions()
    feature_options = feature_options or FeatureOptions(sample_rate=options.sample_rate)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sweep_parts(out_dir)
    manifest = Manifest(out_dir, "audio")
    manifests = {"audio": manifest}
    feature_manifest = None
    if features_dir is not None:
        features_dir = Path(features_dir)
        features_dir.mkdir(parents=True, exist_ok=True)
        sweep_parts(features_dir)
        feature_manifest = Manifest(features_dir, "features")
        manifests["features"] = feature_manifest
    result = BatchResult()
    entries = _load_manifest(manifest, result)
    feature_entries = _load_manifest(feature_manifest, result) if feature_manifest else {}
    feature_hash = _features_hash(feature_options, options)

    def current(vid: str, stamp: SourceStamp) -> bool:
        if not manifest.is_current(entries.get(vid), "audio", options.settings_hash, stamp):
            return False
        if feature_manifest is None:
            return True
        wav_stamp = SourceStamp.of(out_dir / f"{vid}.wav")
        return feature_manifest.is_current(feature_entries.get(vid), "features", feature_hash, wav_stamp)

    todo = _plan(videos, result, current, force)
    _run(
        todo,
        extract_one,
        (out_dir, options, features_dir, feature_options),
        manifests,
        result,
        workers,
        False,
        "extract",
        progress,
    )
    return result


def _plan(
    paths: Iterable[str | os.PathLike[str]],
    result: BatchResult,
    is_current: Callable[[str, SourceStamp], bool],
    force: bool,
) -> list[tuple[str, Path]]:
    """The (id, path) pairs that need work; up-to-date ones and missing files go into ``result``."""
    todo: list[tuple[str, Path]] = []
    for vid, path in assign_ids(list(paths), result.failed):
        try:
            stamp = SourceStamp.of(path)
        except OSError:
            result.failed.append(Failure(str(path), f"{path}: no such file"))
            continue
        if not force and is_current(vid, stamp):
            result.up_to_date.append(vid)
        else:
            todo.append((vid, path))
    return todo


def _load_manifest(manifest: Manifest, result: BatchResult) -> dict[str, dict[str, Any]]:
    try:
        return manifest.load()
    except ManifestError as exc:
        result.failed.append(Failure(str(manifest.path), str(exc)))
        return {}


def _videos_of(paths: list[tuple[str, Path]]) -> dict[str, str | None]:
    """The video behind each audio file, from its folder's manifest (each folder's read once)."""
    manifests: dict[Path, dict[str, dict[str, Any]]] = {}
    videos: dict[str, str | None] = {}
    for vid, audio in paths:
        folder = audio.parent
        if folder not in manifests:
            try:
                manifests[folder] = Manifest(folder, "audio").load()
            except ManifestError:
                manifests[folder] = {}
        entry = manifests[folder].get(audio.stem, {})
        videos[vid] = entry.get("video") or (None if audio.suffix.lower() == ".wav" else str(audio.resolve()))
    return videos


def _store_features(
    vid: str,
    features: EpisodeFeatures,
    out_dir: Path,
    options: FeatureOptions,
    audio_options: AudioOptions,
    video: str | None,
    audio: Path,
) -> dict[str, Any]:
    """Save one episode's features and return its manifest entry (its source stamp is ``audio``'s)."""
    stamp = SourceStamp.of(audio)
    out_path = out_dir / f"{vid}.npz"
    save_features(out_path, features, meta={"id": vid, "video": video, "audio": str(audio.resolve())})
    return {
        "video": video,
        "audio": str(audio.resolve()),
        "features": out_path.name,
        "duration_s": round(features.duration_s, 6),
        "n_frames": features.n_frames,
        "sample_rate": options.sample_rate,
        "hop_length": options.hop_length,
        "feature_names": row_names(options),
        "scalars": {k: (None if v != v else round(v, 6)) for k, v in features.scalars.items()},
        "settings_hash": _features_hash(options, audio_options),
        "source_size": stamp.size,
        "source_mtime_ns": stamp.mtime_ns,
    }


def features_one(
    vid: str,
    audio: Path,
    out_dir: Path,
    options: FeatureOptions,
    audio_options: AudioOptions,
    video: str | None = None,
) -> dict[str, dict[str, Any]]:
    """One audio's (or video's) features to ``out_dir/<vid>.npz``; returns its manifest entry."""
    is_wav = audio.suffix.lower() == ".wav"
    y = load_audio(audio, audio_options) if is_wav else None
    if y is not None:
        features = compute_features(y, options)
    else:  # a video or other media: decode and compute in one pass, no WAV in between
        accumulator = FeatureAccumulator(options)
        with decoding_alongside():
            for block in stream_audio(audio, audio_options):
                accumulator.push(block)
        features = accumulator.finish()
    return {"features": _store_features(vid, features, out_dir, options, audio_options, video, audio)}


def _features_hash(options: FeatureOptions, audio_options: AudioOptions) -> str:
    # the window matters too when features are computed straight from a video or a longer WAV
    return f"{options.settings_hash}-{audio_options.settings_hash}"


def features_many(
    audios: Iterable[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    options: FeatureOptions | None = None,
    audio_options: AudioOptions | None = None,
    workers: int | None = None,
    force: bool = False,
    progress: ProgressHook | None = None,
) -> BatchResult:
    """Compute features of every audio (WAV from ``extract``, or any media file) into ``out_dir/<id>.npz``.
    ``audios``: files, or folders: searched for WAVs when every one given is a folder (``extract``'s output),
    else for media."""
    workers = check_workers(workers)
    audios = list(audios)
    audios = find_media(audios, {".wav"} if audios and all(Path(a).is_dir() for a in audios) else MEDIA_SUFFIXES)
    options = options or FeatureOptions()
    audio_options = audio_options or AudioOptions(sample_rate=options.sample_rate)
    if audio_options.sample_rate != options.sample_rate:
        raise SettingsError("audio and feature sample rates differ")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sweep_parts(out_dir)
    manifest = Manifest(out_dir, "features")
    result = BatchResult()
    entries = _load_manifest(manifest, result)
    settings_hash = _features_hash(options, audio_options)
    todo = _plan(
        audios,
        result,
        lambda vid, stamp: manifest.is_current(entries.get(vid), "features", settings_hash, stamp),
        force,
    )
    videos = {vid: (video,) for vid, video in _videos_of(todo).items()}
    _run(
        todo,
        features_one,
        (out_dir, options, audio_options),
        {"features": manifest},
        result,
        workers,
        True,
        "features",
        progress,
        videos,
    )
    return result
