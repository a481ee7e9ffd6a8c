"""Batch execution of per-episode stages: parallel, resumable, with a progress bar and a failure list.

A batch never stops at a bad file: each failure is kept as one line naming the file, and the caller prints
them all at the end. Outputs are written atomically and recorded in the folder's manifest as each episode
finishes, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from .atomic import sweep_parts
from .features.compute import EpisodeFeatures, compute_features, row_names
from .features.store import FeatureFileError, save_features
from .features.stream import FeatureAccumulator, decoding_alongside
from .manifest import Manifest, ManifestError, SourceStamp
from .media import MediaError, extract_audio, load_audio, stream_audio
from .settings import AudioOptions, FeatureOptions, SettingsError

MANIFEST_FLUSH_S = 1.0
"""Finished entries are merged into the manifest at most once a second: per-episode resume granularity
without rewriting a large manifest for every one of thousands of episodes."""


@dataclass
class BatchResult:
    done: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, one-line message)

    @property
    def ok(self) -> bool:
        return not self.failed


def episode_id(path: str | os.PathLike[str]) -> str:
    """An episode's id is its file name without the extension (the VK id for the real data)."""
    return Path(path).stem


def videos_by_id(videos: Iterable[str | os.PathLike[str]]) -> dict[str, Path]:
    """id (file stem) → video; where two files share an id, the first one given."""
    by_id: dict[str, Path] = {}
    for video in videos:
        by_id.setdefault(episode_id(video), Path(video))
    return by_id


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


TASK_RETRIES = 2
"""On a Dask cluster, a task that raised is run again twice (a worker's transient fault: memory, a network
file system); a bad file does not raise there (its failure is a result), so it is not retried. A task whose
worker died is rescheduled by Dask itself (``distributed.scheduler.allowed-failures``, default 3)."""

SCHEDULER_TIMEOUT_S = 30
"""How long to wait for a Dask scheduler to answer before saying it cannot be reached."""


MMAP_THRESHOLD_BYTES = 64 << 20
TRIM_THRESHOLD_BYTES = 128 << 20
_MALLOC_RELAXED = False


def relax_worker_malloc() -> None:
    """Undo, inside a Dask worker, the nanny's MALLOC_TRIM_THRESHOLD_=65536: setting it fixes glibc's mmap
    threshold at 128 kB, so every ~1 MB block temporary of the feature pass is a fresh mmap and page faults
    (measured: an episode's analysis 1.27 s in a Dask worker, 0.60 s after this). Large buffers are kept for
    reuse up to 64 MB each, and up to 128 MB of free heap before it is returned to the system. Only in a
    process that Dask started with that setting; elsewhere glibc's own adaptive thresholds are left alone."""
    global _MALLOC_RELAXED
    if _MALLOC_RELAXED or not os.environ.get("MALLOC_TRIM_THRESHOLD_") or "distributed" not in sys.modules:
        return
    _MALLOC_RELAXED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, MMAP_THRESHOLD_BYTES)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, TRIM_THRESHOLD_BYTES)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass  # not glibc: nothing to undo


class InProcess(Executor):
    """An executor that runs each call at once, in this process (one worker, or one task: a process pool
    costs more to start than one decode)."""

    def submit(self, fn, /, *args, **kwargs):  # a concurrent.futures.Executor
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


@contextlib.contextmanager
def executor(workers: int, scheduler: Any = None, tasks: int = 2) -> Iterator[Executor]:
    """Where per-episode and per-series tasks run: a Dask cluster (``scheduler``: its address
    ``tcp://HOST:PORT``, or a ``distributed.Client``), local processes (``workers`` > 1), or this process."""
    if scheduler is not None:
        try:
            from distributed import Client
        except ImportError:
            raise SettingsError("a Dask scheduler needs the dask extra: pip install 'introdetect[dask]'") from None
        own = not isinstance(scheduler, Client)
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S) if own else scheduler
        except OSError as exc:
            raise SettingsError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            yield client.get_executor(pure=False, retries=TASK_RETRIES)
        finally:
            if own:
                client.close()
    elif workers > 1 and tasks > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            yield pool
    else:
        yield InProcess()


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )


def _assign_ids(paths: Sequence[str | os.PathLike[str]], result: BatchResult) -> list[tuple[str, Path]]:
    seen: dict[str, Path] = {}
    items: list[tuple[str, Path]] = []
    for raw in paths:
        path = Path(raw)
        vid = episode_id(path)
        if vid in seen:
            result.failed.append(
                (str(path), f"{path}: episode id {vid!r} already used by {seen[vid]}; rename one file")
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
    show_progress: bool,
    item_args: dict[str, tuple[Any, ...]] | None = None,
) -> None:
    """Run ``work(vid, path, *args, *item_args[vid])`` over ``items``; it returns {manifest kind: entry}."""
    pool: Executor
    pool = ProcessPoolExecutor(max_workers=workers) if use_processes and workers > 1 else ThreadPoolExecutor(workers)
    pending: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in manifests}

    def flush() -> None:
        for kind, entries in pending.items():
            manifests[kind].update(entries)
            entries.clear()

    last_flush = time.monotonic()
    with pool, _progress(show_progress) as progress:
        task = progress.add_task(description, total=len(items))
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
                    result.failed.append((str(path), _one_line(exc, path)))
                except Exception as exc:  # noqa: BLE001 - a batch goes on; the message still names the file
                    result.failed.append((str(path), f"{path}: internal error: {type(exc).__name__}: {exc}"))
                progress.advance(task)
                if time.monotonic() - last_flush >= MANIFEST_FLUSH_S:
                    flush()
                    last_flush = time.monotonic()
        finally:
            flush()


def _one_line(exc: BaseException, path: Path) -> str:
    text = " ".join(str(exc).split())
    return text if str(path) in text else f"{path}: {text}"


def _extract_one(
    vid: str,
    video: Path,
    out_dir: Path,
    options: AudioOptions,
    features_dir: Path | None,
    feature_options: FeatureOptions,
) -> dict[str, dict[str, Any]]:
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
    show_progress: bool = False,
    features_dir: str | os.PathLike[str] | None = None,
    feature_options: FeatureOptions | None = None,
) -> BatchResult:
    """Decode the analysis window of every video to ``out_dir/<id>.wav`` and record it in mapping.json.

    With ``features_dir``, features are computed from the same decode, while it runs, into that folder.
    """
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
        _extract_one,
        (out_dir, options, features_dir, feature_options),
        manifests,
        result,
        workers or default_workers(),
        False,
        "extract",
        show_progress,
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
    for vid, path in _assign_ids(list(paths), result):
        try:
            stamp = SourceStamp.of(path)
        except OSError:
            result.failed.append((str(path), f"{path}: no such file"))
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
        result.failed.append((str(manifest.path), str(exc)))
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


def _features_one(
    vid: str,
    audio: Path,
    out_dir: Path,
    options: FeatureOptions,
    audio_options: AudioOptions,
    video: str | None = None,
) -> dict[str, dict[str, Any]]:
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
    show_progress: bool = False,
) -> BatchResult:
    """Compute features of every audio (WAV from ``extract``, or any media file) into ``out_dir/<id>.npz``."""
    options = options or FeatureOptions()
    audio_options = audio_options or AudioOptions(sample_rate=options.sample_rate)
    if audio_options.sample_rate != options.sample_rate:
        raise ValueError("audio and feature sample rates differ")
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
        _features_one,
        (out_dir, options, audio_options),
        {"features": manifest},
        result,
        workers or default_workers(),
        True,
        "features",
        show_progress,
        videos,
    )
    return result
